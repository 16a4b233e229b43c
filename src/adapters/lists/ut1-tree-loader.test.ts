import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadUt1Tree, normaliseDomainEntry, normaliseUrlEntry } from './ut1-tree-loader.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/lists');
const tmp = mkdtempSync(path.join(tmpdir(), 'haven-tree-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadUt1Tree', () => {
  it('names every folder holding domains/urls/expressions by its path, and normalises entries', async () => {
    const tree = await loadUt1Tree(path.join(fixtures, 'tree'), { sourceName: 'ut1' });
    assert.deepEqual(
      tree.lists.map((l) => l.name),
      [
        'extra/sinfonietta/gore',
        'ut1/adult',
        'ut1/examen_pix',
        'ut1/gambling',
        'ut1/games',
        'ut1/newcategory',
        'ut1/redirector',
        'ut1/sexual_education',
      ],
    );
    const adult = tree.lists.find((l) => l.name === 'ut1/adult')!;
    assert.deepEqual(adult.domains, [
      'adult-site.example',
      'www.shouty-adult.example',
      'leading-dot.example',
      'hosts-format.example',
      'xn--bcher-kva.example',
      'xn--bcher-adult-thb.example',
    ]);
    assert.deepEqual(adult.urls, ['adult-pages.example/gallery', 'mixed-host.example/Path/Kept']);
    assert.deepEqual(adult.expressions, ['(pornstar|xxxvideo)']);
    assert.equal(adult.malformed, 3);
    assert.equal(tree.malformed, 3);
    assert.deepEqual(tree.lists.find((l) => l.name === 'ut1/gambling')!.domains, ['bet.example', 'casino.example'], 'CRLF handled');
    assert.deepEqual(tree.lists.find((l) => l.name === 'ut1/redirector')!.domains, ['proxy.example', '203.0.113.7']);
    assert.equal(tree.warnings.length, 3);
    assert.match(tree.warnings[0]!, /^ut1\/adult\/domains:7: not a domain/);
    assert.match(tree.warnings[1]!, /^ut1\/adult\/domains:10: not a valid IPv4 address/);
    assert.match(tree.warnings[2]!, /^ut1\/adult\/expressions:2: not a valid regular expression/);
  });

  it('reads only included lists, drops excluded entries, and reports progress to the last byte', async () => {
    const seen: number[] = [];
    let total = 0;
    const tree = await loadUt1Tree(path.join(fixtures, 'tree'), {
      sourceName: 'ut1',
      include: (n) => n === 'ut1/games' || n === 'ut1/gambling',
      exclude: (n) => (n === 'ut1/games' ? new Set(['ttrockstars.com']) : undefined),
      onProgress: (p) => {
        seen.push(p.bytesDone);
        total = p.bytesTotal;
      },
    });
    assert.deepEqual(
      tree.lists.map((l) => [l.name, l.domains, l.excluded]),
      [
        ['ut1/gambling', ['bet.example', 'casino.example'], 0],
        ['ut1/games', ['fun-games.example'], 1],
      ],
    );
    assert.equal(tree.skipped.length, 6);
    assert.equal(seen.at(-1), total);
    assert.ok(total > 0);
  });

  it('prefixes lists directly under the root with the source name, unwraps a single wrapper folder, skips symlinks', async () => {
    const root = path.join(tmp, 'wrapped');
    mkdirSync(path.join(root, 'blacklists', 'adult'), { recursive: true });
    writeFileSync(path.join(root, 'blacklists', 'adult', 'domains'), 'a.example\n');
    writeFileSync(path.join(root, 'blacklists', 'adult', 'usage'), 'black\n');
    symlinkSync('adult', path.join(root, 'blacklists', 'porn'));
    writeFileSync(path.join(root, '.DS_Store'), '');
    const tree = await loadUt1Tree(root, { sourceName: 'ut1', unwrapSingleFolder: true });
    assert.equal(tree.root, path.join(root, 'blacklists'));
    assert.deepEqual(
      tree.lists.map((l) => l.name),
      ['ut1/adult'],
    );
    assert.deepEqual(tree.warnings, ['skipped symbolic link porn (links are not followed)']);
    const plain = await loadUt1Tree(root, { sourceName: 'mirror' });
    assert.deepEqual(
      plain.lists.map((l) => l.name),
      ['blacklists/adult'],
    );
    const single = await loadUt1Tree(path.join(root, 'blacklists', 'adult'), { sourceName: 'one' });
    assert.deepEqual(
      single.lists.map((l) => l.name),
      ['one'],
    );
  });

  it('streams a large file and counts bad lines without failing', async () => {
    const dir = path.join(tmp, 'big', 'ut1', 'huge');
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(i % 1000 === 0 ? `bad entry ${i}` : `host-${i}.example`);
    writeFileSync(path.join(dir, 'domains'), lines.join('\n'));
    let calls = 0;
    const tree = await loadUt1Tree(path.join(tmp, 'big'), { sourceName: 'ut1', onProgress: () => calls++ });
    assert.equal(tree.lists[0]!.domains.length, 199_800);
    assert.equal(tree.malformed, 200);
    assert.equal(tree.warnings.length, 21, '20 quoted + a count of the rest');
    assert.match(tree.warnings.at(-1)!, /^180 more malformed lines/);
    assert.ok(calls >= 3, 'progress during the file, not only at its end');
  });

  it('refuses a root that is not a folder, and two folders giving one name', async () => {
    await assert.rejects(loadUt1Tree(path.join(fixtures, 'iwf-plain.txt'), { sourceName: 'ut1' }), /is not a folder/);
    const root = path.join(tmp, 'clash');
    mkdirSync(path.join(root, 'ut1', 'adult'), { recursive: true });
    mkdirSync(path.join(root, 'adult'), { recursive: true });
    writeFileSync(path.join(root, 'ut1', 'adult', 'domains'), 'a.example\n');
    writeFileSync(path.join(root, 'adult', 'domains'), 'b.example\n');
    await assert.rejects(loadUt1Tree(root, { sourceName: 'ut1' }), /two folders give the list name "ut1\/adult"/);
  });
});

describe('entry normalisation', () => {
  it('domains', () => {
    const ok = (raw: string) => {
      const n = normaliseDomainEntry(raw);
      return 'entry' in n ? n.entry : null;
    };
    assert.equal(ok('  Example.COM.  '), 'example.com');
    assert.equal(ok('*.wild.example'), 'wild.example');
    assert.equal(ok('127.0.0.1 hosts.example'), 'hosts.example');
    assert.equal(ok('_dmarc.under_score.example'), '_dmarc.under_score.example');
    assert.equal(ok('10.0.0.1'), '10.0.0.1');
    for (const bad of ['', 'a b', 'a/b', 'a:80', 'user@host', '1.2.3.256', `${'a'.repeat(64)}.com`, 'a..b', 'x!.example']) {
      assert.equal(ok(bad), null, bad);
    }
  });

  it('urls', () => {
    const ok = (raw: string) => {
      const n = normaliseUrlEntry(raw);
      return 'entry' in n ? n.entry : null;
    };
    assert.equal(ok('Example.COM/Some/Path'), 'example.com/Some/Path');
    assert.equal(ok('https://host.example:8443/x'), 'host.example/x');
    assert.equal(ok('host.example'), 'host.example');
    assert.equal(ok('bad host/x'), null);
    assert.equal(ok('/no-host'), null);
  });
});
