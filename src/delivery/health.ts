import { assertKnownKeys, numberOption } from '../core/option-checks.js';
import type { SharedCircuit } from '../core/types.js';

/** Endpoint health policy: when a webhook's circuit opens, how it is probed, when it is switched off. */
export interface HealthOptions {
  /** Consecutive failed attempts that open a webhook's circuit. @default 5 */
  failureThreshold?: number;
  /** Wait before the first probe once the circuit is open, in ms; doubles after each failed probe. @default 5_000 */
  probeDelayMs?: number;
  /** Longest wait between two probes, in ms. @default 300_000 (5 minutes) */
  maxProbeDelayMs?: number;
  /**
   * A webhook that has failed without a single success for this long is switched off (`on: false`,
   * `disabled: { at, reason: 'failing' }`), as Svix does after 5 days. `0` never switches off.
   * @default 432_000_000 (5 days)
   */
  disableAfterMs?: number;
  /**
   * Deliveries that may wait for one webhook while its circuit is open; further ones fail at once with
   * `CIRCUIT_OPEN` instead of filling memory for a receiver that is down.
   * @default 1_000
   */
  maxQueuedWhileOpen?: number;
}

export interface HealthPolicy {
  failureThreshold: number;
  probeDelayMs: number;
  maxProbeDelayMs: number;
  disableAfterMs: number;
  maxQueuedWhileOpen: number;
}

const HEALTH_KEYS = [
  'failureThreshold',
  'probeDelayMs',
  'maxProbeDelayMs',
  'disableAfterMs',
  'maxQueuedWhileOpen',
] as const;

/** `health: false` turns circuits, auto-disable and the switch-off on `410 Gone` off. */
export function createHealthPolicy(option: HealthOptions | false | undefined): HealthPolicy | undefined {
  if (option === false) return undefined;
  const o = option ?? {};
  assertKnownKeys(o, HEALTH_KEYS, 'health');
  return {
    failureThreshold: numberOption('health.failureThreshold', o.failureThreshold, 5, {
      positive: true,
      integer: true,
    }),
    probeDelayMs: numberOption('health.probeDelayMs', o.probeDelayMs, 5_000),
    maxProbeDelayMs: numberOption('health.maxProbeDelayMs', o.maxProbeDelayMs, 300_000),
    disableAfterMs: numberOption('health.disableAfterMs', o.disableAfterMs, 432_000_000, {
      max: Number.MAX_SAFE_INTEGER,
    }),
    maxQueuedWhileOpen: numberOption('health.maxQueuedWhileOpen', o.maxQueuedWhileOpen, 1_000, {
      positive: true,
      integer: true,
      max: Number.MAX_SAFE_INTEGER,
    }),
  };
}

/** What a change of health means for the webhook's owner; the engine turns it into `dispatcher.on` events. */
export type HealthTransition =
  | { kind: 'failing'; reason: string }
  | { kind: 'recovered' }
  | { kind: 'disable'; reason: 'failing' | 'gone'; detail: string };

/**
 * One webhook's circuit breaker.
 *
 * - closed: deliveries flow. `failureThreshold` consecutive failed attempts open it.
 * - open: nothing is sent; deliveries wait in the lane. At `probeAt` one delivery is let through as a probe.
 * - probing: that one attempt is in flight. Success closes the circuit; failure opens it again for twice as long.
 *
 * `failingSince` is the first failure after the last success, on the dispatcher's clock: a webhook failing for
 * `disableAfterMs` is switched off.
 */
export class Circuit {
  state: 'closed' | 'open' | 'probing' = 'closed';
  consecutiveFailures = 0;
  failingSince: number | undefined;
  /** `Date.now()` from which a probe may go (timers run on the wall clock). */
  probeAt = 0;
  private probeDelay: number;

  constructor(private readonly policy: HealthPolicy | undefined) {
    this.probeDelay = policy?.probeDelayMs ?? 0;
  }

  /** Whether a delivery may start now, and if not, from when (a `Date.now()` value), or never (probe in flight). */
  gate(wallNow: number): { open: true } | { open: false; until?: number } {
    if (this.state === 'closed') return { open: true };
    if (this.state === 'probing') return { open: false };
    return wallNow >= this.probeAt ? { open: true } : { open: false, until: this.probeAt };
  }

  /** A delivery starts: when the circuit is open, it is the probe. */
  started(): void {
    if (this.state === 'open') this.state = 'probing';
  }

  /** At most one delivery in flight while open or probing. */
  get singleFile(): boolean {
    return this.state !== 'closed';
  }

  succeeded(): HealthTransition | undefined {
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.failingSince = undefined;
    this.probeDelay = this.policy?.probeDelayMs ?? 0;
    return wasOpen ? { kind: 'recovered' } : undefined;
  }

  /** A failed attempt, `now` on the dispatcher's clock. */
  failed(now: number, wallNow: number, reason: string): HealthTransition | undefined {
    this.consecutiveFailures++;
    this.failingSince ??= now;
    const policy = this.policy;
    if (policy === undefined) return undefined;
    if (policy.disableAfterMs > 0 && now - this.failingSince >= policy.disableAfterMs) {
      return {
        kind: 'disable',
        reason: 'failing',
        detail: `failing without a success since ${new Date(this.failingSince).toISOString()}: ${reason}`,
      };
    }
    if (this.state === 'probing') {
      this.probeDelay = Math.min(this.probeDelay * 2, policy.maxProbeDelayMs);
      this.open(wallNow);
      return undefined;
    }
    if (this.state === 'closed' && this.consecutiveFailures >= policy.failureThreshold) {
      this.open(wallNow);
      return { kind: 'failing', reason: `${this.consecutiveFailures} consecutive failures: ${reason}` };
    }
    return undefined;
  }

  /** The circuit as other processes should see it: open (or probing) with its probe time, or closed. */
  shared(): SharedCircuit | undefined {
    if (this.state === 'closed' || this.failingSince === undefined) return undefined;
    return { probeAt: this.probeAt, probeDelayMs: this.probeDelay, failingSince: this.failingSince };
  }

  /**
   * Takes what another process learned (its circuit opened, a probe failed, or a probe succeeded: `undefined`).
   * The later probe, the longer delay and the earlier `failingSince` win, so it never makes the circuit probe
   * sooner than either process would alone; a probe in flight here stays the one probe.
   */
  adopt(shared: SharedCircuit | undefined, wallNow: number): void {
    const policy = this.policy;
    if (policy === undefined) return;
    if (shared === undefined) {
      if (this.state !== 'closed') this.succeeded();
      return;
    }
    // A record is never trusted to hold deliveries back longer than this process's own policy would.
    const probeAt = Math.min(shared.probeAt, wallNow + policy.maxProbeDelayMs);
    if (this.state === 'closed') {
      this.state = 'open';
      this.probeAt = probeAt;
      this.probeDelay = shared.probeDelayMs;
    } else {
      this.probeAt = Math.max(this.probeAt, probeAt);
      this.probeDelay = Math.max(this.probeDelay, shared.probeDelayMs);
    }
    this.probeDelay = Math.min(this.probeDelay, policy.maxProbeDelayMs);
    this.failingSince = Math.min(this.failingSince ?? shared.failingSince, shared.failingSince);
    this.consecutiveFailures = Math.max(this.consecutiveFailures, policy.failureThreshold);
  }

  /** A probe that ended without an answer (aborted): let the next delivery probe again at once. */
  interrupted(): void {
    if (this.state === 'probing') this.state = 'open';
  }

  private open(wallNow: number): void {
    this.state = 'open';
    this.probeAt = wallNow + this.probeDelay;
  }
}
