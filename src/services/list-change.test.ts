import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listsDiff } from './list-change.ts';
import type { ListsManifest, ManifestList } from './list-service.ts';

const list = (name: string, category: string, domains: number, over: Partial<ManifestList> = {}): ManifestList => ({
  name,
  category,
  domains,
  urls: 0,
  expressions: 0,
  malformed: 0,
  excluded: 0,
  ...over,
});

const manifest = (source: string, lists: ManifestList[]): ListsManifest => ({
  format: 1,
  source,
  sourceName: 'ut1',
  importedAt: '2026-03-01T00:00:00.000Z',
  snapshot: { file: 'category-index.snapshot', bytes: 1, sha256: 'x' },
  totals: {
    lists: lists.length,
    domains: lists.reduce((a, l) => a + l.domains, 0),
    urls: 0,
    expressions: 0,
    malformed: 0,
    excluded: 0,
    distinctDomains: lists.reduce((a, l) => a + l.domains, 0),
  },
  lists,
  ignored: [],
  unmapped: [],
  warnings: [],
});

describe('listsDiff', () => {
  it('describes a first import in one line', () => {
    assert.deepEqual(listsDiff(null, manifest('https://lists.example/ut1.tar.gz', [list('ut1/adult', 'pornography', 1200)])), [
      'First import: 1 lists, 1,200 domains from https://lists.example/ut1.tar.gz',
    ]);
  });

  it('names lists added, removed, re-mapped and resized, after the totals', () => {
    const before = manifest('/srv/a', [
      list('ut1/adult', 'pornography', 1000),
      list('ut1/games', 'games', 50),
      list('ut1/old', 'chat', 7),
      list('ut1/remap', 'chat', 3),
    ]);
    const after = manifest('/srv/b', [
      list('ut1/adult', 'pornography', 1100, { urls: 4 }),
      list('ut1/games', 'games', 50),
      list('ut1/new', 'dating', 20),
      list('ut1/remap', 'social-networks', 3),
    ]);
    assert.deepEqual(listsDiff(before, after), [
      'Source changed from /srv/a to /srv/b',
      'Domains: 1,060 → 1,173 (+113)',
      'ut1/adult: domains 1,000 → 1,100, URLs 0 → 4',
      'Added list ut1/new (dating, 20 domains)',
      'List ut1/remap now feeds social-networks (was chat)',
      'Removed list ut1/old (chat, 7 domains)',
    ]);
  });

  it('says when nothing changed', () => {
    const m = manifest('/srv/a', [list('ut1/adult', 'pornography', 10)]);
    assert.deepEqual(listsDiff(m, m), ['Domains unchanged at 10']);
  });
});
