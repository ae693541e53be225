import { within } from '../core/deadline.js';
import type { Logger, RateLimitStore } from '../core/types.js';

export interface SharedRateLimitOptions {
  limits: RateLimitStore;
  /** Deadline of each `take`: past it, this start is limited by the process alone. */
  timeoutMs: number;
  /** Where what goes wrong is reported (the dispatcher's logger). */
  logger: Pick<Logger, 'error'>;
}

/** What a lane is told: `0` start now, a number of ms to wait before asking again, or limit it in this process. */
export type RateAnswer = number | 'local';

/** After a failure, the store is asked again only after this long (each lane falls back to its own count meanwhile). */
const RETRY_AFTER_MS = 5_000;
/** The longest wait a store may ask for: a window is one second. */
const MAX_WAIT_MS = 1_000;

/** A store's answer, checked: a store is not trusted to hand back a number of ms. */
function checkedWait(wait: unknown): number {
  if (typeof wait !== 'number' || !(wait >= 0)) {
    throw new Error(`store.rateLimits.take() answered ${String(wait)}, not a number of ms`);
  }
  return Math.min(wait, MAX_WAIT_MS);
}

/**
 * `rateLimit` across processes (`WebhookStore.rateLimits`): before each start of a rate-limited webhook, its lane takes
 * the webhook's next slot from the store (slots are evenly spaced for all processes: `rateSpacingMicros`).
 *
 * A store that fails, hangs or answers nonsense must not stop deliveries: its answer is awaited at most
 * `timeoutMs`, and then (and for the next `RETRY_AFTER_MS`) lanes limit their webhook's rate in this process only,
 * as they do for stores without `rateLimits`. That is logged once per outage.
 */
export class SharedRateLimit {
  private downUntil = 0;

  constructor(private readonly o: SharedRateLimitOptions) {}

  /** Never rejects. */
  take(webhookId: string, perSecond: number): Promise<RateAnswer> {
    if (Date.now() < this.downUntil) return Promise.resolve('local');
    const { timeoutMs } = this.o;
    return within(
      () => this.o.limits.take(webhookId, perSecond),
      timeoutMs,
      `store.rateLimits.take() did not answer within ${timeoutMs} ms`,
      true,
    )
      .then(checkedWait)
      .catch((error: unknown) => this.failed(webhookId, error));
  }

  private failed(webhookId: string, error: unknown): RateAnswer {
    const wasUp = Date.now() >= this.downUntil;
    this.downUntil = Date.now() + RETRY_AFTER_MS;
    if (wasUp) {
      this.o.logger.error(
        'webhook-dispatcher: the shared rate limiter failed; rate limits are per process until it answers again',
        { webhookId, error: String((error as Error)?.message ?? error), retryInMs: RETRY_AFTER_MS },
      );
    }
    return 'local';
  }
}
