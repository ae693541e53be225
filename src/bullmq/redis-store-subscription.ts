import { OptionsError } from '../extend.js';
import type { RedisStoreOptions, RedisSubscriber } from './redis-store.js';

export interface Subscription {
  onMessage(channel: string, message: string): void;
  /** Once subscribed, and again after every reconnection (messages may have been missed meanwhile). */
  onConnect(): void;
  /** The connection was lost or stopped answering: messages may be missed until the next `onConnect`. */
  onLost?(): void;
}

type Warn = (message: string, meta: Record<string, unknown>) => void;

/** One SUBSCRIBE connection for `watch` and `circuits.watch`, opened with the first and closed with the last. */
export class SubscriptionHub {
  private readonly subscriptions = new Set<Subscription>();
  private connection: { sub: RedisSubscriber; detach(): void } | undefined;
  private subscribed = false;
  private pending = false;
  private readonly heartbeatMs: number;

  constructor(
    private readonly options: RedisStoreOptions,
    private readonly channels: string[],
    private readonly warn: Warn,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    if (!Number.isInteger(this.heartbeatMs) || this.heartbeatMs <= 0) {
      throw new OptionsError(
        'heartbeatMs',
        `Expected \`heartbeatMs\` to be a positive integer, got ${String(options.heartbeatMs)}`,
      );
    }
  }

  subscribe(subscription: Subscription): () => Promise<void> {
    this.subscriptions.add(subscription);
    if (this.connection === undefined) this.open();
    else if (this.subscribed)
      queueMicrotask(() => this.subscriptions.has(subscription) && subscription.onConnect());
    return async () => {
      if (!this.subscriptions.delete(subscription) || this.subscriptions.size > 0) return;
      const current = this.connection;
      this.connection = undefined;
      this.subscribed = false;
      this.pending = false;
      current?.detach();
    };
  }

  private each(fn: (s: Subscription) => void): void {
    for (const s of [...this.subscriptions]) fn(s);
  }

  private lost(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.each((s) => s.onLost?.());
  }

  /** Subscribing again is harmless, and once it answers the channels are certainly in place. */
  private subscribeChannels(sub: RedisSubscriber): void {
    this.pending = true;
    sub.subscribe(...this.channels).then(
      () => {
        if (this.connection?.sub !== sub) return;
        this.pending = false;
        this.subscribed = true;
        this.each((s) => s.onConnect());
      },
      (error: unknown) => {
        if (this.connection?.sub === sub) this.pending = false;
        this.warn('webhook-dispatcher/bullmq: redisStore SUBSCRIBE failed', { error: String(error) });
      },
    );
  }

  private open(): void {
    const given = this.options.subscriber;
    const duplicate = this.options.client.duplicate;
    if (given === undefined && typeof duplicate !== 'function') {
      throw new OptionsError(
        'subscriber',
        'Expected `subscriber` (a second Redis connection) for watch(): the client has no duplicate()',
      );
    }
    const sub = given ?? (duplicate as () => RedisSubscriber).call(this.options.client);
    const onError = (error: Error) =>
      this.warn('webhook-dispatcher/bullmq: redisStore subscriber connection error', {
        error: String(error),
      });
    // A (re)connection: unless the first SUBSCRIBE is still on its way, subscribe again and say "re-read".
    const onReady = () => {
      this.lost();
      if (!this.pending) this.subscribeChannels(sub);
    };
    const onClose = () => this.lost();
    const heartbeat = this.startHeartbeat(sub);
    const onMessage = (channel: string, message: string) => this.each((s) => s.onMessage(channel, message));
    sub.on('error', onError);
    sub.on('ready', onReady);
    sub.on('close', onClose);
    sub.on('message', onMessage);
    this.connection = {
      sub,
      detach: () => {
        clearInterval(heartbeat);
        sub.off('ready', onReady);
        sub.off('close', onClose);
        sub.off('message', onMessage);
        if (given === undefined) {
          sub.disconnect();
          // Keep an error handler: a late error on a closed connection must not crash the process.
          sub.on('error', () => {});
        } else {
          sub.off('error', onError);
          sub.unsubscribe?.(...this.channels).catch(() => {});
        }
      },
    };
    this.subscribeChannels(sub);
  }

  /**
   * A connection that died silently (a black-holed network) emits nothing: a PING must answer in time. One that
   * answers again after being reported lost is subscribed again (and everything re-read).
   */
  private startHeartbeat(sub: RedisSubscriber): NodeJS.Timeout | undefined {
    if (typeof sub.ping !== 'function') return undefined;
    const ping = sub.ping;
    const halfMs = this.heartbeatMs / 2;
    let beating = false;
    const heartbeat = setInterval(() => {
      if (beating || this.connection?.sub !== sub) return;
      beating = true;
      let timer: NodeJS.Timeout | undefined;
      const answered = Promise.race([
        ping.call(sub).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), halfMs);
        }),
      ]).catch(() => false);
      answered.then((ok) => {
        clearTimeout(timer);
        beating = false;
        if (this.connection?.sub !== sub) return;
        if (!ok) this.lost();
        else if (!this.subscribed && !this.pending) this.subscribeChannels(sub);
      });
    }, this.heartbeatMs);
    heartbeat.unref?.();
    return heartbeat;
  }
}
