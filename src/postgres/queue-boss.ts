import { createHash } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { within } from '../extend.js';
import type { Logger } from '../index.js';
import { eventBodies } from './event-bodies.js';
import { type FifoJobs, fifoJobs } from './fifo.js';
import type { ResolvedPgBossOptions } from './queue-options.js';
import { errorMessage, type PoolLike, type Queryable } from './sql.js';

type DbAdapter = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/** pg-boss's `db` option over a pool or a client (the host's inside its transaction). */
export const adapter = (db: Queryable): DbAdapter => ({
  executeSql: (text, values) => db.query(text, values) as Promise<{ rows: unknown[] }>,
});

/**
 * What the producer and the consumer of one pg-boss queue share: the pool (the host's, or one of its own), the
 * pg-boss instance (started once, on first use), the stored event bodies, the NOTIFY channel and the logger.
 */
export class PgBossConnection {
  readonly bodies: ReturnType<typeof eventBodies>;
  readonly channel: string;
  /** `ordering: 'fifo'`: the webhooks' lines of jobs (see `FifoJobs`). */
  readonly fifo: FifoJobs;
  closed = false;
  private ownPool: pg.Pool | undefined;
  private starting: Promise<PgBoss> | undefined;
  private started: PgBoss | undefined;

  constructor(readonly options: ResolvedPgBossOptions) {
    this.bodies = eventBodies(options.schema);
    this.fifo = fifoJobs(options.schema, options.name);
    const id = createHash('sha1').update(`${options.schema}\n${options.name}`).digest('hex');
    this.channel = `wd_q_${id.slice(0, 24)}`;
  }

  get name(): string {
    return this.options.name;
  }

  /** The pg-boss instance once started, else undefined. */
  get boss(): PgBoss | undefined {
    return this.started;
  }

  readonly say = (level: keyof Logger, message: string, meta: Record<string, unknown>): void => {
    const logger = this.options.logger;
    try {
      logger?.[level]?.call(logger, message, { queue: this.options.name, ...meta });
    } catch {
      // a logger that throws changes nothing here
    }
  };

  readonly pool = (): PoolLike => {
    if (this.options.pool) return this.options.pool;
    if (!this.ownPool) {
      this.ownPool = new pg.Pool({
        connectionString: this.options.connectionString,
        // A connection attempt to a host that does not answer fails within the enqueue budget.
        connectionTimeoutMillis: this.options.enqueueTimeoutMs,
      });
      this.ownPool.on('error', (error) =>
        this.say('warn', 'webhook-dispatcher/postgres: idle connection error', {
          error: errorMessage(error),
        }),
      );
    }
    return this.ownPool as unknown as PoolLike;
  };

  /** Starts pg-boss once (installing its schema and the queue); a failed start is tried afresh by the next call. */
  readonly start = (): Promise<PgBoss> => {
    if (!this.starting) {
      this.starting = this.startWithRetries();
      this.starting.catch(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  };

  private async startWithRetries(): Promise<PgBoss> {
    for (let attempt = 1; ; attempt++) {
      const boss = this.newBoss();
      try {
        await boss.start();
        await boss.createQueue(this.options.name, { name: this.options.name });
        await this.pool().query(this.bodies.createSql);
        this.started = boss;
        return boss;
      } catch (error) {
        // pg-boss cannot restart a failed start: a fresh instance is made (here, or by the next call, so a
        // Postgres that was down is tried again).
        boss.stop({ graceful: false, close: false }).catch(() => {});
        // Processes starting together on a fresh database race in pg-boss's install (CREATE SCHEMA, a
        // duplicate key) and in createQueue (a deadlock): Postgres lets one of them win; the others try
        // again and find the schema and the queue there.
        if (attempt >= 5 || this.closed || !isStartRace(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50));
      }
    }
  }

  private newBoss(): PgBoss {
    const boss = new PgBoss({
      db: adapter(this.pool()),
      schema: this.options.schema,
      schedule: false,
      supervise: true,
      migrate: true,
      maintenanceIntervalSeconds: this.options.maintenanceIntervalSeconds,
      archiveCompletedAfterSeconds: Math.max(1, Math.ceil(this.options.dedupeWindowMs / 1000)),
    } as PgBoss.ConstructorOptions);
    boss.on('error', (error) =>
      this.say('warn', 'webhook-dispatcher/postgres: pg-boss error', { error: errorMessage(error) }),
    );
    return boss;
  }

  /** Stops pg-boss and ends the pool of the queue's own, each bounded in time. */
  async stop(): Promise<void> {
    const boss = this.started;
    if (boss) {
      await within(
        () => boss.stop({ graceful: false, close: false, wait: true }),
        5000,
        'pg-boss stop',
        true,
      ).catch(() => {});
    }
    const pool = this.ownPool;
    if (pool) await within(() => pool.end(), 2000, 'pool end', true).catch(() => {});
  }
}

/**
 * What concurrent first starts of pg-boss on one database hit: a duplicate key (23505), a deadlock (40P01), or a
 * `CREATE ... IF NOT EXISTS` that lost to another session's (42710 "type ... already exists", 42P07 for a table).
 */
function isStartRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === '40P01' || code === '42710' || code === '42P07';
}
