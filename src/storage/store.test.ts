import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines, type TestDatabase } from '../../test-support/databases.ts';
import { newAuditInput, newPerson, newSchool, newTrust, newUser, seedSchool } from '../../test-support/factories.ts';

for (const engine of testEngines()) {
  describe(`store transactions (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('commits every repository’s writes together and returns fn’s value', async () => {
      const trust = newTrust();
      const school = newSchool(trust.id);
      const person = newPerson(school.id);
      const result = await t.store.transaction(async (tx) => {
        await tx.tenancy.createTrust(trust);
        await tx.tenancy.createSchool(school);
        await tx.people.create(person);
        // Reads inside the transaction see its own writes.
        assert.equal((await tx.people.get(person.id))?.id, person.id);
        return 'done';
      });
      assert.equal(result, 'done');
      assert.ok(await t.store.tenancy.getSchool(school.id));
      assert.ok(await t.store.people.get(person.id));
    });

    it('rolls back everything when fn throws, and rethrows the error', async () => {
      const school = await seedSchool(t.store);
      const person = newPerson(school.id);
      const user = newUser({ grants: [{ role: 'dsl', schoolId: school.id }] });
      const headBefore = await t.store.audit.head();
      const failure = new Error('something went wrong half-way');
      await assert.rejects(
        t.store.transaction(async (tx) => {
          await tx.people.create(person);
          await tx.people.update(person.id, { firstName: 'Changed' }, '2025-02-01T00:00:00.000Z');
          await tx.users.create(user);
          await tx.users.replaceRecoveryCodes(user.id, ['a', 'b']);
          await tx.tenancy.updateSchool(school.id, { name: 'Renamed in a doomed transaction' }, '2025-02-01T00:00:00.000Z');
          await tx.audit.append(newAuditInput({ action: 'doomed' }), '2025-02-01T00:00:00.000Z');
          throw failure;
        }),
        (err) => err === failure,
      );
      assert.equal(await t.store.people.get(person.id), null);
      assert.equal(await t.store.users.get(user.id), null);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(user.id), 0);
      assert.equal((await t.store.tenancy.getSchool(school.id))?.name, school.name);
      assert.deepEqual(await t.store.audit.head(), headBefore);
    });

    it('rolls back earlier writes when a later statement violates a constraint', async () => {
      const school = await seedSchool(t.store);
      const first = newPerson(school.id, { upn: 'T000000000001' });
      const clash = newPerson(school.id, { upn: 'T000000000001' });
      await assert.rejects(
        t.store.transaction(async (tx) => {
          await tx.people.create(first);
          await tx.people.create(clash);
        }),
      );
      assert.equal(await t.store.people.get(first.id), null);
      assert.equal((await t.store.people.list({ schoolId: school.id, limit: 10, offset: 0 })).total, 0);
    });

    it('joins nested transactions to the outer one, so an outer failure undoes inner writes', async () => {
      const school = await seedSchool(t.store);
      const inner = newPerson(school.id, { firstName: 'Inner' });
      const outer = newPerson(school.id, { firstName: 'Outer' });
      await assert.rejects(
        t.store.transaction(async (tx) => {
          await tx.people.create(outer);
          await tx.transaction(async (nested) => {
            await nested.people.create(inner);
          });
          assert.ok(await tx.people.get(inner.id));
          throw new Error('outer fails after the nested call returned');
        }),
        /outer fails/,
      );
      assert.equal(await t.store.people.get(inner.id), null);
      assert.equal(await t.store.people.get(outer.id), null);
    });

    it('keeps concurrent transactions apart: one failing does not undo the other', async () => {
      const school = await seedSchool(t.store);
      const kept = newPerson(school.id, { firstName: 'Kept' });
      const lost = newPerson(school.id, { firstName: 'Lost' });
      const results = await Promise.allSettled([
        t.store.transaction(async (tx) => {
          await tx.people.create(kept);
        }),
        t.store.transaction(async (tx) => {
          await tx.people.create(lost);
          throw new Error('fails');
        }),
      ]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.ok(await t.store.people.get(kept.id));
      assert.equal(await t.store.people.get(lost.id), null);
    });
  });
}
