import type { ServerResponse } from 'node:http';
import {
  context,
  createTraceState,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OptionsError } from '../src/core/errors.js';
import type { DeliveryResult, Webhook } from '../src/core/types.js';
import type { AttemptInfo, EngineGauges, Instrumentation } from '../src/delivery/instrumentation.js';
import {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';
import { type OpenTelemetryOptions, openTelemetry } from '../src/otel/index.js';
import { type Receiver, type Responder, startReceiver } from './helpers/receiver.js';

/** A reader the test collects from when it wants (no timers). */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  contextManager.disable();
  context.disable();
});

let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let reader: TestReader;
let meterProvider: MeterProvider;
/** The host's own tracer: the span that calls emit(). */
let app: Tracer;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  reader = new TestReader();
  meterProvider = new MeterProvider({ readers: [reader] });
  app = tracerProvider.getTracer('host-app');
});
afterEach(async () => {
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

const URL = 'https://user:pw@hooks.example.com:8443/in/abc?token=s3cret&v=2#frag';

function attemptInfo(emitContext: unknown, fields: Partial<AttemptInfo> = {}): AttemptInfo {
  return {
    emitContext,
    deliveryId: 'msg_w1_e1',
    webhookId: 'w1',
    eventId: 'e1',
    eventType: 'invoice.paid',
    tenant: 'acme',
    attempt: 1,
    url: URL,
    method: 'POST',
    ...fields,
  };
}

function result(fields: Record<string, unknown> = {}): DeliveryResult {
  return {
    deliveryId: 'msg_w1_e1',
    webhookId: 'w1',
    eventId: 'e1',
    ok: true,
    outcome: 'delivered',
    attempts: 1,
    status: 200,
    durationMs: 5,
    ...fields,
  };
}

/** emit() as the engine runs it: onEmit synchronously inside the caller's active span. */
function emitInside(
  instrumentation: Instrumentation,
  name = 'POST /invoices',
): { emitContext: unknown; caller: Span } {
  return app.startActiveSpan(name, (caller) => {
    const emitContext = instrumentation.onEmit?.({ eventId: 'e1', eventType: 'invoice.paid', webhooks: 1 });
    caller.end();
    return { emitContext, caller };
  });
}

/** One delivery of two attempts (a 503, then a 200), driven in the engine's documented order. */
function deliverTwice(
  instrumentation: Instrumentation,
  emitContext: unknown,
): (Record<string, string> | undefined)[] {
  const first = instrumentation.onAttempt?.(attemptInfo(emitContext));
  first?.end({
    ok: false,
    status: 503,
    error: { code: 'HTTP_STATUS', message: 'HTTP 503' },
    durationMs: 40,
    retry: true,
  });
  const second = instrumentation.onAttempt?.(attemptInfo(emitContext, { attempt: 2 }));
  second?.end({ ok: true, status: 200, durationMs: 10, retry: false });
  instrumentation.onResult?.(result({ attempts: 2 }));
  return [first?.headers, second?.headers];
}

function attemptSpans(): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => span.instrumentationScope.name === 'webhook-dispatcher');
}

/** The OptionsError `fn` throws. */
function thrown(fn: () => unknown): OptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionsError);
    return error as OptionsError;
  }
  throw new Error('expected an OptionsError');
}

async function collect(): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  }
  return byName;
}

