/**
 * Proxy authentication against Active Directory or OpenLDAP (ldapts): the proxy's Basic
 * credentials are checked by searching for the user as a service account, then binding as the
 * user found. Haven never stores these passwords.
 *
 * Configuration (the environment variables the composition root maps onto the options):
 *
 * | variable | option | default |
 * |---|---|---|
 * | `HAVEN_LDAP_URL` | `url`: `ldaps://dc1.school.local:636` or `ldap://…` (with `startTls` or `allowPlaintext`) | — (LDAP off) |
 * | `HAVEN_LDAP_BIND_DN` | `bindDn`: the service account, e.g. `CN=haven-proxy,OU=Service Accounts,DC=school,DC=local` | — |
 * | `HAVEN_LDAP_BIND_PASSWORD` (or `_FILE`) | `bindPassword` | — |
 * | `HAVEN_LDAP_BASE_DN` | `baseDn`: where users are searched, e.g. `DC=school,DC=local` | — |
 * | `HAVEN_LDAP_FLAVOUR` | `flavour`: `ad` or `openldap` (picks the filter and attributes below) | `ad` |
 * | `HAVEN_LDAP_USER_FILTER` | `userFilter`, with `{username}` where the escaped name goes | AD `(&(objectClass=user)(sAMAccountName={username}))`, OpenLDAP `(uid={username})` |
 * | `HAVEN_LDAP_EMAIL_ATTRIBUTE`, `HAVEN_LDAP_UPN_ATTRIBUTE`, `HAVEN_LDAP_GROUPS_ATTRIBUTE` | `attributes` | `mail`; AD `userPrincipalName`; `memberOf` |
 * | `HAVEN_LDAP_TIMEOUT_MS` | `timeoutMs`: per connection and per operation | 5000 |
 * | `HAVEN_LDAP_STARTTLS` | `startTls`: upgrade `ldap://` before binding | false |
 * | `HAVEN_LDAP_CA_FILE` | `tls.ca`: the directory's CA (an internal AD CA) | the public roots |
 * | `HAVEN_LDAP_ALLOW_PLAINTEXT` | `allowPlaintext`: permit `ldap://` without StartTLS (passwords in clear: lab use only) | false |
 *
 * Behaviour:
 * - An empty password is refused before any network traffic: with a DN and no password an LDAP
 *   "simple bind" is an unauthenticated bind, which Active Directory answers with success.
 * - The username is escaped for the filter (RFC 4515), so `*`, `(`, `)` and `\` cannot widen the
 *   search; no match or more than one match is a failed login.
 * - `authenticate` resolves null for wrong credentials or an unknown user, and rejects with an
 *   `LdapUnavailableError` when the directory cannot be asked (down, timeout, bad service
 *   account): the proxy should then answer 503, not 407. Errors never contain a password.
 * - Certificates are always verified; `rejectUnauthorized: false` is refused (give `tls.ca`).
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';

export type LdapFlavour = 'ad' | 'openldap';

export interface LdapAuthenticatorOptions {
  readonly url: string;
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly baseDn: string;
  readonly flavour?: LdapFlavour;
  /** Search filter with `{username}` (replaced by the escaped username, every occurrence). */
  readonly userFilter?: string;
  readonly attributes?: {
    /** The directory's own spelling of the username (default sAMAccountName / uid). */
    readonly username?: string;
    readonly email?: string;
    /** Set to '' to skip. */
    readonly upn?: string;
    /** Set to '' to skip. */
    readonly groups?: string;
  };
  readonly timeoutMs?: number;
  readonly startTls?: boolean;
  readonly tls?: ConnectionOptions;
  readonly allowPlaintext?: boolean;
}

export interface LdapUser {
  /** As the directory spells it (falls back to what was typed). */
  readonly username: string;
  readonly dn: string;
  readonly email: string | null;
  readonly upn?: string;
  /** Group DNs (memberOf), when the directory gives them. */
  readonly groups?: readonly string[];
}

export interface LdapAuthenticator {
  /** The user for these credentials, or null when they are wrong. Rejects only when the directory cannot be asked. */
  authenticate(username: string, password: string): Promise<LdapUser | null>;
}

/** The directory could not be asked (down, timed out, service account refused). The message names no password. */
export class LdapUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LdapUnavailableError';
  }
}

const DEFAULTS: Record<LdapFlavour, { filter: string; username: string; email: string; upn: string; groups: string }> = {
  ad: {
    filter: '(&(objectClass=user)(sAMAccountName={username}))',
    username: 'sAMAccountName',
    email: 'mail',
    upn: 'userPrincipalName',
    groups: 'memberOf',
  },
  openldap: { filter: '(uid={username})', username: 'uid', email: 'mail', upn: '', groups: 'memberOf' },
};

/** Longest username or password taken (longer is refused, not truncated). */
const MAX_USERNAME = 256;
const MAX_PASSWORD = 1024;

/**
 * RFC 4515 value escaping: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`.
 * Everything else (UTF-8 included) is left as is, as the RFC allows.
 */
