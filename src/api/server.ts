/**
 * Builds Haven's web server: the JSON API under /api/v1, OpenAPI at /api/openapi.json, /healthz,
 * and the React app's built files. Security headers and one error format apply everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { LogController, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { DomainError } from '../core/index.ts';
import type { Services } from '../services/index.ts';
import { makeAuthorise, type RouteAccess } from './access.ts';
import { errorHandler } from './error-handler.ts';
import { authRoutes } from './routes/auth.ts';
import { deviceRoutes } from './routes/devices.ts';
import { integrationRoutes } from './routes/integrations.ts';
import { unblockRoutes } from './routes/unblock.ts';
import { dohRoutes, type DohHandler } from './routes/doh.ts';
import { filterLogRoutes } from './routes/filter-log.ts';
import { filteringRoutes } from './routes/filtering.ts';
import { peopleRoutes } from './routes/people.ts';
import { tenancyRoutes } from './routes/tenancy.ts';
import type { Api } from './routes/types.ts';
import { userRoutes } from './routes/users.ts';

export interface ApiOptions {
  services: Services;
  /** Folder with the built web app (index.html); omitted in API-only tests. */
  webRoot?: string | undefined;
  logger?: FastifyServerOptions['logger'];
  /** Log every request (HAVEN_LOG_REQUESTS); off by default, errors are always logged. */
  logRequests?: boolean;
  /** Trust X-Forwarded-* from a reverse proxy (HAVEN_TRUST_PROXY). */
  trustProxy?: boolean | string;
  secureCookies?: 'auto' | boolean;
  version: string;
  /** Checked by /healthz: resolves when the database answers. */
  healthCheck: () => Promise<void>;
  /** The DNS filter's pipeline, for DNS-over-HTTPS at /dns-query; absent: no DoH. */
  doh?: DohHandler | undefined;
}

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export interface RouteInfo {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

const routeTables = new WeakMap<object, RouteInfo[]>();
/** Every route the API registered, with its access rule: the permission test walks these. */
export const routeTable = (app: object): readonly RouteInfo[] => routeTables.get(app) ?? [];

/** Defence in depth beside SameSite=Strict: a state-changing API request from another origin is refused. */
const refuseCrossSite = (request: FastifyRequest): void => {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.url.startsWith('/api/')) return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let same = false;
  try {
    same = origin !== 'null' && new URL(origin).host === new URL(`http://${request.headers.host ?? ''}`).host;
  } catch {
    same = false;
  }
  if (!same) throw new DomainError('FORBIDDEN', 'Cross-site requests are not allowed', 403);
};

export const buildApi = async (options: ApiOptions): Promise<Api> => {
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  // Bodies are checked exactly (42 is not a name; unknown fields are refused, not dropped);
  // query strings and path parameters arrive as text and are converted.
  const bodyAjv = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, strict: false });
  const textAjv = new Ajv({ removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  // Only JSON (and CSV for the importer) is accepted: a cross-site HTML form cannot post either.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['text/csv', 'application/csv', 'application/vnd.ms-excel'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      new DomainError('RATE_LIMITED', `Too many attempts: try again in ${Math.ceil(ctx.ttl / 1000)} seconds`, 429),
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Haven API',
        version: options.version,
        description: 'Online safety for UK schools: people, roles, audit, filtering, monitoring and safeguarding records.',
      },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'haven_session' } } },
      security: [{ session: [] }],
    },
  });

  const authorise = makeAuthorise(options.services);
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      refuseCrossSite(request);
      done();
    } catch (e) {
      done(e as Error);
    }
  });
  const table: RouteInfo[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') table.push({ method, url: route.url, access: route.config?.access });
    }
    if (!route.url.startsWith('/api/v1/')) return;
    // Checked when the request arrives, before its body is read or validated: a stranger gets
    // 401 and a forbidden role 403 without Haven parsing what they sent.
    const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [authorise, ...existing];
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/')) void reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.healthCheck();
      return { status: 'ok', version: options.version };
    } catch {
      return reply.status(503).send({ status: 'unavailable', version: options.version });
    }
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  const deps = { services: options.services, secureCookies: options.secureCookies ?? 'auto' };
  authRoutes(app, deps);
  tenancyRoutes(app, deps);
  peopleRoutes(app, deps);
  userRoutes(app, deps);
  filteringRoutes(app, deps);
  deviceRoutes(app, deps);
  integrationRoutes(app, deps);
  unblockRoutes(app, deps);
  filterLogRoutes(app, deps);
  if (options.doh) dohRoutes(app, options.doh);

  const webRoot = options.webRoot && existsSync(path.join(options.webRoot, 'index.html')) ? options.webRoot : undefined;
  if (webRoot) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  const indexHtml = webRoot ? readFileSync(path.join(webRoot, 'index.html')) : null;
  app.setNotFoundHandler((request, reply) => {
    if (request.method === 'GET' && !request.url.startsWith('/api/') && indexHtml) {
      return reply.type('text/html; charset=utf-8').send(indexHtml);
    }
    return reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `No such endpoint: ${request.method} ${request.url.split('?')[0]}` } });
  });
  return app;
};
