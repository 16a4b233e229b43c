/**
 * `haven lists …` as a real process: summary on stdout, progress and warnings on stderr, exit
 * codes scripts can trust, and a failed import that leaves the imported index in place.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const bin = path.resolve('bin/haven.mjs');
const fixtures = path.resolve('test-fixtures/lists');

const haven = (args: string[], dataDir: string, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '', HAVEN_LISTS_URL: '', HAVEN_ILLEGAL_CANARIES: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/** Audit entries of one action, newest first, read straight from the embedded database. */
const auditEntries = (dataDir: string, action: string) => {
  const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT actor_label, resource_id, detail FROM audit_log WHERE action = ? ORDER BY seq DESC').all(action) as {
        actor_label: string;
        resource_id: string;
        detail: string;
      }[]
    ).map((r) => ({
      actor: r.actor_label,
      resource: r.resource_id,
      detail: JSON.parse(r.detail) as { reason: string; changes: string[] },
    }));
  } finally {
    db.close();
  }
};

const fields = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
  );

describe('haven lists', () => {
  let dataDir: string;
  let server: Server;
  let base = '';
  const tarball = readFileSync(path.join(fixtures, 'ut1-blacklists.tar.gz'));

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-lists-cli-'));
    server = createServer((req, res) => {
      if (req.url === '/blacklists.tar.gz') {
        res.writeHead(200, { 'content-length': tarball.length }).end(tarball);
      } else if (req.url === '/cut.tar.gz') {
        res.writeHead(200, { 'content-length': tarball.length });
        res.write(tarball.subarray(0, 200), () => setTimeout(() => req.socket.destroy(), 20));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has --help on every subcommand', async () => {
    for (const args of [
      ['lists', '--help'],
      ['lists', 'import', '--help'],
      ['lists', 'status', '--help'],
      ['lists', 'import-illegal', '--help'],
    ]) {
      const r = await haven(args, dataDir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: haven lists/m);
    }
  });

  it('status before any import: exits 1, the illegal tier still proves itself with its canary', async () => {
    const r = await haven(['lists', 'status'], dataDir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^lists: none imported/m);
    assert.match(r.stdout, /^illegal tier self-check: OK \(iwf-canary\.haven\.test blocked\)$/m);
  });

  it('imports a folder: summary on stdout, warnings on stderr', async () => {
    const noReason = await haven(['lists', 'import', '--from', path.join(fixtures, 'tree')], dataDir);
    assert.notEqual(noReason.code, 0);
    assert.match(noReason.stderr, /--reason/);
    const r = await haven(
      ['lists', 'import', '--from', path.join(fixtures, 'tree'), '--reason', 'First import for the new filter'],
      dataDir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^recorded in the audit log: \d+ change lines$/m);
    const [entry] = auditEntries(dataDir, 'filtering.lists_imported');
    assert.equal(entry?.detail.reason, 'First import for the new filter');
    assert.match(entry?.actor ?? '', /^cli \(/);
    assert.match(entry?.detail.changes[0] ?? '', /^First import: 6 lists/);
    const f = fields(r.stdout);
    assert.equal(f.lists, '6');
    assert.equal(f['lists not used'], '1 on purpose, 1 not in the category map');
    assert.equal(f.domains, '14');
    assert.equal(f.urls, '2');
    assert.equal(f.expressions, '1');
    assert.equal(f['malformed lines'], '3');
    assert.equal(
      f.snapshot,
      `${path.join(dataDir, 'lists', 'category-index.snapshot')} (${f.snapshot!.match(/\((\d+) bytes\)/)![1]} bytes)`,
    );
    assert.match(r.stderr, /warning: list ut1\/newcategory is not in the category map/);
  });

  it('imports a UT1 tarball over HTTP, and a cut download fails with exit 2 and changes nothing', async () => {
    const ok = await haven(['lists', 'import', '--from', `${base}/blacklists.tar.gz`, '--reason', 'Switch to the UT1 tarball'], dataDir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(fields(ok.stdout).lists, '5');
    const changes = auditEntries(dataDir, 'filtering.lists_imported')[0]?.detail.changes ?? [];
    assert.match(changes.join('\n'), /Source changed from .* to .*blacklists\.tar\.gz/);
    assert.match(changes.join('\n'), /Removed list|Added list/);
    const manifest = readFileSync(path.join(dataDir, 'lists', 'category-index.manifest.json'), 'utf8');
    const bad = await haven(['lists', 'import', '--from', `${base}/cut.tar.gz`, '--reason', 'Nightly update'], dataDir);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /List import failed \(download\).*The previous lists are still in use/);
    assert.equal(readFileSync(path.join(dataDir, 'lists', 'category-index.manifest.json'), 'utf8'), manifest);
    assert.equal(auditEntries(dataDir, 'filtering.lists_imported').length, 2, 'a failed import records no change');
    const status = await haven(['lists', 'status'], dataDir);
    assert.equal(status.code, 0, status.stdout);
    assert.equal(fields(status.stdout).source, `${base}/blacklists.tar.gz`);
  });

  it('imports the IWF and CTIRU lists and shows them in status, with configured canaries', async () => {
    const r = await haven(
      [
        'lists',
        'import-illegal',
        '--iwf',
        path.join(fixtures, 'iwf-hashed.txt'),
        '--ctiru',
        path.join(fixtures, 'ctiru.txt'),
        '--reason',
        'Monthly IWF and CTIRU update',
      ],
      dataDir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.split('\n')[0],
      `iwf: 0 URLs, 3 SHA-256, 1 MD5, 1 malformed lines; stored at ${path.join(dataDir, 'lists', 'illegal', 'iwf.txt')}`,
    );
    assert.match(r.stderr, /warning: iwf line 6/);
    assert.doesNotMatch(r.stderr + r.stdout, /da39a3ee/, 'entries are never echoed');
    const recorded = auditEntries(dataDir, 'filtering.illegal_list_imported');
    assert.deepEqual(recorded.map((e) => e.resource).sort(), ['ctiru', 'iwf']);
    assert.doesNotMatch(JSON.stringify(recorded), /da39a3ee/, 'nor written to the audit log');
    const status = await haven(['lists', 'status'], dataDir, { HAVEN_ILLEGAL_CANARIES: 'canary-one.test,http://canary-two.test/page' });
    const f = fields(status.stdout);
    assert.equal(f.iwf, '4 entries');
    assert.equal(f.ctiru, '2 entries');
    assert.equal(f['illegal tier self-check'], 'OK (canary-one.test blocked, http://canary-two.test/page blocked)');
    const none = await haven(['lists', 'import-illegal', '--reason', 'Nothing given'], dataDir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /give --iwf FILE and\/or --ctiru FILE/);
  });
});
