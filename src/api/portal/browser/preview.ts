import { ApiError, api, messageOf, statusOf } from './api.js';
import { $, area } from './dom.js';
import { fieldError } from './errors.js';
import { formInput } from './form.js';
import { state } from './state.js';
import type { RequestView } from './types.js';

let previewTimer: ReturnType<typeof setTimeout> | undefined;
let previewSeq = 0;

/** Previews the request after `delay` ms without another change (the form calls it on every input). */
export function schedulePreview(delay = 300): void {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, delay);
}

export function formatRequest(request: RequestView): string {
  const lines = [`${request.method || 'POST'} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers || {})) lines.push(`${name}: ${value}`);
  return `${lines.join('\n')}\n\n${request.body || ''}`;
}

/** Shows the exact request a sample event would send, as the server renders it; only the latest answer counts. */
async function preview(): Promise<void> {
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
    const body = state.current ? { id: state.current.id, ...input } : input;
    const request: RequestView = await api('POST', 'webhooks/preview', body);
    if (seq !== previewSeq) return;
    $('wp-template-error').hidden = true;
    area('wp-template').removeAttribute('aria-invalid');
    out.textContent = formatRequest(request);
  } catch (error) {
    if (seq !== previewSeq) return;
    const status = statusOf(error);
    if (status === 404 || status === 405) {
      out.textContent = 'This server offers no preview.';
      return;
    }
    const field = error instanceof ApiError ? String(error.field || '') : '';
    if (field.startsWith('statements') || field === 'bodyTemplate') fieldError(error);
    out.textContent = `No preview: ${messageOf(error)}`;
  }
}
