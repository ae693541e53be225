// Slack incoming webhook: a body template with `text` and Block Kit `blocks`, fed an Unleash event and a
// LaunchDarkly change-history entry full of quotes and newlines. A local server plays Slack and checks the body.
// Run: `npm run build && node examples/slack.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createWebhookDispatcher } from 'webhook-dispatcher';

// Slack's side: https://hooks.slack.com/services/... answers 200 "ok", or 400 "invalid_payload".
const received = [];
const slack = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const payload = parse(body);
    const valid =
      typeof payload?.text === 'string' && payload.blocks?.every((block) => typeof block.type === 'string');
    received.push(payload);
    res.writeHead(valid ? 200 : 400).end(valid ? 'ok' : 'invalid_payload');
  });
});
function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined; // the template produced invalid JSON: answer 400, as Slack would
  }
}
await once(slack.listen(0, '127.0.0.1'), 'listening');

// {{x}} is JSON-escaped because the content type is JSON. `{{#a}}...{{/a}}{{^a}}...{{/a}}` picks the event shape:
// LaunchDarkly entries have a `title`, Unleash events a `type`. (That is JSON escaping; Slack's mrkdwn gives
// & < > meanings of its own, so `<ob@example.com>` below becomes a mailto link.)
const bodyTemplate = `{
  "text": "{{#event.title}}{{event.title}}{{/event.title}}{{^event.title}}{{event.createdBy}}: {{event.type}} {{event.featureName}}{{/event.title}}",
  "blocks": [
    { "type": "header", "text": { "type": "plain_text", "text": "Flag {{event.featureName}}{{event.name}} changed" } },
    { "type": "section", "text": { "type": "mrkdwn",
      "text": "{{#event.title}}{{event.title}}{{/event.title}}{{^event.title}}*{{event.type}}* by {{event.createdBy}} in \`{{event.project}}/{{event.environment}}\`{{/event.title}}" } },
    { "type": "context", "elements": [{ "type": "mrkdwn", "text": "sent by {{webhook.name}}{{#event.createdAt}} at {{event.createdAt}}{{/event.createdAt}}" }] }
  ]
}`;

const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true }); // the receiver is on 127.0.0.1
// No `statements` and no `events`: the default policy, flag changes in production.
await dispatcher.webhooks.create({
  name: 'Slack #flags',
  url: `http://127.0.0.1:${slack.address().port}/services/T0/B0/x`,
  bodyTemplate,
});

const unleashEvent = {
  id: 27333,
  type: 'feature-environment-enabled',
  createdBy: `o'brien "OB"\n<ob@example.com>`,
  createdAt: new Date('2024-10-03T11:09:53.225Z'),
  featureName: 'checkout-v2',
  project: 'web',
  environment: 'production',
  data: null,
  preData: null,
  tags: [],
};
const launchDarklyEvent = {
  _id: '6710b8f3a1b2c3d4e5f60718',
  date: 1729123867537,
  accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/new-search' }],
  kind: 'flag',
  name: 'new search "beta"',
  description: '* Turned the flag on\n',
  shortDescription: '',
  title: 'Michelle "M" Doe turned on the flag new search in `Production`\n(ticket FLAG-42)',
};

const results = [...(await dispatcher.emit(unleashEvent)), ...(await dispatcher.emit(launchDarklyEvent))];
for (const payload of received) console.log(JSON.stringify(payload, null, 2));
for (const result of results)
  console.log(result.outcome, result.status ?? result.error?.code, result.eventId);

await dispatcher.close();
slack.close();
const ok =
  results.length === 2 &&
  results.every((result) => result.ok) &&
  received[1].text === launchDarklyEvent.title;
process.exitCode = ok ? 0 : 1;
