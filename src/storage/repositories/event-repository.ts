import { sql, type Kysely } from 'kysely';
import type { EventRepository, FilterEvent, StoredFilterEvent } from '../../core/index.ts';
import type { DB, FilterEventTable } from '../schema.ts';

type Row = Omit<FilterEventTable, 'id'> & { id: number | string };

const toEvent = (r: Row): StoredFilterEvent => ({
  id: Number(r.id),
  at: r.at,
  source: r.source as StoredFilterEvent['source'],
  schoolId: r.school_id,
  clientIp: r.client_ip,
  personId: r.person_id,
  deviceId: r.device_id,
  profile: r.profile,
  host: r.host,
  url: r.url,
  qtype: r.qtype,
  category: r.category,
  list: r.list,
  action: r.action as StoredFilterEvent['action'],
  layer: r.layer as StoredFilterEvent['layer'],
  ruleId: r.rule_id,
  flagged: r.flagged === 1,
  latencyUs: r.latency_us,
});

const toRow = (e: FilterEvent): Omit<FilterEventTable, 'id'> => ({
  at: e.at,
  source: e.source,
  school_id: e.schoolId,
  client_ip: e.clientIp,
  person_id: e.personId,
  device_id: e.deviceId,
  profile: e.profile,
  host: e.host,
  url: e.url,
  qtype: e.qtype,
  category: e.category,
  list: e.list,
  action: e.action,
  layer: e.layer,
  rule_id: e.ruleId,
  flagged: e.flagged ? 1 : 0,
  latency_us: Math.max(0, Math.round(e.latencyUs)),
});

/** Rows per INSERT: under SQLite's 32,766 bound parameters at 17 columns. */
const CHUNK = 1000;

/** LIKE with the user's text taken literally. */
const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const kyselyEventRepository = (db: Kysely<DB>): EventRepository => ({
  async insertBatch(events) {
    for (let i = 0; i < events.length; i += CHUNK) {
      await db
        .insertInto('filter_event')
        .values(events.slice(i, i + CHUNK).map(toRow))
        .execute();
    }
  },
  async query(q) {
    let query = db.selectFrom('filter_event').selectAll();
    if (q.schoolIds !== 'all') {
      if (q.schoolIds.length === 0) return [];
      query = query.where('school_id', 'in', [...q.schoolIds]);
    }
    if (q.since !== undefined) query = query.where('at', '>=', q.since);
    if (q.until !== undefined) query = query.where('at', '<', q.until);
    if (q.host !== undefined && q.host !== '')
      query = query.where(sql<boolean>`host LIKE ${likeLiteral(q.host.toLowerCase())} ESCAPE '\\'`);
    if (q.personId !== undefined) query = query.where('person_id', '=', q.personId);
    if (q.clientIp !== undefined) query = query.where('client_ip', '=', q.clientIp);
    if (q.action !== undefined) query = query.where('action', '=', q.action);
    if (q.category !== undefined) query = query.where('category', '=', q.category);
    if (q.source !== undefined) query = query.where('source', '=', q.source);
    if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
    const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(toEvent);
  },
  async deleteBefore(before, limit) {
    const ids = db.selectFrom('filter_event').select('id').where('at', '<', before).orderBy('id').limit(limit);
    const r = await db.deleteFrom('filter_event').where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
});
