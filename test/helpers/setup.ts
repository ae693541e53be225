import { afterEach } from 'vitest';
import { createWebhookDispatcher, type WebhookDispatcherOptions } from '../../src/index.js';
import { type Responder, startReceiver } from './receiver.js';

/** Everything a test opens (dispatchers, receivers, servers) is closed after it, whatever the outcome. */
export const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/**
 * A real receiver on 127.0.0.1 and a dispatcher allowed to reach it, retrying once without delay; both closed
 * after the test.
 */
export async function setup(respond?: Responder, options: WebhookDispatcherOptions = {}) {
  const receiver = await startReceiver(respond);
  const dispatcher = createWebhookDispatcher({
    allowPrivateNetworks: true,
    retry: { retries: 1, delayMs: 0 },
    ...options,
  });
  open.push(dispatcher, receiver);
  return { receiver, dispatcher };
}
