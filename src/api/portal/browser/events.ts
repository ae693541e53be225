import { api, itemsOf, statusOf } from './api.js';
import { $, area, el, field } from './dom.js';
import { state } from './state.js';
import type { CatalogItem } from './types.js';

/** Loads the event catalog once; a server without one (404) gets the comma-separated text field. */
export async function loadCatalog(): Promise<void> {
  if (state.catalog !== undefined) return;
  try {
    state.catalog = itemsOf<string | Record<string, unknown>>(await api('GET', 'event-types')).map(
      (item): CatalogItem =>
        typeof item === 'string'
          ? { type: item }
          : {
              type: String(item.type || item.name || item.id),
              description: item.description as string | undefined,
              deprecated: item.deprecated as boolean | undefined,
            },
    );
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    state.catalog = null;
  }
}

function eventBox(item: CatalogItem, selected: string[]): HTMLElement {
  const id = `wp-event-${item.type.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return el(
    'label',
    { class: 'wp-event', for: id, 'data-type': item.type },
    el('input', {
      type: 'checkbox',
      id,
      value: item.type,
      checked: selected.includes(item.type),
      'data-event': '',
    }),
    el(
      'span',
      {},
      item.type,
      item.deprecated ? ' (deprecated)' : '',
      item.description ? el('small', {}, item.description) : undefined,
    ),
  );
}

/** The event types: checkboxes over the catalog (the selected first), or a text field without one. */
export function renderEvents(selected: string[]): void {
  const list = $('wp-events-list');
  list.replaceChildren();
  const text = field('wp-events-text');
  const catalog = Array.isArray(state.catalog) && state.catalog.length > 0 ? state.catalog : undefined;
  $('wp-events-filter').hidden = !catalog;
  field('wp-events-filter').value = '';
  text.hidden = catalog !== undefined;
  $('wp-events-text-label').hidden = catalog !== undefined;
  if (!catalog) {
    text.value = selected.join(', ');
    showSelectedEvents();
    return;
  }
  const known = new Set(catalog.map((item) => item.type));
  const extra = selected.filter((type) => !known.has(type)).map((type) => ({ type }));
  // The selected types first, so a saved selection is in view in a catalog of a hundred types or more.
  const chosen = catalog.filter((item) => selected.includes(item.type));
  const rest = catalog.filter((item) => !selected.includes(item.type));
  list.append(...[...extra, ...chosen, ...rest].map((item) => eventBox(item, selected)));
  showSelectedEvents();
}

/** Hides the catalog's types that do not contain the filter's text. */
export function filterEvents(): void {
  const needle = field('wp-events-filter').value.trim().toLowerCase();
  for (const label of $('wp-events-list').children) {
    (label as HTMLElement).hidden =
      needle !== '' && !(label.textContent ?? '').toLowerCase().includes(needle);
  }
}

export function showSelectedEvents(): void {
  const types = selectedEvents();
  const byDefault = area('wp-statements').value.trim() === '';
  $('wp-events-selected').textContent = types.length
    ? `Selected: ${types.join(', ')}`
    : byDefault
      ? 'None selected: the default policy decides (see the policy above).'
      : 'None selected: every type.';
  showPolicy(types.length > 0, byDefault);
}

/** Says which filter the webhook has: its own statements, the event types alone, or the default policy. */
function showPolicy(typed: boolean, byDefault: boolean): void {
  $('wp-policy-summary').textContent = !byDefault
    ? 'Own statements: a change passes when they allow one of its accesses; an event without resources never does.'
    : typed
      ? 'No statements: the selected event types alone decide.'
      : 'Default policy: every event without resources (no accesses, no project), and flag changes in production (proj/*:env/production:flag/*).';
}

export function selectedEvents(): string[] {
  const text = field('wp-events-text');
  if (text.hidden) {
    return [...document.querySelectorAll<HTMLInputElement>('[data-event]')]
      .filter((box) => box.checked)
      .map((box) => box.value);
  }
  return text.value.split(/[\s,]+/).filter(Boolean);
}
