/**
 * User accounts and roles (administrators), and the audit log (administrators and the DPO).
 */
import { Type } from 'typebox';
import { AuditEntry, Grant, Nullable, UserParams, UserSummary } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;

export const userRoutes = (app: Api, { services }: RouteDeps) => {
  app.get(
    '/api/v1/users',
    {
      config: { access: { action: 'read', resource: 'user' } },
      schema: { tags: ['users'], summary: 'All users', response: { 200: Type.Object({ items: Type.Array(UserSummary) }) } },
    },
    async () => ({ items: await services.users.list() }),
  );

  app.post(
    '/api/v1/users',
    {
      config: { access: { action: 'create', resource: 'user' } },
      schema: {
        tags: ['users'],
        summary: 'Add a user; returns a one-time password to hand over',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 254 }),
            displayName: Type.String({ minLength: 1, maxLength: 100 }),
            grants: Type.Array(Grant, { maxItems: 50 }),
          },
          strict,
        ),
        response: { 201: Type.Object({ user: UserSummary, temporaryPassword: Nullable(Type.String()) }) },
      },
    },
    async (request, reply) => reply.status(201).send(await services.users.create(request.ctx, request.body)),
  );

  app.patch(
    '/api/v1/users/:userId',
    {
      config: { access: { action: 'update', resource: 'user' } },
      schema: {
        tags: ['users'],
        summary: 'Change a user’s name or roles, or disable them',
        params: UserParams,
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            grants: Type.Optional(Type.Array(Grant, { maxItems: 50 })),
            disabled: Type.Optional(Type.Boolean()),
          },
          strict,
        ),
        response: { 200: Type.Object({ user: UserSummary }) },
      },
    },
    async (request) => ({ user: await services.users.update(request.ctx, request.params.userId, request.body) }),
  );

  app.post(
    '/api/v1/users/:userId/reset-password',
    {
      config: { access: { action: 'reset_password', resource: 'user' } },
      schema: {
        tags: ['users'],
        summary: 'Issue a one-time password (and optionally clear two-factor)',
        params: UserParams,
        body: Type.Object({ resetTwoFactor: Type.Optional(Type.Boolean()) }, strict),
        response: { 200: Type.Object({ temporaryPassword: Type.String() }) },
      },
    },
    async (request) => services.users.resetPassword(request.ctx, request.params.userId, request.body.resetTwoFactor ?? false),
  );

  app.get(
    '/api/v1/audit',
    {
      config: { access: { action: 'read', resource: 'audit' } },
      schema: {
        tags: ['audit'],
        summary: 'Audit log, newest first (reading it is itself audited)',
        querystring: Type.Object(
          {
            action: Type.Optional(Type.String({ maxLength: 100 })),
            resourceType: Type.Optional(Type.String({ maxLength: 50 })),
            resourceId: Type.Optional(Type.String({ maxLength: 64 })),
            actorUserId: Type.Optional(Type.String({ maxLength: 64 })),
            schoolId: Type.Optional(Type.String({ maxLength: 64 })),
            beforeSeq: Type.Optional(Type.Integer({ minimum: 1 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(AuditEntry), nextBeforeSeq: Nullable(Type.Number()) }) },
      },
    },
    async (request) => services.audit.list(request.ctx, { ...request.query, limit: request.query.limit ?? 100 }),
  );

  app.get(
    '/api/v1/audit/verify',
    {
      config: { access: { action: 'verify', resource: 'audit' } },
      schema: {
        tags: ['audit'],
        summary: 'Check the audit log’s hash chain end to end',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            checked: Type.Number(),
            problem: Nullable(Type.Object({ seq: Type.Number(), kind: Type.String(), message: Type.String() })),
          }),
        },
      },
    },
    async () => services.audit.verify(),
  );
};
