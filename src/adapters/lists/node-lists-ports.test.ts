import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { nodeListsPorts, writeFileAtomic } from './node-lists-ports.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'haven-ports-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const ports = nodeListsPorts();

describe('node lists ports', () => {
  it('writeFileAtomic replaces a file whole, with the mode asked for, leaving no temporary file', async () => {
    const file = path.join(tmp, 'sub', 'a.bin');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]), { mode: 0o600 });
    assert.deepEqual([...readFileSync(file)], [1, 2, 3]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(path.dirname(file)), ['a.bin']);
  });

  it('tryLock: one holder at a time; released, stale or left by a dead process, it can be taken', async () => {
    const lock = path.join(tmp, 'locks', '.import.lock');
    const release = await ports.tryLock(lock, 60_000);
    assert.ok(release);
    assert.equal(await ports.tryLock(lock, 60_000), null);
    await release();
    const again = await ports.tryLock(lock, 60_000);
    assert.ok(again);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    assert.ok(await ports.tryLock(lock, 60_000), 'older than staleMs');
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, at: new Date().toISOString() }));
    assert.ok(await ports.tryLock(lock, 60_000), 'its process is gone');
  });

  it('kindOf, readFile, listDir on missing paths', async () => {
    assert.equal(await ports.kindOf(path.join(tmp, 'missing')), null);
    assert.equal(await ports.kindOf(tmp), 'directory');
    assert.equal(await ports.readFile(path.join(tmp, 'missing')), null);
    assert.deepEqual(await ports.listDir(path.join(tmp, 'missing')), []);
  });
});
