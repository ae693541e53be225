import { within } from '../core/deadline.js';
import { errorText } from '../core/errors.js';
import type { CircuitStore, Logger, SharedCircuit } from '../core/types.js';
import { watchStop } from '../core/watch-stop.js';

/** Holds the circuits of this process: a circuit another process learned about is adopted there. */
export interface CircuitAdopter {
  adoptCircuit(webhookId: string, circuit: SharedCircuit | undefined): void;
}

export interface SharedCircuitsOptions {
  circuits: CircuitStore;
  /** Where what another process learned is applied (the engine's `Scheduler`). */
  lanes: CircuitAdopter;
  /** How often circuits are listed again when the store cannot watch them. */
  intervalMs: number;
  /** Deadline of each store call. */
  timeoutMs: number;
  /** Where what goes wrong is reported (the dispatcher's logger). */
  logger: Pick<Logger, 'error'>;
}

/** Circuits adopted from one listing at most: a store cannot make this process hold a lane per record it invents. */
const MAX_ADOPTED = 100_000;

/** A record from the store, checked: a store is not trusted to hand back numbers. */
function parseCircuit(value: unknown): SharedCircuit | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { probeAt, probeDelayMs, failingSince } = value as Record<string, unknown>;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!valid(probeAt) || !valid(probeDelayMs) || !valid(failingSince)) return undefined;
  return { probeAt, probeDelayMs, failingSince };
}

/**
 * Webhooks' circuits shared through the store (`WebhookStore.circuits`): what this process learns is saved, what
 * the others save is adopted. The store's own `watch` says when, else it is listed every `intervalMs`.
 *
 * Writes for one webhook never overtake each other: while one is in flight, only the newest next value waits
 * (so a store that hangs holds one pending value per webhook, not a growing chain).
 */
export class SharedCircuits {
  private stopWatching: (() => unknown) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly writing = new Map<string, { next: SharedCircuit | undefined | 'none' }>();
  /** True once the first listing was applied, failed, or took longer than `timeoutMs`. */
  listed = false;
  private markListed!: () => void;
  /**
   * Settles when `listed` becomes true. A worker's first deliveries wait for it, so that a circuit another process
   * opened holds them from the first job on instead of costing one more failed attempt.
   */
  readonly firstListing = new Promise<void>((resolve) => {
    this.markListed = () => {
      this.listed = true;
      resolve();
    };
  });

  constructor(private readonly o: SharedCircuitsOptions) {}

  start(): void {
    const { circuits } = this.o;
    // A watch that never says "list now" (or a listing that hangs) holds deliveries for one store deadline at most.
    setTimeout(this.markListed, this.o.timeoutMs).unref();
    if (typeof circuits.watch === 'function') {
      try {
        const returned = circuits.watch((id, circuit) => {
          if (this.stopped) return;
          if (typeof id !== 'string') this.reload();
          else this.apply(id, circuit === undefined ? undefined : parseCircuit(circuit), circuit);
        });
        this.stopWatching = watchStop(returned, (error) =>
          this.o.logger.error('webhook-dispatcher: store.circuits.watch() failed', {
            error: errorText(error),
          }),
        );
      } catch (error) {
        this.o.logger.error('webhook-dispatcher: store.circuits.watch() threw', { error: errorText(error) });
      }
    }
    // A watch says when to list again (`onChange()` once it is in place); without one, list now and then.
    if (this.stopWatching === undefined) {
      this.reload();
      this.timer = setInterval(() => this.reload(), this.o.intervalMs);
      this.timer.unref();
    }
  }

  save(webhookId: string, circuit: SharedCircuit | undefined): void {
    if (this.stopped) return;
    const pending = this.writing.get(webhookId);
    if (pending !== undefined) {
      pending.next = circuit;
      return;
    }
    const slot: { next: SharedCircuit | undefined | 'none' } = { next: 'none' };
    this.writing.set(webhookId, slot);
    const write = (value: SharedCircuit | undefined): void => {
      this.call('save', () => this.o.circuits.save(webhookId, value)).then(
        () => {
          const next = slot.next;
          if (next === 'none' || this.stopped) {
            this.writing.delete(webhookId);
            return;
          }
          slot.next = 'none';
          write(next);
        },
        (error: unknown) => {
          this.writing.delete(webhookId);
          this.o.logger.error('webhook-dispatcher: could not save a webhook circuit to the store', {
            webhookId,
            error: errorText(error),
          });
        },
      );
    };
    write(circuit);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markListed();
    clearInterval(this.timer);
    const stop = this.stopWatching;
    this.stopWatching = undefined;
    if (stop !== undefined) {
      try {
        await this.call('watch() stop', async () => stop());
      } catch (error) {
        this.o.logger.error('webhook-dispatcher: store.circuits.watch() stop failed', {
          error: errorText(error),
        });
      }
    }
  }

  private apply(webhookId: string, circuit: SharedCircuit | undefined, raw: unknown): void {
    if (circuit === undefined && raw !== undefined) {
      this.o.logger.error('webhook-dispatcher: ignored an invalid circuit record from the store', {
        webhookId,
      });
      return;
    }
    this.o.lanes.adoptCircuit(webhookId, circuit);
  }

  /**
   * Adopts every listed circuit. A webhook missing from the list is not closed here: a "closed" may only be
   * missed while disconnected, and then this process's own probe closes it at its time.
   */
  private reload(): void {
    this.call('list', () => this.o.circuits.list())
      .then(
        (all) => {
          if (this.stopped || typeof all !== 'object' || all === null) return;
          const entries = Object.entries(all);
          if (entries.length > MAX_ADOPTED) {
            this.o.logger.error(
              'webhook-dispatcher: the store listed too many circuits; adopted the first ones',
              {
                listed: entries.length,
                adopted: MAX_ADOPTED,
              },
            );
          }
          for (const [id, raw] of entries.slice(0, MAX_ADOPTED)) this.apply(id, parseCircuit(raw), raw);
        },
        (error: unknown) =>
          this.o.logger.error('webhook-dispatcher: could not list webhook circuits from the store', {
            error: errorText(error),
          }),
      )
      .finally(this.markListed);
  }

  private call<T>(method: string, call: () => Promise<T>): Promise<T> {
    const { timeoutMs } = this.o;
    return within(call, timeoutMs, `store.circuits.${method}() did not answer within ${timeoutMs} ms`, true);
  }
}