describe('openTelemetry(): attempt spans', () => {
  it('makes a CLIENT span per attempt, a child of the span that called emit() and linked to it', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const { emitContext, caller } = emitInside(otel);
    deliverTwice(otel, emitContext);

    const spans = attemptSpans();
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.name).toBe('POST');
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(span.links.map((link) => link.context.spanId)).toEqual([caller.spanContext().spanId]);
    }
    expect(spans[0]!.spanContext().spanId).not.toBe(spans[1]!.spanContext().spanId);
  });

  it('follows the HTTP client conventions and adds webhook attributes', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    deliverTwice(otel, emitInside(otel).emitContext);
    const [failed, delivered] = attemptSpans();

    expect(failed!.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': 'hooks.example.com',
      'server.port': 8443,
      'webhook.id': 'w1',
      'webhook.delivery_id': 'msg_w1_e1',
      'webhook.event_id': 'e1',
      'webhook.event_type': 'invoice.paid',
      'webhook.tenant': 'acme',
      'webhook.attempt': 1,
      'webhook.retry': true,
      'http.response.status_code': 503,
      'error.type': '503',
      'webhook.error.code': 'HTTP_STATUS',
    });
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });

    expect(delivered!.attributes).toMatchObject({
      'webhook.attempt': 2,
      'http.request.resend_count': 1,
      'http.response.status_code': 200,
      'webhook.retry': false,
    });
    expect(delivered!.attributes).not.toHaveProperty('error.type');
    expect(delivered!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a network failure by its code, without a status', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const attempt = otel.onAttempt?.(attemptInfo(undefined, { url: 'http://[::1]/hook' }));
    attempt?.end({
      ok: false,
      error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
      durationMs: 2,
      retry: false,
    });
    const [span] = attemptSpans();
    expect(span!.attributes).toMatchObject({
      'server.address': '::1',
      'server.port': 80,
      'error.type': 'ECONNREFUSED',
      'webhook.error.code': 'ECONNREFUSED',
    });
    expect(span!.attributes).not.toHaveProperty('http.response.status_code');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a redirect is a failure named by its code, not by the 3xx status', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    otel.onAttempt?.(attemptInfo(undefined))?.end({
      ok: false,
      status: 302,
      error: { code: 'REDIRECT', message: 'redirects are not followed' },
      durationMs: 1,
      retry: false,
    });
    expect(attemptSpans()[0]!.attributes).toMatchObject({
      'error.type': 'REDIRECT',
      'http.response.status_code': 302,
    });
  });

  it('starts a root span when emit() ran outside any span, even if the attempt starts inside an unrelated one', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const emitContext = otel.onEmit?.({ eventId: 'e1', webhooks: 1 });
    expect(emitContext).toBeUndefined();
    // The engine's scheduler may start this attempt inside another delivery's callback.
    app.startActiveSpan('someone else', (other) => {
      otel.onAttempt?.(attemptInfo(emitContext))?.end({ ok: true, status: 204, durationMs: 1, retry: false });
      other.end();
    });
    const [span] = attemptSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.links).toEqual([]);
  });

  it("attemptParent: 'link' links the attempt to the emitting span in a trace of its own", () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, attemptParent: 'link' });
    const { emitContext, caller } = emitInside(otel);
    otel.onAttempt?.(attemptInfo(emitContext))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    const [span] = attemptSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).not.toBe(caller.spanContext().traceId);
    const { traceId, spanId } = caller.spanContext();
    expect(span!.links[0]!.context).toMatchObject({ traceId, spanId });
  });

  it('carries the emit context as plain JSON, so a durable queue can store it in the job', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const { emitContext, caller } = emitInside(otel);
    const { traceId, spanId } = caller.spanContext();
    expect(emitContext).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });

    const revived = JSON.parse(JSON.stringify(emitContext));
    otel.onAttempt?.(attemptInfo(revived))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    expect(attemptSpans()[0]!.parentSpanContext?.spanId).toBe(spanId);
  });

  it('ignores an emit context that is not a valid W3C trace context', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    for (const emitContext of [
      { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' },
      { traceparent: 'garbage' },
      { traceparent: 42 },
      'a string',
      null,
    ]) {
      otel.onAttempt?.(attemptInfo(emitContext))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    }
    const spans = attemptSpans();
    expect(spans).toHaveLength(5);
    for (const span of spans) expect(span.parentSpanContext).toBeUndefined();
  });

  it('records no url.full by default: webhook URLs are often credentials', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    otel.onAttempt?.(attemptInfo(undefined))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    expect(attemptSpans()[0]!.attributes).not.toHaveProperty('url.full');
  });

  it('captureUrl: true records url.full with user info and query values redacted', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, captureUrl: true });
    otel.onAttempt?.(attemptInfo(undefined))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    expect(attemptSpans()[0]!.attributes['url.full']).toBe(
      'https://REDACTED:REDACTED@hooks.example.com:8443/in/abc?token=REDACTED&v=REDACTED',
    );
  });

  it('captureUrl: a function decides what url.full says; one that throws records none', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, captureUrl: (url) => `${url.origin}/…` });
    otel.onAttempt?.(attemptInfo(undefined))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    const throwing = openTelemetry({
      tracerProvider,
      meterProvider,
      captureUrl: () => {
        throw new Error('boom');
      },
    });
    throwing.onAttempt?.(attemptInfo(undefined))?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    const [custom, none] = attemptSpans();
    expect(custom!.attributes['url.full']).toBe('https://hooks.example.com:8443/…');
    expect(none!.attributes).not.toHaveProperty('url.full');
    expect(none!.attributes['server.address']).toBe('hooks.example.com');
  });
});

