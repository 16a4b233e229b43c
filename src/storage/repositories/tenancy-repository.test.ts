import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { newSchool, newTrust } from '../../../test-support/factories.ts';

for (const engine of testEngines()) {
  describe(`tenancy repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('has no trust in a fresh database', async () => {
      assert.equal(await t.store.tenancy.getTrust(), null);
      assert.deepEqual(await t.store.tenancy.listSchools('all'), []);
    });

    it('creates, reads and renames the trust', async () => {
      const trust = newTrust({ name: 'Oak Learning Trust' });
      await t.store.tenancy.createTrust(trust);
      assert.deepEqual(await t.store.tenancy.getTrust(), trust);
      await t.store.tenancy.renameTrust(trust.id, 'Oak & Ash Learning Trust', '2025-02-01T00:00:00.000Z');
      assert.equal((await t.store.tenancy.getTrust())?.name, 'Oak & Ash Learning Trust');
    });

    it('creates, lists, filters and updates schools', async () => {
      const trust = (await t.store.tenancy.getTrust())!;
      const beech = newSchool(trust.id, { name: 'Beech Primary', urn: '100001' });
      const ash = newSchool(trust.id, { name: 'Ash Junior' });
      await t.store.tenancy.createSchool(beech);
      await t.store.tenancy.createSchool(ash);

      assert.deepEqual(await t.store.tenancy.getSchool(beech.id), beech);
      assert.equal(await t.store.tenancy.getSchool('no-such-school'), null);
      assert.deepEqual(
        (await t.store.tenancy.listSchools('all')).map((s) => s.name),
        ['Ash Junior', 'Beech Primary'],
      );
      assert.deepEqual(
        (await t.store.tenancy.listSchools([beech.id])).map((s) => s.id),
        [beech.id],
      );
      assert.deepEqual(await t.store.tenancy.listSchools([]), []);

      await t.store.tenancy.updateSchool(ash.id, { name: 'Ash Primary', urn: '100002' }, '2025-03-01T00:00:00.000Z');
      assert.deepEqual(await t.store.tenancy.getSchool(ash.id), {
        ...ash,
        name: 'Ash Primary',
        urn: '100002',
        updatedAt: '2025-03-01T00:00:00.000Z',
      });
      // Only the fields given change; a null URN clears it.
      await t.store.tenancy.updateSchool(ash.id, { urn: null }, '2025-03-02T00:00:00.000Z');
      const cleared = await t.store.tenancy.getSchool(ash.id);
      assert.equal(cleared?.name, 'Ash Primary');
      assert.equal(cleared?.urn, null);
    });

    it('refuses two schools of the same name in one trust', async () => {
      const trust = (await t.store.tenancy.getTrust())!;
      await assert.rejects(t.store.tenancy.createSchool(newSchool(trust.id, { name: 'Beech Primary' })));
    });

    it('refuses a school in a trust that does not exist', async () => {
      await assert.rejects(t.store.tenancy.createSchool(newSchool('no-such-trust')));
    });
  });
}
