/**
 * The portal's script, served as `assets/portal.js` (a module; the page has no inline script). Plain DOM, no
 * framework: it builds elements with `el()` and sets text with `textContent`, never `innerHTML`, so nothing a
 * webhook or a receiver returns is ever parsed as markup. It talks only to the API it is mounted with, through URLs
 * relative to itself, and sends `x-requested-with: webhook-portal` on every request.
 *
 * This is the bundle's entry: `../bundle.ts` bundles it into one script at build time, inlined into the package.
 */
import { messageOf, statusOf } from './api.js';
import { loadDeliveries, recover, sendTest } from './deliveries.js';
import { $, area } from './dom.js';
import { openEditor, save } from './editor.js';
import { filterEvents, showSelectedEvents } from './events.js';
import { addFailedLink, hideFailed, openFailed } from './failed.js';
import { headerRow } from './form.js';
import { formatJson } from './json.js';
import { moreWebhooks, openList } from './list.js';
import { schedulePreview } from './preview.js';
import { cancelDelete, confirmDelete, copySecret, remove, rotate } from './secret.js';
import { announcementIsStale, showAlert, state } from './state.js';
import { checkStatements, gotoStatementsError } from './statements.js';

const DEFAULT_STATEMENTS = [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] }];

/** Shows the view the location's hash names: `#/`, `#/new`, `#/failed` or `#/webhooks/<id>`. */
async function route(): Promise<void> {
  showAlert('');
  // What was said before this navigation is stale; what was said for it ("Webhook created.") is not.
  if (announcementIsStale()) $('wp-status').textContent = '';
  const hash = location.hash.replace(/^#\/?/, '');
  hideFailed();
  try {
    if (hash === 'failed') await openFailed();
    else if (hash === 'new') await openEditor(undefined);
    else if (hash.startsWith('webhooks/'))
      await openEditor(decodeURIComponent(hash.slice('webhooks/'.length)));
    else await openList();
  } catch (error) {
    if (statusOf(error) === 404 && hash.startsWith('webhooks/')) {
      history.replaceState(null, '', '#/');
      await openList().catch(() => {});
      showAlert('Webhook not found: it may have been deleted.');
    } else {
      showAlert(messageOf(error));
    }
  }
}

/** Runs an action from a click, showing what it throws. */
const alerting = (action: () => Promise<unknown>) => () => {
  action().catch((error: unknown) => showAlert(messageOf(error)));
};

function onFormInput(event: Event): void {
  const target = event.target as HTMLElement;
  if (target.closest('#wp-headers')) state.headersDirty = true;
  if (target.id === 'wp-statements') {
    checkStatements();
    showSelectedEvents();
  }
  if (target.id === 'wp-events-text') showSelectedEvents();
  if (target.id === 'wp-events-filter') return;
  schedulePreview();
}

function onFormChange(event: Event): void {
  const target = event.target as HTMLElement;
  if (target.matches('[data-event]')) showSelectedEvents();
  if (target.matches('[data-event], #wp-sign, #wp-scheme')) schedulePreview();
}

function useDefaultPolicy(): void {
  area('wp-statements').value = '';
  checkStatements();
  showSelectedEvents();
  schedulePreview(0);
}

function addHeader(): void {
  const row = headerRow('', '');
  $('wp-headers-list').append(row);
  state.headersDirty = true;
  row.querySelector('input')?.focus();
}

function wire(): void {
  const on = (id: string, type: string, listener: (event: Event) => unknown) =>
    $(id).addEventListener(type, listener);
  on('wp-form', 'submit', save);
  on('wp-form', 'input', onFormInput);
  on('wp-form', 'change', onFormChange);
  on('wp-events-filter', 'input', filterEvents);
  on('wp-events-filter', 'keydown', (event) => {
    if ((event as KeyboardEvent).key === 'Enter') event.preventDefault();
  });
  on('wp-statements-default', 'click', useDefaultPolicy);
  on('wp-statements-goto', 'click', gotoStatementsError);
  on('wp-header-add', 'click', addHeader);
  on('wp-test', 'click', sendTest);
  on('wp-delete', 'click', confirmDelete);
  on('wp-confirm-cancel', 'click', cancelDelete);
  on('wp-confirm-delete', 'click', remove);
  on('wp-rotate', 'click', rotate);
  on('wp-secret-copy', 'click', copySecret);
  on('wp-recover', 'submit', recover);
  on(
    'wp-deliveries-refresh',
    'click',
    alerting(() => loadDeliveries()),
  );
  on(
    'wp-deliveries-status',
    'change',
    alerting(() => loadDeliveries()),
  );
  on(
    'wp-deliveries-more',
    'click',
    alerting(() => loadDeliveries(true)),
  );
  on('wp-webhooks-more', 'click', alerting(moreWebhooks));
  window.addEventListener('hashchange', () => {
    route().then(() => {
      if ($('wp-list-view').hidden === false && document.activeElement === document.body) {
        $('wp-list-heading').focus();
      }
    });
  });
}

wire();
addFailedLink();
area('wp-statements').placeholder = `Empty: the default policy, as\n${formatJson(DEFAULT_STATEMENTS)}`;
route();
