import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createUpstreams, parseUpstream, parseUpstreams, UpstreamConfigError, UpstreamError, type Upstreams } from './upstream.ts';
import {
  aRecord,
  answerAddresses,
  buildQuery,
  buildResponse,
  RCODE,
  readResponse,
  startFakeUpstream,
  txtRecord,
  TYPE,
  type FakeHandler,
  type FakeUpstream,
} from './test-upstream.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers every A query with 192.0.2.1 (or `ip`). */
const answering =
  (ip = '192.0.2.1'): FakeHandler =>
  (query) =>
    buildResponse(query, { answers: [aRecord(questionName(query), ip, 60)] });

const blackHole: FakeHandler = () => null;

const questionName = (msg: Buffer): string => {
  const labels: string[] = [];
  let off = 12;
  while (msg[off] !== 0) {
    labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString('latin1'));
    off += msg[off]! + 1;
  }
  return labels.join('.');
};

/** Every test that opens sockets closes them; these collect what to close. */
const opened: { fakes: FakeUpstream[]; clients: Upstreams[] } = { fakes: [], clients: [] };
const fake = async (h: FakeHandler) => {
  const f = await startFakeUpstream(h);
  opened.fakes.push(f);
  return f;
};
const client = (options: Parameters<typeof createUpstreams>[0]) => {
  const c = createUpstreams(options);
  opened.clients.push(c);
  return c;
};
after(async () => {
  for (const c of opened.clients) c.close();
  await Promise.all(opened.fakes.map((f) => f.close()));
});

/** A UDP port nobody listens on (bound, then released). */
const closedUdpPort = async (): Promise<number> => {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
};

describe('parseUpstreams (HAVEN_DNS_UPSTREAM)', () => {
  it('reads IPs, ports, IPv6, DoH and DoT entries', () => {
    assert.deepEqual(parseUpstreams('127.0.0.1:5300, [::1]:53,9.9.9.9 , 2620:fe::fe,[2001:db8::1]'), [
      { kind: 'dns', host: '127.0.0.1', port: 5300, label: '127.0.0.1:5300' },
      { kind: 'dns', host: '::1', port: 53, label: '[::1]:53' },
      { kind: 'dns', host: '9.9.9.9', port: 53, label: '9.9.9.9:53' },
      { kind: 'dns', host: '2620:fe::fe', port: 53, label: '[2620:fe::fe]:53' },
      { kind: 'dns', host: '2001:db8::1', port: 53, label: '[2001:db8::1]:53' },
    ]);
    assert.deepEqual(parseUpstream('https://dns.example/dns-query'), {
      kind: 'https',
      url: 'https://dns.example/dns-query',
      label: 'https://dns.example/dns-query',
    });
    assert.deepEqual(parseUpstream('tls://dns.example'), { kind: 'tls', host: 'dns.example', port: 853, label: 'tls://dns.example:853' });
    assert.deepEqual(parseUpstream('tls://1.1.1.1:8853#cloudflare-dns.com'), {
      kind: 'tls',
      host: '1.1.1.1',
      port: 8853,
      servername: 'cloudflare-dns.com',
      label: 'tls://1.1.1.1:8853#cloudflare-dns.com',
    });
    assert.equal(parseUpstream('tls://[2606:4700::1111]').label, 'tls://[2606:4700::1111]:853');
  });

  it('refuses bad entries with a message naming them', () => {
    const bad: [string, RegExp][] = [
      ['', /no DNS upstreams/],
      ['1.1.1.1,,8.8.8.8', /entry 2 is empty/],
      ['1.1.1.1,', /entry 2 is empty/],
      ['dns.google', /"dns.google".*must be IP addresses/],
      ['dns.google:53', /must be IP addresses/],
      ['1.1.1.1:0', /port "0"/],
      ['1.1.1.1:65536', /port "65536"/],
      ['1.1.1.1:dns', /port "dns"/],
      ['[::1', /missing "\]"/],
      ['[1.2.3.4]:53', /not an IPv6 address/],
      ['[::1]53', /expected ":port"/],
      ['::1:99999:1', /not an IPv6 address/],
      ['http://dns.example/dns-query', /needs https/],
      ['https://user:pw@dns.example/dns-query', /credentials/],
      ['udp://1.1.1.1', /unsupported scheme "udp:\/\/"/],
      ['tls://bad_host!:853', /not a host name/],
      ['tls://dns.example/path', /no path/],
      ['tls://1.1.1.1#', /TLS server name/],
      ['1.1.1.1,1.1.1.1:53', /listed twice/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseUpstreams(text),
        (err: unknown) => err instanceof UpstreamConfigError && message.test(err.message),
        text,
      );
    }
  });
});

