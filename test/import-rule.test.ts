import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import rule between the package's entries. A sub-entry (`/api`, `/receiver`, ...) is bundled on its own: what
// it imports from `src/index.ts` or `src/extend.ts` loads the built root or `/extend` entry (tsup.config.ts),
// anything else is copied into it.
const root = resolve(new URL('..', import.meta.url).pathname);
const src = join(root, 'src');
const SUB_ENTRIES = ['api', 'bullmq', 'otel', 'postgres', 'receiver'];
const ROOT_ENTRY = join(src, 'index.ts');
const EXTEND_ENTRY = join(src, 'extend.ts');
const CORE_ENTRIES = [ROOT_ENTRY, EXTEND_ENTRY];

interface Import {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /^(import|export)\s+(type\s+)?([^;]*?)\s*from\s+'([^']+)'/gms;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .filter((match) => (match[4] as string).startsWith('.'))
    .map((match) => {
      const names = match[3] as string;
      const allTypes = /^\{[^}]*\}$/s.test(names) && names.slice(1, -1).split(',').every(isTypeSpecifier);
      const to = resolve(dirname(file), (match[4] as string).replace(/\.js$/, '.ts'));
      return { from: file, to, typeOnly: match[2] !== undefined || allTypes };
    });
}

function isTypeSpecifier(specifier: string): boolean {
  return specifier.trim() === '' || specifier.trim().startsWith('type ');
}

const files = sourceFiles(src);
const imports = files.flatMap(importsOf);
const show = (i: Import) => `${relative(src, i.from)} -> ${relative(src, i.to)}`;

function subEntryOf(file: string): string | undefined {
  const [top, ...rest] = relative(src, file).split('/');
  return rest.length > 0 && SUB_ENTRIES.includes(top as string) ? top : undefined;
}

// The files one import brings into a sub-entry's bundle: its value imports, followed, stopping at the core entries.
function bundled(start: string, seen = new Set<string>()): Set<string> {
  if (CORE_ENTRIES.includes(start) || seen.has(start)) return seen;
  seen.add(start);
  for (const i of imports) if (i.from === start && !i.typeOnly) bundled(i.to, seen);
  return seen;
}

const ERROR_CLASS = /^export class \w+ extends \w*Error\b/m;
const definesErrors = (file: string) => ERROR_CLASS.test(readFileSync(file, 'utf8'));

describe('the import rule', () => {
  it('knows every entry tsup builds', () => {
    const config = readFileSync(join(root, 'tsup.config.ts'), 'utf8');
    const entries = [...config.matchAll(/^\s+(\w+): 'src\/(\w+)\/index\.ts'/gm)].map((m) => m[2]).sort();
    expect(entries).toEqual(SUB_ENTRIES);
    const core = [...config.matchAll(/^\s+(\w+): 'src\/(\w+)\.ts'/gm)].map((m) => m[2]).sort();
    expect(core).toEqual(['extend', 'index']);
  });

  it('resolves every relative import to a file', () => {
    expect(imports.filter((i) => !existsSync(i.to)).map(show)).toEqual([]);
  });

  it('keeps each sub-entry out of the others', () => {
    const crossing = imports.filter(
      (i) => subEntryOf(i.to) !== undefined && subEntryOf(i.to) !== subEntryOf(i.from),
    );
    expect(crossing.map(show)).toEqual([]);
  });

  it('gives the sub-entries the error classes of the root entry only', () => {
    const copied = imports
      .filter((i) => subEntryOf(i.from) !== undefined && subEntryOf(i.to) === undefined && !i.typeOnly)
      .filter((i) =>
        [...bundled(i.to)].some((file) => subEntryOf(file) === undefined && definesErrors(file)),
      );
    expect(copied.map(show)).toEqual([]);
  });

  it('keeps the root and `/extend` entries out of the sub-entries', () => {
    const reaching = imports.filter((i) => CORE_ENTRIES.includes(i.from) && subEntryOf(i.to) !== undefined);
    expect(reaching.map(show)).toEqual([]);
  });
});

// What each entry exports, values and types alike, as a user's editor lists them.
function exportedNames(): Record<'root' | 'extend', string[]> {
  const program = ts.createProgram(CORE_ENTRIES, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const names = (file: string) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(file) as ts.SourceFile);
    return checker.getExportsOfModule(symbol as ts.Symbol).map((s) => s.name);
  };
  return { root: names(ROOT_ENTRY), extend: names(EXTEND_ENTRY) };
}

// The names design.md fixes at the root (Parts 1 and 3), for people who send webhooks.
const FIXED_AT_ROOT = [
  'createWebhookDispatcher',
  'memoryStore',
  'httpTransport',
  'fetchTransport',
  'createPolicyMatcher',
  'signPayload',
  'verifySignature',
  'signStandardWebhook',
  'verifyStandardWebhook',
  'DEFAULT_STATEMENTS',
  'WebhookError',
  'memoryDeliveryLog',
  'TransportError',
  'generateStandardSecret',
  'guardedLookup',
  'createAddressPolicy',
  'classifyAddress',
  'toLogger',
];

describe('the public surface', () => {
  const { root: rootNames, extend: extendNames } = exportedNames();

  it('keeps the root entry to at most 60 names, values and types counted', () => {
    expect(rootNames.length).toBeGreaterThan(0);
    expect(rootNames.length).toBeLessThanOrEqual(60);
  });

  it('keeps every name the design fixes at the root there', () => {
    expect(FIXED_AT_ROOT.filter((name) => !rootNames.includes(name))).toEqual([]);
  });

  it('gives each name one entry', () => {
    expect(extendNames.length).toBeGreaterThan(0);
    expect(rootNames.filter((name) => extendNames.includes(name))).toEqual([]);
  });
});
