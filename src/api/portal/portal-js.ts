/**
 * The portal's script, served as `assets/portal.js` (a module; the page has no inline script). Plain DOM, no
 * framework: it builds elements with `el()` and sets text with `textContent`, never `innerHTML`, so nothing a
 * webhook or a receiver returns is ever parsed as markup. It talks only to the API it is mounted with, through URLs
 * relative to itself, and sends `x-requested-with: webhook-portal` on every request.
 *
 * Kept as a string so the package ships it without a build step of its own; test/portal*.test.ts runs it in a
 * real Chromium. (No backticks or `${` inside: it is a template literal.)
 */
export const PORTAL_JS = String.raw`'use strict';
const BASE = new URL('../', import.meta.url);
const DEFAULT_STATEMENTS = [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] }];
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body.error === 'object' && body.error !== null ? body.error : body || {};
    super(typeof detail.message === 'string' ? detail.message : 'Request failed with status ' + status);
    this.status = status;
    this.code = detail.code;
    this.field = detail.field;
    this.position = detail.position;
    this.line = detail.line;
    this.column = detail.column;
  }
}

async function api(method, path, body, contentType) {
  const headers = { accept: 'application/json', 'x-requested-with': 'webhook-portal' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = contentType || 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, BASE), init);
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached.' });
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data && typeof data === 'object' ? data : { message: text || response.statusText });
  }
  return data;
}

const itemsOf = (data) => (Array.isArray(data) ? data : data && Array.isArray(data.items) ? data.items : []);
const path = (...parts) => parts.map((part) => encodeURIComponent(part)).join('/');

// ---------------------------------------------------------------- JSON with positions

/**
 * Parses JSON and reports where it breaks (0-based offset, line, column). Also records where each value starts,
 * by path ([0].resources[1]), so an error the server reports for a field can be shown at its character.
 */
function parseJson(text) {
  let i = 0;
  const starts = new Map();
  const fail = (message, at) => {
    const error = new Error(message);
    error.offset = at === undefined ? i : at;
    throw error;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const describe = () => (i >= text.length ? 'the end of the text' : "'" + text[i] + "'");
  function value(at) {
    ws();
    starts.set(at, i);
    const c = text[i];
    if (c === '{') return object(at);
    if (c === '[') return array(at);
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [word, result] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return result;
      }
    }
    return fail('Expected a value, got ' + describe());
  }
  function object(at) {
    i++;
    const result = {};
    ws();
    if (text[i] === '}') {
      i++;
      return result;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail('Expected a property name in double quotes, got ' + describe());
      const key = string();
      ws();
      if (text[i] !== ':') fail("Expected ':' after the property name, got " + describe());
      i++;
      result[key] = value(at + '.' + key);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return result;
      }
      fail("Expected ',' or '}' after the property value, got " + describe());
    }
  }
  function array(at) {
    i++;
    const result = [];
    ws();
    if (text[i] === ']') {
      i++;
      return result;
    }
    for (;;) {
      result.push(value(at + '[' + result.length + ']'));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return result;
      }
      fail("Expected ',' or ']' after the array item, got " + describe());
    }
  }
  function string() {
    const start = i;
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return JSON.parse(text.slice(start, i));
      }
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('Invalid \\u escape', i);
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else fail('Invalid escape in string', i);
      } else if (c < ' ') fail('Control character in string (use \\n, \\t, ...)', i);
      else i++;
    }
    return fail('Unterminated string', start);
  }
  function number() {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!match) fail('Invalid number');
    i += match[0].length;
    return Number(match[0]);
  }
  const result = value('');
  ws();
  if (i < text.length) fail('Unexpected ' + describe() + ' after the JSON value');
  return { value: result, starts };
}

/** Statements as LaunchDarkly's docs show them: one property a line, lists of strings on one line. */
function formatJson(value, indent) {
  const pad = indent || '';
  const inner = pad + '  ';
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) {
      return '[' + value.map((item) => JSON.stringify(item)).join(', ') + ']';
    }
    return '[\n' + value.map((item) => inner + formatJson(item, inner)).join(',\n') + '\n' + pad + ']';
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return (
      '{\n' +
      entries.map(([key, item]) => inner + JSON.stringify(key) + ': ' + formatJson(item, inner)).join(',\n') +
      '\n' +
      pad +
      '}'
    );
  }
  return JSON.stringify(value);
}

function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The line holding the offset and a caret under it. */
function excerpt(text, offset) {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end === -1) end = text.length;
  const line = text.slice(start, end).replace(/\t/g, ' ');
  return line + '\n' + ' '.repeat(Math.max(0, offset - start)) + '^';
}

// ---------------------------------------------------------------- state and routing

const state = { webhooks: [], catalog: undefined, current: undefined, secret: undefined, headersDirty: false };

let announcedAt = 0;

function announce(message) {
  announcedAt = Date.now();
  const status = $('wp-status');
  status.textContent = '';
  // A changed text is announced; the same text twice in a row needs the empty step in between.
  setTimeout(() => {
    status.textContent = message;
  }, 50);
}

function showAlert(message) {
  const alert = $('wp-alert');
  alert.textContent = message || '';
  alert.hidden = !message;
}

async function route() {
  showAlert('');
  // What was said before this navigation is stale; what was said for it ("Webhook created.") is not.
  if (Date.now() - announcedAt > 1000) $('wp-status').textContent = '';
  const hash = location.hash.replace(/^#\/?/, '');
  try {
    if (hash === 'new') await openEditor(undefined);
    else if (hash.startsWith('webhooks/')) await openEditor(decodeURIComponent(hash.slice('webhooks/'.length)));
    else await openList();
  } catch (error) {
    if (error.status === 404 && hash.startsWith('webhooks/')) {
      history.replaceState(null, '', '#/');
      await openList().catch(() => {});
      showAlert('Webhook not found: it may have been deleted.');
    } else {
      showAlert(error.message);
    }
  }
}

// ---------------------------------------------------------------- list

async function openList() {
  $('wp-edit-view').hidden = true;
  $('wp-list-view').hidden = false;
  state.current = undefined;
  document.title = $('wp-title').textContent;
  const data = await api('GET', 'webhooks?limit=100');
  state.webhooks = itemsOf(data);
  state.webhooksCursor = data && data.nextCursor;
  renderList();
}

async function moreWebhooks() {
  const data = await api('GET', 'webhooks?limit=100&cursor=' + encodeURIComponent(state.webhooksCursor));
  const first = state.webhooks.length;
  state.webhooks.push(...itemsOf(data));
  state.webhooksCursor = data && data.nextCursor;
  renderList();
  const next = $('wp-webhooks').children[first];
  if (next) next.querySelector('a').focus();
}

function healthOf(webhook) {
  if (webhook.disabled) {
    const reason = webhook.disabled.reason === 'gone' ? 'the receiver answered 410 Gone' : webhook.disabled.reason;
    const since = webhook.disabled.at ? ' since ' + new Date(webhook.disabled.at).toLocaleString() : '';
    return { kind: 'disabled', text: 'Disabled: ' + reason + since };
  }
  const health = webhook.health;
  if (webhook.failing || (health && (health.failing || health.state === 'failing' || health.status === 'failing'))) {
    return { kind: 'failing', text: 'Failing' };
  }
  return undefined;
}

function switchButton(webhook) {
  const label = webhook.name || webhook.url;
  const button = el(
    'button',
    { type: 'button', role: 'switch', class: 'wp-switch', 'aria-checked': String(webhook.on), 'aria-label': 'On/Off: ' + label },
    el('span', { class: 'wp-switch-track', 'aria-hidden': 'true' }),
    el('span', { 'aria-hidden': 'true' }, webhook.on ? 'On' : 'Off'),
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const updated = await api('PATCH', path('webhooks', webhook.id), { on: !webhook.on }, 'application/merge-patch+json');
      Object.assign(webhook, updated);
      if (updated.disabled === undefined) delete webhook.disabled;
      renderList();
      announce((webhook.name || 'Webhook') + ' switched ' + (webhook.on ? 'on' : 'off') + '.');
      const again = document.querySelector('[data-switch="' + CSS.escape(webhook.id) + '"]');
      if (again) again.focus();
    } catch (error) {
      button.disabled = false;
      showAlert(error.message);
    }
  });
  button.dataset.switch = webhook.id;
  return button;
}

function renderList() {
  const list = $('wp-webhooks');
  list.replaceChildren();
  $('wp-empty').hidden = state.webhooks.length > 0;
  $('wp-webhooks-more').hidden = !state.webhooksCursor;
  for (const webhook of state.webhooks) {
    const health = healthOf(webhook);
    list.append(
      el(
        'li',
        { class: 'wp-card', 'data-webhook': webhook.id },
        el(
          'div',
          {},
          el('h3', {}, el('a', { href: '#/webhooks/' + encodeURIComponent(webhook.id) }, webhook.name || webhook.url)),
          el('p', { class: 'wp-card-url' }, webhook.url),
        ),
        el(
          'div',
          { class: 'wp-card-side' },
          health ? el('span', { class: 'wp-badge wp-badge-' + health.kind }, health.text) : undefined,
          switchButton(webhook),
        ),
      ),
    );
  }
}

// ---------------------------------------------------------------- editor

async function loadCatalog() {
  if (state.catalog !== undefined) return;
  try {
    state.catalog = itemsOf(await api('GET', 'event-types')).map((item) =>
      typeof item === 'string'
        ? { type: item }
        : { type: item.type || item.name || item.id, description: item.description, deprecated: item.deprecated },
    );
  } catch (error) {
    if (error.status !== 404) throw error;
    state.catalog = null;
  }
}

function renderEvents(selected) {
  const list = $('wp-events-list');
  list.replaceChildren();
  const text = $('wp-events-text');
  const hasCatalog = Array.isArray(state.catalog) && state.catalog.length > 0;
  $('wp-events-filter').hidden = !hasCatalog;
  $('wp-events-filter').value = '';
  text.hidden = hasCatalog;
  $('wp-events-text-label').hidden = hasCatalog;
  if (!hasCatalog) {
    text.value = selected.join(', ');
    showSelectedEvents();
    return;
  }
  const known = new Set(state.catalog.map((item) => item.type));
  const extra = selected.filter((type) => !known.has(type)).map((type) => ({ type }));
  // The selected types first, so a saved selection is in view in a catalog of a hundred types or more.
  const chosen = state.catalog.filter((item) => selected.includes(item.type));
  const rest = state.catalog.filter((item) => !selected.includes(item.type));
  for (const item of [...extra, ...chosen, ...rest]) {
    const id = 'wp-event-' + item.type.replace(/[^A-Za-z0-9_-]/g, '_');
    list.append(
      el(
        'label',
        { class: 'wp-event', for: id, 'data-type': item.type },
        el('input', { type: 'checkbox', id, value: item.type, checked: selected.includes(item.type), 'data-event': '' }),
        el(
          'span',
          {},
          item.type,
          item.deprecated ? ' (deprecated)' : '',
          item.description ? el('small', {}, item.description) : undefined,
        ),
      ),
    );
  }
  showSelectedEvents();
}

function showSelectedEvents() {
  const types = selectedEvents();
  const byDefault = $('wp-statements').value.trim() === '';
  $('wp-events-selected').textContent = types.length
    ? 'Selected: ' + types.join(', ')
    : byDefault
      ? 'None selected: the default policy decides (see the policy above).'
      : 'None selected: every type.';
  showPolicy(types.length > 0, byDefault);
}

/** Says which filter the webhook has: its own statements, the event types alone, or the default policy. */
function showPolicy(typed, byDefault) {
  $('wp-policy-summary').textContent = !byDefault
    ? 'Own statements: a change passes when they allow one of its accesses; an event without resources never does.'
    : typed
      ? 'No statements: the selected event types alone decide.'
      : 'Default policy: every event without resources (no accesses, no project), and flag changes in production (proj/*:env/production:flag/*).';
}

function selectedEvents() {
  if ($('wp-events-text').hidden) {
    return [...document.querySelectorAll('[data-event]')].filter((box) => box.checked).map((box) => box.value);
  }
  return $('wp-events-text')
    .value.split(/[\s,]+/)
    .filter(Boolean);
}

function headerRow(name, value) {
  const n = $('wp-headers-list').children.length + 1;
  const row = el(
    'div',
    { class: 'wp-header-row' },
    el('label', { class: 'wp-sr', for: 'wp-header-name-' + n }, 'Header ' + n + ' name'),
    el('input', { id: 'wp-header-name-' + n, class: 'wp-header-name', 'data-header-name': '', placeholder: 'Authorization', value: name, autocomplete: 'off', spellcheck: 'false' }),
    el('label', { class: 'wp-sr', for: 'wp-header-value-' + n }, 'Header ' + n + ' value'),
    el('input', { id: 'wp-header-value-' + n, class: 'wp-header-value', 'data-header-value': '', placeholder: 'Value', value, autocomplete: 'off', spellcheck: 'false' }),
  );
  const remove = el('button', { type: 'button', class: 'wp-header-remove', 'aria-label': 'Remove header ' + n }, 'Remove');
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    state.headersDirty = true;
    schedulePreview();
    (next ? next.querySelector('input') : $('wp-header-add')).focus();
  });
  row.append(remove);
  return row;
}

function headersOf() {
  const headers = {};
  for (const row of $('wp-headers-list').children) {
    const name = row.querySelector('[data-header-name]').value.trim();
    if (name) headers[name] = row.querySelector('[data-header-value]').value;
  }
  return headers;
}

function isSigned(webhook) {
  return Boolean(webhook && (webhook.sign || webhook.signed || webhook.secret || webhook.hasSecret));
}

async function openEditor(id) {
  await loadCatalog();
  const webhook = id === undefined ? undefined : await api('GET', path('webhooks', id));
  state.current = webhook;
  state.headersDirty = false;
  $('wp-list-view').hidden = true;
  $('wp-edit-view').hidden = false;
  const heading = webhook ? 'Edit webhook' : 'Create a webhook';
  $('wp-edit-heading').textContent = heading;
  document.title = heading + ' · ' + $('wp-title').textContent;
  clearErrors();
  $('wp-name').value = webhook ? webhook.name || '' : '';
  $('wp-url').value = webhook ? webhook.url : '';
  $('wp-sign').checked = webhook ? isSigned(webhook) : true;
  $('wp-secret-field').hidden = !webhook || !isSigned(webhook);
  // Empty is the default policy, as the API reads it; the placeholder and the summary show what it is.
  $('wp-statements').value = webhook && webhook.statements ? formatJson(webhook.statements) : '';
  $('wp-scheme').value = (webhook && webhook.signatureScheme) || 'launchdarkly';
  renderEvents(webhook && Array.isArray(webhook.events) ? webhook.events : []);
  $('wp-content-type').value = webhook ? webhook.contentType || '' : 'application/json';
  $('wp-template').value = webhook ? webhook.bodyTemplate || '' : '';
  $('wp-headers-list').replaceChildren();
  for (const [name, value] of Object.entries((webhook && webhook.headers) || {})) {
    $('wp-headers-list').append(headerRow(name, value));
  }
  for (const button of ['wp-test', 'wp-delete']) $(button).hidden = !webhook;
  $('wp-deliveries').hidden = !webhook;
  $('wp-test-result').hidden = true;
  const secret = state.secret && webhook && state.secret.id === webhook.id ? state.secret.value : undefined;
  state.secret = undefined;
  showSecret(secret);
  checkStatements();
  schedulePreview(0);
  if (webhook) {
    $('wp-deliveries-status').value = '';
    const since = new Date(Date.now() - 24 * 3600 * 1000);
    since.setSeconds(0, 0);
    $('wp-recover-since').value = new Date(since.getTime() - since.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    // The settings stay usable when the delivery log cannot be read.
    await loadDeliveries().catch((error) => {
      $('wp-deliveries-list').replaceChildren();
      $('wp-deliveries-empty').hidden = false;
      $('wp-deliveries-empty').textContent = 'The deliveries could not be loaded: ' + error.message;
    });
  }
  if (secret) $('wp-secret-value').focus();
  else $('wp-edit-heading').focus();
}

function showSecret(secret) {
  $('wp-secret').hidden = !secret;
  $('wp-secret-value').value = secret || '';
}

function clearErrors() {
  for (const [field, message] of [
    ['wp-url', 'wp-url-error'],
    ['wp-template', 'wp-template-error'],
  ]) {
    $(field).removeAttribute('aria-invalid');
    $(message).hidden = true;
    $(message).textContent = '';
  }
  setStatementsError(undefined);
  $('wp-form-error').hidden = true;
}

// The last statements error: { message, offset } or undefined.
let statementsError;

function setStatementsError(error) {
  statementsError = error;
  const box = $('wp-statements-error');
  const area = $('wp-statements');
  if (!error) {
    box.hidden = true;
    area.removeAttribute('aria-invalid');
    return;
  }
  const text = area.value;
  const { line, column } = lineColumn(text, error.offset);
  $('wp-statements-message').textContent = 'Line ' + line + ', column ' + column + ': ' + error.message;
  $('wp-statements-where').textContent = excerpt(text, error.offset);
  box.dataset.offset = String(error.offset);
  box.hidden = false;
  area.setAttribute('aria-invalid', 'true');
}

/** Parses the statements as typed; undefined when empty. Shows a syntax error at its character. */
/** Parses the statements as typed: { ok, value (undefined when empty), starts } or { ok: false, error }. */
function parseStatements() {
  const text = $('wp-statements').value;
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    const parsed = parseJson(text);
    if (!Array.isArray(parsed.value)) {
      return { ok: false, error: { message: 'Expected an array of policy statements', offset: parsed.starts.get('') || 0 } };
    }
    return { ok: true, value: parsed.value, starts: parsed.starts };
  } catch (error) {
    return { ok: false, error: { message: error.message, offset: Math.min(error.offset, text.length) } };
  }
}

/**
 * Shows the syntax error of the statements as typed, or clears the message. Runs as the statements are edited
 * only: an error the server gave for the text stays until the text changes.
 */
function checkStatements() {
  const parsed = parseStatements();
  setStatementsError(parsed.ok ? undefined : parsed.error);
  return parsed;
}

/** Where a server-reported error (field statements[0].resources[0], position) points in the text. */
function statementsOffset(field, position) {
  const parsed = parseStatements();
  if (!parsed.ok || !parsed.starts) return 0;
  let at = String(field).replace(/^statements/, '');
  while (at !== '' && !parsed.starts.has(at)) at = at.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  const start = parsed.starts.get(at) || 0;
  const text = $('wp-statements').value;
  if (typeof position === 'number' && text[start] === '"') return Math.min(start + 1 + position, text.length);
  return start;
}

function fieldError(error) {
  const field = String(error.field || '');
  if (field.startsWith('statements')) {
    // The API may give PolicyError's position as a field; the library's message always says it.
    const said = /at position (\d+)/.exec(error.message);
    const position = typeof error.position === 'number' ? error.position : said ? Number(said[1]) : undefined;
    setStatementsError({ message: error.message, offset: statementsOffset(field, position) });
    return $('wp-statements');
  }
  const target = field === 'url' ? 'wp-url' : field === 'bodyTemplate' ? 'wp-template' : undefined;
  if (target) {
    const message = $(target + '-error');
    message.textContent = error.message;
    message.hidden = false;
    $(target).setAttribute('aria-invalid', 'true');
    return $(target);
  }
  return undefined;
}

function formInput() {
  const name = $('wp-name').value.trim();
  const contentType = $('wp-content-type').value.trim();
  const template = $('wp-template').value;
  const statements = parseStatements();
  const input = { url: $('wp-url').value.trim(), sign: $('wp-sign').checked, signatureScheme: $('wp-scheme').value };
  if (name) input.name = name;
  if (statements.ok && statements.value !== undefined) input.statements = statements.value;
  const events = selectedEvents();
  if (events.length) input.events = events;
  if (contentType) input.contentType = contentType;
  if (template) input.bodyTemplate = template;
  const headers = headersOf();
  if (Object.keys(headers).length) input.headers = headers;
  return { input, statementsOk: statements.ok };
}

/** A merge patch from the saved webhook to the form: cleared fields become null. */
function patchFrom(webhook, input) {
  const patch = {};
  for (const key of ['url', 'name', 'signatureScheme', 'statements', 'events', 'contentType', 'bodyTemplate']) {
    const now = input[key];
    const before = webhook[key];
    if (JSON.stringify(now) === JSON.stringify(before)) continue;
    if (key === 'events' && now === undefined && (!before || before.length === 0)) continue;
    patch[key] = now === undefined ? null : now;
  }
  // The API's representation says signed; a new scheme gets a secret that fits it.
  if (input.sign !== isSigned(webhook)) patch.signed = input.sign;
  // Saved header values may come back masked: send headers only when they were edited.
  if (state.headersDirty) patch.headers = input.headers || null;
  return patch;
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const { input, statementsOk } = formInput();
  if (!input.url) {
    fieldError({ field: 'url', message: 'Enter the URL the webhook posts to.' }).focus();
    return;
  }
  if (!statementsOk) {
    checkStatements();
    $('wp-statements').focus();
    return;
  }
  const button = $('wp-save');
  button.disabled = true;
  try {
    const current = state.current;
    if (current) {
      const updated = await api('PATCH', path('webhooks', current.id), patchFrom(current, input), 'application/merge-patch+json');
      state.current = updated;
      state.headersDirty = false;
      $('wp-secret-field').hidden = !isSigned(updated);
      if (updated.secret) showSecret(updated.secret);
      announce('Settings saved.');
    } else {
      const created = await api('POST', 'webhooks', input);
      if (created.secret) state.secret = { id: created.id, value: created.secret };
      location.hash = '#/webhooks/' + encodeURIComponent(created.id);
      announce('Webhook created.');
    }
  } catch (error) {
    const target = fieldError(error);
    const summary = $('wp-form-error');
    summary.textContent = 'Not saved: ' + error.message;
    summary.hidden = false;
    (target || summary).focus();
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- preview

let previewTimer;
let previewSeq = 0;

function schedulePreview(delay) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, delay === undefined ? 300 : delay);
}

function formatRequest(request) {
  const lines = [(request.method || 'POST') + ' ' + request.url];
  for (const [name, value] of Object.entries(request.headers || {})) lines.push(name + ': ' + value);
  return lines.join('\n') + '\n\n' + (request.body || '');
}

async function preview() {
  const seq = ++previewSeq;
  const out = $('wp-preview');
  const { input, statementsOk } = formInput();
  if (!statementsOk) {
    out.textContent = 'Fix the policy statements to see the request.';
    return;
  }
  if (!input.url) {
    out.textContent = 'Enter a URL to see the request.';
    return;
  }
  try {
    const body = state.current ? Object.assign({ id: state.current.id }, input) : input;
    const request = await api('POST', 'webhooks/preview', body);
    if (seq !== previewSeq) return;
    $('wp-template-error').hidden = true;
    $('wp-template').removeAttribute('aria-invalid');
    out.textContent = formatRequest(request);
  } catch (error) {
    if (seq !== previewSeq) return;
    if (error.status === 404 || error.status === 405) {
      out.textContent = 'This server offers no preview.';
      return;
    }
    const field = String(error.field || '');
    if (field.startsWith('statements') || field === 'bodyTemplate') fieldError(error);
    out.textContent = 'No preview: ' + error.message;
  }
}

// ---------------------------------------------------------------- test, deliveries, recover

function describeResult(result) {
  const parts = [result.ok ? 'Delivered' : result.outcome === 'skipped' ? 'Skipped' : 'Failed'];
  if (result.status !== undefined) parts.push('HTTP ' + result.status);
  if (result.error && result.error.message) parts.push(result.error.message);
  if (result.reason) parts.push(result.reason);
  if (typeof result.durationMs === 'number') parts.push(Math.round(result.durationMs) + ' ms');
  if (result.attempts) parts.push(result.attempts + (result.attempts === 1 ? ' attempt' : ' attempts'));
  return parts.join(' · ');
}

async function sendTest() {
  const webhook = state.current;
  const button = $('wp-test');
  button.disabled = true;
  const output = $('wp-test-output');
  $('wp-test-result').hidden = false;
  output.replaceChildren(el('p', {}, 'Sending…'));
  try {
    const result = await api('POST', path('webhooks', webhook.id, 'test'));
    const records = await loadDeliveries();
    const record = records.find((item) => item.deliveryId === result.deliveryId);
    const attempt = record && record.attempts[0];
    output.replaceChildren(
      el('p', { class: result.ok ? 'wp-badge wp-badge-ok' : 'wp-badge wp-badge-failed' }, describeResult(result)),
      attempt && attempt.response ? el('h4', {}, 'Response') : undefined,
      attempt && attempt.response ? el('pre', { class: 'wp-pre', tabindex: '0' }, formatResponse(attempt)) : undefined,
    );
    announce('Test: ' + describeResult(result));
  } catch (error) {
    output.replaceChildren(el('p', { class: 'wp-error' }, error.message));
  } finally {
    button.disabled = false;
  }
}

function recordOf(item) {
  if (Array.isArray(item.attempts)) return item;
  return {
    deliveryId: item.deliveryId,
    eventId: item.eventId,
    eventType: item.eventType,
    status: item.ok ? 'delivered' : 'failed',
    createdAt: item.startedAt,
    attempts: [item],
  };
}

function formatResponse(attempt) {
  const lines = [];
  if (attempt.status !== undefined) lines.push('HTTP ' + attempt.status);
  if (attempt.error) lines.push('Error ' + attempt.error.code + ': ' + attempt.error.message);
  const response = attempt.response || {};
  for (const [name, value] of Object.entries(response.headers || {})) {
    if (value !== undefined) lines.push(name + ': ' + (Array.isArray(value) ? value.join(', ') : value));
  }
  return lines.join('\n') + (response.body ? '\n\n' + response.body : '');
}

function deliveriesUrl(cursor) {
  const query = new URLSearchParams({ limit: '20' });
  if ($('wp-deliveries-status').value) query.set('status', $('wp-deliveries-status').value);
  if (cursor) query.set('cursor', cursor);
  return path('webhooks', state.current.id, 'deliveries') + '?' + query;
}

/** Loads the newest deliveries, or with more = true the next page after those shown. */
async function loadDeliveries(more) {
  if (!state.current) return [];
  const data = await api('GET', deliveriesUrl(more ? state.deliveriesCursor : undefined));
  const records = itemsOf(data).map(recordOf);
  state.deliveriesCursor = data && data.nextCursor;
  const list = $('wp-deliveries-list');
  const first = list.children.length;
  if (!more) list.replaceChildren();
  for (const record of records) list.append(deliveryItem(record));
  $('wp-deliveries-empty').textContent = 'No deliveries.';
  $('wp-deliveries-empty').hidden = list.children.length > 0;
  $('wp-deliveries-more').hidden = !state.deliveriesCursor;
  if (more && list.children[first]) list.children[first].querySelector('button').focus();
  return records;
}

function deliveryItem(record) {
  const latest = record.attempts[0] || {};
  const ok = record.status === 'delivered';
  const when = record.updatedAt || record.createdAt || latest.startedAt;
  const redeliver = el('button', { type: 'button', 'data-redeliver': record.deliveryId }, 'Redeliver');
  redeliver.addEventListener('click', async () => {
    redeliver.disabled = true;
    try {
      const result = await api('POST', path('deliveries', record.deliveryId, 'redeliver'));
      announce('Redelivered: ' + describeResult(result));
      await loadDeliveries();
      const again = document.querySelector('[data-redeliver="' + CSS.escape(record.deliveryId) + '"]');
      if (again) again.focus();
    } catch (error) {
      redeliver.disabled = false;
      showAlert(error.message);
    }
  });
  const request = latest.request || {};
  const requestText = formatRequest({ method: 'POST', url: request.url, headers: request.headers, body: request.body });
  return el(
    'li',
    { 'data-delivery': record.deliveryId, 'data-status': record.status },
    el(
      'div',
      { class: 'wp-log-head' },
      el('span', { class: 'wp-badge ' + (ok ? 'wp-badge-ok' : 'wp-badge-failed') }, ok ? 'Delivered' : 'Failed'),
      latest.status !== undefined ? el('span', {}, 'HTTP ' + latest.status) : latest.error ? el('span', {}, latest.error.code) : undefined,
      typeof latest.durationMs === 'number' ? el('span', {}, Math.round(latest.durationMs) + ' ms') : undefined,
      el('span', { 'data-delivery-event': '' }, 'Event ', el('code', {}, record.eventType || 'no type'), ' ', el('code', {}, record.eventId || '')),
      when ? el('time', { datetime: when }, new Date(when).toLocaleString()) : undefined,
      el('span', { class: 'wp-muted' }, record.attempts.length + (record.attempts.length === 1 ? ' attempt' : ' attempts')),
      redeliver,
    ),
    el(
      'details',
      {},
      el('summary', {}, 'Request and response'),
      el('h4', {}, 'Request'),
      el('pre', { class: 'wp-pre', tabindex: '0' }, requestText + (request.bodyTruncated ? '\n[truncated]' : '')),
      el('h4', {}, 'Response'),
      el('pre', { class: 'wp-pre', tabindex: '0' }, formatResponse(latest) || 'No response'),
      latest.altered && latest.altered.length > 0
        ? el(
            'p',
            { class: 'wp-muted', 'data-altered': '' },
            'Not kept as received: ' + latest.altered.join(', ') +
              ' (characters the log cannot store are shown as \uFFFD; a field that is missing was dropped because the log refused the full record).',
          )
        : undefined,
    ),
  );
}

async function recover(event) {
  event.preventDefault();
  const value = $('wp-recover-since').value;
  if (!value) {
    $('wp-recover-since').focus();
    return;
  }
  const button = $('wp-recover-submit');
  button.disabled = true;
  try {
    const since = new Date(value).toISOString();
    const answer = await api('POST', path('webhooks', state.current.id, 'recover'), { since });
    const queued = answer && typeof answer.queued === 'number' ? answer.queued : 0;
    // The re-sends go on through the webhook's lane: Refresh shows them progressing.
    announce(queued + ' ' + (queued === 1 ? 'delivery' : 'deliveries') + ' queued for re-sending. Refresh to follow them.');
    await loadDeliveries();
  } catch (error) {
    showAlert(error.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- secret and delete

async function rotate() {
  const button = $('wp-rotate');
  button.disabled = true;
  try {
    const updated = await api('POST', path('webhooks', state.current.id, 'rotate-secret'));
    state.current = updated;
    showSecret(updated.secret);
    $('wp-secret-value').focus();
    announce('New secret created. Copy it now: it is shown only once.');
  } catch (error) {
    showAlert(error.message);
  } finally {
    button.disabled = false;
  }
}

async function copySecret() {
  const input = $('wp-secret-value');
  try {
    await navigator.clipboard.writeText(input.value);
    announce('Secret copied.');
  } catch {
    input.select();
    announce('Select the secret and copy it with your keyboard.');
  }
}

function confirmDelete() {
  const dialog = $('wp-confirm');
  dialog.showModal();
  $('wp-confirm-cancel').focus();
}

async function remove() {
  const dialog = $('wp-confirm');
  const button = $('wp-confirm-delete');
  button.disabled = true;
  try {
    await api('DELETE', path('webhooks', state.current.id));
    dialog.close();
    location.hash = '#/';
    announce('Webhook deleted.');
  } catch (error) {
    dialog.close();
    showAlert(error.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- wiring

$('wp-form').addEventListener('submit', save);
$('wp-form').addEventListener('input', (event) => {
  if (event.target.closest('#wp-headers')) state.headersDirty = true;
  if (event.target.id === 'wp-statements') {
    checkStatements();
    showSelectedEvents();
  }
  if (event.target.id === 'wp-events-text') showSelectedEvents();
  if (event.target.id === 'wp-events-filter') return;
  schedulePreview();
});
$('wp-form').addEventListener('change', (event) => {
  if (event.target.matches('[data-event]')) showSelectedEvents();
  if (event.target.matches('[data-event], #wp-sign, #wp-scheme')) schedulePreview();
});
$('wp-events-filter').addEventListener('input', () => {
  const needle = $('wp-events-filter').value.trim().toLowerCase();
  for (const label of $('wp-events-list').children) label.hidden = needle !== '' && !label.textContent.toLowerCase().includes(needle);
});
$('wp-events-filter').addEventListener('keydown', (event) => {
  if (event.key === 'Enter') event.preventDefault();
});
$('wp-statements-default').addEventListener('click', () => {
  $('wp-statements').value = '';
  checkStatements();
  showSelectedEvents();
  schedulePreview(0);
});
$('wp-statements-goto').addEventListener('click', () => {
  const area = $('wp-statements');
  const offset = Number($('wp-statements-error').dataset.offset || 0);
  area.focus();
  area.setSelectionRange(offset, Math.min(offset + 1, area.value.length));
});
$('wp-header-add').addEventListener('click', () => {
  const row = headerRow('', '');
  $('wp-headers-list').append(row);
  state.headersDirty = true;
  row.querySelector('input').focus();
});
$('wp-test').addEventListener('click', sendTest);
$('wp-delete').addEventListener('click', confirmDelete);
$('wp-confirm-cancel').addEventListener('click', () => {
  $('wp-confirm').close();
  $('wp-delete').focus();
});
$('wp-confirm-delete').addEventListener('click', remove);
$('wp-rotate').addEventListener('click', rotate);
$('wp-secret-copy').addEventListener('click', copySecret);
$('wp-recover').addEventListener('submit', recover);
$('wp-deliveries-refresh').addEventListener('click', () => loadDeliveries().catch((error) => showAlert(error.message)));
$('wp-deliveries-status').addEventListener('change', () => loadDeliveries().catch((error) => showAlert(error.message)));
$('wp-deliveries-more').addEventListener('click', () => loadDeliveries(true).catch((error) => showAlert(error.message)));
$('wp-webhooks-more').addEventListener('click', () => moreWebhooks().catch((error) => showAlert(error.message)));
window.addEventListener('hashchange', () => {
  route().then(() => {
    if ($('wp-list-view').hidden === false && document.activeElement === document.body) $('wp-list-heading').focus();
  });
});
$('wp-statements').placeholder = 'Empty: the default policy, as\n' + formatJson(DEFAULT_STATEMENTS);
route();
`;
