/**
 * `haven serve --role dns` with HAVEN_DNS_WORKERS=2: two worker processes answer on one port
 * (UDP and TCP), both filter (a listed games site is blocked for guests… warned, so with a block
 * page it points there), a worker that is killed is replaced, and SIGTERM stops them all with
 * every answered question stored as an event.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { aRecord, answerAddresses, buildQuery, buildResponse, startFakeUpstream } from '../src/dataplane/dns/test-upstream.ts';
import { havenCli, stopChild } from '../test-support/processes.ts';
import dgram from 'node:dgram';

const askUdp = (port: number, name: string): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(buildQuery(name), port, '127.0.0.1');
  });

/** The primary's live children (a killed worker is a zombie until the primary reaps it). */
const workerPids = (primary: number): number[] =>
  execFileSync('ps', ['-o', 'pid=,stat=', '--ppid', String(primary)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat]) => Number(pid) > 0 && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));

describe('DNS workers', () => {
  it('answers from two processes on one port, replaces a killed one, and stores every question', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-dns-workers-'));
    const upstream = await startFakeUpstream((q) => buildResponse(q, { answers: [aRecord('plain.example', '192.0.2.40', 300)] }));
    try {
      havenCli(['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the workers test'], dataDir);
      havenCli(['school', 'add', '--name', 'Workers Primary'], dataDir);
      const child = spawn(process.execPath, [path.resolve('bin/haven.mjs'), 'serve', '--role', 'dns'], {
        env: {
          ...process.env,
          HAVEN_DATA_DIR: dataDir,
          HAVEN_DATABASE_URL: '',
          HAVEN_HOST: '127.0.0.1',
          HAVEN_DNS_PORT: '0',
          HAVEN_DNS_WORKERS: '2',
          HAVEN_DNS_UPSTREAM: upstream.address,
          HAVEN_DNS_BLOCK_IPV4: '192.0.2.99',
          HAVEN_BLOCK_PAGE_PORT: '0',
          HAVEN_ILLEGAL_CANARIES: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let errOut = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
      let answered = 0;
      try {
        const deadline = Date.now() + 60_000;
        const ports = () => [...out.matchAll(/DNS filter: 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
        while (ports().length < 2) {
          assert.ok(child.exitCode === null, `haven exited early:\n${out}\n${errOut}`);
          assert.ok(Date.now() < deadline, `two workers did not start within 60 s:\n${out}\n${errOut}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        const [a, b] = ports();
        assert.equal(a, b, 'both workers on one port');
        assert.match(errOut, /2 worker processes share the DNS port/);
        const pids = workerPids(child.pid!);
        assert.equal(pids.length, 2, `two workers: ${pids.join(', ')}`);
        for (let i = 0; i < 20; i++) {
          assert.deepEqual(answerAddresses(await askUdp(a!, 'plain.example')), ['192.0.2.40']);
          assert.deepEqual(answerAddresses(await askUdp(a!, 'fun-games.example')), ['192.0.2.99'], 'a guest is sent to the warning page');
          answered += 2;
        }
        // The sinks write every quarter-second: let them, so the kill below loses nothing that was asked.
        await new Promise((r) => setTimeout(r, 1000));
        process.kill(pids[0]!, 'SIGKILL');
        for (let i = 0; i < 50 && !/starting another/.test(errOut); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(errOut, /stopped \(SIGKILL\); starting another/);
        for (let i = 0; i < 50 && workerPids(child.pid!).length !== 2; i++) await new Promise((r) => setTimeout(r, 200));
        assert.equal(workerPids(child.pid!).length, 2, 'replaced');
      } finally {
        assert.equal(await stopChild(child), 0, errOut);
      }
      const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
      try {
        const { n } = db.prepare("SELECT count(*) AS n FROM filter_event WHERE host IN ('plain.example', 'fun-games.example')").get() as {
          n: number;
        };
        assert.equal(n, answered, `${n} of ${answered} questions stored`);
      } finally {
        db.close();
      }
    } finally {
      await upstream.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
