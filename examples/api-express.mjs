// An Express service exposing the webhooks admin API to two customers (tenants) from its session middleware,
// mounted before any body parser. Shows pagination, merge patch, the delivery log and a test send.
// Run: `npm run build && node examples/api-express.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import express from 'express';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { createWebhookApi, toNodeHandler } from 'webhook-dispatcher/api';

const receiver = createServer((_req, res) => res.writeHead(204).end());
await once(receiver.listen(0, '127.0.0.1'), 'listening');
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true });
const app = express();
// The host's own authentication (a session, passport, ...): here a header set by a login proxy.
const ACCOUNTS = { 'user-1': 'acme', 'user-2': 'globex' };
app.use((req, _res, next) => {
  req.account = ACCOUNTS[req.get('x-user') ?? ''];
  next();
});
const api = createWebhookApi({
  dispatcher,
  basePath: '/settings/webhooks-api',
  // The second argument is Express's own `req`, with what the host's middleware put on it.
  tenant: (_request, req) => req.account,
  // The webhook portal for the signed-in customer at /settings/webhooks-api/ (see docs/admin-api.md, "Webhook portal").
  portal: true,
});
app.use(toNodeHandler(api)); // before express.json(): the API reads (and bounds) the raw body itself
app.use(express.json());
app.get('/health', (_req, res) => res.json({ ok: true }));
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${server.address().port}/settings/webhooks-api`;

const call = async (user, method, path, body, type = 'application/json') => {
  const response = await fetch(`${base}${path}`, {
    method,
    // An empty POST (test, rotate-secret) declares JSON too: the API refuses what a cross-site form could send.
    headers: { 'x-user': user, ...(body === undefined && method !== 'POST' ? {} : { 'content-type': type }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: response.status === 204 ? undefined : await response.json() };
};

for (let i = 1; i <= 3; i++)
  await call('user-1', 'POST', '/webhooks', { url: `${receiverUrl}/acme/${i}`, events: ['*'] });
await call('user-2', 'POST', '/webhooks', { url: `${receiverUrl}/globex`, events: ['*'] });

const first = await call('user-1', 'GET', '/webhooks?limit=2');
const second = await call(
  'user-1',
  'GET',
  `/webhooks?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
);
console.log(
  `acme pages: ${first.body.items.length} + ${second.body.items.length} webhooks, next cursor after the last page: ${second.body.nextCursor ?? 'none'}`,
);
const globex = await call('user-2', 'GET', '/webhooks');
console.log(`globex sees ${globex.body.items.length} webhook (${globex.body.items[0].url})`);

const id = first.body.items[0].id;
const renamed = await call(
  'user-1',
  'PATCH',
  `/webhooks/${id}`,
  { name: 'Renamed by merge patch', tags: ['ops'] },
  'application/merge-patch+json',
);
console.log(
  `acme merge patch -> ${renamed.status}: ${renamed.body.name} ${JSON.stringify(renamed.body.tags)}`,
);
const test = await call('user-1', 'POST', `/webhooks/${id}/test`);
console.log(`acme test send -> ${test.body.outcome} (HTTP ${test.body.status})`);
const log = await call('user-1', 'GET', `/webhooks/${id}/deliveries`);
console.log(`acme delivery log: ${log.body.items.length} delivery, status ${log.body.items[0].status}`);
const other = await call('user-2', 'GET', `/webhooks/${id}/deliveries`);
console.log(`globex reading acme's delivery log -> ${other.status}`);
const anonymous = await call('nobody', 'GET', '/webhooks');
console.log(`no account -> ${anonymous.status} ${anonymous.body.error.code}`);
const page = await fetch(`${base}/`, { headers: { 'x-user': 'user-1' } });
console.log(
  `acme's portal page: GET /settings/webhooks-api/ -> ${page.status} ${page.headers.get('content-type')}, CSP ${page.headers.get('content-security-policy') ? 'set' : 'MISSING'}`,
);
const health = await fetch(`${base.replace('/settings/webhooks-api', '')}/health`);
console.log(`the host's own routes still answer: /health -> ${health.status}`);

const ok =
  second.body.items.length === 1 &&
  globex.body.items.length === 1 &&
  log.body.items.length === 1 &&
  other.status === 404 &&
  test.body.ok &&
  page.status === 200;
console.log(ok ? 'Two tenants, one handler, no leaks.' : 'UNEXPECTED RESULT');
server.closeAllConnections();
server.close();
receiver.close();
await dispatcher.close();
process.exitCode = ok ? 0 : 1;
