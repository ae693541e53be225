// Traces and metrics of webhook deliveries, printed to the console by the OpenTelemetry SDK's console exporters.
// An app span ("POST /invoices/:id/pay") emits an event; the receiver fails once, so the delivery makes two
// attempts: two CLIENT spans under the app span, each sending its own `traceparent` to the receiver. Then the
// metrics: `webhook.deliveries`, `webhook.attempt.duration` and the queue gauges.
// Run: `npm run build && node examples/otel-console.mjs`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { openTelemetry } from 'webhook-dispatcher/otel';

// What an app's tracing setup does (the NodeSDK does all of this for you).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
});
const meterProvider = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new ConsoleMetricExporter(),
      exportIntervalMillis: 60_000,
    }),
  ],
});

// A receiver that answers 503 once, then 200, and shows the trace context it was sent.
let requests = 0;
const receiver = createServer((req, res) => {
  console.log(`receiver: attempt ${requests + 1}, traceparent ${req.headers.traceparent ?? '(none)'}`);
  res.statusCode = requests++ === 0 ? 503 : 200;
  req.resume().on('end', () => res.end());
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');

const dispatcher = createWebhookDispatcher({
  allowPrivateNetworks: true, // the receiver is on loopback
  retry: { retries: 1, delayMs: 100 },
  instrumentation: openTelemetry({ tracerProvider, meterProvider, propagateTraceContext: true }),
});
await dispatcher.webhooks.create({
  url: `http://127.0.0.1:${receiver.address().port}/hooks/billing`,
  events: ['invoice.paid'],
});

const app = tracerProvider.getTracer('example-app');
await app.startActiveSpan('POST /invoices/:id/pay', async (span) => {
  const [result] = await dispatcher.emit({
    id: 'evt_1',
    type: 'invoice.paid',
    invoice: 'in_42',
    amount: 4200,
  });
  console.log(`app: delivery ${result.outcome} after ${result.attempts} attempts`);
  span.end();
});

await dispatcher.close();
receiver.close();
// Shutting the providers down exports what is left: the app span, then one round of metrics.
await tracerProvider.shutdown();
await meterProvider.shutdown();
