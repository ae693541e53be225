import { OptionsError, type StandardWebhookHeaders, type StandardWebhookSecret } from '../extend.js';
import { SignatureVerificationError, verifySignature, verifyStandardWebhook } from '../index.js';
import type { TtlStore } from './dedupe-store.js';
import { WebhookRequestError } from './errors.js';
import { kindOf, numberOption } from './options.js';
import { resolvePublicKeys } from './public-keys.js';
import { overLimit } from './read-body.js';

/**
 * Which signature a receiver checks.
 *
 * - `'standard'`: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`, or their `svix-*`
 *   names). The timestamp is signed, so the window is enforced and a captured request cannot be replayed later.
 * - `'launchdarkly'`: `X-LD-Signature`, the hex HMAC-SHA256 of the body. Nothing else is signed: there is no
 *   timestamp to check, and the `webhook-id` used for de-duplication can be altered by whoever can replay.
 * - `'auto'`: `'standard'` when a `webhook-signature` or `svix-signature` header is present, `'launchdarkly'`
 *   otherwise. Only while migrating: a request stripped of its Standard Webhooks headers falls back to the scheme
 *   without a timestamp.
 */
export type ReceiverScheme = 'standard' | 'launchdarkly' | 'auto';

/** Options of `verifyWebhookRequest()` and the middleware. */
export interface VerifyWebhookOptions {
  /** The webhook's secret: `whsec_…` (or raw key bytes) for `'standard'`, the `secret` string for `'launchdarkly'`. */
  secret?: StandardWebhookSecret;
  /** Several secrets while one is rotated: the request is valid if any of them signed it. Use `secret` or this. */
  secrets?: readonly StandardWebhookSecret[];
  /**
   * The sender's Ed25519 public key (`whpk_…`, from `createSigningKeyPair()` or `publicKeyOf(secret)`), for `v1a`
   * signatures of the standard scheme. No shared secret is needed; with `secret` too, either scheme's signature is
   * accepted.
   */
  publicKey?: string;
  /** Several public keys while one is rotated. Use `publicKey` or this. */
  publicKeys?: readonly string[];
  /** Which signature to check. Required: see {@link ReceiverScheme}. */
  scheme: ReceiverScheme;
  /**
   * How far `webhook-timestamp` may be in the past or the future, in seconds (Standard Webhooks only).
   * @default 300
   */
  toleranceSeconds?: number;
  /** The current time in epoch ms, or a clock. @default Date.now */
  now?: number | (() => number);
  /**
   * Remembers handled `webhook-id`s: a request whose id was already added is refused with
   * `ERR_DUPLICATE_DELIVERY` (the middleware answers it with 200, so the sender stops). Added only after the
   * signature verified, so forged requests cannot burn ids.
   * @example dedupe: memoryDedupeStore({ maxEntries: 50_000 })
   */
  dedupe?: TtlStore;
  /**
   * How long an id is remembered, in ms. Senders retry one message under one id for up to a day or more (Svix:
   * about 28 hours), so keep it at least as long as their retry schedule.
   * @default 86_400_000 (24 hours)
   */
  dedupeTtlMs?: number;
  /**
   * Largest body accepted, in bytes; a larger one is refused with `ERR_BODY_TOO_LARGE` (413) without being read
   * to its end.
   * @default 1_048_576 (1 MiB, the dispatcher's own `maxBodyBytes` default)
   */
  maxBodyBytes?: number;
  /**
   * Parse the body as JSON into `payload`. A body that does not parse is refused with `ERR_INVALID_PAYLOAD`.
   * `false` for text bodies (templates): `payload` is then the body string.
   * @default true
   */
  json?: boolean;
}

interface VerifiedBase<T> {
  /** The raw body, decoded as UTF-8. */
  body: string;
  /** The body parsed as JSON (the body string with `json: false`). */
  payload: T;
}

