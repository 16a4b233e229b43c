/**
 * The DNS log: a school's filter events, newest first, searchable, for the roles that may read
 * it. Technical staff see safeguarding entries with the person hidden (decision 0009); every
 * search is audited by the service.
 */
import { Type } from 'typebox';
import { EVENT_SOURCES, FILTER_ACTIONS } from '../../core/index.ts';
import { Id, literals, Nullable, SchoolParams } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;

/**
 * Dates, addresses and categories are checked by the service, which can say what it wanted in
 * words ("since must be a date (2026-03-02) or a date and time with a time zone") where a
 * schema pattern could only quote a regular expression. Here they are bounded.
 */
const Instant = Type.String({
  maxLength: 40,
  description: 'A date (2026-03-02, midnight UTC) or a date-time with a time zone (2026-03-02T09:00:00Z, 2026-03-02T09:00+01:00)',
});

const filterFields = {
  since: Type.Optional(Instant),
  until: Type.Optional(Instant),
  host: Type.Optional(Type.String({ maxLength: 253, description: 'Part of the host name, matched literally' })),
  action: Type.Optional(literals(FILTER_ACTIONS)),
  category: Type.Optional(Type.String({ maxLength: 64, description: "A Haven category id, such as 'gambling'" })),
  source: Type.Optional(literals(EVENT_SOURCES)),
  personId: Type.Optional(Id),
  clientIp: Type.Optional(Type.String({ maxLength: 45, description: 'An IPv4 or IPv6 address' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
};

const FilterLogQuerystring = Type.Object(
  {
    ...filterFields,
    beforeId: Type.Optional(Type.Integer({ minimum: 1, description: 'Entries older than this id (the next page back)' })),
    afterId: Type.Optional(Type.Integer({ minimum: 0, description: 'Entries newer than this id' })),
  },
  strict,
);

const LiveQuerystring = Type.Object(
  { ...filterFields, afterId: Type.Integer({ minimum: 0, description: 'The newest id the caller has' }) },
  strict,
);

const FilterLogItem = Type.Object({
  id: Type.Number(),
  at: Type.String(),
  source: Type.String(),
  host: Type.String(),
  url: Nullable(Type.String()),
  qtype: Nullable(Type.String()),
  category: Nullable(Type.String()),
  list: Nullable(Type.String()),
  action: Type.String(),
  layer: Type.String(),
  ruleId: Nullable(Type.String()),
  flagged: Type.Boolean(),
  profile: Nullable(Type.String()),
  latencyUs: Type.Number(),
  personId: Nullable(Type.String()),
  person: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  clientIp: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  identityHidden: Type.Boolean(),
});

const FilterLogPage = Type.Object({
  items: Type.Array(FilterLogItem),
  nextBeforeId: Nullable(Type.Number()),
  truncated: Type.Boolean(),
  restricted: Type.Boolean(),
});

export const filterLogRoutes = (app: Api, { services }: RouteDeps) => {
  app.get(
    '/api/v1/schools/:schoolId/filter-log',
    {
      config: { access: { action: 'read', resource: 'filter_log' } },
      schema: {
        tags: ['filtering'],
        summary:
          'DNS log, newest first (beforeId pages back). IT and administrators see safeguarding entries with the ' +
          'person hidden and may not search by person. Every search is audited.',
        params: SchoolParams,
        querystring: FilterLogQuerystring,
        response: { 200: FilterLogPage },
      },
    },
    (request) => services.filterLog.search(request.ctx, request.params.schoolId, request.query),
  );

  // The live view's poll: the same search for entries newer than afterId. It does not count as
  // activity, so a screen left on Live still locks when nobody is at it.
  app.get(
    '/api/v1/schools/:schoolId/filter-log/live',
    {
      config: { access: { action: 'read', resource: 'filter_log', touch: false } },
      schema: {
        tags: ['filtering'],
        summary:
          'DNS log entries newer than afterId, for a live view (not counted as activity for the idle lock). ' +
          'truncated: more arrived than one answer holds.',
        params: SchoolParams,
        querystring: LiveQuerystring,
        response: { 200: FilterLogPage },
      },
    },
    (request) => services.filterLog.search(request.ctx, request.params.schoolId, request.query),
  );
};
