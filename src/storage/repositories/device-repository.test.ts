import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DomainError, type DeviceRecord } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { AT, newPerson, seedSchool } from '../../../test-support/factories.ts';

const device = (schoolId: string, over: Partial<DeviceRecord> = {}): DeviceRecord => ({
  id: randomUUID(),
  schoolId,
  label: `Laptop ${randomUUID().slice(0, 6)}`,
  kind: 'laptop',
  personId: null,
  ip: null,
  mac: null,
  tokenHash: randomUUID().replace(/-/g, '').padEnd(64, '0'),
  createdAt: AT,
  updatedAt: AT,
  revokedAt: null,
  ...over,
});

const isConflict = (e: unknown) => e instanceof DomainError && e.code === 'CONFLICT';

for (const engine of testEngines()) {
  describe(`device repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('stores, finds, lists with the person’s name, updates and revokes devices', async () => {
      const school = await seedSchool(t.store);
      const ada = newPerson(school.id, { firstName: 'Ada', lastName: 'Lovelace' });
      await t.store.people.create(ada);
      const a = device(school.id, { label: 'Library laptop 1', personId: ada.id, ip: '10.0.0.5', mac: 'aa:bb:cc:dd:ee:01' });
      const b = device(school.id, { label: 'Tablet', kind: 'tablet', createdAt: '2025-01-16T09:00:00.000Z' });
      await t.store.devices.create(a);
      await t.store.devices.create(b);

      assert.deepEqual(await t.store.devices.get(a.id), a);
      assert.equal(await t.store.devices.get('nope'), null);
      assert.deepEqual(
        (await t.store.devices.list(school.id)).map((d) => [d.label, d.personName]),
        [
          ['Tablet', null],
          ['Library laptop 1', 'Ada Lovelace'],
        ],
        'newest first',
      );
      assert.equal((await t.store.devices.findActive(school.id, 'label', 'LIBRARY LAPTOP 1'))?.id, a.id, 'labels match in any case');
      assert.equal((await t.store.devices.findActive(school.id, 'ip', '10.0.0.5'))?.id, a.id);
      assert.equal((await t.store.devices.findActive(school.id, 'mac', 'aa:bb:cc:dd:ee:01'))?.id, a.id);
      assert.equal(await t.store.devices.findActive(school.id, 'ip', '10.0.0.6'), null);

      await t.store.devices.update(a.id, { label: 'Ada’s laptop', ip: null, personId: null }, '2025-01-17T09:00:00.000Z');
      const updated = await t.store.devices.get(a.id);
      assert.deepEqual(
        [updated?.label, updated?.ip, updated?.personId, updated?.mac, updated?.updatedAt],
        ['Ada’s laptop', null, null, 'aa:bb:cc:dd:ee:01', '2025-01-17T09:00:00.000Z'],
      );

      assert.equal(await t.store.devices.setTokenHash(a.id, 'f'.repeat(64), '2025-01-18T09:00:00.000Z'), true);
      assert.equal((await t.store.devices.get(a.id))?.tokenHash, 'f'.repeat(64));

      assert.equal(await t.store.devices.revoke(a.id, '2025-01-19T09:00:00.000Z'), true);
      assert.equal(await t.store.devices.revoke(a.id, '2025-01-20T09:00:00.000Z'), false, 'once only');
      assert.equal((await t.store.devices.get(a.id))?.revokedAt, '2025-01-19T09:00:00.000Z', 'kept, not deleted');
      assert.equal(await t.store.devices.setTokenHash(a.id, 'e'.repeat(64), AT), false, 'a revoked device gets no new token');
      assert.deepEqual(
        (await t.store.devices.list(school.id)).map((d) => d.label),
        ['Tablet'],
      );
      assert.deepEqual((await t.store.devices.list(school.id, { includeRevoked: true })).map((d) => d.label).sort(), [
        'Ada’s laptop',
        'Tablet',
      ]);
      assert.equal(await t.store.devices.findActive(school.id, 'mac', 'aa:bb:cc:dd:ee:01'), null, 'revoked devices are not active');
    });

    it('refuses a second active device with the same label, address or MAC in a school, but not after a revoke or elsewhere', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      const first = device(school.id, { label: 'Hall PC', ip: '10.1.0.9', mac: '02:00:00:00:00:01' });
      await t.store.devices.create(first);
      await assert.rejects(t.store.devices.create(device(school.id, { label: 'hall pc' })), isConflict);
      await assert.rejects(t.store.devices.create(device(school.id, { ip: '10.1.0.9' })), isConflict);
      await assert.rejects(t.store.devices.create(device(school.id, { mac: '02:00:00:00:00:01' })), isConflict);
      await assert.rejects(t.store.devices.create(device(school.id, { tokenHash: first.tokenHash })), isConflict);
      const second = device(school.id);
      await t.store.devices.create(second);
      await assert.rejects(t.store.devices.update(second.id, { ip: '10.1.0.9' }, AT), isConflict);
      // Another school may use the same private address and name.
      await t.store.devices.create(device(other.id, { label: 'Hall PC', ip: '10.1.0.9', mac: '02:00:00:00:00:01' }));
      await t.store.devices.revoke(first.id, AT);
      await t.store.devices.create(device(school.id, { label: 'Hall PC', ip: '10.1.0.9', mac: '02:00:00:00:00:01' }));
    });

    it('lists active devices with their person’s record and groups for the identity directory', async () => {
      const school = await seedSchool(t.store);
      const pupil = newPerson(school.id, { yearGroup: '5' });
      const leaver = newPerson(school.id, { kind: 'staff', leftAt: AT });
      await t.store.people.create(pupil);
      await t.store.people.create(leaver);
      const g1 = { id: randomUUID(), schoolId: school.id, name: 'Year 5', kind: 'year_group' as const, managed: true, createdAt: AT };
      const g2 = { id: randomUUID(), schoolId: school.id, name: 'Chess', kind: 'custom' as const, managed: false, createdAt: AT };
      await t.store.groups.create(g1);
      await t.store.groups.create(g2);
      await t.store.groups.addMember(g1.id, pupil.id);
      await t.store.groups.addMember(g2.id, pupil.id);
      const withPupil = device(school.id, { personId: pupil.id, ip: '10.2.0.1' });
      // Two devices for one person: the person's groups are listed once for each.
      const second = device(school.id, { personId: pupil.id });
      const withLeaver = device(school.id, { personId: leaver.id });
      const unassigned = device(school.id);
      const revoked = device(school.id, { personId: pupil.id, revokedAt: AT });
      for (const d of [withPupil, second, withLeaver, unassigned, revoked]) await t.store.devices.create(d);

      const rows = (await t.store.devices.identities()).filter((r) => r.schoolId === school.id);
      const byId = new Map(rows.map((r) => [r.id, r]));
      assert.equal(rows.length, 4, 'revoked devices are left out');
      assert.equal(byId.has(revoked.id), false);
      assert.deepEqual(byId.get(withPupil.id), {
        id: withPupil.id,
        schoolId: school.id,
        ip: '10.2.0.1',
        mac: withPupil.mac,
        tokenHash: withPupil.tokenHash,
        person: { id: pupil.id, kind: 'pupil', yearGroup: '5', leftAt: null, groupIds: [g1.id, g2.id].sort() },
      });
      assert.deepEqual(byId.get(second.id)?.person?.groupIds, [g1.id, g2.id].sort());
      assert.deepEqual(byId.get(withLeaver.id)?.person, { id: leaver.id, kind: 'staff', yearGroup: null, leftAt: AT, groupIds: [] });
      assert.equal(byId.get(unassigned.id)?.person, null);
    });
  });
}
