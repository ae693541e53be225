import type { Attributes, Counter, Histogram, Meter, ObservableUpDownCounter } from '@opentelemetry/api';
import type { DeliveryResult } from '../core/types.js';
import type { EngineGauges } from '../delivery/instrumentation.js';
import type { CheckedEnd } from './attempt-end.js';
import type { UrlAttributes } from './url-attributes.js';

/** The bucket boundaries the HTTP conventions advise for `http.client.request.duration` (seconds). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

type GaugeName = keyof EngineGauges;

/** The gauges' instrument names, units and descriptions. */
const GAUGES: Record<GaugeName, { name: string; unit: string; description: string }> = {
  queued: {
    name: 'webhook.queue.depth',
    unit: '{delivery}',
    description: 'Deliveries waiting for a slot (in lanes, behind open circuits, in retry waits).',
  },
  queuedBytes: { name: 'webhook.queue.bytes', unit: 'By', description: 'Bytes held by waiting deliveries.' },
  inFlight: {
    name: 'webhook.attempts.in_flight',
    unit: '{attempt}',
    description: 'HTTP attempts in flight.',
  },
  lanesOpen: {
    name: 'webhook.lanes.open',
    unit: '{lane}',
    description: 'Webhooks with a lane open (work queued or in flight).',
  },
  circuitsOpen: {
    name: 'webhook.circuits.open',
    unit: '{circuit}',
    description: 'Webhooks whose circuit is open (failing; single probes test them).',
  },
};

/** The instruments of one `openTelemetry()`: counters and histograms at once, gauges at the first `gauges()`. */
export class DeliveryMetrics {
  readonly #meter: Meter;
  readonly #onError: (error: unknown) => void;
  readonly #deliveries: Counter;
  readonly #attemptDuration: Histogram;
  readonly #requestDuration: Histogram | undefined;
  readonly #readers = new Set<() => EngineGauges>();

  constructor(meter: Meter, onError: (error: unknown) => void, httpClientMetrics: boolean) {
    this.#meter = meter;
    this.#onError = onError;
    this.#deliveries = meter.createCounter('webhook.deliveries', {
      unit: '{delivery}',
      description: 'Deliveries that reached a final outcome, by `webhook.outcome` and `error.type`.',
    });
    this.#attemptDuration = meter.createHistogram('webhook.attempt.duration', {
      unit: 's',
      description: 'Duration of webhook HTTP attempts, by `error.type` and `http.response.status_code`.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#requestDuration = httpClientMetrics
      ? meter.createHistogram('http.client.request.duration', {
          unit: 's',
          description: 'Duration of HTTP client requests.',
          advice: { explicitBucketBoundaries: DURATION_BUCKETS },
        })
      : undefined;
  }

  attempt(end: CheckedEnd, url: UrlAttributes, seconds: number): void {
    const attributes: Attributes = {};
    if (end.status !== undefined) attributes['http.response.status_code'] = end.status;
    if (end.errorType !== undefined) attributes['error.type'] = end.errorType;
    this.#attemptDuration.record(seconds, attributes);
    // The conventions' own histogram, with their attributes: the receiver's address is part of it.
    this.#requestDuration?.record(seconds, {
      'http.request.method': 'POST',
      'server.address': url['server.address'],
      'server.port': url['server.port'],
      ...attributes,
    });
  }

  result(result: DeliveryResult): void {
    const attributes: Attributes = { 'webhook.outcome': String(result.outcome) };
    const code = result.error?.code;
    if (typeof code === 'string') attributes['error.type'] = code;
    this.#deliveries.add(1, attributes);
  }

  /** Several dispatchers may share one instrumentation: their gauges add up. */
  addGauges(read: () => EngineGauges): void {
    if (typeof read !== 'function') return;
    if (this.#readers.size === 0) this.#observeGauges();
    this.#readers.add(read);
  }

  #observeGauges(): void {
    const names = Object.keys(GAUGES) as GaugeName[];
    const instruments = new Map<GaugeName, ObservableUpDownCounter>();
    for (const name of names) {
      const { name: instrument, ...options } = GAUGES[name];
      instruments.set(name, this.#meter.createObservableUpDownCounter(instrument, options));
    }
    this.#meter.addBatchObservableCallback(
      (observer) => {
        const totals = this.#readTotals(names);
        for (const name of names) observer.observe(instruments.get(name)!, totals[name]);
      },
      [...instruments.values()],
    );
  }

  #readTotals(names: GaugeName[]): EngineGauges {
    const totals: EngineGauges = {
      queued: 0,
      queuedBytes: 0,
      inFlight: 0,
      lanesOpen: 0,
      circuitsOpen: 0,
    };
    for (const read of this.#readers) {
      try {
        const values = read();
        for (const name of names) {
          const value = values?.[name];
          if (typeof value === 'number' && Number.isFinite(value) && value >= 0) totals[name] += value;
        }
      } catch (error) {
        this.#onError(error);
      }
    }
    return totals;
  }
}
