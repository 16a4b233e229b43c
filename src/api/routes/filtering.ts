/**
 * Filtering: the trust's and each school's policy (read, change with a reason, history), the
 * lists in use and the illegal tier's self-check, teachers' overrides, and "check a site", which
 * shows what the filter would do and why.
 */
import { Type } from 'typebox';
import { HAVEN_CATEGORIES, type SchoolPolicy, type TrustPolicy } from '../../core/index.ts';
import {
  CheckBody,
  OverrideCreateBody,
  OverrideRevokeBody,
  OverrideSchema,
  PolicyMeta,
  SaveResult,
  SchoolPolicySaveBody,
  TrustPolicySaveBody,
  VersionSummary,
} from '../policy-schemas.ts';
import { Id, SchoolParams } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;
const HistoryQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, strict);
const VersionParams = Type.Object({ version: Type.Integer({ minimum: 1 }) }, strict);
const SchoolVersionParams = Type.Object({ schoolId: Id, version: Type.Integer({ minimum: 1 }) }, strict);
const OverrideParams = Type.Object({ schoolId: Id, overrideId: Id }, strict);

const Category = Type.Object({
  id: Type.String(),
  label: Type.String(),
  description: Type.String(),
  kind: Type.String(),
  locked: Type.Boolean(),
  safeguarding: Type.Boolean(),
  uksic: Type.Boolean(),
});

const Decision = Type.Object({
  action: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  rule: Type.Union([Type.Object({ id: Type.String(), description: Type.String() }), Type.Null()]),
  layer: Type.String(),
  reason: Type.String(),
  safeSearch: Type.Boolean(),
  youtube: Type.String(),
  flagged: Type.Boolean(),
  overrideId: Type.Optional(Type.String()),
});

