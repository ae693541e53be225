import { errorText } from '../core/errors.js';
import type { Logger } from '../core/types.js';

/**
 * Calls the host's code (a hook, a log, a store's stop function): what it throws or rejects with is logged, never
 * propagated, so hostile callbacks cannot crash the engine or the host.
 */
export class HostHooks {
  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  /** Calls `call`; returns its value, or `undefined` when it threw. A rejection is logged. */
  call(name: string, call: () => unknown): unknown {
    try {
      const value = call();
      if (typeof (value as PromiseLike<unknown> | undefined)?.then === 'function') {
        (value as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          this.logger.error(`webhook-dispatcher: ${name} rejected`, { error: errorText(error) }),
        );
      }
      return value;
    } catch (error) {
      this.logger.error(`webhook-dispatcher: ${name} threw`, { error: errorText(error) });
      return undefined;
    }
  }
}
