import { describe, expect, it } from 'vitest';
import type { DeliveryRequest } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type DeliveryResult,
  generateStandardSecret,
  memoryStore,
  type Transport,
  verifyStandardWebhook,
  type Webhook,
  type WebhookDispatcherOptions,
  type WebhookStore,
} from '../src/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { open } from './helpers/setup.js';

/** A transport that records requests and answers from `answer` (200 by default). */
function recorder(answer: (request: DeliveryRequest) => unknown = () => ({ status: 200 })) {
  const sent: DeliveryRequest[] = [];
  const transport: Transport = {
    async send(request) {
      sent.push(request);
      return answer(request) as never;
    },
  };
  return { sent, transport };
}

function dispatcherWith(options: WebhookDispatcherOptions) {
  const dispatcher = createWebhookDispatcher({ retry: { retries: 1, delayMs: 0 }, ...options });
  open.push(dispatcher);
  return dispatcher;
}

const record = (fields: Partial<Webhook>) => webhookRecord({ url: 'https://hooks.example.com/x', ...fields });

describe('secrets and signature schemes', () => {
  it('refuses a Standard Webhooks secret that is not whsec_ + base64 at save time', async () => {
    const dispatcher = dispatcherWith({ transport: recorder().transport });
    for (const secret of ['whsec_not-base64!', 'plain-secret', 'whsec_']) {
      await expect(
        dispatcher.webhooks.create({ url: 'https://x.example/', signatureScheme: 'standard', secret }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'secret' });
    }
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('does not carry a LaunchDarkly secret into Standard Webhooks rotation when the scheme changes', async () => {
    const { sent, transport } = recorder();
    const dispatcher = dispatcherWith({ transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://x.example/', secret: 'my-secret!' });
    const secret = generateStandardSecret();
    const updated = await dispatcher.webhooks.update(hook.id, { signatureScheme: 'standard', secret });
    expect(updated.previousSecrets).toBeUndefined();

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const { headers, body } = sent[0]!;
    expect(verifyStandardWebhook({ secret, headers, body })).toBe(true);
  });

  it('generates a fitting secret for sign: true when the scheme changes to standard', async () => {
    const dispatcher = dispatcherWith({ transport: recorder().transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://x.example/', secret: 'ld-secret' });
    const updated = await dispatcher.webhooks.update(hook.id, { signatureScheme: 'standard', sign: true });
    expect(updated.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  });

  it('keeps a new secret when the patch also says sign: null', async () => {
    const dispatcher = dispatcherWith({ transport: recorder().transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://x.example/' });
    const updated = await dispatcher.webhooks.update(hook.id, { secret: 'new-secret', sign: null });
    expect(updated.secret).toBe('new-secret');
  });

  it('refuses on: null and url: null instead of ignoring them', async () => {
    const dispatcher = dispatcherWith({ transport: recorder().transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://x.example/' });
    await expect(dispatcher.webhooks.update(hook.id, { on: null } as never)).rejects.toMatchObject({
      field: 'on',
    });
    await expect(dispatcher.webhooks.update(hook.id, { url: null } as never)).rejects.toMatchObject({
      field: 'url',
    });
  });

  it('never echoes a secret of the wrong type in the error', async () => {
    const dispatcher = dispatcherWith({ transport: recorder().transport });
    const error = await dispatcher.webhooks
      .create({ url: 'https://x.example/', secret: Buffer.from('hunter2-hunter2') as never })
      .catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ field: 'secret' });
    expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).not.toMatch(
      /104,117|hunter2/,
    );
  });
});

describe('records written around the dispatcher', () => {
  it('does not deliver a stored record that forges the signature header', async () => {
    const { sent, transport } = recorder();
    const errors: unknown[] = [];
    const store = memoryStore([record({ secret: 's', headers: { 'X-LD-Signature': 'forged' } })]);
    const dispatcher = dispatcherWith({ transport, store, logger: { error: (m) => errors.push(m) } });
    expect(await dispatcher.emit(ldEvent())).toEqual([]);
    expect(sent).toHaveLength(0);
    expect(errors).toHaveLength(1);
  });
});

describe('failures that are not the receiver', () => {
  it('asks the store again after a failed first read', async () => {
    let fail = true;
    const inner = memoryStore([record({})]);
    const store: WebhookStore = {
      ...inner,
      async list() {
        if (fail) throw new Error('db down');
        return inner.list();
      },
    };
    const dispatcher = dispatcherWith({ transport: recorder().transport, store });
    await expect(dispatcher.emit(ldEvent())).rejects.toThrow('db down');
    fail = false;
    expect(await dispatcher.emit(ldEvent())).toHaveLength(1);
  });

  it('keeps a delivered outcome delivered when the logger throws', async () => {
    const seen: DeliveryResult[] = [];
    const boom = () => {
      throw new Error('logger boom');
    };
    const dispatcher = dispatcherWith({
      transport: recorder().transport,
      logger: { debug: boom, warn: boom, error: boom },
      onDelivery: (r) => seen.push(r),
    });
    await dispatcher.webhooks.create({ url: 'https://x.example/' });
    const [result] = await dispatcher.emit(ldEvent());
    expect(result).toMatchObject({ ok: true, outcome: 'delivered' });
    expect(seen).toEqual([result]);
  });

  it('turns a transport that resolves garbage into INVALID_RESPONSE', async () => {
    const dispatcher = dispatcherWith({ transport: recorder(() => 'not a response').transport });
    await dispatcher.webhooks.create({ url: 'https://x.example/' });
    const [result] = await dispatcher.emit(ldEvent());
    expect(result).toMatchObject({ ok: false, attempts: 2, error: { code: 'INVALID_RESPONSE' } });
  });

  it('refuses timeouts setTimeout cannot hold', () => {
    expect(() => createWebhookDispatcher({ timeoutMs: 2 ** 31 })).toThrow(/`timeoutMs`/);
    expect(() => createWebhookDispatcher({ retry: { delayMs: 2 ** 31 } })).toThrow(/`retry.delayMs`/);
    expect(() => createWebhookDispatcher({ defaultStatements: 'x' as never })).toThrow(/`defaultStatements`/);
  });
});

describe('close() against work still starting', () => {
  it('delivers an emit waiting on the first store read before close() resolves, and sends nothing after', async () => {
    const { sent, transport } = recorder();
    const inner = memoryStore([record({})]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store: WebhookStore = {
      ...inner,
      async list() {
        await gate;
        return inner.list();
      },
    };
    const dispatcher = dispatcherWith({ transport, store });
    const emitted = dispatcher.emit(ldEvent());
    const closed = dispatcher.close();
    release();
    await closed;
    expect(await emitted).toMatchObject([{ ok: true, outcome: 'delivered' }]);
    expect(sent).toHaveLength(1);
    await expect(dispatcher.emit(ldEvent())).rejects.toMatchObject({ code: 'ERR_DISPATCHER_CLOSED' });
    expect(sent).toHaveLength(1);
  });
});
