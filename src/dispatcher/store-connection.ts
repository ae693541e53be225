import { errorText } from '../core/errors.js';
import type { Logger, WebhookStore } from '../core/types.js';
import { watchStop } from '../core/watch-stop.js';
import type { HostHooks } from '../delivery/host-hooks.js';
import type { SharedCircuits } from '../delivery/shared-circuits.js';
import type { WebhookRegistry } from '../webhooks/webhook-registry.js';
import type { CloseGate } from './close-gate.js';

export interface StoreConnectionParts {
  registry: WebhookRegistry;
  store: WebhookStore;
  /** Circuits shared through the store, when it keeps them and health is on. */
  circuits: SharedCircuits | undefined;
  /** The fallback for stores that cannot watch. */
  refreshIntervalMs: number | undefined;
  gate: CloseGate;
  hooks: HostHooks;
  logger: Logger;
}

/**
 * The dispatcher's tie to its store: loads it on first use, then follows the changes other processes make (the
 * store's `watch` if it has one, else `refreshIntervalMs`) and the circuits they share; `stop` ends all of it.
 */
export class StoreConnection {
  private stopWatching: (() => unknown) | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private circuitsFollowed = false;

  constructor(private readonly parts: StoreConnectionParts) {}

  /**
   * Rejects once closed; loads the store on first use and starts following its changes. A call `close()` waits for
   * (`accepted`) is not refused by a close that comes while the store loads.
   */
  async open(method: string, accepted = false): Promise<void> {
    const { gate, registry } = this.parts;
    gate.check(method, accepted);
    if (!registry.ready) {
      await Promise.race([registry.ensureLoaded(), gate.deadlinePassed]);
      this.follow();
    }
    gate.check(method, accepted);
  }

  followCircuits(): void {
    const { circuits, gate } = this.parts;
    if (circuits === undefined || this.circuitsFollowed || gate.closed) return;
    this.circuitsFollowed = true;
    circuits.start();
  }

  /** Changes made by other processes: the store's `watch` if it has one, else `refreshIntervalMs`. */
  private follow(): void {
    this.followCircuits();
    const { gate, store, registry, logger } = this.parts;
    if (this.stopWatching !== undefined || this.refreshTimer !== undefined || gate.closed) return;
    const logFailure = (error: unknown) =>
      logger.error('webhook-dispatcher: could not apply a change from the store', {
        error: errorText(error),
      });
    if (typeof store.watch === 'function') {
      try {
        const returned = store.watch(
          (id) => {
            if (!gate.closed) registry.invalidate(id).catch(logFailure);
          },
          (live) => registry.watchStatus(live),
        );
        this.stopWatching = watchStop(returned, (error) =>
          logger.error('webhook-dispatcher: store.watch() failed; changes made elsewhere are not followed', {
            error: errorText(error),
          }),
        );
      } catch (error) {
        logFailure(error);
      }
      if (this.stopWatching !== undefined) return;
    }
    const interval = this.parts.refreshIntervalMs;
    if (interval !== undefined) {
      this.refreshTimer = setInterval(() => registry.refresh().catch(logFailure), interval);
      this.refreshTimer.unref();
    }
  }

  /** Stops following the store and its circuits. */
  stop(): void {
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    const stop = this.stopWatching;
    this.stopWatching = undefined;
    if (stop !== undefined) this.parts.hooks.call('store.watch() stop', stop);
    void this.parts.circuits?.stop();
  }
}