export const escapeLdapFilterValue = (value: string): string =>
  value.replace(/[*()\\\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const first = (entry: Entry, attribute: string): string | null => {
  if (!attribute) return null;
  // ldapts keys attributes as the server spells them; match case-insensitively as LDAP does.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (!key) return null;
  const v = entry[key];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return null;
  return typeof one === 'string' ? one : one.toString('utf8');
};

const all = (entry: Entry, attribute: string): string[] => {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (!key) return [];
  const v = entry[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (typeof x === 'string' ? x : x.toString('utf8')));
};

/** What went wrong, for logs: the error's class and code, never a value we sent. */
const describe = (e: unknown): string => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' || typeof code === 'number' ? ` (${code})` : ''}: ${e.message}`;
  }
  return 'unknown error';
};

export const createLdapAuthenticator = (options: LdapAuthenticatorOptions): LdapAuthenticator => {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new Error(`The LDAP URL ${JSON.stringify(options.url)} is not a URL (ldap://host:389 or ldaps://host:636)`);
  }
  if (parsed.protocol !== 'ldap:' && parsed.protocol !== 'ldaps:') throw new Error('The LDAP URL must start with ldap:// or ldaps://');
  if (parsed.protocol === 'ldap:' && !options.startTls && !options.allowPlaintext)
    throw new Error(
      'ldap:// without StartTLS sends passwords in clear: use ldaps://, turn on StartTLS, or allow plaintext explicitly (lab use only)',
    );
  if (options.tls?.rejectUnauthorized === false)
    throw new Error('LDAP certificates are always verified: give the directory’s CA certificate instead of turning verification off');
  for (const [name, value] of [
    ['bind DN', options.bindDn],
    ['bind password', options.bindPassword],
    ['base DN', options.baseDn],
  ] as const)
    if (!value) throw new Error(`The LDAP ${name} is required`);
  const flavour = options.flavour ?? 'ad';
  const defaults = DEFAULTS[flavour];
  const filterTemplate = options.userFilter ?? defaults.filter;
  if (!filterTemplate.includes('{username}')) throw new Error('The LDAP user filter must contain {username}');
  const attributes = {
    username: options.attributes?.username ?? defaults.username,
    email: options.attributes?.email ?? defaults.email,
    upn: options.attributes?.upn ?? defaults.upn,
    groups: options.attributes?.groups ?? defaults.groups,
  };
  const requested = [attributes.username, attributes.email, attributes.upn, attributes.groups].filter((a) => a !== '');
  const timeout = options.timeoutMs ?? 5000;
  const tlsOptions: ConnectionOptions = { ...options.tls, rejectUnauthorized: true };
  const hostname = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const serverIdentity: ConnectionOptions = { host: hostname, ...(isIP(hostname) === 0 ? { servername: hostname } : {}) };

  return {
    async authenticate(username, password) {
      // The anonymous-bind trap, and inputs no directory name or password looks like.
      if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD) return null;
      if (typeof username !== 'string' || username.length === 0 || username.length > MAX_USERNAME) return null;
      if (/[\u0000-\u001f\u007f]/.test(username) || username.trim() !== username) return null;

      // ldapts speaks TLS from the start whenever tlsOptions are given: only for ldaps://.
      const client = new Client({
        url: options.url,
        timeout,
        connectTimeout: timeout,
        strictDN: true,
        ...(parsed.protocol === 'ldaps:' ? { tlsOptions } : {}),
      });
      const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
        try {
          return await run();
        } catch (e) {
          throw new LdapUnavailableError(`LDAP ${what} failed at ${parsed.host}: ${describe(e)}`);
        }
      };
      try {
        // ldapts upgrades the socket with tls.connect({ socket, ...options }): without the host it
        // would check the certificate against "localhost". A fresh object each time (ldapts adds the socket to it).
        if (options.startTls) await step('StartTLS', () => client.startTLS({ ...tlsOptions, ...serverIdentity }));
        await step(`bind as the service account (${options.bindDn})`, () => client.bind(options.bindDn, options.bindPassword));
        const filter = filterTemplate.split('{username}').join(escapeLdapFilterValue(username));
        const { searchEntries } = await step('user search', () =>
          client.search(options.baseDn, {
            scope: 'sub',
            filter,
            attributes: requested,
            sizeLimit: 2,
            timeLimit: Math.ceil(timeout / 1000),
          }),
        );
        // No such user, or an ambiguous filter: never guess which one.
        if (searchEntries.length !== 1) return null;
        const entry = searchEntries[0]!;
        try {
          await client.bind(entry.dn, password);
        } catch (e) {
          if (e instanceof InvalidCredentialsError) return null;
          throw new LdapUnavailableError(`LDAP bind as the user failed at ${parsed.host}: ${describe(e)}`);
        }
        const upn = first(entry, attributes.upn);
        const groups = attributes.groups ? all(entry, attributes.groups) : [];
        return {
          username: first(entry, attributes.username) ?? username,
          dn: entry.dn,
          email: first(entry, attributes.email),
          ...(upn !== null ? { upn } : {}),
          ...(groups.length > 0 ? { groups } : {}),
        };
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
  };
};
