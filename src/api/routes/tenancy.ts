/**
 * The trust, its schools, the dashboard and reference data for forms.
 */
import { Type } from 'typebox';
import { MFA_REQUIRED_ROLES, ROLE_LABELS, ROLES } from '../../core/index.ts';
import { Nullable, School, SchoolParams, Trust } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;
const Urn = Type.String({ maxLength: 6, pattern: '^(\\d{6})?$' });

export const tenancyRoutes = (app: Api, { services }: RouteDeps) => {
  app.get(
    '/api/v1/meta/roles',
    {
      config: { access: { action: 'read', resource: 'account' } },
      schema: {
        tags: ['meta'],
        summary: 'The roles Haven knows, with labels and whether they need 2FA',
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ role: Type.String(), label: Type.String(), mfaRequired: Type.Boolean() })) }),
        },
      },
    },
    () => Promise.resolve({ items: ROLES.map((role) => ({ role, label: ROLE_LABELS[role], mfaRequired: MFA_REQUIRED_ROLES.has(role) })) }),
  );

  app.get(
    '/api/v1/dashboard',
    {
      config: { access: { action: 'read', resource: 'dashboard' } },
      schema: {
        tags: ['dashboard'],
        summary: 'Figures for the home screen, limited to what the user may see',
        response: {
          200: Type.Object({
            trust: Nullable(Trust),
            schoolCount: Type.Number(),
            schools: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
            people: Type.Record(Type.String(), Type.Number()),
            groupCount: Type.Number(),
            userCount: Nullable(Type.Number()),
          }),
        },
      },
    },
    async (request) => services.dashboard.summary(request.ctx),
  );

  app.get(
    '/api/v1/trust',
    {
      config: { access: { action: 'read', resource: 'trust' } },
      schema: { tags: ['trust'], summary: 'The trust', response: { 200: Type.Object({ trust: Nullable(Trust) }) } },
    },
    async () => ({ trust: await services.tenancy.getTrust() }),
  );

  app.patch(
    '/api/v1/trust',
    {
      config: { access: { action: 'update', resource: 'trust' } },
      schema: {
        tags: ['trust'],
        summary: 'Rename the trust',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }) }, strict),
        response: { 200: Type.Object({ trust: Trust }) },
      },
    },
    async (request) => ({ trust: await services.tenancy.renameTrust(request.ctx, request.body.name) }),
  );

  app.get(
    '/api/v1/schools',
    {
      config: { access: { action: 'read', resource: 'school' } },
      schema: {
        tags: ['schools'],
        summary: 'Schools the user belongs to (all, for trust-wide roles)',
        response: { 200: Type.Object({ items: Type.Array(School) }) },
      },
    },
    async (request) => ({ items: await services.tenancy.listSchools(request.ctx) }),
  );

  app.post(
    '/api/v1/schools',
    {
      config: { access: { action: 'create', resource: 'school' } },
      schema: {
        tags: ['schools'],
        summary: 'Add a school to the trust',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }), urn: Type.Optional(Nullable(Urn)) }, strict),
        response: { 201: Type.Object({ school: School }) },
      },
    },
    async (request, reply) => reply.status(201).send({ school: await services.tenancy.createSchool(request.ctx, request.body) }),
  );

  app.get(
    '/api/v1/schools/:schoolId',
    {
      config: { access: { action: 'read', resource: 'school' } },
      schema: { tags: ['schools'], summary: 'One school', params: SchoolParams, response: { 200: Type.Object({ school: School }) } },
    },
    async (request) => ({ school: await services.tenancy.requireSchool(request.params.schoolId) }),
  );

  app.patch(
    '/api/v1/schools/:schoolId',
    {
      config: { access: { action: 'update', resource: 'school' } },
      schema: {
        tags: ['schools'],
        summary: 'Rename a school or set its URN',
        params: SchoolParams,
        body: Type.Object(
          { name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })), urn: Type.Optional(Nullable(Urn)) },
          strict,
        ),
        response: { 200: Type.Object({ school: School }) },
      },
    },
    async (request) => ({ school: await services.tenancy.updateSchool(request.ctx, request.params.schoolId, request.body) }),
  );
};
