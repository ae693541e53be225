import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockedAddressError } from '../src/extend.js';
import {
  createWebhookDispatcher,
  fetchTransport,
  httpTransport,
  memoryStore,
  type WebhookDispatcherOptions,
} from '../src/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((x) => x.close()));
});

function dispatcherWith(options: WebhookDispatcherOptions = {}) {
  const dispatcher = createWebhookDispatcher({ retry: { retries: 3, delayMs: 0 }, ...options });
  open.push(dispatcher);
  return dispatcher;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  open.push(r);
  return r;
}

type Answer = { address: string; family: number }[];

/**
 * Makes the system resolver answer `answer` for every name ending in `.hooks.test` (and pass every other name
 * through). Installed before the transport is created, because the guarded lookup takes `dns.lookup` then.
 * Returns the names that were resolved, one entry per lookup.
 */
function fakeDns(answer: Answer): string[] {
  const asked: string[] = [];
  const real = dns.lookup;
  vi.spyOn(dns, 'lookup').mockImplementation(((
    hostname: string,
    options: dns.LookupAllOptions,
    callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
  ) => {
    if (!hostname.endsWith('.hooks.test')) return real(hostname, options, callback);
    asked.push(hostname);
    setImmediate(() => callback(null, answer));
  }) as unknown as typeof dns.lookup);
  return asked;
}

const BLOCKED_LITERALS = [
  'http://127.0.0.1/',
  'http://127.0.0.1:8080/hooks',
  'http://127.1/',
  'http://2130706433/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://0x7f.0.0.1/',
  'http://[::1]/',
  'http://[0:0:0:0:0:0:0:1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::127.0.0.1]/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:169.254.169.254]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[2002:a9fe:a9fe::]/',
  'http://[fd00:ec2::254]/',
  'http://10.0.0.1/',
  'http://10.255.255.255/',
  'http://172.16.0.1/',
  'http://172.31.255.254/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://0.0.0.0/',
  'http://0/',
  'http://[::]/',
  'http://[fe80::1]/',
  'http://[fc00::1]/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://240.0.0.1/',
  'https://localhost/',
  'http://LOCALHOST./',
  'http://api.localhost/',
];

