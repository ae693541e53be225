import { within } from '../core/deadline.js';
import { errorText, WebhookError, WebhookNotFoundError } from '../core/errors.js';
import type { DeliveryResult, Logger } from '../core/types.js';
import type { InProcessEngine } from '../delivery/engine.js';
import type { SafeInstrumentation } from '../delivery/instrumentation.js';
import type { DeliveryJob } from '../delivery/queue.js';
import type { DeliveryLog, DeliveryRecord } from '../log/delivery-log.js';
import type { WebhookRegistry } from '../webhooks/webhook-registry.js';
import type { RecoverOptions, RedeliverOptions } from './dispatcher.js';
import { sentBody, webhookDisabled } from './event-checks.js';
import type { ResultReporter } from './reporters.js';
import type { StoreConnection } from './store-connection.js';

/**
 * Reads of the delivery log under the store's deadline (`storeTimeoutMs`): a log that does not answer (a
 * black-holed database) ends the call with `ERR_STORE_TIMEOUT` instead of holding it.
 */
export class LogReader {
  constructor(
    private readonly log: DeliveryLog | undefined,
    private readonly timeoutMs: number,
  ) {}

  read<T>(method: string, read: (log: DeliveryLog) => Promise<T>, absent: T): Promise<T> {
    const log = this.log;
    if (log === undefined) return Promise.resolve(absent);
    const ms = this.timeoutMs;
    const timeout = () =>
      new WebhookError('ERR_STORE_TIMEOUT', `delivery log: ${method}() did not answer within ${ms} ms`);
    return within(() => read(log), ms, timeout);
  }
}

export interface RedeliveryParts {
  registry: WebhookRegistry;
  connection: StoreConnection;
  logReader: LogReader;
  engine: InProcessEngine;
  reporter: ResultReporter;
  instrumentation: SafeInstrumentation;
  logger: Logger;
}

/** `deliveries.redeliver` and `deliveries.recover`: logged deliveries sent again through the webhook's lane. */
export class Redelivery {
  constructor(private readonly parts: RedeliveryParts) {}

  async redeliver(deliveryId: string, options: RedeliverOptions = {}): Promise<DeliveryResult> {
    await this.parts.connection.open('deliveries.redeliver', true);
    const record = await this.parts.logReader.read('get', (log) => log.get(deliveryId), undefined);
    if (record === undefined) {
      throw new WebhookError(
        'ERR_DELIVERY_NOT_FOUND',
        `deliveries.redeliver: no delivery "${deliveryId}" in the delivery log`,
      );
    }
    await this.parts.registry.warm(record.webhookId);
    return this.resend(this.redeliveryJob('deliveries.redeliver', record, options.force === true));
  }

  /**
   * Queues again, through the webhook's lane, every delivery of the window whose latest outcome is still a
   * failure, oldest first, and answers how many: the re-sends go on (their outcomes are logged and reported as
   * usual), so a receiver that is still down cannot hold the call. A delivery the log kept no complete body of is
   * left out.
   */
  async recover(webhookId: string, window: RecoverOptions): Promise<number> {
    await this.parts.connection.open('deliveries.recover', true);
    if (window === null || typeof window !== 'object' || window.since === undefined) {
      throw new WebhookError('ERR_INVALID_OPTIONS', 'deliveries.recover: expected `{ since, until? }`');
    }
    await this.parts.registry.warm(webhookId);
    const compiled = this.parts.registry.get(webhookId);
    if (!compiled) throw new WebhookNotFoundError('deliveries.recover', webhookId);
    if (!compiled.webhook.on) throw webhookDisabled('deliveries.recover', webhookId);
    const records = await this.failedRecords(webhookId, window);
    let queued = 0;
    for (const record of records.reverse()) {
      if (sentBody(record) === undefined) continue;
      this.resend(this.redeliveryJob('deliveries.recover', record, false)).catch((error: unknown) =>
        this.parts.logger.error('webhook-dispatcher: a recovered delivery failed', {
          error: errorText(error),
        }),
      );
      queued++;
    }
    return queued;
  }

  /** The failed deliveries of one webhook in a window, newest first, each page read under the deadline. */
  private async failedRecords(webhookId: string, window: RecoverOptions): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    let cursor: string | undefined;
    do {
      const query = {
        status: 'failed' as const,
        since: window.since,
        until: window.until,
        limit: 1000,
        cursor,
      };
      const page = await this.parts.logReader.read('list', (log) => log.list(webhookId, query), {
        items: [],
      });
      records.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return records;
  }

  /** The job sending a logged delivery again: its body as first sent, to the webhook as it is now. */
  private redeliveryJob(method: string, record: DeliveryRecord, force: boolean): DeliveryJob {
    const compiled = this.parts.registry.get(record.webhookId);
    if (compiled === undefined) throw new WebhookNotFoundError(method, record.webhookId);
    if (!compiled.webhook.on && !force) throw webhookDisabled(method, record.webhookId);
    const body = sentBody(record);
    if (body === undefined) {
      throw new WebhookError(
        'ERR_DELIVERY_NOT_FOUND',
        `${method}: the delivery log has no complete body for "${record.deliveryId}"; it cannot be sent again`,
      );
    }
    const made = Math.max(...record.attempts.map((attempt) => attempt.attempt));
    const job: DeliveryJob = {
      deliveryId: record.deliveryId,
      webhookId: record.webhookId,
      eventId: record.eventId,
      event: {},
      eventBody: body,
      body,
      attempt: made,
      retryBase: made,
      redelivery: true,
    };
    if (compiled.webhook.tenant !== undefined) job.tenant = compiled.webhook.tenant;
    if (record.eventType !== undefined) job.eventType = record.eventType;
    if (force) job.force = true;
    if (compiled.webhook.ordering === 'fifo') job.ordered = true;
    // A redelivery is traced under the operator's request that asked for it.
    job.emitContext = this.parts.instrumentation.onEmit({
      eventId: job.eventId,
      eventType: job.eventType,
      tenant: job.tenant,
      webhooks: 1,
    });
    return job;
  }

  private async resend(job: DeliveryJob): Promise<DeliveryResult> {
    const result = await this.parts.engine.deliver(job);
    this.parts.reporter.report(result);
    return result;
  }
}
