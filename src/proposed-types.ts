// Proposed public types for src/types.ts and src/dispatcher.ts (owned by the lead): move them there, then delete
// this file. test/types.test.ts pins their behaviour with expectTypeOf.
import type { DeliveryError, Statement } from './types.js';

/**
 * A policy statement as webhooks.create(), webhooks.update(), createPolicyMatcher() and `defaultStatements`
 * accept it. `effect` is any string at compile time because a policy kept in a plain `const` (without
 * `as const` or `satisfies`) widens `'allow'` to `string`; a value other than `'allow'` or `'deny'` is refused
 * when the webhook is saved, with an error naming `statements[i].effect`. Arrays may be readonly. Saved webhooks
 * carry the narrow {@link Statement}.
 *
 * @example
 * const policy = [{ effect: 'allow', actions: ['*'], resources: ['proj/*'] }]; // no `as const` needed
 * await dispatcher.webhooks.create({ url, statements: policy });
 */
export interface StatementInput {
  /** `'allow'` or `'deny'` (checked when saved). */
  effect: 'allow' | 'deny' | (string & {});
  actions?: readonly string[];
  notActions?: readonly string[];
  resources?: readonly string[];
  notResources?: readonly string[];
}

interface DeliveryResultBase {
  /** Value of the `webhook-id` header, the same on every attempt. */
  deliveryId: string;
  webhookId: string;
  eventId: string;
  /** HTTP attempts made (0 when nothing was sent). */
  attempts: number;
  /** From the start of the first attempt to the final outcome. */
  durationMs: number;
  tenant?: string;
  eventType?: string;
}

/** A 2xx was received. */
export interface DeliveredResult extends DeliveryResultBase {
  outcome: 'delivered';
  ok: true;
  /** The 2xx status received. */
  status: number;
  error?: undefined;
  reason?: undefined;
}

/** Every attempt failed, or the delivery could not be sent or queued (`attempts: 0`, e.g. `QUEUE_FULL`). */
export interface FailedResult extends DeliveryResultBase {
  outcome: 'failed';
  ok: false;
  /** The last HTTP status received, when an answer came. */
  status?: number;
  error: DeliveryError;
  reason?: undefined;
}

/** Nothing was sent, on purpose (the webhook was switched off or deleted before delivery). */
export interface SkippedResult extends DeliveryResultBase {
  outcome: 'skipped';
  ok: false;
  attempts: 0;
  /** Why nothing was sent. */
  reason: string;
  status?: undefined;
  error?: undefined;
}

/** A durable queue accepted the delivery; its final outcome reaches `onDelivery` later, in a worker. */
export interface QueuedResult extends DeliveryResultBase {
  outcome: 'queued';
  ok: false;
  attempts: 0;
  status?: undefined;
  error?: undefined;
  reason?: undefined;
}

/** The outcome of one (event, webhook) delivery: narrow on `outcome` (or `ok`). */
export type DeliveryResult = DeliveredResult | FailedResult | SkippedResult | QueuedResult;

/**
 * `onDelivery`'s type. The return type `void | undefined` (not plain `void`) makes an `async` callback a type
 * error: its promise would not be awaited, so a rejection would be unhandled and work would outlive
 * `close()`. Synchronous callbacks, including ones declared `=> void` such as `console.log`, are accepted.
 *
 * @example onDelivery: (result) => { metrics.count(result.outcome) }
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a return type of exactly `void` would accept async functions.
export type OnDelivery = (result: DeliveryResult) => void | undefined;
