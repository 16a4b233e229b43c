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
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_ILLEGAL_CANARY } from '../core/index.ts';
import { roleGrant } from '../../test-support/api-harness.ts';
import { systemContext } from '../services/index.ts';
import { rawExchange, startHttpOrigin, statusOf, type TestOrigin } from '../../test-support/proxy-origins.ts';
import { SLAPD_SUFFIX, slapdSkip, startSlapd, type RunningSlapd } from '../../test-support/slapd.ts';
import { openHaven, type Haven } from './compose.ts';
import { loadConfig } from './config.ts';
import { createProxyStack, staticLookup, type ProxyStack } from './proxy.ts';

const run = promisify(execFile);

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

  it('lets a person through a warning once Haven has recorded their choice to go on (shared with DNS)', async () => {
    const identity = haven.services.identity.identify({ ip: '10.9.8.7' })!;
    const wentOn = stack.deps.warnContinued!;
    assert.equal(wentOn(identity, '10.9.8.7', 'games.example'), false);
    const now = Date.now();
    await haven.services.deps.store.warnContinues.append({
      schoolId: identity.schoolId,
      host: 'games.example',
      category: 'games',
      personId: null,
      clientIp: '10.9.8.7',
      at: new Date(now).toISOString(),
      until: new Date(now + 3_600_000).toISOString(),
    });
    await haven.services.warnContinues.poll();
    assert.equal(wentOn(identity, '10.9.8.7', 'www.games.example'), true);
    assert.equal(wentOn(identity, '10.9.8.8', 'games.example'), false, 'a guest’s choice is for their address');
  });

  it('renders Haven’s block and warn pages (the school’s, with their buttons), not the plain default', () => {
    const identity = haven.services.identity.identify({ ip: '10.9.8.7' })!;
    const page = (action: 'block' | 'warn') =>
      stack.deps.blockPage!({
        host: 'bet.example',
        url: 'http://bet.example/<script>',
        category: 'gambling',
        action,
        identity,
        reason: 'r',
        illegal: false,
        clientIp: '10.9.8.7',
        continueUrl: null,
      }).body;
    assert.match(page('warn'), /\/continue\?t=/, 'the warning goes on through Haven’s recorded /continue');
    assert.match(page('block'), /\/unblock\?kind=unblock/);
    assert.doesNotMatch(page('block'), /<script>/);
  });

  it('serves a PAC file with the bypass domains', async () => {
    const pac = await (await fetch(`http://127.0.0.1:${port}/proxy.pac`)).text();
    assert.match(pac, /intranet\.school\.test/);
    assert.match(pac, new RegExp(`PROXY 127\\.0\\.0\\.1:${port}`));
  });
});

const sendThrough = (proxyPort: number, target: string, user?: string) =>
  run(
    'curl',
    ['-s', '-i', '--max-time', '10', '--proxy', `http://127.0.0.1:${proxyPort}`, ...(user ? ['--proxy-user', user] : []), target],
    {
      encoding: 'utf8',
    },
  ).then((r) => r.stdout);

