import picomatch from 'picomatch';

/** Tests one subject string against a compiled pattern. */
export type GlobTest = (subject: string) => boolean;

const always: GlobTest = () => true;

/**
 * picomatch, configured so that only `*` is special: braces, extglobs, globstars, negation, quantifiers and
 * brackets are off, and the pattern's other glob characters are escaped, so key characters such as `.`, `?`,
 * `(` or `!` match themselves. As everywhere in resource specifiers, `*` never spans a `/`.
 */
const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = {
  dot: true,
  nobrace: true,
  noextglob: true,
  noglobstar: true,
  nonegate: true,
  literalBrackets: true,
};

const GLOB_SPECIAL = /[\\?[\](){}!+@|^$]/g;

/**
 * Compiles a pattern in which `*` matches any run of characters (none included) and every other character is
 * literal: `update*`, `ops_*`, `*-prod`, `change-request-*`, `a.b*`. Literal patterns and match-all patterns
 * skip the regular expression. Case-insensitive callers lower-case both sides before compiling and testing.
 */
export function compileGlob(pattern: string): GlobTest {
  if (!pattern.includes('*')) return (subject) => subject === pattern;
  if (isMatchAll(pattern)) return always;
  const regex = picomatch.makeRe(
    pattern.replace(GLOB_SPECIAL, (char) => `\\${char}`),
    PICOMATCH_OPTIONS,
  );
  return (subject) => regex.test(subject);
}

/** True when `pattern` is made of `*` only, so it matches every subject. */
export function isMatchAll(pattern: string): boolean {
  if (pattern.length === 0) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern.charCodeAt(i) !== 42) return false;
  return true;
}

/** One test over a list of names and globs: a Set lookup for the literals, then the globs. */
export function compileGlobList(patterns: readonly string[]): GlobTest {
  if (patterns.some(isMatchAll)) return always;
  const literals = new Set<string>();
  const globs: GlobTest[] = [];
  for (const pattern of patterns) {
    if (pattern.includes('*')) globs.push(compileGlob(pattern));
    else literals.add(pattern);
  }
  if (globs.length === 0) {
    if (literals.size === 1) {
      const [only] = literals;
      return (name) => name === only;
    }
    return (name) => literals.has(name);
  }
  return (name) => {
    if (literals.has(name)) return true;
    for (const glob of globs) if (glob(name)) return true;
    return false;
  };
}
