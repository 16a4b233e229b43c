import type { Kysely } from 'kysely';
import type { School, TenancyRepository, Trust } from '../../core/index.ts';
import type { DB, SchoolTable } from '../schema.ts';

const toSchool = (r: SchoolTable): School => ({
  id: r.id,
  trustId: r.trust_id,
  name: r.name,
  urn: r.urn,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const kyselyTenancyRepository = (db: Kysely<DB>): TenancyRepository => ({
  async getTrust() {
    const r = await db.selectFrom('trust').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
    return r ? ({ id: r.id, name: r.name, createdAt: r.created_at } satisfies Trust) : null;
  },
  async createTrust(t) {
    await db.insertInto('trust').values({ id: t.id, name: t.name, created_at: t.createdAt }).execute();
  },
  async renameTrust(id, name) {
    await db.updateTable('trust').set({ name }).where('id', '=', id).execute();
  },
  async listSchools(ids) {
    if (ids !== 'all' && ids.length === 0) return [];
    let q = db.selectFrom('school').selectAll().orderBy('name');
    if (ids !== 'all') q = q.where('id', 'in', ids);
    return (await q.execute()).map(toSchool);
  },
  async getSchool(id) {
    const r = await db.selectFrom('school').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toSchool(r) : null;
  },
  async createSchool(s) {
    await db
      .insertInto('school')
      .values({ id: s.id, trust_id: s.trustId, name: s.name, urn: s.urn, created_at: s.createdAt, updated_at: s.updatedAt })
      .execute();
  },
  async updateSchool(id, changes, at) {
    await db
      .updateTable('school')
      .set({
        ...(changes.name !== undefined && { name: changes.name }),
        ...(changes.urn !== undefined && { urn: changes.urn }),
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
  },
});
