// Value descriptions for messages. A leaf with no imports, so a sub-entry uses them without bundling the error
// classes (those it takes from the root entry).

/** Formats a value for error messages: strings quoted, long values cut. */
export function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'bigint' || typeof value === 'symbol') text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * What was thrown, as text for a log line or a failure message. Never throws: a host's callback may throw a value
 * `String()` cannot convert (`Object.create(null)`, a Proxy that throws on every read).
 */
export function errorText(error: unknown): string {
  try {
    return String(error);
  } catch {
    return `[${kindOf(error)} that cannot be turned into text]`;
  }
}

/** The `message` of what was thrown when it has one, else `errorText(error)`. Never throws. */
export function errorMessage(error: unknown): string {
  try {
    const message = (error as { message?: unknown } | null | undefined)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // A getter or a Proxy that throws: described below.
  }
  return errorText(error);
}

/** A plain object (`{}` or `Object.create(null)`), not an array, a class instance or a Map. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The kind of a value for messages that must not repeat the value itself: `null`, `an array`, `an object`, `number`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
