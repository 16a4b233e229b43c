import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildClassifier } from './build-classifier.ts';
import {
  MAX_EXPRESSION_LENGTH,
  MAX_EXPRESSION_SUBJECT,
  UnsafeExpressionError,
  compileExpression,
  isExpressionLine,
} from './expressions.ts';
import { ReferenceClassifier } from './reference-classifier.ts';
import { loadClassifierSnapshot } from './snapshot.ts';
import type { ListMatch, SourceList } from './types.ts';

const SHARED = process.env.HAVEN_SHARED_LISTS ?? path.resolve('..', 'shared', 'data', 'categories');

const refusal = (source: string): string => {
  const result = compileExpression(source);
  assert.ok(result instanceof UnsafeExpressionError, `${JSON.stringify(source)} was not refused`);
  return result.message;
};

const show = (matches: readonly ListMatch[]) => matches.map((m) => `${m.list}:${m.kind}`).join(' ');

describe('expression backtracking guard', () => {
  const dangerous: [string, RegExp][] = [
    ['(a+)+$', /refused as a backtracking risk: repeated group \(a\+\)\+ at 0 holds a variable repeat/],
    ['(.*a){20}', /repeated group \(\.\*a\)\{20\} at 0 holds a variable repeat/],
    ['(a*)*b', /repeated group \(a\*\)\* at 0/],
    ['^(\\w+\\s?)*$', /repeated group \(\\w\+\\s\?\)\* at 1/],
    ['x(?:a|b+)+y', /repeated group \(\?:a\|b\+\)\+ at 1/],
    ['((ab+))*', /repeated group \(\(ab\+\)\)\* at 0/], // the repeat is two groups down
    ['(a{1,5}){2,9}', /repeated group \(a\{1,5\}\)\{2,9\} at 0/], // bounded, still 5^9 ways
    ['([[:alpha:]]+\\.)+com', /repeated group .* holds a variable repeat/], // after translating [:alpha:]
    ['(a)\\1', /back-reference \\1 at 3/],
    ['(?<w>a+)x\\k<w>', /named back-reference at 9/],
    ['a{101}', /repeat count \{101\} at 1 over 100/],
    ['a{2,1000}', /repeat count \{2,1000\} at 1 over 100/],
    ['a{500,}', /repeat count \{500,\} at 1 over 100/],
    ['\\u{99999}', /repeat count \{99999\} at 2 over 100/], // without the u flag this repeats "u"
  ];
  for (const [source, reason] of dangerous) {
    it(`refuses ${source}`, () => assert.match(refusal(source), reason));
  }

  it(`refuses lines over ${MAX_EXPRESSION_LENGTH} characters, unread`, () => {
    const long = `(${'a'.repeat(MAX_EXPRESSION_LENGTH)})`;
    assert.match(refusal(long), new RegExp(`${long.length} characters, over ${MAX_EXPRESSION_LENGTH}`));
    assert.ok(compileExpression('a'.repeat(MAX_EXPRESSION_LENGTH)) instanceof RegExp);
  });

  const safe = [
    'porn',
    '(porn|xxx)',
    '/banner/',
    '^[0-9]+\\.[0-9]+/x$',
    '.*/ymsgr*\\.exe$',
    'a{100}',
    'a{0,100}',
    '(ab)+', // a repeated group with nothing variable inside
    '(ab?)+', // ? matches at most once
    '(a{3}-)+', // a fixed count is not a variable repeat
    '(a+)?', // the group repeats at most once
    '(a+)b+(c*)',
    '[(a+)+]', // inside a class these are plain characters
    '\\(a+\\)+',
    'a{,5}', // not a quantifier in JavaScript: the characters "{,5}"
    '(?:x|y)z*',
    '\\<word\\>',
  ];
  for (const source of safe) {
    it(`accepts ${source}`, () => assert.ok(compileExpression(source) instanceof RegExp, String(compileExpression(source))));
  }

  it('leaves syntax errors to the RegExp constructor', () => {
    for (const source of ['(unclosed', 'a)', '*a', '[z-a]']) {
      const result = compileExpression(source);
      assert.ok(result instanceof SyntaxError, `${source}: ${String(result)}`);
    }
  });

  it('accepts every expression in the shared lists', (t) => {
    if (!existsSync(SHARED)) {
      if (process.env.CI === 'true') assert.fail(`CI must run this test: ${SHARED} not found`);
      t.skip(`${SHARED} not found (set HAVEN_SHARED_LISTS to the categories folder)`);
      return;
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name === 'expressions') files.push(path.join(dir, e.name));
      }
    };
    walk(SHARED);
    const lines = files.flatMap((f) => readFileSync(f, 'utf8').split(/\r?\n/).filter(isExpressionLine));
    assert.ok(lines.length >= 7, `${lines.length} expressions in ${files.length} files`);
    // None is refused (and so none needs a justification here).
    const refused = lines
      .map((l) => [l.trim().slice(0, 60), compileExpression(l.trim())] as const)
      .filter(([, r]) => !(r instanceof RegExp));
    assert.deepEqual(
      refused.map(([l, r]) => `${l}: ${String(r)}`),
      [],
    );
  });
});

