/**
 * The proxy on loopback with real decisions (the fixture lists, the default trust policy and the
 * filter runtime), driven by Debian's curl and Node's http/tls against local HTTP, HTTPS and
 * WebSocket origins: forwarding, keep-alive, streaming, block and warn pages, CONNECT with SNI,
 * interception of a blocked site, PAC, every robustness case's status code, limits and events.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { collectingSink, fixtureProxyDeps as fixtureDeps } from '../../../test-support/proxy-fixtures.ts';
import {
  makeCert,
  rawExchange,
  readWsFrame,
  startHttpOrigin,
  startTlsOrigin,
  statusOf,
  wsFrame,
  type TestCert,
  type TestOrigin,
} from '../../../test-support/proxy-origins.ts';
import { startProxyServer, type ProxyServer } from './server.ts';

const run = promisify(execFile);

/** Opens a CONNECT tunnel through the proxy; resolves with the socket after the 200, or the raw refusal. */
const connectThrough = (proxyPort: number, target: string): Promise<{ socket: net.Socket; head: string }> =>
  new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    let got = '';
    s.on('error', reject);
    s.on('data', function onData(d: Buffer) {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.off('data', onData);
        resolve({ socket: s, head: got.slice(0, end) });
      }
    });
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });

/** A GET over TLS inside a tunnel; resolves with the status and body, or rejects when TLS fails. */
const httpsInside = (
  socket: net.Socket,
  servername: string,
  ca: string,
  pathname = '/',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> =>
  new Promise((resolve, reject) => {
    const t = tls.connect({ socket, servername, ca, ALPNProtocols: ['http/1.1'] });
    t.on('error', reject);
    t.on('secureConnect', () => {
      const req = http.request({ createConnection: () => t, host: servername, path: pathname, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  });

describe('forward proxy', () => {
  let origin: TestOrigin;
  let cert: TestCert;
  let tlsOrigin: { port: number; close(): Promise<void> };
  let proxy: ProxyServer;
  let sink: ReturnType<typeof collectingSink>;
  let certDir: string;
  let caFile: string;
  let proxyUrl: string;

  const curl = async (...args: string[]) => {
    try {
      const r = await run('curl', ['-sS', '--max-time', '10', '-x', proxyUrl, ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  before(async () => {
    origin = await startHttpOrigin();
    cert = makeCert(['secure.test', 'allowed.test', 'games-example.test']);
    tlsOrigin = await startTlsOrigin(cert);
    certDir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-test-'));
    caFile = path.join(certDir, 'ca.pem');
    writeFileSync(caFile, cert.cert);
    sink = collectingSink();
    proxy = await startProxyServer(
      fixtureDeps(sink, { upstreamTls: { ca: cert.cert }, limits: { responseTimeoutMs: 600, headersTimeoutMs: 1500 } }),
      { host: '127.0.0.1', port: 0 },
    );
    proxyUrl = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy.close();
    await origin.close();
    await tlsOrigin.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('forwards an allowed page, dropping hop-by-hop headers and adding Via', async () => {
    const r = await curl('-i', `http://allowed.test:${origin.port}/hello`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /\r\nvia: 1\.1 haven-[0-9a-f]{8}\r\n/i);
    assert.match(r.stdout, /x-origin: yes/i);
    assert.doesNotMatch(r.stdout, /x-hop/i, 'a header named in Connection is hop-by-hop');
    assert.match(r.stdout, /\r\n\r\nhello$/);
    const seen = origin.seen.get('/hello') ?? [];
    assert.ok(seen.includes('Via'));
    assert.ok(!seen.some((h) => /^proxy-connection$/i.test(h)));
    const e = sink.seen.at(-1)!;
    assert.equal(e.source, 'proxy');
    assert.equal(e.host, 'allowed.test');
    assert.equal(e.url, `http://allowed.test:${origin.port}/hello`);
    assert.equal(e.action, 'allow');
    assert.equal(e.clientIp, '127.0.0.1');
  });

  it('keeps client and upstream connections alive and streams bodies both ways', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (p: string, body?: Buffer) =>
      new Promise<{ body: Buffer; reused: boolean; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: proxy.port,
            path: `http://allowed.test:${origin.port}${p}`,
            method: body ? 'POST' : 'GET',
            agent,
            headers: { 'proxy-authorization': 'Basic c2VjcmV0', ...(body && { 'transfer-encoding': 'chunked' }) },
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => resolve({ body: Buffer.concat(parts), reused: req.reusedSocket, headers: res.headers }));
          },
        );
        req.on('error', reject);
        if (body) {
          // Written in pieces: the proxy must pass them on without waiting for the whole body.
          for (let i = 0; i < body.length; i += 100_000) req.write(body.subarray(i, i + 100_000));
        }
        req.end();
      });
    const first = await get('/hello');
    assert.equal(first.body.toString(), 'hello');
    const chunked = await get('/chunked');
    assert.equal(chunked.body.toString(), 'one two');
    assert.equal(chunked.reused, true, 'the client connection was kept alive');
    const big = Buffer.alloc(3_000_000, 0x62);
    const echoed = await get('/echo', big);
    assert.equal(echoed.body.length, big.length);
    assert.ok(echoed.body.equals(big));
    const headers = await get('/headers');
    const raw = JSON.parse(headers.body.toString()) as string[];
    assert.ok(!raw.some((h) => /^proxy-authorization$/i.test(h)), 'proxy credentials never go upstream');
    assert.equal(raw[raw.findIndex((h) => /^host$/i.test(h)) + 1], `allowed.test:${origin.port}`);
    const large = await get('/big?n=5000000');
    assert.equal(large.body.length, 5_000_000);
    agent.destroy();
  });

  it('frames a body on any method for the site, and answers 502 when the site answers garbage', async () => {
    const received: string[] = [];
    let reply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const raw = net.createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        received.push(d.toString('latin1'));
        if (received.join('').includes('\r\n0\r\n\r\n') || received.join('').endsWith('world')) s.end(reply);
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const port = (raw.address() as net.AddressInfo).port;
    try {
      const chunkedGet = await rawExchange(
        proxy.port,
        `GET http://allowed.test:${port}/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      );
      assert.equal(statusOf(chunkedGet), 200);
      const sent = received.join('');
      assert.match(
        sent,
        /\r\nTransfer-Encoding: chunked\r\n/,
        'the body stays framed (no unframed bytes for the site to read as a next request)',
      );
      assert.match(sent, /\r\n\r\n5\r\nhello\r\n0\r\n\r\n$/);
      received.length = 0;
      const del = await rawExchange(
        proxy.port,
        `DELETE http://allowed.test:${port}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld`,
      );
      assert.equal(statusOf(del), 200);
      assert.match(received.join(''), /\r\nContent-Length: 5\r\n[\s\S]*\r\n\r\nworld$/);
      received.length = 0;
      reply = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok';
      const smuggled = await rawExchange(
        proxy.port,
        `DELETE http://allowed.test:${port}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld`,
      );
      assert.equal(statusOf(smuggled), 502);
      reply = 'NONSENSE\r\n\r\n';
      const garbage = await rawExchange(
        proxy.port,
        `DELETE http://allowed.test:${port}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld`,
      );
      assert.equal(statusOf(garbage), 502);
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('keeps repeated Set-Cookie headers', async () => {
    const r = await curl('-i', `http://allowed.test:${origin.port}/cookies`);
    assert.match(r.stdout, /set-cookie: a=1/i);
    assert.match(r.stdout, /set-cookie: b=2/i);
  });

  it('answers a blocked page with the block page and records the block', async () => {
    const r = await curl('-i', `http://adult-example.test:${origin.port}/some/page?x=<script>`);
    assert.match(r.stdout, /^HTTP\/1\.1 403/);
    assert.match(r.stdout, /x-haven-block: block; category=pornography/i);
    assert.match(r.stdout, /This site is blocked/);
    assert.doesNotMatch(r.stdout, /<script>/);
    assert.equal(origin.seen.has('/some/page'), false, 'nothing reached the site');
    const e = sink.seen.at(-1)!;
    assert.equal(e.action, 'block');
    assert.equal(e.category, 'pornography');
    assert.equal(e.list, 'ut1/adult');
    assert.match(e.url ?? '', /\/some\/page/);
  });

  it('blocks an illegal-tier URL without naming the list', async () => {
    const r = await curl('-i', 'http://illegal-example.test/abuse/page.html');
    assert.match(r.stdout, /^HTTP\/1\.1 403/);
    assert.doesNotMatch(r.stdout, /iwf/i);
    assert.equal(sink.seen.at(-1)!.category, 'illegal');
  });

  it('shows a warning (the renderer makes the link: the proxy has no continue mechanism of its own)', async () => {
    const target = `http://games-example.test:${origin.port}/hello`;
    const warned = await curl('-i', target);
    assert.match(warned.stdout, /^HTTP\/1\.1 200/);
    assert.match(warned.stdout, /x-haven-block: warn/i);
    assert.doesNotMatch(warned.stdout, /haven-continue/);
    const e = sink.seen.at(-1)!;
    assert.equal(e.action, 'warn');
    assert.equal(e.method, 'GET');
    assert.equal(e.warnContinued, undefined);
  });

  it('lets a person through a warning their choice was recorded for elsewhere', async () => {
    const sink5 = collectingSink();
    const p5 = await startProxyServer(
      fixtureDeps(sink5, {
        warnContinued: (identity, ip, host) => identity.schoolId === 'school-1' && ip === '127.0.0.1' && host === 'games-example.test',
      }),
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const r = await rawExchange(
        p5.port,
        `GET http://games-example.test:${origin.port}/hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(statusOf(r), 200);
      assert.match(r, /hello$/);
      const e = sink5.seen.at(-1)!;
      assert.equal(e.action, 'warn');
      assert.equal(e.warnContinued, true);
      assert.equal(e.status, 200);
      assert.equal(e.bytesOut, 5);
      const tunnel = await rawExchange(p5.port, `CONNECT games-example.test:${tlsOrigin.port} HTTP/1.1\r\nHost: a\r\n\r\n`, 500);
      assert.equal(statusOf(tunnel), 200);
    } finally {
      await p5.close();
    }
  });

  it('tunnels CONNECT to a TLS site and reads its SNI', async () => {
    const r = await curl('--cacert', caFile, `https://secure.test:${tlsOrigin.port}/path`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'secure secure.test /path');
    const e = sink.seen.at(-1)!;
    assert.equal(e.host, 'secure.test');
    assert.equal(e.url, null);
    assert.equal(e.action, 'allow');
  });

  it('fetches an https:// absolute-form request itself, verifying the certificate', async () => {
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: proxy.port, path: `https://${host}:${tlsOrigin.port}/abs` }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    assert.deepEqual(await get('secure.test'), { status: 200, body: 'secure secure.test /abs' });
    // A name the certificate does not cover: 502, never an unverified page.
    const bad = await get('other.test');
    assert.equal(bad.status, 502);
    assert.match(bad.body, /certificate/);
  });

  it('refuses CONNECT to a blocked host with 403 and X-Haven-Block', async () => {
    const raw = await rawExchange(proxy.port, `CONNECT bet-example.test:${tlsOrigin.port} HTTP/1.1\r\nHost: bet-example.test\r\n\r\n`);
    assert.equal(statusOf(raw), 403);
    assert.match(raw, /X-Haven-Block: block; category=gambling/);
    const r = await curl('--cacert', caFile, `https://bet-example.test:${tlsOrigin.port}/`);
    assert.notEqual(r.code, 0);
    assert.equal(sink.seen.at(-1)!.category, 'gambling');
  });

  it('decides on the SNI when it differs from the CONNECT host', async () => {
    const { socket, head } = await connectThrough(proxy.port, `allowed.test:${tlsOrigin.port}`);
    assert.match(head, /^HTTP\/1\.1 200/);
    await assert.rejects(httpsInside(socket, 'adult-example.test', cert.cert));
    socket.destroy();
    const e = sink.seen.at(-1)!;
    assert.equal(e.host, 'adult-example.test');
    assert.equal(e.action, 'block');
    // An address in CONNECT and an allowed name in SNI: the tunnel works, the event names the SNI.
    const ok = await connectThrough(proxy.port, `127.0.0.1:${tlsOrigin.port}`);
    const res = await httpsInside(ok.socket, 'secure.test', cert.cert, '/x');
    assert.equal(res.body, 'secure secure.test /x');
    assert.equal(sink.seen.at(-1)!.host, 'secure.test');
  });

  it('carries a WebSocket through, and refuses one to a blocked site', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    const echoed = await new Promise<string>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      let upgraded = false;
      s.on('error', reject);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!upgraded) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
          buf = buf.subarray(end + 4);
          upgraded = true;
          s.write(wsFrame('hi there', true));
        }
        const text = readWsFrame(buf);
        if (text !== null) resolve(text);
      });
      s.write(
        `GET http://ws.test:${origin.port}/chat HTTP/1.1\r\nHost: ws.test:${origin.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    s.destroy();
    assert.equal(echoed, 'echo: hi there');
    const blocked = await rawExchange(
      proxy.port,
      `GET http://bet-example.test:${origin.port}/chat HTTP/1.1\r\nHost: bet-example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    assert.equal(statusOf(blocked), 403);
  });

  it('serves the PAC file and WPAD to direct requests', async () => {
    for (const p of ['/proxy.pac', '/wpad.dat']) {
      const res = await fetch(`${proxyUrl}${p}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-ns-proxy-autoconfig');
      const body = await res.text();
      assert.match(body, /function FindProxyForURL/);
      assert.match(body, new RegExp(`"PROXY 127\\.0\\.0\\.1:${proxy.port}"`));
    }
    assert.equal((await fetch(`${proxyUrl}/other`)).status, 404);
    // The same file when asked through the proxy itself.
    const viaProxy = await curl(`http://127.0.0.1:${proxy.port}/proxy.pac`);
    assert.match(viaProxy.stdout, /FindProxyForURL/);
  });

  describe('robustness: every bad case gets its status, and the proxy keeps serving', () => {
    const cases: [string, string, number][] = [
      ['garbage request line', 'HELLO\r\n\r\n', 400],
      ['no URL', 'GET HTTP/1.1\r\n\r\n', 400],
      ['not a URL', 'GET http://[bad/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['ftp URL', 'GET ftp://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n', 400],
      [
        'Content-Length and Transfer-Encoding',
        'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
      ],
      [
        'two Content-Lengths',
        'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
        400,
      ],
      ['a list Content-Length', 'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 4, 5\r\n\r\nabcde', 400],
      ['obs-fold', 'GET http://allowed.test/hello HTTP/1.1\r\nHost: allowed.test\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
      [
        'bad chunk size',
        'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
        400,
      ],
      [
        'Transfer-Encoding not ending in chunked',
        'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: gzip\r\n\r\nabc',
        400,
      ],
      ['space before colon', 'GET http://allowed.test/hello HTTP/1.1\r\nHost : allowed.test\r\n\r\n', 400],
      ['huge headers', `GET http://allowed.test/hello HTTP/1.1\r\nHost: allowed.test\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431],
      [
        'an upgrade with a body',
        'GET http://ws.test/chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 5\r\n\r\nhello',
        400,
      ],
      ['CONNECT without a port', 'CONNECT allowed.test HTTP/1.1\r\nHost: allowed.test\r\n\r\n', 400],
      ['CONNECT with a path', 'CONNECT allowed.test:443/x HTTP/1.1\r\nHost: allowed.test\r\n\r\n', 400],
      ['unresolvable name', 'GET http://nowhere.invalid/ HTTP/1.1\r\nHost: nowhere.invalid\r\n\r\n', 502],
      ['CONNECT to an unresolvable name', 'CONNECT nowhere.invalid:443 HTTP/1.1\r\nHost: nowhere.invalid:443\r\n\r\n', 502],
    ];
    for (const [name, data, status] of cases) {
      it(`${name}: ${status}`, async () => {
        const raw = await rawExchange(proxy.port, data);
        assert.equal(statusOf(raw), status, raw.slice(0, 200));
      });
    }

    it('upstream refused, reset and slow: 502, 502, 504; CONNECT to a closed port: 502', async () => {
      const closed = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address() as net.AddressInfo;
          s.close(() => resolve(port));
        });
      });
      const get = (url: string) => rawExchange(proxy.port, `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 5000);
      assert.equal(statusOf(await get(`http://allowed.test:${closed}/`)), 502);
      assert.equal(statusOf(await get(`http://allowed.test:${origin.port}/reset`)), 502);
      assert.equal(statusOf(await get(`http://allowed.test:${origin.port}/slow`)), 504);
      const c = await rawExchange(proxy.port, `CONNECT allowed.test:${closed} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(statusOf(c), 502);
      assert.equal(sink.seen.at(-1)!.layer, 'error');
    });

    it('a client that sends its headers too slowly: 408', async () => {
      const s = net.connect(proxy.port, '127.0.0.1');
      const got = await new Promise<string>((resolve) => {
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString()));
        s.on('close', () => resolve(out));
        s.write('GET http://allowed.test/hello HTTP/1.1\r\nHost: allowed.test\r\n');
        const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
        s.on('close', () => clearInterval(drip));
      });
      assert.equal(statusOf(got), 408);
    });

    it('a smuggled second request on a kept-alive connection is not served', async () => {
      const raw = await rawExchange(
        proxy.port,
        `GET http://allowed.test:${origin.port}/hello HTTP/1.1\r\nHost: allowed.test\r\n\r\n` +
          'POST http://allowed.test/echo HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      );
      assert.equal(statusOf(raw), 200);
      assert.match(raw, /HTTP\/1\.1 400/);
      assert.equal((raw.match(/HTTP\/1\.1 200/g) ?? []).length, 1);
    });

    it('still answers a good request', async () => {
      const r = await curl(`http://allowed.test:${origin.port}/hello`);
      assert.equal(r.stdout, 'hello');
      assert.ok(proxy.stats().clientErrors > 5);
    });
  });

  it('intercepts a blocked HTTPS site to show the block page, when it has a certificate for it', async () => {
    const blockedCert = makeCert(['bet-example.test', 'adult-example.test']);
    const sink2 = collectingSink();
    const p2 = await startProxyServer(
      fixtureDeps(sink2, { intercept: { contextFor: () => Promise.resolve(tls.createSecureContext(blockedCert)) } }),
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const { socket, head } = await connectThrough(p2.port, 'bet-example.test:443');
      assert.match(head, /^HTTP\/1\.1 200/);
      const page = await httpsInside(socket, 'bet-example.test', blockedCert.cert, '/deep/link');
      assert.equal(page.status, 403);
      assert.match(page.body, /This site is blocked/);
      assert.match(page.body, /https:\/\/bet-example\.test\/deep\/link/);
      assert.match(String(page.headers['x-haven-block']), /gambling/);
      // Blocked by SNI behind an allowed CONNECT host.
      const t2 = await connectThrough(p2.port, `allowed.test:${tlsOrigin.port}`);
      const page2 = await httpsInside(t2.socket, 'adult-example.test', blockedCert.cert);
      assert.equal(page2.status, 403);
      assert.equal(sink2.seen.at(-1)!.host, 'adult-example.test');
    } finally {
      await p2.close();
    }
  });

  it('limits connections per client and overall, and tunnels only to allowed ports', async () => {
    const p3 = await startProxyServer(
      fixtureDeps(collectingSink(), { connectPorts: [443], limits: { maxConnectionsPerClient: 3, maxConnections: 100 } }),
      { host: '127.0.0.1', port: 0 },
    );
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect(p3.port, '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 50));
      const raw = await rawExchange(p3.port, 'GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n');
      assert.equal(statusOf(raw), 429);
      assert.equal(p3.stats().rejectedConnections, 1);
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const port = await rawExchange(p3.port, `CONNECT allowed.test:${tlsOrigin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(statusOf(port), 403);
    } finally {
      for (const s of held) s.destroy();
      await p3.close();
    }
  });

  it('closes silent tunnels, caps their lifetime and each exchange, and limits connections overall', async () => {
    const p4 = await startProxyServer(
      fixtureDeps(collectingSink(), {
        limits: {
          idleTimeoutMs: 300,
          tunnelTimeoutMs: 1200,
          requestTimeoutMs: 400,
          responseTimeoutMs: 5000,
          helloTimeoutMs: 100,
          maxConnections: 3,
        },
      }),
      { host: '127.0.0.1', port: 0 },
    );
    const closedAfter = (s: net.Socket) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        s.on('error', () => undefined);
        s.once('close', () => resolve(Date.now() - started));
      });
    try {
      // Silent tunnel: closed after the idle timeout.
      const idle = await connectThrough(p4.port, `allowed.test:${origin.port}`);
      assert.match(idle.head, /^HTTP\/1\.1 200/);
      assert.ok((await closedAfter(idle.socket)) < 3000);
      // A busy tunnel: closed at its total lifetime even though it never goes quiet.
      const busy = await connectThrough(p4.port, `allowed.test:${origin.port}`);
      busy.socket.on('data', () => undefined);
      const chatter = setInterval(() => busy.socket.writable && busy.socket.write('GET /hello HTTP/1.1\r\nHost: a\r\n\r\n'), 100);
      const lived = await closedAfter(busy.socket);
      clearInterval(chatter);
      assert.ok(lived >= 900 && lived < 5000, `tunnel lived ${lived} ms`);
      // One HTTP exchange longer than the request timeout is cut off.
      const slow = await rawExchange(p4.port, `GET http://allowed.test:${origin.port}/slow HTTP/1.1\r\nHost: a\r\n\r\n`, 3000);
      assert.equal(statusOf(slow), 0, 'closed without an answer');
      // Total connections: the fourth is turned away with 503.
      const held: net.Socket[] = [];
      for (let i = 0; i < 3; i++) {
        const s = net.connect(p4.port, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 50));
      const busyAnswer = await rawExchange(p4.port, 'GET http://allowed.test/ HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
      for (const s of held) s.destroy();
      assert.equal(statusOf(busyAnswer), 503);
    } finally {
      await p4.close();
    }
  });

  it('recorded an event for each request, none of them awaited', () => {
    assert.ok(sink.seen.length >= 15);
    for (const e of sink.seen) {
      assert.equal(e.source, 'proxy');
      assert.equal(e.qtype, null);
      assert.ok(e.latencyUs >= 0);
      assert.doesNotThrow(() => new Date(e.at).toISOString());
    }
  });
});
