/**
 * Builds the forward proxy from a running Haven: the filter runtime and identity directory from
 * the services, Haven's block and warn pages (with the shared "go on" choices), search terms and
 * SafeSearch (data/search-engines.json), TLS interception when HAVEN_PROXY_INTERCEPT=on, proxy
 * sign-in when HAVEN_PROXY_AUTH is basic or ldap, limits, CONNECT ports and PAC settings from the
 * configuration, and a batched event sink over the database. In a process that also runs the DNS filter the two share its event
 * sink and its refresh timers; alone (`haven serve --role proxy`) the proxy keeps its own, with
 * its own spool folder (HAVEN_DATA_DIR/events-spool-proxy) so two processes never replay one file.
 */
import { createHash } from 'node:crypto';
import dns, { type LookupOptions } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { createLdapAuthenticator, type LdapAuthenticator } from '../adapters/index.ts';
import {
  CaError,
  loadInterception,
  startProxyServer,
  type BlockPageRenderer,
  type Interception,
  type ProxyAuth,
  type ProxyAuthResult,
  type ProxyDeps,
  type ProxyIntercept,
  type ProxyServer,
} from '../dataplane/index.ts';
import { createBatchedEventSink, type BatchedEventSink } from '../storage/index.ts';
import { createBlockPages } from './block-pages.ts';
import type { Haven } from './compose.ts';
import type { HavenConfig } from './config.ts';
import { packageRoot } from './package-info.ts';
import { keepDecisionsFresh, type Stoppable } from './login-feed.ts';
import { loadSearchEngines } from './search-engine-file.ts';

export interface ProxyStack {
  deps: ProxyDeps;
  events: BatchedEventSink;
  /** Listens on HAVEN_PROXY_HOST:HAVEN_PROXY_PORT. */
  listen(): Promise<ProxyServer>;
  close(): Promise<void>;
}

export interface ProxyStackOptions {
  onError?: (message: string) => void;
  /** The DNS stack's sink when both run in one process: it also keeps identity and policies fresh. */
  events?: BatchedEventSink;
  /** TLS interception (the school's CA); default: loaded when HAVEN_PROXY_INTERCEPT=on. */
  intercept?: ProxyIntercept;
  /** Default: Haven's block and warn pages (createBlockPages). */
  blockPage?: BlockPageRenderer;
  /** Default: ldap-authenticator from HAVEN_LDAP_* when HAVEN_PROXY_AUTH=ldap (tests pass their own). */
  ldap?: LdapAuthenticator;
  /** Name resolution for the proxy's upstreams (tests send stand-in sites to loopback). */
  lookup?: ProxyDeps['lookup'];
}

