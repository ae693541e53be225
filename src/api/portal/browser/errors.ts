import { ApiError } from './api.js';
import { $ } from './dom.js';
import { setStatementsError, statementsOffset } from './statements.js';

/** Shows an error the API gave for a field beside that field; returns the field, or undefined for another. */
export function fieldError(error: unknown): HTMLElement | undefined {
  const details = error instanceof ApiError ? error : undefined;
  const field = String(details?.field || '');
  const message = error instanceof Error ? error.message : String(error);
  if (field.startsWith('statements')) {
    // The API may give PolicyError's position as a field; the library's message always says it.
    const said = /at position (\d+)/.exec(message);
    const position =
      typeof details?.position === 'number' ? details.position : said ? Number(said[1]) : undefined;
    setStatementsError({ message, offset: statementsOffset(field, position) });
    return $('wp-statements');
  }
  const target = field === 'url' ? 'wp-url' : field === 'bodyTemplate' ? 'wp-template' : undefined;
  if (target) {
    const text = $(`${target}-error`);
    text.textContent = message;
    text.hidden = false;
    $(target).setAttribute('aria-invalid', 'true');
    return $(target);
  }
  return undefined;
}

/** A field error raised by the page itself (a missing URL). */
export const formError = (field: string, message: string): HTMLElement | undefined =>
  fieldError(new ApiError(400, { message, field }));

export function clearErrors(): void {
  for (const [field, message] of [
    ['wp-url', 'wp-url-error'],
    ['wp-template', 'wp-template-error'],
  ] as const) {
    $(field).removeAttribute('aria-invalid');
    $(message).hidden = true;
    $(message).textContent = '';
  }
  setStatementsError(undefined);
  $('wp-form-error').hidden = true;
}
