// Proposed public types for src/types.ts and src/dispatcher-options.ts (owned by the lead): move them there, then
// delete this file. test/types.test.ts pins their behaviour with expectTypeOf.
import type { DeliveryResult, Statement } from './types.js';

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

/**
 * `onDelivery`'s type. The return type `void | undefined` (not plain `void`) makes an `async` callback a type
 * error: its promise would not be awaited, so a rejection would be unhandled and work would outlive
 * `close()`. Synchronous callbacks, including ones declared `=> void` such as `console.log`, are accepted.
 *
 * @example onDelivery: (result) => { metrics.count(result.outcome) }
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a return type of exactly `void` would accept async functions.
export type OnDelivery = (result: DeliveryResult) => void | undefined;
