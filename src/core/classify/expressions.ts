/**
 * squidGuard expressions (POSIX extended regular expressions over "host/path?query") compiled as
 * JavaScript RegExps. ERE is close to a subset of JavaScript's syntax; what differs and occurs
 * in published lists is translated: POSIX bracket classes and the \< \> word boundaries.
 */

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

/** The RegExp for one expression line, or the reason it does not compile. */
export const compileExpression = (source: string): RegExp | Error => {
  const translated = source.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole).replace(/\\[<>]/g, '\\b');
  try {
    return new RegExp(translated, 'i');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
};

/** Blank lines and "#" comments in an expressions file are not expressions. */
export const isExpressionLine = (line: string): boolean => {
  const s = line.trim();
  return s !== '' && !s.startsWith('#');
};
