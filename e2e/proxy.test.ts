/**
 * The forward proxy as a browser's network sees it: Debian's curl through `haven start`, with the
 * fixture category lists imported, against HTTP and HTTPS origins on loopback. An allowed page
 * loads, a listed site gets the block page (and a CONNECT to it a 403), a TLS tunnel works, the PAC
 * file is served, garbage gets 400 and the proxy carries on, and a clean stop leaves every request
 * in the database.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { makeCert, rawExchange, startHttpOrigin, startTlsOrigin, statusOf, type TestOrigin } from '../test-support/proxy-origins.ts';
import { freePort, havenCli, startHaven, stopChild, type RunningHaven } from '../test-support/processes.ts';

const run = promisify(execFile);

describe('forward proxy (curl through haven start)', () => {
  let haven: RunningHaven;
  let dataDir: string;
  let proxyPort: number;
  let origin: TestOrigin;
  let tlsOrigin: { port: number; close(): Promise<void> };
  let caFile: string;

  const curl = async (...args: string[]) => {
    try {
      const r = await run('curl', ['-sS', '--max-time', '15', '-x', `http://127.0.0.1:${proxyPort}`, ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-proxy-'));
    havenCli(['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the proxy test'], dataDir);
    const cert = makeCert(['localhost']);
    caFile = path.join(dataDir, 'test-ca.pem');
    writeFileSync(caFile, cert.cert);
    origin = await startHttpOrigin();
    tlsOrigin = await startTlsOrigin(cert);
    proxyPort = await freePort();
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_PROXY_PORT: String(proxyPort),
      HAVEN_PROXY_CONNECT_PORTS: 'any',
      HAVEN_PROXY_BYPASS: 'intranet.school.example',
    });
  });
  after(async () => {
    await haven?.stop();
    await origin?.close();
    await tlsOrigin?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says where the proxy listens', () => {
    assert.match(haven.stdout(), new RegExp(`Proxy: +127\\.0\\.0\\.1:${proxyPort} `));
  });

  it('loads an allowed page through the proxy', async () => {
    const r = await curl('-i', `http://127.0.0.1:${origin.port}/hello`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /via: 1\.1 haven-/i);
    assert.match(r.stdout, /hello$/);
  });

  it('answers a listed site with the block page, and refuses a tunnel to it', async () => {
    const r = await curl('-i', 'http://bet.example/win?big=1');
    assert.match(r.stdout, /^HTTP\/1\.1 403/);
    assert.match(r.stdout, /x-haven-block: block; category=gambling/i);
    assert.match(r.stdout, /This site is blocked/);
    const tunnel = await rawExchange(proxyPort, 'CONNECT casino.example:443 HTTP/1.1\r\nHost: casino.example:443\r\n\r\n');
    assert.equal(statusOf(tunnel), 403);
    assert.match(tunnel, /X-Haven-Block: block; category=gambling/);
  });

  it('tunnels HTTPS with CONNECT', async () => {
    const r = await curl('--cacert', caFile, `https://127.0.0.1:${tlsOrigin.port}/secure`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'secure - /secure');
  });

  it('serves the PAC file', async () => {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/proxy.pac`);
    assert.equal(res.status, 200);
    const pac = await res.text();
    assert.match(pac, new RegExp(`PROXY 127\\.0\\.0\\.1:${proxyPort}`));
    assert.match(pac, /intranet\.school\.example/);
  });

  it('answers garbage with 400 and keeps serving', async () => {
    assert.equal(statusOf(await rawExchange(proxyPort, 'NOT HTTP AT ALL\r\n\r\n')), 400);
    const smuggle =
      'POST http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    assert.equal(statusOf(await rawExchange(proxyPort, smuggle)), 400);
    const r = await curl(`http://127.0.0.1:${origin.port}/hello`);
    assert.equal(r.stdout, 'hello');
  });

  it('has every request in the database after a clean stop', async () => {
    assert.equal(await haven.stop(), 0);
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT host, url, action, category, list FROM filter_event WHERE source = 'proxy'").all() as {
        host: string;
        url: string | null;
        action: string;
        category: string | null;
        list: string | null;
      }[];
      assert.ok(
        rows.some(
          (r) => r.host === 'bet.example' && r.action === 'block' && r.list === 'ut1/gambling' && r.url === 'http://bet.example/win?big=1',
        ),
      );
      assert.ok(rows.some((r) => r.host === 'casino.example' && r.action === 'block' && r.url === null));
      assert.ok(rows.filter((r) => r.host === '127.0.0.1' && r.action === 'allow').length >= 3);
    } finally {
      db.close();
    }
  });
});

describe('haven serve --role proxy (alone, its own event sink)', () => {
  it('listens, filters, and writes its events when stopped', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-proxy-role-'));
    const origin = await startHttpOrigin();
    try {
      havenCli(
        ['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the proxy role test'],
        dataDir,
      );
      havenCli(['school', 'add', '--name', 'Proxy Role Primary'], dataDir);
      const child = spawn(process.execPath, [path.resolve('bin/haven.mjs'), 'serve', '--role', 'proxy'], {
        env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '', HAVEN_HOST: '127.0.0.1', HAVEN_PROXY_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let errOut = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
      try {
        const deadline = Date.now() + 60_000;
        let port = 0;
        while (port === 0) {
          assert.ok(child.exitCode === null, `haven exited early:\n${out}\n${errOut}`);
          assert.ok(Date.now() < deadline, `no proxy line within 60 s:\n${out}\n${errOut}`);
          port = Number(/Proxy: +127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
          if (port === 0) await new Promise((r) => setTimeout(r, 200));
        }
        const allowed = await run(
          'curl',
          ['-sS', '--max-time', '10', '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${origin.port}/hello`],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(allowed.stdout, 'hello');
        const blocked = await rawExchange(port, 'GET http://casino.example/ HTTP/1.1\r\nHost: casino.example\r\nConnection: close\r\n\r\n');
        assert.equal(statusOf(blocked), 403);
      } finally {
        assert.equal(await stopChild(child), 0, errOut);
      }
      const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
      try {
        const rows = db.prepare("SELECT host, action FROM filter_event WHERE source = 'proxy' ORDER BY host").all();
        assert.deepEqual(rows, [
          { host: '127.0.0.1', action: 'allow' },
          { host: 'casino.example', action: 'block' },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await origin.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
