/**
 * The compact index against the reference implementation on the real shared lists
 * (../shared/data/categories, or HAVEN_SHARED_LISTS). Skipped with a message when they are not
 * there — except in CI (CI=true), where their absence fails the run.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { domainToUnicode } from 'node:url';
import { buildClassifier } from './build-classifier.ts';
import { normaliseHost } from './normalise-host.ts';
import { ReferenceClassifier } from './reference-classifier.ts';
import { loadClassifierSnapshot } from './snapshot.ts';
import type { Classifier, ListMatch, SourceList } from './types.ts';

const SHARED = process.env.HAVEN_SHARED_LISTS ?? path.resolve('..', 'shared', 'data', 'categories');
/** A new hash seed each run, so runs cover different table layouts; HAVEN_CLASSIFY_SEED repeats one. */
const SEED = Number(process.env.HAVEN_CLASSIFY_SEED ?? Math.floor(Math.random() * 2 ** 32));

/** A tiny loader (the production one lives in src/adapters): every folder with list files under ut1/ and extra/. */
const loadLists = (root: string): SourceList[] => {
  const lists: SourceList[] = [];
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/) : []);
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && ['domains', 'urls', 'expressions'].includes(e.name))) {
      lists.push({
        name: path.relative(root, dir).split(path.sep).join('/'),
        domains: lines(path.join(dir, 'domains')),
        urls: lines(path.join(dir, 'urls')),
        expressions: lines(path.join(dir, 'expressions')),
      });
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const top of ['ut1', 'extra']) if (existsSync(path.join(root, top))) walk(path.join(root, top));
  return lists;
};

const random = (seed: number) => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const next = random(2026);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const label = () =>
  Array.from({ length: 1 + Math.floor(next() * 10) }, () => ALPHABET.charAt(Math.floor(next() * ALPHABET.length))).join('');

const show = (matches: readonly ListMatch[]) => matches.map((m) => `${m.list}:${m.kind}:${m.specificity}`).join(' ');

/** Asks both classifiers about every input and reports the first disagreements. */
const agree = (index: Classifier, reference: Classifier, inputs: Iterable<string>, ask: 'matchHost' | 'matchUrl') => {
  const wrong: string[] = [];
  let count = 0;
  for (const input of inputs) {
    count++;
    const got = show(index[ask](input));
    const want = show(reference[ask](input));
    if (got !== want && wrong.push(`${JSON.stringify(input)}: index ${got || '-'}, reference ${want || '-'}`) >= 10) break;
  }
  assert.deepEqual(wrong, [], `${ask} disagreed (index built with seed ${SEED})`);
  assert.ok(count > 0);
  return count;
};

