import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedAddressError, OptionsError, WebhookValidationError } from '../src/core/errors.js';
import { checkUrl, classifyAddress, createAddressPolicy, guardedLookup } from '../src/transport/ssrf.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('classifyAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.0', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('blocks the IPv4 address %s as %s', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.167.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
  ])('lets the public IPv4 address %s through', (ip) => {
    expect(classifyAddress(ip)).toBeUndefined();
  });

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['febf:ffff::1', 'linkLocal'],
    ['fec0::1', 'siteLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456:789a::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['ff0e::101', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:db8:ffff:ffff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'reserved'],
    ['::1:0:0:1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['64:ff9b:1::a00:1', 'nat64LocalUse'],
  ])('blocks the IPv6 address %s as %s', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4Mapped->loopback'],
    ['::ffff:7f00:1', 'ipv4Mapped->loopback'],
    ['::ffff:169.254.169.254', 'ipv4Mapped->linkLocal'],
    ['::ffff:10.0.0.1', 'ipv4Mapped->private'],
    ['::ffff:0.0.0.0', 'ipv4Mapped->unspecified'],
    ['::ffff:0:192.168.0.1', 'ipv4Translated->private'],
    ['::127.0.0.1', 'ipv4Compatible->loopback'],
    ['::a9fe:a9fe', 'ipv4Compatible->linkLocal'],
    ['64:ff9b::10.0.0.1', 'nat64->private'],
    ['64:ff9b::7f00:1', 'nat64->loopback'],
    ['2002:7f00:1::1', '6to4->loopback'],
    ['2002:a9fe:a9fe::', '6to4->linkLocal'],
    ['2002:c0a8:101::42', '6to4->private'],
  ])('judges the IPv4 address embedded in %s (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
  });

  it.each([
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('lets the public IPv6 address %s through', (ip) => {
    expect(classifyAddress(ip)).toBeUndefined();
  });

  it.each([
    ['127.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0251.0376.0251.0376', 'linkLocal'],
    ['0', 'unspecified'],
    ['10.1', 'private'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'linkLocal'],
  ])('reads the spelling %s the way a URL parser does (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
  });

  it('fails closed on text that is not an IP address', () => {
    expect(classifyAddress('example.com')).toBe('invalid');
    expect(classifyAddress('')).toBe('invalid');
    expect(classifyAddress('1.2.3.4.5')).toBe('invalid');
  });
});