export const filteringRoutes = (app: Api, { services }: RouteDeps) => {
  const policies = services.policies;

  app.get(
    '/api/v1/filtering/categories',
    {
      config: { access: { action: 'read', resource: 'filter_override' } },
      schema: { tags: ['filtering'], summary: "Haven's categories", response: { 200: Type.Object({ items: Type.Array(Category) }) } },
    },
    () => ({
      items: HAVEN_CATEGORIES.map((c) => ({
        id: c.id,
        label: c.label,
        description: c.description,
        kind: c.kind,
        locked: c.locked,
        safeguarding: c.safeguarding,
        uksic: c.uksic,
      })),
    }),
  );

  app.get(
    '/api/v1/filtering/lists',
    {
      config: { access: { action: 'read', resource: 'filtering' } },
      schema: {
        tags: ['filtering'],
        summary: 'The category lists in use and the illegal-content tier self-check',
        response: {
          200: Type.Object({
            manifest: Type.Union([Type.Unknown(), Type.Null()]),
            illegal: Type.Object({
              ok: Type.Boolean(),
              canaries: Type.Array(Type.Object({ entry: Type.String(), blocked: Type.Boolean() })),
              entries: Type.Record(Type.String(), Type.Number()),
            }),
          }),
        },
      },
    },
    async () => {
      const { manifest, illegal } = await services.filter.classification();
      return { manifest, illegal: illegal.selfCheck() };
    },
  );

  app.get(
    '/api/v1/trust/filtering-policy',
    {
      config: { access: { action: 'read', resource: 'trust_filtering' } },
      schema: {
        tags: ['filtering'],
        summary: "The trust's filtering policy every school inherits (version 0: Haven's defaults)",
        response: { 200: Type.Object({ ...PolicyMeta, policy: Type.Unknown() }) },
      },
    },
    () => policies.trustPolicy(),
  );

  app.put(
    '/api/v1/trust/filtering-policy',
    {
      config: { access: { action: 'update', resource: 'trust_filtering' } },
      schema: {
        tags: ['filtering'],
        summary: "Change the trust's policy (a reason is required; refused if someone saved since baseVersion)",
        body: TrustPolicySaveBody,
        response: { 200: SaveResult },
      },
    },
    (request) => policies.saveTrustPolicy(request.ctx, { ...request.body, policy: request.body.policy as unknown as TrustPolicy }),
  );

  app.get(
    '/api/v1/trust/filtering-policy/history',
    {
      config: { access: { action: 'read', resource: 'trust_filtering' } },
      schema: {
        tags: ['filtering'],
        summary: 'Every saved version of the trust policy, newest first, with who, when, why and what changed',
        querystring: HistoryQuery,
        response: { 200: Type.Object({ items: Type.Array(VersionSummary) }) },
      },
    },
    async (request) => {
      const trust = await policies.trustPolicy();
      return { items: await policies.history('trust', trust.policy.trustId, request.query.limit) };
    },
  );

  app.get(
    '/api/v1/trust/filtering-policy/versions/:version',
    {
      config: { access: { action: 'read', resource: 'trust_filtering' } },
      schema: { tags: ['filtering'], summary: 'One saved version of the trust policy', params: VersionParams },
    },
    async (request) => {
      const trust = await policies.trustPolicy();
      return policies.version('trust', trust.policy.trustId, request.params.version);
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/filtering-policy',
    {
      config: { access: { action: 'read', resource: 'filtering' } },
      schema: {
        tags: ['filtering'],
        summary: "A school's changes to the trust policy, the trust policy it inherits, and the result",
        params: SchoolParams,
        response: {
          200: Type.Object({
            ...PolicyMeta,
            policy: Type.Unknown(),
            trust: Type.Object({ ...PolicyMeta, policy: Type.Unknown() }),
            effective: Type.Unknown(),
          }),
        },
      },
    },
    async (request) => {
      const schoolId = request.params.schoolId;
      const [school, trust, effective] = await Promise.all([
        policies.schoolPolicy(schoolId),
        policies.trustPolicy(),
        policies.effectivePolicy(schoolId),
      ]);
      return { ...school, trust, effective };
    },
  );

  app.put(
    '/api/v1/schools/:schoolId/filtering-policy',
    {
      config: { access: { action: 'update', resource: 'filtering' } },
      schema: {
        tags: ['filtering'],
        summary: "Change a school's policy (a reason is required; refused if someone saved since baseVersion)",
        params: SchoolParams,
        body: SchoolPolicySaveBody,
        response: { 200: SaveResult },
      },
    },
    (request) =>
      policies.saveSchoolPolicy(request.ctx, request.params.schoolId, {
        ...request.body,
        policy: request.body.policy as unknown as SchoolPolicy,
      }),
  );

  app.get(
    '/api/v1/schools/:schoolId/filtering-policy/history',
    {
      config: { access: { action: 'read', resource: 'filtering' } },
      schema: {
        tags: ['filtering'],
        summary: "Every saved version of a school's policy, newest first",
        params: SchoolParams,
        querystring: HistoryQuery,
        response: { 200: Type.Object({ items: Type.Array(VersionSummary) }) },
      },
    },
    async (request) => {
      await services.tenancy.requireSchool(request.params.schoolId);
      return { items: await policies.history('school', request.params.schoolId, request.query.limit) };
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/filtering-policy/versions/:version',
    {
      config: { access: { action: 'read', resource: 'filtering' } },
      schema: { tags: ['filtering'], summary: "One saved version of a school's policy", params: SchoolVersionParams },
    },
    (request) => policies.version('school', request.params.schoolId, request.params.version),
  );

  app.post(
    '/api/v1/schools/:schoolId/filtering/check',
    {
      config: { access: { action: 'read', resource: 'filtering' } },
      schema: {
        tags: ['filtering'],
        summary: 'What the filter does with a site for a person, group, time and place, and why',
        params: SchoolParams,
        body: CheckBody,
        response: {
          200: Type.Object({
            host: Type.Union([Type.String(), Type.Null()]),
            category: Type.Union([Type.String(), Type.Null()]),
            source: Type.Union([Type.String(), Type.Null()]),
            decision: Type.Union([Decision, Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const r = await policies.check(request.params.schoolId, request.body);
      return { host: r.classification.host, category: r.classification.category, source: r.classification.source, decision: r.decision };
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/overrides',
    {
      config: { access: { action: 'read', resource: 'filter_override' } },
      schema: {
        tags: ['filtering'],
        summary: "Teachers' overrides (newest first) and what the policy lets teachers open",
        params: SchoolParams,
        querystring: HistoryQuery,
        response: {
          200: Type.Object({
            items: Type.Array(OverrideSchema),
            settings: Type.Object({
              categories: Type.Array(Type.Object({ id: Type.String(), label: Type.String() })),
              sites: Type.Boolean(),
              maxMinutes: Type.Number(),
            }),
          }),
        },
      },
    },
    (request) => policies.overrides(request.params.schoolId, request.query.limit === undefined ? {} : { limit: request.query.limit }),
  );

  app.post(
    '/api/v1/schools/:schoolId/overrides',
    {
      config: { access: { action: 'create', resource: 'filter_override' } },
      schema: {
        tags: ['filtering'],
        summary: 'Open sites or categories for a class until an expiry (within what the policy allows)',
        params: SchoolParams,
        body: OverrideCreateBody,
        response: { 201: Type.Object({ override: OverrideSchema }) },
      },
    },
    async (request, reply) =>
      reply.status(201).send({ override: await policies.createOverride(request.ctx, request.params.schoolId, request.body) }),
  );

  app.post(
    '/api/v1/schools/:schoolId/overrides/:overrideId/revoke',
    {
      config: { access: { action: 'update', resource: 'filter_override' } },
      schema: {
        tags: ['filtering'],
        summary: 'End an override early (whoever made it, or a filtering manager)',
        params: OverrideParams,
        body: OverrideRevokeBody,
        response: { 200: Type.Object({ override: OverrideSchema }) },
      },
    },
    async (request) => ({
      override: await policies.revokeOverride(request.ctx, request.params.schoolId, request.params.overrideId, request.body.reason),
    }),
  );
};
