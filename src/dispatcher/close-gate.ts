import { DispatcherClosedError, type WebhookError } from '../core/errors.js';

/**
 * What `close()` promises: every `emit`, `test`, `redeliver` or `recover` called before it gets its real outcome
 * and is waited for; every call after it rejects with `ERR_DISPATCHER_CLOSED`. With a deadline, what still waits
 * for the store's first load gives up when it passes (`deadlinePassed`).
 */
export class CloseGate {
  closed = false;
  /** The calls made before `close()` and not yet settled: it finishes them first. */
  private readonly accepted = new Set<Promise<unknown>>();
  /** Rejects when `close()`'s deadline passes. */
  readonly deadlinePassed: Promise<never>;
  private rejectDeadline!: (error: WebhookError) => void;

  constructor() {
    this.deadlinePassed = new Promise<never>((_resolve, reject) => {
      this.rejectDeadline = reject;
    });
    this.deadlinePassed.catch(() => {});
  }

  /** Throws `ERR_DISPATCHER_CLOSED` once closed, unless the call was accepted before. */
  check(method: string, accepted = false): void {
    if (this.closed && !accepted) throw new DispatcherClosedError(method);
  }

  /** Runs a call that `close()` waits for; after `close()` it rejects instead. */
  accept<T>(method: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DispatcherClosedError(method));
    const work = run();
    this.accepted.add(work);
    const forget = () => this.accepted.delete(work);
    work.then(forget, forget);
    return work;
  }

  passDeadline(error: WebhookError): void {
    this.rejectDeadline(error);
  }

  /** Resolves when every accepted call has settled, or the deadline passed. */
  async settled(): Promise<void> {
    await Promise.race([Promise.allSettled(this.accepted), this.deadlinePassed.catch(() => {})]);
  }
}
