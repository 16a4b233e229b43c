import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SLAPD_SUFFIX, slapdSkip, startSlapd, type RunningSlapd } from '../../../test-support/slapd.ts';
import { createLdapAuthenticator, escapeLdapFilterValue, LdapUnavailableError, type LdapAuthenticatorOptions } from './index.ts';

const SERVICE_DN = `cn=haven-proxy,ou=services,${SLAPD_SUFFIX}`;
const SERVICE_PASSWORD = 'service-secret-Δ';
const ALICE_PASSWORD = 'Corr3ct horse (battery)*';
const BOB_PASSWORD = 'bob-p@ss\\word';

const SEED = `dn: ou=people,${SLAPD_SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=staff,${SLAPD_SUFFIX}
objectClass: organizationalUnit
ou: staff

dn: ou=services,${SLAPD_SUFFIX}
objectClass: organizationalUnit
ou: services

dn: ${SERVICE_DN}
objectClass: person
cn: haven-proxy
sn: service
userPassword: ${SERVICE_PASSWORD}

dn: cn=Alice Smith,ou=people,${SLAPD_SUFFIX}
objectClass: user
cn: Alice Smith
sn: Smith
sAMAccountName: asmith
userPrincipalName: asmith@oakfield.sch.uk
mail: alice.smith@oakfield.sch.uk
memberOf: cn=Year 7,ou=groups,${SLAPD_SUFFIX}
memberOf: cn=Pupils,ou=groups,${SLAPD_SUFFIX}
userPassword: ${ALICE_PASSWORD}

dn: cn=No Mail,ou=people,${SLAPD_SUFFIX}
objectClass: user
cn: No Mail
sn: Mail
sAMAccountName: nomail
userPassword: nomail-pw

dn: uid=bob,ou=staff,${SLAPD_SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob Jones
sn: Jones
mail: bob@oakfield.sch.uk
userPassword: ${BOB_PASSWORD}

dn: uid=twin,ou=people,${SLAPD_SUFFIX}
objectClass: inetOrgPerson
uid: twin
cn: Twin One
sn: One
userPassword: twin-pw

dn: uid=twin,ou=staff,${SLAPD_SUFFIX}
objectClass: inetOrgPerson
uid: twin
cn: Twin Two
sn: Two
userPassword: twin-pw
`;

