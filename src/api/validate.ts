import type { TSchema } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { describe } from '../core/describe.js';
import { expectation } from '../core/schema-words.js';
import { ApiError } from './errors.js';

export { expectation };

/** `/statements/0/resources/1` -> `statements[0].resources[1]` (the library's field paths). */
export function fieldOf(pointer: string, prefix = ''): string {
  let field = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) field += field === '' ? part : `.${part}`;
    else field += `[${JSON.stringify(part)}]`;
  }
  return field;
}

const SECRET_FIELD = /secret|auth|token|key|cookie|pass|session|signature|certificate/i;

/** Checks `value` against `schema`; throws an ApiError naming the first offending field. */
export function check(
  schema: TSchema,
  value: unknown,
  failure: { status: number; code: string; prefix?: string },
): void {
  if (Value.Check(schema, value)) return;
  const first = Value.Errors(schema, value).First() as ValueError | undefined;
  if (first === undefined) return;
  const field = fieldOf(first.path, failure.prefix);
  const shown = field === '' ? 'the body' : `\`${field}\``;
  let message: string;
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys((first.schema as TSchema).properties ?? {});
    message = `Unknown field ${shown}${known.length > 0 ? `; known fields: ${known.join(', ')}` : ''}`;
  } else {
    // A wrong value in a credential-like field is described by its type only: it may be a real secret.
    const got = SECRET_FIELD.test(field) ? `a value of type ${typeof first.value}` : describe(first.value);
    message = `Expected ${shown} to be ${expectation(first.schema as TSchema)}, got ${first.value === undefined ? 'nothing' : got}`;
  }
  throw new ApiError(failure.status, failure.code, message, { field: field === '' ? undefined : field });
}