describe('openTelemetry(): trace context for receivers', () => {
  it('adds no headers by default', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    expect(deliverTwice(otel, emitInside(otel).emitContext)).toEqual([undefined, undefined]);
  });

  it("propagateTraceContext: true sends each attempt span's own traceparent", () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, propagateTraceContext: true });
    const traced = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    const emitContext = context.with(traced, () => otel.onEmit?.({ eventId: 'e1', webhooks: 1 })) as {
      traceparent: string;
    };
    expect(emitContext.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');

    const headers = deliverTwice(otel, emitContext);
    const spans = attemptSpans();
    expect(headers).toEqual(
      spans.map((span) => ({
        traceparent: `00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`,
      })),
    );
  });

  it('passes tracestate on to the receiver', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, propagateTraceContext: true });
    const traced = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=abc,other=1'),
    });
    const emitContext = context.with(traced, () => otel.onEmit?.({ eventId: 'e1', webhooks: 1 }));
    expect(emitContext).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=abc,other=1',
    });
    const attempt = otel.onAttempt?.(attemptInfo(JSON.parse(JSON.stringify(emitContext))));
    expect(attempt?.headers?.tracestate).toBe('vendor=abc,other=1');
  });

  it('propagateTraceContext: a TextMapPropagator injects with it', () => {
    const otel = openTelemetry({
      tracerProvider,
      meterProvider,
      propagateTraceContext: {
        inject(ctx, carrier, setter) {
          setter.set(carrier, 'x-trace-id', trace.getSpanContext(ctx)?.traceId ?? 'none');
        },
        extract: (ctx) => ctx,
        fields: () => ['x-trace-id'],
      },
    });
    const { emitContext, caller } = emitInside(otel);
    const attempt = otel.onAttempt?.(attemptInfo(emitContext));
    expect(attempt?.headers).toEqual({ 'x-trace-id': caller.spanContext().traceId });
  });

  it('sends nothing when there is no trace to join (no SDK, no emitting span)', () => {
    const otel = openTelemetry({ propagateTraceContext: true }); // the global no-op providers
    const attempt = otel.onAttempt?.(attemptInfo(otel.onEmit?.({ eventId: 'e1', webhooks: 1 })));
    expect(attempt?.headers).toBeUndefined();
    expect(() => attempt?.end({ ok: true, status: 200, durationMs: 1, retry: false })).not.toThrow();
    otel.onResult?.(result());
  });
});

