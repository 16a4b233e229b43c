/**
 * @module dataplane — the DNS filter and the forward proxy (with its TLS interception CA and leaf
 * certificates): node:dgram/net/tls directly, no framework on the hot path. It reaches policy, identity and the event log only
 * through the functions the composition root hands it.
 */
export * from './dns/index.ts';
export * from './proxy/index.ts';
export * from './proxy/intercept/index.ts';
