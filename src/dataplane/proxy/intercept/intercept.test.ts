import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createNetServer, type Server } from 'node:net';
import { connect, TLSSocket, type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
// Through the entry module only, and before @peculiar/x509: it loads reflect-metadata first.
import {
  CaError,
  caCommonName,
  createCa,
  createLeafCache,
  createUpstreamTls,
  initCa,
  leafHostKey,
  loadCa,
  loadInterception,
  MAX_LEAF_VALIDITY_DAYS,
  readCaCertificate,
  type InterceptionCa,
  type NewCa,
} from './index.ts';
import * as x509 from '@peculiar/x509';

const DAY = 86_400_000;
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A TLS server on loopback the way the proxy terminates TLS: the context for the host it expects
 * (the CONNECT host) up front, then the client's SNI, if any, through `contextFor`.
 */
const startTlsServer = async (contextFor: (host: string) => Promise<SecureContext>, expectedHost: string, sni = true) => {
  const server = createNetServer((raw) => {
    raw.on('error', () => undefined);
    void contextFor(expectedHost).then((secureContext) => {
      const socket = new TLSSocket(raw, {
        isServer: true,
        secureContext,
        ...(sni
          ? {
              SNICallback: (name: string, cb: (e: Error | null, ctx?: SecureContext) => void) => {
                contextFor(name).then(
                  (ctx) => cb(null, ctx),
                  (e: unknown) => cb(e as Error),
                );
              },
            }
          : {}),
      });
      socket.on('error', () => undefined);
      socket.on('secure', () => socket.end('hello'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
};

type Outcome = { ok: true; cert: PeerCertificate; body: string } | { ok: false; error: Error };

const handshake = (options: ConnectionOptions): Promise<Outcome> =>
  new Promise((resolve) => {
    const socket = connect(options);
    let body = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (body += d));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.once('end', () => resolve({ ok: true, cert, body }));
    });
    socket.once('error', (error) => resolve({ ok: false, error }));
  });

describe('interception CA', () => {
  let ca: NewCa;
  before(async () => {
    ca = await createCa({ name: 'Oakfield Learning Trust' });
  });

  it('is a P-256 root named for the school, CA with pathLen 0, keyCertSign + cRLSign, 10 years', async () => {
    const cert = new x509.X509Certificate(ca.certPem);
    assert.equal(ca.commonName, 'Haven Oakfield Learning Trust Root CA');
    assert.equal(cert.subject, cert.issuer);
    assert.match(cert.subject, /CN=Haven Oakfield Learning Trust Root CA/);
    assert.match(cert.subject, /O=Oakfield Learning Trust/);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    assert.ok(bc?.ca);
    assert.equal(bc.pathLength, 0);
    assert.equal(bc.critical, true);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.equal((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve, 'P-256');
    const years = (cert.notAfter.getTime() - cert.notBefore.getTime()) / (365.25 * DAY);
    assert.ok(years > 9.99 && years < 10.01, `validity ${years} years`);
    assert.ok(await cert.verify({ signatureOnly: true }));
    assert.match(ca.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(ca.certDer.subarray(0, 1)[0], 0x30); // DER SEQUENCE
  });

  it('uses a random, positive serial', async () => {
    const other = await createCa({ name: 'Oakfield Learning Trust' });
    assert.notEqual(ca.certificate.serialNumber, other.certificate.serialNumber);
    assert.match(ca.certificate.serialNumber, /^[4-7][0-9a-f]{31}$/);
  });

  it('fits a long name into the 64-character CN, and refuses an empty one', () => {
    const cn = caCommonName('The Very Long Name Of A Multi Academy Trust Serving Many Schools In The North');
    assert.ok(cn.length <= 64, cn);
    assert.match(cn, /^Haven The Very Long Name .* Root CA$/);
    assert.throws(
      () => caCommonName('  \n '),
      (e: unknown) => e instanceof CaError && e.code === 'CA_INVALID',
    );
  });

  describe('on disk', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'haven-ca-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('saves the key owner-only (0600) in a 0700 folder, and loads it back', async () => {
      const { ca: saved, key, cert } = await initCa(dir, { name: 'St Mary’s Primary' });
      assert.equal(statSync(key).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(key)).mode & 0o777, 0o700);
      assert.match(readFileSync(cert, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
      assert.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
      const loaded = await loadCa(dir);
      assert.equal(loaded.fingerprintSha256, saved.fingerprintSha256);
      assert.equal(loaded.signingKey.extractable, false);
      assert.equal((await readCaCertificate(dir)).fingerprintSha256, saved.fingerprintSha256);
    });

    it('will not replace a CA without force', async () => {
      await assert.rejects(initCa(dir, { name: 'Other' }), (e: unknown) => e instanceof CaError && e.code === 'CA_EXISTS');
      const before = (await loadCa(dir)).fingerprintSha256;
      await initCa(dir, { name: 'Other', force: true });
      assert.notEqual((await loadCa(dir)).fingerprintSha256, before);
      assert.deepEqual(readdirSync(path.join(dir, 'ca')).sort(), ['ca.crt', 'ca.key']); // no temporary files left
    });

    it('refuses to start with a key that the group or others can read', async () => {
      const key = path.join(dir, 'ca', 'ca.key');
      for (const mode of [0o640, 0o604, 0o660, 0o644]) {
        chmodSync(key, mode);
        await assert.rejects(loadCa(dir), (e: unknown) => {
          assert.ok(e instanceof CaError && e.code === 'CA_KEY_EXPOSED');
          assert.match(e.message, /chmod 600/);
          assert.doesNotMatch(e.message, /PRIVATE KEY/);
          return true;
        });
      }
      chmodSync(key, 0o600);
      await loadCa(dir);
      chmodSync(key, 0o400);
      await loadCa(dir);
    });

    it('refuses a key that is not the certificate’s, and says when there is no CA', async () => {
      const other = mkdtempSync(path.join(tmpdir(), 'haven-ca-'));
      try {
        await assert.rejects(
          loadCa(other),
          (e: unknown) => e instanceof CaError && e.code === 'CA_NOT_FOUND' && /haven ca init/.test(e.message),
        );
        await assert.rejects(readCaCertificate(other), (e: unknown) => e instanceof CaError && e.code === 'CA_NOT_FOUND');
        await initCa(other, { name: 'Elsewhere' });
        writeFileSync(path.join(other, 'ca', 'ca.crt'), readFileSync(path.join(dir, 'ca', 'ca.crt')));
        await assert.rejects(
          loadCa(other),
          (e: unknown) => e instanceof CaError && e.code === 'CA_INVALID' && /does not belong/.test(e.message),
        );
        writeFileSync(path.join(other, 'ca', 'ca.key'), 'not a key', { mode: 0o600 });
        await assert.rejects(loadCa(other), (e: unknown) => e instanceof CaError && e.code === 'CA_INVALID');
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });

    it('refuses an expired CA', async () => {
      await assert.rejects(
        loadCa(dir, { now: new Date(Date.now() + 11 * 365 * DAY) }),
        (e: unknown) => e instanceof CaError && /expired/.test(e.message),
      );
    });
  });
});

describe('leaf certificates', () => {
  let ca: InterceptionCa;
  const servers: Server[] = [];
  before(async () => {
    ca = await createCa({ name: 'Test School' });
  });
  after(() => {
    for (const s of servers) s.close();
  });

  it('a client trusting only the CA completes a handshake and sees the right SAN', async () => {
    const leaves = createLeafCache(ca);
    const { server, port } = await startTlsServer(leaves.contextFor, 'fallback.example');
    servers.push(server);
    const r = await handshake({ host: '127.0.0.1', port, servername: 'www.school-site.example', ca: ca.certPem });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.cert.subjectaltname, 'DNS:www.school-site.example');
    assert.equal(r.cert.subject.CN, 'www.school-site.example');
    assert.equal(r.body, 'hello');
  });

  it('works the same with a CA loaded from disk (the issuer name must match byte for byte)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-ca-'));
    try {
      await initCa(dir, { name: 'St Mary’s C of E Primary — Ælfric Trust' });
      const loaded = await loadCa(dir);
      const { server, port } = await startTlsServer(createLeafCache(loaded).contextFor, 'disk.example');
      servers.push(server);
      const r = await handshake({
        host: '127.0.0.1',
        port,
        servername: 'disk.example',
        ca: readFileSync(path.join(dir, 'ca', 'ca.crt'), 'utf8'),
      });
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      assert.equal(r.cert.issuer.CN, 'Haven St Mary’s C of E Primary — Ælfric Trust Root CA');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails for a host the leaf does not name, and for a client that does not trust the CA', async () => {
    const leaves = createLeafCache(ca);
    // No SNI callback: this server always presents the leaf for a.example.
    const { server, port } = await startTlsServer(leaves.contextFor, 'a.example', false);
    servers.push(server);
    const wrongHost = await handshake({ host: '127.0.0.1', port, servername: 'b.example', ca: ca.certPem });
    assert.ok(!wrongHost.ok);
    assert.equal((wrongHost.error as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    const untrusted = await handshake({ host: '127.0.0.1', port, servername: 'a.example' });
    assert.ok(!untrusted.ok);
    assert.match((untrusted.error as NodeJS.ErrnoException).code ?? '', /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED|UNABLE_TO_VERIFY/);
    const right = await handshake({ host: '127.0.0.1', port, servername: 'a.example', ca: ca.certPem });
    assert.ok(right.ok);
  });

  it('names an IP address with an iPAddress SAN', async () => {
    const leaves = createLeafCache(ca);
    const { server, port } = await startTlsServer(leaves.contextFor, '127.0.0.1');
    servers.push(server);
    const r = await handshake({ host: '127.0.0.1', port, ca: ca.certPem });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.cert.subjectaltname, 'IP Address:127.0.0.1');
    const v6 = await leaves.certificateFor('[2001:DB8::1]');
    assert.equal(v6.host, '2001:db8::1');
    const san = new x509.X509Certificate(v6.certPem).getExtension(x509.SubjectAlternativeNameExtension);
    assert.deepEqual(san?.names.toJSON(), [{ type: 'ip', value: '2001:db8::1' }]);
  });

  it('are server-auth leaves, backdated, at most 397 days and never past the CA', async () => {
    const now = new Date('2027-03-01T12:00:00Z');
    const young = await createCa({ name: 'Clock', now: new Date('2026-01-01T00:00:00Z') });
    const leaves = createLeafCache(young, { now: () => now });
    const leaf = await leaves.certificateFor('Example.COM.');
    assert.equal(leaf.host, 'example.com');
    const cert = new x509.X509Certificate(leaf.certPem);
    assert.ok(cert.notBefore.getTime() < now.getTime() - DAY, 'backdated');
    assert.ok(cert.notAfter.getTime() - cert.notBefore.getTime() <= MAX_LEAF_VALIDITY_DAYS * DAY);
    assert.ok(cert.notAfter.getTime() <= young.notAfter.getTime());
    assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    assert.equal(cert.issuer, young.certificate.subject);
    assert.ok(await cert.verify({ publicKey: young.certificate.publicKey, signatureOnly: true }));

    const late = createLeafCache(young, { now: () => new Date(young.notAfter.getTime() - 10 * DAY) });
    const lateLeaf = await late.certificateFor('example.com');
    assert.equal(lateLeaf.notAfter.getTime(), young.notAfter.getTime());
    const expired = createLeafCache(young, { now: () => new Date(young.notAfter.getTime() + DAY) });
    await assert.rejects(expired.contextFor('example.com'), /expired/);
  });

  it('a name over 64 characters goes only in a critical SAN', async () => {
    const host = `${'a'.repeat(60)}.${'b'.repeat(20)}.example`;
    const leaf = await createLeafCache(ca).certificateFor(host);
    const cert = new x509.X509Certificate(leaf.certPem);
    assert.equal(cert.subject, '');
    assert.equal(cert.getExtension(x509.SubjectAlternativeNameExtension)?.critical, true);
  });

  describe('cache', () => {
    it('mints once per host, and once for concurrent requests', async () => {
      const leaves = createLeafCache(ca);
      const contexts = await Promise.all(Array.from({ length: 20 }, () => leaves.contextFor('shared.example')));
      assert.equal(leaves.minted, 1);
      assert.ok(contexts.every((c) => c === contexts[0]));
      await leaves.contextFor('SHARED.example.');
      assert.equal(leaves.minted, 1);
      await leaves.contextFor('other.example');
      assert.equal(leaves.minted, 2);
      assert.equal(leaves.size, 2);
    });

    it('is bounded, least recently used out first', async () => {
      const leaves = createLeafCache(ca, { max: 3 });
      for (const h of ['a.example', 'b.example', 'c.example']) await leaves.contextFor(h);
      await leaves.contextFor('a.example'); // a is now the most recent
      await leaves.contextFor('d.example'); // evicts b
      assert.equal(leaves.size, 3);
      assert.equal(leaves.minted, 4);
      await leaves.contextFor('a.example');
      assert.equal(leaves.minted, 4);
      await leaves.contextFor('b.example');
      assert.equal(leaves.minted, 5);
    });

    it('mints again after the time to live', async () => {
      let t = Date.now();
      const leaves = createLeafCache(ca, { ttlMs: DAY, now: () => new Date(t) });
      const first = await leaves.certificateFor('ttl.example');
      t += DAY / 2;
      assert.equal((await leaves.certificateFor('ttl.example')).serialNumber, first.serialNumber);
      t += DAY;
      assert.notEqual((await leaves.certificateFor('ttl.example')).serialNumber, first.serialNumber);
      assert.equal(leaves.minted, 2);
    });

    it('rejects names no certificate can carry, without caching them', async () => {
      const leaves = createLeafCache(ca);
      for (const bad of ['', '*.example.com', 'exa mple.com', 'bücher.example', `${'a'.repeat(64)}.example`, 'a..b', '-x.example']) {
        assert.equal(leafHostKey(bad), null, bad);
        await assert.rejects(leaves.contextFor(bad), /Cannot mint/);
      }
      assert.equal(leaves.size, 0);
      assert.equal(leaves.minted, 0);
      assert.equal(leafHostKey('xn--bcher-kva.example'), 'xn--bcher-kva.example');
      assert.equal(leafHostKey('_dmarc.example'), '_dmarc.example');
    });
  });
});

describe('upstream verification', () => {
  let upstreamCa: InterceptionCa;
  let port: number;
  let server: Server;
  let dir: string;
  before(async () => {
    upstreamCa = await createCa({ name: 'Upstream Test' });
    const leaves = createLeafCache(upstreamCa);
    ({ server, port } = await startTlsServer(leaves.contextFor, 'localhost'));
    dir = mkdtempSync(path.join(tmpdir(), 'haven-upstream-'));
    writeFileSync(path.join(dir, 'extra.pem'), upstreamCa.certPem);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a certificate the public roots do not vouch for', async () => {
    const r = await handshake(createUpstreamTls().connectOptions('localhost', port));
    assert.ok(!r.ok);
    assert.match((r.error as NodeJS.ErrnoException).code ?? '', /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('accepts it with the extra CA file, checks the host name, and cannot be told not to', async () => {
    const upstream = createUpstreamTls({ extraCaFile: path.join(dir, 'extra.pem') });
    assert.equal(upstream.extraCaCount, 1);
    const ok = await handshake(upstream.connectOptions('localhost', port));
    assert.ok(ok.ok, ok.ok ? '' : ok.error.message);
    assert.equal(ok.cert.subjectaltname, 'DNS:localhost');
    // By address: no SNI, and the certificate must carry the address.
    const byIp = await startTlsServer(createLeafCache(upstreamCa).contextFor, '127.0.0.1');
    try {
      const ip = await handshake(upstream.connectOptions('127.0.0.1', byIp.port));
      assert.ok(ip.ok, ip.ok ? '' : ip.error.message);
      assert.equal(ip.cert.subjectaltname, 'IP Address:127.0.0.1');
    } finally {
      byIp.server.close();
    }
    const options = upstream.connectOptions('localhost', port, {
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ca: [],
      ALPNProtocols: ['http/1.1'],
    });
    assert.equal(options.rejectUnauthorized, true);
    assert.deepEqual(options.ALPNProtocols, ['http/1.1']);
    assert.equal(options.ca, undefined);
    assert.equal(options.servername, 'localhost');
    assert.equal(upstream.connectOptions('[::1]', 443).servername, undefined);
    assert.equal(upstream.connectOptions('[::1]', 443).host, '::1');
  });

  it('refuses a leaf for another name even from a trusted CA', async () => {
    const upstream = createUpstreamTls({ extraCaFile: path.join(dir, 'extra.pem') });
    // A fixed leaf for a.example served to a client that asked for b.example.
    const { server: other, port: otherPort } = await startTlsServer(createLeafCache(upstreamCa).contextFor, 'a.example', false);
    try {
      const r = await handshake({ ...upstream.connectOptions('b.example', otherPort), host: '127.0.0.1' });
      assert.ok(!r.ok);
      assert.equal((r.error as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      other.close();
    }
  });

  it('names a missing or empty CA file at start', () => {
    assert.throws(() => createUpstreamTls({ extraCaFile: path.join(dir, 'missing.pem') }), /Cannot read the upstream CA file/);
    writeFileSync(path.join(dir, 'empty.pem'), 'nothing here');
    assert.throws(() => createUpstreamTls({ extraCaFile: path.join(dir, 'empty.pem') }), /holds no PEM certificate/);
  });
});

describe('loadInterception', () => {
  const exemptionsFile = path.join(here, '../../../../data/tls-exemptions.json');

  it('loads the CA, leaves, upstream trust and exemptions in one go, and serves a handshake', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-interception-'));
    try {
      await initCa(dir, { name: 'Loader Test' });
      const interception = await loadInterception({
        dataDir: dir,
        exemptionsFile,
        choices: { neverInspectHosts: ['intranet.school.example'] },
      });
      assert.equal(interception.shouldInspect('www.google.com', null), true);
      assert.equal(interception.shouldInspect('www.nhs.uk', null), false);
      assert.equal(interception.shouldInspect('www.childline.org.uk', 'help-services'), false);
      assert.equal(interception.exemptionFor('vle.intranet.school.example', null)?.kind, 'school');
      // It is what the proxy's `intercept` option expects.
      const intercept: { contextFor(host: string): Promise<SecureContext> } = interception;
      const { server, port } = await startTlsServer((host) => intercept.contextFor(host), 'loader.example');
      try {
        const r = await handshake({ host: '127.0.0.1', port, servername: 'loader.example', ca: interception.ca.certPem });
        assert.ok(r.ok, r.ok ? '' : r.error.message);
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops start-up when the CA is missing or exposed, or a setting is wrong', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-interception-'));
    try {
      await assert.rejects(
        loadInterception({ dataDir: dir, exemptionsFile }),
        (e: unknown) => e instanceof CaError && e.code === 'CA_NOT_FOUND',
      );
      await initCa(dir, { name: 'Loader Test' });
      await assert.rejects(loadInterception({ dataDir: dir, exemptionsFile, choices: { neverInspect: ['bank'] } }), /"bank" is neither/);
      await assert.rejects(
        loadInterception({ dataDir: dir, exemptionsFile: path.join(dir, 'missing.json') }),
        /Cannot read the TLS exemptions file/,
      );
      await assert.rejects(
        loadInterception({ dataDir: dir, exemptionsFile, extraCaFile: path.join(dir, 'missing.pem') }),
        /upstream CA file/,
      );
      chmodSync(path.join(dir, 'ca', 'ca.key'), 0o644);
      await assert.rejects(
        loadInterception({ dataDir: dir, exemptionsFile }),
        (e: unknown) => e instanceof CaError && e.code === 'CA_KEY_EXPOSED',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reflect-metadata', () => {
  it('is imported only by the intercept entry module, before anything else', () => {
    const src = path.resolve(here, '../../..');
    const IMPORTS_IT = /^\s*(?:import|export)\b[^;]*['"]reflect-metadata['"]|\b(?:require|import)\(\s*['"]reflect-metadata['"]/m;
    const hits: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const full = path.join(d, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.ts') && IMPORTS_IT.test(readFileSync(full, 'utf8'))) hits.push(path.relative(src, full));
      }
    };
    walk(src);
    assert.deepEqual(hits, [path.join('dataplane', 'proxy', 'intercept', 'index.ts')]);
    const entry = readFileSync(path.join(here, 'index.ts'), 'utf8');
    const firstImport = /^(?:import|export)\s.*$/m.exec(entry)?.[0];
    assert.equal(firstImport, "import 'reflect-metadata';");
  });
});