describe('openTelemetry(): metrics', () => {
  it('counts deliveries by outcome and error code', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    otel.onResult?.(result());
    otel.onResult?.(result());
    otel.onResult?.(
      result({ ok: false, outcome: 'failed', error: { code: 'TIMEOUT', message: 'timed out' } }),
    );
    otel.onResult?.(result({ ok: false, outcome: 'skipped', attempts: 0, reason: 'webhook is off' }));

    const deliveries = (await collect()).get('webhook.deliveries')!;
    expect(deliveries.descriptor.unit).toBe('{delivery}');
    expect(deliveries.dataPointType).toBe(DataPointType.SUM);
    const points = deliveries.dataPoints.map((point) => ({
      attributes: point.attributes,
      value: point.value,
    }));
    expect(points).toEqual(
      expect.arrayContaining([
        { attributes: { 'webhook.outcome': 'delivered' }, value: 2 },
        { attributes: { 'webhook.outcome': 'failed', 'error.type': 'TIMEOUT' }, value: 1 },
        { attributes: { 'webhook.outcome': 'skipped' }, value: 1 },
      ]),
    );
    expect(points).toHaveLength(3);
  });

  it('records attempt durations in seconds', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    deliverTwice(otel, undefined);
    const metrics = await collect();
    // Not counted twice next to the undici instrumentation unless asked for.
    expect(metrics.has('http.client.request.duration')).toBe(false);

    const attempt = metrics.get('webhook.attempt.duration') as HistogramMetricData;
    expect(attempt.descriptor.unit).toBe('s');
    const byStatus = new Map(attempt.dataPoints.map((p) => [p.attributes['http.response.status_code'], p]));
    expect(byStatus.get(503)!.attributes).toEqual({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(byStatus.get(503)!.value.sum).toBeCloseTo(0.04);
    expect(byStatus.get(200)!.value.count).toBe(1);
    expect(byStatus.get(200)!.value.sum).toBeCloseTo(0.01);
    // The conventions' advised boundaries, not the SDK's millisecond-sized defaults.
    expect(byStatus.get(200)!.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });

  it("httpClientMetrics: true also records http.client.request.duration with the conventions' attributes", async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, httpClientMetrics: true });
    deliverTwice(otel, undefined);
    const http = (await collect()).get('http.client.request.duration') as HistogramMetricData;
    expect(http.descriptor.unit).toBe('s');
    expect(http.dataPoints.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([
        {
          'http.request.method': 'POST',
          'server.address': 'hooks.example.com',
          'server.port': 8443,
          'http.response.status_code': 503,
          'error.type': '503',
        },
        {
          'http.request.method': 'POST',
          'server.address': 'hooks.example.com',
          'server.port': 8443,
          'http.response.status_code': 200,
        },
      ]),
    );
  });

  it('reads the gauges on collection, adding up every dispatcher that shares the instrumentation', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    let queued = 3;
    otel.gauges?.(() => ({ queued, queuedBytes: 1200, inFlight: 2, lanesOpen: 2, circuitsOpen: 1 }));
    otel.gauges?.(() => ({ queued: 1, queuedBytes: 300, inFlight: 0, lanesOpen: 1, circuitsOpen: 0 }));
    otel.gauges?.(() => {
      throw new Error('a closed dispatcher');
    });

    const value = (metrics: Map<string, MetricData>, name: string) => {
      const metric = metrics.get(name)!;
      expect(metric.dataPoints).toHaveLength(1);
      return metric.dataPoints[0]!.value;
    };
    let metrics = await collect();
    expect({
      depth: value(metrics, 'webhook.queue.depth'),
      bytes: value(metrics, 'webhook.queue.bytes'),
      inFlight: value(metrics, 'webhook.attempts.in_flight'),
      lanes: value(metrics, 'webhook.lanes.open'),
      circuits: value(metrics, 'webhook.circuits.open'),
    }).toEqual({ depth: 4, bytes: 1500, inFlight: 2, lanes: 3, circuits: 1 });
    expect(metrics.get('webhook.queue.bytes')!.descriptor.unit).toBe('By');

    queued = 0;
    metrics = await collect();
    expect(value(metrics, 'webhook.queue.depth')).toBe(1);
  });

  it('registers no gauges until a dispatcher offers them', async () => {
    openTelemetry({ tracerProvider, meterProvider });
    expect([...(await collect()).keys()].filter((name) => name.startsWith('webhook.queue'))).toEqual([]);
  });

  it('ignores gauge values that are not counts', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    otel.gauges?.(
      () =>
        ({
          queued: Number.NaN,
          queuedBytes: -1,
          inFlight: 'x',
          lanesOpen: 2,
        }) as unknown as EngineGauges,
    );
    const metrics = await collect();
    expect(metrics.get('webhook.queue.depth')!.dataPoints[0]!.value).toBe(0);
    expect(metrics.get('webhook.queue.bytes')!.dataPoints[0]!.value).toBe(0);
    expect(metrics.get('webhook.lanes.open')!.dataPoints[0]!.value).toBe(2);
  });
});

