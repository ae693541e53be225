import type { TSchema } from '@sinclair/typebox';

/** What a schema expects, in words: `a boolean`, `one of "allow", "deny"`, `an integer from 1 to 100`. */
export function expectation(schema: TSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    const options = (schema.anyOf as TSchema[]).filter((option) => option.type !== 'null');
    const nullable = options.length < schema.anyOf.length ? ' or null' : '';
    if (options.every((option) => 'const' in option)) {
      return `one of ${options.map((option) => JSON.stringify(option.const)).join(', ')}${nullable}`;
    }
    return `${options.map(expectation).join(' or ')}${nullable}`;
  }
  switch (schema.type) {
    case 'string':
      return (schema.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'a boolean';
    case 'number':
      return schema.exclusiveMinimum === 0 ? 'a positive number' : 'a number';
    case 'integer':
      return schema.maximum === undefined
        ? 'an integer'
        : `an integer from ${schema.minimum ?? 0} to ${schema.maximum}`;
    case 'array':
      return schema.items ? `an array of ${plural(schema.items as TSchema)}` : 'an array';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    default:
      return 'a valid value';
  }
}

function plural(schema: TSchema): string {
  if (schema.type === 'string') return (schema.minLength ?? 0) > 0 ? 'non-empty strings' : 'strings';
  if (schema.type === 'object') return schema.title ? `${schema.title} objects` : 'objects';
  return 'valid items';
}
