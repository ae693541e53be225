import { OptionsError } from '../extend.js';
import { kindOf } from './options.js';

// `whpk_` + base64 of a 32-byte Ed25519 public key (see `createSigningKeyPair()`).
const PUBLIC_KEY = /^whpk_[A-Za-z\d+/]{42}[AEIMQUYcgkosw048]=$/;

/** @internal The validated `publicKey` / `publicKeys` of receiver options (empty when neither is given). */
export function resolvePublicKeys(options: { publicKey?: unknown; publicKeys?: unknown }): readonly string[] {
  const { publicKey, publicKeys } = options;
  if (publicKey !== undefined && publicKeys !== undefined) {
    throw new OptionsError('publicKey', 'Expected one of `publicKey` and `publicKeys`, not both.');
  }
  const list = publicKeys ?? (publicKey === undefined ? [] : [publicKey]);
  if (!Array.isArray(list) || (publicKeys !== undefined && list.length === 0)) {
    throw new OptionsError(
      'publicKeys',
      `Expected \`publicKeys\` to be a non-empty array, got ${kindOf(publicKeys)}.`,
    );
  }
  list.forEach((item: unknown, i) => {
    const field = publicKeys === undefined ? 'publicKey' : `publicKeys[${i}]`;
    if (typeof item !== 'string' || !PUBLIC_KEY.test(item)) {
      const what =
        typeof item === 'string' && item.startsWith('whsk_')
          ? 'an Ed25519 signing key ("whsk_…"), which stays with the sender'
          : kindOf(item);
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be an Ed25519 public key ("whpk_" + base64 of 32 bytes), got ${what}.`,
      );
    }
  });
  return list;
}
