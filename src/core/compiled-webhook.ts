// What the hot path holds for each saved webhook, compiled once by `webhooks/webhook.ts`. Declared here, below every
// stage, so routing (index, matching), rendering and delivery import it downward instead of from webhooks/. The
// filter and template it holds are typed by the stages that build them (type-only imports: no runtime edge).

import type { CompiledTemplate, TemplateWebhook } from '../rendering/template.js';
import type { EventFilter } from '../routing/event-filter.js';
import type { PolicyAccess, Webhook } from './types.js';

/** A compiled policy, shared by every webhook with the same statements. */
export interface CompiledPolicy {
  allows(access: PolicyAccess): boolean;
  /** Literal first-segment scopes an access must have to be allowed; undefined when any access may be. */
  indexKeys: string[] | undefined;
  /** Whether an event without accesses passes: true for the default policy only (see `compileDefaultPolicy`). */
  passesWithoutAccesses: boolean;
}

/** A webhook with everything the hot path needs prepared once, at save time. */
export interface CompiledWebhook {
  webhook: Readonly<Webhook>;
  /** Creation order, for stable result order across index buckets. */
  seq: number;
  types: EventFilter;
  /** Undefined: the webhook filters by event type only. */
  policy: CompiledPolicy | undefined;
  /** Every key this webhook's shared parts are kept under (see `CompileContext.shared`); empty when not shared. */
  sharedKeys: readonly string[];
  template: CompiledTemplate | undefined;
  /** The request headers every delivery of this webhook starts from. */
  headers: Readonly<Record<string, string>>;
  /** `webhook` of the template context. */
  templateWebhook: TemplateWebhook;
}
