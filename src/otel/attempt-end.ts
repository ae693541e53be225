import type { AttemptEnd } from '../delivery/instrumentation.js';

/** An attempt's end as the spans and metrics read it: checked fields only (the hook's argument is not trusted). */
export interface CheckedEnd {
  ok: boolean;
  status?: number;
  /** The `error.type` of the HTTP conventions: the status code for an HTTP error, else the failure code. */
  errorType?: string;
  /** The dispatcher's failure code (`HTTP_STATUS`, `TIMEOUT`, `ECONNREFUSED`, ...). */
  code?: string;
  message?: string;
  durationMs?: number;
  retry: boolean;
}

/** Codes end up in metric attributes: a long or odd one must not become a new time series per value. */
const CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_MESSAGE_LENGTH = 1024;

export function checkEnd(outcome: AttemptEnd | undefined): CheckedEnd {
  const value = (typeof outcome === 'object' && outcome !== null ? outcome : {}) as Partial<AttemptEnd>;
  const ok = value.ok === true;
  const status =
    typeof value.status === 'number' &&
    Number.isInteger(value.status) &&
    value.status >= 100 &&
    value.status <= 999
      ? value.status
      : undefined;
  const error = typeof value.error === 'object' && value.error !== null ? value.error : undefined;
  const code = typeof error?.code === 'string' ? (CODE.test(error.code) ? error.code : '_OTHER') : undefined;
  const durationMs =
    typeof value.durationMs === 'number' && Number.isFinite(value.durationMs) && value.durationMs >= 0
      ? value.durationMs
      : undefined;
  const checked: CheckedEnd = { ok, status, code, durationMs, retry: value.retry === true };
  if (!ok) {
    checked.errorType =
      status !== undefined && status >= 400 && (code === undefined || code === 'HTTP_STATUS')
        ? String(status)
        : (code ?? (status !== undefined ? String(status) : '_OTHER'));
    if (typeof error?.message === 'string') checked.message = error.message.slice(0, MAX_MESSAGE_LENGTH);
  }
  return checked;
}
