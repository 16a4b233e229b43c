import { sql, type Kysely } from 'kysely';
import type { PeopleRepository, Person, PersonFields, PersonKind, YearGroup } from '../../core/index.ts';
import type { DB, PersonTable } from '../schema.ts';

export const toPerson = (r: PersonTable): Person => ({
  id: r.id,
  schoolId: r.school_id,
  kind: r.kind as PersonKind,
  upn: r.upn,
  firstName: r.first_name,
  lastName: r.last_name,
  yearGroup: r.year_group as YearGroup | null,
  dateOfBirth: r.date_of_birth,
  email: r.email,
  staffRole: r.staff_role,
  leftAt: r.left_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toColumns = (f: Partial<PersonFields>): Partial<PersonTable> => ({
  ...(f.kind !== undefined && { kind: f.kind }),
  ...(f.upn !== undefined && { upn: f.upn }),
  ...(f.firstName !== undefined && { first_name: f.firstName }),
  ...(f.lastName !== undefined && { last_name: f.lastName }),
  ...(f.yearGroup !== undefined && { year_group: f.yearGroup }),
  ...(f.dateOfBirth !== undefined && { date_of_birth: f.dateOfBirth }),
  // Emails are stored lower-case, as findByEmail and the unique index expect.
  ...(f.email !== undefined && { email: f.email === null ? null : f.email.toLowerCase() }),
  ...(f.staffRole !== undefined && { staff_role: f.staffRole }),
  ...(f.leftAt !== undefined && { left_at: f.leftAt }),
});

/**
 * Escapes LIKE wildcards so a search for "50%" finds the text "50%", on both engines. The
 * database lower-cases both sides, so any locale folds the pattern and the names alike.
 */
const likePattern = (s: string): string => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const kyselyPeopleRepository = (db: Kysely<DB>): PeopleRepository => ({
  async list(q) {
    let base = db.selectFrom('person').where('person.school_id', '=', q.schoolId);
    if (!q.includeLeft) base = base.where('person.left_at', 'is', null);
    if (q.kind) base = base.where('person.kind', '=', q.kind);
    if (q.yearGroup) base = base.where('person.year_group', '=', q.yearGroup);
    if (q.groupId) {
      const groupId = q.groupId;
      base = base.where((eb) =>
        eb.exists(
          eb
            .selectFrom('group_member')
            .select('group_member.person_id')
            .whereRef('group_member.person_id', '=', 'person.id')
            .where('group_member.group_id', '=', groupId),
        ),
      );
    }
    if (q.search && q.search.trim()) {
      const p = sql`lower(cast(${likePattern(q.search.trim())} as text)) escape '\\'`;
      base = base.where((eb) =>
        eb.or([
          eb(sql`lower(person.first_name || ' ' || person.last_name)`, 'like', p),
          eb(sql`lower(coalesce(person.email, ''))`, 'like', p),
          eb(sql`lower(coalesce(person.upn, ''))`, 'like', p),
        ]),
      );
    }
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll('person')
      .orderBy('person.last_name')
      .orderBy('person.first_name')
      .orderBy('person.id')
      .limit(q.limit)
      .offset(q.offset)
      .execute();
    return { items: rows.map(toPerson), total: Number(total.n) };
  },
  async get(id) {
    const r = await db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toPerson(r) : null;
  },
  async findByUpn(schoolId, upn) {
    const r = await db.selectFrom('person').selectAll().where('school_id', '=', schoolId).where('upn', '=', upn).executeTakeFirst();
    return r ? toPerson(r) : null;
  },
  async findByEmail(schoolId, kind, email) {
    const r = await db
      .selectFrom('person')
      .selectAll()
      .where('school_id', '=', schoolId)
      .where('kind', '=', kind)
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst();
    return r ? toPerson(r) : null;
  },
  async create(p) {
    await db
      .insertInto('person')
      .values({
        id: p.id,
        school_id: p.schoolId,
        kind: p.kind,
        upn: p.upn,
        first_name: p.firstName,
        last_name: p.lastName,
        year_group: p.yearGroup,
        date_of_birth: p.dateOfBirth,
        email: p.email === null ? null : p.email.toLowerCase(),
        staff_role: p.staffRole,
        left_at: p.leftAt,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })
      .execute();
  },
  async update(id, fields, at) {
    await db
      .updateTable('person')
      .set({ ...toColumns(fields), updated_at: at })
      .where('id', '=', id)
      .execute();
  },
  async childrenOf(parentId) {
    const rows = await db
      .selectFrom('parent_link')
      .innerJoin('person', 'person.id', 'parent_link.pupil_id')
      .selectAll('person')
      .where('parent_link.parent_id', '=', parentId)
      .orderBy('person.last_name')
      .execute();
    return rows.map(toPerson);
  },
  async parentsOf(pupilId) {
    const rows = await db
      .selectFrom('parent_link')
      .innerJoin('person', 'person.id', 'parent_link.parent_id')
      .selectAll('person')
      .where('parent_link.pupil_id', '=', pupilId)
      .orderBy('person.last_name')
      .execute();
    return rows.map(toPerson);
  },
  async link(parentId, pupilId, at) {
    // One statement, so two requests linking the same pair cannot both pass a "not yet linked" check.
    const r = await db
      .insertInto('parent_link')
      .values({ parent_id: parentId, pupil_id: pupilId, created_at: at })
      .onConflict((oc) => oc.columns(['parent_id', 'pupil_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  async countByKind(schoolIds) {
    if (schoolIds !== 'all' && schoolIds.length === 0) return {};
    let q = db
      .selectFrom('person')
      .select(['kind', (eb) => eb.fn.countAll().as('n')])
      .where('left_at', 'is', null);
    if (schoolIds !== 'all') q = q.where('school_id', 'in', schoolIds);
    const rows = await q.groupBy('kind').execute();
    return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
  },
});
