import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { paxEntry, tarBytes, tarGz, type TarEntry } from '../../../test-support/tar-writer.ts';
import { ArchiveError, extractTarball } from './tarball.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-fixtures/lists');
const tmp = mkdtempSync(path.join(tmpdir(), 'haven-tar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const limits = { maxBytes: 10_000_000, maxFileBytes: 8_000_000, maxEntries: 1000 };
let n = 0;
const archive = (bytes: Buffer) => {
  const file = path.join(tmp, `a${n++}.tar.gz`);
  writeFileSync(file, bytes);
  return file;
};
const outDir = () => path.join(tmp, `out${n++}`);
const extract = (entries: TarEntry[], options: Partial<typeof limits> = {}) => {
  const dir = outDir();
  return { dir, run: extractTarball(archive(tarGz(entries)), dir, { ...limits, ...options }) };
};

describe('extractTarball', () => {
  it('unpacks a GNU tar .tar.gz in UT1 layout, skipping the alias symlink', async () => {
    const dir = outDir();
    const progress: number[] = [];
    const result = await extractTarball(path.join(fixtures, 'ut1-blacklists.tar.gz'), dir, {
      ...limits,
      onProgress: (b) => progress.push(b),
    });
    assert.equal(result.files, 9);
    assert.deepEqual(result.notes, ['skipped symbolic link blacklists/porn → adult']);
    assert.equal(
      readFileSync(path.join(dir, 'blacklists', 'adult', 'domains'), 'utf8'),
      readFileSync(path.join(fixtures, 'tree', 'ut1', 'adult', 'domains'), 'utf8'),
    );
    assert.equal(existsSync(path.join(dir, 'blacklists', 'porn')), false);
    assert.equal(progress.at(-1), result.bytes);
  });

  it('unpacks a plain (not gzipped) tar, pax paths, GNU long names and hard links', async () => {
    const longName = `deep/${'x'.repeat(150)}/domains`;
    const dir = outDir();
    const file = path.join(tmp, 'plain.tar');
    writeFileSync(
      file,
      tarBytes([
        { name: 'lists/', type: '5' },
        { name: 'lists/a/domains', data: 'a.example\n' },
        paxEntry({ path: 'lists/pax-named/domains' }),
        { name: 'ignored-by-pax', data: 'p.example\n' },
        { name: '././@LongLink', type: 'L', data: `${longName}\0` },
        { name: 'truncated-name', data: 'long.example\n' },
        { name: 'lists/b/domains', type: '1', linkname: 'lists/a/domains' },
        { name: 'fifo', type: '6' },
      ]),
    );
    const result = await extractTarball(file, dir, limits);
    assert.equal(readFileSync(path.join(dir, 'lists/pax-named/domains'), 'utf8'), 'p.example\n');
    assert.equal(readFileSync(path.join(dir, longName), 'utf8'), 'long.example\n');
    assert.equal(readFileSync(path.join(dir, 'lists/b/domains'), 'utf8'), 'a.example\n');
    assert.deepEqual(result.notes, ['skipped fifo (tar entry type "6" is not a file or folder)']);
  });

  it('streams big files', async () => {
    const data = Buffer.alloc(3_000_000, 'abcdefghij\n');
    const { dir, run } = extract([{ name: 'big/domains', data }]);
    const result = await run;
    assert.equal(result.bytes, data.length);
    assert.ok(readFileSync(path.join(dir, 'big/domains')).equals(data));
  });

  for (const [what, entries, message] of [
    ['a ".." path', [{ name: 'ok/../../evil', data: 'x' }], /climbs out of the archive/],
    ['an absolute path', [{ name: '/etc/evil', data: 'x' }], /absolute or Windows path/],
    ['a Windows path', [{ name: 'C:\\evil', data: 'x' }], /absolute or Windows path/],
    ['a pax path climbing out', [paxEntry({ path: '../evil' }), { name: 'fine', data: 'x' }], /climbs out/],
    ['a symlink pointing outside', [{ name: 'lists/link', type: '2', linkname: '../../etc' }], /points outside the archive/],
    ['an absolute symlink', [{ name: 'lists/link', type: '2', linkname: '/etc/passwd' }], /points outside the archive/],
    ['a hard link climbing out', [{ name: 'lists/hl', type: '1', linkname: '../x' }], /climbs out/],
    ['a bad header checksum', [{ name: 'a', data: 'x', badChecksum: true }], /checksum mismatch/],
  ] as [string, TarEntry[], RegExp][]) {
    it(`refuses ${what}`, async () => {
      const { run } = extract(entries);
      await assert.rejects(run, (e: Error) => e instanceof ArchiveError && message.test(e.message));
      assert.equal(existsSync(path.join(tmp, 'evil')), false);
    });
  }

  it('refuses absurd sizes and entry counts before writing them', async () => {
    await assert.rejects(extract([{ name: 'a', data: 'x'.repeat(200) }], { maxFileBytes: 100 }).run, /over the 100-byte limit per file/);
    await assert.rejects(
      extract([{ name: 'huge', data: '', headerSize: 8 * 2 ** 30 }]).run,
      /over the 8000000-byte limit per file/,
      'a lying size header is refused without reading',
    );
    await assert.rejects(
      extract(
        [
          { name: 'a', data: 'x'.repeat(60) },
          { name: 'b', data: 'x'.repeat(60) },
        ],
        { maxBytes: 100 },
      ).run,
      /unpacks to more than 100 bytes/,
    );
    await assert.rejects(extract([{ name: 'a' }, { name: 'b' }, { name: 'c' }], { maxEntries: 2 }).run, /more than 2 entries/);
  });

  it('refuses truncated archives: a cut gzip stream, a tar without its end, and junk', async () => {
    const whole = tarGz([{ name: 'lists/a/domains', data: 'a.example\n'.repeat(5000) }]);
    await assert.rejects(extractTarball(archive(whole.subarray(0, whole.length - 100)), outDir(), limits), /could not be read|truncated/);
    await assert.rejects(extractTarball(archive(whole.subarray(0, whole.length - 4)), outDir(), limits), ArchiveError);
    const noEnd = gzipSync(tarBytes([{ name: 'a', data: 'x' }], { end: false }));
    await assert.rejects(extractTarball(archive(noEnd), outDir(), limits), /without its end-of-archive marker/);
    const cutData = gzipSync(tarBytes([{ name: 'a', data: 'x'.repeat(2000) }]).subarray(0, 1000));
    await assert.rejects(extractTarball(archive(cutData), outDir(), limits), /truncated/);
    await assert.rejects(extractTarball(archive(Buffer.from('<html>Not found</html>'.repeat(40))), outDir(), limits), ArchiveError);
  });
});
