import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyCollision, buildClassifier, collectKeys, packTable, type KeyOf } from './build-classifier.ts';
import { out } from './key-hash.ts';
import { ListSetTable } from './list-sets.ts';
import { ReferenceClassifier } from './reference-classifier.ts';
import type { Classifier, ListMatch, SourceList } from './types.ts';

const LISTS: SourceList[] = [
  {
    name: 'ut1/adult',
    domains: ['example.com', 'bad.example.org', '10.0.0.1', 'bücher.de', '', '# comment', 'exa mple.com', '*.wild.net'],
    urls: ['www.site.org/path', 'site.org/path/deeper/', 'forum.net/show.php?f=14', 'phish.io/login.html#x'],
    expressions: ['(porn|xxx)', '(unclosed'],
  },
  {
    name: 'ut1/gambling',
    domains: ['example.com', 'casino.example.org', 'Example.org', '10.0.0.1'],
    urls: ['site.org/path'],
    expressions: ['/banner/'],
  },
  { name: 'extra/sinfonietta/gore', domains: ['deep.sub.example.org', '192.168.1.1'], urls: [], expressions: [] },
];

const show = (matches: readonly ListMatch[]) => matches.map((m) => `${m.list}:${m.kind}:${m.specificity}`).join(' ');

describe('buildClassifier', () => {
  const c = buildClassifier(LISTS, { seed: 1 });
  const ref = new ReferenceClassifier(LISTS);

  it('names lists in build order and counts distinct domain and IP entries', () => {
    assert.deepEqual(c.listNames, ['ut1/adult', 'ut1/gambling', 'extra/sinfonietta/gore']);
    // example.com, bad.example.org, 10.0.0.1, xn--bcher-kva.de, wild.net, casino.example.org,
    // example.org, deep.sub.example.org, 192.168.1.1
    assert.equal(c.domainCount, 9);
    assert.equal(ref.domainCount, 9);
  });

  it('reports skipped entries and expressions as warnings instead of throwing', () => {
    assert.equal(c.warnings.length, 2);
    assert.match(c.warnings[0]!, /ut1\/adult domains: skipped 1 invalid entries \(e\.g\. "exa mple\.com"\)/);
    assert.match(c.warnings[1]!, /ut1\/adult expressions: skipped "\(unclosed"/);
  });

  const hostCases: [string, string][] = [
    ['example.com', '0:domain:2 1:domain:2'], // in two lists at the same level: both
    ['www.example.com', '0:domain:2 1:domain:2'],
    ['a.b.c.example.com', '0:domain:2 1:domain:2'],
    ['example.org', '1:domain:2'],
    ['casino.example.org', '1:domain:3'], // more labels beat fewer
    ['x.casino.example.org', '1:domain:3'],
    ['bad.example.org', '0:domain:3'],
    ['deep.sub.example.org', '2:domain:4'],
    ['sub.example.org', '1:domain:2'],
    ['xn--bcher-kva.de', '0:domain:2'],
    ['wild.net', '0:domain:2'],
    ['10.0.0.1', '0:ip:4 1:ip:4'],
    ['192.168.1.1', '2:ip:4'],
    ['1.10.0.0.1', ''], // IP entries are not suffixes
    ['10.0.0.2', ''],
    ['com', ''],
    ['notexample.com', ''],
    ['example.com.evil.net', ''],
    ['', ''],
    ['EXAMPLE.Com', '0:domain:2 1:domain:2'], // ASCII case is folded even un-normalised
  ];
  for (const [host, expected] of hostCases) {
    it(`matchHost(${JSON.stringify(host)}) → ${expected || 'nothing'}`, () => {
      assert.equal(show(c.matchHost(host)), expected);
      assert.equal(show(ref.matchHost(host)), expected);
    });
  }

  const urlCases: [string, string][] = [
    ['http://site.org/path', '0:url:1005 1:url:1005'],
    ['site.org/path/', '0:url:1005 1:url:1005'],
    ['https://www.site.org/path?x=1', '0:url:1005 1:url:1005'],
    ['site.org/PATH/x', '0:url:1005 1:url:1005'], // case-insensitive, as squidGuard
    ['site.org/%70ath', '0:url:1005 1:url:1005'], // escapes of plain letters do not dodge it
    ['site.org/x/../path', '0:url:1005 1:url:1005'],
    ['site.org/path/deeper', '0:url:1012'], // the longer path wins
    ['site.org/path/deeper/more?q', '0:url:1012'],
    ['site.org/pathology', ''], // not at a segment boundary
    ['site.org/', ''],
    ['www2.site.org/path', ''],
    ['forum.net/show.php?f=14', '0:url:1014'],
    ['forum.net/show.php?f=14&page=2', '0:url:1014'],
    ['forum.net/show.php?f=141', ''],
    ['phish.io/login.html', '0:url:1011'], // entry's fragment dropped
    ['http://www.example.com/anything', '0:domain:2 1:domain:2'], // no URL entry: the host decides
    ['http://casino.example.org/porn', '1:domain:3'], // a domain beats an expression
    ['http://unlisted.net/free-PORN', '0:expression:0'],
    ['http://unlisted.net/img/banner/1.gif', '1:expression:0'],
    ['http://unlisted.net/xxx/banner/', '0:expression:0 1:expression:0'],
    ['http://unlisted.net/clean', ''],
    ['http://10.0.0.1/x', '0:ip:4 1:ip:4'],
    ['http://exa mple.com/porn', ''], // no usable host
  ];
  for (const [url, expected] of urlCases) {
    it(`matchUrl(${JSON.stringify(url)}) → ${expected || 'nothing'}`, () => {
      assert.equal(show(c.matchUrl(url)), expected);
      assert.equal(show(ref.matchUrl(url)), expected);
    });
  }

  it('answers without allocating: one frozen empty array, cached arrays per list-set', () => {
    assert.equal(c.matchHost('nowhere.test'), c.matchHost('elsewhere.test'));
    assert.ok(Object.isFrozen(c.matchHost('nowhere.test')));
    assert.equal(c.matchHost('www.example.com'), c.matchHost('example.com'));
    const hit = c.matchHost('example.com');
    assert.ok(Object.isFrozen(hit) && Object.isFrozen(hit[0]));
  });

  it('agrees with the reference on random hosts over a dense index, at any load factor', () => {
    const domains = Array.from({ length: 3000 }, (_, i) => `d${i % 997}.l${i % 13}.test`);
    const lists: SourceList[] = [0, 1, 2].map((k) => ({
      name: `l${k}`,
      domains: domains.filter((_, i) => i % 3 !== k),
      urls: [],
      expressions: [],
    }));
    const reference = new ReferenceClassifier(lists);
    for (const loadFactor of [0.5, 0.85, 0.99, 1]) {
      const dense: Classifier = buildClassifier(lists, { seed: 7, loadFactor });
      for (let i = 0; i < 4000; i++) {
        const host = `${i % 5 === 0 ? 'www.' : ''}d${i % 1100}.l${i % 15}.test`;
        assert.equal(show(dense.matchHost(host)), show(reference.matchHost(host)), `${host} at load ${loadFactor}`);
      }
    }
  });

  it('builds an empty classifier from no lists', () => {
    const empty = buildClassifier([]);
    assert.equal(empty.domainCount, 0);
    assert.deepEqual(empty.matchHost('example.com'), []);
    assert.deepEqual(empty.matchUrl('http://example.com/x'), []);
  });

  it('gives the same answers whatever the seed', () => {
    const other = buildClassifier(LISTS);
    for (const [host] of hostCases) assert.equal(show(other.matchHost(host)), show(c.matchHost(host)));
    for (const [url] of urlCases) assert.equal(show(other.matchUrl(url)), show(c.matchUrl(url)));
  });
});

