import type { Kysely } from 'kysely';
import type { SessionRecord, SessionRepository } from '../../core/index.ts';
import type { DB } from '../schema.ts';

export const kyselySessionRepository = (db: Kysely<DB>): SessionRepository => ({
  async create(s) {
    await db
      .insertInto('session')
      .values({
        id_hash: s.idHash,
        user_id: s.userId,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        expires_at: s.expiresAt,
        mfa_ok: s.mfaOk ? 1 : 0,
        locked: s.locked ? 1 : 0,
        ip: s.ip,
        user_agent: s.userAgent,
      })
      .execute();
  },
  async get(idHash) {
    const r = await db.selectFrom('session').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!r) return null;
    return {
      idHash: r.id_hash,
      userId: r.user_id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      expiresAt: r.expires_at,
      mfaOk: r.mfa_ok === 1,
      locked: r.locked === 1,
      ip: r.ip,
      userAgent: r.user_agent,
    } satisfies SessionRecord;
  },
  async update(idHash, c) {
    await db
      .updateTable('session')
      .set({
        ...(c.lastSeenAt !== undefined && { last_seen_at: c.lastSeenAt }),
        ...(c.mfaOk !== undefined && { mfa_ok: c.mfaOk ? 1 : 0 }),
        ...(c.locked !== undefined && { locked: c.locked ? 1 : 0 }),
      })
      .where('id_hash', '=', idHash)
      .execute();
  },
  async delete(idHash) {
    await db.deleteFrom('session').where('id_hash', '=', idHash).execute();
  },
  async deleteForUser(userId) {
    const r = await db.deleteFrom('session').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
  async deleteExpired(now) {
    const r = await db.deleteFrom('session').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
});
