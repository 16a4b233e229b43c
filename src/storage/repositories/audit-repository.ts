import type { Kysely, Transaction } from 'kysely';
import { hashAuditEntry, type AuditEntry, type AuditRepository } from '../../core/index.ts';
import type { Engine } from '../engine.ts';
import type { AuditLogTable, DB } from '../schema.ts';

const toEntry = (r: AuditLogTable): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  actorUserId: r.actor_user_id,
  actorLabel: r.actor_label,
  ip: r.ip,
  action: r.action,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  schoolId: r.school_id,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const kyselyAuditRepository = (db: Kysely<DB>, engine: Engine): AuditRepository => {
  const appendIn = async (tx: Transaction<DB> | Kysely<DB>, input: Parameters<AuditRepository['append']>[0], at: string) => {
    // The head row is the chain's lock: PostgreSQL takes a row lock; SQLite transactions are serial.
    let headQuery = tx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
    if (engine === 'postgres') headQuery = headQuery.forUpdate();
    const head = await headQuery.executeTakeFirstOrThrow();
    const partial = { ...input, seq: head.seq + 1, at, prevHash: head.hash };
    const entry: AuditEntry = { ...partial, hash: hashAuditEntry(partial) };
    await tx
      .insertInto('audit_log')
      .values({
        seq: entry.seq,
        at: entry.at,
        actor_user_id: entry.actorUserId,
        actor_label: entry.actorLabel,
        ip: entry.ip,
        action: entry.action,
        resource_type: entry.resourceType,
        resource_id: entry.resourceId,
        school_id: entry.schoolId,
        detail: entry.detail === null ? null : JSON.stringify(entry.detail),
        prev_hash: entry.prevHash,
        hash: entry.hash,
      })
      .execute();
    await tx.updateTable('audit_head').set({ seq: entry.seq, hash: entry.hash }).where('id', '=', 1).execute();
    return entry;
  };
  return {
    async append(input, at) {
      if (db.isTransaction) return appendIn(db, input, at);
      return db.transaction().execute((tx) => appendIn(tx, input, at));
    },
    async list(q) {
      let query = db.selectFrom('audit_log').selectAll();
      if (q.action) query = query.where('action', '=', q.action);
      if (q.resourceType) query = query.where('resource_type', '=', q.resourceType);
      if (q.resourceId) query = query.where('resource_id', '=', q.resourceId);
      if (q.actorUserId) query = query.where('actor_user_id', '=', q.actorUserId);
      if (q.schoolId) query = query.where('school_id', '=', q.schoolId);
      if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
      return (await query.orderBy('seq', 'desc').limit(q.limit).execute()).map(toEntry);
    },
    async range(afterSeq, limit) {
      const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
      return rows.map(toEntry);
    },
    async head() {
      const r = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
      return r ? { seq: r.seq, hash: r.hash } : null;
    },
  };
};
