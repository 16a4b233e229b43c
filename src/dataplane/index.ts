/**
 * @module dataplane — the DNS filter (and, with its issue, the forward proxy): node:dgram/net
 * directly, no framework on the hot path. It reaches policy, identity and the event log only
 * through the functions the composition root hands it.
 */
export * from './dns/index.ts';
export * from './proxy/index.ts';
