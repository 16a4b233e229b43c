/**
 * A real OpenLDAP slapd (Debian's slapd) on 127.0.0.1 for LDAP tests: an mdb database in a temp
 * folder, the core/cosine/inetorgperson schemas plus a four-line stand-in for Active Directory's
 * `user` class (sAMAccountName, userPrincipalName, memberOf), seeded through ldapadd. Passwords
 * are readable only for binding; anonymous users see nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

export const SLAPD = '/usr/sbin/slapd';
export const LDAPADD = '/usr/bin/ldapadd';

export const OPENSSL = '/usr/bin/openssl';

/** Skip reason when slapd, ldapadd or openssl (for the TLS certificates) is missing; never a skip under CI=true (the test then fails). */
export const slapdSkip = (): string | false =>
  [SLAPD, LDAPADD, OPENSSL].every((f) => existsSync(f)) || process.env.CI === 'true'
    ? false
    : `needs ${SLAPD}, ${LDAPADD} and ${OPENSSL} (Debian slapd, ldap-utils, openssl)`;

export const SLAPD_SUFFIX = 'dc=haven,dc=test';
export const SLAPD_ROOT_DN = `cn=admin,${SLAPD_SUFFIX}`;

export interface RunningSlapd {
  url: string;
  port: number;
  /** With `tls`: "ldaps://127.0.0.1:port", and the PEM of the throwaway CA that signed slapd's certificate. */
  ldapsUrl?: string;
  caPem?: string;
  rootDn: string;
  rootPassword: string;
  process: ChildProcess;
  /** Adds entries (LDIF) through the running server as the root DN. */
  add(ldif: string): void;
  /** Stops slapd by its PID and removes its folder. */
  stop(): Promise<void>;
}

// OIDs under OpenLDAP's experimental arc: a test schema, never for production.
const AD_LIKE_SCHEMA = `attributetype ( 1.3.6.1.4.1.4203.666.11.9999.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.9999.2 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.9999.3 NAME 'memberOf' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.3.6.1.4.1.4203.666.11.9999.4 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( sAMAccountName $ userPrincipalName $ memberOf ) )
`;

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const openssl = (args: string[], cwd: string) => {
  const r = spawnSync(OPENSSL, args, { cwd, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0] ?? ''} failed: ${r.error?.message ?? r.stderr}`);
};

/** A throwaway CA and a certificate for 127.0.0.1 (only: a client must check the address it dialled) it signed, valid for a day. */
const makeTlsFiles = (dir: string) => {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-subj',
      '/CN=Haven slapd test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
    ],
    dir,
  );
  openssl(['req', '-new', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    ],
    dir,
  );
  return { caPem: readFileSync(path.join(dir, 'ca.crt'), 'utf8') };
};

/**
 * Starts slapd with the suffix entry and resolves once it accepts connections (10 s at most).
 * With `tls`, slapd also serves ldaps:// and StartTLS with a certificate from a throwaway CA
 * (made with the openssl command).
 */
export const startSlapd = async (options: { tls?: boolean } = {}): Promise<RunningSlapd> => {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-slapd-'));
  mkdirSync(path.join(dir, 'db'));
  const tls = options.tls ? makeTlsFiles(dir) : null;
  writeFileSync(path.join(dir, 'ad-like.schema'), AD_LIKE_SCHEMA);
  const rootPassword = `root-${process.pid}-${Date.now()}`;
  writeFileSync(
    path.join(dir, 'slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `include ${path.join(dir, 'ad-like.schema')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${path.join(dir, 'slapd.pid')}`,
      ...(tls ? [`TLSCertificateFile ${path.join(dir, 'server.crt')}`, `TLSCertificateKeyFile ${path.join(dir, 'server.key')}`] : []),
      'database mdb',
      `suffix "${SLAPD_SUFFIX}"`,
      `rootdn "${SLAPD_ROOT_DN}"`,
      `rootpw ${rootPassword}`,
      `directory ${path.join(dir, 'db')}`,
      'access to attrs=userPassword by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const listen = ldapsUrl ? `${url}/ ${ldapsUrl}/` : `${url}/`;
  // -d keeps it in the foreground (so the PID is ours to stop); level 0 logs nothing.
  const proc = spawn(SLAPD, ['-d', '0', '-h', listen, '-f', path.join(dir, 'slapd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        cleanup();
        resolve();
        return;
      }
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        cleanup();
        resolve();
      });
      proc.kill('SIGTERM');
    });
  const add = (ldif: string) => {
    const r = spawnSync(LDAPADD, ['-x', '-H', url, '-D', SLAPD_ROOT_DN, '-w', rootPassword], {
      input: ldif,
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (r.status !== 0) throw new Error(`ldapadd failed (${r.status}): ${r.stderr}`);
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) {
      cleanup();
      throw new Error(`slapd exited (${proc.exitCode}): ${stderr}`);
    }
    if (await listening(port)) {
      add(`dn: ${SLAPD_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: haven\no: Haven test\n`);
      return {
        url,
        port,
        ...(ldapsUrl && tls ? { ldapsUrl, caPem: tls.caPem } : {}),
        rootDn: SLAPD_ROOT_DN,
        rootPassword,
        process: proc,
        add,
        stop,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`slapd did not start: ${stderr}`);
};
