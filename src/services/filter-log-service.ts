/**
 * The DNS (and later proxy) log: searching a school's filter events, newest first, with the
 * names of the people behind them. Who sees whom is decision 0009 ("Who sees the DNS log"):
 * viewers whose only roles at the school are technical (admin, it_manager) see safeguarding
 * entries with the person, address and device hidden, and may not search by person. Every
 * search is recorded in the audit log with the filters used, never the results.
 */
import { isIP } from 'node:net';
import {
  can,
  categoryById,
  DomainError,
  forbidden,
  invalid,
  notFound,
  rolesFor,
  type EventQuery,
  type EventSource,
  type FilterAction,
  type Role,
  type StoredFilterEvent,
} from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

export const FILTER_LOG_MAX_LIMIT = 200;
export const FILTER_LOG_DEFAULT_LIMIT = 100;

/** Roles that may see who was behind a safeguarding entry (KCSIE: the DSL and those who share the role). */
export const SAFEGUARDING_VIEWERS: readonly Role[] = ['dsl', 'deputy_dsl', 'online_safety_lead', 'headteacher'];

/** What the caller asks for; strings as they came (the service checks and normalises them). */
export interface FilterLogQuery {
  since?: string | undefined;
  until?: string | undefined;
  host?: string | undefined;
  action?: FilterAction | undefined;
  category?: string | undefined;
  source?: EventSource | undefined;
  personId?: string | undefined;
  clientIp?: string | undefined;
  /** Older than this id (the "Older" button). */
  beforeId?: number | undefined;
  /** Newer than this id (the live view's poll). */
  afterId?: number | undefined;
  limit?: number | undefined;
}

export interface FilterLogItem {
  id: number;
  at: string;
  source: EventSource;
  host: string;
  url: string | null;
  qtype: string | null;
  category: string | null;
  list: string | null;
  action: FilterAction;
  layer: StoredFilterEvent['layer'];
  ruleId: string | null;
  flagged: boolean;
  profile: string | null;
  latencyUs: number;
  personId: string | null;
  /** The person's name when known; null when nobody was identified, the person is gone, or it is hidden. */
  person: { id: string; name: string } | null;
  clientIp: string | null;
  deviceId: string | null;
  /** True when who asked is hidden from this viewer (a safeguarding entry seen by technical staff). */
  identityHidden: boolean;
}

export interface FilterLogPage {
  items: FilterLogItem[];
  /** Pass as beforeId for the next (older) page; null when there is nothing older. */
  nextBeforeId: number | null;
  /**
   * For a live poll (afterId): more new events arrived than one answer holds, so the ones between
   * afterId and the oldest item returned are missing; start again from this page.
   */
  truncated: boolean;
  /** Whether who asked is hidden on safeguarding entries for this viewer. */
  restricted: boolean;
}

/** A safeguarding entry: a safeguarding category (the illegal tier is one), the illegal layer, or flagged for the DSL. */
export const isSafeguardingEvent = (e: Pick<StoredFilterEvent, 'category' | 'layer' | 'flagged'>): boolean =>
  e.flagged ||
  e.layer === 'illegal' ||
  e.category === 'illegal' ||
  (e.category !== null && categoryById(e.category)?.safeguarding === true);

/** Whether this viewer sees safeguarding entries with people hidden: no safeguarding role at the school. */
export const isRestrictedViewer = (ctx: RequestContext, schoolId: string): boolean =>
  !rolesFor(ctx.actor, { type: 'filter_log', schoolId }).some((r) => SAFEGUARDING_VIEWERS.includes(r));

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date or date-time with a zone, in the stored form (UTC, milliseconds), or a 400. */
const isoInstant = (value: string, field: 'since' | 'until'): string => {
  const s = value.trim();
  const dateOnly = DATE_ONLY.test(s);
  const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  // Date.parse would roll 30 February over into March; a real calendar date reads back the same.
  const realDay = day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
  const ms = !realDay ? Number.NaN : dateOnly ? day.getTime() : DATE_TIME.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalid(`${field} must be a date (2026-03-02) or a date and time with a time zone (2026-03-02T09:00:00Z)`, [
      { path: `/${field}`, message: 'is not a valid date or date-time' },
    ]);
  }
  return new Date(ms).toISOString();
};

