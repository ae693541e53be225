// The portal in a real headless Chromium, against the real admin API over a loopback server, with a real dispatcher
// delivering to a loopback receiver.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminDispatcher, createWebhookApi, toNodeHandler } from '../src/api/index.js';
import {
  createSigningKeyPair,
  createWebhookDispatcher,
  UNLEASH_EVENT_TYPES,
  verifySignature,
  verifyStandardWebhook,
  type WebhookEvent,
} from '../src/index.js';
import { unleashEvent } from './helpers/events.js';
import {
  ARTIFACTS,
  focusedId,
  focusIsVisible,
  launchBrowser,
  openPortal,
  scrollWidth,
  tabTo,
} from './helpers/portal.js';
import { type Responder, startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

const PREFIX = '/account/webhooks';
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/**
 * The host: the tenant from its session cookie, and (CSRF) the portal's custom header required on every API call;
 * the page and its assets are plain navigations without it.
 */
function tenantOf(request: Request): string | undefined {
  const tenant = /(?:^|;\s*)tenant=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  if (!tenant) return undefined;
  const path = new URL(request.url).pathname;
  const page = path === `${PREFIX}/` || path.startsWith(`${PREFIX}/assets/`);
  if (!page && request.headers.get('x-requested-with') !== 'webhook-portal') return undefined;
  return tenant;
}

/** An Express host mounting the admin API with its portal under PREFIX, a real dispatcher, a loopback receiver. */
async function start(respond?: Responder, { catalog = true } = {}) {
  const receiver = await startReceiver(respond);
  const real = createWebhookDispatcher({
    allowPrivateNetworks: true,
    retry: 0,
    ...(catalog ? { eventTypes: UNLEASH_EVENT_TYPES } : {}),
  });
  open.push(receiver, real);
  const dispatcher: AdminDispatcher = real;
  const app = express();
  app.get('/', (_request, response) => {
    response.send('the host app');
  });
  app.use(toNodeHandler(createWebhookApi({ dispatcher, tenant: tenantOf, basePath: PREFIX, portal: true })));
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // Pages close before the server: a request still in flight (a debounced preview) must not be cut off by the
  // test's own teardown and be reported as a page problem.
  const pages: (() => Promise<void>)[] = [];
  open.push({
    close: async () => {
      await Promise.all(pages.map((close) => close()));
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PREFIX}/`;
  const portal = async (tenant = 'acme', width = 1280) => {
    const opened = await openPortal(browser, url, tenant, width);
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        await opened.page.waitForLoadState('networkidle', { timeout: 2000 }).catch(() => {});
        await opened.close();
      })();
      return closing;
    };
    pages.push(close);
    open.push({
      close: async () => {
        await close();
        expect(opened.problems).toEqual([]);
      },
    });
    return opened.page;
  };
  /** emit() with a tenant: only that tenant's webhooks get it. */
  const emit = (event: WebhookEvent, tenant: string) => real.emit(event, { tenant });
  const flagOn = (overrides: Partial<WebhookEvent> = {}) =>
    unleashEvent({
      id: Math.floor(Math.random() * 1e9),
      type: 'feature-environment-enabled',
      project: 'default',
      environment: 'production',
      featureName: 'new-checkout',
      ...overrides,
    });
  return { receiver, dispatcher, real, url, portal, emit, flagOn };
}

describe('webhook portal', () => {
  it('creates a signed webhook through the form; its delivery arrives signed with the secret shown once', async () => {
    const { receiver, dispatcher, portal, emit, flagOn } = await start();
    const page = await portal();
    await page.getByRole('link', { name: 'Add webhook' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Create a webhook' }).isVisible()).toBe(true);
    // The default policy is shown as such: empty statements, the default as the placeholder and in the summary.
    const policy = page.getByLabel('Policy statements');
    expect(await policy.inputValue()).toBe('');
    expect(await policy.getAttribute('placeholder')).toContain('proj/*:env/production:flag/*');
    expect(await page.locator('#wp-policy-summary').textContent()).toMatch(
      /^Default policy: every event without resources/,
    );
    await page.getByLabel('Name').fill('Prod flag changes');
    await page.getByLabel('URL').fill(`${receiver.url}/hooks/flags`);
    expect(await page.getByLabel('Sign this webhook').isChecked()).toBe(true);
    await page.getByLabel('Filter event types').fill('feature-environment-');
    await page.getByLabel(/^feature-environment-enabled/).check();
    await page.getByLabel('Content-Type').fill('application/json');
    await page
      .getByLabel('Body template')
      .fill('{"flag":"{{event.featureName}}","env":"{{event.environment}}"}');
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Team');
    await page.getByLabel('Header 1 value').fill('checkout');
    await page.screenshot({ path: `${ARTIFACTS}portal-create-1280.png`, fullPage: true });

    await page.getByRole('button', { name: 'Save settings' }).click();
    const secretBox = page.getByLabel('Secret', { exact: true });
    await expect.poll(() => secretBox.isVisible()).toBe(true);
    const secret = await secretBox.inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(await focusedId(page)).toBe('wp-secret-value');

    const [saved] = await dispatcher.webhooks.list({ tenant: 'acme' });
    expect(saved).toMatchObject({
      name: 'Prod flag changes',
      url: `${receiver.url}/hooks/flags`,
      events: ['feature-environment-enabled'],
      tenant: 'acme',
      headers: { 'X-Team': 'checkout' },
    });

    await emit(flagOn(), 'acme');
    await receiver.waitFor(1);
    const delivered = receiver.requests[0]!;
    expect(delivered.url).toBe('/hooks/flags');
    expect(JSON.parse(delivered.body)).toEqual({ flag: 'new-checkout', env: 'production' });
    expect(verifySignature(delivered.body, delivered.headers['x-ld-signature'], secret)).toBe(true);

    // Shown once: reloading the page shows no secret.
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit webhook' }).isVisible()).toBe(true);
    expect(await page.locator('#wp-secret').isHidden()).toBe(true);
    expect(await page.getByLabel('Sign this webhook').isChecked()).toBe(true);
  });

  it('shows the filter a url-only webhook really has, picks the signature scheme, and names the event of each delivery', async () => {
    const { receiver, real, portal, emit } = await start();
    const hook = await real.webhooks.create({ url: `${receiver.url}/any`, tenant: 'acme' });
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/webhooks/${hook.id}`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit webhook' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Policy statements').getAttribute('placeholder')).toContain(
      'env/production',
    );
    expect(await page.locator('#wp-policy-summary').textContent()).toContain('Default policy');
    expect(await page.locator('#wp-events-selected').textContent()).toContain('the default policy decides');
    // Typing statements of its own changes what the page says.
    await page
      .getByLabel('Policy statements')
      .fill('[{"effect":"allow","actions":["*"],"resources":["proj/*"]}]');
    await expect
      .poll(() => page.locator('#wp-events-selected').textContent())
      .toBe('None selected: every type.');
    await page.getByLabel('Policy statements').fill('');

    await page.getByLabel('Sign this webhook').check();
    await page.getByLabel('Signature scheme').selectOption('standard');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const secretBox = page.getByLabel('Secret', { exact: true });
    await expect.poll(() => secretBox.isVisible()).toBe(true);
    const saved = await real.webhooks.get(hook.id);
    expect(saved).toMatchObject({ signatureScheme: 'standard' });
    expect(saved?.statements).toBeUndefined();
    expect(saved?.secret).toMatch(/^whsec_/);

    await emit({ id: 'inv-42', type: 'invoice.paid' }, 'acme');
    await receiver.waitFor(1);
    expect(receiver.requests[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator('[data-delivery-event]').first();
    await expect.poll(() => row.textContent()).toBe('Event invoice.paid inv-42');
  });

  it('previews the exact request as the form is filled: rendered template, signature, extra headers', async () => {
    const { receiver, portal } = await start();
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/new`);
    await page.getByLabel('URL').fill(`${receiver.url}/hooks/flags`);
    await page.getByLabel('Body template').fill('{"flag":"{{event.featureName}}"}');
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Team');
    await page.getByLabel('Header 1 value').fill('checkout');
    const preview = page.locator('#wp-preview');
    await expect.poll(() => preview.textContent()).toContain(`POST ${receiver.url}/hooks/flags`);
    await expect.poll(async () => (await preview.textContent())?.toLowerCase()).toContain('x-team: checkout');
    expect(await preview.textContent()).toMatch(/x-ld-signature: [0-9a-f]{64}/);
    expect(await preview.textContent()).toMatch(/\n\n\{"flag":"[^"]+"\}$/);
    // A template that does not parse is pointed at, not previewed.
    await page.getByLabel('Body template').fill('{"flag":"{{event.featureName"}');
    await expect.poll(() => page.locator('#wp-template-error').isVisible()).toBe(true);
  });

  it('points at the bad character of a policy: JSON syntax as you type, a bad specifier from the API', async () => {
    const { receiver, portal } = await start();
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/new`);
    const editor = page.getByLabel('Policy statements');
    const broken = '[{"effect": "allow", "actions": ["*"] "resources": ["proj/*"]}]';
    await editor.fill(broken);
    const message = page.locator('#wp-statements-message');
    await expect.poll(() => message.textContent()).toContain('Line 1, column 39');
    expect(await message.textContent()).toContain("Expected ',' or '}' after the property value");
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    // The caret sits under the offending character.
    const [line, caret] = ((await page.locator('#wp-statements-where').textContent()) ?? '').split('\n');
    expect(line).toBe(broken);
    expect(caret!.indexOf('^')).toBe(broken.indexOf('"resources"'));
    await page.getByRole('button', { name: 'Go to error' }).click();
    expect(
      await editor.evaluate((area) => (area as unknown as { selectionStart: number }).selectionStart),
    ).toBe(38);

    // Valid JSON, but a resource specifier the library refuses: the API's field and position are shown in place.
    const specifier = 'proj/*:env/production:flag/*;';
    const text = `[{"effect": "allow", "actions": ["*"], "resources": ["${specifier}"]}]`;
    await editor.fill(text);
    await page.getByLabel('URL').fill(`${receiver.url}/x`);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#wp-form-error').textContent()).toContain('Not saved');
    await expect.poll(() => page.locator('#wp-statements-error').isVisible()).toBe(true);
    const where = ((await page.locator('#wp-statements-where').textContent()) ?? '').split('\n');
    const offset = Number(await page.locator('#wp-statements-error').getAttribute('data-offset'));
    const at = text.indexOf(specifier);
    expect(offset).toBeGreaterThan(at);
    expect(offset).toBeLessThanOrEqual(at + specifier.length);
    expect(where[1]!.indexOf('^')).toBe(offset);
    expect(await focusedId(page)).toBe('wp-statements');
    // It stays until the text changes: the debounced preview that follows the last keystroke must not clear it.
    await page.waitForTimeout(700);
    expect(await page.locator('#wp-statements-error').isVisible()).toBe(true);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: `${ARTIFACTS}portal-policy-error-1280.png`, fullPage: true });
    await editor.fill(text.replace(specifier, 'proj/*:env/production:flag/*'));
    await expect.poll(() => page.locator('#wp-statements-error').isVisible()).toBe(false);
  });

  it('rotates the secret: the new one is shown once, copies to the clipboard, and signs the next delivery', async () => {
    const { receiver, dispatcher, portal, emit, flagOn } = await start();
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/s`, sign: true, tenant: 'acme' });
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/webhooks/${hook.id}`);
    expect(await page.locator('#wp-secret').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const secretBox = page.getByLabel('Secret', { exact: true });
    await expect.poll(() => secretBox.isVisible()).toBe(true);
    const secret = await secretBox.inputValue();
    expect(secret).not.toBe(hook.secret);
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.locator('#wp-status').textContent()).toBe('Secret copied.');
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      ),
    ).toBe(secret);
    await emit(flagOn(), 'acme');
    await receiver.waitFor(1);
    const delivered = receiver.requests[0]!;
    expect(verifySignature(delivered.body, delivered.headers['x-ld-signature'], secret)).toBe(true);
  });

  it("shows an Ed25519 webhook's public key with a copy button, never the signing key, also after a rotation", async () => {
    const { receiver, dispatcher, portal, emit, flagOn } = await start();
    const pair = createSigningKeyPair();
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/k`,
      secret: pair.secret,
      signatureScheme: 'standard',
      tenant: 'acme',
    });
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/webhooks/${hook.id}`);
    const keyBox = page.getByLabel('Public key (Ed25519)');
    await expect.poll(() => keyBox.isVisible()).toBe(true);
    expect(await keyBox.inputValue()).toBe(pair.publicKey);
    expect(await page.locator('#wp-secret').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Copy public key' }).click();
    await expect.poll(() => page.locator('#wp-status').textContent()).toBe('Public key copied.');
    const clipboard = () =>
      page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      );
    expect(await clipboard()).toBe(pair.publicKey);

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => keyBox.inputValue()).not.toBe(pair.publicKey);
    const rotated = await keyBox.inputValue();
    expect(rotated).toMatch(/^whpk_/);
    expect(await page.locator('#wp-secret').isHidden()).toBe(true);
    expect(await page.content()).not.toContain('whsk_');
    // The next delivery verifies with the new public key alone.
    await emit(flagOn(), 'acme');
    await receiver.waitFor(1);
    const delivered = receiver.requests[0]!;
    expect(
      verifyStandardWebhook({ publicKey: rotated, headers: delivered.headers, body: delivered.body }),
    ).toBe(true);
    // A webhook signed with a shared secret shows no public key.
    const hmac = await dispatcher.webhooks.create({ url: `${receiver.url}/h`, sign: true, tenant: 'acme' });
    await page.goto(`${page.url().split('#')[0]}#/webhooks/${hmac.id}`);
    await expect.poll(() => page.locator('#wp-edit-heading').isVisible()).toBe(true);
    await expect.poll(() => keyBox.isHidden()).toBe(true);
  });

  it('without a catalog, event types are typed in a text field', async () => {
    const { receiver, dispatcher, portal } = await start(undefined, { catalog: false });
    const page = await portal();
    await page.getByRole('link', { name: 'Add webhook' }).click();
    expect(await page.getByLabel('Filter event types').isHidden()).toBe(true);
    await page.getByLabel('URL').fill(`${receiver.url}/free`);
    await page.getByLabel('Event types (comma-separated)').fill('feature-created, change-request-*');
    expect(await page.locator('#wp-events-selected').textContent()).toBe(
      'Selected: feature-created, change-request-*',
    );
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit webhook' }).isVisible()).toBe(true);
    const [saved] = await dispatcher.webhooks.list({ tenant: 'acme' });
    expect(saved?.events).toEqual(['feature-created', 'change-request-*']);
    expect(await page.getByLabel('Event types (comma-separated)').inputValue()).toBe(
      'feature-created, change-request-*',
    );
  });

  it('switches a webhook off and on from the list', async () => {
    const { receiver, dispatcher, portal, emit, flagOn } = await start();
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/a`,
      name: 'Alerts',
      tenant: 'acme',
    });
    const page = await portal();
    const toggle = page.getByRole('switch', { name: 'On/Off: Alerts' });
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    expect((await dispatcher.webhooks.get(hook.id))?.on).toBe(false);
    expect(await emit(flagOn(), 'acme')).toEqual([]);
    await toggle.press('Space');
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    expect((await dispatcher.webhooks.get(hook.id))?.on).toBe(true);
    await emit(flagOn(), 'acme');
    await receiver.waitFor(1);
  });

  it('shows health: a webhook switched off for failing says so, and switching it on clears it', async () => {
    const { receiver, dispatcher, portal } = await start((_, __, res) => {
      res.statusCode = 410;
      res.end('gone');
      return 'handled';
    });
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/gone`,
      name: 'Old',
      tenant: 'acme',
    });
    await dispatcher.test(hook.id);
    await expect.poll(async () => (await dispatcher.webhooks.get(hook.id))?.disabled?.reason).toBe('gone');
    const page = await portal();
    const card = page.locator(`[data-webhook="${hook.id}"]`);
    await expect.poll(() => card.textContent()).toContain('Disabled: the receiver answered 410 Gone');
    await page.getByRole('switch', { name: 'On/Off: Old' }).click();
    await expect.poll(() => card.textContent()).not.toContain('Disabled');
    expect((await dispatcher.webhooks.get(hook.id))?.disabled).toBeUndefined();
  });

  it('sends a test and shows the response', async () => {
    const { dispatcher, receiver, portal } = await start((_, __, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('thanks from the receiver');
      return 'handled';
    });
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/t`, tenant: 'acme' });
    const page = await portal();
    await page.goto(`${page.url().split('#')[0]}#/webhooks/${hook.id}`);
    await page.getByRole('button', { name: 'Send test' }).click();
    const result = page.locator('#wp-test-result');
    await expect.poll(() => result.textContent()).toContain('Delivered · HTTP 200');
    expect(await result.textContent()).toContain('thanks from the receiver');
    expect(receiver.requests).toHaveLength(1);
    expect(await page.locator('#wp-deliveries-list li').count()).toBe(1);
  });

  it('shows a failed delivery with its request and response, redelivers it, and recovers failed ones since a time', async () => {
    let failing = true;
    const { dispatcher, receiver, portal, emit, flagOn } = await start(() => (failing ? 503 : 200));
    await dispatcher.webhooks.create({
      url: `${receiver.url}/r`,
      name: 'Flaky',
      tenant: 'acme',
    });
    const [first] = await emit(flagOn(), 'acme');
    expect(first?.ok).toBe(false);
    const page = await portal();
    await page.getByRole('link', { name: 'Flaky' }).click();
    const item = page.locator(`[data-delivery="${first!.deliveryId}"]`);
    await expect.poll(() => item.getAttribute('data-status')).toBe('failed');
    expect(await item.textContent()).toContain('HTTP 503');
    await item.getByText('Request and response').click();
    expect(await item.locator('pre').first().textContent()).toContain(`POST ${receiver.url}/r`);
    await page.screenshot({ path: `${ARTIFACTS}portal-deliveries-1280.png`, fullPage: true });

    failing = false;
    await item.getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 10_000 }).toBe('delivered');
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);

    failing = true;
    const [second] = await emit(flagOn(), 'acme');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const secondItem = page.locator(`[data-delivery="${second!.deliveryId}"]`);
    await expect.poll(() => secondItem.getAttribute('data-status')).toBe('failed');
    failing = false;
    await page.getByRole('button', { name: 'Recover failed since' }).click();
    // Answered at once with the count; the re-send waits in the webhook's lane (the 503 paused it for about a
    // second) and the list shows it progressing on Refresh.
    await expect
      .poll(() => page.locator('#wp-status').textContent(), { timeout: 10_000 })
      .toContain('1 delivery queued for re-sending');
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return secondItem.getAttribute('data-status');
        },
        { timeout: 10_000 },
      )
      .toBe('delivered');
    expect(receiver.requests).toHaveLength(4);
  });

  it('says which fields of an attempt were not kept as received (a receiver answering a NUL)', async () => {
    const { dispatcher, receiver, portal, emit, flagOn } = await start((_request, _n, res) => {
      res.statusCode = 500;
      res.end('trace\u0000id');
      return 'handled';
    });
    await dispatcher.webhooks.create({ url: receiver.url, name: 'Hostile', tenant: 'acme' });
    const [failed] = await emit(flagOn(), 'acme');
    const page = await portal();
    await page.getByRole('link', { name: 'Hostile' }).click();
    const item = page.locator(`[data-delivery="${failed!.deliveryId}"]`);
    await expect.poll(() => item.getAttribute('data-status')).toBe('failed');
    await item.getByText('Request and response').click();
    expect(await item.locator('pre').nth(1).textContent()).toContain('trace\ufffdid');
    expect(await item.locator('[data-altered]').textContent({ timeout: 5000 })).toContain(
      'Not kept as received: response.body',
    );
  });

  it('deletes a webhook only after the confirmation', async () => {
    const { dispatcher, receiver, portal } = await start();
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/d`,
      name: 'Doomed',
      tenant: 'acme',
    });
    const page = await portal();
    await page.getByRole('link', { name: 'Doomed' }).click();
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete webhook?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await dispatcher.webhooks.get(hook.id)).toBeDefined();
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('#wp-status').textContent()).toContain('Webhook deleted.');
    expect(await dispatcher.webhooks.get(hook.id)).toBeUndefined();
    expect(await page.locator('#wp-webhooks li').count()).toBe(0);
  });

  it("a second tenant sees none of the first tenant's webhooks or deliveries", async () => {
    const { dispatcher, receiver, portal, emit, flagOn } = await start();
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/acme`,
      name: 'Acme only',
      tenant: 'acme',
    });
    const [delivery] = await emit(flagOn(), 'acme');
    const acme = await portal('acme');
    await expect.poll(() => acme.locator('#wp-webhooks li').count()).toBe(1);

    const globex = await portal('globex');
    await expect.poll(() => globex.locator('#wp-empty').isVisible()).toBe(true);
    expect(await globex.locator('#wp-webhooks li').count()).toBe(0);
    // Not by guessing the id either: the page, and the API under it, answer not found.
    await globex.goto(`${globex.url().split('#')[0]}#/webhooks/${hook.id}`);
    await expect.poll(() => globex.locator('#wp-alert').textContent()).toMatch(/not found/i);
    const answers = await globex.evaluate(
      async ({ id, deliveryId }) => {
        const headers = { 'x-requested-with': 'webhook-portal', 'content-type': 'application/json' };
        const calls = [
          fetch(`webhooks/${id}`, { headers }),
          fetch(`webhooks/${id}/deliveries`, { headers }),
          fetch(`webhooks/${id}`, { method: 'DELETE', headers }),
          fetch(`deliveries/${deliveryId}/redeliver`, { method: 'POST', headers, body: '{}' }),
        ];
        return Promise.all(calls.map((call) => call.then((response) => response.status)));
      },
      { id: hook.id, deliveryId: delivery!.deliveryId },
    );
    expect(answers).toEqual([404, 404, 404, 404]);
    expect(await dispatcher.webhooks.get(hook.id)).toBeDefined();
  });

  it('the API refuses calls without the custom header the page sends (the CSRF defence a host can require)', async () => {
    const { portal } = await start();
    const page = await portal();
    const status = await page.evaluate(() =>
      fetch('webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"url":"x"}',
      }).then((response) => response.status),
    );
    expect(status).toBe(401);
  });

  it('creates a webhook with the keyboard only, with a visible focus on every stop', async () => {
    const { dispatcher, receiver, portal } = await start();
    const page = await portal();
    const stop = async (selector: string) => {
      await tabTo(page, selector);
      expect(await focusIsVisible(page), `focus visible on ${selector}`).toBe(true);
    };
    await stop('#wp-add');
    await page.keyboard.press('Enter');
    await expect.poll(() => focusedId(page)).toBe('wp-edit-heading');
    await stop('#wp-name');
    await page.keyboard.type('Keyboard hook');
    await stop('#wp-url');
    await page.keyboard.type(`${receiver.url}/kb`);
    await stop('#wp-sign');
    await page.keyboard.press('Space'); // unsigned
    await stop('#wp-events-filter');
    await page.keyboard.type('feature-created');
    await stop('#wp-event-feature-created');
    await page.keyboard.press('Space');
    await stop('#wp-header-add');
    await page.keyboard.press('Enter');
    expect(await focusedId(page)).toBe('wp-header-name-1');
    await page.keyboard.type('Authorization');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Bearer kb-token');
    await stop('#wp-save');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { name: 'Edit webhook' }).isVisible()).toBe(true);
    const [saved] = await dispatcher.webhooks.list({ tenant: 'acme' });
    expect(saved).toMatchObject({
      name: 'Keyboard hook',
      url: `${receiver.url}/kb`,
      events: ['feature-created'],
      headers: { Authorization: 'Bearer kb-token' },
    });
    expect(saved?.secret).toBeUndefined();
  });

  it('fits 360 px and 1280 px wide without horizontal scrolling (screenshots for review)', async () => {
    const { dispatcher, receiver, portal, emit, flagOn } = await start((_, n) => (n === 0 ? 500 : 200));
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/very/long/path/to/a/receiver/endpoint?with=query&and=more`,
      name: 'Release notes to the #releases channel',
      tenant: 'acme',
      events: ['feature-environment-enabled', 'feature-environment-disabled'],
      statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] }],
      sign: true,
      bodyTemplate:
        '{"text":"{{event.featureName}} changed in {{event.environment}} by {{event.createdBy}}"}',
      headers: { Authorization: 'Bearer secret-token-value' },
    });
    await dispatcher.webhooks.create({
      url: `${receiver.url}/b`,
      name: 'Audit log',
      on: false,
      tenant: 'acme',
    });
    await emit(flagOn(), 'acme');
    await emit(flagOn(), 'acme');
    for (const width of [360, 1280]) {
      const page = await portal('acme', width);
      await expect.poll(() => page.locator('#wp-webhooks li').count()).toBe(2);
      await page.screenshot({ path: `${ARTIFACTS}portal-list-${width}.png`, fullPage: true });
      expect(await scrollWidth(page)).toBeLessThanOrEqual(width);
      await page.goto(`${page.url().split('#')[0]}#/webhooks/${hook.id}`);
      await expect.poll(() => page.locator('#wp-deliveries-list li').count()).toBe(2);
      await page
        .locator('#wp-deliveries-list details')
        .first()
        .evaluate((details) => {
          (details as unknown as { open: boolean }).open = true;
        });
      await page.screenshot({ path: `${ARTIFACTS}portal-edit-${width}.png`, fullPage: true });
      expect(await scrollWidth(page)).toBeLessThanOrEqual(width);
    }
  });
});