describe('openTelemetry(): hostile input and options', () => {
  it('is a plain object of hooks: spreading it into a composed instrumentation keeps them all', () => {
    const results: string[] = [];
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const composed: Instrumentation = {
      ...otel,
      onResult(delivery) {
        otel.onResult?.(delivery);
        results.push(delivery.outcome);
      },
    };
    deliverTwice(composed, emitInside(composed).emitContext);
    expect(attemptSpans()).toHaveLength(2);
    expect(results).toEqual(['delivered']);
  });

  it('ends a span once, however often end() is called', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const attempt = otel.onAttempt?.(attemptInfo(undefined));
    attempt?.end({ ok: true, status: 200, durationMs: 1, retry: false });
    attempt?.end({ ok: false, status: 500, durationMs: 1, retry: false });
    expect(attemptSpans()).toHaveLength(1);
    expect(attemptSpans()[0]!.attributes['http.response.status_code']).toBe(200);
    const histogram = (await collect()).get('webhook.attempt.duration') as HistogramMetricData;
    expect(histogram.dataPoints.map((point) => point.value.count)).toEqual([1]);
  });

  it('an end() with odd values still ends the span and keeps metric attributes bounded', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const attempt = otel.onAttempt?.(attemptInfo(undefined));
    attempt?.end({
      ok: false,
      status: 12345,
      error: { code: 'x'.repeat(500), message: 'y'.repeat(5000) },
      durationMs: Number.NaN,
      retry: false,
    });
    const [span] = attemptSpans();
    expect(span!.ended).toBe(true);
    expect(span!.attributes['error.type']).toBe('_OTHER');
    expect(span!.attributes).not.toHaveProperty('http.response.status_code');
    expect(span!.status.message).toHaveLength(1024);
    const histogram = (await collect()).get('webhook.attempt.duration') as HistogramMetricData;
    expect(Number.isFinite(histogram.dataPoints[0]!.value.sum)).toBe(true);
  });

  it('refuses unknown and invalid options with the usual message', () => {
    expect(thrown(() => openTelemetry({ propagate: true } as never))).toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      field: 'propagate',
      message: expect.stringMatching(
        /^Expected an option of openTelemetry\(\) \(tracerProvider, .*\), got `propagate`$/,
      ),
    });
    expect(thrown(() => openTelemetry({ captureUrl: 'yes' as never })).message).toBe(
      'Expected `captureUrl` to be a boolean or a function, got "yes"',
    );
    expect(thrown(() => openTelemetry({ attemptParent: 'child' as never })).message).toBe(
      "Expected `attemptParent` to be 'emit' or 'link', got \"child\"",
    );
    expect(thrown(() => openTelemetry({ propagateTraceContext: 'w3c' as never })).message).toBe(
      'Expected `propagateTraceContext` to be a boolean or a TextMapPropagator, got "w3c"',
    );
    expect(thrown(() => openTelemetry({ tracerProvider: {} as never })).message).toBe(
      'Expected `tracerProvider` to be a TracerProvider (with getTracer()), got an object',
    );
  });
});