describe('webhooks.create refuses non-public literal targets', () => {
  it.each(BLOCKED_LITERALS)('%s', async (url) => {
    const dispatcher = dispatcherWith();

    const error = await dispatcher.webhooks.create({ url }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error).toMatchObject({ code: 'ERR_BLOCKED_ADDRESS' });
    expect((error as Error).message).toMatch(/allowPrivateNetworks/);
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('accepts public literal addresses and host names', async () => {
    const dispatcher = dispatcherWith();
    for (const url of [
      'http://93.184.215.14/',
      'https://[2606:4700::1111]/',
      'https://hooks.example.com/x',
    ]) {
      await expect(dispatcher.webhooks.create({ url })).resolves.toMatchObject({ url });
    }
  });

  it('refuses an update to a blocked URL and keeps the stored one', async () => {
    const dispatcher = dispatcherWith();
    const hook = await dispatcher.webhooks.create({ url: 'https://hooks.example.com/' });

    await expect(
      dispatcher.webhooks.update(hook.id, { url: 'http://169.254.169.254/' }),
    ).rejects.toMatchObject({ code: 'ERR_BLOCKED_ADDRESS' });
    expect((await dispatcher.webhooks.get(hook.id))?.url).toBe('https://hooks.example.com/');
  });

  it('accepts every one of them with allowPrivateNetworks', async () => {
    const dispatcher = dispatcherWith({ allowPrivateNetworks: true });
    for (const url of BLOCKED_LITERALS) await dispatcher.webhooks.create({ url });
    expect(await dispatcher.webhooks.list()).toHaveLength(BLOCKED_LITERALS.length);
  });

  it('accepts what allowedHosts covers, and only that', async () => {
    const dispatcher = dispatcherWith({ allowedHosts: ['10.1.0.0/16', '127.0.0.1', 'intranet.local'] });

    for (const url of [
      'http://10.1.2.3/',
      'http://127.0.0.1:9/',
      'http://2130706433/',
      'http://intranet.local/',
    ]) {
      await expect(dispatcher.webhooks.create({ url }), url).resolves.toBeDefined();
    }
    for (const url of ['http://10.2.0.1/', 'http://127.0.0.2/', 'http://169.254.169.254/', 'http://[::1]/']) {
      await expect(dispatcher.webhooks.create({ url }), url).rejects.toMatchObject({
        code: 'ERR_BLOCKED_ADDRESS',
      });
    }
  });

  it('accepts localhost when loopback is allowlisted', async () => {
    const dispatcher = dispatcherWith({ allowedHosts: ['127.0.0.0/8'] });
    await expect(dispatcher.webhooks.create({ url: 'http://localhost:1/' })).resolves.toBeDefined();
  });
});

describe('connect-time guard: host names that resolve to non-public addresses', () => {
  it('fails the delivery with BLOCKED_ADDRESS after one attempt, and the receiver sees nothing', async () => {
    const target = await receiver();
    const asked = fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const dispatcher = dispatcherWith();
    const hook = await dispatcher.webhooks.create({ url: `http://internal.hooks.test:${target.port}/` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({
      webhookId: hook.id,
      ok: false,
      outcome: 'failed',
      attempts: 1,
      error: { code: 'BLOCKED_ADDRESS' },
    });
    expect(result!.status).toBeUndefined();
    expect(result!.error!.message).toContain('127.0.0.1');
    expect(asked).toEqual(['internal.hooks.test']);
    expect(target.requests).toHaveLength(0);
  });

  it('refuses the whole answer when one of the resolved addresses is private (DNS rebinding)', async () => {
    const target = await receiver();
    fakeDns([
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const dispatcher = dispatcherWith();
    await dispatcher.webhooks.create({ url: `http://mixed.hooks.test:${target.port}/` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'BLOCKED_ADDRESS' } });
    expect(target.requests).toHaveLength(0);
  });

  it('refuses an IPv4-mapped IPv6 answer hiding the metadata address', async () => {
    fakeDns([{ address: '::ffff:169.254.169.254', family: 6 }]);
    const dispatcher = dispatcherWith();
    await dispatcher.webhooks.create({ url: 'http://metadata.hooks.test/' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'BLOCKED_ADDRESS' } });
    expect(result!.error!.message).toMatch(/linkLocal/);
  });

  it('blocks a name resolving to loopback even when a different private network is allowlisted', async () => {
    const target = await receiver();
    fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const dispatcher = dispatcherWith({ allowedHosts: ['10.0.0.0/8'] });
    await dispatcher.webhooks.create({ url: `http://sneaky.hooks.test:${target.port}/` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'BLOCKED_ADDRESS' } });
    expect(target.requests).toHaveLength(0);
  });

  it('delivers to the checked address, keeping the Host header, when the network is allowlisted', async () => {
    const target = await receiver();
    const asked = fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const dispatcher = dispatcherWith({ allowedHosts: ['127.0.0.0/8'] });
    await dispatcher.webhooks.create({ url: `http://allowed.hooks.test:${target.port}/in` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 1, status: 200 });
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]!.headers.host).toBe(`allowed.hooks.test:${target.port}`);
    expect(target.requests[0]!.url).toBe('/in');
    expect(asked).toEqual(['allowed.hooks.test']);
  });

  it('delivers when the host name itself is allowlisted', async () => {
    const target = await receiver();
    fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const dispatcher = dispatcherWith({ allowedHosts: ['trusted.hooks.test'] });
    await dispatcher.webhooks.create({ url: `http://trusted.hooks.test:${target.port}/` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(target.requests).toHaveLength(1);
  });
});

describe('send-time guard on records that bypassed validation', () => {
  it('refuses a blocked literal URL written straight into the store: it never matches, and says so', async () => {
    const target = await receiver();
    const record = webhookRecord({ id: 'raw', url: `${target.url}/` });
    const errors: unknown[] = [];
    const dispatcher = dispatcherWith({
      store: memoryStore([record]),
      logger: {
        error: (message: string, meta?: Record<string, unknown>) => errors.push({ message, ...meta }),
      },
    });

    expect(await dispatcher.emit(ldEvent())).toEqual([]);
    expect(target.requests).toHaveLength(0);
    expect(errors).toEqual([
      expect.objectContaining({ webhookId: 'raw', error: expect.stringMatching(/loopback/) }),
    ]);
  });
});

describe('httpTransport on its own', () => {
  const request = (url: string) => ({ url, method: 'POST' as const, headers: {}, body: '{}' });
  const options = { signal: new AbortController().signal, timeoutMs: 2000 };

  it('rejects with BLOCKED_ADDRESS for a host name resolving to 127.0.0.1, before any byte is sent', async () => {
    const target = await receiver();
    fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const transport = httpTransport();
    open.push({ close: async () => transport.close?.() });

    const error = await transport
      .send(request(`http://loop.hooks.test:${target.port}/`), options)
      .catch((e) => e);

    expect(error).toMatchObject({ name: 'TransportError', code: 'BLOCKED_ADDRESS' });
    expect(target.requests).toHaveLength(0);
  });

  it('rejects literal loopback and localhost URLs, which never reach DNS', async () => {
    const target = await receiver();
    const transport = httpTransport();
    open.push({ close: async () => transport.close?.() });

    for (const url of [
      target.url,
      `http://localhost:${target.port}`,
      `http://[::ffff:7f00:1]:${target.port}`,
    ]) {
      const error = await transport.send(request(url), options).catch((e) => e);
      expect(error, url).toMatchObject({ code: 'BLOCKED_ADDRESS' });
    }
    expect(target.requests).toHaveLength(0);
  });

  it('connects to a host name resolving to 127.0.0.1 with allowPrivateNetworks', async () => {
    const target = await receiver();
    fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const transport = httpTransport({ allowPrivateNetworks: true });
    open.push({ close: async () => transport.close?.() });

    const response = await transport.send(request(`http://loop.hooks.test:${target.port}/`), options);

    expect(response.status).toBe(200);
    expect(target.requests).toHaveLength(1);
  });
});

describe("the dispatcher's address policy reaches the built-in transports it is given", () => {
  const builtIns = [
    ['httpTransport', (options = {}) => httpTransport({ connections: 8, ...options })],
    ['fetchTransport', (options = {}) => fetchTransport(options)],
  ] as const;

  it.each(builtIns)(
    '%s() without a policy of its own delivers to loopback under allowPrivateNetworks',
    async (_, make) => {
      const target = await receiver();
      const dispatcher = dispatcherWith({ allowPrivateNetworks: true, transport: make() });
      await dispatcher.webhooks.create({ url: `${target.url}/in` });

      const [result] = await dispatcher.emit(ldEvent());

      expect(result).toMatchObject({ ok: true, status: 200 });
      expect(target.requests).toHaveLength(1);
    },
  );

  it.each(builtIns)("%s() takes the dispatcher's allowedHosts, and only those", async (_, make) => {
    const target = await receiver();
    const dispatcher = dispatcherWith({ allowedHosts: ['127.0.0.1'], transport: make() });
    await dispatcher.webhooks.create({ url: `${target.url}/in` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(target.requests).toHaveLength(1);
  });

  it.each(builtIns)("%s() refusals under the dispatcher's policy name the dispatcher", async (_, make) => {
    const target = await receiver();
    fakeDns([{ address: '127.0.0.1', family: 4 }]);
    const dispatcher = dispatcherWith({ transport: make() });
    await dispatcher.webhooks.create({ url: `http://inner.hooks.test:${target.port}/` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, error: { code: 'BLOCKED_ADDRESS' } });
    expect(result!.error!.message).toContain('`allowedHosts` of createWebhookDispatcher()');
    expect(target.requests).toHaveLength(0);
  });

  it.each(builtIns)(
    '%s() given its own policy keeps it, and its refusal names the transport',
    async (name, make) => {
      const target = await receiver();
      const dispatcher = dispatcherWith({
        allowPrivateNetworks: true,
        transport: make({ allowPrivateNetworks: false }),
      });
      await dispatcher.webhooks.create({ url: `${target.url}/in` });

      const [result] = await dispatcher.emit(ldEvent());

      expect(result).toMatchObject({ ok: false, error: { code: 'BLOCKED_ADDRESS' } });
      expect(result!.error!.message).toContain(`\`allowedHosts\` of ${name}()`);
      expect(target.requests).toHaveLength(0);
    },
  );
});