describe('classification index against the reference on the shared lists', () => {
  if (!existsSync(SHARED)) {
    it('needs the shared lists', (t) => {
      const why = `${SHARED} not found (set HAVEN_SHARED_LISTS to the categories folder)`;
      if (process.env.CI === 'true') assert.fail(`CI must run these tests: ${why}`);
      t.skip(why);
    });
    return;
  }

  let lists: SourceList[] = [];
  let index: Classifier;
  let loaded: Classifier;
  let reference: ReferenceClassifier;
  let listed: string[] = [];

  before(() => {
    lists = loadLists(SHARED);
    index = buildClassifier(lists, { seed: SEED });
    loaded = loadClassifierSnapshot(index.toSnapshot());
    reference = new ReferenceClassifier(lists);
    listed = [...new Set(lists.flatMap((l) => l.domains.map((d) => normaliseHost(d.trim())).filter((d) => d !== null)))];
  });

  it('loads every list under ut1/ and extra/, names them by folder, counts the same entries', () => {
    assert.ok(lists.length > 80, `${lists.length} lists`);
    assert.ok(index.listNames.includes('ut1/adult') && index.listNames.includes('extra/sinfonietta/gore'));
    assert.deepEqual(index.listNames, reference.listNames);
    assert.equal(index.domainCount, reference.domainCount);
    assert.ok(index.domainCount > 500_000, `${index.domainCount} domains`);
  });

  it('every listed domain and IP matches, and as the reference says', () => {
    agree(index, reference, listed, 'matchHost');
    const unmatched = listed.filter((d) => index.matchHost(d).length === 0);
    assert.deepEqual(unmatched.slice(0, 5), []);
  });

  it('random subdomains and the parents of listed domains', () => {
    // Every fourth keeps the run short.
    const hosts = listed
      .filter((_, i) => i % 4 === 0)
      .flatMap((d) => {
        const dot = d.indexOf('.');
        return [`${label()}.${d}`, `${label()}.${label()}.${d}`, `www.${d}`, dot > 0 ? d.slice(dot + 1) : d];
      });
    agree(index, reference, hosts, 'matchHost');
  });

  it('random unlisted hosts and IP literals', () => {
    const tlds = ['com', 'net', 'org', 'co.uk', 'sch.uk', 'fr', 'de', 'io'];
    const hosts = Array.from({ length: 200_000 }, (_, i) =>
      i % 4 === 0
        ? Array.from({ length: 4 }, () => Math.floor(next() * 256)).join('.')
        : `${i % 3 === 0 ? `${label()}.` : ''}${label()}.${pick(tlds)}`,
    );
    const ips = listed.filter((d) => /^[\d.]+$/.test(d));
    assert.ok(ips.length > 1000);
    hosts.push(...ips.flatMap((ip) => [ip, `x.${ip}`, `${ip}.example`, ip.replace(/\.\d+$/, '.0')]));
    agree(index, reference, hosts, 'matchHost');
  });

  it('IDN, upper case, trailing dots, ports and userinfo normalise to the listed form', () => {
    const sample = listed.filter((_, i) => i % 10 === 0);
    const idn = listed.filter((d) => d.includes('xn--'));
    assert.ok(idn.length > 100, `${idn.length} punycode entries`);
    const variants: [string, string][] = [
      ...sample.flatMap((d): [string, string][] => [
        [d.toUpperCase(), d],
        [`${d}.`, d],
        [`${d}:8080`, d],
        [`user:pass@${d}`, d],
        [`User@${d.toUpperCase()}.:443`, d],
      ]),
      ...idn.map((d): [string, string] => [domainToUnicode(d), d]),
    ];
    const wrong = variants.filter(([raw, d]) => normaliseHost(raw) !== d);
    assert.deepEqual(wrong.slice(0, 5), []);
    agree(
      index,
      reference,
      variants.map(([raw]) => normaliseHost(raw)!),
      'matchHost',
    );
    // Un-normalised, both still fold ASCII case and agree on everything else.
    agree(
      index,
      reference,
      variants.map(([raw]) => raw),
      'matchHost',
    );
  });

  it('very long and malformed hosts are refused by normaliseHost and do not trip the index', () => {
    const base = pick(listed);
    const malformed = [
      `${'a'.repeat(64)}.${base}`,
      `${Array(130).fill('a').join('.')}.${base}`,
      'x'.repeat(300),
      `a..${base}`,
      `.${base}`,
      `${base}..`,
      `exa mple.${base}`,
      `${base}\u0000`,
      `${base}/path`,
      '',
      '.',
      '..',
    ];
    for (const host of malformed) assert.equal(normaliseHost(host), null, JSON.stringify(host));
    agree(index, reference, [...malformed, ...listed.slice(0, 2000).map((d) => `..${d}`), `${'b.'.repeat(5000)}${base}`], 'matchHost');
  });

  it('URL entries at segment boundaries, with www., queries and fragments; expressions otherwise', () => {
    const entries = lists.flatMap((l) => l.urls.filter((u) => u.trim() !== ''));
    assert.ok(entries.length > 10_000);
    const urls = entries.flatMap((u) => {
      const bare = u.replace(/\/+$/, '').replace(/#.*/, '');
      return [`http://${u}`, `https://www.${bare}/x?y=1#z`, `${bare}x`, `${bare}?q`, `${bare}&a=b`, `http://${bare.toUpperCase()}`];
    });
    const words = ['porn', 'sexy', 'banner', 'search?q=cache', 'teen', 'hello', 'Advertisement', 'ymsgr.exe'];
    for (let i = 0; i < 20_000; i++) urls.push(`http://${pick(listed)}/${pick(words)}`, `${label()}.com/${pick(words)}/${label()}`);
    urls.push('http://1.2.3.4/search?q=123', 'http://google.com/search?q=cache:x porn');
    agree(index, reference, urls, 'matchUrl');
  });

  it('a snapshot of the index answers exactly like the index', () => {
    const hosts = [...listed.filter((_, i) => i % 3 === 0), ...listed.slice(0, 50_000).map((d) => `www.${d}`)];
    agree(loaded, index, hosts, 'matchHost');
    const urls = lists.flatMap((l) => l.urls).map((u) => `http://${u}`);
    agree(loaded, index, urls, 'matchUrl');
  });
});