describe('openTelemetry() through createWebhookDispatcher()', () => {
  let receiver: Receiver | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close({ deadlineMs: 1000 });
    await receiver?.close();
    dispatcher = undefined;
    receiver = undefined;
  });

  async function start(
    respond: Responder,
    otel: OpenTelemetryOptions = {},
    options: WebhookDispatcherOptions = {},
  ): Promise<Webhook> {
    receiver = await startReceiver(respond);
    dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { retries: 1, delayMs: 10 },
      instrumentation: openTelemetry({ tracerProvider, meterProvider, ...otel }),
      ...options,
    });
    return dispatcher.webhooks.create({ url: `${receiver.url}/hooks`, events: ['invoice.paid'] });
  }

  /** emit() inside a request span, as a host's handler does. */
  function emitFrom(name: string, event: Record<string, unknown>, emitOptions?: { tenant?: string }) {
    return app.startActiveSpan(name, async (caller) => {
      const results = await dispatcher!.emit(event, emitOptions);
      caller.end();
      return { results, caller };
    });
  }

  it('traces every attempt under the span that called emit(), with its traceparent sent to the receiver', async () => {
    const webhook = await start((_request, n) => (n === 0 ? 503 : 200), { propagateTraceContext: true });
    const { results, caller } = await emitFrom('POST /invoices', { id: 'evt_1', type: 'invoice.paid' });
    expect(results[0]).toMatchObject({ outcome: 'delivered', attempts: 2 });

    const spans = attemptSpans();
    expect(spans).toHaveLength(2);
    const { traceId, spanId } = caller.spanContext();
    for (const [i, span] of spans.entries()) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(spanId);
      expect(span.links.map((link) => link.context.spanId)).toEqual([spanId]);
      expect(receiver!.requests[i]!.headers.traceparent).toBe(
        `00-${traceId}-${span.spanContext().spanId}-01`,
      );
      expect(span.attributes).toMatchObject({
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'server.port': receiver!.port,
        'webhook.id': webhook.id,
        'webhook.delivery_id': results[0]!.deliveryId,
        'webhook.event_id': 'evt_1',
        'webhook.event_type': 'invoice.paid',
        'webhook.attempt': i + 1,
        'webhook.retry': i === 0,
      });
    }
    expect(spans[0]!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(spans[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[1]!.attributes['http.response.status_code']).toBe(200);
    expect(spans[1]!.status.code).toBe(SpanStatusCode.UNSET);

    const metrics = await collect();
    expect(metrics.get('webhook.deliveries')!.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'webhook.outcome': 'delivered' }, 1],
    ]);
    const durations = metrics.get('webhook.attempt.duration') as HistogramMetricData;
    expect(durations.dataPoints.reduce((count, point) => count + point.value.count, 0)).toBe(2);
  });

  it('sends no trace headers unless asked', async () => {
    await start(() => 200);
    await emitFrom('POST /invoices', { id: 'evt_2', type: 'invoice.paid' });
    expect(attemptSpans()).toHaveLength(1);
    expect(receiver!.requests[0]!.headers).not.toHaveProperty('traceparent');
    expect(receiver!.requests[0]!.headers).not.toHaveProperty('tracestate');
  });

  it('puts each delivery under its own emitting span, whichever delivery the engine starts it from', async () => {
    // One slot: each delivery starts when the one before it ends, inside that one's callbacks.
    await start(() => 200, {}, { concurrency: 1, perWebhookConcurrency: 1 });
    const emits = await Promise.all(
      ['a', 'b', 'c'].map((name) => emitFrom(`request ${name}`, { id: `evt_${name}`, type: 'invoice.paid' })),
    );
    const parents = new Map(
      attemptSpans().map((span) => [span.attributes['webhook.event_id'], span.parentSpanContext?.spanId]),
    );
    expect(parents).toEqual(
      new Map(emits.map(({ caller }, i) => [`evt_${'abc'[i]}`, caller.spanContext().spanId])),
    );
  });

  it('records the tenant, and counts a failure by its code', async () => {
    receiver = await startReceiver(() => 500);
    dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: 0,
      instrumentation: openTelemetry({ tracerProvider, meterProvider }),
    });
    await dispatcher.webhooks.create({ url: receiver.url, events: ['invoice.paid'], tenant: 'acme' });
    await emitFrom('POST /invoices', { id: 'evt_3', type: 'invoice.paid' }, { tenant: 'acme' });

    const [span] = attemptSpans();
    expect(span!.attributes).toMatchObject({
      'webhook.tenant': 'acme',
      'error.type': '500',
      'webhook.retry': false,
    });
    const metrics = await collect();
    expect(metrics.get('webhook.deliveries')!.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'webhook.outcome': 'failed', 'error.type': 'HTTP_STATUS' }, 1],
    ]);
  });

  it("reads the engine's gauges: attempts in flight, deliveries waiting, lanes open", async () => {
    const held: ServerResponse[] = [];
    await start(
      (_request, _n, res) => {
        held.push(res);
        return 'handled';
      },
      {},
      { perWebhookConcurrency: 1 },
    );
    const emits = ['x', 'y', 'z'].map((id) => dispatcher!.emit({ id, type: 'invoice.paid' }));
    await receiver!.waitFor(1);

    const value = (metrics: Map<string, MetricData>, name: string) => metrics.get(name)?.dataPoints[0]?.value;
    const metrics = await collect();
    expect({
      inFlight: value(metrics, 'webhook.attempts.in_flight'),
      queued: value(metrics, 'webhook.queue.depth'),
      lanes: value(metrics, 'webhook.lanes.open'),
      circuits: value(metrics, 'webhook.circuits.open'),
    }).toEqual({ inFlight: 1, queued: 2, lanes: 1, circuits: 0 });
    expect(value(metrics, 'webhook.queue.bytes')).toBeGreaterThan(0);

    for (let n = 1; n <= 3; n++) {
      await receiver!.waitFor(n);
      held[n - 1]!.end('ok');
    }
    await Promise.all(emits);
    const after = await collect();
    expect(value(after, 'webhook.attempts.in_flight')).toBe(0);
    expect(value(after, 'webhook.queue.depth')).toBe(0);
  });
});