/** A TCP server that counts connections and never answers (an LDAP server that hangs). */
const silentServer = async () => {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ldap://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};

const noPasswordIn = (e: unknown) => {
  assert.ok(e instanceof LdapUnavailableError, String(e));
  for (const secret of [SERVICE_PASSWORD, ALICE_PASSWORD, BOB_PASSWORD, 'wrong-service-pw'])
    assert.ok(!e.message.includes(secret), e.message);
  return true;
};

describe('escapeLdapFilterValue (RFC 4515)', () => {
  it('escapes the filter specials and nothing else', () => {
    assert.equal(escapeLdapFilterValue('a*b(c)d\\e\u0000f'), 'a\\2ab\\28c\\29d\\5ce\\00f');
    assert.equal(escapeLdapFilterValue("o'brien-ßé 名"), "o'brien-ßé 名");
    assert.equal(escapeLdapFilterValue('*)(objectClass=*'), '\\2a\\29\\28objectClass=\\2a');
  });
});

describe('LDAP authenticator options', () => {
  const base: LdapAuthenticatorOptions = { url: 'ldaps://dc.school.local', bindDn: 'cn=x', bindPassword: 'y', baseDn: 'dc=school' };
  it('refuses settings that would leak or weaken', () => {
    assert.throws(() => createLdapAuthenticator({ ...base, url: 'ldap://dc.school.local' }), /StartTLS/);
    createLdapAuthenticator({ ...base, url: 'ldap://dc.school.local', startTls: true });
    createLdapAuthenticator({ ...base, url: 'ldap://127.0.0.1:389', allowPlaintext: true });
    assert.throws(() => createLdapAuthenticator({ ...base, tls: { rejectUnauthorized: false } }), /always verified/);
    assert.throws(() => createLdapAuthenticator({ ...base, url: 'http://dc' }), /ldap:\/\/ or ldaps:\/\//);
    assert.throws(() => createLdapAuthenticator({ ...base, url: 'not a url' }), /not a URL/);
    assert.throws(() => createLdapAuthenticator({ ...base, userFilter: '(uid=alice)' }), /\{username\}/);
    assert.throws(() => createLdapAuthenticator({ ...base, bindPassword: '' }), /bind password is required/);
  });

  it('refuses an empty password without contacting the directory (the anonymous-bind trap)', async () => {
    const silent = await silentServer();
    try {
      const auth = createLdapAuthenticator({ ...base, url: silent.url, allowPlaintext: true, timeoutMs: 500 });
      assert.equal(await auth.authenticate('asmith', ''), null);
      assert.equal(await auth.authenticate('', 'x'), null);
      assert.equal(await auth.authenticate('a'.repeat(300), 'x'), null);
      assert.equal(await auth.authenticate('asmith', 'x'.repeat(2000)), null);
      assert.equal(await auth.authenticate('as\nmith', 'x'), null);
      assert.equal(await auth.authenticate(' asmith', 'x'), null);
      assert.equal(silent.connections(), 0);
    } finally {
      await silent.close();
    }
  });

  it('times out on a directory that does not answer, without the password in the error', async () => {
    const silent = await silentServer();
    try {
      const auth = createLdapAuthenticator({
        ...base,
        url: silent.url,
        allowPlaintext: true,
        bindPassword: SERVICE_PASSWORD,
        timeoutMs: 300,
      });
      const started = Date.now();
      await assert.rejects(
        auth.authenticate('asmith', ALICE_PASSWORD),
        (e: unknown) => noPasswordIn(e) && /service account/.test((e as Error).message),
      );
      assert.ok(Date.now() - started < 5000);
      assert.equal(silent.connections(), 1);
    } finally {
      await silent.close();
    }
  });

  it('says the directory is unavailable when nothing listens', async () => {
    const silent = await silentServer();
    const url = silent.url;
    await silent.close();
    const auth = createLdapAuthenticator({ ...base, url, allowPlaintext: true, timeoutMs: 1000 });
    await assert.rejects(auth.authenticate('asmith', ALICE_PASSWORD), noPasswordIn);
  });
});

describe('LDAP authenticator against slapd', { skip: slapdSkip() }, () => {
  let slapd: RunningSlapd;
  const options = (more: Partial<LdapAuthenticatorOptions> = {}): LdapAuthenticatorOptions => ({
    url: slapd.url,
    bindDn: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    baseDn: SLAPD_SUFFIX,
    allowPlaintext: true,
    timeoutMs: 3000,
    ...more,
  });
  before(async () => {
    slapd = await startSlapd({ tls: true });
    slapd.add(SEED);
  });
  after(async () => {
    await slapd.stop();
  });

  it('Active Directory defaults: finds the user by sAMAccountName and returns email, UPN and groups', async () => {
    const auth = createLdapAuthenticator(options());
    assert.deepEqual(await auth.authenticate('asmith', ALICE_PASSWORD), {
      username: 'asmith',
      dn: `cn=Alice Smith,ou=people,${SLAPD_SUFFIX}`,
      email: 'alice.smith@oakfield.sch.uk',
      upn: 'asmith@oakfield.sch.uk',
      groups: [`cn=Year 7,ou=groups,${SLAPD_SUFFIX}`, `cn=Pupils,ou=groups,${SLAPD_SUFFIX}`],
    });
    // Directory matching is case-insensitive; the directory's spelling comes back.
    assert.equal((await auth.authenticate('ASmith', ALICE_PASSWORD))?.username, 'asmith');
    assert.deepEqual(await auth.authenticate('nomail', 'nomail-pw'), {
      username: 'nomail',
      dn: `cn=No Mail,ou=people,${SLAPD_SUFFIX}`,
      email: null,
    });
  });

  it('wrong passwords and unknown users are null', async () => {
    const auth = createLdapAuthenticator(options());
    assert.equal(await auth.authenticate('asmith', 'wrong'), null);
    assert.equal(await auth.authenticate('asmith', ALICE_PASSWORD.toUpperCase()), null);
    assert.equal(await auth.authenticate('nobody', ALICE_PASSWORD), null);
    assert.equal(await auth.authenticate('asmith', ''), null);
  });

  it('filter input is escaped: wildcards and filter syntax in the username match nothing', async () => {
    const auth = createLdapAuthenticator(options());
    for (const username of ['asmi*', '*', 'asmith)(objectClass=*', '*)(sAMAccountName=asmith', 'asmith\\', '(asmith)'])
      assert.equal(await auth.authenticate(username, ALICE_PASSWORD), null, username);
  });

  it('OpenLDAP defaults: uid, and no UPN', async () => {
    const auth = createLdapAuthenticator(options({ flavour: 'openldap' }));
    assert.deepEqual(await auth.authenticate('bob', BOB_PASSWORD), {
      username: 'bob',
      dn: `uid=bob,ou=staff,${SLAPD_SUFFIX}`,
      email: 'bob@oakfield.sch.uk',
    });
    assert.equal(await auth.authenticate('bob', 'bob-p@ss'), null);
  });

  it('a username that matches two entries is refused, never guessed', async () => {
    const auth = createLdapAuthenticator(options({ flavour: 'openldap' }));
    assert.equal(await auth.authenticate('twin', 'twin-pw'), null);
    const narrowed = createLdapAuthenticator(options({ flavour: 'openldap', baseDn: `ou=staff,${SLAPD_SUFFIX}` }));
    assert.equal((await narrowed.authenticate('twin', 'twin-pw'))?.dn, `uid=twin,ou=staff,${SLAPD_SUFFIX}`);
  });

  it('a custom filter and attributes', async () => {
    const auth = createLdapAuthenticator(
      options({ userFilter: '(|(mail={username})(uid={username}))', attributes: { username: 'uid', email: 'mail', upn: '', groups: '' } }),
    );
    assert.equal((await auth.authenticate('bob@oakfield.sch.uk', BOB_PASSWORD))?.username, 'bob');
  });

  it('a refused service account is "unavailable", not a wrong user password, and names no password', async () => {
    const auth = createLdapAuthenticator(options({ bindPassword: 'wrong-service-pw' }));
    await assert.rejects(
      auth.authenticate('asmith', ALICE_PASSWORD),
      (e: unknown) => noPasswordIn(e) && /InvalidCredentials/.test((e as Error).message),
    );
  });

  it('ldaps:// and StartTLS verify the directory’s certificate against the CA given', async () => {
    const ca = slapd.caPem!;
    const ldaps = createLdapAuthenticator(options({ url: slapd.ldapsUrl!, allowPlaintext: false, tls: { ca } }));
    assert.equal((await ldaps.authenticate('asmith', ALICE_PASSWORD))?.username, 'asmith');
    const startTls = createLdapAuthenticator(options({ allowPlaintext: false, startTls: true, tls: { ca } }));
    assert.equal((await startTls.authenticate('asmith', ALICE_PASSWORD))?.username, 'asmith');
    assert.equal(await startTls.authenticate('asmith', 'wrong'), null);
    // Without the CA the public roots do not vouch for it: unavailable, never a silent downgrade.
    const untrusted = createLdapAuthenticator(options({ url: slapd.ldapsUrl!, allowPlaintext: false }));
    await assert.rejects(
      untrusted.authenticate('asmith', ALICE_PASSWORD),
      (e: unknown) => noPasswordIn(e) && /certificate|issuer/i.test((e as Error).message),
    );
    const untrustedStartTls = createLdapAuthenticator(options({ allowPlaintext: false, startTls: true }));
    await assert.rejects(
      untrustedStartTls.authenticate('asmith', ALICE_PASSWORD),
      (e: unknown) => noPasswordIn(e) && /StartTLS/.test((e as Error).message),
    );
  });

  it('anonymous users cannot search this directory (why a service account is needed)', async () => {
    const { Client } = await import('ldapts');
    const client = new Client({ url: slapd.url, timeout: 3000 });
    try {
      // slapd hides even the base entry from anonymous users.
      await assert.rejects(
        client.search(SLAPD_SUFFIX, { filter: '(sAMAccountName=asmith)' }),
        (e: unknown) => (e as Error).name === 'NoSuchObjectError',
      );
    } finally {
      await client.unbind();
    }
  });
});
