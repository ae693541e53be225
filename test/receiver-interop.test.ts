import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { generateStandardSecret, signStandardWebhook } from '../src/index.js';
import { verifyWebhookRequest } from '../src/receiver/index.js';

const SECRET = generateStandardSecret();
const BODY = '{"id":"evt_1","type":"invoice.paid","amount":4200}';

function request(headers: Record<string, string>, body = BODY) {
  return new Request('http://127.0.0.1/hooks', { method: 'POST', headers, body });
}

describe('interop with the standardwebhooks and svix packages', () => {
  it('verifies what the standardwebhooks package signs', async () => {
    const at = new Date();
    const signature = new StandardWebhook(SECRET).sign('msg_std', at, BODY);
    const headers = {
      'webhook-id': 'msg_std',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const webhook = await verifyWebhookRequest(request(headers), { secret: SECRET, scheme: 'standard' });
    expect(webhook).toMatchObject({ id: 'msg_std', payload: { type: 'invoice.paid' } });
  });

  it('verifies what the svix package signs, under svix- header names', async () => {
    const at = new Date();
    const signature = new SvixWebhook(SECRET).sign('msg_svix', at, BODY);
    const headers = {
      'svix-id': 'msg_svix',
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': signature,
    };
    const webhook = await verifyWebhookRequest(request(headers), { secret: SECRET, scheme: 'standard' });
    expect(webhook.id).toBe('msg_svix');
  });

  it('signs what both packages verify, under either header names', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signStandardWebhook({ secret: SECRET, id: 'msg_ours', timestamp, body: BODY });
    const standard = {
      'webhook-id': 'msg_ours',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    expect(new StandardWebhook(SECRET).verify(BODY, standard)).toEqual(JSON.parse(BODY));
    expect(new SvixWebhook(SECRET).verify(BODY, standard)).toEqual(JSON.parse(BODY));
    const svix = { 'svix-id': 'msg_ours', 'svix-timestamp': String(timestamp), 'svix-signature': signature };
    expect(new SvixWebhook(SECRET).verify(BODY, svix)).toEqual(JSON.parse(BODY));
  });

  it('agrees with both packages that a tampered body fails', async () => {
    const at = new Date();
    const signature = new SvixWebhook(SECRET).sign('msg_t', at, BODY);
    const headers = {
      'webhook-id': 'msg_t',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const tampered = BODY.replace('4200', '1');
    expect(() => new StandardWebhook(SECRET).verify(tampered, headers)).toThrow();
    await expect(
      verifyWebhookRequest(request(headers, tampered), { secret: SECRET, scheme: 'standard' }),
    ).rejects.toMatchObject({ code: 'ERR_SIGNATURE_INVALID' });
  });
});
