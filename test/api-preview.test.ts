import { describe, expect, it } from 'vitest';
import { signPayload } from '../src/index.js';
import { startApi } from './helpers/api.js';

describe('admin API: POST /webhooks/preview', () => {
  it('answers the exact request of an unsaved form, signature included, and saves nothing', async () => {
    const api = await startApi();
    const previewed = await api.call('POST', '/webhooks/preview', {
      as: 'token-acme',
      body: {
        url: 'https://hooks.example.com/flags',
        secret: 'form-secret',
        events: ['*'],
        bodyTemplate: '{"id":"{{event.id}}"}',
        headers: { 'X-Team': 'checkout', Authorization: 'Bearer very-secret-token' },
        event: { id: 'evt-7', type: 'flag-updated' },
      },
    });
    expect(previewed.status).toBe(200);
    expect(previewed.body).toMatchObject({
      url: 'https://hooks.example.com/flags',
      method: 'POST',
      body: '{"id":"evt-7"}',
    });
    expect(previewed.body.headers['X-Team']).toBe('checkout');
    expect(previewed.body.headers.Authorization).toBe('<redacted>');
    expect(previewed.body.headers['x-ld-signature']).toBe(signPayload('{"id":"evt-7"}', 'form-secret'));
    expect((await api.real.webhooks.list()).length).toBe(0);
  });

  it('validates like a save: a bad specifier is a 422 naming the field and the position', async () => {
    const api = await startApi();
    const refused = await api.call('POST', '/webhooks/preview', {
      as: 'token-acme',
      body: {
        url: 'https://hooks.example.com/flags',
        statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/*;qa_*:/flag/*'] }],
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({
      code: 'ERR_INVALID_POLICY',
      field: 'statements[0].resources[0]',
    });
    expect(typeof refused.body.error.position).toBe('number');
  });

  it('previews an edit of a saved webhook of the tenant only', async () => {
    const api = await startApi();
    const created = await api.call('POST', '/webhooks', {
      as: 'token-acme',
      body: { url: 'https://hooks.example.com/a', events: ['*'], headers: { Authorization: 'Bearer kept' } },
    });
    const edit = await api.call('POST', '/webhooks/preview', {
      as: 'token-acme',
      body: {
        id: created.body.id,
        url: 'https://hooks.example.com/b',
        headers: { Authorization: '<redacted>' },
      },
    });
    expect(edit.status).toBe(200);
    expect(edit.body.url).toBe('https://hooks.example.com/b');
    const other = await api.call('POST', '/webhooks/preview', {
      as: 'token-globex',
      body: { id: created.body.id },
    });
    expect(other.status).toBe(404);
  });
});