describe('checkUrl', () => {
  const policy = createAddressPolicy();

  it('returns the parsed URL of a public http(s) target', () => {
    const url = checkUrl('https://hooks.example.com:8443/flags?x=1', policy);
    expect(url).toBeInstanceOf(URL);
    expect(url.host).toBe('hooks.example.com:8443');
    expect(checkUrl('http://93.184.215.14/', policy).hostname).toBe('93.184.215.14');
    expect(checkUrl('http://[2606:4700:4700::1111]/', policy).hostname).toBe('[2606:4700:4700::1111]');
  });

  it('refuses other schemes with the field named in the message', () => {
    const error = thrown(() => checkUrl('ftp://x', policy));
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect(error).toMatchObject({
      code: 'ERR_INVALID_WEBHOOK',
      field: 'url',
      message: 'Expected `url` to be an absolute http(s) URL, got "ftp://x".',
    });
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://127.0.0.1:25/',
      'ws://example.com/',
    ]) {
      expect(thrown(() => checkUrl(bad, policy))).toBeInstanceOf(WebhookValidationError);
    }
  });

  it('refuses relative URLs, non-strings and uses the given field name', () => {
    expect(thrown(() => checkUrl('/hooks', policy))).toBeInstanceOf(WebhookValidationError);
    expect(thrown(() => checkUrl('example.com/hooks', policy))).toBeInstanceOf(WebhookValidationError);
    expect(thrown(() => checkUrl(42 as unknown as string, policy))).toMatchObject({
      message: 'Expected `url` to be an absolute http(s) URL, got 42.',
    });
    expect(thrown(() => checkUrl('nope', policy, 'targets[2]'))).toMatchObject({
      field: 'targets[2]',
      message: 'Expected `targets[2]` to be an absolute http(s) URL, got "nope".',
    });
  });

  it('refuses credentials in the URL without repeating them', () => {
    const error = thrown(() => checkUrl('https://alice:hunter2@example.com/hook', policy));
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect((error as Error).message).toContain('credentials');
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('alice');
    expect(thrown(() => checkUrl('https://token@example.com/', policy))).toBeInstanceOf(
      WebhookValidationError,
    );
  });

  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://127.0.0.1./', 'loopback'],
    ['http://%31%32%37.0.0.1/', 'loopback'],
    ['http://\u2460\u2461\u2466.0.0.1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://0.0.0.0:8080/', 'unspecified'],
    ['http://[::1]/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]:3000/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[::ffff:7f00:1]/', 'ipv4Mapped->loopback'],
    ['http://[::ffff:127.0.0.1]/', 'ipv4Mapped->loopback'],
    ['http://[::ffff:169.254.169.254]/latest/meta-data/', 'ipv4Mapped->linkLocal'],
    ['http://[::127.0.0.1]/', 'ipv4Compatible->loopback'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'nat64->linkLocal'],
    ['http://[2002:a00:1::]/', '6to4->private'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[fd00::1]/', 'uniqueLocal'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://0xa9fea9fe/', 'linkLocal'],
    ['https://10.0.0.1/', 'private'],
    ['https://172.16.5.4/', 'private'],
    ['https://192.168.0.1/', 'private'],
    ['http://100.100.100.200/', 'carrierGradeNat'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://localhost/', 'loopback'],
    ['http://LOCALHOST:8080/', 'loopback'],
    ['http://localhost./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
  ])('refuses %s (%s)', (url, range) => {
    const error = thrown(() => checkUrl(url, policy));
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error).toMatchObject({ code: 'ERR_BLOCKED_ADDRESS', range });
  });

  it('says which range was hit and how to opt in', () => {
    const error = thrown(() => checkUrl('http://0x7f.1:9000/admin', policy)) as BlockedAddressError;
    expect(error.address).toBe('127.0.0.1');
    expect(error.message).toContain('127.0.0.1');
    expect(error.message).toContain('loopback');
    expect(error.message).toContain('`allowPrivateNetworks: true`');
    expect(error.message).toContain('`allowedHosts`');
  });

  it('accepts every private target when allowPrivateNetworks is on', () => {
    const open = createAddressPolicy({ allowPrivateNetworks: true });
    expect(open.allowPrivateNetworks).toBe(true);
    for (const url of ['http://127.0.0.1:3000/', 'http://localhost/', 'http://[::1]/', 'http://10.0.0.1/']) {
      expect(checkUrl(url, open).protocol).toBe('http:');
    }
    expect(() => open.checkAddress('169.254.169.254', 'metadata')).not.toThrow();
    // the scheme check still applies
    expect(thrown(() => checkUrl('ftp://127.0.0.1/', open))).toBeInstanceOf(WebhookValidationError);
  });
});

