import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { OptionsError } from '../core/errors.js';

/**
 * Ed25519 key pairs for the Standard Webhooks asymmetric scheme (`v1a`).
 *
 * Key formats, as the specification's "Secret serialization" row gives them (standard-webhooks/standard-webhooks,
 * spec/standard-webhooks.md: "base64 encoded, prefixed with `whsk_` for the secret key, and `whpk_` for the public
 * key"), and as its reference library reads them (libraries/go/webhook_asymmetric.go: the `whsk_` payload is the
 * 32-byte seed, `ed25519.NewKeyFromSeed`; the `whpk_` payload the raw 32-byte public key):
 *
 * - `whsk_` + base64 of the 32-byte Ed25519 seed (what `createSigningKeyPair()` makes). The 64-byte form (seed then
 *   public key, libsodium's secret key) that Svix's server parses (server/svix-server/src/core/cryptography.rs,
 *   `ed25519_compact::KeyPair::from_slice`) is accepted too, when its public half matches its seed.
 * - `whpk_` + base64 of the raw 32-byte public key (not DER).
 *
 * A signature is `v1a,` + base64 of the 64-byte Ed25519 signature of `{webhook-id}.{webhook-timestamp}.{body}`.
 */
export interface SigningKeyPair {
  /** The sender's signing key, `whsk_…`: kept as the webhook's `secret`, never shown to receivers. */
  secret: string;
  /** The receivers' verification key, `whpk_…`: safe to publish (a leaked public key cannot forge). */
  publicKey: string;
}

export const SIGNING_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';
const BASE64 = /^[A-Za-z\d+/]+={0,2}$/;
// DER wrappers around raw Ed25519 keys (RFC 8410): PKCS#8 for the seed, SPKI for the public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// Parsing a key is cheap but runs for every delivery; keep the key objects of recently used keys.
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 1024;

function cached(key: string, make: () => KeyObject): KeyObject {
  let value = keyCache.get(key);
  if (value === undefined) {
    value = make();
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(key, value);
  }
  return value;
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function decoded(value: string, prefix: string): Buffer | undefined {
  const encoded = value.slice(prefix.length);
  if (encoded.length === 0 || encoded.length % 4 === 1 || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64');
}

function parsePrivateKey(secret: string): KeyObject | undefined {
  const bytes = decoded(secret, SIGNING_KEY_PREFIX);
  if (bytes === undefined || (bytes.length !== 32 && bytes.length !== 64)) return undefined;
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, bytes.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  if (bytes.length === 64 && !rawPublicKey(createPublicKey(key)).equals(bytes.subarray(32))) return undefined;
  return key;
}

/** True when `value` starts with `whsk_` (well formed or not): it is meant as an Ed25519 signing key. */
export function isSigningKeyLike(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(SIGNING_KEY_PREFIX);
}

/** True when `value` starts with `whpk_`: it is meant as an Ed25519 public key. */
export function isPublicKeyLike(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(PUBLIC_KEY_PREFIX);
}

/** True for a well-formed `whsk_` signing key (a 32-byte seed, or 64 bytes of seed and matching public key). */
export function isSigningKey(value: unknown): boolean {
  if (!isSigningKeyLike(value)) return false;
  try {
    return signingKeyOf('isSigningKey', value as string) !== undefined;
  } catch {
    return false;
  }
}

/** @internal The private key object of a `whsk_` key; throws an `OptionsError` naming `field` (never the key). */
export function signingKeyOf(method: string, secret: string, field = 'secret'): KeyObject {
  return cached(secret, () => {
    const key = parsePrivateKey(secret);
    if (key === undefined) {
      throw new OptionsError(
        field,
        `${method}: expected \`${field}\` to be "whsk_" followed by the base64 of a 32-byte Ed25519 seed (a string of ${secret.length} characters is not).`,
      );
    }
    return key;
  });
}

/** @internal The public key object of a `whpk_` key; throws an `OptionsError` naming `field`. */
export function verificationKeyOf(method: string, publicKey: unknown, field = 'publicKey'): KeyObject {
  if (typeof publicKey !== 'string' || !publicKey.startsWith(PUBLIC_KEY_PREFIX)) {
    const what = isSigningKeyLike(publicKey)
      ? 'a "whsk_…" signing key, which must stay with the sender: pass its public key (publicKeyOf(secret))'
      : typeof publicKey === 'string'
        ? `a string of ${publicKey.length} characters without the "whpk_" prefix`
        : `a value of type ${publicKey === null ? 'null' : typeof publicKey}`;
    throw new OptionsError(
      field,
      `${method}: expected \`${field}\` to be a "whpk_…" public key, got ${what}.`,
    );
  }
  return cached(publicKey, () => {
    const bytes = decoded(publicKey, PUBLIC_KEY_PREFIX);
    if (bytes === undefined || bytes.length !== 32) {
      throw new OptionsError(
        field,
        `${method}: expected \`${field}\` to be "whpk_" followed by the base64 of a 32-byte Ed25519 public key.`,
      );
    }
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
  });
}

/**
 * A new Ed25519 key pair for the Standard Webhooks `v1a` scheme: give `secret` to a webhook with
 * `signatureScheme: 'standard'`, and `publicKey` to its receivers (`verifyStandardWebhook({ publicKey, ... })`).
 *
 * @example
 * const { secret, publicKey } = createSigningKeyPair(); // 'whsk_…', 'whpk_…'
 * await dispatcher.webhooks.create({ url, signatureScheme: 'standard', secret });
 */
export function createSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return {
    secret: `${SIGNING_KEY_PREFIX}${seed.toString('base64')}`,
    publicKey: `${PUBLIC_KEY_PREFIX}${rawPublicKey(publicKey).toString('base64')}`,
  };
}

/**
 * The `whpk_…` public key of a `whsk_…` signing key: what an API or a portal shows for a webhook signed with
 * Ed25519 (never the secret itself). `undefined` for any other secret (HMAC secrets have no public half).
 *
 * @example publicKeyOf(webhook.secret) // 'whpk_…' for an Ed25519 webhook, undefined otherwise
 */
export function publicKeyOf(secret: unknown): string | undefined {
  if (!isSigningKey(secret)) return undefined;
  const key = createPublicKey(signingKeyOf('publicKeyOf', secret as string));
  return `${PUBLIC_KEY_PREFIX}${rawPublicKey(key).toString('base64')}`;
}

/** @internal `v1a,` + base64 Ed25519 signature of `${id}.${timestamp}.${body}`. */
export function signV1a(
  key: KeyObject,
  id: string,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  return `v1a,${sign(null, signedContent(id, timestamp, body), key).toString('base64')}`;
}

/** @internal Whether the base64 `signature` (the part after `v1a,`) is `key`'s signature of the message. */
export function verifyV1a(
  key: KeyObject,
  signature: string,
  id: string,
  timestamp: string,
  body: string | Uint8Array,
): boolean {
  if (signature.length !== 88 || !BASE64.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length === 64 && verify(null, signedContent(id, timestamp, body), key, bytes);
}

function signedContent(id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  const head = Buffer.from(`${id}.${timestamp}.`);
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body) : body]);
}
