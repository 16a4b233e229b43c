/**
 * Builds the DNS filter from a running Haven: upstreams and cache from the configuration, the
 * filter runtime and identity directory from the services, SafeSearch and circumvention data,
 * and a batched event sink over the database (spooling to HAVEN_DATA_DIR/events-spool when the
 * database refuses). The same handler serves UDP/TCP (`dns` role) and DoH (`web` role).
 */
import path from 'node:path';
import { createCircumventionIndex, createSafeSearch } from '../core/index.ts';
import {
  createDnsCache,
  createDnsHandler,
  createUpstreams,
  parseUpstreams,
  startDnsServer,
  type DnsHandler,
  type DnsServer,
} from '../dataplane/index.ts';
import { createBatchedEventSink, type BatchedEventSink } from '../storage/index.ts';
import type { Haven } from './compose.ts';
import { loadCircumvention, loadSafeSearch } from './filter-data-files.ts';

export interface DnsStack {
  handler: DnsHandler;
  events: BatchedEventSink;
  /** Starts UDP and TCP on HAVEN_DNS_HOST:HAVEN_DNS_PORT. */
  listen(): Promise<DnsServer>;
  close(): Promise<void>;
}

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
    onError: (e) => report(`could not store DNS events (kept in the spool): ${e.message}`),
  });
  await events
    .replaySpool()
    .catch((e: unknown) => report(`could not replay spooled events: ${e instanceof Error ? e.message : String(e)}`));
  await services.identity.refresh();
  // Schools and places changed by other processes (or a new school) are picked up within a minute.
  const identityTimer = setInterval(() => void services.identity.refresh().catch(() => undefined), 60_000);
  identityTimer.unref();
  // A policy or override saved by another process (another web node) is live here within seconds.
  let policyStamp = await services.deps.store.policies.stamp();
  const policyTimer = setInterval(() => {
    void services.deps.store.policies
      .stamp()
      .then((stamp) => {
        if (stamp === policyStamp) return;
        policyStamp = stamp;
        services.filter.invalidate();
        return services.identity.refresh();
      })
      .catch(() => undefined);
  }, 5_000);
  policyTimer.unref();
  let lastEmptyRefresh = 0;
  const safeSearch = createSafeSearch(loadSafeSearch());
  const circumvention = createCircumventionIndex(loadCircumvention());
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
    decideNow: (schoolId, request) => services.filter.checkNow(schoolId, request),
    decide: (schoolId, request) => services.filter.check(schoolId, request),
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
      clearInterval(identityTimer);
      clearInterval(policyTimer);
      for (const s of servers) await s.close();
      upstreams.close();
      await events.close();
    },
  };
};
