import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Person, PersonQuery, School } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { newPerson, seedSchool } from '../../../test-support/factories.ts';

const names = (people: readonly Person[]): string[] => people.map((p) => `${p.firstName} ${p.lastName}`);

for (const engine of testEngines()) {
  describe(`people repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    const query = (school: School, q: Partial<PersonQuery> = {}): PersonQuery => ({ schoolId: school.id, limit: 100, offset: 0, ...q });

    it('creates and reads a person with every field', async () => {
      const school = await seedSchool(t.store);
      const p = newPerson(school.id, {
        kind: 'pupil',
        upn: 'A123456789012',
        firstName: 'Zoë',
        lastName: "O'Neill-Ó Briain",
        yearGroup: '7',
        dateOfBirth: '2013-09-01',
        email: 'zoe@pupils.example',
        staffRole: null,
      });
      await t.store.people.create(p);
      assert.deepEqual(await t.store.people.get(p.id), p);
      assert.equal(await t.store.people.get(randomUUID()), null);
      assert.deepEqual(await t.store.people.findByUpn(school.id, 'A123456789012'), p);
      assert.equal(await t.store.people.findByUpn(school.id, 'B123456789012'), null);
    });

    it('updates only the given fields and stamps updatedAt', async () => {
      const school = await seedSchool(t.store);
      const p = newPerson(school.id, { firstName: 'Sam', lastName: 'Jones', yearGroup: '3', email: 'sam@x.example' });
      await t.store.people.create(p);
      await t.store.people.update(p.id, { yearGroup: '4', email: null }, '2025-09-01T00:00:00.000Z');
      assert.deepEqual(await t.store.people.get(p.id), { ...p, yearGroup: '4', email: null, updatedAt: '2025-09-01T00:00:00.000Z' });
      await t.store.people.update(p.id, { leftAt: '2025-12-19T00:00:00.000Z' }, '2025-12-19T00:00:00.000Z');
      const left = await t.store.people.get(p.id);
      assert.equal(left?.leftAt, '2025-12-19T00:00:00.000Z');
      assert.equal(left?.yearGroup, '4');
    });

    it('finds by email within a school and kind, whatever the case', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      const parent = newPerson(school.id, { kind: 'parent', email: 'Pat.Parent@Home.example' });
      await t.store.people.create(parent);
      assert.equal((await t.store.people.findByEmail(school.id, 'parent', 'pat.parent@home.example'))?.id, parent.id);
      assert.equal((await t.store.people.findByEmail(school.id, 'parent', 'PAT.PARENT@HOME.EXAMPLE'))?.id, parent.id);
      assert.equal(await t.store.people.findByEmail(school.id, 'staff', 'pat.parent@home.example'), null);
      assert.equal(await t.store.people.findByEmail(other.id, 'parent', 'pat.parent@home.example'), null);
      // Stored lower-case, so the unique index also refuses the same address in another case.
      assert.equal((await t.store.people.get(parent.id))?.email, 'pat.parent@home.example');
      await assert.rejects(t.store.people.create(newPerson(school.id, { kind: 'parent', email: 'PAT.parent@home.example' })));
      await t.store.people.update(parent.id, { email: 'New.Address@Home.example' }, '2025-02-01T00:00:00.000Z');
      assert.equal((await t.store.people.findByEmail(school.id, 'parent', 'new.address@home.example'))?.id, parent.id);
    });

    it('refuses a duplicate UPN in one school but allows it in another', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      await t.store.people.create(newPerson(school.id, { upn: 'K801200001001' }));
      await assert.rejects(t.store.people.create(newPerson(school.id, { upn: 'K801200001001' })));
      await t.store.people.create(newPerson(other.id, { upn: 'K801200001001' }));
      // Many people without a UPN are fine.
      await t.store.people.create(newPerson(school.id, { upn: null }));
      await t.store.people.create(newPerson(school.id, { upn: null }));
      assert.equal((await t.store.people.list(query(school))).total, 3);
    });

    it('refuses a duplicate email for the same kind in one school', async () => {
      const school = await seedSchool(t.store);
      await t.store.people.create(newPerson(school.id, { kind: 'staff', email: 'a.teacher@school.example' }));
      await assert.rejects(t.store.people.create(newPerson(school.id, { kind: 'staff', email: 'a.teacher@school.example' })));
      // The same address may belong to a parent record too (a teacher whose child attends).
      await t.store.people.create(newPerson(school.id, { kind: 'parent', email: 'a.teacher@school.example' }));
    });

    describe('list', () => {
      let school: School;
      let otherSchool: School;
      let groupId: string;
      before(async () => {
        school = await seedSchool(t.store);
        otherSchool = await seedSchool(t.store);
        const people: Person[] = [
          newPerson(school.id, { firstName: 'Amy', lastName: 'Adams', yearGroup: '5', upn: 'A000000000005' }),
          newPerson(school.id, { firstName: 'Ben', lastName: 'Brown', yearGroup: '5' }),
          newPerson(school.id, { firstName: 'Cat', lastName: 'Clark', yearGroup: '6', email: 'cat@pupils.example' }),
          newPerson(school.id, { firstName: 'Dan', lastName: 'Davis', yearGroup: '6', leftAt: '2024-07-20T00:00:00.000Z' }),
          newPerson(school.id, {
            kind: 'staff',
            firstName: 'Eve',
            lastName: 'Evans',
            staffRole: 'Teacher',
            email: 'e.evans@school.example',
          }),
          newPerson(school.id, { kind: 'parent', firstName: 'Fay', lastName: 'Adams', email: 'fay@home.example' }),
          // Wildcard bait: LIKE characters in names that a literal search must (not) match.
          newPerson(school.id, { kind: 'visitor', firstName: 'Percy', lastName: '100%', email: null }),
          newPerson(school.id, { kind: 'visitor', firstName: 'Una', lastName: 'Under_Score' }),
          newPerson(school.id, { kind: 'visitor', firstName: 'Uma', lastName: 'Wrxsmith' }),
          newPerson(school.id, { kind: 'visitor', firstName: 'Bea', lastName: 'Back\\slash' }),
          newPerson(otherSchool.id, { firstName: 'Amy', lastName: 'Adams', yearGroup: '5' }),
        ];
        for (const p of people) await t.store.people.create(p);
        groupId = randomUUID();
        await t.store.groups.create({
          id: groupId,
          schoolId: school.id,
          name: 'Chess club',
          kind: 'custom',
          managed: false,
          createdAt: '2025-01-01T00:00:00.000Z',
        });
        const byName = async (first: string) =>
          (await t.store.people.list(query(school, { search: first, includeLeft: true }))).items[0]!.id;
        await t.store.groups.addMember(groupId, await byName('Amy'));
        await t.store.groups.addMember(groupId, await byName('Cat'));
        await t.store.groups.addMember(groupId, await byName('Dan'));
      });

      it('lists current people of one school in name order with the total', async () => {
        const page = await t.store.people.list(query(school));
        assert.equal(page.total, 9);
        // Names chosen to sort the same under SQLite's binary order and PostgreSQL collations.
        assert.deepEqual(names(page.items), [
          'Percy 100%',
          'Amy Adams',
          'Fay Adams',
          'Bea Back\\slash',
          'Ben Brown',
          'Cat Clark',
          'Eve Evans',
          'Una Under_Score',
          'Uma Wrxsmith',
        ]);
        assert.ok(page.items.every((p) => p.schoolId === school.id));
      });

      it('includes people who left only when asked', async () => {
        assert.ok(!names((await t.store.people.list(query(school))).items).includes('Dan Davis'));
        const all = await t.store.people.list(query(school, { includeLeft: true }));
        assert.equal(all.total, 10);
        assert.ok(names(all.items).includes('Dan Davis'));
      });

      it('filters by kind, year group and group', async () => {
        assert.deepEqual(names((await t.store.people.list(query(school, { kind: 'staff' }))).items), ['Eve Evans']);
        assert.deepEqual(names((await t.store.people.list(query(school, { kind: 'pupil', yearGroup: '5' }))).items), [
          'Amy Adams',
          'Ben Brown',
        ]);
        assert.deepEqual(names((await t.store.people.list(query(school, { yearGroup: '6' }))).items), ['Cat Clark']);
        assert.deepEqual(names((await t.store.people.list(query(school, { yearGroup: '6', includeLeft: true }))).items), [
          'Cat Clark',
          'Dan Davis',
        ]);
        const group = await t.store.people.list(query(school, { groupId }));
        assert.deepEqual(names(group.items), ['Amy Adams', 'Cat Clark']);
        assert.equal(group.total, 2);
        assert.equal((await t.store.people.list(query(school, { groupId, kind: 'staff' }))).total, 0);
      });

      it('searches names, email and UPN, ignoring case and surrounding spaces', async () => {
        assert.deepEqual(names((await t.store.people.list(query(school, { search: 'adams' }))).items), ['Amy Adams', 'Fay Adams']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: '  AMY ADA ' }))).items), ['Amy Adams']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: 'pupils.example' }))).items), ['Cat Clark']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: 'a000000000005' }))).items), ['Amy Adams']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: 'adams', kind: 'parent' }))).items), ['Fay Adams']);
        // A blank search is no search.
        assert.equal((await t.store.people.list(query(school, { search: '   ' }))).total, 9);
      });

      it('finds names with letters beyond A–Z in any case', async () => {
        const unicodeSchool = await seedSchool(t.store);
        const elodie = newPerson(unicodeSchool.id, { firstName: 'Élodie', lastName: 'Łukasiewicz' });
        const soren = newPerson(unicodeSchool.id, { firstName: 'Søren', lastName: 'Ørsted', email: 'SØREN@example.dk' });
        await t.store.people.create(elodie);
        await t.store.people.create(soren);
        for (const search of ['Élodie', 'élodie', 'ÉLODIE', 'łukasiewicz', 'ŁUKAS', 'élodie ł']) {
          assert.deepEqual(
            (await t.store.people.list(query(unicodeSchool, { search }))).items.map((p) => p.id),
            [elodie.id],
            search,
          );
        }
        for (const search of ['søren', 'SØREN ØRSTED', 'søren@example']) {
          assert.deepEqual(
            (await t.store.people.list(query(unicodeSchool, { search }))).items.map((p) => p.id),
            [soren.id],
            search,
          );
        }
      });

      it('treats LIKE wildcards in the search text literally', async () => {
        assert.deepEqual(names((await t.store.people.list(query(school, { search: '%' }))).items), ['Percy 100%']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: '0%' }))).items), ['Percy 100%']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: 'r_s' }))).items), ['Una Under_Score']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: '_' }))).items), ['Una Under_Score']);
        assert.deepEqual(names((await t.store.people.list(query(school, { search: '\\' }))).items), ['Bea Back\\slash']);
        assert.equal((await t.store.people.list(query(school, { search: 'a%s' }))).total, 0);
        assert.equal((await t.store.people.list(query(school, { search: '\\%' }))).total, 0);
      });

      it('pages with limit and offset; the total counts every match', async () => {
        const all = (await t.store.people.list(query(school))).items.map((p) => p.id);
        const seen: string[] = [];
        for (let offset = 0; offset < 12; offset += 4) {
          const page = await t.store.people.list(query(school, { limit: 4, offset }));
          assert.equal(page.total, 9);
          seen.push(...page.items.map((p) => p.id));
        }
        assert.deepEqual(seen, all);
        const beyond = await t.store.people.list(query(school, { limit: 4, offset: 40 }));
        assert.deepEqual(beyond, { items: [], total: 9 });
        const filtered = await t.store.people.list(query(school, { kind: 'pupil', limit: 1, offset: 1 }));
        assert.equal(filtered.total, 3);
        assert.deepEqual(names(filtered.items), ['Ben Brown']);
      });

      it('counts current people by kind for some or all schools', async () => {
        assert.deepEqual(await t.store.people.countByKind([school.id]), { pupil: 3, staff: 1, parent: 1, visitor: 4 });
        assert.deepEqual(await t.store.people.countByKind([otherSchool.id]), { pupil: 1 });
        assert.deepEqual(await t.store.people.countByKind([school.id, otherSchool.id]), { pupil: 4, staff: 1, parent: 1, visitor: 4 });
        assert.deepEqual(await t.store.people.countByKind([]), {});
        const all = await t.store.people.countByKind('all');
        assert.ok((all.pupil ?? 0) >= 4);
      });
    });

    describe('parent links', () => {
      it('links a parent and a pupil once, and reads both ways', async () => {
        const school = await seedSchool(t.store);
        const mum = newPerson(school.id, { kind: 'parent', firstName: 'Mia', lastName: 'Green' });
        const dad = newPerson(school.id, { kind: 'parent', firstName: 'Dev', lastName: 'Patel' });
        const kid = newPerson(school.id, { firstName: 'Kit', lastName: 'Green' });
        const sib = newPerson(school.id, { firstName: 'Ash', lastName: 'Green' });
        for (const p of [mum, dad, kid, sib]) await t.store.people.create(p);

        assert.equal(await t.store.people.link(mum.id, kid.id, '2025-01-01T00:00:00.000Z'), true);
        assert.equal(await t.store.people.link(mum.id, kid.id, '2025-01-02T00:00:00.000Z'), false);
        assert.equal(await t.store.people.link(dad.id, kid.id, '2025-01-01T00:00:00.000Z'), true);
        assert.equal(await t.store.people.link(mum.id, sib.id, '2025-01-01T00:00:00.000Z'), true);

        assert.deepEqual((await t.store.people.childrenOf(mum.id)).map((p) => p.id).sort(), [kid.id, sib.id].sort());
        assert.deepEqual(
          (await t.store.people.childrenOf(dad.id)).map((p) => p.id),
          [kid.id],
        );
        assert.deepEqual(
          (await t.store.people.parentsOf(kid.id)).map((p) => p.id),
          [mum.id, dad.id],
        );
        assert.deepEqual(await t.store.people.parentsOf(mum.id), []);
      });

      it('stays idempotent when the same link is made concurrently', async () => {
        const school = await seedSchool(t.store);
        const parent = newPerson(school.id, { kind: 'parent' });
        const pupil = newPerson(school.id);
        await t.store.people.create(parent);
        await t.store.people.create(pupil);
        const results = await Promise.all(
          Array.from({ length: 5 }, () => t.store.people.link(parent.id, pupil.id, '2025-01-01T00:00:00.000Z')),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await t.store.people.parentsOf(pupil.id)).length, 1);
      });

      it('refuses a link to someone who does not exist', async () => {
        const school = await seedSchool(t.store);
        const parent = newPerson(school.id, { kind: 'parent' });
        await t.store.people.create(parent);
        await assert.rejects(t.store.people.link(parent.id, randomUUID(), '2025-01-01T00:00:00.000Z'));
      });
    });

    it('stores and finds SQL-looking text verbatim', async () => {
      const school = await seedSchool(t.store);
      const nasty = "'); DROP TABLE person;--";
      const p = newPerson(school.id, {
        firstName: nasty,
        lastName: 'Robert"; DELETE FROM school; --',
        email: "x'or'1'='1@example.org",
        upn: "'||'",
      });
      await t.store.people.create(p);
      assert.deepEqual(await t.store.people.get(p.id), p);
      const found = await t.store.people.list(query(school, { search: nasty }));
      assert.deepEqual(
        found.items.map((x) => x.id),
        [p.id],
      );
      assert.equal((await t.store.people.findByUpn(school.id, "'||'"))?.id, p.id);
      assert.equal((await t.store.people.findByEmail(school.id, 'pupil', "x'or'1'='1@example.org"))?.id, p.id);
      await t.store.people.update(p.id, { lastName: "'; UPDATE person SET kind = 'staff'; --" }, '2025-02-01T00:00:00.000Z');
      assert.equal((await t.store.people.get(p.id))?.lastName, "'; UPDATE person SET kind = 'staff'; --");
      // The tables are all still there and nothing else changed.
      assert.equal((await t.store.people.list(query(school, { kind: 'pupil' }))).total, 1);
      assert.ok(await t.store.tenancy.getSchool(school.id));
    });
  });
}
