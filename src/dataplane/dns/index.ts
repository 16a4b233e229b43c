/**
 * @module dataplane/dns — Haven's DNS filter: UDP/TCP server, the per-question pipeline, cache
 * and upstreams. DoH reaches the same handler through the web server.
 */
export {
  createDnsHandler,
  type DnsHandler,
  type DnsFilterDeps,
  type DnsDecideRequest,
  type DnsDecision,
  type DnsClient,
  type CircumventionKind,
} from './handler.ts';
export { startDnsServer, type DnsServer, type DnsServerOptions, type DnsServerStats } from './server.ts';
export { createDnsCache, type DnsCache } from './cache.ts';
export { createUpstreams, parseUpstreams, type Upstreams, type UpstreamSpec } from './upstream.ts';
