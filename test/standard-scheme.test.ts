import { describe, expect, it } from 'vitest';
import { generateStandardSecret, verifySignature, verifyStandardWebhook } from '../src/index.js';
import { ldEvent } from './helpers/events.js';
import type { ReceivedRequest } from './helpers/receiver.js';
import { setup } from './helpers/setup.js';

/** A clock the test moves by hand; starts at a whole second so timestamps are easy to reason about. */
function manualClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** What a receiver would do: verify with the given secret(s) at the given time; the error code, or 'valid'. */
function verifyAt(request: ReceivedRequest, secret: string | string[], now: number): string {
  try {
    verifyStandardWebhook({ secret, headers: request.headers, body: request.body, now });
    return 'valid';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe("signatureScheme 'standard'", () => {
  it('sends webhook-id, webhook-timestamp and webhook-signature that verifyStandardWebhook accepts, and no X-LD-Signature', async () => {
    const clock = manualClock();
    const { receiver, dispatcher } = await setup(undefined, { now: clock.now });
    const secret = generateStandardSecret();
    await dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme: 'standard' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const request = receiver.requests[0]!;
    expect(request.headers['webhook-id']).toBe(result!.deliveryId);
    expect(request.headers['webhook-timestamp']).toBe(String(clock.now() / 1000));
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(request.headers['x-ld-signature']).toBeUndefined();
    expect(verifyAt(request, secret, clock.now())).toBe('valid');
    expect(verifyAt(request, generateStandardSecret(), clock.now())).toBe('ERR_SIGNATURE_INVALID');
  });

  it('generates a whsec_ secret for sign: true', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      sign: true,
      signatureScheme: 'standard',
    });

    await dispatcher.emit(ldEvent());

    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(verifyAt(receiver.requests[0]!, hook.secret!, Date.now())).toBe('valid');
  });

  it('refuses a secret that is not a Standard Webhooks secret', async () => {
    const { receiver, dispatcher } = await setup();
    await expect(
      dispatcher.webhooks.create({ url: receiver.url, secret: 'shh', signatureScheme: 'standard' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'secret' });
  });

  it('signs every attempt with the timestamp of that attempt, keeping the webhook-id', async () => {
    const clock = manualClock();
    const { receiver, dispatcher } = await setup(
      (_req, n) => {
        if (n === 0) {
          clock.advance(42_000);
          return 503;
        }
        return 200;
      },
      { now: clock.now },
    );
    const secret = generateStandardSecret();
    await dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme: 'standard' });
    const first = clock.now();

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 2 });
    const [a, b] = receiver.requests as [ReceivedRequest, ReceivedRequest];
    expect(a.headers['webhook-id']).toBe(b.headers['webhook-id']);
    expect(Number(a.headers['webhook-timestamp'])).toBe(first / 1000);
    expect(Number(b.headers['webhook-timestamp'])).toBe(first / 1000 + 42);
    expect(a.headers['webhook-signature']).not.toBe(b.headers['webhook-signature']);
    expect(verifyAt(a, secret, first)).toBe('valid');
    expect(verifyAt(b, secret, first + 42_000)).toBe('valid');
  });
});

describe("signatureScheme 'both'", () => {
  it('sends X-LD-Signature and the Standard Webhooks headers, each verifiable', async () => {
    const { receiver, dispatcher } = await setup();
    const secret = generateStandardSecret();
    await dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme: 'both' });

    await dispatcher.emit(ldEvent());

    const request = receiver.requests[0]!;
    expect(verifySignature(request.body, request.headers['x-ld-signature'] as string, secret)).toBe(true);
    expect(verifyAt(request, secret, Date.now())).toBe('valid');
  });
});

describe('secret rotation', () => {
  it('signs with the old and the new secret until secretRotationMs has passed, then with the new one only', async () => {
    const clock = manualClock();
    const { receiver, dispatcher } = await setup(undefined, { now: clock.now, secretRotationMs: 60_000 });
    const oldSecret = generateStandardSecret();
    const newSecret = generateStandardSecret();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: oldSecret,
      signatureScheme: 'standard',
    });
    await dispatcher.emit(ldEvent());
    const beforeRotation = receiver.requests[0]!;
    expect(verifyAt(beforeRotation, oldSecret, clock.now())).toBe('valid');
    expect(verifyAt(beforeRotation, newSecret, clock.now())).toBe('ERR_SIGNATURE_INVALID');

    await dispatcher.webhooks.update(hook.id, { secret: newSecret });
    clock.advance(59_000);
    await dispatcher.emit(ldEvent());
    const during = receiver.requests[1]!;
    expect((during.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(verifyAt(during, oldSecret, clock.now())).toBe('valid');
    expect(verifyAt(during, newSecret, clock.now())).toBe('valid');

    clock.advance(1_000);
    await dispatcher.emit(ldEvent());
    const after = receiver.requests[2]!;
    expect((after.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(verifyAt(after, newSecret, clock.now())).toBe('valid');
    expect(verifyAt(after, oldSecret, clock.now())).toBe('ERR_SIGNATURE_INVALID');
  });

  it('keeps the old secret out of X-LD-Signature under the both scheme (only the new secret signs it)', async () => {
    const clock = manualClock();
    const { receiver, dispatcher } = await setup(undefined, { now: clock.now, secretRotationMs: 60_000 });
    const oldSecret = generateStandardSecret();
    const newSecret = generateStandardSecret();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: oldSecret,
      signatureScheme: 'both',
    });
    await dispatcher.webhooks.update(hook.id, { secret: newSecret });

    await dispatcher.emit(ldEvent());

    const request = receiver.requests[0]!;
    const ld = request.headers['x-ld-signature'] as string;
    expect(verifySignature(request.body, ld, newSecret)).toBe(true);
    expect(verifySignature(request.body, ld, oldSecret)).toBe(false);
    expect(verifyAt(request, oldSecret, clock.now())).toBe('valid');
  });

  it('signs with the new secret only when secretRotationMs is 0', async () => {
    const clock = manualClock();
    const { receiver, dispatcher } = await setup(undefined, { now: clock.now, secretRotationMs: 0 });
    const oldSecret = generateStandardSecret();
    const newSecret = generateStandardSecret();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: oldSecret,
      signatureScheme: 'standard',
    });
    await dispatcher.webhooks.update(hook.id, { secret: newSecret });

    await dispatcher.emit(ldEvent());

    expect(verifyAt(receiver.requests[0]!, newSecret, clock.now())).toBe('valid');
    expect(verifyAt(receiver.requests[0]!, oldSecret, clock.now())).toBe('ERR_SIGNATURE_INVALID');
  });
});
