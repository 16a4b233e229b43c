import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { EventRepository, StoredFilterEvent } from '../../core/index.ts';
import { EVENT_COLUMNS, pushEventValues } from '../event-columns.ts';
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
  method: r.method,
  status: r.status,
  bytesIn: r.bytes_in === null ? null : Number(r.bytes_in),
  bytesOut: r.bytes_out === null ? null : Number(r.bytes_out),
  searchTerm: r.search_term,
  warnContinued: r.warn_continued === 1,
});

/** Rows per INSERT: under SQLite's 32,766 bound parameters at 23 columns. */
const CHUNK = 1000;

/** Only parameters (no NULL literals): the compiled text stands for any row. */
const SAMPLE_ROW = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, ''])) as unknown as Omit<FilterEventTable, 'id'>;

/**
 * Chunk sizes: whole CHUNKs, then powers of two, so a batch of any length runs as a few INSERTs
 * whose SQL text is compiled once per size (at most 11 texts) instead of through the query
 * builder on every flush (decision 0010).
 */
const chunkSizes = (n: number): number[] => {
  const sizes: number[] = [];
  let left = n;
  while (left >= CHUNK) {
    sizes.push(CHUNK);
    left -= CHUNK;
  }
  for (let p = 512; p >= 1; p >>= 1) {
    if (left >= p) {
      sizes.push(p);
      left -= p;
    }
  }
  return sizes;
};

/** LIKE with the user's text taken literally. */
const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const kyselyEventRepository = (db: Kysely<DB>): EventRepository => {
  const insertSql = new Map<number, string>();
  /** The dialect's INSERT text for `rows` rows, compiled by kysely once per size. */
  const insertText = (rows: number): string => {
    let text = insertSql.get(rows);
    if (text === undefined) {
      const compiled = db
        .insertInto('filter_event')
        .values(Array.from({ length: rows }, () => SAMPLE_ROW))
        .compile();
      // Every value must be a parameter, in rowValues' order, for the text to fit any batch.
      if (compiled.parameters.length !== rows * EVENT_COLUMNS.length)
        throw new Error('filter_event INSERT did not compile to one parameter per value');
      text = compiled.sql;
      insertSql.set(rows, text);
    }
    return text;
  };
  return {
    async insertBatch(events) {
      let at = 0;
      for (const rows of chunkSizes(events.length)) {
        const params: unknown[] = [];
        for (let i = at; i < at + rows; i++) pushEventValues(events[i]!, params);
        await db.executeQuery(CompiledQuery.raw(insertText(rows), params));
        at += rows;
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
  };
};
