import type { Logger } from './types.js';

/**
 * How a logger's methods take their arguments.
 *
 * - `'meta-first'`: `logger.info(meta, message)`, as pino (Fastify's `app.log`) and bunyan do. The fields of `meta`
 *   become properties of the JSON log line.
 * - `'message-first'`: `logger.info(message, meta)`, as winston, log4js and most hand-written loggers do.
 * - `'line'`: `logger.info(line)`, one string per call: the message, a space and `meta` as JSON (bounded to a few
 *   KB). For `console` and anything else that prints its arguments as they are.
 * - `'auto'`: `'meta-first'` for pino and bunyan instances, `'line'` for a `Console`, `'message-first'` otherwise.
 */
export type LoggerStyle = 'auto' | 'meta-first' | 'message-first' | 'line';

export interface ToLoggerOptions {
  /**
   * How to call the logger. Set it when auto-detection cannot tell (a wrapper around pino, say).
   * @default 'auto'
   */
  style?: LoggerStyle;
}

type Level = keyof Logger;
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
/** Longest `meta` JSON a `'line'` call writes, in characters. */
const MAX_LINE_META = 4096;
/** Longest string value written by {@link safeJson}, in characters; longer ones end with `…`. */
const MAX_STRING = 1024;
const ADAPTED = Symbol.for('webhook-dispatcher.logger');

const noop = (): void => {};

/**
 * Adapts whatever logger the host has to the internal `Logger` shape `(message, meta)`:
 * console-style loggers, pino and bunyan (`(meta, message)`), or nothing (silent).
 *
 * The returned logger never throws: a method that throws, is missing or returns a rejected promise is ignored.
 * Methods are looked up on every call and called with the logger as `this` (pino swaps its level methods when
 * `level` changes). Adapting an adapted logger returns it as it is.
 *
 * Detection (`style: 'auto'`): pino is an object with `child()`, `bindings()` and a numeric `levelVal`; bunyan one
 * with `child()`, a `levels()` function and a `streams` array; a console one with `log()`, `table()` and `group()`.
 * Winston has `child()` and `levels` too but takes `(message, meta)`, which is why `child` alone is not enough.
 *
 * @example
 * const logger = toLogger(app.log);            // Fastify: pino, called (meta, message)
 * logger.warn('webhook delivery failed', { webhookId, code, status });
 */
export function toLogger(logger: Partial<Logger> | null | undefined, options: ToLoggerOptions = {}): Logger {
  if (
    logger === null ||
    logger === undefined ||
    (typeof logger !== 'object' && typeof logger !== 'function')
  ) {
    return mark({ debug: noop, info: noop, warn: noop, error: noop });
  }
  if ((logger as { [ADAPTED]?: boolean })[ADAPTED] === true) return logger as Logger;
  const style = options.style === undefined || options.style === 'auto' ? detectStyle(logger) : options.style;
  const target = logger as Record<string, unknown>;
  const adapted = {} as Logger;
  for (const level of LEVELS) {
    adapted[level] = (message, meta) => call(target, level, style, message, meta);
  }
  return mark(adapted);
}

function mark(logger: Logger): Logger {
  return Object.defineProperty(logger, ADAPTED, { value: true });
}

function detectStyle(logger: object): Exclude<LoggerStyle, 'auto'> {
  try {
    const l = logger as Record<string, unknown>;
    if (typeof l.child === 'function') {
      if (typeof l.bindings === 'function' && typeof l.levelVal === 'number') return 'meta-first'; // pino
      if (typeof l.levels === 'function' && Array.isArray(l.streams)) return 'meta-first'; // bunyan
    }
    // Any Console (the global one, `new Console(stream)`, a test runner's): it prints objects over several lines.
    if (typeof l.log === 'function' && typeof l.table === 'function' && typeof l.group === 'function') {
      return 'line';
    }
  } catch {
    // A getter that throws: fall through to the common shape.
  }
  return 'message-first';
}

function call(
  target: Record<string, unknown>,
  level: Level,
  style: Exclude<LoggerStyle, 'auto'>,
  message: string,
  meta: Record<string, unknown> | undefined,
): void {
  try {
    const method = target[level];
    if (typeof method !== 'function') return;
    let returned: unknown;
    if (style === 'meta-first') returned = method.call(target, meta ?? {}, message);
    else if (style === 'line') {
      returned = method.call(
        target,
        meta === undefined ? message : `${message} ${safeJson(meta, MAX_LINE_META)}`,
      );
    } else returned = method.call(target, message, meta);
    if (returned !== null && typeof returned === 'object' && 'then' in returned) {
      const then = (returned as { then?: unknown }).then;
      if (typeof then === 'function') then.call(returned, undefined, noop);
    }
  } catch {
    // Logging must never change what the caller was doing.
  }
}

/**
 * JSON of `value` that cannot throw and stays under `maxLength` characters (plus a short marker): cycles become
 * `"[Circular]"`, strings over 1024 characters are cut, BigInts become strings, Errors `{ name, message, code }`, functions and symbols are left out, and the
 * walk stops once the budget is spent, so a huge value costs no more than the part written.
 */
export function safeJson(value: unknown, maxLength: number): string {
  const out: string[] = [];
  let length = 0;
  let truncated = false;
  const seen = new Set<object>();

  const push = (text: string): boolean => {
    if (length + text.length > maxLength) {
      truncated = true;
      return false;
    }
    out.push(text);
    length += text.length;
    return true;
  };

  const write = (item: unknown): boolean => {
    if (truncated) return false;
    switch (typeof item) {
      case 'string':
        return push(JSON.stringify(item.length > MAX_STRING ? `${item.slice(0, MAX_STRING)}…` : item));
      case 'number':
        return push(Number.isFinite(item) ? String(item) : 'null');
      case 'boolean':
        return push(String(item));
      case 'bigint':
        return push(`"${item}"`);
      case 'undefined':
      case 'function':
      case 'symbol':
        return push('null');
    }
    if (item === null) return push('null');
    const object = item as object;
    if (seen.has(object)) return push('"[Circular]"');
    seen.add(object);
    try {
      if (object instanceof Error) {
        const code = (object as { code?: unknown }).code;
        return write({ name: object.name, message: object.message, ...(code !== undefined && { code }) });
      }
      if (object instanceof Date) return write(Number.isNaN(object.getTime()) ? null : object.toISOString());
      if (Array.isArray(object)) {
        if (!push('[')) return false;
        for (let i = 0; i < object.length; i++) {
          if ((i > 0 && !push(',')) || !write(object[i])) return false;
        }
        return push(']');
      }
      if (!push('{')) return false;
      let first = true;
      for (const key of Object.keys(object)) {
        const field = (object as Record<string, unknown>)[key];
        if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
        if (!push(`${first ? '' : ','}${JSON.stringify(key)}:`) || !write(field)) return false;
        first = false;
      }
      return push('}');
    } finally {
      seen.delete(object);
    }
  };

  try {
    write(value);
  } catch {
    truncated = true; // a getter threw
  }
  const text = out.join('');
  return truncated ? `${text}…(truncated)` : text;
}
