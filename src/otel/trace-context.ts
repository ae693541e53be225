import {
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  type TraceState,
} from '@opentelemetry/api';

/**
 * The context an emit hands to its deliveries: the W3C Trace Context of the span that called `emit()`, as two
 * strings, so it survives a durable queue's JSON (a retry days later, in another process) as well as memory.
 */
export interface EmitTraceContext {
  traceparent: string;
  tracestate?: string;
}

// W3C Trace Context level 1, version 00: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** W3C caps tracestate at 32 list members; 512 characters is what propagators are required to keep. */
const MAX_TRACESTATE_LENGTH = 512;

export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

export function toEmitContext(spanContext: SpanContext | undefined): EmitTraceContext | undefined {
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  const traceparent = formatTraceparent(spanContext);
  const tracestate = serializeTraceState(spanContext.traceState);
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The emit's span context, or undefined for anything else (a job's saved context is not trusted). */
export function fromEmitContext(value: unknown): SpanContext | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { traceparent, tracestate } = value as Partial<Record<keyof EmitTraceContext, unknown>>;
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    // Only the sampled bit is defined in version 00.
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!isSpanContextValid(spanContext)) return undefined;
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH) {
    spanContext.traceState = createTraceState(tracestate);
  }
  return spanContext;
}

export function serializeTraceState(traceState: TraceState | undefined): string | undefined {
  if (traceState === undefined) return undefined;
  const text = traceState.serialize();
  return text.length > 0 && text.length <= MAX_TRACESTATE_LENGTH ? text : undefined;
}
