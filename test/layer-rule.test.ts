import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layer rule of issue #21: following one webhook from create to emit to send to the log rarely goes back up a
// layer. src/ is built in floors (docs/architecture.md, "Layers"); a file imports values only from folders on lower
// floors. Folders on one floor do not import each other either (transport, rendering and routing each stand on core
// alone). Lowest first:
const FLOORS: readonly (readonly string[])[] = [
  ['core'], // what every stage shares
  ['transport', 'rendering', 'routing'], // how bytes travel, what is sent, which webhooks match: each on core alone
  ['log'], // what was sent (masks the headers rendering/ calls sensitive)
  ['delivery'], // send: render and sign, one attempt over transport/, its record in log/
  ['events', 'webhooks'], // create: catalogs, validation and compilation (routing/, rendering/, transport/)
  ['dispatcher'], // emit: the composition of every stage above
  ['(entry)'], // src/index.ts and src/extend.ts: the root and /extend entries
  ['durable'], // the durable queues' skeleton, over the entries
  ['bullmq', 'postgres', 'api', 'receiver', 'otel'], // sub-entries (never each other: test/import-rule.test.ts)
];

// Value imports that climb, each with its reason. None today. Type-only imports leave no runtime edge and are not
// failed; today there are 2, both in core/compiled-webhook.ts, which names routing's `EventFilter` and rendering's
// `CompiledTemplate` so that webhooks/, routing/ and delivery/ share one compiled shape without importing each other.
const ALLOWED_CLIMBS: readonly string[] = [];

const src = resolve(new URL('../src', import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(path: string): string {
  const parts = relative(src, path).split('/');
  return parts.length > 1 ? (parts[0] as string) : '(entry)';
}

function floorOf(folder: string): number {
  return FLOORS.findIndex((floor) => floor.includes(folder));
}

/** Whether an import from `from`'s folder to `to`'s folder goes up (or sideways on one floor). */
function climbs(fromFolder: string, toFolder: string): boolean {
  if (fromFolder === toFolder) return false;
  return floorOf(toFolder) >= floorOf(fromFolder);
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function typeOnlyClause(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (clause === undefined) return false; // `import './x.js'` runs the module
    if (clause.isTypeOnly) return true;
    const named = clause.namedBindings;
    return clause.name === undefined && named !== undefined && ts.isNamedImports(named)
      ? named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly)
      : false;
  }
  if (node.isTypeOnly) return true;
  const named = node.exportClause;
  return named !== undefined && ts.isNamedExports(named)
    ? named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly)
    : false;
}

/** Relative imports and re-exports of a file, and `import('./x.js')` calls (always values). */
function edgesOf(file: string, text: string): Edge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    if (!specifier.startsWith('.')) return;
    edges.push({ from: file, to: resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, typeOnlyClause(node));
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal))
        add(argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function climbing(edges: readonly Edge[]): Edge[] {
  return edges.filter((edge) => climbs(folderOf(edge.from), folderOf(edge.to)));
}

const show = (edge: Edge) => `${relative(src, edge.from)} -> ${relative(src, edge.to)}`;
const files = sourceFiles(src);
const edges = files.flatMap((file) => edgesOf(file, readFileSync(file, 'utf8')));

describe('layer rule', () => {
  it('places every folder of src/ on a floor', () => {
    const folders = new Set(files.map(folderOf));
    expect(folders.size).toBeGreaterThan(10);
    expect([...folders].filter((folder) => floorOf(folder) === -1)).toEqual([]);
  });

  it('tells a value import from a type-only one, and a climb from a step down', () => {
    const file = join(src, 'log', 'x.ts');
    const found = edgesOf(
      file,
      [
        "import type { A } from '../delivery/a.js';",
        "import { type B } from '../delivery/b.js';",
        "import { c } from '../delivery/c.js';",
        "export { d } from '../core/d.js';",
        "import './side-effect.js';",
        "const e = () => import('../dispatcher/e.js');",
        "type F = import('../api/f.js').F;",
      ].join('\n'),
    );
    expect(found.map((edge) => [show(edge), edge.typeOnly])).toEqual([
      ['log/x.ts -> delivery/a.ts', true],
      ['log/x.ts -> delivery/b.ts', true],
      ['log/x.ts -> delivery/c.ts', false],
      ['log/x.ts -> core/d.ts', false],
      ['log/x.ts -> log/side-effect.ts', false],
      ['log/x.ts -> dispatcher/e.ts', false],
      ['log/x.ts -> api/f.ts', true],
    ]);
    expect(climbing(found).map(show)).toEqual([
      'log/x.ts -> delivery/a.ts',
      'log/x.ts -> delivery/b.ts',
      'log/x.ts -> delivery/c.ts',
      'log/x.ts -> dispatcher/e.ts',
      'log/x.ts -> api/f.ts',
    ]);
    expect(climbs('routing', 'rendering')).toBe(true);
    expect(climbs('delivery', 'rendering')).toBe(false);
  });

  it('has no value import that climbs a floor, except the allowed ones', () => {
    const found = climbing(edges).filter((edge) => !edge.typeOnly);
    expect(found.map(show).sort()).toEqual([...ALLOWED_CLIMBS].sort());
  });
});
