import type { CompiledPolicy, CompiledWebhook } from '../core/compiled-webhook.js';
import type { PolicyAccess, Statement, WebhookEvent } from '../core/types.js';
import { accessesOf } from './event.js';
import { createPolicyMatcher } from './policy/matcher.js';

/**
 * Which of the candidate webhooks an event reaches: switched on, its type accepted, and at least one access allowed
 * by the policy (an event without accesses passes the default policy only, see `compileDefaultPolicy`). Webhooks
 * with the same statements share one compiled policy, decided once per emit.
 */
export function selectWebhooks(
  candidates: readonly CompiledWebhook[],
  type: string | undefined,
  accesses: readonly PolicyAccess[],
): CompiledWebhook[] {
  const matched: CompiledWebhook[] = [];
  let decided: Map<CompiledPolicy, boolean> | undefined;
  for (const compiled of candidates) {
    if (!compiled.webhook.on || !compiled.types.matches(type)) continue;
    const policy = compiled.policy;
    if (policy !== undefined) {
      decided ??= new Map();
      let allowed = decided.get(policy);
      if (allowed === undefined) {
        allowed = allowsAny(policy, accesses);
        decided.set(policy, allowed);
      }
      if (!allowed) continue;
    }
    matched.push(compiled);
  }
  return matched;
}

function allowsAny(policy: CompiledPolicy, accesses: readonly PolicyAccess[]): boolean {
  if (accesses.length === 0) return policy.passesWithoutAccesses;
  for (const access of accesses) if (policy.allows(access)) return true;
  return false;
}

/** One step of `explain()`: what was checked, whether it passed, and why. */
export interface ExplainReason {
  check: 'webhook' | 'tenant' | 'on' | 'health' | 'events' | 'policy' | 'statement';
  ok: boolean;
  message: string;
  /** For `statement`: the index of the statement in the webhook's (or the default) policy. */
  statement?: number;
  /** For `statement`: the index of the access in the event's accesses. */
  access?: number;
}

export interface Explanation {
  /** Whether `emit(event, { tenant })` would deliver to this webhook now. */
  matched: boolean;
  reasons: ExplainReason[];
}

/**
 * Why a webhook would or would not get an event: every check `emit` makes, in its order, with the statement ×
 * access decisions spelled out. Not on the hot path: the statements are compiled one by one here.
 */
export function explainMatch(
  compiled: CompiledWebhook,
  event: WebhookEvent,
  tenant: string | undefined,
  health: { state: string; consecutiveFailures: number } | undefined,
  defaultStatements: readonly Statement[],
): Explanation {
  const reasons: ExplainReason[] = [];
  const webhook = compiled.webhook;
  const sameTenant = (webhook.tenant ?? undefined) === (tenant ?? undefined);
  reasons.push({
    check: 'tenant',
    ok: sameTenant,
    message: sameTenant
      ? webhook.tenant === undefined
        ? 'the webhook has no tenant and neither has the emit'
        : `the webhook belongs to tenant "${webhook.tenant}", as the emit does`
      : `the webhook belongs to ${webhook.tenant === undefined ? 'no tenant' : `tenant "${webhook.tenant}"`}, the emit to ${tenant === undefined ? 'none' : `"${tenant}"`}`,
  });
  reasons.push({
    check: 'on',
    ok: webhook.on,
    message: webhook.on
      ? 'the webhook is switched on'
      : webhook.disabled
        ? `the webhook was switched off by the dispatcher (${webhook.disabled.reason}) at ${webhook.disabled.at}`
        : 'the webhook is switched off',
  });
  if (health !== undefined && health.state !== 'closed') {
    reasons.push({
      check: 'health',
      ok: true,
      message: `its circuit is ${health.state} after ${health.consecutiveFailures} consecutive failures: deliveries wait for a successful probe`,
    });
  }
  const type = typeof event.type === 'string' ? event.type : undefined;
  const typeOk = compiled.types.matches(type);
  reasons.push({
    check: 'events',
    ok: typeOk,
    message:
      webhook.events.length === 0
        ? 'the webhook takes every event type'
        : typeOk
          ? `event type "${type}" is in the webhook's events ${JSON.stringify(webhook.events)}`
          : type === undefined
            ? `the event has no \`type\` and the webhook filters types ${JSON.stringify(webhook.events)}`
            : `event type "${type}" is not in the webhook's events ${JSON.stringify(webhook.events)}`,
  });
  const policyOk = explainPolicy(compiled, event, defaultStatements, reasons);
  return { matched: sameTenant && webhook.on && typeOk && policyOk, reasons };
}

function policyMessage(byDefault: boolean, allowed: boolean, accesses: readonly PolicyAccess[]): string {
  if (accesses.length === 0 && byDefault) {
    return 'the event has no resources (no `accesses`, no `project`): the default statements speak of flag changes only, so a webhook without `statements` or `events` takes it';
  }
  const whose = byDefault
    ? 'the default statements (production flag changes, as LaunchDarkly; set `events` or `statements` to change it)'
    : "the webhook's statements";
  const none =
    accesses.length === 0 ? ': the event has no `accesses` and no `project` to derive one from' : '';
  return `${whose} ${allowed ? 'allow' : 'allow none of'} the event's ${accesses.length} access(es)${none}`;
}

/** Statement x access decisions `explain` spells out, at most. */
const MAX_STATEMENT_REASONS = 200;

function explainPolicy(
  compiled: CompiledWebhook,
  event: WebhookEvent,
  defaultStatements: readonly Statement[],
  reasons: ExplainReason[],
): boolean {
  const webhook = compiled.webhook;
  if (compiled.policy === undefined) {
    reasons.push({
      check: 'policy',
      ok: true,
      message: 'the webhook sets `events` and no `statements`: it filters by type only',
    });
    return true;
  }
  const statements = webhook.statements ?? defaultStatements;
  const accesses = accessesOf(event);
  const allowed = allowsAny(compiled.policy, accesses);
  reasons.push({
    check: 'policy',
    ok: allowed,
    message: policyMessage(webhook.statements === undefined, allowed, accesses),
  });
  // Statements x accesses can reach 100 x 1,000: the first pairs are spelled out, the rest summed up.
  let listed = 0;
  let unlisted = 0;
  statements.forEach((statement, s) => {
    // A statement alone, as an allow, tells whether it matches an access; its effect says what that means.
    const matches = createPolicyMatcher([{ ...statement, effect: 'allow' }], { field: `statements[${s}]` });
    accesses.forEach((access, a) => {
      if (listed >= MAX_STATEMENT_REASONS) {
        unlisted++;
        return;
      }
      listed++;
      const hit = matches(access);
      reasons.push({
        check: 'statement',
        ok: hit ? statement.effect === 'allow' : true,
        statement: s,
        access: a,
        message: `${statement.effect} statement ${s} ${hit ? 'matches' : 'does not match'} ${access.action} on ${access.resource}`,
      });
    });
  });
  if (unlisted > 0) {
    reasons.push({
      check: 'statement',
      ok: true,
      message: `${unlisted} more statement x access pairs not listed (at most ${MAX_STATEMENT_REASONS} are)`,
    });
  }
  return allowed;
}
