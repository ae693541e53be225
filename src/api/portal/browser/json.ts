/** JSON with positions: the policy editor shows where a statement breaks, at its character. */

export class JsonSyntaxError extends Error {
  /** 0-based offset of the character the error is at. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

export interface ParsedJson {
  value: unknown;
  /** Where each value starts, by path (`[0].resources[1]`; `''` for the whole). */
  starts: Map<string, number>;
}

const LITERALS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** A small recursive-descent JSON parser that reports where the text breaks and where each value starts. */
class JsonParser {
  private i = 0;
  readonly starts = new Map<string, number>();

  constructor(private readonly text: string) {}

  parse(): unknown {
    const result = this.value('');
    this.ws();
    if (this.i < this.text.length) this.fail(`Unexpected ${this.describe()} after the JSON value`);
    return result;
  }

  private fail(message: string, at: number = this.i): never {
    throw new JsonSyntaxError(message, at);
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i] as string)) this.i++;
  }

  private describe(): string {
    return this.i >= this.text.length ? 'the end of the text' : `'${this.text[this.i]}'`;
  }

  private value(at: string): unknown {
    this.ws();
    this.starts.set(at, this.i);
    const c = this.text[this.i];
    if (c === '{') return this.object(at);
    if (c === '[') return this.array(at);
    if (c === '"') return this.string();
    if (c !== undefined && (c === '-' || (c >= '0' && c <= '9'))) return this.number();
    for (const [word, result] of LITERALS) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return result;
      }
    }
    return this.fail(`Expected a value, got ${this.describe()}`);
  }

  private object(at: string): Record<string, unknown> {
    this.i++;
    const result: Record<string, unknown> = {};
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return result;
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"')
        this.fail(`Expected a property name in double quotes, got ${this.describe()}`);
      const key = this.string();
      this.ws();
      if (this.text[this.i] !== ':')
        this.fail(`Expected ':' after the property name, got ${this.describe()}`);
      this.i++;
      result[key] = this.value(`${at}.${key}`);
      const end = this.closes('}');
      if (end) return result;
      if (end === undefined)
        this.fail(`Expected ',' or '}' after the property value, got ${this.describe()}`);
    }
  }

  private array(at: string): unknown[] {
    this.i++;
    const result: unknown[] = [];
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return result;
    }
    for (;;) {
      result.push(this.value(`${at}[${result.length}]`));
      const end = this.closes(']');
      if (end) return result;
      if (end === undefined) this.fail(`Expected ',' or ']' after the array item, got ${this.describe()}`);
    }
  }

  /** After an item: true at the closing bracket, false at a comma (either consumed), undefined at anything else. */
  private closes(bracket: string): boolean | undefined {
    this.ws();
    if (this.text[this.i] === ',') {
      this.i++;
      return false;
    }
    if (this.text[this.i] === bracket) {
      this.i++;
      return true;
    }
    return undefined;
  }

  private string(): string {
    const { text } = this;
    const start = this.i;
    this.i++;
    while (this.i < text.length) {
      const c = text[this.i] as string;
      if (c === '"') {
        this.i++;
        return JSON.parse(text.slice(start, this.i)) as string;
      }
      if (c === '\\') {
        const next = text[this.i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) this.fail('Invalid \\u escape');
          this.i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) this.i += 2;
        else this.fail('Invalid escape in string');
      } else if (c < ' ') this.fail('Control character in string (use \\n, \\t, ...)');
      else this.i++;
    }
    return this.fail('Unterminated string', start);
  }

  private number(): number {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i));
    if (!match) return this.fail('Invalid number');
    this.i += match[0].length;
    return Number(match[0]);
  }
}

/** Parses JSON; throws JsonSyntaxError with the offset where it breaks. */
export function parseJson(text: string): ParsedJson {
  const parser = new JsonParser(text);
  const value = parser.parse();
  return { value, starts: parser.starts };
}

/** Statements as LaunchDarkly's docs show them: one property a line, lists of strings on one line. */
export function formatJson(value: unknown, pad = ''): string {
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) {
      return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    }
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(',\n')}\n${pad}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`);
    return `{\n${lines.join(',\n')}\n${pad}}`;
  }
  return JSON.stringify(value);
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The line holding the offset and a caret under it. */
export function excerpt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end === -1) end = text.length;
  const line = text.slice(start, end).replace(/\t/g, ' ');
  return `${line}\n${' '.repeat(Math.max(0, offset - start))}^`;
}
