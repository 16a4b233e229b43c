/**
 * @module dataplane/proxy — the forward proxy: HTTP/1.1 with keep-alive and streaming, CONNECT
 * tunnels decided on the CONNECT host and the TLS ClientHello's SNI, WebSockets, PAC/WPAD, block
 * and warn pages, limits. Identity, decisions, events, block pages and TLS interception are
 * functions the composition root hands it (see src/app/proxy.ts).
 */
export {
  createProxy,
  startProxyServer,
  DEFAULT_PROXY_LIMITS,
  type Proxy,
  type ProxyDecideRequest,
  type ProxyDecision,
  type ProxyDeps,
  type ProxyAuth,
  type ProxyAuthResult,
  type ProxyIntercept,
  type ProxySearch,
  type ProxyLimits,
  type ProxyServer,
  type ProxyStats,
} from './server.ts';
export { defaultBlockPage, escapeHtml, type BlockPageInfo, type BlockPageRenderer, type BlockPageResponse } from './block-page.ts';
export { generatePac, normaliseBypassDomain, PAC_CONTENT_TYPE, type PacSettings } from './pac.ts';
export { parseClientHello, MAX_HELLO_BYTES, type ClientHelloResult } from './client-hello.ts';
