import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The size rule of issue #21: a function a reader can hold, a file a reader can find their way in. p-retry's
// longest function is 64 lines and octokit's webhooks-methods has none over 30; 100 and 400 leave room for a
// long switch or a table without letting a class-sized closure or a two-role file back in. Counted as `wc -l`
// counts (a function from its first token, JSDoc excluded, to its closing brace). Generated files (`*.generated.ts`,
// written by the build) are exempt: no one edits them by hand.
const MAX_FUNCTION_LINES = 100;
const MAX_FILE_LINES = 400;

const src = resolve(new URL('../src', import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.generated.ts') ? [path] : [];
  });
}

function nameOf(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
  if (node.name !== undefined) {
    const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return owner + node.name.getText(source);
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent)
  ) {
    return parent.name.getText(source);
  }
  return '<anonymous>';
}

/** Every function, method, accessor and arrow with a body, with its length in lines. */
function functionLengths(text: string, file = 'x.ts'): { name: string; line: number; lines: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { name: string; line: number; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      found.push({ name: nameOf(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

const files = sourceFiles(src).map((path) => ({
  path: relative(src, path),
  text: readFileSync(path, 'utf8'),
}));

describe('size rule', () => {
  it('reads the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((file) => file.path === 'index.ts')).toBe(true);
  });

  it('measures a function from its first line to its closing brace', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES - 1 }, (_, i) => `  const a${i} = ${i};`);
    const text = [
      '/** docs */',
      'export function long(): void {',
      ...body,
      '}',
      'class C {',
      '  m = () => 1;',
      '}',
    ];
    const lengths = functionLengths(text.join('\n'));
    expect(lengths).toContainEqual({ name: 'long', line: 2, lines: MAX_FUNCTION_LINES + 1 });
    expect(lengths).toContainEqual({ name: 'm', line: MAX_FUNCTION_LINES + 4, lines: 1 });
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
  });

  it(`has no function in src/ longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const over = files.flatMap((file) =>
      functionLengths(file.text, file.path)
        .filter((fn) => fn.lines > MAX_FUNCTION_LINES)
        .map((fn) => `src/${file.path}:${fn.line} ${fn.name} is ${fn.lines} lines`),
    );
    expect(over, `split these by role (limit ${MAX_FUNCTION_LINES} lines)`).toEqual([]);
  });

  it(`has no file in src/ longer than ${MAX_FILE_LINES} lines (generated files aside)`, () => {
    const over = files
      .filter((file) => lineCount(file.text) > MAX_FILE_LINES)
      .map((file) => `src/${file.path} is ${lineCount(file.text)} lines`);
    expect(over, `split these by role (limit ${MAX_FILE_LINES} lines)`).toEqual([]);
  });
});
