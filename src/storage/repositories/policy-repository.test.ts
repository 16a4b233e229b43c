import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { DomainError, type OverrideRecord, type PolicyVersionRecord } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { AT, seedSchool } from '../../../test-support/factories.ts';

const version = (scopeId: string, n: number, over: Partial<PolicyVersionRecord> = {}): PolicyVersionRecord => ({
  scope: 'school',
  scopeId,
  version: n,
  document: { schoolId: scopeId, blockList: [{ pattern: `v${n}.example` }] },
  reason: `change ${n}`,
  changes: [`Block list: added v${n}.example`],
  changedByUserId: null,
  changedByLabel: 'it@school.example',
  createdAt: AT,
  ...over,
});

const override = (schoolId: string, over: Partial<OverrideRecord> = {}): OverrideRecord => ({
  id: randomUUID(),
  schoolId,
  audience: { groups: ['g1'] },
  categories: ['games'],
  sites: [],
  action: 'allow',
  startsAt: '2025-01-15T09:00:00.000Z',
  expiresAt: '2025-01-15T10:00:00.000Z',
  reason: 'Coding lesson',
  createdByUserId: null,
  createdByLabel: 'teacher@school.example',
  createdAt: AT,
  revokedAt: null,
  revokedByLabel: null,
  ...over,
});

for (const engine of testEngines()) {
  describe(`policy repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('keeps every version and answers the newest, one version and the history', async () => {
      const school = await seedSchool(t.store);
      assert.equal(await t.store.policies.current('school', school.id), null);
      await t.store.policies.append(version(school.id, 1));
      await t.store.policies.append(version(school.id, 2, { reason: 'second' }));
      const current = await t.store.policies.current('school', school.id);
      assert.equal(current?.version, 2);
      assert.equal(current?.reason, 'second');
      assert.deepEqual(current?.document, { schoolId: school.id, blockList: [{ pattern: 'v2.example' }] });
      assert.deepEqual(current?.changes, ['Block list: added v2.example']);
      assert.equal((await t.store.policies.get('school', school.id, 1))?.reason, 'change 1');
      assert.equal(await t.store.policies.get('school', school.id, 3), null);
      assert.deepEqual(
        (await t.store.policies.history('school', school.id, 10)).map((v) => v.version),
        [2, 1],
      );
      assert.equal(await t.store.policies.current('trust', school.id), null, 'scopes are separate');
    });

    it('refuses a second version with the same number as a conflict', async () => {
      const school = await seedSchool(t.store);
      await t.store.policies.append(version(school.id, 1));
      await assert.rejects(
        t.store.policies.append(version(school.id, 1, { reason: 'racing edit' })),
        (e: unknown) => e instanceof DomainError && e.code === 'CONFLICT',
      );
      assert.equal((await t.store.policies.current('school', school.id))?.reason, 'change 1');
    });

    it('the database refuses to edit or delete a saved version', async () => {
      const school = await seedSchool(t.store);
      await t.store.policies.append(version(school.id, 1));
      await assert.rejects(sql`UPDATE policy_version SET reason = 'rewritten'`.execute(t.db.kysely));
      await assert.rejects(sql`DELETE FROM policy_version`.execute(t.db.kysely));
      assert.equal((await t.store.policies.current('school', school.id))?.reason, 'change 1');
    });

    it('changes its stamp when a version is saved or an override made or revoked', async () => {
      const school = await seedSchool(t.store);
      const stamps = [await t.store.policies.stamp()];
      await t.store.policies.append(version(school.id, 1, { createdAt: '2030-01-01T00:00:00.000Z' }));
      stamps.push(await t.store.policies.stamp());
      const o = override(school.id, { createdAt: '2030-01-01T00:00:01.000Z' });
      await t.store.policies.createOverride(o);
      stamps.push(await t.store.policies.stamp());
      await t.store.policies.revokeOverride(o.id, '2030-01-01T00:00:02.000Z', 'x');
      stamps.push(await t.store.policies.stamp());
      assert.equal(new Set(stamps).size, 4, stamps.join('\n'));
      assert.equal(await t.store.policies.stamp(), stamps[3], 'stable while nothing changes');
    });

    it('lists active overrides, and revokes once', async () => {
      const school = await seedSchool(t.store);
      const live = override(school.id);
      const expired = override(school.id, { expiresAt: '2025-01-15T09:30:00.000Z', createdAt: '2025-01-15T08:00:00.000Z' });
      await t.store.policies.createOverride(live);
      await t.store.policies.createOverride(expired);
      assert.deepEqual(
        (await t.store.policies.listOverrides(school.id, '2025-01-15T09:45:00.000Z')).map((o) => o.id),
        [live.id],
      );
      assert.equal((await t.store.policies.listOverrides(school.id)).length, 2);
      assert.deepEqual(await t.store.policies.getOverride(live.id), live);
      assert.equal(await t.store.policies.revokeOverride(live.id, '2025-01-15T09:40:00.000Z', 'dsl@school.example'), true);
      assert.equal(await t.store.policies.revokeOverride(live.id, '2025-01-15T09:41:00.000Z', 'someone'), false);
      const revoked = await t.store.policies.getOverride(live.id);
      assert.equal(revoked?.revokedAt, '2025-01-15T09:40:00.000Z');
      assert.equal(revoked?.revokedByLabel, 'dsl@school.example');
      assert.deepEqual(await t.store.policies.listOverrides(school.id, '2025-01-15T09:45:00.000Z'), []);
      assert.equal(await t.store.policies.getOverride(randomUUID()), null);
    });
  });
}
