const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/**
 * The portal's page. Static markup only: no inline script or style (the CSP forbids both); the script fills it in.
 * Every URL is relative, so the page works under any mount path.
 */
export function portalHtml(options: { title: string; stylesheets: string[] }): string {
  const title = escapeHtml(options.title);
  const themes = options.stylesheets
    .map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/portal.css">
${themes}
<script type="module" src="assets/portal.js"></script>
</head>
<body>
<a class="wp-skip" href="#wp-main">Skip to content</a>
<header class="wp-header"><h1 id="wp-title">${title}</h1></header>
<main id="wp-main" class="wp-main" tabindex="-1">
<p id="wp-status" class="wp-status" role="status" aria-live="polite"></p>
<div id="wp-alert" class="wp-alert" role="alert" hidden></div>

<section id="wp-list-view" aria-labelledby="wp-list-heading">
  <div class="wp-bar">
    <h2 id="wp-list-heading" tabindex="-1">Your webhooks</h2>
    <a class="wp-button wp-primary" href="#/new" id="wp-add">Add webhook</a>
  </div>
  <p id="wp-empty" class="wp-muted" hidden>No webhooks yet. Add one to get notified of changes.</p>
  <ul id="wp-webhooks" class="wp-cards" aria-labelledby="wp-list-heading"></ul>
  <button type="button" id="wp-webhooks-more" class="wp-more" hidden>Show more webhooks</button>
</section>

<section id="wp-edit-view" aria-labelledby="wp-edit-heading" hidden>
  <div class="wp-bar">
    <h2 id="wp-edit-heading" tabindex="-1">Create a webhook</h2>
    <a class="wp-button" href="#/">Back to webhooks</a>
  </div>

  <section id="wp-secret" class="wp-panel wp-secret" aria-labelledby="wp-secret-heading" hidden>
    <h3 id="wp-secret-heading">Signing secret</h3>
    <p>Copy this secret now: it is shown only once. Verify the <code>X-LD-Signature</code> header with it.</p>
    <div class="wp-row">
      <label class="wp-sr" for="wp-secret-value">Secret</label>
      <input id="wp-secret-value" class="wp-mono" readonly autocomplete="off" spellcheck="false">
      <button type="button" id="wp-secret-copy">Copy</button>
    </div>
  </section>

  <form id="wp-form" class="wp-form" novalidate>
    <div class="wp-field">
      <label for="wp-name">Name</label>
      <input id="wp-name" name="name" autocomplete="off" maxlength="200">
    </div>
    <div class="wp-field">
      <label for="wp-url">URL <span class="wp-muted">(required)</span></label>
      <input id="wp-url" name="url" type="url" required inputmode="url" autocomplete="off" spellcheck="false"
        placeholder="https://example.com/hooks" aria-describedby="wp-url-error">
      <p id="wp-url-error" class="wp-error" hidden></p>
    </div>
    <div class="wp-field wp-check">
      <input id="wp-sign" name="sign" type="checkbox">
      <label for="wp-sign">Sign this webhook</label>
    </div>
    <div class="wp-field">
      <label for="wp-scheme">Signature scheme</label>
      <select id="wp-scheme" name="signatureScheme" aria-describedby="wp-scheme-help">
        <option value="launchdarkly">X-LD-Signature (LaunchDarkly: hex HMAC-SHA256)</option>
        <option value="standard">Standard Webhooks (webhook-signature)</option>
        <option value="both">Both</option>
      </select>
      <p class="wp-muted" id="wp-scheme-help">The headers a signed webhook sends.</p>
    </div>
    <div class="wp-field" id="wp-secret-field" hidden>
      <span class="wp-label" id="wp-secret-label">Secret</span>
      <p class="wp-muted" id="wp-secret-note">This webhook is signed. Secrets are shown only when created.</p>
      <button type="button" id="wp-rotate" aria-describedby="wp-secret-note">Rotate secret</button>
    </div>

    <div class="wp-field">
      <label for="wp-statements">Policy statements</label>
      <p class="wp-muted" id="wp-statements-help">JSON array of LaunchDarkly policy statements. Empty: with no event
        type selected, the default policy (every event without resources, and flag changes in production:
        <code>proj/*:env/production:flag/*</code>); with event types, the types alone.</p>
      <textarea id="wp-statements" name="statements" rows="8" class="wp-mono" spellcheck="false"
        autocomplete="off" autocapitalize="off"
        aria-describedby="wp-statements-help wp-policy-summary wp-statements-message"></textarea>
      <p id="wp-policy-summary" class="wp-selected" aria-live="polite"></p>
      <div id="wp-statements-error" class="wp-error" hidden>
        <p id="wp-statements-message"></p>
        <pre id="wp-statements-where" class="wp-where" aria-hidden="true"></pre>
        <button type="button" id="wp-statements-goto">Go to error</button>
      </div>
      <div class="wp-row">
        <button type="button" id="wp-statements-default">Use default policy</button>
      </div>
    </div>

    <fieldset class="wp-field wp-events" id="wp-events" aria-describedby="wp-events-help wp-events-selected">
      <legend>Events</legend>
      <p class="wp-muted" id="wp-events-help">Send only these event types.</p>
      <p id="wp-events-selected" class="wp-selected"></p>
      <label class="wp-sr" for="wp-events-filter">Filter event types</label>
      <input id="wp-events-filter" type="search" placeholder="Filter event types" autocomplete="off">
      <div id="wp-events-list" class="wp-events-list"></div>
      <label for="wp-events-text" id="wp-events-text-label" hidden>Event types (comma-separated)</label>
      <input id="wp-events-text" name="events" autocomplete="off" hidden>
    </fieldset>

    <div class="wp-field">
      <label for="wp-content-type">Content-Type</label>
      <input id="wp-content-type" name="contentType" autocomplete="off" spellcheck="false"
        placeholder="application/json">
    </div>
    <div class="wp-field">
      <label for="wp-template">Body template</label>
      <p class="wp-muted" id="wp-template-help">Optional Mustache template over <code>event</code>,
        <code>eventJson</code>, <code>eventMarkdown</code> and <code>webhook</code>. Empty: the event as JSON.</p>
      <textarea id="wp-template" name="bodyTemplate" rows="6" class="wp-mono" spellcheck="false"
        autocomplete="off" autocapitalize="off" aria-describedby="wp-template-help wp-template-error"></textarea>
      <p id="wp-template-error" class="wp-error" hidden></p>
    </div>

    <fieldset class="wp-field" id="wp-headers">
      <legend>Headers</legend>
      <div id="wp-headers-list" class="wp-headers"></div>
      <button type="button" id="wp-header-add">Add header</button>
    </fieldset>

    <section class="wp-field" aria-labelledby="wp-preview-heading">
      <h3 id="wp-preview-heading">Request preview</h3>
      <p class="wp-muted">The exact request a sample event would send.</p>
      <pre id="wp-preview" class="wp-pre" tabindex="0" role="region" aria-labelledby="wp-preview-heading"></pre>
    </section>

    <p id="wp-form-error" class="wp-error" role="alert" hidden></p>
    <div class="wp-actions">
      <button type="submit" class="wp-primary" id="wp-save">Save settings</button>
      <button type="button" id="wp-test" hidden>Send test</button>
      <button type="button" class="wp-danger" id="wp-delete" hidden>Delete webhook</button>
    </div>
  </form>

  <section id="wp-test-result" class="wp-panel" aria-labelledby="wp-test-heading" hidden>
    <h3 id="wp-test-heading">Test result</h3>
    <div id="wp-test-output"></div>
  </section>

  <section id="wp-deliveries" class="wp-panel" aria-labelledby="wp-deliveries-heading" hidden>
    <div class="wp-bar">
      <h3 id="wp-deliveries-heading">Deliveries</h3>
      <button type="button" id="wp-deliveries-refresh">Refresh</button>
    </div>
    <form id="wp-recover" class="wp-row wp-recover">
      <label for="wp-recover-since">Failed deliveries since</label>
      <input id="wp-recover-since" type="datetime-local" required>
      <button type="submit" id="wp-recover-submit">Recover failed since</button>
    </form>
    <div class="wp-row wp-filter">
      <label for="wp-deliveries-status">Show</label>
      <select id="wp-deliveries-status">
        <option value="">All deliveries</option>
        <option value="failed">Failed only</option>
        <option value="delivered">Delivered only</option>
      </select>
    </div>
    <p id="wp-deliveries-empty" class="wp-muted" hidden>No deliveries.</p>
    <ul id="wp-deliveries-list" class="wp-log"></ul>
    <button type="button" id="wp-deliveries-more" class="wp-more" hidden>Show older deliveries</button>
  </section>
</section>

<dialog id="wp-confirm" class="wp-dialog" aria-labelledby="wp-confirm-heading" aria-describedby="wp-confirm-text">
  <h2 id="wp-confirm-heading">Delete webhook?</h2>
  <p id="wp-confirm-text">It stops receiving events at once. This cannot be undone.</p>
  <div class="wp-actions">
    <button type="button" id="wp-confirm-cancel">Cancel</button>
    <button type="button" class="wp-danger" id="wp-confirm-delete">Delete</button>
  </div>
</dialog>
</main>
</body>
</html>
`;
}
