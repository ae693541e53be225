/** Tests one subject string against a compiled pattern. */
export type GlobTest = (subject: string) => boolean;

const always: GlobTest = () => true;

/**
 * Compiles a pattern in which `*` matches any run of characters (none included) and every other character is
 * literal: `update*`, `ops_*`, `*-prod`, `change-request-*`, `a.b*`.
 *
 * Only `*` is special in this language, so the match is a few anchored `startsWith`/`endsWith`/`indexOf` calls
 * instead of a regular expression: no allocation per call, and none of a path matcher's rules (picomatch's `*`
 * never matches `/`, a lone `.`/`..` or, in bash mode, a newline) leak into keys, tags, actions or event types.
 * Case-insensitive callers lower-case both sides before compiling and testing.
 */
export function compileGlob(pattern: string): GlobTest {
  const parts = pattern.split('*');
  if (parts.length === 1) return (subject) => subject === pattern;

  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((part) => part !== '');

  if (middle.length === 0) {
    if (head === '' && tail === '') return always;
    if (tail === '') return (subject) => subject.startsWith(head);
    if (head === '') return (subject) => subject.endsWith(tail);
    const min = head.length + tail.length;
    return (subject) => subject.length >= min && subject.startsWith(head) && subject.endsWith(tail);
  }

  const min = head.length + tail.length + middle.reduce((sum, part) => sum + part.length, 0);
  return (subject) => {
    if (subject.length < min || !subject.startsWith(head) || !subject.endsWith(tail)) return false;
    const end = subject.length - tail.length;
    let from = head.length;
    // Taking the leftmost occurrence of each middle part is optimal for `*`-only patterns: it leaves the
    // longest possible rest for the parts that follow.
    for (const part of middle) {
      const at = subject.indexOf(part, from);
      if (at === -1 || at + part.length > end) return false;
      from = at + part.length;
    }
    return true;
  };
}

/** True when `pattern` is made of `*` only, so it matches every subject. */
export function isMatchAll(pattern: string): boolean {
  if (pattern.length === 0) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern.charCodeAt(i) !== 42) return false;
  return true;
}
