// A custom Transport: anything with `send(request, { signal, timeoutMs })` replaces the default undici pool.
// This one records requests and answers from a script, which is handy in tests; a real one could publish to a
// message bus or go through a proxy. Run: `npm run build && node examples/custom-transport.mjs`.
import { createWebhookDispatcher, verifySignature } from 'webhook-dispatcher';

function recordingTransport(answers) {
  const sent = [];
  return {
    sent,
    async send(request, { signal }) {
      if (signal.aborted) throw signal.reason;
      sent.push(request);
      const status = answers.shift() ?? 200;
      return { status, headers: {}, body: '' };
    },
    async close() {},
  };
}

const transport = recordingTransport([500, 200]);
const dispatcher = createWebhookDispatcher({ transport, retry: { retries: 1, delayMs: 0 } });
await dispatcher.webhooks.create({ url: 'https://hooks.example.com/flags', secret: 'shh' });

const [result] = await dispatcher.emit({
  _id: 'evt-1',
  date: Date.now(),
  accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/checkout' }],
});

console.log(`outcome: ${result.outcome} after ${result.attempts} attempts (status ${result.status})`);
for (const request of transport.sent) {
  const valid = verifySignature(request.body, request.headers['x-ld-signature'], 'shh');
  console.log(
    `${request.method} ${request.url} webhook-id=${request.headers['webhook-id']} signature ${valid ? 'valid' : 'INVALID'}`,
  );
}
await dispatcher.close();
if (!result.ok || transport.sent.length !== 2) process.exitCode = 1;
