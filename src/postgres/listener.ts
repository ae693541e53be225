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

/**
 * A dedicated connection taken from the pool that LISTENs on some channels, and reconnects (with backoff) when the
 * connection is lost; after a reconnection `onReconnect` says that notifications may have been missed.
 */
export function startListener(options: ListenerOptions): Listener {
  const minDelay = options.minDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 5000;
  let client: EventedClient | undefined;
  let stopped = false;
  let delay = minDelay;
  let timer: NodeJS.Timeout | undefined;
  let connected = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that never awaits `ready` must not see an unhandled rejection.
  ready.catch(() => {});

  const safe = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      try {
        options.onError(error);
      } catch {
        // nothing left to tell
      }
    }
  };

  const drop = (current: EventedClient, error?: Error) => {
    if (client !== current) return;
    client = undefined;
    clearInterval(heartbeat);
    heartbeat = undefined;
    current.removeAllListeners('notification');
    current.removeAllListeners('end');
    // Keep an error handler: a late error on a destroyed client must not crash the process.
    current.removeAllListeners('error');
    current.on('error', () => {});
    try {
      current.release(error ?? true);
    } catch {
      // already released
    }
    if (stopped) return;
    if (options.onLost) safe(() => options.onLost?.());
    if (error) safe(() => options.onError(error));
    schedule();
  };

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref?.();
    delay = Math.min(delay * 2, maxDelay);
  };

  async function connect(): Promise<void> {
    let current: EventedClient;
    try {
      current = (await options.pool.connect()) as EventedClient;
    } catch (error) {
      if (connected === 0) rejectReady(error);
      if (!stopped) {
        safe(() => options.onError(error));
        schedule();
      }
      return;
    }
    if (stopped) {
      current.release(true);
      return;
    }
    client = current;
    current.on('error', (error) => drop(current, error ?? new Error('LISTEN connection lost')));
    current.on('end', () => drop(current, new Error('LISTEN connection ended')));
    current.on('notification', (message) => {
      safe(() => options.onNotify(message.channel, message.payload ?? ''));
    });
    try {
      for (const channel of options.channels) await current.query(`LISTEN "${channel}"`);
    } catch (error) {
      if (connected === 0) rejectReady(error);
      drop(current, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    delay = minDelay;
    connected++;
    if (connected === 1) resolveReady();
    if (options.heartbeatMs !== undefined) startHeartbeat(current, options.heartbeatMs);
    safe(() => options.onConnect());
  }

  function startHeartbeat(current: EventedClient, everyMs: number): void {
    let pending = false;
    heartbeat = setInterval(() => {
      if (pending || client !== current) return;
      pending = true;
      const timer = setTimeout(
        () => drop(current, new Error(`LISTEN connection did not answer within ${everyMs / 2} ms`)),
        everyMs / 2,
      );
      current.query('SELECT 1').then(
        () => {
          clearTimeout(timer);
          pending = false;
        },
        (error: unknown) => {
          clearTimeout(timer);
          drop(current, error instanceof Error ? error : new Error(String(error)));
        },
      );
    }, everyMs);
    heartbeat.unref?.();
  }

  void connect();

  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      clearInterval(heartbeat);
      heartbeat = undefined;
      const current = client;
      if (!current) return;
      client = undefined;
      current.removeAllListeners('notification');
      current.removeAllListeners('end');
      current.removeAllListeners('error');
      current.on('error', () => {});
      // Destroy rather than UNLISTEN: the connection may be the broken one, and a query could hang.
      current.release(true);
    },
  };
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