describe('upstreams against fake servers', { timeout: 30_000 }, () => {
  it('forwards under a fresh random id and source port, and restores the client id', { timeout: 5000 }, async () => {
    const up = await fake(answering('192.0.2.44'));
    const c = client({ servers: [up.address] });
    const ids = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const res = await c.forward(buildQuery(`n${i}.example`, TYPE.A, { id: 0x4242 }));
      assert.equal(res.readUInt16BE(0), 0x4242);
      assert.deepEqual(answerAddresses(res), ['192.0.2.44']);
      ids.add(up.udpQueries[i]!.readUInt16BE(0));
    }
    assert.ok(ids.size >= 18, `ids should be random, got ${ids.size} distinct of 20`);
    // A pool of sockets on random ports (decision 0010): queries spread over several.
    assert.ok(new Set(up.udpSourcePorts).size >= 4, 'spread over the pool');
    const s = c.stats().upstreams[0]!;
    assert.equal(s.sent, 20);
    assert.equal(s.answered, 20);
    assert.equal(s.healthy, true);
    assert.ok(s.avgLatencyMs >= 0 && s.avgLatencyMs < 1500);
    assert.equal(c.stats().inFlight, 0);
  });

  it('retires a pooled socket after 64 queries, so source ports keep changing', { timeout: 10_000 }, async () => {
    const up = await fake(answering('192.0.2.45'));
    const c = client({ servers: [up.address] });
    for (let i = 0; i < 300; i++) await c.forward(buildQuery(`p${i}.example`, TYPE.A));
    const perPort = new Map<number, number>();
    for (const p of up.udpSourcePorts) perPort.set(p, (perPort.get(p) ?? 0) + 1);
    assert.ok(Math.max(...perPort.values()) <= 64, 'no port carries more than 64 queries');
    assert.ok(perPort.size >= 5, `${perPort.size} ports for 300 queries`);
    assert.equal(c.stats().inFlight, 0);
  });

  it('ignores spoofed answers: wrong id, wrong question, wrong source port', { timeout: 5000 }, async () => {
    const spoofer = dgram.createSocket('udp4');
    await new Promise<void>((r) => spoofer.bind(0, '127.0.0.1', r));
    const up = await fake(async (query, _via, from) => {
      const real = buildResponse(query, { answers: [aRecord(questionName(query), '192.0.2.1', 60)] });
      // Right id and question, but from another port: the kernel drops it on the connected socket.
      spoofer.send(buildResponse(query, { answers: [aRecord(questionName(query), '6.6.6.6', 60)] }), from!.port, from!.address);
      await sleep(20);
      const wrongId = buildResponse(query, { id: query.readUInt16BE(0) ^ 0xffff, answers: [aRecord(questionName(query), '6.6.6.7', 60)] });
      const otherQuestion = buildResponse(buildQuery('evil.example', TYPE.A, { id: query.readUInt16BE(0) }), {
        answers: [aRecord('evil.example', '6.6.6.8', 60)],
      });
      return [wrongId, otherQuestion, real];
    });
    const c = client({ servers: [up.address] });
    const res = await c.forward(buildQuery('www.example.org', TYPE.A, { id: 7 }));
    assert.deepEqual(answerAddresses(res), ['192.0.2.1']);
    assert.equal(c.stats().upstreams[0]!.mismatched, 2);
    spoofer.close();
  });

  it('fails over on timeout, marks the upstream down, then skips it', { timeout: 10_000 }, async () => {
    const dead = await fake(blackHole);
    const good = await fake(answering());
    const c = client({
      servers: [dead.address, good.address],
      strategy: 'ordered',
      timeoutMs: 150,
      failThreshold: 2,
      healthIntervalMs: 60_000,
    });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const res = await c.forward(buildQuery('a.example'));
      assert.deepEqual(answerAddresses(res), ['192.0.2.1']);
      assert.ok(Date.now() - started >= 140);
    }
    const [d, g] = c.stats().upstreams;
    assert.equal(d!.healthy, false);
    assert.equal(d!.timeouts, 2);
    assert.equal(g!.answered, 2);
    const started = Date.now();
    await c.forward(buildQuery('b.example'));
    assert.ok(Date.now() - started < 140, 'a down upstream is not tried');
    assert.equal(dead.udpQueries.length, 2);
  });

  it('fails over at once when the port is closed (ICMP unreachable)', { timeout: 5000 }, async () => {
    const port = await closedUdpPort();
    const good = await fake(answering());
    const c = client({ servers: [`127.0.0.1:${port}`, good.address], strategy: 'ordered', timeoutMs: 1000 });
    const started = Date.now();
    const res = await c.forward(buildQuery('a.example'));
    assert.deepEqual(answerAddresses(res), ['192.0.2.1']);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    assert.match(c.stats().upstreams[0]!.lastError ?? '', /ECONNREFUSED/);
  });

  it('retries over TCP when the UDP answer is truncated', { timeout: 5000 }, async () => {
    const long = 'x'.repeat(1500);
    const up = await fake((query, via) =>
      via === 'udp' ? buildResponse(query, { tc: true }) : buildResponse(query, { answers: [txtRecord(questionName(query), long, 60)] }),
    );
    const c = client({ servers: [up.address] });
    const res = await c.forward(buildQuery('big.example', TYPE.TXT, { id: 0x0102 }));
    const r = readResponse(res);
    assert.equal(r.id, 0x0102);
    assert.equal(r.tc, false);
    assert.equal(r.answers[0]!.data.length, 1500 + 6);
    assert.equal(up.tcpQueries.length, 1);
    assert.equal(c.stats().upstreams[0]!.tcpFallbacks, 1);
  });

  it('fails over when TCP after truncation fails', { timeout: 5000 }, async () => {
    const truncating = await fake((query, via) => (via === 'udp' ? buildResponse(query, { tc: true }) : null));
    const good = await fake(answering('192.0.2.9'));
    const c = client({ servers: [truncating.address, good.address], strategy: 'ordered', timeoutMs: 200 });
    assert.deepEqual(answerAddresses(await c.forward(buildQuery('a.example'))), ['192.0.2.9']);
  });

  it('fails over on SERVFAIL and REFUSED without marking the upstream down', { timeout: 5000 }, async () => {
    const servfail = await fake((query) => buildResponse(query, { rcode: RCODE.SERVFAIL }));
    const refused = await fake((query) => buildResponse(query, { rcode: RCODE.REFUSED }));
    const good = await fake(answering('192.0.2.3'));
    const c = client({ servers: [servfail.address, refused.address, good.address], strategy: 'ordered', failThreshold: 1 });
    for (let i = 0; i < 3; i++) assert.deepEqual(answerAddresses(await c.forward(buildQuery(`s${i}.example`))), ['192.0.2.3']);
    const [s, r] = c.stats().upstreams;
    assert.equal(s!.healthy, true);
    assert.equal(s!.servfails, 3);
    assert.equal(r!.refused, 3);
  });

  it('rejects with the last SERVFAIL when every upstream fails that way', { timeout: 5000 }, async () => {
    const a = await fake((query) => buildResponse(query, { rcode: RCODE.SERVFAIL }));
    const b = await fake((query) => buildResponse(query, { rcode: RCODE.SERVFAIL }));
    const c = client({ servers: [a.address, b.address] });
    const err = await c.forward(buildQuery('broken.example', TYPE.A, { id: 99 })).catch((e: unknown) => e);
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.code, 'UPSTREAMS_FAILED');
    assert.deepEqual(
      err.attempts.map((x) => x.outcome),
      ['servfail', 'servfail'],
    );
    assert.equal(readResponse(err.response!).id, 99);
    assert.equal(readResponse(err.response!).rcode, RCODE.SERVFAIL);
  });

  it('passes FORMERR through, even without a question', { timeout: 5000 }, async () => {
    const up = await fake((query) => buildResponse(query, { rcode: RCODE.FORMERR, noQuestion: true }));
    const c = client({ servers: [up.address] });
    const res = await c.forward(buildQuery('x.example', TYPE.A, { id: 5 }));
    assert.equal(readResponse(res).rcode, RCODE.FORMERR);
    assert.equal(readResponse(res).id, 5);
  });

  it('never hangs: all upstreams silent → a typed error within the budget; all down → at once', { timeout: 5000 }, async () => {
    const a = await fake(blackHole);
    const b = await fake(blackHole);
    const c = client({ servers: [a.address, b.address], timeoutMs: 150, totalTimeoutMs: 400, failThreshold: 2, healthIntervalMs: 60_000 });
    let started = Date.now();
    const err = await c.forward(buildQuery('x.example')).catch((e: unknown) => e);
    assert.ok(err instanceof UpstreamError && err.code === 'UPSTREAMS_FAILED', String(err));
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms (budget 400)`);
    assert.ok(err.attempts.every((x) => x.outcome === 'timeout'));
    await c.forward(buildQuery('y.example')).catch(() => undefined);
    assert.ok(c.stats().upstreams.every((u) => !u.healthy));
    started = Date.now();
    const down = await c.forward(buildQuery('z.example')).catch((e: unknown) => e);
    assert.ok(down instanceof UpstreamError && down.code === 'ALL_UPSTREAMS_DOWN');
    assert.ok(Date.now() - started < 100, 'no attempt is made');
    assert.equal(c.stats().allDown, 1);
  });

  it('probes a down upstream in the background and brings it back', { timeout: 5000 }, async () => {
    const up = await fake(blackHole);
    const changes: string[] = [];
    const c = client({
      servers: [up.address],
      timeoutMs: 100,
      failThreshold: 1,
      healthIntervalMs: 50,
      onHealthChange: (u, healthy) => changes.push(`${u} ${healthy ? 'up' : 'down'}`),
    });
    await assert.rejects(c.forward(buildQuery('a.example')), (e: unknown) => e instanceof UpstreamError);
    assert.equal(c.stats().upstreams[0]!.healthy, false);
    up.setHandler(answering('192.0.2.77'));
    const deadline = Date.now() + 3000;
    while (!c.stats().upstreams[0]!.healthy && Date.now() < deadline) await sleep(20);
    assert.equal(c.stats().upstreams[0]!.healthy, true);
    assert.deepEqual(changes, [`${up.address} down`, `${up.address} up`]);
    const probe = up.udpQueries.find((qq) => qq[12] === 0)!;
    assert.equal(probe.readUInt16BE(13), TYPE.NS, 'the probe asks ". NS"');
    assert.ok(c.stats().upstreams[0]!.probes >= 1);
    assert.deepEqual(answerAddresses(await c.forward(buildQuery('b.example'))), ['192.0.2.77']);
  });

  it('probes with a configured name', { timeout: 5000 }, async () => {
    const up = await fake(answering());
    const c = client({
      servers: [up.address],
      timeoutMs: 100,
      failThreshold: 1,
      healthIntervalMs: 60_000,
      healthCheckName: 'health.haven.example',
    });
    up.setHandler(blackHole);
    await c.forward(buildQuery('a.example')).catch(() => undefined);
    up.setHandler(answering());
    await c.probeNow();
    assert.equal(c.stats().upstreams[0]!.healthy, true);
    assert.equal(questionName(up.udpQueries.at(-1)!), 'health.haven.example');
  });

  it('prefers the faster upstream once it has measured both', { timeout: 5000 }, async () => {
    const slow = await fake(async (query) => {
      await sleep(60);
      return buildResponse(query, { answers: [aRecord(questionName(query), '192.0.2.60', 60)] });
    });
    const quick = await fake(answering('192.0.2.1'));
    const c = client({ servers: [slow.address, quick.address] });
    for (let i = 0; i < 10; i++) await c.forward(buildQuery(`f${i}.example`));
    assert.ok(quick.udpQueries.length >= 8, `quick got ${quick.udpQueries.length}`);
  });

  it('bounds in-flight queries and rejects the excess at once', { timeout: 5000 }, async () => {
    const up = await fake(blackHole);
    const c = client({ servers: [up.address], timeoutMs: 300, maxInFlight: 2, failThreshold: 100 });
    const slow = [c.forward(buildQuery('a.example')), c.forward(buildQuery('b.example'))].map((p) => p.catch((e: unknown) => e));
    const over = await c.forward(buildQuery('c.example')).catch((e: unknown) => e);
    assert.ok(over instanceof UpstreamError && over.code === 'OVERLOADED');
    assert.equal(c.stats().overloaded, 1);
    await Promise.all(slow);
    assert.equal(c.stats().inFlight, 0);
  });

  it('shares sockets, with distinct ids, once the per-upstream socket limit is reached', { timeout: 5000 }, async () => {
    const up = await fake(async (query) => {
      await sleep(30);
      return buildResponse(query, { answers: [aRecord(questionName(query), '192.0.2.1', 60)] });
    });
    const c = client({ servers: [up.address], maxUdpSocketsPerUpstream: 4 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.forward(buildQuery(`p${i}.example`, TYPE.A, { id: i }))));
    results.forEach((r, i) => assert.equal(r.readUInt16BE(0), i));
    assert.ok(new Set(up.udpSourcePorts).size <= 4);
  });

  it('rejects what is not a query, and everything after close()', { timeout: 5000 }, async () => {
    const up = await fake(blackHole);
    const c = client({ servers: [up.address], timeoutMs: 2000 });
    for (const bad of [Buffer.alloc(3), buildResponse(buildQuery('a.example')), Buffer.from(buildQuery('a.example').subarray(0, 20))]) {
      await assert.rejects(c.forward(bad), (e: unknown) => e instanceof UpstreamError && e.code === 'BAD_QUERY');
    }
    const pending = c.forward(buildQuery('a.example')).catch((e: unknown) => e);
    await sleep(20);
    const started = Date.now();
    c.close();
    const err = await pending;
    assert.ok(err instanceof UpstreamError && err.code === 'CLOSED', String(err));
    assert.ok(Date.now() - started < 100);
    await assert.rejects(c.forward(buildQuery('a.example')), (e: unknown) => e instanceof UpstreamError && e.code === 'CLOSED');
  });
});

describe('DoH and DoT upstreams', { timeout: 30_000 }, () => {
  let dir = '';
  let key: Buffer;
  let cert: Buffer;
  let haveOpenssl = true;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-dns-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
          '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
        ], // prettier-ignore
        { stdio: 'ignore' },
      );
      key = readFileSync(path.join(dir, 'key.pem'));
      cert = readFileSync(path.join(dir, 'cert.pem'));
    } catch {
      haveOpenssl = false;
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('DoH: POSTs application/dns-message with id 0 and restores the client id', { timeout: 5000 }, async (t) => {
    if (!haveOpenssl) return t.skip('openssl is needed to make a test certificate');
    const seen: { method: string; type: string; id: number }[] = [];
    const server = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const query = Buffer.concat(chunks);
        seen.push({ method: req.method!, type: req.headers['content-type']!, id: query.readUInt16BE(0) });
        if (questionName(query) === 'fail.example') {
          res.writeHead(502).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/dns-message' });
        res.end(buildResponse(query, { answers: [aRecord(questionName(query), '192.0.2.53', 60)] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/dns-query`;
    try {
      const c = client({ servers: [url], tls: { ca: cert } });
      const res = await c.forward(buildQuery('doh.example', TYPE.A, { id: 0x3131 }));
      assert.equal(res.readUInt16BE(0), 0x3131);
      assert.deepEqual(answerAddresses(res), ['192.0.2.53']);
      assert.deepEqual(seen[0], { method: 'POST', type: 'application/dns-message', id: 0 });
      const err = await c.forward(buildQuery('fail.example')).catch((e: unknown) => e);
      assert.ok(err instanceof UpstreamError && /HTTP 502/.test(err.message), String(err));
      const untrusted = client({ servers: [url], timeoutMs: 1000 });
      const e2 = await untrusted.forward(buildQuery('doh.example')).catch((e: unknown) => e);
      assert.ok(e2 instanceof UpstreamError && /certificate/i.test(e2.message), String(e2));
      c.close();
      untrusted.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('DoT: pipelines queries over one TLS connection', { timeout: 5000 }, async (t) => {
    if (!haveOpenssl) return t.skip('openssl is needed to make a test certificate');
    let connections = 0;
    const server = tls.createServer({ key, cert }, (socket) => {
      connections++;
      let buf = Buffer.alloc(0);
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          const query = buf.subarray(2, buf.readUInt16BE(0) + 2);
          buf = buf.subarray(query.length + 2);
          const res = buildResponse(query, { answers: [aRecord(questionName(query), '192.0.2.85', 60)] });
          // Answer out of order, a little later: matching is by id.
          setTimeout(() => socket.write(Buffer.concat([Buffer.from([res.length >> 8, res.length & 0xff]), res])), 20 - (query[13]! % 10));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const c = client({ servers: [`tls://127.0.0.1:${port}`], tls: { ca: cert } });
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((n, i) => c.forward(buildQuery(`${n}.example`, TYPE.A, { id: 100 + i }))));
      results.forEach((r, i) => {
        assert.equal(r.readUInt16BE(0), 100 + i);
        assert.deepEqual(answerAddresses(r), ['192.0.2.85']);
      });
      await c.forward(buildQuery('again.example'));
      assert.equal(connections, 1);
      assert.equal(c.stats().upstreams[0]!.kind, 'tls');
      c.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
  it('DoT: drops a connection that went silent and carries on over a new one', { timeout: 5000 }, async (t) => {
    if (!haveOpenssl) return t.skip('openssl is needed to make a test certificate');
    let connections = 0;
    // Answers the first query on each connection, then says nothing more on it.
    const server = tls.createServer({ key, cert }, (socket) => {
      connections++;
      let answered = false;
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        if (answered || chunk.length < 4) return;
        answered = true;
        const res = buildResponse(chunk.subarray(2), { answers: [aRecord(questionName(chunk.subarray(2)), '192.0.2.86', 60)] });
        socket.write(Buffer.concat([Buffer.from([res.length >> 8, res.length & 0xff]), res]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const c = client({ servers: [`tls://localhost:${port}`], tls: { ca: cert }, timeoutMs: 150, totalTimeoutMs: 150, failThreshold: 10 });
      assert.deepEqual(answerAddresses(await c.forward(buildQuery('one.example'))), ['192.0.2.86']);
      const err = await c.forward(buildQuery('two.example')).catch((e: unknown) => e);
      assert.ok(err instanceof UpstreamError && err.attempts[0]!.outcome === 'timeout', String(err));
      assert.deepEqual(answerAddresses(await c.forward(buildQuery('three.example'))), ['192.0.2.86']);
      assert.equal(connections, 2);
      c.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('upstreams against a real dnsmasq', { timeout: 30_000 }, () => {
  const DNSMASQ = '/usr/sbin/dnsmasq';
  const available = existsSync(DNSMASQ);
  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';

  before(async () => {
    if (!available) {
      if (process.env.CI === 'true') throw new Error(`${DNSMASQ} is required when CI=true`);
      return;
    }
    const long = ['a', 'b', 'c'].map((ch) => ch.repeat(250));
    for (let attempt = 0; attempt < 5 && !child; attempt++) {
      port = await closedUdpPort();
      const proc = spawn(
        DNSMASQ,
        [
          '--no-daemon', '--no-resolv', '--no-hosts', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
          '--conf-file=/dev/null', '--pid-file=', '--log-facility=-',
          '--address=/test.haven.example/192.0.2.10',
          '--host-record=host.haven.example,192.0.2.20,2001:db8::20',
          `--txt-record=big.haven.example,${long.join(',')}`,
        ], // prettier-ignore
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
      // Ready when it answers; gone if it exited (port taken between our check and its bind).
      const probe = createUpstreams({ servers: [`127.0.0.1:${port}`], timeoutMs: 100, failThreshold: 1000 });
      const deadline = Date.now() + 5000;
      let ready = false;
      while (!ready && proc.exitCode === null && Date.now() < deadline) {
        ready = await probe.forward(buildQuery('test.haven.example')).then(
          () => true,
          () => false,
        );
        if (!ready) await sleep(50);
      }
      probe.close();
      if (ready) child = proc;
      else if (proc.exitCode === null) {
        proc.kill('SIGKILL');
        throw new Error(`dnsmasq did not answer within 5 s:\n${log}`);
      }
    }
    if (!child) throw new Error(`dnsmasq would not start:\n${log}`);
  });

  after(async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, 'SIGTERM');
    const timer = setTimeout(() => proc.pid && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });

  it('gets the configured answers through forward()', { timeout: 10_000 }, async (t) => {
    if (!available) return t.skip(`${DNSMASQ} is not installed`);
    const c = client({ servers: [`127.0.0.1:${port}`] });
    const a = await c.forward(buildQuery('test.haven.example', TYPE.A, { id: 0xabcd }));
    assert.equal(a.readUInt16BE(0), 0xabcd);
    assert.equal(readResponse(a).rcode, RCODE.NOERROR);
    assert.deepEqual(answerAddresses(a), ['192.0.2.10']);
    assert.deepEqual(answerAddresses(await c.forward(buildQuery('www.test.haven.example'))), ['192.0.2.10']);
    assert.deepEqual(answerAddresses(await c.forward(buildQuery('host.haven.example'))), ['192.0.2.20']);
    assert.deepEqual(answerAddresses(await c.forward(buildQuery('HOST.haven.example', TYPE.AAAA))), ['2001:db8:0:0:0:0:0:20']);
    const big = readResponse(await c.forward(buildQuery('big.haven.example', TYPE.TXT)));
    assert.equal(big.tc, false);
    assert.equal(big.answers[0]!.data.length, 3 * 251);
    assert.equal(c.stats().upstreams[0]!.tcpFallbacks, 1);
    c.close();
  });
});
