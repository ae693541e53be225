import { describe, expectTypeOf, it } from 'vitest';
import type {
  DeliveryError,
  DeliveryResult,
  FailedResult,
  OnDelivery,
  SkippedResult,
  StatementInput,
  WebhookStore,
} from '../src/core/types.js';
import type { RetryPolicy } from '../src/delivery/retry.js';
import type { ResolvedOptions, WebhookDispatcherOptions } from '../src/dispatcher/dispatcher-options.js';
import type { DeliveryLog } from '../src/log/delivery-log.js';

describe('StatementInput (WebhookInput.statements)', () => {
  it('accepts a policy kept in a plain const, without as const or satisfies', () => {
    const policy = [{ effect: 'allow', actions: ['*'], resources: ['proj/*'] }];
    expectTypeOf(policy).toExtend<readonly StatementInput[]>();
  });

  it('accepts readonly arrays from as const', () => {
    const policy = [{ effect: 'deny', notActions: ['delete*'], resources: ['proj/*'] }] as const;
    expectTypeOf(policy).toExtend<readonly StatementInput[]>();
  });

  it('still refuses a wrongly typed field', () => {
    expectTypeOf({ effect: 'allow', actions: '*' }).not.toExtend<StatementInput>();
    expectTypeOf({ effect: 1, actions: ['*'] }).not.toExtend<StatementInput>();
  });
});

describe('DeliveryResult (a discriminated union)', () => {
  it('narrows on outcome and on ok', () => {
    const check = (result: DeliveryResult) => {
      if (result.outcome === 'failed') expectTypeOf(result.error).toEqualTypeOf<DeliveryError>();
      if (result.outcome === 'skipped') {
        expectTypeOf(result).toEqualTypeOf<SkippedResult>();
        expectTypeOf(result.reason).toEqualTypeOf<string>();
      }
      if (result.ok) expectTypeOf(result.status).toEqualTypeOf<number>();
      else expectTypeOf(result).not.toEqualTypeOf<FailedResult>();
    };
    expectTypeOf(check).toBeFunction();
  });
});

describe('OnDelivery (the onDelivery type)', () => {
  it('accepts synchronous callbacks, console.log included', () => {
    expectTypeOf((result: DeliveryResult) => void result.outcome).toExtend<OnDelivery>();
    expectTypeOf(console.log).toExtend<OnDelivery>();
    const declared: (result: DeliveryResult) => void = () => {};
    expectTypeOf(declared).toExtend<OnDelivery>();
    const seen: DeliveryResult[] = [];
    expectTypeOf((result: DeliveryResult) => seen.push(result)).toExtend<OnDelivery>();
  });

  it('refuses an async callback, whose promise would not be awaited', () => {
    expectTypeOf(async (_result: DeliveryResult) => {}).not.toExtend<OnDelivery>();
    expectTypeOf((_result: DeliveryResult) => Promise.resolve()).not.toExtend<OnDelivery>();
  });
});

describe('ResolvedOptions (derived from the one table of dispatcher options)', () => {
  it('has exactly the keys of WebhookDispatcherOptions, each with its default filled in', () => {
    expectTypeOf<keyof ResolvedOptions>().toEqualTypeOf<keyof WebhookDispatcherOptions>();
    expectTypeOf<ResolvedOptions['store']>().toEqualTypeOf<WebhookStore>();
    expectTypeOf<ResolvedOptions['retry']>().toEqualTypeOf<RetryPolicy>();
    expectTypeOf<ResolvedOptions['deliveryLog']>().toEqualTypeOf<DeliveryLog | undefined>();
    expectTypeOf<ResolvedOptions['refreshIntervalMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ResolvedOptions['now']>().toEqualTypeOf<() => number>();
  });
});
