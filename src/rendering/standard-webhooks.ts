import { createHmac, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { kindOf, OptionsError, SignatureVerificationError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import {
  isPublicKeyLike,
  isSigningKey,
  isSigningKeyLike,
  signingKeyOf,
  signV1a,
  verificationKeyOf,
  verifyV1a,
} from './signing-keys.js';

/**
 * A Standard Webhooks signing secret: `whsec_` followed by the base64 of the key bytes (the prefix is optional),
 * or the raw key bytes (HMAC, `v1`); or, to sign, an Ed25519 signing key `whsk_…` (`v1a`, see
 * `createSigningKeyPair()`).
 */
export type StandardWebhookSecret = string | Uint8Array;

/** Request headers as frameworks hand them over: a `Headers` instance, or a plain object in any letter case. */
export type StandardWebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface SignStandardWebhookOptions {
  /** The signing secret: `whsec_…` signs `v1` (HMAC-SHA256), `whsk_…` signs `v1a` (Ed25519). */
  secret: StandardWebhookSecret;
  /** The message id sent as `webhook-id` (the same for every attempt of one delivery). */
  id: string;
  /** Unix time in seconds, sent as `webhook-timestamp` (the time of this attempt). */
  timestamp: number;
  /** The exact body sent. */
  body: string | Uint8Array;
}

export interface VerifyStandardWebhookOptions {
  /**
   * The `whsec_…` secret (`v1` signatures), or several while one is being rotated: the request is valid if any of
   * them signed it. Give `secret`, `publicKey` or both.
   */
  secret?: StandardWebhookSecret | readonly StandardWebhookSecret[];
  /**
   * The sender's Ed25519 public key `whpk_…` (`v1a` signatures), or several while one is being rotated. Verifying
   * needs no shared secret: a leaked public key cannot forge a signature.
   */
  publicKey?: string | readonly string[];
  /** The request headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  headers: StandardWebhookHeaders;
  /** The raw request body, byte for byte as received. */
  body: string | Uint8Array;
  /**
   * The current time in epoch milliseconds.
   * @default Date.now()
   */
  now?: number;
  /**
   * How far `webhook-timestamp` may be in the past or in the future, in seconds.
   * @default 300
   */
  toleranceSeconds?: number;
}

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z\d+/]+={0,2}$/;
const DEFAULT_TOLERANCE_SECONDS = 300;
const INTEGER = /^\d{1,15}$/;
// Year 5138 in seconds; a larger value is almost certainly `Date.now()` in milliseconds.
const MAX_SECONDS = 1e11;

// Decoding a secret is cheap but runs for every delivery; keep the decoded keys of recently used secrets.
const keyCache = new Map<string, Buffer>();
const KEY_CACHE_LIMIT = 1024;

/**
 * True for a secret this library can sign with in the Standard Webhooks scheme: `whsec_` + non-empty base64, or
 * a well-formed Ed25519 signing key `whsk_…`.
 */
export function isStandardWebhookSecret(secret: string): boolean {
  if (isSigningKeyLike(secret)) return isSigningKey(secret);
  if (!secret.startsWith(PREFIX)) return false;
  const encoded = secret.slice(PREFIX.length);
  return encoded.length > 0 && encoded.length % 4 !== 1 && BASE64.test(encoded);
}

function decodeSecret(method: string, secret: unknown): Buffer | Uint8Array {
  if (secret instanceof Uint8Array) {
    if (secret.byteLength === 0)
      throw new OptionsError('secret', `${method}: expected \`secret\` to be non-empty.`);
    return secret;
  }
  if (typeof secret !== 'string') {
    throw new OptionsError(
      'secret',
      `${method}: expected \`secret\` to be a "whsec_…" string or a Uint8Array, got ${secret === null ? 'null' : typeof secret}.`,
    );
  }
  const cached = keyCache.get(secret);
  if (cached !== undefined) return cached;
  if (isPublicKeyLike(secret) || isSigningKeyLike(secret)) {
    throw new OptionsError(
      'secret',
      isPublicKeyLike(secret)
        ? `${method}: \`secret\` is a "whpk_…" Ed25519 public key; pass it as \`publicKey\` to verify v1a signatures.`
        : `${method}: \`secret\` is a "whsk_…" Ed25519 signing key, which stays with the sender; verify with its public key (\`publicKey\`, from publicKeyOf(secret)).`,
    );
  }
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (encoded.length % 4 === 1 || !BASE64.test(encoded)) {
    // The secret itself is never echoed.
    throw new OptionsError(
      'secret',
      `${method}: expected \`secret\` to be "whsec_" followed by base64 (a string of ${secret.length} characters is not).`,
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(secret, key);
  return key;
}

function sign(
  key: Buffer | Uint8Array,
  id: string,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

/** `v1a` with a `whsk_` key, `v1` with any other secret. */
function signWith(
  method: string,
  secret: StandardWebhookSecret,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  if (isSigningKeyLike(secret)) return signV1a(signingKeyOf(method, secret as string), id, timestamp, body);
  return sign(decodeSecret(method, secret), id, timestamp, body);
}

function assertMessage(method: string, id: unknown, timestamp: unknown, body: unknown): void {
  if (typeof id !== 'string' || id === '') {
    throw new OptionsError('id', `${method}: expected \`id\` to be a non-empty string, got ${typeof id}.`);
  }
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new OptionsError(
      'timestamp',
      `${method}: expected \`timestamp\` to be an integer number of Unix seconds, got ${String(timestamp)}.`,
    );
  }
  if (timestamp > MAX_SECONDS) {
    throw new OptionsError(
      'timestamp',
      `${method}: expected \`timestamp\` in Unix seconds, got ${timestamp}, which looks like milliseconds. ` +
        'Use Math.floor(Date.now() / 1000).',
    );
  }
  assertBody(method, body);
}

function assertBody(method: string, body: unknown): void {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new OptionsError(
      'body',
      `${method}: expected \`body\` to be the raw body as a string or Uint8Array, got ${body === null ? 'null' : typeof body}.`,
    );
  }
}

/**
 * Signs a message with the Standard Webhooks v1 scheme: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)),
 * the value of the `webhook-signature` header. With an Ed25519 signing key (`whsk_…`) it signs the asymmetric
 * scheme instead: `v1a,` + base64 of the Ed25519 signature of the same content.
 *
 * @example
 * signStandardWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
 *   timestamp: 1614265330, body: '{"test": 2432232314}' }) // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function signStandardWebhook(options: SignStandardWebhookOptions): string {
  const { secret, id, timestamp, body } = options;
  assertMessage('signStandardWebhook', id, timestamp, body);
  return signWith('signStandardWebhook', secret, id, timestamp, body);
}

/**
 * The `webhook-signature` value signed by several secrets, space-separated, for secret rotation: send with the
 * old and the new secret while receivers move from one to the other.
 */
export function standardSignatureHeader(
  secrets: readonly StandardWebhookSecret[],
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  assertMessage('standardSignatureHeader', id, timestamp, body);
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new OptionsError('secrets', 'standardSignatureHeader: expected `secrets` to be a non-empty array.');
  }
  let header = '';
  for (const secret of secrets) {
    const signature = signWith('standardSignatureHeader', secret, id, timestamp, body);
    header = header === '' ? signature : `${header} ${signature}`;
  }
  return header;
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateStandardSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function readHeader(headers: StandardWebhookHeaders, name: string, join: boolean): string | undefined {
  let value: string | readonly string[] | null | undefined;
  if (typeof headers.get === 'function') {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
    value = record[name];
    if (value === undefined) {
      for (const key of Object.keys(record)) {
        if (key.length === name.length && key.toLowerCase() === name) {
          value = record[key];
          break;
        }
      }
    }
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') value = join ? value.join(' ') : value[0];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

type VerificationCode = 'ERR_MISSING_HEADERS' | 'ERR_TIMESTAMP_OUT_OF_TOLERANCE' | 'ERR_SIGNATURE_INVALID';

/**
 * Verifies a Standard Webhooks request: the headers are present, `webhook-timestamp` is within the tolerance
 * (5 minutes either way) and one of the signatures in `webhook-signature` verifies: a `v1` one made with the secret
 * (or one of the secrets), or a `v1a` one made by the signing key of the public key (or one of them). Signatures of
 * other versions are ignored. HMAC comparison is constant-time. Svix's header names (`svix-id`, `svix-timestamp`,
 * `svix-signature`) are accepted when the `webhook-*` ones are absent.
 *
 * @returns `true`; never returns `false`.
 * @throws {SignatureVerificationError} with `code` `ERR_MISSING_HEADERS`, `ERR_TIMESTAMP_OUT_OF_TOLERANCE` or
 *   `ERR_SIGNATURE_INVALID`.
 * @throws {OptionsError} when `now` or `toleranceSeconds` is not a finite non-negative number, neither `secret` nor
 *   `publicKey` is given, or a key is malformed or of the other kind (a `whpk_` key as `secret`): a misconfigured
 *   receiver fails loudly instead of accepting old requests.
 */
export function verifyStandardWebhook(options: VerifyStandardWebhookOptions): true {
  verifyStandardMessage('verifyStandardWebhook', options);
  return true;
}

/** @internal What a verified Standard Webhooks message says about itself. */
export interface VerifiedStandardMessage {
  id: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestamp: number;
}

interface VerifierKeys {
  hmac: (Buffer | Uint8Array)[];
  ed25519: KeyObject[];
}

function listOf<T>(value: T | readonly T[] | undefined): readonly T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value as T];
}

/** The HMAC keys of `secret` and the Ed25519 keys of `publicKey`, validated. */
function verifierKeys(method: string, options: VerifyStandardWebhookOptions): VerifierKeys {
  const { secret, publicKey } = options;
  if (secret === undefined && publicKey === undefined) {
    throw new OptionsError(
      'secret',
      `${method}: expected \`secret\` ("whsec_…") or \`publicKey\` ("whpk_…"), got neither.`,
    );
  }
  const secrets = listOf(secret);
  const publicKeys = listOf(publicKey);
  if (secret !== undefined && secrets.length === 0) {
    throw new OptionsError('secret', `${method}: expected \`secret\` to be a secret or a non-empty array.`);
  }
  if (publicKey !== undefined && publicKeys.length === 0) {
    throw new OptionsError(
      'publicKey',
      `${method}: expected \`publicKey\` to be a key or a non-empty array.`,
    );
  }
  return {
    hmac: secrets.map((item) => decodeSecret(method, item)),
    ed25519: publicKeys.map((item) => verificationKeyOf(method, item)),
  };
}

/**
 * @internal {@link verifyStandardWebhook}, answering the verified id and timestamp. `webhook-*` headers are read
 * first, `svix-*` ones (Svix's names for the same values) when those are absent.
 */
export function verifyStandardMessage(
  method: string,
  options: VerifyStandardWebhookOptions,
): VerifiedStandardMessage {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('options', `${method}: expected an options object, got ${kindOf(options)}.`);
  }
  const { headers, body } = options;
  const now = numberOption('now', options.now, Number.NaN, { max: Number.MAX_SAFE_INTEGER });
  const tolerance = options.toleranceSeconds;
  const toleranceSeconds = numberOption('toleranceSeconds', tolerance, DEFAULT_TOLERANCE_SECONDS, {
    max: MAX_SECONDS,
  });
  assertBody(method, body);
  const keys = verifierKeys(method, options);

  const fail = (code: VerificationCode, message: string) =>
    new SignatureVerificationError(code, `${method}: ${message}`);
  if (headers === null || typeof headers !== 'object')
    throw fail('ERR_MISSING_HEADERS', 'no headers were given.');
  const id = readHeader(headers, 'webhook-id', false) ?? readHeader(headers, 'svix-id', false);
  const timestamp =
    readHeader(headers, 'webhook-timestamp', false) ?? readHeader(headers, 'svix-timestamp', false);
  const signatures =
    readHeader(headers, 'webhook-signature', true) ?? readHeader(headers, 'svix-signature', true);
  if (id === undefined || timestamp === undefined || signatures === undefined) {
    const missing = [
      id === undefined && 'webhook-id',
      timestamp === undefined && 'webhook-timestamp',
      signatures === undefined && 'webhook-signature',
    ].filter(Boolean);
    throw fail(
      'ERR_MISSING_HEADERS',
      `missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (or their svix- equivalents).`,
    );
  }

  if (!INTEGER.test(timestamp)) {
    throw fail(
      'ERR_SIGNATURE_INVALID',
      'the webhook-timestamp header is not an integer number of Unix seconds.',
    );
  }
  const sentAt = Number(timestamp);
  const nowSeconds = Math.floor((Number.isNaN(now) ? Date.now() : now) / 1000);
  if (sentAt < nowSeconds - toleranceSeconds) {
    throw fail(
      'ERR_TIMESTAMP_OUT_OF_TOLERANCE',
      `the message timestamp is more than ${toleranceSeconds} s old.`,
    );
  }
  if (sentAt > nowSeconds + toleranceSeconds) {
    throw fail(
      'ERR_TIMESTAMP_OUT_OF_TOLERANCE',
      `the message timestamp is more than ${toleranceSeconds} s ahead.`,
    );
  }
  const found = matchSignature(keys, signatures, id, timestamp, body);
  if (found === true) return { id, timestamp: sentAt };
  const versions = [keys.hmac.length > 0 && 'v1', keys.ed25519.length > 0 && 'v1a'].filter(Boolean);
  throw fail(
    'ERR_SIGNATURE_INVALID',
    found === 'mismatch'
      ? 'no signature matches the body.'
      : `the webhook-signature header has no ${versions.join(' or ')} signature.`,
  );
}

/**
 * Tries every `v1` token against the HMAC keys and every `v1a` token against the Ed25519 keys: `true` on the
 * first match, `'mismatch'` when some token of a checked version was there, `'none'` when none was.
 */
function matchSignature(
  keys: VerifierKeys,
  signatures: string,
  id: string,
  timestamp: string,
  body: string | Uint8Array,
): true | 'mismatch' | 'none' {
  const expected = keys.hmac.map((key) => Buffer.from(sign(key, id, timestamp, body)));
  let seen = false;
  for (let token of signatures.split(/\s+/)) {
    // Node joins repeated headers with ', '; a base64 signature never ends with a comma.
    if (token.endsWith(',')) token = token.slice(0, -1);
    if (token.startsWith('v1,') && expected.length > 0) {
      seen = true;
      const given = Buffer.from(token);
      for (const candidate of expected) {
        if (given.length === candidate.length && timingSafeEqual(given, candidate)) return true;
      }
    } else if (token.startsWith('v1a,') && keys.ed25519.length > 0) {
      seen = true;
      const signature = token.slice(4);
      if (keys.ed25519.some((key) => verifyV1a(key, signature, id, timestamp, body))) return true;
    }
  }
  return seen ? 'mismatch' : 'none';
}