/** A URL without its query and fragment, which can carry search terms. */
const withoutQuery = (url: string | null): string | null => (url === null ? null : url.replace(/[?#].*$/s, ''));

const CATEGORY_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const cleanIp = (value: string): string => {
  const s = value.trim();
  if (isIP(s) !== 0) return s.toLowerCase();
  throw invalid('clientIp must be an IPv4 or IPv6 address, such as 10.0.0.5', [{ path: '/clientIp', message: 'is not an IP address' }]);
};

/** Live polls (afterId) are recorded once when they start and then at most this often, not every few seconds. */
const LIVE_AUDIT_EVERY_MS = 10 * 60_000;
const LIVE_AUDIT_MEMORY = 1000;

export const createFilterLogService = (deps: ServiceDeps) => {
  const { store } = deps;
  const liveAudited = new Map<string, number>();

  const shouldAudit = (ctx: RequestContext, schoolId: string, detail: Record<string, unknown>, live: boolean): boolean => {
    if (!live) return true;
    const key = JSON.stringify([ctx.actor.userId, schoolId, detail]);
    const now = deps.clock.now().getTime();
    const last = liveAudited.get(key);
    if (last !== undefined && now - last < LIVE_AUDIT_EVERY_MS) return false;
    liveAudited.delete(key);
    liveAudited.set(key, now);
    // Oldest first in a Map: forget the longest-ago when it grows.
    while (liveAudited.size > LIVE_AUDIT_MEMORY) liveAudited.delete(liveAudited.keys().next().value!);
    return true;
  };

  return {
    async search(ctx: RequestContext, schoolId: string, query: FilterLogQuery): Promise<FilterLogPage> {
      // The API checked this already; a service never trusts its caller to have done so.
      if (!can(ctx.actor, 'read', { type: 'filter_log', schoolId })) throw forbidden();
      if (!(await store.tenancy.getSchool(schoolId))) throw notFound('SCHOOL_NOT_FOUND', 'School');

      const restricted = isRestrictedViewer(ctx, schoolId);
      const limit = Math.min(Math.max(Math.trunc(query.limit ?? FILTER_LOG_DEFAULT_LIMIT), 1), FILTER_LOG_MAX_LIMIT);
      const since = query.since ? isoInstant(query.since, 'since') : undefined;
      const until = query.until ? isoInstant(query.until, 'until') : undefined;
      if (since !== undefined && until !== undefined && since >= until) {
        throw invalid('since must be before until', [{ path: '/until', message: 'must be after since' }]);
      }
      const host = query.host?.trim().toLowerCase() || undefined;
      const category = query.category?.trim() || undefined;
      if (category !== undefined && !CATEGORY_ID.test(category)) {
        throw invalid('category must be a category id in lower case, such as gambling or self-harm', [
          { path: '/category', message: 'is not a category id' },
        ]);
      }
      const personId = query.personId?.trim() || undefined;
      const clientIp = query.clientIp?.trim() ? cleanIp(query.clientIp) : undefined;
      const live = query.afterId !== undefined;
      if (live && query.beforeId !== undefined) throw invalid('Ask for newer (afterId) or older (beforeId) events, not both');

      // What was asked, for the audit log: filters only, never what came back.
      const detail: Record<string, unknown> = Object.fromEntries(
        Object.entries({ since, until, host, action: query.action, category, source: query.source, personId, clientIp }).filter(
          ([, v]) => v !== undefined,
        ),
      );

      if (restricted && personId !== undefined) {
        await recordAudit(store, ctx, nowIso(deps), {
          action: 'filter_log.refused',
          resourceType: 'filter_log',
          schoolId,
          detail: { ...detail, reason: 'person search needs a safeguarding role' },
        });
        throw new DomainError(
          'FORBIDDEN',
          'Searching the DNS log by person needs a safeguarding role (DSL, deputy DSL, online safety lead or headteacher). ' +
            'IT and administrators can search by host, address, category or action; ask your DSL to look into a person.',
          403,
        );
      }

      const q: EventQuery = {
        schoolIds: [schoolId],
        since,
        until,
        host,
        personId,
        clientIp,
        action: query.action,
        category,
        source: query.source,
        beforeId: query.beforeId,
        limit,
      };
      const raw = await store.events.query(q);

      if (shouldAudit(ctx, schoolId, detail, live)) {
        await recordAudit(store, ctx, nowIso(deps), {
          action: 'filter_log.viewed',
          resourceType: 'filter_log',
          schoolId,
          detail: { ...detail, ...(query.beforeId !== undefined && { beforeId: query.beforeId }), ...(live && { live: true }), limit },
        });
      }

      const afterId = query.afterId;
      const fresh = afterId === undefined ? raw : raw.filter((e) => e.id > afterId);
      const truncated = afterId !== undefined && raw.length === limit && fresh.length === raw.length;
      // Searching technical staff by address must not single out that address's safeguarding entries.
      const visible = restricted && clientIp !== undefined ? fresh.filter((e) => !isSafeguardingEvent(e)) : fresh;

      // Names, one look-up per person however many of their events are on the page.
      const names = new Map<string, Promise<string | null>>();
      const nameOf = (id: string) => {
        let p = names.get(id);
        if (!p) {
          p = store.people
            .get(id)
            .then((person) => (person && person.schoolId === schoolId ? `${person.firstName} ${person.lastName}`.trim() : null));
          names.set(id, p);
        }
        return p;
      };

      const items = await Promise.all(
        visible.map(async (e): Promise<FilterLogItem> => {
          const hidden = restricted && isSafeguardingEvent(e);
          const name = !hidden && e.personId !== null ? await nameOf(e.personId) : null;
          return {
            id: e.id,
            at: e.at,
            source: e.source,
            host: e.host,
            // A URL can carry search terms, which are the DSL's to read: technical staff see only where it went.
            url: hidden ? null : restricted ? withoutQuery(e.url) : e.url,
            qtype: e.qtype,
            category: e.category,
            list: e.list,
            action: e.action,
            layer: e.layer,
            ruleId: e.ruleId,
            flagged: e.flagged,
            profile: e.profile,
            latencyUs: e.latencyUs,
            personId: hidden ? null : e.personId,
            person: name !== null && e.personId !== null ? { id: e.personId, name } : null,
            clientIp: hidden ? null : e.clientIp,
            deviceId: hidden ? null : e.deviceId,
            identityHidden: hidden,
          };
        }),
      );
      const last = raw.at(-1);
      return { items, nextBeforeId: raw.length === limit && last ? last.id : null, truncated, restricted };
    },
  };
};

export type FilterLogService = ReturnType<typeof createFilterLogService>;