describe('webhook portal: the operator views', () => {
  it("lists every failed delivery of the tenant's webhooks, recovers them with one click, and shows each webhook's stats", async () => {
    let failing = true;
    const { real, receiver, portal, emit, flagOn } = await start(() => (failing ? 503 : 200));
    const billing = await real.webhooks.create({
      url: `${receiver.url}/billing`,
      name: 'Billing',
      tenant: 'acme',
    });
    const audit = await real.webhooks.create({ url: `${receiver.url}/audit`, name: 'Audit', tenant: 'acme' });
    const globex = await real.webhooks.create({
      url: `${receiver.url}/globex`,
      name: 'Globex',
      tenant: 'globex',
    });
    await emit(flagOn(), 'acme');
    await emit(flagOn(), 'acme');
    await emit(flagOn(), 'globex');
    failing = false;
    // The lanes paused after the 503s: this emit waits for them, then Billing and Audit each have 1 of 3 delivered.
    const delivered = await emit(flagOn(), 'acme');
    expect(delivered.map((result) => result.ok)).toEqual([true, true]);
    failing = true;
    const seen = (path: string) => receiver.requests.filter((request) => request.url === path).length;
    expect([seen('/billing'), seen('/audit'), seen('/globex')]).toEqual([3, 3, 1]);

    const page = await portal('acme');
    const billingStats = page.locator(`[data-stats="${billing.id}"]`);
    await expect.poll(() => billingStats.textContent()).toContain('Success 33.3%');
    expect(await billingStats.textContent()).toMatch(/p95 \d+ ms · last success .+ · last failure .+/);
    expect(await billingStats.textContent()).not.toContain('never');
    await expect
      .poll(() => page.locator(`[data-stats="${audit.id}"]`).textContent())
      .toContain('Success 33.3%');

    await page.getByRole('link', { name: 'Failed deliveries' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Failed deliveries' }).isVisible()).toBe(true);
    const rows = page.locator('#wp-failed-list li');
    await expect.poll(() => rows.count()).toBe(4);
    const webhookIds = await rows.evaluateAll((items) =>
      items.map((item) => item.getAttribute('data-webhook-id')),
    );
    expect(webhookIds.sort()).toEqual([audit.id, audit.id, billing.id, billing.id].sort());
    expect(await rows.first().textContent()).toContain('HTTP 503');
    expect(await rows.first().textContent()).toMatch(/Billing|Audit/);
    expect(await page.locator('#wp-failed-list').textContent()).not.toContain(globex.id);
    await page.screenshot({ path: `${ARTIFACTS}portal-failed-1280.png`, fullPage: true });

    failing = false;
    expect(await page.getByLabel('Recover failed deliveries of').inputValue()).toBe('86400000');
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await expect
      .poll(() => page.locator('#wp-failed-result').textContent(), { timeout: 10_000 })
      .toBe('4 deliveries queued for re-sending.');
    await expect.poll(() => seen('/billing') + seen('/audit'), { timeout: 15_000 }).toBe(10);
    await expect
      .poll(async () => (await real.deliveries.list({ status: 'failed', tenant: 'acme' })).items.length)
      .toBe(0);
    // Globex's failure was not the acme operator's to recover.
    expect(seen('/globex')).toBe(1);
    expect((await real.deliveries.list({ status: 'failed', tenant: 'globex' })).items).toHaveLength(1);
    await page.reload();
    await expect.poll(() => page.locator('#wp-failed-empty').isVisible()).toBe(true);
    expect(await rows.count()).toBe(0);
  });
});
