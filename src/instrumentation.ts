import type { DeliveryResult } from './types.js';

/**
 * Hooks the engine calls so that tracing and metrics can follow deliveries without the core importing any
 * telemetry API (`webhook-dispatcher/otel` implements them with OpenTelemetry). Any hook may throw: the engine
 * catches and logs it, and the delivery goes on.
 */
export interface Instrumentation {
  /** Called synchronously inside `emit()`; its return value is carried by the jobs of this emit. */
  onEmit?(info: { eventId: string; eventType?: string; tenant?: string; webhooks: number }): unknown;
  /** Called when an HTTP attempt starts; `end` is called exactly once when it ends. `headers` are added to the request. */
  onAttempt?(info: AttemptInfo): AttemptSpan | undefined;
  /** Called once per final outcome. */
  onResult?(result: DeliveryResult): void;
  /** Gives the instrumentation a reader of the engine's gauges, once, at start. */
  gauges?(read: () => EngineGauges): void;
}

export interface AttemptInfo {
  emitContext: unknown;
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventType?: string;
  tenant?: string;
  attempt: number;
  url: string;
  method: 'POST';
}

export interface AttemptSpan {
  headers?: Record<string, string>;
  end(outcome: {
    ok: boolean;
    status?: number;
    error?: { code: string; message: string };
    durationMs: number;
    retry: boolean;
  }): void;
}

export interface EngineGauges {
  queued: number;
  queuedBytes: number;
  inFlight: number;
  lanesOpen: number;
  circuitsOpen: number;
}