describe('createAddressPolicy allowlist', () => {
  it('allows what an allowlisted host name resolves to, case-insensitively', () => {
    const policy = createAddressPolicy({ allow: ['Hooks.Internal.Example'] });
    expect(() => policy.checkAddress('10.0.0.5', 'hooks.internal.example')).not.toThrow();
    expect(() => policy.checkAddress('10.0.0.5', 'HOOKS.internal.example.')).not.toThrow();
    expect(() => policy.checkHost('hooks.internal.example')).not.toThrow();
    const error = thrown(() => policy.checkAddress('10.0.0.5', 'other.internal.example'));
    expect(error).toMatchObject({
      code: 'ERR_BLOCKED_ADDRESS',
      hostname: 'other.internal.example',
      range: 'private',
    });
    expect(() => policy.checkAddress('10.0.0.5', 'sub.hooks.internal.example')).toThrow(BlockedAddressError);
  });

  it('allows addresses inside an allowlisted IPv4 CIDR only', () => {
    const policy = createAddressPolicy({ allow: ['10.20.0.0/16'] });
    expect(() => policy.checkAddress('10.20.0.1', 'a.example')).not.toThrow();
    expect(() => policy.checkAddress('10.20.255.254')).not.toThrow();
    expect(() => policy.checkAddress('::ffff:10.20.3.4')).not.toThrow();
    expect(checkUrl('http://10.20.1.1:8080/', policy).port).toBe('8080');
    expect(() => policy.checkAddress('10.21.0.1')).toThrow(BlockedAddressError);
    expect(() => policy.checkAddress('127.0.0.1')).toThrow(BlockedAddressError);
  });

  it('allows addresses inside an allowlisted IPv6 CIDR only', () => {
    const policy = createAddressPolicy({ allow: ['fd00:1::/32'] });
    expect(() => policy.checkAddress('fd00:1::7')).not.toThrow();
    expect(checkUrl('http://[fd00:1::7]/', policy).hostname).toBe('[fd00:1::7]');
    expect(() => policy.checkAddress('fd00:2::7')).toThrow(BlockedAddressError);
    expect(() => policy.checkAddress('::1')).toThrow(BlockedAddressError);
  });

  it('treats a single allowlisted address as a /32 and lets localhost through when loopback is allowed', () => {
    const policy = createAddressPolicy({ allow: ['127.0.0.1'] });
    expect(checkUrl('http://127.0.0.1:3000/', policy).port).toBe('3000');
    expect(checkUrl('http://localhost:3000/', policy).hostname).toBe('localhost');
    expect(() => policy.checkAddress('127.0.0.2')).toThrow(BlockedAddressError);
  });

  it('allows localhost when it is allowlisted by name', () => {
    const policy = createAddressPolicy({ allow: ['localhost'] });
    expect(checkUrl('http://localhost:3000/', policy).hostname).toBe('localhost');
    expect(() => policy.checkAddress('127.0.0.1', 'localhost')).not.toThrow();
    expect(() => checkUrl('http://127.0.0.1:3000/', policy)).toThrow(BlockedAddressError);
  });

  it.each([['10.0.0.0/33'], ['300.1.1.1/8'], [''], ['http://example.com/'], ['a b'], ['*.corp.example']])(
    'refuses the malformed entry %j',
    (entry) => {
      const error = thrown(() => createAddressPolicy({ allow: [entry] }));
      expect(error).toBeInstanceOf(OptionsError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', field: 'allowedHosts[0]' });
    },
  );

  it('lets host names through checkHost, to be checked after DNS', () => {
    const policy = createAddressPolicy();
    expect(() => policy.checkHost('example.com')).not.toThrow();
    expect(() => policy.checkHost('127.0.0.1.nip.io')).not.toThrow();
    expect(() => policy.checkHost('[::1]')).toThrow(BlockedAddressError);
    expect(() => policy.checkHost('0x7f.1')).toThrow(BlockedAddressError);
  });
});

type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

function fakeResolver(
  answer: LookupAddress[] | Error,
  calls: Array<[string, LookupAllOptions]> = [],
): Resolver {
  return (hostname, options, callback) => {
    calls.push([hostname, options]);
    setImmediate(() => (answer instanceof Error ? callback(answer, []) : callback(null, answer)));
  };
}

function lookupOnce(
  lookup: ReturnType<typeof guardedLookup>,
  hostname: string,
  options: { all?: boolean; family?: number },
): Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: number | undefined }> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
  });
}

