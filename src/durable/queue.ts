import type {
  DeliveryEngine,
  DeliveryJob,
  DeliveryQueue,
  DeliveryReporter,
  DeliveryWorker,
  EnqueueOptions,
} from '../extend.js';
import type { DeliveryResult } from '../index.js';
import { JobRunner } from './consumer.js';

/**
 * What a durable queue's backend (pg-boss, BullMQ) provides to the skeleton below. The skeleton owns what both
 * share: the worker wrapper (`start`), `dispatcher.test()` delivered at once, one report per final outcome, and a
 * `close()` that runs once; the backend owns its storage: how jobs are written, taken and settled.
 */
export interface DurableBackend {
  /** Whether this process takes jobs (the queue's `worker` option). */
  readonly takesJobs: boolean;
  /**
   * Writes the jobs of one emit. Resolves with one result each (`queued`, or a failure it reported through
   * `report`), and rejects only when the jobs could not be written in the host's transaction.
   */
  enqueueMany(jobs: DeliveryJob[], options: EnqueueOptions): Promise<DeliveryResult[]>;
  /** Writes one job (a backend may write a single job differently from a fan-out). */
  enqueueOne?(job: DeliveryJob, options: EnqueueOptions): Promise<DeliveryResult>;
  /** Starts taking jobs, running each through `runner`. Called once, only when `takesJobs`. */
  startConsumer(runner: JobRunner): void;
  /** Resolves when this process is connected (and, with a worker, taking jobs). */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and releases the connections. `pending` settles when the `dispatcher.test()` deliveries
   * running here are done; a backend waits for it at the right moment of its own shutdown.
   */
  close(deadlineMs: number | undefined, pending: () => Promise<unknown>): Promise<void>;
}

/** Passes an outcome to the dispatcher's reporter; a reporter that throws is the dispatcher's to log. */
export class Reporter {
  private report: DeliveryReporter | undefined;

  set(report: DeliveryReporter): void {
    this.report = report;
  }

  readonly once = (result: DeliveryResult): DeliveryResult => {
    try {
      this.report?.(result);
    } catch {
      // enqueue and the worker never fail because of a reporter
    }
    return result;
  };
}

/**
 * The skeleton of a durable `DeliveryQueue`: lifecycle (`start`, `close`), the producer front (`enqueue`,
 * `enqueueMany`, `dispatcher.test()` at once) and the consumer wiring, over a backend. Its methods are own
 * properties, so a wrapper that spreads the queue keeps them.
 */
export class DurableQueue implements DeliveryQueue {
  readonly readsStoreAtSendTime = true as const;
  private deliverHere: DeliveryWorker | undefined;
  /** `dispatcher.test()` deliveries run in this process; `close()` waits for them. */
  private readonly testing = new Set<Promise<DeliveryResult>>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly backend: DurableBackend,
    readonly reporter: Reporter,
  ) {}

  readonly start = (worker: DeliveryWorker, report: DeliveryReporter, engine?: DeliveryEngine): void => {
    this.deliverHere = worker;
    this.reporter.set(report);
    if (!this.backend.takesJobs) return;
    this.backend.startConsumer(new JobRunner(worker, this.reporter, engine));
  };

  readonly enqueue = (job: DeliveryJob, options: EnqueueOptions = {}): Promise<DeliveryResult> => {
    if (job.test && this.deliverHere && options.transaction === undefined) return this.deliverNow(job);
    if (this.backend.enqueueOne) return this.backend.enqueueOne(job, options);
    return this.backend.enqueueMany([job], options).then((results) => results[0] as DeliveryResult);
  };

  readonly enqueueMany = (jobs: DeliveryJob[], options: EnqueueOptions = {}): Promise<DeliveryResult[]> =>
    this.backend.enqueueMany(jobs, options);

  readonly ready = (): Promise<void> => this.backend.ready();

  readonly close = (options: { deadlineMs?: number } = {}): Promise<void> => {
    this.closing ??= this.backend.close(options.deadlineMs, () => Promise.allSettled(this.testing));
    return this.closing;
  };

  /** `dispatcher.test()` answers with the real outcome, so it is delivered here and now, not queued. */
  private deliverNow(job: DeliveryJob): Promise<DeliveryResult> {
    const delivered = (this.deliverHere as DeliveryWorker)(job).then(this.reporter.once);
    this.testing.add(delivered);
    const forget = () => this.testing.delete(delivered);
    delivered.then(forget, forget);
    return delivered;
  }
}
