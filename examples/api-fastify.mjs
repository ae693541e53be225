// A Fastify service exposing the webhooks admin API to two customers (tenants): each customer's token resolves to
// its tenant, and every route sees only that tenant's webhooks. Then the service emits events per tenant.
// Run: `npm run build && node examples/api-fastify.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { createWebhookDispatcher, verifySignature } from 'webhook-dispatcher';
import { createWebhookApi, fastifyPlugin } from 'webhook-dispatcher/api';

// --- Each customer's receiver (here both on 127.0.0.1): records what arrives and checks the signature. ---
const secrets = {};
const arrived = [];
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const customer = req.url.slice(1);
    const signature = req.headers['x-ld-signature'];
    const valid = signature !== undefined && verifySignature(body, signature, secrets[customer]);
    arrived.push({ customer, type: JSON.parse(body).type, signature: valid ? 'valid' : 'INVALID' });
    res.writeHead(200).end();
  });
});
await once(receiver.listen(0, '127.0.0.1'), 'listening');
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

// --- The host: one dispatcher, one handler, a tenant resolver over the host's own tokens. ---
const TOKENS = { 'acme-token': 'acme', 'globex-token': 'globex' }; // your session or API-key lookup
const dispatcher = createWebhookDispatcher({
  allowPrivateNetworks: true, // the demo receivers are on loopback
});
const api = createWebhookApi({
  dispatcher,
  basePath: '/api',
  tenant: (request) => TOKENS[request.headers.get('authorization')?.replace(/^Bearer /, '')],
});
const app = Fastify();
await app.register(fastifyPlugin(api));
const base = await app.listen({ port: 0, host: '127.0.0.1' });

// --- Two customers use the API with their own tokens. ---
async function call(token, method, path, body, type = 'application/json') {
  const response = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: response.status === 204 ? undefined : await response.json() };
}

for (const [customer, token] of [
  ['acme', 'acme-token'],
  ['globex', 'globex-token'],
]) {
  const { status, body } = await call(token, 'POST', '/webhooks', {
    name: `${customer} flags`,
    url: `${receiverUrl}/${customer}`,
    events: ['feature-*'],
    sign: true,
  });
  secrets[customer] = body.secret; // shown once, in this response only
  console.log(
    `${customer}: POST /webhooks -> ${status}, tenant ${body.tenant}, secret shown once: ${body.secret.length} chars`,
  );
}

const acmeList = await call('acme-token', 'GET', '/webhooks');
const globexList = await call('globex-token', 'GET', '/webhooks');
console.log(`acme sees ${acmeList.body.items.length} webhook, globex sees ${globexList.body.items.length}`);
const acmeId = acmeList.body.items[0].id;
console.log(
  'acme reads its webhook, secret hidden:',
  JSON.stringify({
    signed: acmeList.body.items[0].signed,
    secret: acmeList.body.items[0].secret ?? '(none)',
  }),
);

const spy = await call('globex-token', 'GET', `/webhooks/${acmeId}`);
console.log(`globex GET acme's webhook -> ${spy.status} ${spy.body.error.code}`);
const hijack = await call(
  'globex-token',
  'PATCH',
  `/webhooks/${acmeId}`,
  [{ op: 'replace', path: '/url', value: 'https://evil.example' }],
  'application/json-patch+json',
);
console.log(`globex PATCH acme's webhook -> ${hijack.status}`);

const fixed = await call(
  'acme-token',
  'PATCH',
  `/webhooks/${acmeId}`,
  [{ op: 'add', path: '/events/-', value: 'change-request-created' }],
  'application/json-patch+json',
);
console.log(
  `acme adds change-request-created -> ${fixed.status}, events ${JSON.stringify(fixed.body.events)}`,
);

// --- The host emits each customer's events with its tenant: they reach that customer only. ---
const event = (type, project) => ({
  id: `${project}-${type}`,
  type,
  createdBy: 'dev@example.com',
  createdAt: new Date(),
  featureName: 'checkout',
  project,
  environment: 'production',
});
await dispatcher.emit(event('feature-created', 'acme-app'), { tenant: 'acme' });
await dispatcher.emit(event('feature-archived', 'globex-app'), { tenant: 'globex' });
await dispatcher.emit(event('change-request-created', 'acme-app'), { tenant: 'acme' });
console.table(arrived);

const ok =
  arrived.length === 3 &&
  arrived.every((a) => a.signature === 'valid') &&
  spy.status === 404 &&
  hijack.status === 404;
console.log(ok ? 'Each customer saw and received only its own webhooks and events.' : 'UNEXPECTED RESULT');
await app.close();
await dispatcher.close();
receiver.close();
process.exitCode = ok ? 0 : 1;