describe('guardedLookup', () => {
  const policy = createAddressPolicy();

  it('refuses the whole answer when any address is blocked', async () => {
    const lookup = guardedLookup(policy, {
      lookup: fakeResolver([
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.8', family: 4 },
      ]),
    });
    for (const all of [true, false]) {
      const { error, address } = await lookupOnce(lookup, 'rebind.example', { all });
      expect(error).toBeInstanceOf(BlockedAddressError);
      expect(error).toMatchObject({
        code: 'ERR_BLOCKED_ADDRESS',
        address: '10.0.0.8',
        hostname: 'rebind.example',
      });
      expect(address === '' || (Array.isArray(address) && address.length === 0)).toBe(true);
    }
  });

  it('refuses an answer hiding a private IPv4 address in IPv6', async () => {
    const lookup = guardedLookup(policy, {
      lookup: fakeResolver([{ address: '::ffff:a9fe:a9fe', family: 6 }]),
    });
    const { error } = await lookupOnce(lookup, 'meta.example', { all: true });
    expect(error).toMatchObject({ code: 'ERR_BLOCKED_ADDRESS', range: 'ipv4Mapped->linkLocal' });
  });

  it('hands back exactly the checked addresses, in both callback forms', async () => {
    const answer = [
      { address: '2606:4700:4700::1111', family: 6 },
      { address: '1.1.1.1', family: 4 },
    ];
    const calls: Array<[string, LookupAllOptions]> = [];
    const lookup = guardedLookup(policy, { lookup: fakeResolver(answer, calls) });
    expect(await lookupOnce(lookup, 'one.example', { all: true })).toEqual({
      error: null,
      address: answer,
      family: undefined,
    });
    expect(await lookupOnce(lookup, 'one.example', { family: 4 })).toEqual({
      error: null,
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect(calls).toEqual([
      ['one.example', { all: true }],
      ['one.example', { all: true, family: 4 }],
    ]);
  });

  it('passes resolver errors through and reports an empty answer as ENOTFOUND', async () => {
    const failure = Object.assign(new Error('getaddrinfo EAI_AGAIN x'), { code: 'EAI_AGAIN' });
    const failing = guardedLookup(policy, { lookup: fakeResolver(failure) });
    expect((await lookupOnce(failing, 'x', { all: true })).error).toBe(failure);
    const empty = guardedLookup(policy, { lookup: fakeResolver([]) });
    expect((await lookupOnce(empty, 'x', { all: false })).error).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('guardedLookup in an undici Agent', () => {
  let server: Server;
  let port: number;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses to connect to localhost when private networks are not allowed', async () => {
    const agent = new Agent({ connect: { lookup: guardedLookup(createAddressPolicy()) } });
    const before = seen.length;
    try {
      const error = await request(`http://localhost:${port}/`, {
        method: 'POST',
        body: '{}',
        dispatcher: agent,
      }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(BlockedAddressError);
      expect(error).toMatchObject({
        code: 'ERR_BLOCKED_ADDRESS',
        address: '127.0.0.1',
        hostname: 'localhost',
      });
      expect(seen.length).toBe(before);
    } finally {
      await agent.close();
    }
  });

  it('connects when private networks are allowed, keeping the Host header', async () => {
    const agent = new Agent({
      connect: { lookup: guardedLookup(createAddressPolicy({ allowPrivateNetworks: true })) },
    });
    try {
      const response = await request(`http://localhost:${port}/hook`, {
        method: 'POST',
        body: '{}',
        dispatcher: agent,
      });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('ok');
      expect(seen.at(-1)?.host).toBe(`localhost:${port}`);
    } finally {
      await agent.close();
    }
  });

  it('connects to the address it checked, resolving once per connection', async () => {
    // A rebinding resolver: a loopback answer first, a private one afterwards.
    let calls = 0;
    const rebinding: Resolver = (_hostname, _options, callback) => {
      calls += 1;
      const address = calls === 1 ? '127.0.0.1' : '10.255.255.1';
      setImmediate(() => callback(null, [{ address, family: 4 }]));
    };
    const policy = createAddressPolicy({ allow: ['127.0.0.0/8'] });
    const agent = new Agent({ connect: { lookup: guardedLookup(policy, { lookup: rebinding }) } });
    try {
      const response = await request(`http://rebind.test:${port}/`, {
        method: 'POST',
        body: '{}',
        dispatcher: agent,
      });
      expect(response.statusCode).toBe(200);
      await response.body.dump();
      expect(calls).toBe(1);
      expect(seen.at(-1)?.host).toBe(`rebind.test:${port}`);
    } finally {
      await agent.close();
    }
  });
});
