/**
 * squidGuard expressions (POSIX extended regular expressions over "host/path?query") compiled as
 * JavaScript RegExps. ERE is close to a subset of JavaScript's syntax; what differs and occurs
 * in published lists is translated: POSIX bracket classes and the \< \> word boundaries.
 *
 * JavaScript's RegExp engine backtracks, and a list is input we do not control: one careless or
 * hostile line such as `(a+)+$` would let a crafted URL hold the proxy's thread for minutes. So
 * before compiling, `expressionRisk` refuses the forms that backtrack catastrophically — a
 * repeated group holding a variable repeat (`(a+)+`, `(.*a){20}`), back-references, repeat
 * counts over MAX_REPEAT and lines over MAX_EXPRESSION_LENGTH — and `expressionSubject` cuts the
 * text an expression is run on to MAX_EXPRESSION_SUBJECT characters. The check is syntactic and
 * conservative, not a proof: overlapping alternatives under a repeat (`(a|a)+`) and chains of
 * `.*` still backtrack polynomially, and the subject bound is what keeps those finite. (UT1's
 * strong_redirector line chains three `.*` in one branch: a crafted 2,048-character URL held it
 * for about 0.3 s in our tests. Refusing chains would refuse that real line, so it is accepted;
 * see docs/decisions/0007-classifier-hot-path.md.)
 */

/** Longer lines are refused unread; the longest in the shared lists is about 540 characters. */
export const MAX_EXPRESSION_LENGTH = 1000;
/** Largest count allowed in {n}, {n,} and {n,m}. */
export const MAX_REPEAT = 100;
/** Expressions see at most this much of "host/path?query". */
export const MAX_EXPRESSION_SUBJECT = 2048;

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'a-z',
  digit: '0-9',
  alnum: 'a-z0-9',
  upper: 'a-z', // compiled with the i flag, so upper and lower both mean letters
  lower: 'a-z',
  xdigit: '0-9a-f',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
  word: '\\w',
};

/** An expression line refused before compiling because it could backtrack catastrophically. */
export class UnsafeExpressionError extends Error {
  constructor(reason: string) {
    super(`refused as a backtracking risk: ${reason}`);
    this.name = 'UnsafeExpressionError';
  }
}

/** The RegExp for one expression line, or the reason it is refused or does not compile. */
export const compileExpression = (source: string): RegExp | Error => {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    return new UnsafeExpressionError(`${source.length} characters, over ${MAX_EXPRESSION_LENGTH}`);
  }
  const translated = source.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole).replace(/\\[<>]/g, '\\b');
  const risk = expressionRisk(translated);
  if (risk !== null) return new UnsafeExpressionError(risk);
  try {
    return new RegExp(translated, 'i');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
};

/** The part of "host/path?query" expressions are tested against. */
export const expressionSubject = (subject: string): string =>
  subject.length > MAX_EXPRESSION_SUBJECT ? subject.slice(0, MAX_EXPRESSION_SUBJECT) : subject;

/** Blank lines and "#" comments in an expressions file are not expressions. */
export const isExpressionLine = (line: string): boolean => {
  const s = line.trim();
  return s !== '' && !s.startsWith('#');
};

const QUANTIFIER = /\{(\d+)(,(\d*))?\}/y;

/** The {n}, {n,} or {n,m} quantifier starting at `at`, if one does (else `{` is a literal). */
const braceQuantifier = (pattern: string, at: number): RegExpExecArray | null => {
  QUANTIFIER.lastIndex = at;
  return QUANTIFIER.exec(pattern);
};

/**
 * Why a JavaScript (non-unicode) pattern is a backtracking risk, or null. Reads the pattern as
 * atoms (a character, escape, class or group) and quantifiers, tracking for every open group
 * whether it holds a variable repeat — a quantifier that can match its atom a varying number of
 * times, more than once (`*`, `+`, `{2,5}`, `{2,}`; not `?` or a fixed `{3}`). Such a repeat
 * inside a group that is itself repeated gives the engine exponentially (or, bounded,
 * polynomially) many ways to split the same text, which it tries one by one when a match fails.
 * Syntax errors are left to the RegExp constructor, which reports them.
 */
export const expressionRisk = (pattern: string): string | null => {
  /** Open groups, outermost first: where each began and whether it holds a variable repeat. */
  const groups: { start: number; varies: boolean }[] = [{ start: 0, varies: false }];
  /** The atom a quantifier here would apply to: a group's extent and contents, or a plain atom. */
  let atom: { start: number; varies: boolean } | null = null;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (next >= '1' && next <= '9') return `back-reference \\${next} at ${i}`;
      if (next === 'k' && pattern[i + 2] === '<') return `named back-reference at ${i}`;
      atom = { start: i, varies: false };
      i += 2;
    } else if (c === '[') {
      let end = i + 1;
      while (end < pattern.length && pattern[end] !== ']') end += pattern[end] === '\\' ? 2 : 1;
      atom = { start: i, varies: false };
      i = end + 1;
    } else if (c === '(') {
      groups.push({ start: i, varies: false });
      atom = null;
      i += pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i) ? 4 : pattern.startsWith('(?', i) ? 2 : 1;
    } else if (c === ')') {
      if (groups.length === 1) return null; // unbalanced: the RegExp constructor says so
      const group = groups.pop()!;
      if (group.varies) groups.at(-1)!.varies = true;
      atom = group;
      i++;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && braceQuantifier(pattern, i) !== null)) {
      let min: number;
      let max: number;
      let length = 1;
      if (c === '{') {
        const m = braceQuantifier(pattern, i)!;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        length = m[0].length;
        const count = Math.max(min, m[3] === '' ? 0 : max);
        if (count > MAX_REPEAT) return `repeat count ${m[0]} at ${i} over ${MAX_REPEAT}`;
      } else {
        min = c === '+' ? 1 : 0;
        max = c === '?' ? 1 : Infinity;
      }
      if (atom !== null && max > 1 && atom.varies) {
        const inner = pattern.slice(atom.start, i + length);
        return `repeated group ${inner.length > 40 ? `${inner.slice(0, 37)}...` : inner} at ${atom.start} holds a variable repeat`;
      }
      if (max > 1 && max > min) groups.at(-1)!.varies = true;
      atom = null;
      i += length;
      if (pattern[i] === '?') i++; // lazy
    } else {
      atom = c === '|' || c === '^' || c === '$' ? null : { start: i, varies: false };
      i++;
    }
  }
  return null;
};
