/**
 * Inspection of allowed HTTPS through the proxy, with a real interception CA and leaf cache:
 * curl trusting only the Haven CA gets the site through a decrypted tunnel (keep-alive inside),
 * each request is decided and logged on its full https:// URL (a URL-level list entry blocks one
 * page of an allowed host), a search is logged with its term and reaches the stand-in "Google"
 * rewritten for SafeSearch, an untrusted upstream certificate is a 502 that says why, exempt
 * hosts are tunnelled untouched, and proxy authentication answers 407/503.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { createSearchEngines, parseSearchEngineData } from '../../core/index.ts';
import { everythingLoopback, startEchoOrigin, type EchoOrigin, type EchoSeen } from '../../../test-support/proxy-echo-origin.ts';
import { collectingSink, fixtureProxyDeps } from '../../../test-support/proxy-fixtures.ts';
import { makeCert, rawExchange, readWsFrame, statusOf, wsFrame, type TestCert } from '../../../test-support/proxy-origins.ts';
import { initCa, loadInterception, type Interception } from './intercept/index.ts';
import { startProxyServer, type ProxyServer } from './server.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');

describe('proxy: inspection of allowed HTTPS, search terms, SafeSearch, authentication', () => {
  let dir: string;
  let cert: TestCert;
  let origin: EchoOrigin;
  let rogue: EchoOrigin;
  let interception: Interception;
  let proxy: ProxyServer;
  let sink: ReturnType<typeof collectingSink>;
  let caFile: string;
  let originCaFile: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-inspect-'));
    cert = makeCert(['www.google.com', 'news-example.test', 'illegal-example.test', 'barclays.co.uk']);
    originCaFile = path.join(dir, 'origin-ca.pem');
    writeFileSync(originCaFile, cert.cert);
    origin = await startEchoOrigin(cert);
    rogue = await startEchoOrigin(makeCert(['rogue.test']));
    const { ca } = await initCa(path.join(dir, 'data'), { name: 'Test School' });
    caFile = path.join(dir, 'haven-ca.pem');
    writeFileSync(caFile, ca.certPem);
    interception = await loadInterception({
      dataDir: path.join(dir, 'data'),
      exemptionsFile: path.join(root, 'data', 'tls-exemptions.json'),
      extraCaFile: originCaFile,
    });
    sink = collectingSink();
    const search = createSearchEngines(
      parseSearchEngineData(JSON.parse(readFileSync(path.join(root, 'data', 'search-engines.json'), 'utf8'))),
    );
    proxy = await startProxyServer(fixtureProxyDeps(sink, { intercept: interception, search, lookup: everythingLoopback }), {
      host: '127.0.0.1',
      port: 0,
    });
  });
  after(async () => {
    await proxy?.close();
    await origin?.close();
    await rogue?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const curl = (...args: string[]) =>
    run('curl', ['-sS', '--max-time', '10', '--proxy', `http://127.0.0.1:${proxy.port}`, ...args], { encoding: 'utf8' }).catch(
      (err: unknown) => {
        const e = err as { stdout?: string; stderr?: string };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      },
    );

  it('decrypts an allowed site with a leaf from the Haven CA, keeps the connection alive, and logs each request on its full URL', async () => {
    const before = proxy.stats().inspected;
    const a = `https://news-example.test:${origin.port}/one?x=1`;
    const b = `https://news-example.test:${origin.port}/two`;
    const r = await curl('--cacert', caFile, a, b);
    assert.equal(r.stderr, '');
    const [first, second] = r.stdout.split('}{').map((s, i) => JSON.parse(i === 0 ? `${s}}` : `{${s}`) as EchoSeen);
    assert.equal(first!.url, '/one?x=1');
    assert.equal(second!.url, '/two');
    assert.equal(first!.sni, 'news-example.test', 'the real site is reached over verified TLS with the SNI');
    assert.equal(proxy.stats().inspected - before, 1, 'both requests went through one decrypted tunnel');
    const events = sink.seen.filter((e) => e.url?.startsWith(`https://news-example.test:${origin.port}/`));
    assert.deepEqual(
      events.map((e) => [e.method, e.url, e.status]),
      [
        ['GET', a, 200],
        ['GET', b, 200],
      ],
    );
    assert.ok((events[0]!.bytesOut ?? 0) > 10);
  });

  it('blocks one page of an allowed host by its URL-level list entry, with the block page over HTTPS', async () => {
    const ok = await curl('--cacert', caFile, '-o', '/dev/null', '-w', '%{http_code}', `https://illegal-example.test:${origin.port}/fine`);
    assert.equal(ok.stdout, '200');
    const blocked = await curl('--cacert', caFile, '-i', `https://illegal-example.test:${origin.port}/abuse/page.html`);
    assert.match(blocked.stdout, /\r\n\r\nHTTP\/1\.1 403/);
    assert.match(blocked.stdout, /x-haven-block: block; category=illegal/i);
    assert.equal(sink.seen.at(-1)!.url, `https://illegal-example.test:${origin.port}/abuse/page.html`);
    assert.equal(sink.seen.at(-1)!.action, 'block');
  });

  it('logs a Google search with its term and sends Google the SafeSearch address (rewritten, not redirected)', async () => {
    const r = await curl('--cacert', caFile, `https://www.google.com:${origin.port}/search?q=how+to+stay+safe&hl=en`);
    const seen = JSON.parse(r.stdout) as EchoSeen;
    assert.match(seen.url, /^\/search\?q=how\+to\+stay\+safe&hl=en/);
    assert.match(seen.url, /[?&]safe=active(&|$)/);
    const e = sink.seen.at(-1)!;
    assert.equal(e.searchTerm, 'how to stay safe');
    assert.equal(e.url, `https://www.google.com:${origin.port}/search?q=how+to+stay+safe&hl=en`, 'the event keeps what was asked for');
  });

  it('refuses a site whose certificate Haven cannot verify with a 502 that says why', async () => {
    const r = await curl('--cacert', caFile, '-i', `https://rogue.test:${rogue.port}/`);
    assert.match(r.stdout, /\r\n\r\nHTTP\/1\.1 502/);
    assert.match(r.stdout, /certificate is not valid/);
    assert.equal(rogue.seen.length, 0, 'nothing was sent to it');
    assert.equal(sink.seen.at(-1)!.layer, 'error');
  });

  it('carries a WebSocket inside a decrypted tunnel to the real site, over verified TLS', async () => {
    const socket = net.connect(proxy.port, '127.0.0.1');
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        socket.once('error', reject);
        socket.write(`CONNECT news-example.test:${origin.port} HTTP/1.1\r\nHost: news-example.test\r\n\r\n`);
        socket.once('data', () => {
          const t = tls.connect({ socket, servername: 'news-example.test', ca: readFileSync(caFile, 'utf8'), ALPNProtocols: ['http/1.1'] });
          t.once('error', reject);
          let got = Buffer.alloc(0);
          let upgraded = false;
          t.on('data', (d: Buffer) => {
            got = Buffer.concat([got, d]);
            if (!upgraded) {
              const end = got.indexOf('\r\n\r\n');
              if (end < 0) return;
              if (!got.subarray(0, end).toString().startsWith('HTTP/1.1 101')) {
                reject(new Error(got.toString()));
                return;
              }
              upgraded = true;
              got = got.subarray(end + 4);
              t.write(wsFrame('over tls', true));
            }
            const text = readWsFrame(got);
            if (text !== null) {
              t.destroy();
              resolve(text);
            }
          });
          t.once('secureConnect', () =>
            t.write(
              'GET /chat HTTP/1.1\r\nHost: news-example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
            ),
          );
        });
      });
      assert.equal(echoed, 'echo: over tls');
      assert.equal(sink.seen.at(-1)!.status, 101);
      assert.equal(sink.seen.at(-1)!.url, `https://news-example.test:${origin.port}/chat`);
    } finally {
      socket.destroy();
    }
  });

  it('tunnels what is not TLS (nothing to decrypt) as without interception, decided on the CONNECT host', async () => {
    const plainOrigin = await startEchoOrigin();
    try {
      const r = await rawExchange(
        proxy.port,
        `CONNECT news-example.test:${plainOrigin.port} HTTP/1.1\r\nHost: a\r\n\r\nGET /raw HTTP/1.1\r\nHost: news-example.test\r\nConnection: close\r\n\r\n`,
      );
      assert.match(r, /^HTTP\/1\.1 200 Connection Established/);
      assert.match(r, /"url":"\/raw"/);
    } finally {
      await plainOrigin.close();
    }
  });

  it('tunnels an exempt host (banking) untouched: the client sees the real certificate', async () => {
    const before = proxy.stats().inspected;
    const r = await curl('--cacert', originCaFile, `https://barclays.co.uk:${origin.port}/account`);
    const seen = JSON.parse(r.stdout) as EchoSeen;
    assert.equal(seen.url, '/account');
    assert.equal(proxy.stats().inspected, before);
    assert.equal(sink.seen.at(-1)!.method, 'CONNECT');
  });

  it('asks for proxy credentials (407), refuses wrong ones, answers 503 when they cannot be checked, and lets the right ones through', async () => {
    const calls: string[] = [];
    const p = await startProxyServer(
      fixtureProxyDeps(collectingSink(), {
        lookup: everythingLoopback,
        auth: {
          realm: 'School "filter"',
          check: (header) => {
            calls.push(header ?? '');
            if (header === `Basic ${Buffer.from('pupil@school.test:right').toString('base64')}`) return Promise.resolve('ok');
            if (header === `Basic ${Buffer.from('dir@school.test:any').toString('base64')}`) return 'unavailable';
            return 'denied';
          },
        },
      }),
      { host: '127.0.0.1', port: 0 },
    );
    const plainOrigin = await startEchoOrigin();
    try {
      const target = `http://news-example.test:${plainOrigin.port}/x`;
      const none = await rawExchange(p.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(none), 407);
      assert.match(none, /proxy-authenticate: Basic realm="School filter", charset="UTF-8"/i);
      const connect = await rawExchange(p.port, `CONNECT news-example.test:${origin.port} HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.equal(statusOf(connect), 407, 'CONNECT needs credentials too');
      const run407 = await run(
        'curl',
        [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--proxy',
          `http://127.0.0.1:${p.port}`,
          '--proxy-user',
          'pupil@school.test:wrong',
          target,
        ],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(run407.stdout, '407');
      const down = await run(
        'curl',
        [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--proxy',
          `http://127.0.0.1:${p.port}`,
          '--proxy-user',
          'dir@school.test:any',
          target,
        ],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(down.stdout, '503');
      const ok = await run('curl', ['-s', '--proxy', `http://127.0.0.1:${p.port}`, '--proxy-user', 'pupil@school.test:right', target], {
        encoding: 'utf8',
      });
      const seen = JSON.parse(ok.stdout) as EchoSeen;
      assert.equal(seen.headers['proxy-authorization'], undefined, 'credentials never go upstream');
      const pac = await rawExchange(p.port, 'GET /proxy.pac HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf(pac), 200, 'the PAC file needs no sign-in');
      assert.ok(calls.length >= 4);
    } finally {
      await p.close();
      await plainOrigin.close();
    }
  });
});
