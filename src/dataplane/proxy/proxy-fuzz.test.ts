/**
 * A bounded, seeded fuzz of the proxy's request paths (the HTTP parser, absolute-form URLs,
 * CONNECT authorities, upgrades, PAC): valid requests mutated byte by byte and line by line, and
 * pure garbage, sent over raw sockets a few dozen at a time. The proxy must answer or close each
 * one, never throw, and still serve a good request afterwards. Only loopback is ever reached:
 * names resolve to 127.0.0.1 or not at all, and the decision blocks any other host (IP literals
 * skip name resolution).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawExchange, startHttpOrigin, statusOf, type TestOrigin } from '../../../test-support/proxy-origins.ts';
import { collectingSink, fixtureProxyDeps as fixtureDeps } from '../../../test-support/proxy-fixtures.ts';
import { startProxyServer, type ProxyDecision, type ProxyServer } from './server.ts';

const COUNT = 3000;
const PARALLEL = 30;

const safeHost = (h: string | null) => h !== null && (h.endsWith('.test') || h === '127.0.0.1' || h === 'localhost');

/** Anything not on loopback is blocked, so a mutated address never leaves the machine. */
const confine = (d: ProxyDecision): ProxyDecision =>
  safeHost(d.classification.host)
    ? d
    : {
        classification: d.classification,
        decision: {
          action: 'block',
          category: null,
          source: null,
          rule: null,
          layer: 'fallback',
          reason: 'fuzz: off loopback',
          safeSearch: false,
          youtube: 'off',
          flagged: false,
        },
      };

describe('proxy request fuzz', () => {
  let origin: TestOrigin;
  let proxy: ProxyServer;

  before(async () => {
    origin = await startHttpOrigin();
    const base = fixtureDeps(collectingSink(), {
      connectPorts: [origin.port],
      limits: { idleTimeoutMs: 2000, helloTimeoutMs: 300, headersTimeoutMs: 2000, responseTimeoutMs: 1000, connectTimeoutMs: 1000 },
    });
    proxy = await startProxyServer(
      {
        ...base,
        decideNow: (s, r) => {
          const d = base.decideNow(s, r);
          return d && confine(d);
        },
        decide: async (s, r) => confine(await base.decide(s, r)),
      },
      { host: '127.0.0.1', port: 0 },
    );
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it(`survives ${COUNT} random and mutated requests, then serves a good one`, async () => {
    const p = origin.port;
    const corpus = [
      `GET http://allowed.test:${p}/hello HTTP/1.1\r\nHost: allowed.test\r\nAccept: */*\r\n\r\n`,
      `POST http://allowed.test:${p}/echo HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\n\r\nhello`,
      `POST http://allowed.test:${p}/echo HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      `CONNECT allowed.test:${p} HTTP/1.1\r\nHost: allowed.test:${p}\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET http://ws.test:${p}/chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      'GET /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:3128\r\n\r\n',
      `GET http://bet-example.test/ HTTP/1.1\r\nHost: bet-example.test\r\n\r\nGET http://allowed.test:${p}/hello HTTP/1.1\r\nHost: allowed.test\r\n\r\n`,
      `GET http://games-example.test:${p}/hello HTTP/1.0\r\n\r\n`,
    ];
    const pieces = [
      '\r\n',
      '\n',
      '\r',
      '\0',
      ':',
      ' ',
      '\t',
      'Content-Length: 3\r\n',
      'Transfer-Encoding: chunked\r\n',
      '%',
      '[',
      ']',
      '@',
      'ffffffffffff',
      '-1',
      '\x7f',
      '\xff',
    ];
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const mutate = (s: string): Buffer => {
      if (rand(10) === 0) return Buffer.from(Array.from({ length: rand(400) }, () => rand(256)));
      let b = Buffer.from(s, 'latin1');
      const ops = 1 + rand(4);
      for (let i = 0; i < ops; i++) {
        const at = rand(b.length + 1);
        switch (rand(6)) {
          case 0:
            if (b.length > 0) b[rand(b.length)] = rand(256);
            break;
          case 1:
            b = Buffer.concat([b.subarray(0, at), Buffer.from(pieces[rand(pieces.length)]!, 'latin1'), b.subarray(at)]);
            break;
          case 2:
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rand(20))]);
            break;
          case 3: {
            const lines = b.toString('latin1').split('\r\n');
            const j = rand(lines.length);
            lines.splice(j, 0, lines[rand(lines.length)] ?? '');
            b = Buffer.from(lines.join('\r\n'), 'latin1');
            break;
          }
          case 4:
            b = b.subarray(0, at);
            break;
          default:
            b = Buffer.concat([b.subarray(0, at), Buffer.alloc(rand(3000), 0x41 + rand(26)), b.subarray(at)]);
        }
      }
      return b;
    };
    const inputs = Array.from({ length: COUNT }, () => mutate(corpus[rand(corpus.length)]!));
    let next = 0;
    let answered = 0;
    const worker = async () => {
      while (next < inputs.length) {
        const input = inputs[next++]!;
        const raw = await rawExchange(proxy.port, input, 800);
        if (raw.length > 0) answered++;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    assert.ok(answered > COUNT / 2, `answered ${answered} of ${COUNT}`);
    const good = await rawExchange(
      proxy.port,
      `GET http://allowed.test:${p}/hello HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusOf(good), 200);
    assert.match(good, /hello$/);
    // Every connection was closed again: nothing leaks.
    await new Promise((r) => setTimeout(r, 100));
    const s = net.connect(proxy.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.destroy();
    assert.ok(proxy.stats().connections <= 2, `open connections: ${proxy.stats().connections}`);
  });
});
