// The `webhook-dispatcher/otel` entry: traces and metrics of deliveries on OpenTelemetry. It needs the optional
// peer dependency `@opentelemetry/api` (the host brings the SDK); the core entry never imports it.

export type {
  AttemptEnd,
  AttemptInfo,
  AttemptSpan,
  EmitInfo,
  EngineGauges,
  Instrumentation,
} from '../delivery/instrumentation.js';
export type { OpenTelemetryOptions } from './open-telemetry.js';
export { openTelemetry } from './open-telemetry.js';
export type { EmitTraceContext } from './trace-context.js';
export type { CaptureUrl } from './url-attributes.js';
