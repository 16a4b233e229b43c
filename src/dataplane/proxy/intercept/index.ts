/**
 * @module dataplane/proxy/intercept — optional TLS interception for the forward proxy: the
 * school's root CA, per-host leaf certificates, upstream verification and what is never
 * decrypted. See docs/tls-interception.md.
 *
 * The proxy codes against `{ contextFor(host): Promise<tls.SecureContext> }`, which `LeafCache` is.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API
// before it loads. This is the only place that imports it (a test checks), and it must come first.
import 'reflect-metadata';

export * from './ca.ts';
export * from './leaf-cache.ts';
export * from './upstream-tls.ts';
export * from './tls-exemptions.ts';
export * from './interception.ts';
