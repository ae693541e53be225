import { $, area } from './dom.js';
import { excerpt, JsonSyntaxError, lineColumn, parseJson } from './json.js';

/** A statements error to show: its message and the offset of its character in the text. */
export interface StatementsError {
  message: string;
  offset: number;
}

export type ParsedStatements =
  | { ok: true; value: unknown[] | undefined; starts?: Map<string, number> }
  | { ok: false; error: StatementsError };

export function setStatementsError(error: StatementsError | undefined): void {
  const box = $('wp-statements-error');
  const text = area('wp-statements');
  if (!error) {
    box.hidden = true;
    text.removeAttribute('aria-invalid');
    return;
  }
  const { line, column } = lineColumn(text.value, error.offset);
  $('wp-statements-message').textContent = `Line ${line}, column ${column}: ${error.message}`;
  $('wp-statements-where').textContent = excerpt(text.value, error.offset);
  box.dataset.offset = String(error.offset);
  box.hidden = false;
  text.setAttribute('aria-invalid', 'true');
}

/** Parses the statements as typed: the array (undefined when empty) and where each value starts, or the error. */
export function parseStatements(): ParsedStatements {
  const text = area('wp-statements').value;
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    const parsed = parseJson(text);
    if (!Array.isArray(parsed.value)) {
      const offset = parsed.starts.get('') || 0;
      return { ok: false, error: { message: 'Expected an array of policy statements', offset } };
    }
    return { ok: true, value: parsed.value, starts: parsed.starts };
  } catch (error) {
    const offset = error instanceof JsonSyntaxError ? Math.min(error.offset, text.length) : 0;
    return { ok: false, error: { message: error instanceof Error ? error.message : String(error), offset } };
  }
}

/**
 * Shows the syntax error of the statements as typed, or clears the message. Runs as the statements are edited
 * only: an error the server gave for the text stays until the text changes.
 */
export function checkStatements(): ParsedStatements {
  const parsed = parseStatements();
  setStatementsError(parsed.ok ? undefined : parsed.error);
  return parsed;
}

/** Where a server-reported error (field statements[0].resources[0], position) points in the text. */
export function statementsOffset(field: string, position: number | undefined): number {
  const parsed = parseStatements();
  if (!parsed.ok || !parsed.starts) return 0;
  const { starts } = parsed;
  let at = field.replace(/^statements/, '');
  while (at !== '' && !starts.has(at)) at = at.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  const start = starts.get(at) || 0;
  const text = area('wp-statements').value;
  if (typeof position === 'number' && text[start] === '"') return Math.min(start + 1 + position, text.length);
  return start;
}

/** Moves the caret to the character the shown error is at. */
export function gotoStatementsError(): void {
  const text = area('wp-statements');
  const offset = Number($('wp-statements-error').dataset.offset || 0);
  text.focus();
  text.setSelectionRange(offset, Math.min(offset + 1, text.value.length));
}
