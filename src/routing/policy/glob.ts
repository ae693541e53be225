/** Tests one subject string against a compiled pattern. */
export type GlobTest = (subject: string) => boolean;

/**
 * The longest event type or action name/glob a webhook may save (`events[i]`, `statements[i].actions[j]`).
 * Matching costs at most (subject length) x (pattern length) character comparisons, so the cap bounds the cost
 * of one comparison whatever a saved pattern looks like.
 */
export const MAX_GLOB_LENGTH = 256;

const always: GlobTest = () => true;

/**
 * One `/`-free part of a glob with at least one `*`, split on its `*`s: the subject must start with `prefix`,
 * end with `suffix` and hold each of `middle` in order between them, without overlaps.
 */
interface StarSegment {
  readonly prefix: string;
  readonly middle: readonly string[];
  readonly suffix: string;
  /** Characters the literal parts need, so a shorter subject fails at once. */
  readonly minLength: number;
}

type Segment = string | StarSegment;

function compileSegment(text: string): Segment {
  if (!text.includes('*')) return text;
  const parts = text.split('*');
  const prefix = parts[0] as string;
  const suffix = parts[parts.length - 1] as string;
  // Runs of `*` leave empty parts, which match anywhere: dropping them keeps the same language.
  const middle = parts.slice(1, -1).filter((part) => part.length > 0);
  const minLength = prefix.length + suffix.length + middle.reduce((sum, part) => sum + part.length, 0);
  return { prefix, middle, suffix, minLength };
}

/** `.` and `..` are matched only literally, never by a `*` (a rule the picomatch-based matcher had too). */
function isDotSegment(subject: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 1) return subject.charCodeAt(start) === 0x2e;
  return length === 2 && subject.charCodeAt(start) === 0x2e && subject.charCodeAt(start + 1) === 0x2e;
}

/**
 * Whether `subject[start, end)` (no `/` in it) matches a star segment. Greedy leftmost placement of each middle
 * part is exact for globs whose only wildcard is `*`: if any placement works, the leftmost one leaves the most
 * room for the parts after it. Each part is found with one `indexOf` from where the previous one ended, so the
 * cost is O(subject x pattern) and never exponential: there is no backtracking.
 */
function starSegmentMatches(segment: StarSegment, subject: string, start: number, end: number): boolean {
  if (end - start < segment.minLength || isDotSegment(subject, start, end)) return false;
  const { prefix, suffix } = segment;
  if (!subject.startsWith(prefix, start)) return false;
  if (!subject.endsWith(suffix, end)) return false;
  const limit = end - suffix.length;
  let at = start + prefix.length;
  for (const part of segment.middle) {
    const found = subject.indexOf(part, at);
    if (found === -1 || found + part.length > limit) return false;
    at = found + part.length;
  }
  return true;
}

function segmentMatches(segment: Segment, subject: string, start: number, end: number): boolean {
  if (typeof segment !== 'string') return starSegmentMatches(segment, subject, start, end);
  return end - start === segment.length && subject.startsWith(segment, start);
}

/**
 * Compiles a pattern in which `*` matches any run of characters (none included) except `/`, and every other
 * character is literal: `update*`, `ops_*`, `*-prod`, `change-request-*`, `a.b*`, `(a)*`. A pattern made of
 * `*` only matches every subject. A `/`-separated part of the subject that is `.` or `..` is matched only by
 * the same literal text. Case-insensitive callers lower-case both sides before compiling and testing.
 *
 * The compiled test runs in time linear in the subject for a given pattern (no regular expression, no
 * backtracking), so a saved pattern such as `*a*a*a*a*a*a*a*a*a*a*b` costs no more than any other.
 */
export function compileGlob(pattern: string): GlobTest {
  if (!pattern.includes('*')) return (subject) => subject === pattern;
  if (isMatchAll(pattern)) return always;
  if (!pattern.includes('/')) {
    const segment = compileSegment(pattern) as StarSegment;
    return (subject) =>
      subject.indexOf('/') === -1 && starSegmentMatches(segment, subject, 0, subject.length);
  }
  const segments = pattern.split('/').map(compileSegment);
  const last = segments.length - 1;
  return (subject) => {
    // Subject and pattern must have their `/`s in the same places: part i of one against part i of the other.
    let start = 0;
    for (let i = 0; i < last; i++) {
      const slash = subject.indexOf('/', start);
      if (slash === -1 || !segmentMatches(segments[i] as Segment, subject, start, slash)) return false;
      start = slash + 1;
    }
    return (
      subject.indexOf('/', start) === -1 &&
      segmentMatches(segments[last] as Segment, subject, start, subject.length)
    );
  };
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