/** What a verified request carries. */
export type VerifiedWebhook<T = unknown> =
  | (VerifiedBase<T> & {
      scheme: 'standard';
      /** `webhook-id` (or `svix-id`): the same for every retry of one message. Signed. */
      id: string;
      /** `webhook-timestamp`, Unix seconds. Signed. */
      timestamp: number;
    })
  | (VerifiedBase<T> & {
      scheme: 'launchdarkly';
      /** `webhook-id` when the sender sent one. Not covered by the signature. */
      id: string | undefined;
      /** The LaunchDarkly scheme signs no timestamp. */
      timestamp: undefined;
    });

/** @internal Options after validation, with defaults filled in. */
export interface ResolvedReceiverOptions {
  secrets: readonly StandardWebhookSecret[];
  publicKeys: readonly string[];
  scheme: ReceiverScheme;
  toleranceSeconds: number;
  now: () => number;
  dedupe: TtlStore | undefined;
  dedupeTtlMs: number;
  maxBodyBytes: number;
  json: boolean;
}

const KNOWN = new Set([
  'secret',
  'secrets',
  'publicKey',
  'publicKeys',
  'scheme',
  'toleranceSeconds',
  'now',
  'dedupe',
  'dedupeTtlMs',
  'maxBodyBytes',
  'json',
]);
const SCHEMES: readonly ReceiverScheme[] = ['standard', 'launchdarkly', 'auto'];

/** @internal Validates receiver options once, when the middleware is made (or per call for the plain verifier). */
export function resolveReceiverOptions(
  options: VerifyWebhookOptions,
  ignore: readonly string[] = [],
): ResolvedReceiverOptions {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('options', `Expected \`options\` to be an object, got ${kindOf(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !ignore.includes(key)) {
      throw new OptionsError(key, `Expected no option \`${key}\`; known options: ${[...KNOWN].join(', ')}.`);
    }
  }
  const { secret, secrets, scheme, now, dedupe } = options;
  const publicKeys = resolvePublicKeys(options);
  if (secret !== undefined && secrets !== undefined) {
    throw new OptionsError('secret', 'Expected one of `secret` and `secrets`, not both.');
  }
  if (secret === undefined && secrets === undefined && publicKeys.length === 0) {
    throw new OptionsError('secret', 'Expected `secret`, `secrets`, `publicKey` or `publicKeys`.');
  }
  const list = secrets === undefined ? (secret === undefined ? [] : [secret]) : secrets;
  if (!Array.isArray(list) || (secrets !== undefined && list.length === 0)) {
    throw new OptionsError(
      'secrets',
      `Expected \`secrets\` to be a non-empty array, got ${kindOf(secrets)}.`,
    );
  }
  list.forEach((item, i) => {
    const field = secrets === undefined ? 'secret' : `secrets[${i}]`;
    const bytes = item instanceof Uint8Array;
    if (!(typeof item === 'string' && item !== '') && !(bytes && item.byteLength > 0)) {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be a non-empty string or Uint8Array, got ${kindOf(item)}.`,
      );
    }
    if (typeof item === 'string' && /^wh[ps]k_/.test(item)) {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be a shared secret, got an Ed25519 ${item.startsWith('whpk_') ? 'public key ("whpk_…"): pass it as `publicKey`' : 'signing key ("whsk_…"), which stays with the sender: pass its public key as `publicKey`'}.`,
      );
    }
    if (scheme === 'standard' && !isStandardSecret(item)) {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be a "whsec_…" secret for the standard scheme.`,
      );
    }
    if (bytes && scheme === 'launchdarkly') {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be the webhook's secret string for the launchdarkly scheme.`,
      );
    }
  });
  if (scheme === 'launchdarkly' && publicKeys.length > 0) {
    throw new OptionsError(
      options.publicKey === undefined ? 'publicKeys' : 'publicKey',
      'Expected no public key for the launchdarkly scheme: X-LD-Signature is an HMAC; use scheme "standard".',
    );
  }
  if (!SCHEMES.includes(scheme)) {
    throw new OptionsError(
      'scheme',
      `Expected \`scheme\` to be "standard", "launchdarkly" or "auto", got ${scheme === undefined ? 'undefined' : JSON.stringify(scheme)}.`,
    );
  }
  if (now !== undefined && typeof now !== 'function')
    numberOption('now', now, 0, { max: Number.MAX_SAFE_INTEGER });
  if (dedupe !== undefined && (dedupe === null || typeof (dedupe as TtlStore).add !== 'function')) {
    throw new OptionsError(
      'dedupe',
      `Expected \`dedupe\` to be a store with an add(id, ttlMs) method, got ${kindOf(dedupe)}.`,
    );
  }
  return {
    secrets: list,
    publicKeys,
    scheme,
    toleranceSeconds: numberOption('toleranceSeconds', options.toleranceSeconds, 300, { max: 1e11 }),
    now: typeof now === 'function' ? now : now === undefined ? Date.now : () => now,
    dedupe,
    dedupeTtlMs: numberOption('dedupeTtlMs', options.dedupeTtlMs, 86_400_000, {
      positive: true,
      max: Number.MAX_SAFE_INTEGER,
    }),
    maxBodyBytes: numberOption('maxBodyBytes', options.maxBodyBytes, 1_048_576, {
      positive: true,
      integer: true,
      max: Number.MAX_SAFE_INTEGER,
    }),
    json: options.json === undefined ? true : booleanOption('json', options.json),
  };
}

