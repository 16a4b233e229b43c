/**
 * Builds the DNS filter from a running Haven: upstreams and cache from the configuration, the
 * filter runtime and identity directory from the services, SafeSearch and circumvention data,
 * and a batched event sink over the database (spooling to HAVEN_DATA_DIR/events-spool when the
 * database refuses). The same handler serves UDP/TCP (`dns` role) and DoH (`web` role).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createCircumventionIndex, createSafeSearch, parseDhcpLeases, type DhcpLease } from '../core/index.ts';
import {
  createDnsCache,
  createDnsHandler,
  createUpstreams,
  parseUpstreams,
  startDnsServer,
  type DnsDecideRequest,
  type DnsHandler,
  type DnsServer,
} from '../dataplane/index.ts';
import type { CheckResult } from '../services/index.ts';
import { createBatchedEventSink, type BatchedEventSink } from '../storage/index.ts';
import type { Haven } from './compose.ts';
import { loadCircumvention, loadSafeSearch } from './filter-data-files.ts';
import { keepDecisionsFresh } from './login-feed.ts';

export interface DnsStack {
  handler: DnsHandler;
  events: BatchedEventSink;
  /** Starts UDP and TCP on HAVEN_DNS_HOST:HAVEN_DNS_PORT. */
  listen(): Promise<DnsServer>;
  close(): Promise<void>;
}

/**
 * Reads the DHCP server's lease file now and whenever it changes (checked every 30 s), handing
 * the current leases to the identity directory. A missing or unreadable file keeps the last leases.
 */
export const watchLeaseFile = (
  file: string,
  onLeases: (leases: DhcpLease[]) => void,
  report: (message: string) => void,
  everyMs = 30_000,
): { check: () => Promise<void>; stop: () => void } => {
  let seen = '';
  let warned = false;
  let running: Promise<void> | null = null;
  const readIfChanged = async () => {
    try {
      const s = await stat(file);
      const stamp = `${s.size}:${s.mtimeMs}`;
      if (stamp === seen) return;
      const parsed = parseDhcpLeases(await readFile(file, 'utf8'), Date.now() / 1000);
      seen = stamp;
      warned = false;
      onLeases(parsed.leases);
      if (parsed.skipped > 0) report(`DHCP lease file ${file}: ${parsed.skipped} lines could not be read`);
    } catch (e) {
      if (!warned) report(`cannot read the DHCP lease file ${file}: ${e instanceof Error ? e.message : String(e)}`);
      warned = true;
    }
  };
  // One read at a time: a check asked for while one runs waits for that one.
  const check = () => (running ??= readIfChanged().finally(() => (running = null)));
  void check();
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
};

const WENT_ON = Object.freeze({ id: 'haven:warn-continued', description: 'Went on past a warning page' });

export const createDnsStack = async (haven: Haven, options: { onError?: (message: string) => void } = {}): Promise<DnsStack> => {
  const { config, services } = haven;
  const report = options.onError ?? (() => undefined);
  const upstreams = createUpstreams({
    servers: parseUpstreams(config.dnsUpstream),
    onHealthChange: (upstream, healthy, reason) => report(`DNS upstream ${upstream} is ${healthy ? 'back' : 'down'} (${reason})`),
  });
  const cache = createDnsCache({ maxEntries: 100_000 });
  const events = createBatchedEventSink(services.deps.store.events, {
    spoolDir: path.join(config.dataDir, 'events-spool'),
    // Embedded SQLite: a worker thread with its own connection writes the events, off the DNS thread.
    sqliteWorkerFile: haven.db.sqliteFile ?? undefined,
    onError: (e) => report(`could not store DNS events (kept in the spool): ${e.message}`),
  });
  await events
    .replaySpool()
    .catch((e: unknown) => report(`could not replay spooled events: ${e instanceof Error ? e.message : String(e)}`));
  const freshness = await keepDecisionsFresh(services);
  const leases = config.dhcpLeasesFile ? watchLeaseFile(config.dhcpLeasesFile, (l) => services.identity.setLeases(l), report) : null;
  let lastEmptyRefresh = 0;
  const safeSearch = createSafeSearch(loadSafeSearch());
  const circumvention = createCircumventionIndex(loadCircumvention());
  /** A warned name the person (or a guest's address) chose to go on to, from the warning page, is answered. */
  const afterWarning = (schoolId: string, request: DnsDecideRequest, result: CheckResult): CheckResult => {
    const d = result.decision;
    const host = result.classification.host;
    if (d?.action !== 'warn' || host === null) return result;
    if (!services.warnContinues.allows(schoolId, request.personId ?? null, request.clientIp ?? null, host)) return result;
    return { ...result, decision: { ...d, action: 'allow', reason: 'Allowed: the person chose to go on past a warning', rule: WENT_ON } };
  };
  const handler = createDnsHandler({
    identify: (hint) => {
      const who = services.identity.identify(hint);
      // No school yet: perhaps one was just added; look again, at most every few seconds.
      if (who === null && Date.now() - lastEmptyRefresh > 5000) {
        lastEmptyRefresh = Date.now();
        void services.identity.refresh().catch(() => undefined);
      }
      return who;
    },
    decideNow: (schoolId, request) => {
      const now = services.filter.checkNow(schoolId, request);
      return now && afterWarning(schoolId, request, now);
    },
    decide: async (schoolId, request) => afterWarning(schoolId, request, await services.filter.check(schoolId, request)),
    decisionScope: (schoolId, request) => services.filter.decisionScope(schoolId, request),
    safeSearch: (host, settings) => safeSearch.rewriteFor(host, settings),
    circumvention: (host) => circumvention.check(host),
    cache,
    upstreams,
    events,
    blockPage: { a: config.dnsBlockIpv4, aaaa: config.dnsBlockIpv6 },
  });
  const servers: DnsServer[] = [];
  return {
    handler,
    events,
    async listen() {
      const server = await startDnsServer(handler, { host: config.dnsHost, port: config.dnsPort, ratePerSecond: config.dnsRateLimit });
      servers.push(server);
      return server;
    },
    async close() {
      freshness.stop();
      leases?.stop();
      for (const s of servers) await s.close();
      upstreams.close();
      await events.close();
    },
  };
};
