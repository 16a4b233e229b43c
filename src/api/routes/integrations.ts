/**
 * Integrations: the keys a school's own systems use (made, listed, revoked by IT), the login feed
 * those systems send (`POST /api/v1/identity/events`, key-authenticated), and the feed's newest
 * rows for the people who manage devices.
 */
import { Type } from 'typebox';
import { LOGIN_KINDS, LOGIN_SOURCES } from '../../core/index.ts';
import {
  INTEGRATION_SCOPES,
  MAX_KEY_NAME,
  MAX_LOGIN_EVENTS,
  MAX_LOGIN_TTL_SECONDS,
  MAX_USERNAME,
  MIN_LOGIN_TTL_SECONDS,
} from '../../services/index.ts';
import { Id, literals, Nullable, SchoolParams } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;

const IntegrationKey = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(literals(INTEGRATION_SCOPES)),
  hint: Type.String({ description: 'The key’s first characters, to tell keys apart' }),
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});

const LoginEvent = Type.Object(
  {
    type: literals(LOGIN_KINDS),
    ip: Type.String({ maxLength: 64, description: 'The computer’s address: 10.0.0.5 or 2001:db8::5' }),
    user: Type.String({ maxLength: MAX_USERNAME, description: 'Email, UPN, "jsmith" or "SCHOOL\\jsmith"' }),
    source: Type.Optional(literals(LOGIN_SOURCES)),
    at: Type.Optional(Type.String({ maxLength: 40, description: 'ISO-8601 with a zone; default: when received' })),
    ttlSeconds: Type.Optional(
      Type.Integer({ minimum: MIN_LOGIN_TTL_SECONDS, maximum: MAX_LOGIN_TTL_SECONDS, description: 'Logins only; default 10 hours' }),
    ),
  },
  strict,
);

const Login = Type.Object({
  seq: Type.Number(),
  kind: literals(LOGIN_KINDS),
  ip: Type.String(),
  username: Type.String(),
  personId: Nullable(Type.String()),
  personName: Nullable(Type.String()),
  source: literals(LOGIN_SOURCES),
  at: Type.String(),
  expiresAt: Nullable(Type.String()),
  receivedAt: Type.String(),
});

export const integrationRoutes = (app: Api, { services }: RouteDeps) => {
  app.get(
    '/api/v1/schools/:schoolId/integration-keys',
    {
      config: { access: { action: 'read', resource: 'integration_key' } },
      schema: {
        tags: ['integrations'],
        summary: 'A school’s integration keys (never the keys themselves)',
        params: SchoolParams,
        response: { 200: Type.Object({ items: Type.Array(IntegrationKey) }) },
      },
    },
    async (request) => ({ items: await services.integrationKeys.list(request.params.schoolId) }),
  );

  app.post(
    '/api/v1/schools/:schoolId/integration-keys',
    {
      config: { access: { action: 'create', resource: 'integration_key' } },
      schema: {
        tags: ['integrations'],
        summary: 'Make a key for a school system; the answer holds the key, shown this once',
        params: SchoolParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: MAX_KEY_NAME }),
            scopes: Type.Optional(Type.Array(literals(INTEGRATION_SCOPES), { minItems: 1, maxItems: INTEGRATION_SCOPES.length })),
          },
          strict,
        ),
        response: { 201: Type.Object({ key: IntegrationKey, secret: Type.String() }) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.integrationKeys.create(request.ctx, request.params.schoolId, request.body)),
  );

  app.post(
    '/api/v1/schools/:schoolId/integration-keys/:keyId/revoke',
    {
      config: { access: { action: 'update', resource: 'integration_key' } },
      schema: {
        tags: ['integrations'],
        summary: 'Revoke a key: it stops working at once',
        params: Type.Object({ schoolId: Id, keyId: Id }, strict),
        response: { 200: Type.Object({ key: IntegrationKey }) },
      },
    },
    async (request) => ({ key: await services.integrationKeys.revoke(request.ctx, request.params.schoolId, request.params.keyId) }),
  );

  app.get(
    '/api/v1/schools/:schoolId/logins',
    {
      config: { access: { action: 'read', resource: 'device' } },
      schema: {
        tags: ['integrations'],
        summary: 'The login feed’s newest rows: who logged in or out at which address',
        params: SchoolParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, strict),
        response: { 200: Type.Object({ items: Type.Array(Login) }) },
      },
    },
    async (request) => {
      const rows = await services.logins.recent(request.params.schoolId, request.query.limit ?? 200);
      return {
        items: rows.map((r) => ({
          seq: r.seq,
          kind: r.kind,
          ip: r.ip,
          username: r.username,
          personId: r.personId,
          personName: r.personName,
          source: r.source,
          at: r.at,
          expiresAt: r.expiresAt,
          receivedAt: r.receivedAt,
        })),
      };
    },
  );

  app.post(
    '/api/v1/identity/events',
    {
      config: { access: { integration: 'identity' }, rateLimit: { max: 600, timeWindow: '1 minute' } },
      schema: {
        tags: ['integrations'],
        summary: 'Tell Haven who logged in or out at which address (integration key with the identity scope)',
        description:
          'All or nothing: one bad event refuses the batch with every problem and its path. A login holds until its logout or ttlSeconds.',
        body: Type.Object({ events: Type.Array(LoginEvent, { minItems: 1, maxItems: MAX_LOGIN_EVENTS }) }, strict),
        response: { 200: Type.Object({ accepted: Type.Number(), results: Type.Array(Type.Object({ matched: Type.Boolean() })) }) },
      },
    },
    async (request) => {
      const results = await services.logins.record(request.integration, request.body.events);
      return { accepted: results.length, results };
    },
  );
};
