/**
 * Many connections at once, bounded and on loopback: 1,000 CONNECT tunnels and 1,000 kept-alive
 * HTTP clients held open together, each served, then all closed; the proxy's connection count
 * and per-client table go back to zero (nothing is kept per connection after it closes).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { collectingSink, fixtureProxyDeps } from '../../../test-support/proxy-fixtures.ts';
import { startHttpOrigin, type TestOrigin } from '../../../test-support/proxy-origins.ts';
import { startProxyServer, type ProxyServer } from './server.ts';

const EACH = 1000;
const BATCH = 100;

/** Sends `data` and resolves with the socket once `until` shows up in what came back. */
const exchange = (port: number, data: string, until: RegExp): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no answer: ${got.slice(0, 100)}`)), 15_000);
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until.test(got)) {
        clearTimeout(timer);
        resolve(s);
      }
    });
    s.write(data);
  });

describe('proxy under many concurrent connections', () => {
  let origin: TestOrigin;
  let proxy: ProxyServer;
  const sink = collectingSink();

  before(async () => {
    origin = await startHttpOrigin();
    proxy = await startProxyServer(fixtureProxyDeps(sink, { limits: { maxConnectionsPerClient: 10_000 } }), { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await proxy.close();
    await origin.close();
  });

  it(`holds ${EACH} tunnels and ${EACH} kept-alive clients at once, then lets every one go`, async () => {
    const held: net.Socket[] = [];
    try {
      const tunnel = () =>
        exchange(
          proxy.port,
          `CONNECT allowed.test:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: allowed.test\r\n\r\n`,
          /hello$/,
        );
      const keptAlive = () =>
        exchange(proxy.port, `GET http://allowed.test:${origin.port}/hello HTTP/1.1\r\nHost: allowed.test\r\n\r\n`, /hello$/);
      for (let i = 0; i < EACH; i += BATCH) {
        held.push(...(await Promise.all(Array.from({ length: BATCH }, tunnel))));
        held.push(...(await Promise.all(Array.from({ length: BATCH }, keptAlive))));
      }
      assert.equal(held.length, 2 * EACH);
      assert.equal(proxy.stats().connections, 2 * EACH, 'every client connection is still open');
      assert.equal(proxy.stats().tunnels, EACH);
    } finally {
      for (const s of held) s.destroy();
    }
    const deadline = Date.now() + 10_000;
    while (proxy.stats().connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(proxy.stats().connections, 0);
    assert.equal(sink.seen.length, 2 * EACH);
  });
});
