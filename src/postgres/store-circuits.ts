// The parts of `postgresStore()` around its table: the shared circuits, `watch()` over LISTEN, and the guards
// every callback and error passes through.
import { type CircuitStore, OptionsError, type SharedCircuit } from '../extend.js';
import type { ListenerHub } from './listener.js';
import type { ResolvedNames } from './migrate.js';
import { errorMessage, type PoolLike } from './sql.js';

const UNDEFINED_TABLE = '42P01';
const FOREIGN_KEY_VIOLATION = '23503';

/** Rethrows a query error, explaining a missing table (the migration was not run). */
export const explainFor =
  (name: string) =>
  (error: unknown): never => {
    if ((error as { code?: string })?.code === UNDEFINED_TABLE) {
      throw new Error(
        `postgresStore: table ${name} does not exist; create it once with \`await migrate(pool)\` from 'webhook-dispatcher/postgres' (${errorMessage(error)})`,
        { cause: error },
      );
    }
    throw error;
  };

type Logger = { warn?(message: string, meta?: Record<string, unknown>): void } | undefined;

/** The store's host callbacks: a callback that throws is reported to the logger, never to the LISTEN loop. */
export class Callbacks {
  constructor(private readonly logger: Logger) {}

  warn(message: string, meta: Record<string, unknown>): void {
    this.logger?.warn?.call(this.logger, message, meta);
  }

  guarded(what: string, fn: () => void): () => void {
    return () => {
      try {
        fn();
      } catch (error) {
        this.warn(`webhook-dispatcher/postgres: ${what} threw`, { error: errorMessage(error) });
      }
    };
  }

  static assert(onChange: unknown): void {
    if (typeof onChange !== 'function') {
      throw new OptionsError('onChange', `Expected \`onChange\` to be a function, got ${typeof onChange}`);
    }
  }
}

/** `watch()` of the store: webhook changes over the hub's LISTEN connection. */
export function watchWebhooks(
  hub: ListenerHub,
  channel: string,
  callbacks: Callbacks,
  onChange: (id?: string) => void,
  onStatus?: (live: boolean) => void,
): () => Promise<void> {
  Callbacks.assert(onChange);
  const status = (live: boolean) => callbacks.guarded('watch onStatus', () => onStatus?.(live))();
  return hub.subscribe({
    onNotify: (notified, payload) => {
      if (notified !== channel) return;
      callbacks.guarded('watch onChange', () => onChange(payload === '' ? undefined : payload))();
    },
    onConnect: () => {
      status(true);
      callbacks.guarded('watch onChange', () => onChange())();
    },
    onLost: () => status(false),
  });
}

/** Open circuits in `<table>_circuits`, followed over LISTEN/NOTIFY on the hub's connection. */
export function postgresCircuits(
  pool: PoolLike,
  names: ResolvedNames,
  hub: ListenerHub,
  callbacks: Callbacks,
): CircuitStore & { watch(onChange: (id?: string, circuit?: SharedCircuit) => void): () => Promise<void> } {
  const explainCircuits = explainFor(names.circuits);
  const guarded = (what: string, fn: () => void) => callbacks.guarded(what, fn);
  const assertCallback = Callbacks.assert;
  return {
    async list() {
      const { rows } = await pool
        .query<{ webhook_id: string; circuit: SharedCircuit }>(
          `SELECT webhook_id, circuit FROM ${names.circuits}`,
        )
        .catch(explainCircuits);
      return Object.fromEntries(rows.map((row) => [row.webhook_id, row.circuit]));
    },
    async save(id, circuit) {
      if (circuit === undefined) {
        await pool.query(`DELETE FROM ${names.circuits} WHERE webhook_id = $1`, [id]).catch(explainCircuits);
        return;
      }
      await pool
        .query(
          `INSERT INTO ${names.circuits} (webhook_id, circuit) VALUES ($1, $2)
         ON CONFLICT (webhook_id) DO UPDATE SET circuit = EXCLUDED.circuit`,
          [id, JSON.stringify(circuit)],
        )
        .catch((error: unknown) => {
          // The webhook was deleted meanwhile: its circuit has nothing left to hold back.
          if ((error as { code?: string })?.code !== FOREIGN_KEY_VIOLATION) explainCircuits(error);
        });
    },
    watch(onChange) {
      assertCallback(onChange);
      return hub.subscribe({
        onNotify: (channel, payload) => {
          if (channel !== names.circuitsChannel) return;
          let change: { id?: unknown; circuit?: SharedCircuit | null } | undefined;
          try {
            change = payload === '' ? undefined : JSON.parse(payload);
          } catch {
            change = undefined;
          }
          const id = change?.id;
          guarded('circuits.watch onChange', () =>
            typeof id === 'string' ? onChange(id, change?.circuit ?? undefined) : onChange(),
          )();
        },
        onConnect: guarded('circuits.watch onChange', () => onChange()),
      });
    },
  };
}
