import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainToASCII } from 'node:url';
import { canonicalPath, isIpv4Literal, normaliseDomainEntry, normaliseHost, normaliseUrlEntry, splitUrl } from './normalise-host.ts';

/** The documented meaning of normaliseHost for strings with no port, userinfo or brackets. */
const viaUrlStandard = (s: string): string | null => {
  if (/[\s/\\?#@:[\]]/.test(s)) return null;
  const ascii = domainToASCII(s);
  const host = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  return /^(?=.{1,253}$)[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/.test(host) ? host : null;
};

/** A tiny seeded generator, so failures reproduce. */
const random = (seed: number) => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

describe('normaliseHost', () => {
  const cases: [string, string | null][] = [
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com..', null],
    ['www.example.com:8080', 'www.example.com'],
    ['example.com:', 'example.com'],
    ['example.com:http', null],
    ['user:secret@example.com:443', 'example.com'],
    ['a@b@example.com', 'example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.de.', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['xn--abc.com', null], // invalid punycode
    ['EXAMPLE。com', 'example.com'], // ideographic full stop
    ['exa\u00admple.com', 'example.com'], // soft hyphen is ignored by IDNA mapping
    ['10.0.0.1', '10.0.0.1'],
    ['10.0.0.1.', '10.0.0.1'],
    ['0x7f.1', '127.0.0.1'], // browsers read this as 127.0.0.1; so must we
    ['3232235777', '192.168.1.1'],
    ['010.0.0.1', '8.0.0.1'], // octal, as the URL standard reads it
    ['300.1.1.1', null],
    ['1.2.3.4.5', null],
    ['[::1]', '::1'],
    ['[::1]:8443', '::1'],
    ['[0:0::1]', '::1'],
    ['::1', '::1'],
    ['[::ffff:10.0.0.1]', '10.0.0.1'], // IPv4-mapped: IP entries still apply
    ['[::1', null],
    ['[::1]x', null],
    ['', null],
    ['.', null],
    ['.example.com', null],
    ['a..b', null],
    ['exa mple.com', null],
    [' example.com', null],
    ['example.com\n', null],
    ['ex\u0000ample.com', null],
    ['example.com/path', null],
    ['example.com?q', null],
    ['ex*ample.com', null],
    ['under_score.example.com', 'under_score.example.com'],
    ['-lead.example.com', '-lead.example.com'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    [`${'a'.repeat(64)}.com`, null],
    [Array(127).fill('a').join('.'), Array(127).fill('a').join('.')], // 253 characters
    [`${Array(127).fill('a').join('.')}.`, Array(127).fill('a').join('.')],
    [`${Array(127).fill('a').join('.')}.b`, null], // 255 characters
    ['x'.repeat(100_000), null],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input.length > 60 ? `${input.slice(0, 20)}…(${input.length})` : input)} → ${String(expected)}`, () => {
      assert.equal(normaliseHost(input), expected);
    });
  }

  it('takes its fast path only where the URL standard agrees (fuzzed)', () => {
    const next = random(42);
    const pieces = ['a', 'b', 'z', '0', '1', '9', '-', '_', '.', '.', 'x', 'n', 'xn--', 'A', 'Z', '0x', 'é', 'ß', '255', '256', '1.2'];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = 1 + Math.floor(next() * 12);
      for (let j = 0; j < n; j++) s += pieces[Math.floor(next() * pieces.length)]!;
      assert.equal(normaliseHost(s), viaUrlStandard(s), JSON.stringify(s));
    }
  });

  it('is idempotent', () => {
    for (const [input] of cases) {
      const once = normaliseHost(input);
      if (once !== null && !once.includes(':')) assert.equal(normaliseHost(once), once, input);
    }
  });
});

describe('isIpv4Literal', () => {
  it('accepts canonical dotted quads only', () => {
    for (const s of ['0.0.0.0', '1.2.3.4', '10.0.0.1', '255.255.255.255', '192.168.100.200']) assert.ok(isIpv4Literal(s), s);
    for (const s of [
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.04',
      '1..3.4',
      '.1.2.3',
      '1.2.3.',
      'a.1.2.3',
      '1.2.3.4a',
      '',
      '1234.1.1.1',
    ])
      assert.ok(!isIpv4Literal(s), s);
  });

  it('agrees with a regular expression (fuzzed)', () => {
    const re = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
    const next = random(7);
    const chars = '0123456789..a';
    for (let i = 0; i < 50_000; i++) {
      let s = '';
      const n = 1 + Math.floor(next() * 16);
      for (let j = 0; j < n; j++) s += chars[Math.floor(next() * chars.length)]!;
      assert.equal(isIpv4Literal(s), re.test(s), s);
    }
  });
});

describe('splitUrl', () => {
  const cases: [string, string | null, string][] = [
    ['http://Example.com/a/B?q=1#frag', 'example.com', '/a/B?q=1'],
    ['https://user:pw@www.example.com:8443/x', 'www.example.com', '/x'],
    ['example.com', 'example.com', '/'],
    ['example.com/path', 'example.com', '/path'],
    ['example.com?q=1', 'example.com', '/?q=1'],
    ['example.com#top', 'example.com', '/'],
    ['//example.com/a', 'example.com', '/a'],
    ['  http://example.com/a  ', 'example.com', '/a'],
    ['http://example.com\\a\\b', 'example.com', '/a/b'],
    ['http://[::1]:8080/x', '::1', '/x'],
    ['http://bücher.de/ä', 'xn--bcher-kva.de', '/ä'],
    ['ftp://10.0.0.1/file', '10.0.0.1', '/file'],
    ['http://exa mple.com/', null, '/'],
    ['http:///path', null, '/path'],
  ];
  for (const [input, host, path] of cases) {
    it(`${JSON.stringify(input)} → ${String(host)} ${path}`, () => {
      assert.deepEqual(splitUrl(input), { host, path });
    });
  }
});

describe('canonicalPath', () => {
  it('lower-cases, decodes escaped unreserved characters only, resolves dot segments, keeps the query', () => {
    assert.equal(canonicalPath('/A/B?Q=1'), '/a/b?q=1');
    assert.equal(canonicalPath('/%41%62c/%2F%3f'), '/abc/%2f%3f');
    assert.equal(canonicalPath('/a/./b/../c'), '/a/c');
    assert.equal(canonicalPath('/../../x'), '/x');
    assert.equal(canonicalPath('/a/b/..'), '/a/');
    assert.equal(canonicalPath('/a?x=/../y'), '/a?x=/../y');
    assert.equal(canonicalPath('/'), '/');
  });
});

describe('list entries', () => {
  it('normaliseDomainEntry skips blanks and comments, drops wildcard prefixes, rejects junk', () => {
    assert.equal(normaliseDomainEntry(''), undefined);
    assert.equal(normaliseDomainEntry('   '), undefined);
    assert.equal(normaliseDomainEntry('# comment'), undefined);
    assert.equal(normaliseDomainEntry(' Example.COM \r'), 'example.com');
    assert.equal(normaliseDomainEntry('*.example.com'), 'example.com');
    assert.equal(normaliseDomainEntry('.example.com'), 'example.com');
    assert.equal(normaliseDomainEntry('exa mple.com'), null);
    assert.equal(normaliseDomainEntry('a..b'), null);
  });

  it('normaliseUrlEntry drops www., trailing slashes and fragments, keeps queries', () => {
    assert.deepEqual(normaliseUrlEntry('www.Example.com/Dir/'), { host: 'example.com', path: '/dir' });
    assert.deepEqual(normaliseUrlEntry('example.com/'), { host: 'example.com', path: '' });
    assert.deepEqual(normaliseUrlEntry('example.com'), { host: 'example.com', path: '' });
    assert.deepEqual(normaliseUrlEntry('example.com/page.php?f=141'), { host: 'example.com', path: '/page.php?f=141' });
    assert.deepEqual(normaliseUrlEntry('example.com/index.html#tel1'), { host: 'example.com', path: '/index.html' });
    assert.deepEqual(normaliseUrlEntry('www.com/x'), { host: 'com', path: '/x' });
    assert.equal(normaliseUrlEntry(''), undefined);
    assert.equal(normaliseUrlEntry('bad host/x'), null);
  });
});
