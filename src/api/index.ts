/**
 * @module api — Fastify: routes per resource, session and 2FA gate, idle lock, permission check
 * on every route, one error format, OpenAPI.
 */
export { buildApi, routeTable, type ApiOptions, type RouteInfo } from './server.ts';
export type { RouteAccess } from './access.ts';
export { SESSION_COOKIE } from './access.ts';
export type { DohHandler } from './routes/doh.ts';
export { audienceOf, renderBlockPage, type BlockAudience, type BlockPageContent } from './block-pages/block-page.ts';
