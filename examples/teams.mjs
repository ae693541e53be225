// Microsoft Teams: a Workflows "when a Teams webhook request is received" URL (or a classic incoming webhook)
// takes a message with an Adaptive Card attachment. A local server plays Teams and checks the card's shape.
// Run: `npm run build && node examples/teams.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createWebhookDispatcher } from 'webhook-dispatcher';

const received = [];
const teams = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    let card;
    try {
      const message = JSON.parse(body);
      const attachment = message.type === 'message' ? message.attachments?.[0] : undefined;
      if (attachment?.contentType === 'application/vnd.microsoft.card.adaptive') card = attachment.content;
    } catch {} // invalid JSON: answered with 400 below
    received.push(card); // Workflows answers 202 Accepted; a malformed card is refused
    res.writeHead(card?.type === 'AdaptiveCard' && Array.isArray(card.body) ? 202 : 400).end();
  });
});
await once(teams.listen(0, '127.0.0.1'), 'listening');

// `{{x}}` is JSON-escaped (the content type is JSON), so quotes and newlines in event values stay inside strings.
// `{{#a}}...{{/a}}{{^a}}...{{/a}}` picks the event shape: LaunchDarkly entries have a `title`, Unleash events not.
const bodyTemplate = `{
  "type": "message",
  "attachments": [{
    "contentType": "application/vnd.microsoft.card.adaptive",
    "contentUrl": null,
    "content": {
      "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
      "type": "AdaptiveCard", "version": "1.4",
      "body": [
        { "type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
          "text": "{{#event.title}}{{event.title}}{{/event.title}}{{^event.title}}{{event.type}}: {{event.featureName}}{{/event.title}}" },
        { "type": "FactSet", "facts": [
          { "title": "Flag", "value": "{{event.featureName}}{{event.name}}" },
          { "title": "By", "value": "{{event.createdBy}}{{event.member.email}}" },
          { "title": "Where", "value": "{{event.project}}{{#event.accesses}}{{resource}}{{/event.accesses}}" },
          { "title": "Details", "value": "{{event.data.description}}{{event.description}}" }
        ] }
      ]
    }
  }]
}`;

const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true }); // the receiver is on 127.0.0.1
await dispatcher.webhooks.create({
  name: 'Teams: Releases channel',
  url: `http://127.0.0.1:${teams.address().port}/workflows/abc/triggers/manual/paths/invoke?sig=x`,
  bodyTemplate,
  // Production flag changes from LaunchDarkly, and every Unleash event of the `web` project.
  statements: [
    { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
    { effect: 'allow', actions: ['feature-*'], resources: ['proj/web:env/*:flag/*', 'proj/web:flag/*'] },
  ],
});

const unleashEvent = {
  id: 27334,
  type: 'feature-created',
  createdBy: 'Ann "the flagger" O\'Neil',
  createdAt: new Date('2024-10-03T11:09:53.225Z'),
  featureName: 'checkout-v2',
  project: 'web',
  data: { name: 'checkout-v2', description: 'line one\nline "two" \\ done', type: 'release' },
};
const launchDarklyEvent = {
  _id: '6710b8f3a1b2c3d4e5f60719',
  date: 1729123867537,
  accesses: [{ action: 'updateRules', resource: 'proj/default:env/production:flag/new-search' }],
  kind: 'flag',
  name: 'new search',
  member: { email: 'michelle@example.com' },
  description: '* Added rule 1 "beta users"\n* Removed C:\\old\\rule',
  title: 'Michelle "M" Doe updated the rules of new search in `Production`:\n* rule 1 "beta users"',
};

const results = [...(await dispatcher.emit(unleashEvent)), ...(await dispatcher.emit(launchDarklyEvent))];
for (const card of received) console.log(card?.body[0].text, card?.body[1].facts);
console.log(results.map((result) => `${result.outcome} ${result.status ?? result.error?.code}`));

await dispatcher.close();
teams.close();
const ok = results.every((r) => r.ok) && received[1]?.body[0].text === launchDarklyEvent.title;
process.exitCode = results.length === 2 && ok ? 0 : 1;
