/**
 * The audit log is append-only and hash-chained: each entry's hash covers its own fields and the
 * previous entry's hash, so altering or removing any row breaks every hash after it.
 */
import { createHash } from 'node:crypto';

export interface AuditInput {
  actorUserId: string | null;
  /** Who it was, readable without a join (e.g. the email at the time), or "system". */
  actorLabel: string;
  ip: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  schoolId: string | null;
  /** Small, non-sensitive facts about the change: field names changed, counts, reasons. */
  detail: Record<string, unknown> | null;
}

export interface AuditEntry extends AuditInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so the same entry always hashes the same on any engine. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
};

export const hashAuditEntry = (entry: Omit<AuditEntry, 'hash'>): string =>
  createHash('sha256')
    .update(
      canonicalJson({
        seq: entry.seq,
        at: entry.at,
        actorUserId: entry.actorUserId,
        actorLabel: entry.actorLabel,
        ip: entry.ip,
        action: entry.action,
        resourceType: entry.resourceType,
        resourceId: entry.resourceId,
        schoolId: entry.schoolId,
        detail: entry.detail,
        prevHash: entry.prevHash,
      }),
    )
    .digest('hex');

export type ChainProblem =
  | { kind: 'hash-mismatch'; seq: number }
  | { kind: 'broken-link'; seq: number }
  | { kind: 'missing-entry'; seq: number; expectedSeq: number };

/**
 * Checks a run of entries in sequence order. `prev` is the entry before the run (null at the
 * start of the log). Returns the first problem, or null.
 */
export const findChainProblem = (entries: readonly AuditEntry[], prev: { seq: number; hash: string } | null): ChainProblem | null => {
  let expectedSeq = prev ? prev.seq + 1 : 1;
  let prevHash = prev ? prev.hash : GENESIS_HASH;
  for (const e of entries) {
    if (e.seq !== expectedSeq) return { kind: 'missing-entry', seq: e.seq, expectedSeq };
    if (e.prevHash !== prevHash) return { kind: 'broken-link', seq: e.seq };
    if (hashAuditEntry(e) !== e.hash) return { kind: 'hash-mismatch', seq: e.seq };
    prevHash = e.hash;
    expectedSeq++;
  }
  return null;
};