describe('proxy stack: Haven block pages, interception start-up, events', () => {
  it('refuses to start with HAVEN_PROXY_INTERCEPT=on and no CA, saying to run haven ca init', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-noca-'));
    const haven = await openHaven(loadConfig({ HAVEN_DATA_DIR: dir, HAVEN_PROXY_PORT: '0', HAVEN_PROXY_INTERCEPT: 'on' }));
    try {
      await assert.rejects(createProxyStack(haven), /haven ca init/);
      assert.throws(() => loadConfig({ HAVEN_PROXY_INTERCEPT: 'maybe' }), /HAVEN_PROXY_INTERCEPT must be off, on/);
      assert.throws(() => loadConfig({ HAVEN_PROXY_AUTH: 'kerberos' }), /HAVEN_PROXY_AUTH/);
      assert.throws(() => loadConfig({ HAVEN_LDAP_URL: 'ldaps://dc' }), /HAVEN_LDAP_BIND_PASSWORD/);
      assert.throws(() => loadConfig({ HAVEN_PROXY_RESOLVE: 'intranet.school=not-an-address' }), /HAVEN_PROXY_RESOLVE/);
      const names = loadConfig({ HAVEN_PROXY_RESOLVE: 'Intranet.School.=10.0.0.5, v6.school=::1' }).proxyResolve;
      assert.deepEqual(names, { 'intranet.school': '10.0.0.5', 'v6.school': '::1' });
      const lookup = staticLookup(names)!;
      const found = await new Promise<unknown>((resolve) => lookup('INTRANET.school', { all: true }, (_e, a) => resolve(a)));
      assert.deepEqual(found, [{ address: '10.0.0.5', family: 4 }]);
      assert.equal(staticLookup({}), undefined);
    } finally {
      await haven.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('proxy stack: Basic sign-in against Haven users', () => {
  let dir: string;
  let haven: Haven;
  let stack: ProxyStack;
  let origin: TestOrigin;
  let port: number;
  let personId: string;
  let verifications = 0;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-basic-'));
    haven = await openHaven(
      loadConfig({
        HAVEN_DATA_DIR: dir,
        HAVEN_PROXY_PORT: '0',
        HAVEN_PROXY_AUTH: 'basic',
        HAVEN_PROXY_AUTH_REALM: 'Oakfield filter',
        HAVEN_MAX_FAILED_LOGINS: '3',
      }),
    );
    await haven.services.tenancy.ensureTrust('Test Trust');
    const school = await haven.services.tenancy.createSchool(systemContext('test'), { name: 'Proxy Primary' });
    const admin = { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null };
    const person = await haven.services.people.create(admin, school.id, {
      kind: 'staff',
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@school.example',
    });
    personId = person.id;
    for (const email of ['grace@school.example', 'locked@school.example'])
      await haven.services.users.create(admin, {
        email,
        displayName: 'Staff',
        grants: [roleGrant('staff', school.id)],
        password: 'a proxy password 123',
      });
    const service = haven.services.proxyAuth;
    const verify = service.verifyPassword.bind(service);
    service.verifyPassword = (...args) => {
      verifications++;
      return verify(...args);
    };
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

  it('asks for a sign-in (407), refuses a wrong password, and lets the right one through, checking it once', async () => {
    const target = `http://127.0.0.1:${origin.port}/hello`;
    const none = await sendThrough(port, target);
    assert.match(none, /^HTTP\/1\.1 407/);
    assert.match(none, /proxy-authenticate: Basic realm="Oakfield filter"/i);
    assert.match(await sendThrough(port, target, 'grace@school.example:wrong password'), /^HTTP\/1\.1 407/);
    const before = verifications;
    const ok = await sendThrough(port, target, 'grace@school.example:a proxy password 123');
    assert.match(ok, /^HTTP\/1\.1 200/);
    assert.match(await sendThrough(port, target, 'Grace@school.example:a proxy password 123'), /^HTTP\/1\.1 200/);
    assert.equal(verifications - before, 1, 'a verified sign-in is remembered: argon2 runs once');
    // The sign-in is on the login feed: this address is Grace, for the proxy and the DNS filter.
    assert.equal(haven.services.identity.identify({ ip: '127.0.0.1' })?.personId, personId);
    await stack.events.flush();
    const rows = await haven.services.deps.store.events.query({ schoolIds: 'all', source: 'proxy', limit: 5 });
    assert.equal(rows[0]?.personId, personId);
  });

  it('counts wrong passwords towards the lock-out, and a locked account is refused even with the right password', async () => {
    const target = `http://127.0.0.1:${origin.port}/hello`;
    for (let i = 0; i < 3; i++) assert.match(await sendThrough(port, target, `locked@school.example:wrong ${i}`), /^HTTP\/1\.1 407/);
    const user = await haven.services.deps.store.users.findByEmail('locked@school.example');
    assert.ok(user?.lockedUntil, 'locked after three failures');
    assert.match(await sendThrough(port, target, 'locked@school.example:a proxy password 123'), /^HTTP\/1\.1 407/);
  });

  it('requires the sign-in for CONNECT as well', async () => {
    const r = await rawExchange(port, `CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n`);
    assert.equal(statusOf(r), 407);
  });
});

describe('proxy stack: sign-in against LDAP (slapd)', { skip: slapdSkip() }, () => {
  let dir: string;
  let haven: Haven;
  let stack: ProxyStack;
  let origin: TestOrigin;
  let slapd: RunningSlapd;
  let port: number;
  let personId: string;
  const SERVICE_DN = `cn=haven-proxy,${SLAPD_SUFFIX}`;

  before(async () => {
    slapd = await startSlapd();
    slapd.add(`dn: ${SERVICE_DN}
objectClass: person
cn: haven-proxy
sn: service
userPassword: service-secret

dn: cn=Alice Smith,${SLAPD_SUFFIX}
objectClass: user
cn: Alice Smith
sn: Smith
sAMAccountName: asmith
mail: alice.smith@oakfield.sch.uk
userPassword: alice-password
`);
    dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-ldap-'));
    haven = await openHaven(
      loadConfig({
        HAVEN_DATA_DIR: dir,
        HAVEN_PROXY_PORT: '0',
        HAVEN_PROXY_AUTH: 'ldap',
        HAVEN_LDAP_URL: slapd.url,
        HAVEN_LDAP_BIND_DN: SERVICE_DN,
        HAVEN_LDAP_BIND_PASSWORD: 'service-secret',
        HAVEN_LDAP_BASE_DN: SLAPD_SUFFIX,
        HAVEN_LDAP_ALLOW_PLAINTEXT: 'true',
        HAVEN_LDAP_TIMEOUT_MS: '1000',
      }),
    );
    await haven.services.tenancy.ensureTrust('Test Trust');
    const school = await haven.services.tenancy.createSchool(systemContext('test'), { name: 'Proxy Primary' });
    const admin = { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null };
    personId = (
      await haven.services.people.create(admin, school.id, {
        kind: 'staff',
        firstName: 'Alice',
        lastName: 'Smith',
        email: 'alice.smith@oakfield.sch.uk',
      })
    ).id;
    origin = await startHttpOrigin();
    stack = await createProxyStack(haven);
    port = (await stack.listen()).port;
  });
  after(async () => {
    await stack?.close();
    await origin?.close();
    await haven?.close();
    await slapd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('checks the directory: 407 for wrong, through for right (the person by their directory email), 503 when it is down', async () => {
    const target = `http://127.0.0.1:${origin.port}/hello`;
    assert.match(await sendThrough(port, target), /^HTTP\/1\.1 407/);
    assert.match(await sendThrough(port, target, 'asmith:wrong'), /^HTTP\/1\.1 407/);
    assert.match(await sendThrough(port, target, 'asmith:alice-password'), /^HTTP\/1\.1 200/);
    assert.equal(haven.services.identity.identify({ ip: '127.0.0.1' })?.personId, personId);
    await slapd.stop();
    assert.match(await sendThrough(port, target, 'asmith:another-password'), /^HTTP\/1\.1 503/);
    // A sign-in verified before the directory went down is still remembered for a few minutes.
    assert.match(await sendThrough(port, target, 'asmith:alice-password'), /^HTTP\/1\.1 200/);
  });
});
