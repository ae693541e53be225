import { errorText } from '../core/errors.js';
import type { Logger, Webhook } from '../core/types.js';

/** What `dispatcher.on()` listeners receive. */
export interface WebhookHealthEvent {
  webhook: Webhook;
  /** Why: the failures that opened the circuit, `'failing'`/`'gone'` for a switch-off, `'probe succeeded'`. */
  reason: string;
  /** ISO-8601 */
  at: string;
}

export interface DispatcherEvents {
  /** The webhook's circuit opened: it keeps failing; deliveries wait while single probes test it. */
  'webhook.failing': WebhookHealthEvent;
  /** The dispatcher switched the webhook off (`disabled.reason` `'failing'` or `'gone'`). */
  'webhook.disabled': WebhookHealthEvent;
  /** A probe succeeded: the circuit closed and deliveries flow again. */
  'webhook.recovered': WebhookHealthEvent;
}

export type DispatcherEventName = keyof DispatcherEvents;

/** Listeners return nothing: an async listener is called, but not awaited. */
export type DispatcherListener<E extends DispatcherEventName> = (event: DispatcherEvents[E]) => void;

/**
 * The dispatcher's own events. A listener that throws or rejects is logged and the others still run; it cannot
 * change an outcome or crash the host.
 */
export class DispatcherEmitter {
  private readonly listeners = new Map<DispatcherEventName, Set<(event: never) => void>>();

  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  on<E extends DispatcherEventName>(name: E, listener: DispatcherListener<E>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    const entry = listener as (event: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit<E extends DispatcherEventName>(name: E, event: DispatcherEvents[E]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        const value = (listener as DispatcherListener<E>)(event) as unknown;
        if (typeof (value as PromiseLike<unknown> | undefined)?.then === 'function') {
          (value as PromiseLike<unknown>).then(undefined, (error: unknown) =>
            this.logger.error(`webhook-dispatcher: a '${name}' listener rejected`, {
              error: errorText(error),
            }),
          );
        }
      } catch (error) {
        this.logger.error(`webhook-dispatcher: a '${name}' listener threw`, { error: errorText(error) });
      }
    }
  }
}
