// A leaf with no imports, so `/api` masks headers without bundling the header validation (and its errors).

const SENSITIVE_HEADER = /auth|token|secret|key|cookie|pass|session|signature/i;

/**
 * Whether a header probably carries a credential (Authorization, X-Api-Key, Cookie, signatures, ...): its value is
 * masked in the delivery log and never repeated in error messages.
 */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}
