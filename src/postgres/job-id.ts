import { createHash } from 'node:crypto';

/** The namespace of delivery job ids (a random UUID fixed once for this library). */
const NAMESPACE = Buffer.from('5f0c1d2e8a8b4f7c9e3a6b1d2c4e6f80', 'hex');

/**
 * A deterministic UUID (version 5 layout: SHA-1 of a namespace and the name) for a pg-boss job id, whose ids must be
 * UUIDs. The same `webhook-id` always maps to the same job id, so a second insert of one delivery is a no-op.
 */
export function jobIdFor(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
