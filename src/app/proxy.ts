/**
 * Builds the forward proxy from a running Haven: the filter runtime and identity directory from
 * the services, limits, CONNECT ports and PAC settings from the configuration, and a batched event
 * sink over the database. In a process that also runs the DNS filter the two share its event
 * sink and its refresh timers; alone (`haven serve --role proxy`) the proxy keeps its own, with
 * its own spool folder (HAVEN_DATA_DIR/events-spool-proxy) so two processes never replay one file.
 */
import path from 'node:path';
import { startProxyServer, type BlockPageRenderer, type ProxyDeps, type ProxyIntercept, type ProxyServer } from '../dataplane/index.ts';
import { createBatchedEventSink, type BatchedEventSink } from '../storage/index.ts';
import type { Haven } from './compose.ts';

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
  /** TLS interception (the school's CA), when configured. */
  intercept?: ProxyIntercept;
  blockPage?: BlockPageRenderer;
}

export const createProxyStack = async (haven: Haven, options: ProxyStackOptions = {}): Promise<ProxyStack> => {
  const { config, services } = haven;
  const report = options.onError ?? (() => undefined);
  const timers: NodeJS.Timeout[] = [];
  const ownEvents = options.events === undefined;
  const events =
    options.events ??
    createBatchedEventSink(services.deps.store.events, {
      spoolDir: path.join(config.dataDir, 'events-spool-proxy'),
      onError: (e) => report(`could not store proxy events (kept in the spool): ${e.message}`),
    });
  if (ownEvents) {
    await events
      .replaySpool()
      .catch((e: unknown) => report(`could not replay spooled proxy events: ${e instanceof Error ? e.message : String(e)}`));
    await services.identity.refresh();
    // Schools and places changed elsewhere reach this process within a minute; policies within seconds.
    const identityTimer = setInterval(() => void services.identity.refresh().catch(() => undefined), 60_000);
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
    timers.push(identityTimer, policyTimer);
    for (const t of timers) t.unref();
  }
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
    ...(options.blockPage && { blockPage: options.blockPage }),
    ...(options.intercept && { intercept: options.intercept }),
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
      for (const t of timers) clearInterval(t);
      for (const s of servers) await s.close();
      if (ownEvents) await events.close();
    },
  };
};
