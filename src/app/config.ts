/**
 * Haven's configuration, all from environment variables (documented in README.md). Invalid
 * values stop start-up with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export interface HavenConfig {
  dataDir: string;
  databaseUrl: string | undefined;
  host: string;
  webPort: number;
  proxyPort: number;
  /** HAVEN_PROXY_HOST: where the forward proxy listens (default HAVEN_HOST). */
  proxyHost: string;
  /** HAVEN_PROXY_MAX_CONNECTIONS and _PER_CLIENT: open client connections, in all and from one address. */
  proxyMaxConnections: number;
  proxyMaxConnectionsPerClient: number;
  /** HAVEN_PROXY_IDLE_TIMEOUT: seconds a connection or tunnel may sit silent. */
  proxyIdleTimeoutSeconds: number;
  /** HAVEN_PROXY_CONNECT_PORTS: ports CONNECT may reach, comma-separated, or "any" (default 443). */
  proxyConnectPorts: number[] | 'any';
  /** HAVEN_PROXY_BYPASS: domains the PAC file sends direct (besides local addresses), comma-separated. */
  proxyBypassDomains: string[];
  /** HAVEN_PROXY_PAC_ADDRESS: host:port the PAC file names (default: the address the PAC was fetched from). */
  proxyPacAddress: string | undefined;
  /** HAVEN_PROXY_INTERCEPT: decrypt allowed HTTPS (not exempt hosts) with the school's CA (`haven ca init`). */
  proxyIntercept: boolean;
  /** HAVEN_PROXY_UPSTREAM_CA_FILE: extra CA certificates (PEM) trusted for sites reached from inspected tunnels. */
  proxyUpstreamCaFile: string | undefined;
  /** HAVEN_PROXY_NEVER_INSPECT: category and group ids never decrypted (default: the exemptions file's). */
  proxyNeverInspect: string[] | undefined;
  /** HAVEN_PROXY_NEVER_INSPECT_HOSTS: more hosts never decrypted (with their subdomains). */
  proxyNeverInspectHosts: string[];
  /**
   * HAVEN_PROXY_RESOLVE: names the proxy resolves itself, before DNS ("intranet.school=10.0.0.5,…"), as
   * squid's hosts_file: split-horizon names, and tests' stand-in sites on loopback.
   */
  proxyResolve: Record<string, string>;
  /** HAVEN_PROXY_AUTH: off, basic (Haven users' email and password) or ldap (HAVEN_LDAP_*). */
  proxyAuth: 'off' | 'basic' | 'ldap';
  /** HAVEN_PROXY_AUTH_REALM: the name browsers show when they ask for the proxy's password. */
  proxyAuthRealm: string;
  /** HAVEN_LDAP_*: the directory proxy sign-ins are checked against (HAVEN_PROXY_AUTH=ldap). */
  ldap: LdapConfig | undefined;
  dnsPort: number;
  /** HAVEN_DNS_HOST: where the DNS filter listens (default HAVEN_HOST). */
  dnsHost: string;
  /** HAVEN_DNS_UPSTREAM: resolvers to forward to, comma-separated. */
  dnsUpstream: string;
  /** HAVEN_DNS_BLOCK_IPV4 / _IPV6: the block page's addresses for blocked names (0.0.0.0 / :: when unset). */
  dnsBlockIpv4: string | undefined;
  dnsBlockIpv6: string | undefined;
  /** HAVEN_DNS_RATE_LIMIT: queries a second per client address (0: none). */
  dnsRateLimit: number;
  /** HAVEN_DNS_DEFAULT_SCHOOL: the school (id, URN or name) that addresses no school claims belong to. */
  dnsDefaultSchool: string | undefined;
  /** HAVEN_DNS_WORKERS: processes `haven serve --role dns` runs on the one port (default 1). */
  dnsWorkers: number;
  /** HAVEN_DHCP_LEASES_FILE: the DHCP server's lease file (dnsmasq, ISC dhcpd or Kea CSV), read every 30 s. */
  dhcpLeasesFile: string | undefined;
  /** HAVEN_PUBLIC_URL: the web app's address as pupils' devices reach it, for block-page buttons (default http://HAVEN_HOST:HAVEN_WEB_PORT). */
  publicUrl: string;
  /** HAVEN_BLOCK_PAGE_PORT: the block-page server blocked DNS names point at (80 in production; "off": none). */
  blockPagePort: number | null;
  /** HAVEN_LOGIN_RETENTION_DAYS: how long the login feed (who was at which address) is kept. */
  loginRetentionDays: number;
  bootstrapAdminEmail: string | undefined;
  bootstrapAdminPassword: string | undefined;
  trustName: string;
  idleLockMinutes: number;
  sessionMaxHours: number;
  maxFailedLogins: number;
  lockoutMinutes: number;
  secretKey: string | undefined;
  trustProxy: boolean;
  cookieSecure: 'auto' | boolean;
  logLevel: string;
  logRequests: boolean;
}

