import type { Kysely } from 'kysely';
import type { WarnContinueRepository } from '../../core/index.ts';
import type { DB } from '../schema.ts';

export const kyselyWarnContinueRepository = (db: Kysely<DB>): WarnContinueRepository => ({
  async append(r) {
    await db
      .insertInto('warn_continue')
      .values({
        school_id: r.schoolId,
        host: r.host,
        category: r.category,
        person_id: r.personId,
        client_ip: r.clientIp,
        at: r.at,
        until: r.until,
      })
      .execute();
  },
  async since(afterSeq, now, limit) {
    const rows = await db
      .selectFrom('warn_continue')
      .selectAll()
      .where('seq', '>', afterSeq)
      .where('until', '>', now)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      // PostgreSQL's bigserial arrives as a string.
      seq: Number(r.seq as number | string),
      schoolId: r.school_id,
      host: r.host,
      category: r.category,
      personId: r.person_id,
      clientIp: r.client_ip,
      at: r.at,
      until: r.until,
    }));
  },
});
