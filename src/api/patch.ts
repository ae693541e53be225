import jsonpatch from 'fast-json-patch';
import { isPlainObject } from '../core/describe.js';
import type { WebhookPatch } from '../core/types.js';
import { CREDENTIAL_FIELDS, EDITABLE_FIELDS, FIXED_FIELDS } from '../core/webhook-fields.js';
import { ApiError } from './errors.js';
import { JsonPatch, READ_ONLY_FIELDS, WebhookDocument, type WebhookView } from './schemas.js';
import { check } from './validate.js';
import { REDACTED, type StoredWebhook } from './view.js';

type Operation = { op: string; path: string; from?: string; value?: unknown };

const READ_ONLY = new Set<string>(READ_ONLY_FIELDS);
/** Credentials a patch clears by removing them (`secret` goes with `signed`). */
const CLEARABLE = CREDENTIAL_FIELDS.filter((name) => name !== 'secret');

/**
 * The document a patch applies to: the read view, plus `"<redacted>"` for each saved credential (other than
 * `secret`), so that a merge patch's `null` or a JSON Patch `remove` can clear it and a `replace` can set it. The
 * mark never leaves the server: `toWebhookPatch` reads an unchanged mark as "keep the saved value".
 */
export function patchDocument(before: WebhookView, saved: StoredWebhook): Record<string, unknown> {
  const document: Record<string, unknown> = { ...before };
  for (const name of CLEARABLE) {
    if ((saved as unknown as Record<string, unknown>)[name] !== undefined) document[name] = REDACTED;
  }
  return document;
}

/** The top-level member a JSON Pointer writes to (`/statements/0` -> `statements`); '' for the whole document. */
function memberOf(pointer: string): string {
  const [, first = ''] = pointer.split('/');
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

function readOnlyError(field: string): ApiError {
  return new ApiError(422, 'ERR_INVALID_WEBHOOK', `\`${field}\` is read-only: the server maintains it`, {
    field,
  });
}

/**
 * Applies an RFC 6902 patch to the representation. A malformed patch is a 400; an operation that writes a read-only
 * member (or replaces the whole document) a 422; a failing `test` a 409 (the webhook is not in the state the
 * client expected); a path that does not resolve a 422 naming the operation (`[2]`).
 */
export function applyJsonPatch(document: Record<string, unknown>, operations: unknown): unknown {
  check(JsonPatch, operations, { status: 400, code: 'ERR_INVALID_PATCH' });
  const ops = operations as Operation[];
  ops.forEach((operation, i) => {
    if (operation.op === 'test') return;
    if ((operation.op === 'move' || operation.op === 'copy') && holdsRedacted(document, operation.from)) {
      throw new ApiError(
        422,
        'ERR_INVALID_PATCH',
        `\`[${i}].from\` holds ${JSON.stringify(REDACTED)}, which stands for a saved credential this API never shows: ` +
          'it cannot be moved or copied. Set it with its real value instead.',
        { field: `[${i}].from` },
      );
    }
    const written = memberOf(operation.path);
    if (written === '') {
      throw new ApiError(422, 'ERR_INVALID_PATCH', `\`[${i}].path\` cannot replace the whole webhook`, {
        field: `[${i}].path`,
      });
    }
    if (READ_ONLY.has(written)) throw readOnlyError(written);
    if (operation.op === 'move' && READ_ONLY.has(memberOf(operation.from ?? '')))
      throw readOnlyError(memberOf(operation.from ?? ''));
  });
  try {
    return jsonpatch.applyPatch(structuredClone(document), ops as jsonpatch.Operation[], true, true, true)
      .newDocument;
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    const index = (error as { index?: unknown }).index;
    const at = typeof index === 'number' ? `[${index}]` : 'the patch';
    if (name === 'TEST_OPERATION_FAILED') {
      throw new ApiError(
        409,
        'ERR_PATCH_TEST_FAILED',
        `The test operation ${at} failed: the webhook has changed`,
        {
          field: typeof index === 'number' ? at : undefined,
        },
      );
    }
    if (typeof name === 'string' && /UNRESOLVABLE|CANNOT_ADD|OUT_OF_BOUNDS/.test(name)) {
      throw new ApiError(
        422,
        'ERR_INVALID_PATCH',
        `The operation ${at} cannot be applied: ${String((error as Error).message).split('\n')[0]}`,
        {
          field: typeof index === 'number' ? at : undefined,
        },
      );
    }
    throw new ApiError(
      400,
      'ERR_INVALID_PATCH',
      `Invalid JSON Patch: ${String((error as Error).message).split('\n')[0]}`,
      {
        field: typeof index === 'number' ? at : undefined,
      },
    );
  }
}

/** `true` when the value at `pointer` is, or contains, a redacted header value (only headers are redacted). */
function holdsRedacted(document: Record<string, unknown>, pointer: string | undefined): boolean {
  if (typeof pointer === 'string' && CLEARABLE.includes(memberOf(pointer) as never)) return true;
  if (typeof pointer !== 'string' || memberOf(pointer) !== 'headers') return false;
  let value: unknown;
  try {
    value = jsonpatch.getValueByPointer(document, pointer);
  } catch {
    return false; // reported by the patch itself
  }
  return (
    value === REDACTED ||
    (typeof value === 'object' && value !== null && JSON.stringify(value).includes(`"${REDACTED}"`))
  );
}

/**
 * The headers with each placeholder a read showed for a credential (`<redacted>`) replaced by the saved value of
 * that header, its name matched case-insensitively (as header names are). A placeholder with no saved header of
 * that name is refused (422): saved, it would replace a credential with the text `<redacted>`.
 */
export function restoreRedacted(
  headers: Record<string, unknown>,
  saved: Readonly<Record<string, string>> | undefined,
): Record<string, unknown> {
  const restored: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    restored[name] = value === REDACTED ? savedValue(name, saved) : value;
  }
  return restored;
}

