import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Group, GroupKind } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { AT, newPerson, seedSchool } from '../../../test-support/factories.ts';

const newGroup = (
  schoolId: string,
  name: string,
  kind: GroupKind = 'custom',
  managed = false,
): Omit<Group, 'memberCount'> & { createdAt: string } => ({
  id: randomUUID(),
  schoolId,
  name,
  kind,
  managed,
  createdAt: AT,
});

for (const engine of testEngines()) {
  describe(`group repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('creates, reads, finds by name and renames a group', async () => {
      const school = await seedSchool(t.store);
      const g = newGroup(school.id, 'Year 7', 'year_group', true);
      await t.store.groups.create(g);
      assert.deepEqual(await t.store.groups.get(g.id), {
        id: g.id,
        schoolId: school.id,
        name: 'Year 7',
        kind: 'year_group',
        managed: true,
        memberCount: 0,
      });
      assert.equal((await t.store.groups.findByName(school.id, 'Year 7'))?.id, g.id);
      assert.equal(await t.store.groups.findByName(school.id, 'Year 8'), null);
      assert.equal(await t.store.groups.get(randomUUID()), null);
      await t.store.groups.rename(g.id, 'Year Seven');
      assert.equal((await t.store.groups.get(g.id))?.name, 'Year Seven');
      assert.equal(await t.store.groups.findByName(school.id, 'Year 7'), null);
    });

    it('refuses two groups of the same name in one school, allows it across schools', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      await t.store.groups.create(newGroup(school.id, 'Choir'));
      await assert.rejects(t.store.groups.create(newGroup(school.id, 'Choir')));
      await t.store.groups.create(newGroup(other.id, 'Choir'));
    });

    it('lists one school’s groups by kind then name, with member counts excluding leavers', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      const y5 = newGroup(school.id, 'Year 5', 'year_group', true);
      const y6 = newGroup(school.id, 'Year 6', 'year_group', true);
      const chess = newGroup(school.id, 'Chess club');
      const art = newGroup(school.id, 'Art club');
      const staff = newGroup(school.id, 'All staff', 'staff', true);
      for (const g of [y5, y6, chess, art, staff, newGroup(other.id, 'Year 5', 'year_group', true)]) await t.store.groups.create(g);

      const amy = newPerson(school.id, { firstName: 'Amy', lastName: 'Adams', yearGroup: '5' });
      const ben = newPerson(school.id, { firstName: 'Ben', lastName: 'Brown', yearGroup: '5' });
      const cal = newPerson(school.id, { firstName: 'Cal', lastName: 'Cole', yearGroup: '5', leftAt: '2024-07-19T00:00:00.000Z' });
      for (const p of [amy, ben, cal]) await t.store.people.create(p);
      for (const p of [amy, ben, cal]) assert.equal(await t.store.groups.addMember(y5.id, p.id), true);
      await t.store.groups.addMember(chess.id, amy.id);
      await t.store.groups.addMember(chess.id, cal.id);

      const listed = await t.store.groups.list(school.id);
      assert.deepEqual(
        listed.map((g) => [g.kind, g.name, g.memberCount]),
        [
          ['custom', 'Art club', 0],
          ['custom', 'Chess club', 1],
          ['staff', 'All staff', 0],
          ['year_group', 'Year 5', 2],
          ['year_group', 'Year 6', 0],
        ],
      );
      assert.equal((await t.store.groups.get(y5.id))?.memberCount, 2);
      assert.equal((await t.store.groups.findByName(school.id, 'Chess club'))?.memberCount, 1);
      assert.deepEqual(
        (await t.store.groups.members(y5.id)).map((p) => p.firstName),
        ['Amy', 'Ben'],
      );
      assert.deepEqual(
        (await t.store.groups.groupsOf(amy.id)).map((g) => [g.name, g.memberCount]),
        [
          ['Chess club', 1],
          ['Year 5', 2],
        ],
      );

      assert.equal(await t.store.groups.count([school.id]), 5);
      assert.equal(await t.store.groups.count([school.id, other.id]), 6);
      assert.equal(await t.store.groups.count([]), 0);
      assert.ok((await t.store.groups.count('all')) >= 6);
    });

    it('adds a member once and removes them', async () => {
      const school = await seedSchool(t.store);
      const g = newGroup(school.id, 'Eco council');
      await t.store.groups.create(g);
      const p = newPerson(school.id);
      await t.store.people.create(p);
      assert.equal(await t.store.groups.addMember(g.id, p.id), true);
      assert.equal(await t.store.groups.addMember(g.id, p.id), false);
      assert.equal((await t.store.groups.get(g.id))?.memberCount, 1);
      assert.equal(await t.store.groups.removeMember(g.id, p.id), true);
      assert.equal(await t.store.groups.removeMember(g.id, p.id), false);
      assert.equal((await t.store.groups.get(g.id))?.memberCount, 0);
    });

    it('stays idempotent when the same member is added concurrently', async () => {
      const school = await seedSchool(t.store);
      const g = newGroup(school.id, 'Football');
      await t.store.groups.create(g);
      const p = newPerson(school.id);
      await t.store.people.create(p);
      const results = await Promise.all(Array.from({ length: 5 }, () => t.store.groups.addMember(g.id, p.id)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await t.store.groups.get(g.id))?.memberCount, 1);
    });

    it('refuses a member who does not exist', async () => {
      const school = await seedSchool(t.store);
      const g = newGroup(school.id, 'Orchestra');
      await t.store.groups.create(g);
      await assert.rejects(t.store.groups.addMember(g.id, randomUUID()));
    });

    it('reports only the managed groups a person belongs to', async () => {
      const school = await seedSchool(t.store);
      const y3 = newGroup(school.id, 'Year 3', 'year_group', true);
      const ks2 = newGroup(school.id, 'KS2', 'key_stage', true);
      const club = newGroup(school.id, 'Drama club');
      for (const g of [y3, ks2, club]) await t.store.groups.create(g);
      const p = newPerson(school.id, { yearGroup: '3' });
      await t.store.people.create(p);
      for (const g of [y3, ks2, club]) await t.store.groups.addMember(g.id, p.id);
      assert.deepEqual((await t.store.groups.managedGroupIdsOf(p.id)).sort(), [y3.id, ks2.id].sort());
      assert.deepEqual(await t.store.groups.managedGroupIdsOf(randomUUID()), []);
    });

    it('stores SQL-looking group names verbatim', async () => {
      const school = await seedSchool(t.store);
      const name = "'); DROP TABLE person_group;--";
      const g = newGroup(school.id, name);
      await t.store.groups.create(g);
      assert.equal((await t.store.groups.findByName(school.id, name))?.id, g.id);
      assert.equal((await t.store.groups.get(g.id))?.name, name);
    });
  });
}
