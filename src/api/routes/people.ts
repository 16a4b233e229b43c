/**
 * A school's people and groups, and the CSV import from its MIS.
 */
import { Type } from 'typebox';
import { DomainError } from '../../core/index.ts';
import {
  Group,
  GroupParams,
  ImportQuery,
  ImportReport,
  MemberParams,
  PeopleQuery,
  Person,
  PersonCreateBody,
  PersonParams,
  PersonUpdateBody,
  SchoolParams,
} from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;
const GroupName = Type.String({ minLength: 1, maxLength: 80 });

export const peopleRoutes = (app: Api, { services }: RouteDeps) => {
  const requireSchool = (id: string) => services.tenancy.requireSchool(id);

  app.get(
    '/api/v1/schools/:schoolId/people',
    {
      config: { access: { action: 'read', resource: 'person' } },
      schema: {
        tags: ['people'],
        summary: 'Find people',
        params: SchoolParams,
        querystring: PeopleQuery,
        response: { 200: Type.Object({ items: Type.Array(Person), total: Type.Number() }) },
      },
    },
    async (request) => {
      await requireSchool(request.params.schoolId);
      const q = request.query;
      return services.people.list({ ...q, schoolId: request.params.schoolId, limit: q.limit ?? 50, offset: q.offset ?? 0 });
    },
  );

  app.post(
    '/api/v1/schools/:schoolId/people',
    {
      config: { access: { action: 'create', resource: 'person' } },
      schema: {
        tags: ['people'],
        summary: 'Add a person',
        params: SchoolParams,
        body: PersonCreateBody,
        response: { 201: Type.Object({ person: Person }) },
      },
    },
    async (request, reply) => {
      await requireSchool(request.params.schoolId);
      return reply.status(201).send({ person: await services.people.create(request.ctx, request.params.schoolId, request.body) });
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/people/:personId',
    {
      config: { access: { action: 'read', resource: 'person' } },
      schema: {
        tags: ['people'],
        summary: 'One person with their family links and groups (audited)',
        params: PersonParams,
        response: {
          200: Type.Object({ person: Person, parents: Type.Array(Person), children: Type.Array(Person), groups: Type.Array(Group) }),
        },
      },
    },
    async (request) => services.people.detail(request.ctx, request.params.schoolId, request.params.personId),
  );

  app.patch(
    '/api/v1/schools/:schoolId/people/:personId',
    {
      config: { access: { action: 'update', resource: 'person' } },
      schema: {
        tags: ['people'],
        summary: 'Correct a person or mark them as left',
        params: PersonParams,
        body: PersonUpdateBody,
        response: { 200: Type.Object({ person: Person }) },
      },
    },
    async (request) => ({
      person: await services.people.update(request.ctx, request.params.schoolId, request.params.personId, request.body),
    }),
  );

  app.post(
    '/api/v1/schools/:schoolId/people/import',
    {
      config: { access: { action: 'import', resource: 'person' } },
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags: ['people'],
        summary: 'Import people from a MIS CSV export (text/csv); dryRun checks without saving',
        params: SchoolParams,
        querystring: ImportQuery,
        response: { 200: Type.Object({ report: ImportReport }) },
      },
    },
    async (request) => {
      await requireSchool(request.params.schoolId);
      if (!Buffer.isBuffer(request.body))
        throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the CSV file as the request body with Content-Type: text/csv', 415);
      const report = await services.importPeople(request.ctx, {
        schoolId: request.params.schoolId,
        csv: request.body,
        dryRun: request.query.dryRun ?? false,
        skipInvalid: request.query.skipInvalid ?? false,
      });
      return { report };
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/groups',
    {
      config: { access: { action: 'read', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'Groups of a school',
        params: SchoolParams,
        response: { 200: Type.Object({ items: Type.Array(Group) }) },
      },
    },
    async (request) => {
      await requireSchool(request.params.schoolId);
      return { items: await services.groups.list(request.params.schoolId) };
    },
  );

  app.post(
    '/api/v1/schools/:schoolId/groups',
    {
      config: { access: { action: 'create', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'Make a custom group',
        params: SchoolParams,
        body: Type.Object({ name: GroupName }, strict),
        response: { 201: Type.Object({ group: Group }) },
      },
    },
    async (request, reply) => {
      await requireSchool(request.params.schoolId);
      return reply.status(201).send({ group: await services.groups.create(request.ctx, request.params.schoolId, request.body.name) });
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/groups/:groupId',
    {
      config: { access: { action: 'read', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'A group and its members',
        params: GroupParams,
        response: { 200: Type.Object({ group: Group, members: Type.Array(Person) }) },
      },
    },
    async (request) => services.groups.detail(request.params.schoolId, request.params.groupId),
  );

  app.patch(
    '/api/v1/schools/:schoolId/groups/:groupId',
    {
      config: { access: { action: 'update', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'Rename a custom group',
        params: GroupParams,
        body: Type.Object({ name: GroupName }, strict),
        response: { 200: Type.Object({ group: Group }) },
      },
    },
    async (request) => ({
      group: await services.groups.rename(request.ctx, request.params.schoolId, request.params.groupId, request.body.name),
    }),
  );

  app.post(
    '/api/v1/schools/:schoolId/groups/:groupId/members',
    {
      config: { access: { action: 'update', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'Add a person to a custom group',
        params: GroupParams,
        body: Type.Object({ personId: Type.String({ minLength: 1, maxLength: 64 }) }, strict),
        response: { 200: Type.Object({ group: Group }) },
      },
    },
    async (request) => ({
      group: await services.groups.addMember(request.ctx, request.params.schoolId, request.params.groupId, request.body.personId),
    }),
  );

  app.delete(
    '/api/v1/schools/:schoolId/groups/:groupId/members/:personId',
    {
      config: { access: { action: 'update', resource: 'group' } },
      schema: {
        tags: ['groups'],
        summary: 'Remove a person from a custom group',
        params: MemberParams,
        response: { 200: Type.Object({ group: Group }) },
      },
    },
    async (request) => ({
      group: await services.groups.removeMember(request.ctx, request.params.schoolId, request.params.groupId, request.params.personId),
    }),
  );
};
