// The demo behind `npm run demo`: real signed webhooks to a receiver on 127.0.0.1, one retry after a 503,
// and a table of what arrived. Run it with `npm run demo` (which builds first) or `node examples/quickstart.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createWebhookDispatcher, verifySignature } from 'webhook-dispatcher';

// --- The receiving side: a plain node:http server that verifies X-LD-Signature against the raw body. ---
const SECRET = 'demo-secret-change-me';
const arrived = [];
let flakyCalls = 0;
const receiver = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  if (req.url === '/flaky' && ++flakyCalls === 1) {
    arrived.push({ path: req.url, answer: 503, signature: '-', what: '(refused once to show the retry)' });
    res.writeHead(503).end();
    return;
  }
  const signature = req.headers['x-ld-signature'];
  const verified =
    signature === undefined ? 'unsigned' : verifySignature(body, signature, SECRET) ? 'valid' : 'INVALID';
  const event = JSON.parse(body.toString('utf8'));
  arrived.push({
    path: req.url,
    answer: 200,
    signature: verified,
    what: event.title ?? `${event.type} ${event.featureName}`,
  });
  res.writeHead(200).end('ok');
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const base = `http://127.0.0.1:${receiver.address().port}`;

// --- The sending side: what a host service does. ---
const dispatcher = createWebhookDispatcher({
  allowPrivateNetworks: true, // the demo receiver is on loopback, which the SSRF guard refuses by default
  retry: { retries: 1, delayMs: 200 },
});

// LaunchDarkly's default: production flag changes only.
await dispatcher.webhooks.create({ name: 'Prod flags', url: `${base}/prod`, secret: SECRET });
// An Unleash-style subscription by event type.
await dispatcher.webhooks.create({
  name: 'Flag lifecycle',
  url: `${base}/lifecycle`,
  secret: SECRET,
  events: ['feature-created', 'feature-archived'],
});
// A receiver that fails once: the delivery is retried and succeeds.
await dispatcher.webhooks.create({
  name: 'Flaky',
  url: `${base}/flaky`,
  secret: SECRET,
  events: ['feature-created'],
});

const ldEntry = (environment, flag) => ({
  _id: `demo-${environment}-${flag}`,
  date: Date.now(),
  kind: 'flag',
  name: flag,
  accesses: [{ action: 'updateOn', resource: `proj/default:env/${environment}:flag/${flag}` }],
  title: `Michelle Doe turned on the flag ${flag} in \`${environment}\``,
});
const unleashEvent = (id, type, featureName) => ({
  id,
  type,
  createdBy: 'user@example.com',
  createdAt: new Date(),
  featureName,
  project: 'default',
  environment: null,
  data: { name: featureName, type: 'release' },
  preData: null,
  tags: [],
});

const results = [
  ...(await dispatcher.emit(ldEntry('production', 'new-checkout'))),
  ...(await dispatcher.emit(ldEntry('staging', 'new-checkout'))), // matches no webhook: nothing is sent
  ...(await dispatcher.emit(unleashEvent(101, 'feature-created', 'dark-mode'))),
  ...(await dispatcher.emit(unleashEvent(102, 'feature-archived', 'old-banner'))),
];

console.log('\nWhat the receiver got:');
console.table(arrived);
console.log('What emit() reported:');
const names = new Map((await dispatcher.webhooks.list()).map((w) => [w.id, w.name]));
console.table(
  results.map((r) => ({
    webhook: names.get(r.webhookId),
    event: r.eventId,
    outcome: r.outcome,
    attempts: r.attempts,
    status: r.status,
  })),
);

await dispatcher.close();
receiver.close();
const allValid = arrived.every((a) => a.signature === 'valid' || a.answer === 503);
const retried = results.some((r) => r.attempts === 2 && r.ok);
console.log(allValid && retried ? 'Every signature verified; the 503 was retried.' : 'Something went wrong.');
process.exitCode = allValid && retried ? 0 : 1;
