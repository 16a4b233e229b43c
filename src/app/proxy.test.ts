/**
 * The proxy built from a real Haven (embedded SQLite in a temporary data directory): the school
 * the identity directory knows, the filter runtime's decisions (the illegal tier's canary with no
 * lists imported), events in the database after a flush, and the configured limits and PAC.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ILLEGAL_CANARY } from '../core/index.ts';
import { systemContext } from '../services/index.ts';
import { rawExchange, startHttpOrigin, statusOf, type TestOrigin } from '../../test-support/proxy-origins.ts';
import { openHaven, type Haven } from './compose.ts';
import { loadConfig } from './config.ts';
import { createProxyStack, type ProxyStack } from './proxy.ts';

describe('proxy stack', () => {
  let dir: string;
  let haven: Haven;
  let stack: ProxyStack;
  let origin: TestOrigin;
  let port: number;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-stack-'));
    haven = await openHaven(
      loadConfig({
        HAVEN_DATA_DIR: dir,
        HAVEN_PROXY_PORT: '0',
        HAVEN_PROXY_CONNECT_PORTS: 'any',
        HAVEN_PROXY_BYPASS: 'intranet.school.test',
        HAVEN_PROXY_MAX_CONNECTIONS_PER_CLIENT: '40',
      }),
    );
    await haven.services.tenancy.ensureTrust('Test Trust');
    await haven.services.tenancy.createSchool(systemContext('test'), { name: 'Proxy Primary' });
    origin = await startHttpOrigin();
    stack = await createProxyStack(haven);
    port = (await stack.listen()).port;
  });
  after(async () => {
    await stack?.close();
    await origin?.close();
    await haven?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the proxy settings from the environment', () => {
    assert.equal(stack.deps.connectPorts, 'any');
    assert.equal(stack.deps.limits?.maxConnectionsPerClient, 40);
    assert.deepEqual(loadConfig({}).proxyConnectPorts, [443]);
    assert.equal(loadConfig({ HAVEN_HOST: '0.0.0.0' }).proxyHost, '0.0.0.0');
    assert.deepEqual(loadConfig({ HAVEN_PROXY_CONNECT_PORTS: '443, 8443' }).proxyConnectPorts, [443, 8443]);
    assert.throws(() => loadConfig({ HAVEN_PROXY_CONNECT_PORTS: '443,x' }), /HAVEN_PROXY_CONNECT_PORTS/);
  });

  it('forwards an allowed request and blocks the illegal tier, writing both events to the database', async () => {
    const ok = await rawExchange(
      port,
      `GET http://127.0.0.1:${origin.port}/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusOf(ok), 200);
    assert.match(ok, /hello$/);
    const blocked = await rawExchange(port, `GET http://${DEFAULT_ILLEGAL_CANARY}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(statusOf(blocked), 403);
    await stack.events.flush();
    const rows = await haven.services.deps.store.events.query({ schoolIds: 'all', source: 'proxy', limit: 10 });
    assert.deepEqual(rows.map((r) => [r.host, r.action]).sort(), [
      ['127.0.0.1', 'allow'],
      [DEFAULT_ILLEGAL_CANARY, 'block'],
    ]);
    assert.ok(rows.every((r) => r.schoolId !== null && r.clientIp === '127.0.0.1'));
  });

  it('serves a PAC file with the bypass domains', async () => {
    const pac = await (await fetch(`http://127.0.0.1:${port}/proxy.pac`)).text();
    assert.match(pac, /intranet\.school\.test/);
    assert.match(pac, new RegExp(`PROXY 127\\.0\\.0\\.1:${port}`));
  });
});