type Env = Record<string, string | undefined>;

export interface LdapConfig {
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  flavour: 'ad' | 'openldap';
  userFilter: string | undefined;
  emailAttribute: string | undefined;
  upnAttribute: string | undefined;
  groupsAttribute: string | undefined;
  timeoutMs: number;
  startTls: boolean;
  caFile: string | undefined;
  allowPlaintext: boolean;
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);

const oneOf = <T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T => {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new Error(`${name} must be ${values.join(', ')} (got "${raw}")`);
  return raw as T;
};

const resolveMap = (raw: string | undefined): Record<string, string> => {
  const map: Record<string, string> = {};
  for (const pair of list(raw)) {
    const [name, address] = pair.split('=').map((x) => x.trim().toLowerCase());
    if (!name || !address || isIP(address) === 0)
      throw new Error(`HAVEN_PROXY_RESOLVE must be name=address pairs separated by commas (got "${pair}")`);
    map[name.replace(/\.$/, '')] = address;
  }
  return map;
};

const ldapConfig = (env: Env, cwd: string): LdapConfig | undefined => {
  const url = env.HAVEN_LDAP_URL?.trim();
  if (!url) return undefined;
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new Error(`${name} is needed with HAVEN_LDAP_URL`);
    return v;
  };
  const passwordFile = env.HAVEN_LDAP_BIND_PASSWORD_FILE?.trim();
  let bindPassword = env.HAVEN_LDAP_BIND_PASSWORD ?? '';
  if (passwordFile) {
    try {
      bindPassword = readFileSync(path.resolve(cwd, passwordFile), 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new Error(`Cannot read HAVEN_LDAP_BIND_PASSWORD_FILE ${passwordFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!bindPassword) throw new Error('HAVEN_LDAP_BIND_PASSWORD (or HAVEN_LDAP_BIND_PASSWORD_FILE) is needed with HAVEN_LDAP_URL');
  const caFile = env.HAVEN_LDAP_CA_FILE?.trim();
  return {
    url,
    bindDn: need('HAVEN_LDAP_BIND_DN'),
    bindPassword,
    baseDn: need('HAVEN_LDAP_BASE_DN'),
    flavour: oneOf(env, 'HAVEN_LDAP_FLAVOUR', ['ad', 'openldap'] as const, 'ad'),
    userFilter: env.HAVEN_LDAP_USER_FILTER?.trim() || undefined,
    emailAttribute: env.HAVEN_LDAP_EMAIL_ATTRIBUTE?.trim() || undefined,
    upnAttribute: env.HAVEN_LDAP_UPN_ATTRIBUTE?.trim() ?? undefined,
    groupsAttribute: env.HAVEN_LDAP_GROUPS_ATTRIBUTE?.trim() ?? undefined,
    timeoutMs: int(env, 'HAVEN_LDAP_TIMEOUT_MS', 5000, 100, 60_000),
    startTls: bool(env, 'HAVEN_LDAP_STARTTLS', false),
    caFile: caFile ? path.resolve(cwd, caFile) : undefined,
    allowPlaintext: bool(env, 'HAVEN_LDAP_ALLOW_PLAINTEXT', false),
  };
};

const int = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
};

const bool = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false (got "${raw}")`);
};

const ip = (env: Env, name: string, family: 4 | 6): string | undefined => {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (isIP(raw) !== family) throw new Error(`${name} must be an IPv${family} address (got "${raw}")`);
  return raw;
};

const connectPorts = (raw: string | undefined): number[] | 'any' => {
  const value = raw?.trim().toLowerCase() || '443';
  if (value === 'any') return 'any';
  return value.split(',').map((p) => {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new Error(`HAVEN_PROXY_CONNECT_PORTS must be ports (1–65535) separated by commas, or "any" (got "${raw}")`);
    return n;
  });
};

const publicUrl = (env: Env): string => {
  const raw = env.HAVEN_PUBLIC_URL?.trim();
  if (!raw) {
    const host = env.HAVEN_HOST?.trim() || '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${env.HAVEN_WEB_PORT?.trim() || '8080'}`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`HAVEN_PUBLIC_URL must be an address like https://haven.school.example (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('HAVEN_PUBLIC_URL must start with http:// or https://');
  return url.origin;
};

export const loadConfig = (env: Env = process.env, cwd = process.cwd()): HavenConfig => {
  const cookie = env.HAVEN_COOKIE_SECURE?.trim().toLowerCase() || 'auto';
  if (!['auto', 'true', 'false'].includes(cookie)) throw new Error('HAVEN_COOKIE_SECURE must be auto, true or false');
  return {
    dataDir: path.resolve(cwd, env.HAVEN_DATA_DIR?.trim() || './data'),
    databaseUrl: env.HAVEN_DATABASE_URL?.trim() || undefined,
    host: env.HAVEN_HOST?.trim() || '127.0.0.1',
    webPort: int(env, 'HAVEN_WEB_PORT', 8080, 1, 65535),
    proxyPort: int(env, 'HAVEN_PROXY_PORT', 3128, 0, 65535),
    proxyHost: env.HAVEN_PROXY_HOST?.trim() || env.HAVEN_HOST?.trim() || '127.0.0.1',
    proxyMaxConnections: int(env, 'HAVEN_PROXY_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    proxyMaxConnectionsPerClient: int(env, 'HAVEN_PROXY_MAX_CONNECTIONS_PER_CLIENT', 512, 1, 1_000_000),
    proxyIdleTimeoutSeconds: int(env, 'HAVEN_PROXY_IDLE_TIMEOUT', 120, 5, 86_400),
    proxyConnectPorts: connectPorts(env.HAVEN_PROXY_CONNECT_PORTS),
    proxyBypassDomains: (env.HAVEN_PROXY_BYPASS ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean),
    proxyPacAddress: env.HAVEN_PROXY_PAC_ADDRESS?.trim() || undefined,
    proxyIntercept: oneOf(env, 'HAVEN_PROXY_INTERCEPT', ['off', 'on'] as const, 'off') === 'on',
    proxyUpstreamCaFile: env.HAVEN_PROXY_UPSTREAM_CA_FILE?.trim() ? path.resolve(cwd, env.HAVEN_PROXY_UPSTREAM_CA_FILE.trim()) : undefined,
    proxyNeverInspect: env.HAVEN_PROXY_NEVER_INSPECT?.trim() ? list(env.HAVEN_PROXY_NEVER_INSPECT) : undefined,
    proxyNeverInspectHosts: list(env.HAVEN_PROXY_NEVER_INSPECT_HOSTS),
    proxyResolve: resolveMap(env.HAVEN_PROXY_RESOLVE),
    proxyAuth: oneOf(env, 'HAVEN_PROXY_AUTH', ['off', 'basic', 'ldap'] as const, 'off'),
    proxyAuthRealm: env.HAVEN_PROXY_AUTH_REALM?.trim() || 'Haven web filter',
    ldap: ldapConfig(env, cwd),
    dnsPort: int(env, 'HAVEN_DNS_PORT', 8053, 0, 65535),
    dnsHost: env.HAVEN_DNS_HOST?.trim() || env.HAVEN_HOST?.trim() || '127.0.0.1',
    dnsUpstream: env.HAVEN_DNS_UPSTREAM?.trim() || '1.1.1.1,9.9.9.9',
    dnsBlockIpv4: ip(env, 'HAVEN_DNS_BLOCK_IPV4', 4),
    dnsBlockIpv6: ip(env, 'HAVEN_DNS_BLOCK_IPV6', 6),
    dnsRateLimit: int(env, 'HAVEN_DNS_RATE_LIMIT', 1000, 0, 1_000_000),
    dnsWorkers: int(env, 'HAVEN_DNS_WORKERS', 1, 1, 64),
    dnsDefaultSchool: env.HAVEN_DNS_DEFAULT_SCHOOL?.trim() || undefined,
    dhcpLeasesFile: env.HAVEN_DHCP_LEASES_FILE?.trim() ? path.resolve(cwd, env.HAVEN_DHCP_LEASES_FILE.trim()) : undefined,
    publicUrl: publicUrl(env),
    blockPagePort: env.HAVEN_BLOCK_PAGE_PORT?.trim().toLowerCase() === 'off' ? null : int(env, 'HAVEN_BLOCK_PAGE_PORT', 8081, 0, 65535),
    loginRetentionDays: int(env, 'HAVEN_LOGIN_RETENTION_DAYS', 90, 1, 3650),
    bootstrapAdminEmail: env.HAVEN_BOOTSTRAP_ADMIN_EMAIL?.trim() || undefined,
    bootstrapAdminPassword: env.HAVEN_BOOTSTRAP_ADMIN_PASSWORD || undefined,
    trustName: env.HAVEN_TRUST_NAME?.trim() || 'Oakfield Learning Trust',
    idleLockMinutes: int(env, 'HAVEN_IDLE_LOCK_MINUTES', 10, 1, 480),
    sessionMaxHours: int(env, 'HAVEN_SESSION_MAX_HOURS', 12, 1, 168),
    maxFailedLogins: int(env, 'HAVEN_MAX_FAILED_LOGINS', 5, 1, 100),
    lockoutMinutes: int(env, 'HAVEN_LOCKOUT_MINUTES', 15, 1, 1440),
    secretKey: env.HAVEN_SECRET_KEY?.trim() || undefined,
    trustProxy: bool(env, 'HAVEN_TRUST_PROXY', false),
    cookieSecure: cookie === 'auto' ? 'auto' : cookie === 'true',
    logLevel: env.HAVEN_LOG_LEVEL?.trim() || 'info',
    logRequests: bool(env, 'HAVEN_LOG_REQUESTS', false),
  };
};
