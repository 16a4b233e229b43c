import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createIllegalTier } from '../../core/index.ts';
import { loadCtiruList } from './ctiru-list.ts';
import { parseIllegalLine } from './illegal-list-reader.ts';
import { loadIwfList } from './iwf-list.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/lists');

describe('IWF and CTIRU loaders', () => {
  it('read the plain IWF form: BOM, CRLF, comments, schemes, www., whole hosts; bad lines counted by number only', async () => {
    const iwf = await loadIwfList(path.join(fixtures, 'iwf-plain.txt'));
    assert.deepEqual(iwf.entries.plain, [
      'abuse-one.test/images/set1',
      'abuse-two.test/page.php?id=42',
      'whole-host.test',
      'abuse-three.test/Gallery/Photo.JPG',
    ]);
    assert.equal(iwf.entries.source, 'iwf');
    assert.equal(iwf.lines, 7);
    assert.equal(iwf.malformed, 1);
    assert.deepEqual(iwf.warnings, ['iwf line 6: not a URL, host or digest']);
  });

  it('read the hashed IWF form, telling SHA-256 from MD5 by length and refusing other lengths', async () => {
    const iwf = await loadIwfList(path.join(fixtures, 'iwf-hashed.txt'));
    assert.equal(iwf.entries.sha256.length, 3);
    assert.equal(iwf.entries.md5.length, 1);
    assert.ok(
      iwf.entries.sha256.every((h) => /^[0-9a-f]{64}$/.test(h)),
      'lower-cased',
    );
    assert.equal(iwf.malformed, 1);
    assert.match(iwf.warnings[0]!, /line 6: a 40-digit hex digest is neither SHA-256 \(64\) nor MD5 \(32\)/);
    const tier = createIllegalTier([iwf.entries], { canaries: [] });
    for (const url of [
      'http://hashed-sha.test/folder/item.html',
      'HASHED-MD5.test/a/b/c',
      'https://www.whole-hashed-host.test/any/thing',
      'tagged.test/x/',
    ]) {
      assert.ok(tier.matchUrl(url), url);
    }
    assert.equal(tier.matchUrl('hashed-sha.test/folder'), null);
  });

  it('read the CTIRU list', async () => {
    const ctiru = await loadCtiruList(path.join(fixtures, 'ctiru.txt'));
    assert.deepEqual(ctiru.entries, {
      source: 'ctiru',
      plain: ['terror-one.test/videos/watch?v=abc', 'terror-two.test'],
      sha256: [],
      md5: [],
    });
    const tier = createIllegalTier([ctiru.entries], { canaries: [] });
    assert.deepEqual(tier.matchHost('www.terror-two.test'), { source: 'ctiru', kind: 'plain' });
  });

  it('take the first column of tab-separated or quoted lines', () => {
    assert.deepEqual(parseIllegalLine('example.test/a\t2026-01-01\tcategory'), { kind: 'plain', value: 'example.test/a' });
    assert.deepEqual(parseIllegalLine('"example.test/b",2026'), { kind: 'plain', value: 'example.test/b' });
    assert.deepEqual(parseIllegalLine('  # comment'), { kind: 'skip' });
    assert.deepEqual(parseIllegalLine(`MD5:${'A'.repeat(32)}`), { kind: 'md5', value: 'a'.repeat(32) });
    assert.equal(parseIllegalLine(`md5:${'a'.repeat(64)}`).kind, 'malformed');
    assert.deepEqual(parseIllegalLine('cafe.test'), { kind: 'plain', value: 'cafe.test' });
  });
});
