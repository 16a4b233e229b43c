import type { Kysely } from 'kysely';
import type { Group, GroupKind, GroupRepository } from '../../core/index.ts';
import type { DB } from '../schema.ts';
import { toPerson } from './people-repository.ts';

export const kyselyGroupRepository = (db: Kysely<DB>): GroupRepository => {
  const withCounts = () =>
    db
      .selectFrom('person_group as g')
      .select(['g.id', 'g.school_id', 'g.name', 'g.kind', 'g.managed'])
      .select((eb) =>
        eb
          .selectFrom('group_member as m')
          .innerJoin('person as p', 'p.id', 'm.person_id')
          .select(eb.fn.countAll().as('n'))
          .whereRef('m.group_id', '=', 'g.id')
          .where('p.left_at', 'is', null)
          .as('member_count'),
      );
  const toGroup = (r: {
    id: string;
    school_id: string;
    name: string;
    kind: string;
    managed: number;
    member_count: string | number | bigint | null;
  }): Group => ({
    id: r.id,
    schoolId: r.school_id,
    name: r.name,
    kind: r.kind as GroupKind,
    managed: r.managed === 1,
    memberCount: Number(r.member_count ?? 0),
  });
  return {
    async list(schoolId) {
      const rows = await withCounts().where('g.school_id', '=', schoolId).orderBy('g.kind').orderBy('g.name').execute();
      return rows.map(toGroup);
    },
    async get(id) {
      const r = await withCounts().where('g.id', '=', id).executeTakeFirst();
      return r ? toGroup(r) : null;
    },
    async findByName(schoolId, name) {
      const r = await withCounts().where('g.school_id', '=', schoolId).where('g.name', '=', name).executeTakeFirst();
      return r ? toGroup(r) : null;
    },
    async create(g) {
      await db
        .insertInto('person_group')
        .values({ id: g.id, school_id: g.schoolId, name: g.name, kind: g.kind, managed: g.managed ? 1 : 0, created_at: g.createdAt })
        .execute();
    },
    async rename(id, name) {
      await db.updateTable('person_group').set({ name }).where('id', '=', id).execute();
    },
    async members(groupId) {
      const rows = await db
        .selectFrom('group_member')
        .innerJoin('person', 'person.id', 'group_member.person_id')
        .selectAll('person')
        .where('group_member.group_id', '=', groupId)
        .where('person.left_at', 'is', null)
        .orderBy('person.last_name')
        .orderBy('person.first_name')
        .execute();
      return rows.map(toPerson);
    },
    async groupsOf(personId) {
      const rows = await withCounts()
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('group_member as gm')
              .select('gm.group_id')
              .whereRef('gm.group_id', '=', 'g.id')
              .where('gm.person_id', '=', personId),
          ),
        )
        .orderBy('g.name')
        .execute();
      return rows.map(toGroup);
    },
    async addMember(groupId, personId) {
      // One statement, so concurrent adds of the same member cannot both pass a "not yet a member" check.
      const r = await db
        .insertInto('group_member')
        .values({ group_id: groupId, person_id: personId })
        .onConflict((oc) => oc.columns(['group_id', 'person_id']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async removeMember(groupId, personId) {
      const r = await db.deleteFrom('group_member').where('group_id', '=', groupId).where('person_id', '=', personId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async managedGroupIdsOf(personId) {
      const rows = await db
        .selectFrom('group_member')
        .innerJoin('person_group', 'person_group.id', 'group_member.group_id')
        .select('person_group.id')
        .where('group_member.person_id', '=', personId)
        .where('person_group.managed', '=', 1)
        .execute();
      return rows.map((r) => r.id);
    },
    async count(schoolIds) {
      if (schoolIds !== 'all' && schoolIds.length === 0) return 0;
      let q = db.selectFrom('person_group').select((eb) => eb.fn.countAll().as('n'));
      if (schoolIds !== 'all') q = q.where('school_id', 'in', schoolIds);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
  };
};
