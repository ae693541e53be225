// A webhook's TLS client certificate, checked when it is saved: the transport's own checks (PEM text, the key opens
// with its passphrase and matches the certificate), reported as a webhook validation error naming the member.
import { OptionsError, WebhookValidationError } from '../core/errors.js';
import { checkClientCertificate } from '../transport/client-certificate.js';

/**
 * Validates `clientCertificate` of a create or update. Its messages name `clientCertificate.cert`,
 * `clientCertificate.key`, ... and never hold key material. Bytes are refused: the record is stored as JSON.
 */
export function checkWebhookCertificate(value: unknown): void {
  // Wrong types are named by their type only: a string here may be the key itself.
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookValidationError(
      'clientCertificate',
      `Expected \`clientCertificate\` to be an object { cert, key, passphrase? }, got ${Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`}`,
    );
  }
  const { passphrase } = value as Record<string, unknown>;
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    throw new WebhookValidationError(
      'clientCertificate.passphrase',
      `Expected \`clientCertificate.passphrase\` to be a string, got a value of type ${typeof passphrase}`,
    );
  }
  try {
    checkClientCertificate(value, 'clientCertificate');
  } catch (error) {
    if (error instanceof OptionsError) throw new WebhookValidationError(error.field, error.message);
    throw error;
  }
  for (const member of ['cert', 'key'] as const) {
    if (typeof (value as Record<string, unknown>)[member] !== 'string') {
      throw new WebhookValidationError(
        `clientCertificate.${member}`,
        `Expected \`clientCertificate.${member}\` to be PEM text (a string): the webhook is stored as JSON`,
      );
    }
  }
}

/** Checks of declared fields beyond their schema, by field. */
export const FIELD_CHECKS: Readonly<Record<string, (value: unknown) => void>> = {
  clientCertificate: checkWebhookCertificate,
};
