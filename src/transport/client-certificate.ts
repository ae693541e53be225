import { createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, OptionsError } from '../core/errors.js';

/**
 * A TLS client certificate: the sender's identity for receivers that require mutual TLS. PEM text or bytes; `key`
 * may be encrypted, with its `passphrase`.
 */
export interface ClientCertificate {
  /** The certificate chain, PEM (the leaf first, then any intermediates). */
  cert: string | Uint8Array;
  /** The certificate's private key, PEM. */
  key: string | Uint8Array;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
}

const FIELDS = new Set(['cert', 'key', 'passphrase']);
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

function pemField(value: unknown, field: string): void {
  const bytes = value instanceof Uint8Array;
  const text = typeof value === 'string' ? value : bytes ? Buffer.from(value).toString('latin1') : undefined;
  if (text === undefined || !PEM.test(text)) {
    // A key may be a real secret: only its type is named, never its text.
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be PEM text (a string or bytes with "-----BEGIN …-----"), got ${
        typeof value === 'string' || bytes ? 'no PEM block' : describe(value)
      }`,
    );
  }
}

/**
 * Validates a client certificate once, where it is given: the shape, then that the key opens (with the passphrase)
 * and matches the certificate, so a wrong file fails here with the field named, not at the first handshake.
 */
export function checkClientCertificate(value: unknown, field = 'clientCertificate'): ClientCertificate {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be an object { cert, key, passphrase? }, got ${describe(value)}`,
    );
  }
  for (const name of Object.keys(value)) {
    if (!FIELDS.has(name)) {
      throw new OptionsError(
        `${field}.${name}`,
        `Unknown option \`${field}.${name}\`; known: cert, key, passphrase`,
      );
    }
  }
  const { cert, key, passphrase } = value as Record<string, unknown>;
  pemField(cert, `${field}.cert`);
  pemField(key, `${field}.key`);
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    throw new OptionsError(
      `${field}.passphrase`,
      `Expected \`${field}.passphrase\` to be a string, got ${describe(passphrase)}`,
    );
  }
  const certificate = { cert, key, ...(passphrase !== undefined && { passphrase }) } as ClientCertificate;
  try {
    createSecureContext(tlsOptions(certificate));
  } catch (error) {
    const reason = (error as { message?: unknown }).message;
    throw new OptionsError(
      field,
      `Expected \`${field}\` to hold a certificate and its private key${passphrase === undefined ? '' : ' (opened with `passphrase`)'}: ${String(reason)}`,
    );
  }
  return certificate;
}

/** The options `tls.connect` (undici's `connect`) takes for a client certificate. */
export function tlsOptions(certificate: ClientCertificate): {
  cert: string | Buffer;
  key: string | Buffer;
  passphrase?: string;
} {
  const asTls = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value));
  return {
    cert: asTls(certificate.cert),
    key: asTls(certificate.key),
    ...(certificate.passphrase !== undefined && { passphrase: certificate.passphrase }),
  };
}

const identities = new WeakMap<object, string>();

/**
 * A stable name for a certificate: the same cert, key and passphrase name the same connection pool, whichever object
 * carries them. A digest, so the pool's keys hold no key material. Memoised per object.
 */
export function certificateIdentity(certificate: ClientCertificate): string {
  let identity = identities.get(certificate);
  if (identity === undefined) {
    const hash = createHash('sha256');
    for (const part of [certificate.cert, certificate.key, certificate.passphrase ?? '']) {
      hash.update(typeof part === 'string' ? `s${part.length}:` : `b${part.byteLength}:`).update(part);
    }
    identity = hash.digest('base64');
    identities.set(certificate, identity);
  }
  return identity;
}