function savedValue(name: string, saved: Readonly<Record<string, string>> | undefined): string {
  if (saved !== undefined && Object.hasOwn(saved, name)) return saved[name] as string;
  const lower = name.toLowerCase();
  for (const [savedName, value] of Object.entries(saved ?? {}))
    if (savedName.toLowerCase() === lower) return value;
  const field = `headers.${name}`;
  throw new ApiError(
    422,
    'ERR_INVALID_WEBHOOK',
    `Expected \`${field}\` to be a header value, got ${JSON.stringify(REDACTED)}: it stands for a saved value, and no ` +
      'header of that name is saved',
    { field },
  );
}

/** RFC 7386: members replace, `null` removes, objects merge recursively. `__proto__` is an ordinary key here. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...structuredClone(target) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else
      Object.defineProperty(result, key, {
        value: applyMergePatch(result[key], value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return result;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Turns the patched representation into the partial update `webhooks.update()` validates: changed members are
 * set, removed ones cleared (`null`); read-only members must be unchanged; `signed` maps to `sign`; a `secret`
 * member sets the secret; a redacted header value written back keeps the saved value.
 */
export function toWebhookPatch(before: WebhookView, patched: unknown, saved: StoredWebhook): WebhookPatch {
  if (!isPlainObject(patched)) {
    throw new ApiError(422, 'ERR_INVALID_WEBHOOK', 'Expected the patched webhook to be an object');
  }
  for (const field of [...READ_ONLY_FIELDS, ...FIXED_FIELDS]) {
    if (!same(before[field as keyof WebhookView], patched[field])) throw readOnlyError(field);
  }
  const cleared: string[] = [];
  const after: Record<string, unknown> = { ...patched };
  for (const field of CLEARABLE) {
    if (after[field] === REDACTED) delete after[field];
    else if (after[field] === undefined && (saved as unknown as Record<string, unknown>)[field] !== undefined)
      cleared.push(field);
  }
  check(WebhookDocument, after, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
  const patch: Record<string, unknown> = {};
  for (const field of EDITABLE_FIELDS) {
    const old = before[field as keyof WebhookView];
    const value = after[field];
    if (value === undefined) {
      if (old !== undefined) patch[field] = null;
    } else if (!same(old, value)) {
      patch[field] = structuredClone(value);
    }
  }
  if (isPlainObject(patch.headers)) patch.headers = restoreRedacted(patch.headers, saved.headers);
  // Credentials are never read back, so a patch that names one sets it, and one that removes its mark clears it
  // (`secret` is handled with `signed` below).
  for (const field of CLEARABLE) {
    if (after[field] !== undefined) patch[field] = structuredClone(after[field]);
  }
  for (const field of cleared) patch[field] = null;
  if (after.secret !== undefined) {
    if (after.signed === false) {
      throw new ApiError(
        422,
        'ERR_INVALID_WEBHOOK',
        'Expected `signed` not to be false when `secret` is given',
        { field: 'signed' },
      );
    }
    patch.secret = after.secret;
  } else if (after.signed !== before.signed) {
    patch.sign = after.signed === true;
  } else if (after.signed === true && patch.signatureScheme !== undefined) {
    // Another scheme may need another kind of secret: one that fits is generated, as `sign: true` does.
    patch.sign = true;
  }
  return patch as WebhookPatch;
}