describe('classifying URLs with refused expressions in the lists', () => {
  const lists: SourceList[] = [
    { name: 'test/ads', domains: ['ads.example'], urls: [], expressions: ['/banner/', '(a+)+b', 'q{1000}'] },
    { name: 'test/adult', domains: [], urls: [], expressions: ['(porn|xxx)', '(.*sex){20}', '(w)\\1'] },
  ];
  const built = buildClassifier(lists, { seed: 3 });
  const loaded = loadClassifierSnapshot(built.toSnapshot());
  const reference = new ReferenceClassifier(lists);

  it('reports each refused line as skipped, with its reason', () => {
    assert.deepEqual(built.warnings, [
      'test/ads expressions: skipped "(a+)+b": refused as a backtracking risk: repeated group (a+)+ at 0 holds a variable repeat',
      'test/ads expressions: skipped "q{1000}": refused as a backtracking risk: repeat count {1000} at 1 over 100',
      'test/adult expressions: skipped "(.*sex){20}": refused as a backtracking risk: repeated group (.*sex){20} at 0 holds a variable repeat',
      'test/adult expressions: skipped "(w)\\\\1": refused as a backtracking risk: back-reference \\1 at 3',
    ]);
    assert.deepEqual(loaded.warnings, built.warnings);
  });

  const cases: [string, string][] = [
    ['http://unlisted.test/img/banner/1.gif', '0:expression'],
    ['http://unlisted.test/free-PORN', '1:expression'],
    ['http://unlisted.test/banner/xxx', '0:expression 1:expression'],
    ['http://ads.example/porn', '0:domain'], // a domain still beats an expression
    // Each would match a refused expression, so nothing matches: the refused are never run.
    ['http://unlisted.test/aaaab', ''],
    [`http://unlisted.test/${'q'.repeat(1000)}`, ''],
    [`http://unlisted.test/${'sex'.repeat(20)}`, ''],
    ['http://unlisted.test/ww', ''],
    ['http://unlisted.test/clean', ''],
  ];
  for (const [url, expected] of cases) {
    it(`matchUrl(${JSON.stringify(url.slice(0, 60))}) → ${expected || 'nothing'}`, () => {
      assert.equal(show(built.matchUrl(url)), expected);
      assert.equal(show(loaded.matchUrl(url)), expected);
      assert.equal(show(reference.matchUrl(url)), expected);
    });
  }

  it(`runs expressions over the first ${MAX_EXPRESSION_SUBJECT} characters of host and path only`, () => {
    const host = 'unlisted.test';
    const pad = (n: number) => `/${'p'.repeat(n - host.length - 1)}`;
    const within = `http://${host}${pad(MAX_EXPRESSION_SUBJECT - 'porn'.length)}porn`;
    const beyond = `http://${host}${pad(MAX_EXPRESSION_SUBJECT - 'porn'.length + 1)}porn`;
    for (const c of [built, reference]) {
      assert.equal(show(c.matchUrl(within)), '1:expression');
      assert.equal(show(c.matchUrl(beyond)), '');
    }
  });
});
