import { within } from '../core/deadline.js';
import { errorText, WebhookError } from '../core/errors.js';
import type { Logger, Transport } from '../core/types.js';
import type { InProcessEngine } from '../delivery/engine.js';
import type { DeliveryQueue } from '../delivery/queue.js';
import type { CloseGate } from './close-gate.js';
import type { StoreConnection } from './store-connection.js';

/**
 * What `close()` waits at most after its deadline for the queue's own close (a durable queue ends its connections
 * by force within `deadlineMs` + 2 s) and for the transport it created. In process, everything ends at the deadline.
 */
const CLOSE_GRACE_MS = 2_500;

export interface ShutdownParts {
  gate: CloseGate;
  connection: StoreConnection;
  queue: DeliveryQueue;
  engine: InProcessEngine;
  transport: Transport;
  /** The dispatcher made the transport (no `transport` option): it closes it too. */
  ownsTransport: boolean;
  logger: Logger;
}

/** `close()`: once, whoever calls it how often. */
export class Shutdown {
  private closing: Promise<void> | undefined;

  constructor(private readonly parts: ShutdownParts) {}

  close(deadlineMs: number | undefined): Promise<void> {
    this.closing ??= this.run(deadlineMs);
    return this.closing;
  }

  /**
   * Finishes what was accepted, then closes the queue and waits for the engine. With a deadline, what is still
   * running when it passes ends `ABORTED` (an emit still waiting for the store's first load rejects), and close
   * returns at most `CLOSE_GRACE_MS` later whatever the store, the log, the transport or the queue does.
   */
  private async run(deadlineMs: number | undefined): Promise<void> {
    const { gate, connection, engine, transport, logger } = this.parts;
    gate.closed = true;
    connection.stop();
    const endsAt = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    const finished = this.finishAccepted(endsAt).catch((error: unknown) =>
      logger.error('webhook-dispatcher: close() failed', { error: errorText(error) }),
    );
    if (deadlineMs === undefined) {
      await finished;
      if (this.parts.ownsTransport) await transport.close?.();
      return;
    }
    if (!(await settlesWithin(finished, deadlineMs))) {
      const reason = `dispatcher closed: deadline of ${deadlineMs} ms reached`;
      gate.passDeadline(
        new WebhookError(
          'ERR_STORE_TIMEOUT',
          `the webhook store had not answered when the ${reason}; not sent`,
        ),
      );
      engine.abortAll(reason);
      if (!(await settlesWithin(finished, CLOSE_GRACE_MS))) {
        logger.error('webhook-dispatcher: close() returned with the queue still closing', { deadlineMs });
      }
    }
    if (this.parts.ownsTransport) {
      await settlesWithin((transport.destroy ?? transport.close)?.call(transport), CLOSE_GRACE_MS);
    }
  }

  /**
   * Every `emit`/`test` called before `close()` first reaches the queue (in process: its outcome), or the deadline
   * passes; then the queue closes.
   */
  private async finishAccepted(endsAt: number | undefined): Promise<void> {
    await this.parts.gate.settled();
    const left = endsAt === undefined ? undefined : { deadlineMs: Math.max(0, endsAt - Date.now()) };
    await this.parts.queue.close(left);
    await this.parts.engine.drained();
  }
}

/** True when `work` settles within `ms`. */
function settlesWithin(work: unknown, ms: number): Promise<boolean> {
  return within(() => work, ms, 'deadline').then(
    () => true,
    () => false,
  );
}
