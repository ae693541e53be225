// Transports, callbacks and stores that throw odd values or answer odd results: each ends as a recorded outcome or
// a logged error, never as an unhandled rejection (which ends a Node process by default).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryQueue } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type DeliveryResult,
  memoryStore,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';
import { ldEvent } from './helpers/events.js';
import { open } from './helpers/setup.js';

let unhandled: unknown[] = [];
const collect = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', collect);
});
afterEach(() => {
  process.off('unhandledRejection', collect);
});

/** Lets pending reactions run, then a macrotask turn, so an unhandled rejection would have been reported. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Throws on every property read, whatever the property (`then` included unless `thenable` is false). */
function exploding(options: { thenable?: boolean } = {}): object {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (property === 'then' && options.thenable === false) return undefined;
        throw new Error(`hostile read of ${String(property)}`);
      },
      getPrototypeOf() {
        throw new Error('hostile prototype');
      },
      has() {
        throw new Error('hostile has');
      },
    },
  );
}

/** Neither `String()` nor a template literal can turn it into text. */
const unprintable = () => Object.create(null) as object;

async function dispatcherWith(options: WebhookDispatcherOptions): Promise<WebhookDispatcher> {
  const dispatcher = createWebhookDispatcher({ retry: 0, ...options });
  open.push(dispatcher);
  await dispatcher.webhooks.create({ url: 'https://receiver.example.com/' });
  return dispatcher;
}

const answering = (answer: () => unknown): Transport => ({ send: () => answer() as never });

describe('a hostile transport result is a failed outcome, never an unhandled rejection', () => {
  const results: [string, () => unknown][] = [
    [
      'a result whose status getter throws',
      () => ({
        get status(): number {
          throw new Error('hostile status');
        },
      }),
    ],
    ['a Proxy that throws on any property but then', () => exploding({ thenable: false })],
    ['a Proxy that throws on any property', () => exploding()],
    [
      'a promise of a Proxy that throws on any property but then',
      () => Promise.resolve(exploding({ thenable: false })),
    ],
    [
      'a result whose headers getter throws',
      () => ({
        status: 200,
        get headers(): never {
          throw new Error('hostile headers');
        },
      }),
    ],
    ['null', () => null],
    ['a number', () => 42],
    ['a string', () => 'nonsense'],
    ['a rejection with a Proxy that throws on any property', () => Promise.reject(exploding())],
    ['a rejection with a value that cannot be turned into text', () => Promise.reject(unprintable())],
    [
      'a synchronous throw of a value that cannot be turned into text',
      () => {
        throw unprintable();
      },
    ],
  ];
  for (const [name, answer] of results) {
    it(`records ${name} as a failed attempt`, async () => {
      const seen: DeliveryResult[] = [];
      const dispatcher = await dispatcherWith({
        transport: answering(answer),
        onDelivery: (result) => {
          seen.push(result);
        },
      });
      const [result] = await dispatcher.emit(ldEvent());
      expect(result).toMatchObject({ ok: false, outcome: 'failed', attempts: 1 });
      expect(['INVALID_RESPONSE', 'TRANSPORT_ERROR']).toContain(result?.error?.code);
      await settle();
      expect(seen).toEqual([result]);
      const logged = await dispatcher.deliveries.get(result?.deliveryId as string);
      expect(logged?.attempts).toHaveLength(1);
      expect(unhandled).toEqual([]);
    });
  }
});

describe('hostile callbacks and parts are logged, never an unhandled rejection', () => {
  const rejectsOddly = () => Promise.reject(unprintable());
  const cases: [string, WebhookDispatcherOptions, (dispatcher: WebhookDispatcher) => unknown][] = [
    [
      'an async onDelivery rejecting with an unprintable value',
      { onDelivery: rejectsOddly as never },
      () => {},
    ],
    [
      'an onDelivery throwing an unprintable value',
      {
        onDelivery: () => {
          throw unprintable();
        },
      },
      () => {},
    ],
    [
      'a delivery log whose record() rejects with an unprintable value',
      {
        deliveryLog: {
          record: rejectsOddly,
          list: async () => ({ items: [] }),
          get: async () => undefined,
        },
      },
      () => {},
    ],
    [
      'a retryOn that rejects with an unprintable value',
      { retry: { retries: 1, delayMs: 0, retryOn: rejectsOddly as never } },
      () => {},
    ],
    [
      'a health listener rejecting with an unprintable value',
      { health: { failureThreshold: 1, disableAfterMs: 1 } },
      (dispatcher) => {
        dispatcher.on('webhook.failing', rejectsOddly);
        dispatcher.on('webhook.disabled', rejectsOddly);
      },
    ],
    [
      'a store whose watch() is async and rejects with an unprintable value',
      { store: { ...memoryStore(), watch: rejectsOddly as never } },
      () => {},
    ],
    [
      'shared circuits whose watch() is async and rejects with an unprintable value',
      {
        store: {
          ...memoryStore(),
          circuits: { list: async () => ({}), save: async () => {}, watch: rejectsOddly as never },
        },
      },
      () => {},
    ],
    [
      'a queue whose enqueue rejects with an unprintable value, behind emitAndForget',
      { queue: Object.assign(memoryQueue(), { enqueue: rejectsOddly }) },
      (dispatcher) => dispatcher.emitAndForget(ldEvent()),
    ],
  ];
  for (const [name, options, arrange] of cases) {
    it(`survives ${name}`, async () => {
      const dispatcher = await dispatcherWith({ transport: answering(() => ({ status: 500 })), ...options });
      arrange(dispatcher);
      await dispatcher.emit(ldEvent()).catch(() => {});
      await settle();
      expect(unhandled).toEqual([]);
    });
  }
});
