import {
  type Attributes,
  context,
  defaultTextMapSetter,
  diag,
  type Link,
  type MeterProvider,
  metrics,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { DeliveryResult } from '../core/types.js';
import type {
  AttemptEnd,
  AttemptInfo,
  AttemptSpan,
  EmitInfo,
  EngineGauges,
  Instrumentation,
} from '../delivery/instrumentation.js';
import { OptionsError } from '../extend.js';
import { VERSION } from '../index.js';
import { checkEnd } from './attempt-end.js';
import { DeliveryMetrics } from './metrics.js';
import { formatTraceparent, fromEmitContext, serializeTraceState, toEmitContext } from './trace-context.js';
import { type CaptureUrl, type UrlAttributes, urlAttributesReader } from './url-attributes.js';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where attempt spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`, what the OpenTelemetry SDK registers)
   */
  tracerProvider?: TracerProvider;
  /**
   * Where the metrics go. The global one is read when `openTelemetry()` is called: start the SDK first, or pass it.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider;
  /**
   * Send the attempt span's W3C Trace Context (`traceparent`, `tracestate`) to receivers, so their spans join the
   * trace. `true` sends those two headers only, whatever propagators the host registered (never `baggage`: the
   * receiver is a third party). A `TextMapPropagator` injects with it instead.
   * @default false
   */
  propagateTraceContext?: boolean | TextMapPropagator;
  /**
   * Whether attempt spans carry `url.full`. Webhook URLs often are credentials themselves (Slack, Discord and
   * Teams put the secret in the path), so it is off unless asked for: `true` records the URL with user info and
   * every query value replaced by `REDACTED`; a function receives the URL and returns what to record (or
   * undefined). `server.address` and `server.port` are always recorded.
   * @default false
   */
  captureUrl?: CaptureUrl;
  /**
   * How an attempt span relates to the span that called `emit()`. `'emit'`: its child (the attempt shows in the
   * emitting request's trace) and linked to it. `'link'`: linked only, each attempt a trace of its own; choose it
   * when retry schedules span hours and long traces are unwelcome.
   * @default 'emit'
   */
  attemptParent?: 'emit' | 'link';
  /**
   * Also record the HTTP conventions' `http.client.request.duration` (with `server.address`, one series per
   * receiver host). Off by default: `@opentelemetry/instrumentation-undici`, part of the usual auto-instrumentations,
   * records it for the same requests, and a count twice is worse than none.
   * @default false
   */
  httpClientMetrics?: boolean;
}

const OPTIONS = new Set<string>([
  'tracerProvider',
  'meterProvider',
  'propagateTraceContext',
  'captureUrl',
  'attemptParent',
  'httpClientMetrics',
]);
const SCOPE = 'webhook-dispatcher';

/**
 * Traces and metrics of deliveries on OpenTelemetry, as `createWebhookDispatcher({ instrumentation })` takes them:
 * a CLIENT span per HTTP attempt (HTTP client conventions plus `webhook.*` attributes) under the span that called
 * `emit()`, and the `webhook.deliveries` counter, attempt duration histograms and queue gauges.
 *
 * @example
 * createWebhookDispatcher({ instrumentation: openTelemetry({ propagateTraceContext: true }) })
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  const otel = new OpenTelemetryInstrumentation(checkOptions(options));
  // A plain object of functions: spreading it into a composed instrumentation keeps every hook.
  return {
    onEmit: (info) => otel.onEmit(info),
    onAttempt: (info) => otel.onAttempt(info),
    onResult: (result) => otel.onResult(result),
    gauges: (read) => otel.gauges(read),
  };
}

type Settings = Required<Omit<OpenTelemetryOptions, 'tracerProvider' | 'meterProvider'>> & {
  tracer: Tracer;
  meters: DeliveryMetrics;
};

/** A `captureUrl` function or a gauge read that throws is told to OpenTelemetry's own diagnostics logger. */
function reportError(error: unknown): void {
  diag.error('webhook-dispatcher/otel: a callback threw', error);
}

class OpenTelemetryInstrumentation {
  readonly #settings: Settings;
  readonly #urlAttributes: (url: string) => UrlAttributes;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#urlAttributes = urlAttributesReader(settings.captureUrl, reportError);
  }

  /** The span context that called emit(), as W3C strings (they survive a durable queue). */
  onEmit(_info: EmitInfo): unknown {
    return toEmitContext(trace.getSpanContext(context.active()));
  }

  onAttempt(info: AttemptInfo): AttemptSpan {
    const { tracer, attemptParent } = this.#settings;
    const emitter = fromEmitContext(info.emitContext);
    // Never context.active() here: an attempt starts wherever the engine's scheduler happens to run (often inside
    // another delivery's callback), so only the emit's own context says where it belongs.
    const parent =
      emitter !== undefined && attemptParent === 'emit'
        ? trace.setSpanContext(ROOT_CONTEXT, emitter)
        : ROOT_CONTEXT;
    const url = this.#urlAttributes(String(info.url));
    const links: Link[] | undefined = emitter ? [{ context: emitter }] : undefined;
    const span = tracer.startSpan(
      'POST',
      { kind: SpanKind.CLIENT, attributes: attemptAttributes(info, url), links },
      parent,
    );
    const started = performance.now();
    let ended = false;
    return {
      headers: this.#headersFor(span),
      end: (outcome: AttemptEnd) => {
        if (ended) return;
        ended = true;
        this.#end(span, url, started, outcome);
      },
    };
  }

  onResult(result: DeliveryResult): void {
    this.#settings.meters.result(result);
  }

  gauges(read: () => EngineGauges): void {
    this.#settings.meters.addGauges(read);
  }

  #headersFor(span: Span): Record<string, string> | undefined {
    const { propagateTraceContext } = this.#settings;
    if (propagateTraceContext === false) return undefined;
    const spanContext = span.spanContext();
    if (!trace.isSpanContextValid(spanContext)) return undefined;
    if (propagateTraceContext === true) {
      const tracestate = serializeTraceState(spanContext.traceState);
      const traceparent = formatTraceparent(spanContext);
      return tracestate ? { traceparent, tracestate } : { traceparent };
    }
    const carrier: Record<string, string> = {};
    propagateTraceContext.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    return carrier;
  }

  #end(span: Span, url: UrlAttributes, started: number, outcome: AttemptEnd): void {
    const end = checkEnd(outcome);
    const seconds = (end.durationMs ?? performance.now() - started) / 1000;
    this.#settings.meters.attempt(end, url, seconds);
    if (span.isRecording()) {
      const attributes: Attributes = { 'webhook.retry': end.retry };
      if (end.status !== undefined) attributes['http.response.status_code'] = end.status;
      if (end.errorType !== undefined) attributes['error.type'] = end.errorType;
      if (end.code !== undefined) attributes['webhook.error.code'] = end.code;
      span.setAttributes(attributes);
      if (!end.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: end.message });
    }
    span.end();
  }
}

function attemptAttributes(info: AttemptInfo, url: UrlAttributes): Attributes {
  const attempt = Number(info.attempt);
  const attributes: Attributes = {
    'http.request.method': 'POST',
    ...url,
    'webhook.id': String(info.webhookId),
    'webhook.delivery_id': String(info.deliveryId),
    'webhook.event_id': String(info.eventId),
    'webhook.attempt': attempt,
  };
  if (typeof info.eventType === 'string') attributes['webhook.event_type'] = info.eventType;
  if (typeof info.tenant === 'string') attributes['webhook.tenant'] = info.tenant;
  // The conventions count resends from the second attempt on.
  if (attempt > 1) attributes['http.request.resend_count'] = attempt - 1;
  return attributes;
}

function checkOptions(options: OpenTelemetryOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('options', `Expected \`options\` to be an object, got ${shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) {
      throw new OptionsError(
        key,
        `Expected an option of openTelemetry() (${[...OPTIONS].join(', ')}), got \`${key}\``,
      );
    }
  }
  const { tracerProvider, meterProvider, propagateTraceContext = false, captureUrl = false } = options;
  const { attemptParent = 'emit', httpClientMetrics = false } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw new OptionsError(
      'tracerProvider',
      `Expected \`tracerProvider\` to be a TracerProvider (with getTracer()), got ${shown(tracerProvider)}`,
    );
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw new OptionsError(
      'meterProvider',
      `Expected \`meterProvider\` to be a MeterProvider (with getMeter()), got ${shown(meterProvider)}`,
    );
  }
  if (
    typeof propagateTraceContext !== 'boolean' &&
    typeof (propagateTraceContext as Partial<TextMapPropagator> | null)?.inject !== 'function'
  ) {
    throw new OptionsError(
      'propagateTraceContext',
      `Expected \`propagateTraceContext\` to be a boolean or a TextMapPropagator, got ${shown(propagateTraceContext)}`,
    );
  }
  if (typeof captureUrl !== 'boolean' && typeof captureUrl !== 'function') {
    throw new OptionsError(
      'captureUrl',
      `Expected \`captureUrl\` to be a boolean or a function, got ${shown(captureUrl)}`,
    );
  }
  if (attemptParent !== 'emit' && attemptParent !== 'link') {
    throw new OptionsError(
      'attemptParent',
      `Expected \`attemptParent\` to be 'emit' or 'link', got ${shown(attemptParent)}`,
    );
  }
  if (typeof httpClientMetrics !== 'boolean') {
    throw new OptionsError(
      'httpClientMetrics',
      `Expected \`httpClientMetrics\` to be a boolean, got ${shown(httpClientMetrics)}`,
    );
  }
  const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION);
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION);
  return {
    propagateTraceContext,
    captureUrl,
    attemptParent,
    httpClientMetrics,
    tracer,
    meters: new DeliveryMetrics(meter, reportError, httpClientMetrics),
  };
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
