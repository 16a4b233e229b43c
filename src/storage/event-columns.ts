/**
 * A filter event as a row: the columns of `filter_event` in one order, and an event's values in
 * that order. The repository's multi-row INSERT and the SQLite writer thread's prepared INSERT both
 * use them, so the two can never disagree about which value goes where.
 */
import type { FilterEvent } from '../core/index.ts';
import type { FilterEventTable } from './schema.ts';

export const EVENT_COLUMNS = [
  'at',
  'source',
  'school_id',
  'client_ip',
  'person_id',
  'device_id',
  'profile',
  'host',
  'url',
  'qtype',
  'category',
  'list',
  'action',
  'layer',
  'rule_id',
  'flagged',
  'latency_us',
  'method',
  'status',
  'bytes_in',
  'bytes_out',
  'search_term',
  'warn_continued',
] as const satisfies readonly (keyof Omit<FilterEventTable, 'id'>)[];

const count = (n: number | null | undefined): number | null => (n === null || n === undefined ? null : Math.max(0, Math.round(n)));

/** Appends `e`'s values to `out`, in EVENT_COLUMNS order. */
export const pushEventValues = (e: FilterEvent, out: unknown[]): void => {
  out.push(
    e.at,
    e.source,
    e.schoolId,
    e.clientIp,
    e.personId,
    e.deviceId,
    e.profile,
    e.host,
    e.url,
    e.qtype,
    e.category,
    e.list,
    e.action,
    e.layer,
    e.ruleId,
    e.flagged ? 1 : 0,
    Math.max(0, Math.round(e.latencyUs)),
    e.method ?? null,
    e.status ?? null,
    count(e.bytesIn),
    count(e.bytesOut),
    e.searchTerm ?? null,
    e.warnContinued ? 1 : 0,
  );
};