describe('hash collisions between entries', () => {
  const lists: SourceList[] = [
    { name: 'a', domains: ['one.test', 'two.test'], urls: [], expressions: [] },
    { name: 'b', domains: ['one.test'], urls: [], expressions: [] },
  ];
  const keyOf: KeyOf = (line) => line;

  it('merge the same key from several lists into one list-set', () => {
    const sets = new ListSetTable();
    const keys = collectKeys(
      lists,
      'domains',
      keyOf,
      (key) => {
        out.set([key === 'one.test' ? 5 : 9, 7]);
      },
      sets,
      [],
    );
    assert.equal(keys.count, 2);
    assert.deepEqual([...keys.hi], [5, 9]);
    assert.deepEqual(sets.toArrays().setMembers, Uint16Array.from([0, 1, 0])); // {a, b} for one.test, {a} for two.test
  });

  it('are detected when two different keys share a 64-bit hash (the build then reseeds)', () => {
    assert.throws(
      () =>
        collectKeys(
          lists,
          'domains',
          keyOf,
          () => {
            out.set([5, 7]);
          },
          new ListSetTable(),
          [],
        ),
      KeyCollision,
    );
  });

  it('are detected when keys differ only in the bits that will hold the list-set', () => {
    const keys = { hi: Uint32Array.of(5, 5), lo: Uint32Array.of(0x100, 0x101), set: Uint32Array.of(0, 1), count: 2 };
    assert.throws(() => packTable(keys, 4, undefined), KeyCollision);
    assert.equal(packTable({ ...keys, lo: Uint32Array.of(0x100, 0x110) }, 4, undefined).count, 2);
  });
});
