import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { DhcpLease } from '../core/index.ts';
import { watchLeaseFile } from './dns.ts';

describe('DHCP lease file watcher', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-leases-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hands over the current leases, again when the file changes, and says once when it cannot read it', async () => {
    const file = path.join(dir, 'dnsmasq.leases');
    const future = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(file, `${future} 02:00:5e:10:00:03 10.20.5.77 tablet *\n`);
    const got: DhcpLease[][] = [];
    const messages: string[] = [];
    const w = watchLeaseFile(
      file,
      (l) => got.push(l),
      (m) => messages.push(m),
      3_600_000,
    );
    try {
      await w.check();
      assert.deepEqual(got.at(-1), [{ ip: '10.20.5.77', mac: '02:00:5e:10:00:03', expires: future }]);
      const before = got.length;
      await w.check();
      assert.equal(got.length, before, 'unchanged: not read again');
      writeFileSync(file, `${future} 02:00:5e:10:00:04 10.20.5.78 other *\nbroken\n`);
      await w.check();
      assert.equal(got.at(-1)?.[0]?.ip, '10.20.5.78');
      assert.match(messages.join('\n'), /1 lines could not be read/);
      rmSync(file);
      await w.check();
      await w.check();
      assert.equal(messages.filter((m) => m.startsWith('cannot read')).length, 1);
    } finally {
      w.stop();
    }
  });
});
