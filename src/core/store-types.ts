// The store seams: where webhooks live (`WebhookStore`) and the state a store may share between processes.
import type { Webhook } from './types.js';

/** Async CRUD over webhook records, so a database can hold them. */
export interface WebhookStore {
  get(id: string): Promise<Webhook | undefined>;
  list(): Promise<Webhook[]>;
  /** Saves a new record. */
  create(webhook: Webhook): Promise<void>;
  /** Replaces an existing record. */
  update(webhook: Webhook): Promise<void>;
  /** Resolves true when a record was removed. */
  delete(id: string): Promise<boolean>;
  /**
   * Optional: tells the dispatcher about changes made by other processes. `onChange(id)`: that webhook was
   * created, changed or deleted; `onChange()`: anything may have changed (after a reconnect). Returns a stop
   * function. Stores that cannot watch are re-read every `refreshIntervalMs`.
   *
   * `onStatus`, optional: `onStatus(true)` when the watch is in place (just before the `onChange()` that follows
   * each connection), `onStatus(false)` as soon as changes may go unannounced (the connection is lost). A store that
   * reports it lets a durable queue's worker trust its index at send time instead of reading each job's webhook
   * from the store; without it, the store is read.
   */
  watch?(onChange: (id?: string) => void, onStatus?: (live: boolean) => void): () => void | Promise<void>;
  /**
   * Optional: one tenant's webhooks (`null`: the webhooks without a tenant), read with an indexed query. With it, a
   * dispatcher keeps in memory only the tenants it recently emitted for (`maxIndexBytes`) and reads a tenant's
   * webhooks on its first emit; without it, every webhook is read and indexed. `memoryStore`, `postgresStore` and
   * `redisStore` have it.
   */
  listTenant?(tenant: string | null): Promise<Webhook[]>;
  /**
   * Optional: webhooks' open circuits, shared by every process that uses this store, so a receiver found down by
   * one worker is not probed again by each of the others, and auto-disable counts from the first failure any of
   * them saw. `postgresStore` and `redisStore` have it; `memoryStore` does not need it (one process).
   */
  circuits?: CircuitStore;
  /**
   * Optional: saves a new record only while its tenant has fewer than `maxPerTenant` webhooks, as one atomic step
   * for every process that uses the store. Resolves `true` when saved, `false` (nothing saved) when the tenant
   * already has `maxPerTenant`. The dispatcher calls it instead of `create` when `maxWebhooksPerTenant` applies;
   * without it, the count is checked in this process before `create` (so replicas racing may go past the limit).
   * `postgresStore` and `redisStore` have it.
   */
  createWithinTenantLimit?(webhook: Webhook, maxPerTenant: number): Promise<boolean>;
  /**
   * Optional: webhooks' `rateLimit` counted across every process that uses this store, so N workers together send
   * at most `rateLimit` deliveries per second, not N times that. Without it each process limits on its own.
   * `postgresStore` and `redisStore` have it.
   */
  rateLimits?: RateLimitStore;
}

/** Where a store counts delivery starts for `rateLimit` (see `WebhookStore.rateLimits`). */
export interface RateLimitStore {
  /**
   * Takes webhook `id`'s next start slot, in one atomic step: slots are `rateSpacingMicros(perSecond)` apart (by the
   * store's clock) for every process, so any one-second window holds at most `perSecond` starts even after the
   * network shifts them a little. Resolves `0` when the slot was taken (send now), else the ms until the next one
   * frees (nothing taken). Called only for webhooks that have a `rateLimit`.
   */
  take(id: string, perSecond: number): Promise<number>;
}

/** A webhook's open circuit as every process sharing the store sees it. */
export interface SharedCircuit {
  /** Epoch ms from which the next probe may go. */
  probeAt: number;
  /** The wait that led to `probeAt`, in ms; the next failed probe doubles it (up to `health.maxProbeDelayMs`). */
  probeDelayMs: number;
  /** Epoch ms of the first failure after the last success: `health.disableAfterMs` counts from it. */
  failingSince: number;
}

/** Where a store keeps open circuits (see `WebhookStore.circuits`). Records are small: a few numbers per webhook. */
export interface CircuitStore {
  /** Every open circuit, by webhook id: read when a dispatcher starts, and again when `watch` says so. */
  list(): Promise<Record<string, SharedCircuit>>;
  /** Saves webhook `id`'s open circuit, or removes it (`undefined`: the webhook answered again). */
  save(id: string, circuit: SharedCircuit | undefined): Promise<void>;
  /**
   * Optional: `onChange(id, circuit)` after any process saved one (`undefined`: removed), and `onChange()` when
   * anything may have changed (after a reconnect): the dispatcher lists them again. Returns a stop function.
   * Without it the dispatcher lists the circuits every `refreshIntervalMs` (5 s when that is not set).
   */
  watch?(onChange: (id?: string, circuit?: SharedCircuit) => void): () => void | Promise<void>;
}
