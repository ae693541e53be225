import type { PoolClientLike, PoolLike } from './sql.js';

/** What a pg client emits that the listener follows (a `pg.Client` is an EventEmitter with these events). */
interface EventedClient extends PoolClientLike {
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export interface ListenerOptions {
  pool: PoolLike;
  /** Channel names (unquoted; the caller validated them as identifiers). */
  channels: string[];
  onNotify(channel: string, payload: string): void;
  /**
   * Called after every (re)connection once LISTEN is in place, the first included: notifications sent before it
   * (or while disconnected) were missed, so whatever they would have said must be re-read.
   */
  onConnect(): void;
  onError(error: unknown): void;
  /** Called when a connection that was in place is lost: notifications may be missed until `onConnect`. */
  onLost?(): void;
  /**
   * When set, the connection is checked every `heartbeatMs` with a `SELECT 1` that must answer within
   * `heartbeatMs / 2`; one that does not is dropped (and reconnected), so a connection that died silently (a NAT
   * or a firewall forgetting it) is noticed within 1.5 × `heartbeatMs`.
   */
  heartbeatMs?: number;
  /** Waits between reconnection attempts, doubling up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface Listener {
  /** Resolves once LISTEN is in place the first time (or rejects when the first connection fails). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Forgets a client: its handlers off (an error handler kept, so a late error cannot crash), released. */
function discard(current: EventedClient, error?: Error | boolean): void {
  current.removeAllListeners('notification');
  current.removeAllListeners('end');
  current.removeAllListeners('error');
  current.on('error', () => {});
  try {
    current.release(error);
  } catch {
    // already released
  }
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * A dedicated connection taken from the pool that LISTENs on some channels, and reconnects (with backoff) when the
 * connection is lost; after a reconnection `onConnect` says that notifications may have been missed.
 */
class PgListener implements Listener {
  readonly ready: Promise<void>;
  private client: EventedClient | undefined;
  private stopped = false;
  private delay: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private timer: NodeJS.Timeout | undefined;
  private connected = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;

  constructor(private readonly options: ListenerOptions) {
    this.minDelay = options.minDelayMs ?? 200;
    this.maxDelay = options.maxDelayMs ?? 5000;
    this.delay = this.minDelay;
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => {});
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const current = this.client;
    if (!current) return;
    this.client = undefined;
    // Destroy rather than UNLISTEN: the connection may be the broken one, and a query could hang.
    discard(current, true);
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      try {
        this.options.onError(error);
      } catch {
        // nothing left to tell
      }
    }
  }

  private drop(current: EventedClient, error?: Error): void {
    if (this.client !== current) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    discard(current, error ?? true);
    if (this.stopped) return;
    if (this.options.onLost) this.safe(() => this.options.onLost?.());
    if (error) this.safe(() => this.options.onError(error));
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.delay);
    this.timer.unref?.();
    this.delay = Math.min(this.delay * 2, this.maxDelay);
  }

  private async connect(): Promise<void> {
    let current: EventedClient;
    try {
      current = (await this.options.pool.connect()) as EventedClient;
    } catch (error) {
      if (this.connected === 0) this.rejectReady(error);
      if (!this.stopped) {
        this.safe(() => this.options.onError(error));
        this.schedule();
      }
      return;
    }
    if (this.stopped) {
      current.release(true);
      return;
    }
    this.client = current;
    current.on('error', (error) => this.drop(current, error ?? new Error('LISTEN connection lost')));
    current.on('end', () => this.drop(current, new Error('LISTEN connection ended')));
    current.on('notification', (message) => {
      this.safe(() => this.options.onNotify(message.channel, message.payload ?? ''));
    });
    try {
      for (const channel of this.options.channels) await current.query(`LISTEN "${channel}"`);
    } catch (error) {
      if (this.connected === 0) this.rejectReady(error);
      this.drop(current, asError(error));
      return;
    }
    this.delay = this.minDelay;
    this.connected++;
    if (this.connected === 1) this.resolveReady();
    if (this.options.heartbeatMs !== undefined) this.startHeartbeat(current, this.options.heartbeatMs);
    this.safe(() => this.options.onConnect());
  }

  private startHeartbeat(current: EventedClient, everyMs: number): void {
    let pending = false;
    this.heartbeat = setInterval(() => {
      if (pending || this.client !== current) return;
      pending = true;
      const timer = setTimeout(
        () => this.drop(current, new Error(`LISTEN connection did not answer within ${everyMs / 2} ms`)),
        everyMs / 2,
      );
      current.query('SELECT 1').then(
        () => {
          clearTimeout(timer);
          pending = false;
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.drop(current, asError(error));
        },
      );
    }, everyMs);
    this.heartbeat.unref?.();
  }
}

/** Starts a {@link PgListener}: LISTEN on `channels` over a dedicated connection, reconnected when lost. */
export function startListener(options: ListenerOptions): Listener {
  return new PgListener(options);
}

/** One subscriber of a `ListenerHub`. */
export interface HubSubscriber {
  onNotify(channel: string, payload: string): void;
  /** As `ListenerOptions.onConnect`; a subscriber joining a live connection gets one call at once. */
  onConnect(): void;
  /** As `ListenerOptions.onLost`. */
  onLost?(): void;
}

/**
 * One LISTEN connection for several subscribers (a store's webhook changes and its circuits), opened with the
 * first subscriber and closed with the last, so following both costs one connection of the pool, not two.
 */
export class ListenerHub {
  private listener: Listener | undefined;
  private connected = false;
  private readonly subscribers = new Set<HubSubscriber>();

  constructor(private readonly options: Omit<ListenerOptions, 'onNotify' | 'onConnect' | 'onLost'>) {}

  subscribe(subscriber: HubSubscriber): () => Promise<void> {
    this.subscribers.add(subscriber);
    if (this.listener === undefined) {
      this.listener = startListener({
        ...this.options,
        onNotify: (channel, payload) => {
          for (const s of [...this.subscribers]) s.onNotify(channel, payload);
        },
        onConnect: () => {
          this.connected = true;
          for (const s of [...this.subscribers]) s.onConnect();
        },
        onLost: () => {
          this.connected = false;
          for (const s of [...this.subscribers]) s.onLost?.();
        },
        onError: (error) => {
          this.connected = false;
          this.options.onError(error);
        },
      });
    } else if (this.connected) {
      queueMicrotask(() => {
        if (this.subscribers.has(subscriber)) subscriber.onConnect();
      });
    }
    return async () => {
      if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
      const listener = this.listener;
      this.listener = undefined;
      this.connected = false;
      await listener?.stop();
    };
  }
}
