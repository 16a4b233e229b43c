/**
 * The DNS filter as a network sees it: `dig` (Debian's dnsutils) over UDP and TCP and a real
 * HTTP client over DoH, against `haven start` forwarding to a dnsmasq serving a test zone on
 * loopback. Blocks with an explanation, CNAME chains, SafeSearch, circumvention canaries, the
 * illegal tier, events in the database, garbage packets and a dead upstream.
 * Skipped when dig or dnsmasq is missing, unless CI=true (then they must be there).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import dnsPacket from 'dns-packet';
import { openHaven } from '../src/app/compose.ts';
import { loadConfig } from '../src/app/config.ts';
import { systemContext } from '../src/services/index.ts';
import { DNSMASQ, startDnsmasq, type RunningDnsmasq } from '../test-support/dnsmasq.ts';
import { freePort, havenCli, startHaven, type RunningHaven } from '../test-support/processes.ts';

const DIG = '/usr/bin/dig';
const missing = [DIG, DNSMASQ].filter((f) => !existsSync(f));
const skip =
  missing.length === 0 ? false : process.env.CI === 'true' ? false : `needs ${missing.join(' and ')} (Debian dnsutils, dnsmasq-base)`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DNS filter (dig, DoH, dnsmasq upstream)', { skip }, () => {
  let haven: RunningHaven;
  let dnsmasq: RunningDnsmasq;
  let dnsPort: number;
  let dataDir: string;

  const dig = (name: string, ...opts: string[]) => {
    const r = spawnSync(DIG, ['@127.0.0.1', '-p', String(dnsPort), '+time=3', '+tries=1', ...opts, name], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    return r.stdout;
  };
  const short = (name: string, ...opts: string[]) =>
    dig(name, '+short', ...opts)
      .trim()
      .split('\n')
      .filter(Boolean);

  before(async () => {
    dnsmasq = await startDnsmasq([
      '--host-record=www.bbc.co.uk,192.0.2.22',
      '--host-record=bet.example,192.0.2.21',
      '--host-record=games-example.test,192.0.2.23',
      '--host-record=forcesafesearch.google.com,216.239.38.120',
      '--host-record=www.google.com,192.0.2.30',
      '--host-record=plain.example,192.0.2.40',
      '--cname=sneaky.example,bet.example',
    ]);
    dnsPort = await freePort();
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-dns-'));
    havenCli(['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the DNS test'], dataDir);
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_DNS_PORT: String(dnsPort),
      HAVEN_DNS_UPSTREAM: dnsmasq.address,
    });
  });
  after(async () => {
    await haven?.stop();
    dnsmasq?.process.kill('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers allowed names from the upstream, over UDP and TCP', () => {
    assert.deepEqual(short('www.bbc.co.uk'), ['192.0.2.22']);
    assert.deepEqual(short('www.bbc.co.uk', '+tcp'), ['192.0.2.22']);
    assert.match(dig('plain.example'), /status: NOERROR/);
  });

  it('blocks a listed name for the guest group, saying why in an Extended DNS Error', () => {
    const out = dig('bet.example');
    assert.match(out, /status: NOERROR/);
    assert.match(out, /bet\.example\.\s+\d+\s+IN\s+A\s+0\.0\.0\.0/);
    assert.match(out, /EDE: 17 \(Filtered\).*gambling/);
    assert.deepEqual(short('www.bet.example', '+tcp'), ['0.0.0.0'], 'subdomains too, over TCP');
    assert.deepEqual(short('bet.example', 'AAAA'), ['::']);
  });

  it('blocks a name whose CNAME chain leads to a blocked one', () => {
    assert.deepEqual(short('sneaky.example'), ['0.0.0.0']);
  });

  it('always blocks the illegal tier, and answers the DoH canary with NXDOMAIN', () => {
    assert.match(dig('iwf-canary.haven.test'), /EDE: 15 \(Blocked\)/);
    assert.match(dig('use-application-dns.net'), /status: NXDOMAIN/);
    assert.match(dig('mask.icloud.com'), /status: NXDOMAIN/);
    assert.deepEqual(short('dns.google'), ['0.0.0.0'], 'a DoH resolver');
  });

  it('enforces SafeSearch with a CNAME to the engine’s safe host', () => {
    const answer = short('www.google.com');
    assert.deepEqual(answer, ['forcesafesearch.google.com.', '216.239.38.120']);
  });

  it('serves DNS-over-HTTPS by GET and POST, and refuses bad requests clearly', async () => {
    const query = dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'bet.example' }],
    });
    const get = await fetch(`${haven.url}/dns-query?dns=${query.toString('base64url')}`, {
      headers: { accept: 'application/dns-message' },
    });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), 'application/dns-message');
    const decoded = dnsPacket.decode(Buffer.from(await get.arrayBuffer()));
    assert.deepEqual(
      decoded.answers?.map((a) => (a as { data: string }).data),
      ['0.0.0.0'],
    );
    const allowed = dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'www.bbc.co.uk' }],
    });
    const post = await fetch(`${haven.url}/dns-query`, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message' },
      body: new Uint8Array(allowed),
    });
    assert.equal(post.status, 200);
    assert.deepEqual(
      dnsPacket.decode(Buffer.from(await post.arrayBuffer())).answers?.map((a) => (a as { data: string }).data),
      ['192.0.2.22'],
    );
    assert.equal((await fetch(`${haven.url}/dns-query?dns=not*base64`)).status, 400);
    assert.equal((await fetch(`${haven.url}/dns-query?dns=AAAA`)).status, 400);
    assert.equal((await fetch(`${haven.url}/dns-query`)).status, 400);
    const wrongType = await fetch(`${haven.url}/dns-query`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.ok(wrongType.status === 415 || wrongType.status === 400, String(wrongType.status));
    const badToken = await fetch(`${haven.url}/dns-query/short?dns=${query.toString('base64url')}`);
    assert.equal(badToken.status, 400);
  });

  it('survives garbage packets and keeps answering', async () => {
    const socket = createSocket('udp4');
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const packet = Buffer.alloc(Math.floor(random() * 600));
      for (let j = 0; j < packet.length; j++) packet[j] = Math.floor(random() * 256);
      socket.send(packet, dnsPort, '127.0.0.1');
      if (i % 200 === 0) await sleep(5);
    }
    await sleep(200);
    socket.close();
    assert.deepEqual(short('www.bbc.co.uk'), ['192.0.2.22']);
  });

  it('records every question as an event', async () => {
    await sleep(800); // the sink writes every 250 ms
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT host, qtype, action, category, list, source, layer FROM filter_event WHERE host = 'bet.example'")
        .all() as {
        host: string;
        qtype: string;
        action: string;
        category: string;
        list: string;
        source: string;
        layer: string;
      }[];
      assert.ok(
        rows.some(
          (r) => r.qtype === 'A' && r.action === 'block' && r.category === 'gambling' && r.list === 'ut1/gambling' && r.source === 'dns',
        ),
      );
      assert.ok(
        rows.some((r) => r.source === 'doh'),
        'DoH questions are recorded too',
      );
      const canary = db.prepare("SELECT layer FROM filter_event WHERE host = 'use-application-dns.net'").get() as { layer: string };
      assert.equal(canary.layer, 'circumvention');
    } finally {
      db.close();
    }
  });

  it('follows a policy saved by another process within seconds', async () => {
    assert.deepEqual(short('plain.example'), ['192.0.2.40']);
    const other = await openHaven(loadConfig({ HAVEN_DATA_DIR: dataDir }));
    try {
      const [school] = await other.services.deps.store.tenancy.listSchools('all');
      assert.ok(school);
      const current = await other.services.policies.schoolPolicy(school.id);
      await other.services.policies.saveSchoolPolicy(systemContext('e2e'), school.id, {
        policy: { ...current.policy, blockList: [...(current.policy.blockList ?? []), { pattern: 'plain.example' }] },
        reason: 'Blocked from another Haven process',
        baseVersion: current.version,
      });
    } finally {
      await other.close();
    }
    const deadline = Date.now() + 15_000;
    while (short('plain.example')[0] !== '0.0.0.0') {
      assert.ok(Date.now() < deadline, 'the DNS process did not pick up the saved policy within 15 s');
      await sleep(500);
    }
  });

  it('answers quickly when the upstream is gone: cached names still work, others get SERVFAIL', () => {
    dnsmasq.process.kill('SIGKILL');
    assert.deepEqual(short('www.bbc.co.uk'), ['192.0.2.22'], 'from the cache');
    const started = Date.now();
    const out = dig('never-asked-before.example', '+time=8');
    assert.match(out, /status: SERVFAIL/);
    assert.ok(Date.now() - started < 7000, `took ${Date.now() - started} ms`);
  });
  it('writes every answered question to the database when stopped (SIGTERM), none lost', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `last-words-${i}.bet.example`);
    for (const name of names) assert.deepEqual(short(name), ['0.0.0.0']);
    // Stop at once: the events are still in the sink's queue, not yet written.
    assert.equal(await haven.stop(), 0);
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      const stored = db.prepare("SELECT count(*) AS n FROM filter_event WHERE host LIKE 'last-words-%'").get() as { n: number };
      assert.equal(stored.n, names.length);
    } finally {
      db.close();
    }
  });
});