function booleanOption(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new OptionsError(field, `Expected \`${field}\` to be a boolean, got ${kindOf(value)}.`);
  }
  return value;
}

/** A header's trimmed value (the first of repeated ones), or undefined when absent or blank. */
function header(headers: StandardWebhookHeaders, name: string): string | undefined {
  let value: unknown;
  if (typeof headers.get === 'function') value = (headers as { get(name: string): string | null }).get(name);
  else {
    const record = headers as Record<string, unknown>;
    value = record[name];
    if (value === undefined) {
      const key = Object.keys(record).find((k) => k.toLowerCase() === name);
      value = key === undefined ? undefined : record[key];
    }
  }
  if (Array.isArray(value)) value = value[0];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const decoder = new TextDecoder();
const STANDARD_SECRET = /^(?:whsec_)?[A-Za-z\d+/]+={0,2}$/;

function isStandardSecret(secret: StandardWebhookSecret): boolean {
  if (secret instanceof Uint8Array) return true;
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  return encoded.length % 4 !== 1 && STANDARD_SECRET.test(secret);
}

/**
 * Verifies a request already read: its headers and its raw body. The framework adapters read the body (bounded)
 * and call this; call it yourself when a framework hands you the raw bytes.
 *
 * @throws {SignatureVerificationError} `ERR_MISSING_HEADERS`, `ERR_SIGNATURE_INVALID`,
 *   `ERR_TIMESTAMP_OUT_OF_TOLERANCE`.
 * @throws {WebhookRequestError} `ERR_BODY_TOO_LARGE`, `ERR_INVALID_PAYLOAD`, `ERR_DUPLICATE_DELIVERY`.
 * @throws {OptionsError} for invalid options.
 */
export async function verifyWebhook<T = unknown>(
  request: { headers: StandardWebhookHeaders; body: string | Uint8Array },
  options: VerifyWebhookOptions | ResolvedReceiverOptions,
): Promise<VerifiedWebhook<T>> {
  const resolved = isResolved(options) ? options : resolveReceiverOptions(options);
  return verifyResolved<T>(request.headers, request.body, resolved);
}

const RESOLVED = new WeakSet<object>();
function isResolved(options: object): options is ResolvedReceiverOptions {
  return RESOLVED.has(options);
}
/** @internal */
export function markResolved(options: ResolvedReceiverOptions): ResolvedReceiverOptions {
  RESOLVED.add(options);
  return options;
}

/** @internal */
export async function verifyResolved<T>(
  headers: StandardWebhookHeaders,
  body: string | Uint8Array,
  options: ResolvedReceiverOptions,
): Promise<VerifiedWebhook<T>> {
  if (headers === null || typeof headers !== 'object') {
    throw new SignatureVerificationError(
      'ERR_MISSING_HEADERS',
      'verifyWebhookRequest: no headers were given.',
    );
  }
  if ((body instanceof Uint8Array || typeof body === 'string') && overLimit(body, options.maxBodyBytes)) {
    throw new WebhookRequestError(
      'ERR_BODY_TOO_LARGE',
      `verifyWebhookRequest: the body is larger than \`maxBodyBytes\` (${options.maxBodyBytes} bytes).`,
    );
  }
  const standard =
    options.scheme === 'standard' ||
    (options.scheme === 'auto' &&
      (header(headers, 'webhook-signature') !== undefined ||
        header(headers, 'svix-signature') !== undefined));
  const verified = standard
    ? verifyStandardScheme(headers, body, options)
    : verifyLaunchDarklyScheme(headers, body, options);
  const text = typeof body === 'string' ? body : decoder.decode(body);
  const payload = options.json ? parseJson(text, verified.id) : text;
  if (options.dedupe !== undefined && verified.id !== undefined) {
    const fresh = await options.dedupe.add(verified.id, options.dedupeTtlMs);
    if (fresh !== true) {
      throw new WebhookRequestError(
        'ERR_DUPLICATE_DELIVERY',
        `verifyWebhookRequest: webhook-id "${verified.id}" was already received.`,
        verified.id,
      );
    }
  }
  return { ...verified, body: text, payload: payload as T };
}

type VerifiedScheme =
  | { scheme: 'standard'; id: string; timestamp: number }
  | { scheme: 'launchdarkly'; id: string | undefined; timestamp: undefined };

function verifyStandardScheme(
  headers: StandardWebhookHeaders,
  body: string | Uint8Array,
  options: ResolvedReceiverOptions,
): VerifiedScheme {
  const now = options.now();
  // With 'auto', secrets that are not whsec_ keys belong to the X-LD-Signature scheme.
  const secrets = options.scheme === 'auto' ? options.secrets.filter(isStandardSecret) : options.secrets;
  const publicKeys = options.publicKeys;
  if (secrets.length === 0 && publicKeys.length === 0) {
    throw new SignatureVerificationError(
      'ERR_SIGNATURE_INVALID',
      'verifyWebhookRequest: a Standard Webhooks signature was sent, but no secret is a "whsec_…" key.',
    );
  }
  verifyStandardWebhook({
    ...(secrets.length > 0 && { secret: secrets }),
    ...(publicKeys.length > 0 && { publicKey: publicKeys }),
    headers,
    body,
    now: typeof now === 'number' ? now : Number.NaN,
    toleranceSeconds: options.toleranceSeconds,
  });
  // Verified, so present; read as verifyStandardWebhook reads them (webhook-* first, then svix-*).
  return {
    scheme: 'standard',
    id: (header(headers, 'webhook-id') ?? header(headers, 'svix-id'))!,
    timestamp: Number(header(headers, 'webhook-timestamp') ?? header(headers, 'svix-timestamp')),
  };
}

function verifyLaunchDarklyScheme(
  headers: StandardWebhookHeaders,
  body: string | Uint8Array,
  options: ResolvedReceiverOptions,
): VerifiedScheme {
  const signature = header(headers, 'x-ld-signature');
  if (signature === undefined) {
    throw new SignatureVerificationError(
      'ERR_MISSING_HEADERS',
      options.scheme === 'auto'
        ? 'verifyWebhookRequest: missing header webhook-signature, svix-signature or x-ld-signature.'
        : 'verifyWebhookRequest: missing header x-ld-signature.',
    );
  }
  const ok = options.secrets.some(
    (secret) => typeof secret === 'string' && verifySignature(body, signature, secret),
  );
  if (!ok) {
    throw new SignatureVerificationError(
      'ERR_SIGNATURE_INVALID',
      'verifyWebhookRequest: the x-ld-signature does not match the body.',
    );
  }
  return { scheme: 'launchdarkly', id: header(headers, 'webhook-id'), timestamp: undefined };
}

function parseJson(text: string, id: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WebhookRequestError(
      'ERR_INVALID_PAYLOAD',
      `verifyWebhookRequest: the body is not JSON (${(error as Error).message}). Pass \`json: false\` for text bodies.`,
      id,
    );
  }
}