/** HAVEN_PROXY_RESOLVE: listed names get their address without asking DNS; the rest go to the system resolver. */
export const staticLookup = (names: Readonly<Record<string, string>>): ProxyDeps['lookup'] => {
  if (Object.keys(names).length === 0) return undefined;
  return ((hostname: string, opts: LookupOptions, cb: (...a: unknown[]) => void) => {
    const address = names[hostname.toLowerCase().replace(/\.$/, '')];
    if (address === undefined) {
      dns.lookup(hostname, opts, cb as never);
      return;
    }
    const family = isIP(address);
    if (opts.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as ProxyDeps['lookup'];
};

/** The interception the configuration asks for; a missing CA says how to make one. */
export const loadProxyInterception = async (config: HavenConfig): Promise<Interception> => {
  try {
    return await loadInterception({
      dataDir: config.dataDir,
      exemptionsFile: path.join(packageRoot(), 'data', 'tls-exemptions.json'),
      ...(config.proxyUpstreamCaFile && { extraCaFile: config.proxyUpstreamCaFile }),
      choices: {
        ...(config.proxyNeverInspect && { neverInspect: config.proxyNeverInspect }),
        neverInspectHosts: config.proxyNeverInspectHosts,
      },
    });
  } catch (e) {
    if (e instanceof CaError && e.code === 'CA_NOT_FOUND')
      throw new Error(
        `HAVEN_PROXY_INTERCEPT=on needs the school's CA, and there is none in ${path.join(config.dataDir, 'ca')}: run "haven ca init" first (then install the certificate on the school's devices), or set HAVEN_PROXY_INTERCEPT=off. (${e.message})`,
        { cause: e },
      );
    throw e;
  }
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Verified sign-ins are remembered this long (keyed by a hash of name and password), so argon2 or LDAP is not asked per request. */
export const PROXY_AUTH_CACHE_MS = 5 * 60_000;
/** Failed sign-ins from one address in a minute before the proxy stops checking (407 without asking). */
export const PROXY_AUTH_FAILURES_PER_MINUTE = 10;
/** The login-feed row a proxy sign-in records lasts this long; it is renewed every hour of use. */
const PROXY_LOGIN_TTL_SECONDS = 8 * 3600;
const PROXY_LOGIN_RENEW_MS = 3_600_000;
const MAX_CACHED = 50_000;
const UNAVAILABLE = Symbol('unavailable');
/** The account name to record; null for wrong credentials. */
type Verified = string | null | typeof UNAVAILABLE;

/** Basic credentials from a Proxy-Authorization value; null when absent or malformed. */
export const parseBasic = (header: string | undefined): { user: string; password: string } | null => {
  const m = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header ?? '');
  if (!m || m[1]!.length > 4096) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon).trim(), password: decoded.slice(colon + 1) };
};

/**
 * Proxy sign-in: Basic credentials against Haven's users (argon2, lock-out) or the directory.
 * The first success for an address records a login-feed row (source proxy), so that address is
 * that person for the proxy and the DNS filter alike.
 */
export const createProxyAuth = (haven: Haven, ldap: LdapAuthenticator | null, now: () => number = Date.now): ProxyAuth => {
  const { services, config } = haven;
  /** sha256(user, password) → { account name for the feed, until }. */
  const verified = new Map<string, { account: string; until: number }>();
  const checking = new Map<string, Promise<Verified>>();
  /** client address → { account, renew after }. */
  const recorded = new Map<string, { account: string; renewAt: number }>();
  const failures = new Map<string, { count: number; since: number }>();

  const remember = <K, V>(map: Map<K, V>, key: K, value: V) => {
    if (map.size >= MAX_CACHED) map.delete(map.keys().next().value as K);
    map.set(key, value);
  };

  const verify = async (user: string, password: string, clientIp: string): Promise<Verified> => {
    if (ldap) {
      try {
        const found = await ldap.authenticate(user, password);
        return found ? (found.email ?? found.upn ?? found.username) : null;
      } catch {
        // LdapUnavailableError (down, timed out, service account refused) or anything unexpected: 503, not "wrong password".
        return UNAVAILABLE;
      }
    }
    const r = await services.proxyAuth.verifyPassword(user, password, clientIp);
    return r.ok ? r.user.email : null;
  };

  const signedIn = (account: string, clientIp: string): ProxyAuthResult | Promise<ProxyAuthResult> => {
    const seen = recorded.get(clientIp);
    if (seen && seen.account === account && seen.renewAt > now()) return 'ok';
    const identity = services.identity.identify({ ip: clientIp });
    if (!identity) return 'unavailable';
    return services.logins
      .record({ schoolId: identity.schoolId, keyId: null }, [
        { type: 'login', ip: clientIp, user: account, source: 'proxy', ttlSeconds: PROXY_LOGIN_TTL_SECONDS },
      ])
      .then(
        () => {
          remember(recorded, clientIp, { account, renewAt: now() + PROXY_LOGIN_RENEW_MS });
          return 'ok' as const;
        },
        () => 'unavailable' as const,
      );
  };

  return {
    realm: config.proxyAuthRealm,
    check(header, clientIp) {
      const creds = parseBasic(header);
      if (!creds || creds.password.length === 0) return 'denied';
      const key = sha256(`${creds.user.toLowerCase()}\u0000${creds.password}`);
      const hit = verified.get(key);
      if (hit && hit.until > now()) return signedIn(hit.account, clientIp);
      const f = failures.get(clientIp);
      if (f && now() - f.since < 60_000 && f.count >= PROXY_AUTH_FAILURES_PER_MINUTE) return 'denied';
      let pending = checking.get(key);
      if (!pending) {
        pending = verify(creds.user, creds.password, clientIp).finally(() => checking.delete(key));
        checking.set(key, pending);
      }
      return pending.then((account) => {
        if (account === UNAVAILABLE) return 'unavailable';
        if (account === null) {
          const cur = failures.get(clientIp);
          if (!cur || now() - cur.since >= 60_000) remember(failures, clientIp, { count: 1, since: now() });
          else cur.count++;
          return 'denied';
        }
        remember(verified, key, { account, until: now() + PROXY_AUTH_CACHE_MS });
        return signedIn(account, clientIp);
      });
    },
  };
};

/** The directory from HAVEN_LDAP_* (HAVEN_PROXY_AUTH=ldap). */
export const ldapFromConfig = (config: HavenConfig): LdapAuthenticator => {
  const l = config.ldap;
  if (!l)
    throw new Error(
      'HAVEN_PROXY_AUTH=ldap needs the directory: set HAVEN_LDAP_URL, HAVEN_LDAP_BIND_DN, HAVEN_LDAP_BIND_PASSWORD and HAVEN_LDAP_BASE_DN',
    );
  return createLdapAuthenticator({
    url: l.url,
    bindDn: l.bindDn,
    bindPassword: l.bindPassword,
    baseDn: l.baseDn,
    flavour: l.flavour,
    ...(l.userFilter && { userFilter: l.userFilter }),
    attributes: {
      ...(l.emailAttribute && { email: l.emailAttribute }),
      ...(l.upnAttribute !== undefined && { upn: l.upnAttribute }),
      ...(l.groupsAttribute !== undefined && { groups: l.groupsAttribute }),
    },
    timeoutMs: l.timeoutMs,
    startTls: l.startTls,
    allowPlaintext: l.allowPlaintext,
    ...(l.caFile && { tls: { ca: readFileSync(l.caFile, 'utf8') } }),
  });
};

export const createProxyStack = async (haven: Haven, options: ProxyStackOptions = {}): Promise<ProxyStack> => {
  const { config, services } = haven;
  const report = options.onError ?? (() => undefined);
  let freshness: Stoppable | null = null;
  const ownEvents = options.events === undefined;
  const events =
    options.events ??
    createBatchedEventSink(services.deps.store.events, {
      spoolDir: path.join(config.dataDir, 'events-spool-proxy'),
      // Embedded SQLite: a worker thread with its own connection writes the events, off the proxy's thread (as dns.ts).
      sqliteWorkerFile: haven.db.sqliteFile ?? undefined,
      onError: (e) => report(`could not store proxy events (kept in the spool): ${e.message}`),
    });
  if (ownEvents) {
    await events
      .replaySpool()
      .catch((e: unknown) => report(`could not replay spooled proxy events: ${e instanceof Error ? e.message : String(e)}`));
    freshness = await keepDecisionsFresh(services);
  }
  // Everything that can stop start-up is loaded before the proxy listens.
  const intercept = options.intercept ?? (config.proxyIntercept ? await loadProxyInterception(config) : undefined);
  const search = loadSearchEngines();
  const ldap = config.proxyAuth === 'ldap' ? (options.ldap ?? ldapFromConfig(config)) : null;
  const auth = config.proxyAuth === 'off' ? undefined : createProxyAuth(haven, ldap);
  const pages = createBlockPages(haven);
  const blockPage: BlockPageRenderer =
    options.blockPage ??
    ((info) =>
      pages.render({
        host: info.host,
        url: info.url,
        category: info.category,
        action: info.action,
        identity: info.identity,
        clientIp: info.clientIp,
        illegal: info.illegal,
        // Haven's own link (/continue?t=…): the choice is recorded and shared with the DNS filter.
        continueUrl: null,
      }));
  const lookup = options.lookup ?? staticLookup(config.proxyResolve);
  let lastEmptyRefresh = 0;
  const deps: ProxyDeps = {
    identify: (hint) => {
      const who = services.identity.identify(hint);
      // No school yet: perhaps one was just added; look again, at most every few seconds.
      if (who === null && Date.now() - lastEmptyRefresh > 5000) {
        lastEmptyRefresh = Date.now();
        void services.identity.refresh().catch(() => undefined);
      }
      return who;
    },
    decideNow: (schoolId, request) => services.filter.checkNow(schoolId, request),
    decide: (schoolId, request) => services.filter.check(schoolId, request),
    events,
    blockPage,
    warnContinued: (identity, ip, host) => services.warnContinues.allows(identity.schoolId, identity.personId, ip, host),
    search,
    ...(intercept && { intercept }),
    ...(auth && { auth }),
    ...(lookup && { lookup }),
    pac: { proxy: config.proxyPacAddress, bypassDomains: config.proxyBypassDomains },
    connectPorts: config.proxyConnectPorts,
    limits: {
      maxConnections: config.proxyMaxConnections,
      maxConnectionsPerClient: config.proxyMaxConnectionsPerClient,
      idleTimeoutMs: config.proxyIdleTimeoutSeconds * 1000,
    },
  };
  const servers: ProxyServer[] = [];
  return {
    deps,
    events,
    async listen() {
      const server = await startProxyServer(deps, { host: config.proxyHost, port: config.proxyPort });
      servers.push(server);
      return server;
    },
    async close() {
      freshness?.stop();
      for (const s of servers) await s.close();
      if (ownEvents) await events.close();
    },
  };
};
