import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RoleGrant } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { newPerson, newUser, seedSchool } from '../../../test-support/factories.ts';

const sortGrants = (grants: readonly RoleGrant[]): RoleGrant[] =>
  [...grants].sort((a, b) => `${a.role}|${a.schoolId ?? ''}`.localeCompare(`${b.role}|${b.schoolId ?? ''}`));

for (const engine of testEngines()) {
  describe(`user repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('starts empty', async () => {
      assert.equal(await t.store.users.count(), 0);
      assert.deepEqual(await t.store.users.list(), []);
    });

    it('creates a user and reads every field back, by id and by email in any case', async () => {
      const school = await seedSchool(t.store);
      const person = newPerson(school.id, { kind: 'staff' });
      await t.store.people.create(person);
      const user = newUser({
        email: 'Head.Teacher@School.example',
        displayName: 'Ms Head',
        personId: person.id,
        mustChangePassword: true,
        totpSecret: 'sealed:abc',
        totpEnabled: true,
        failedLogins: 2,
        lockedUntil: '2025-01-15T10:00:00.000Z',
        disabled: false,
        grants: [
          { role: 'headteacher', schoolId: school.id },
          { role: 'dsl', schoolId: school.id },
        ],
      });
      await t.store.users.create(user);
      const expected = { ...user, email: 'head.teacher@school.example', grants: sortGrants(user.grants) };
      const got = await t.store.users.get(user.id);
      assert.ok(got);
      assert.deepEqual({ ...got, grants: sortGrants(got.grants) }, expected);
      const byEmail = await t.store.users.findByEmail('  HEAD.teacher@school.EXAMPLE ');
      assert.equal(byEmail?.id, user.id);
      assert.equal(await t.store.users.get(randomUUID()), null);
      assert.equal(await t.store.users.findByEmail('nobody@school.example'), null);
      assert.equal(await t.store.users.count(), 1);
    });

    it('refuses a second user with the same email, whatever the case', async () => {
      await t.store.users.create(newUser({ email: 'dup@school.example' }));
      await assert.rejects(t.store.users.create(newUser({ email: 'DUP@school.example' })));
    });

    it('round-trips trust-wide grants (null schoolId) beside per-school grants', async () => {
      const school = await seedSchool(t.store);
      const grants: RoleGrant[] = [
        { role: 'trust_lead', schoolId: null },
        { role: 'admin', schoolId: null },
        { role: 'dsl', schoolId: school.id },
      ];
      const user = newUser({ grants });
      await t.store.users.create(user);
      const got = await t.store.users.get(user.id);
      assert.deepEqual(sortGrants(got!.grants), sortGrants(grants));
      assert.equal(got!.grants.find((g) => g.role === 'trust_lead')?.schoolId, null);
    });

    it('replaces grants, dropping duplicates, and clears them', async () => {
      const school = await seedSchool(t.store);
      const other = await seedSchool(t.store);
      const user = newUser({ grants: [{ role: 'staff', schoolId: school.id }] });
      await t.store.users.create(user);
      await t.store.users.setGrants(user.id, [
        { role: 'dsl', schoolId: school.id },
        { role: 'dsl', schoolId: school.id },
        { role: 'dsl', schoolId: other.id },
        { role: 'governor', schoolId: null },
        { role: 'governor', schoolId: null },
      ]);
      assert.deepEqual(
        sortGrants((await t.store.users.get(user.id))!.grants),
        sortGrants([
          { role: 'dsl', schoolId: school.id },
          { role: 'dsl', schoolId: other.id },
          { role: 'governor', schoolId: null },
        ]),
      );
      await t.store.users.setGrants(user.id, []);
      assert.deepEqual((await t.store.users.get(user.id))!.grants, []);
    });

    it('updates only the given fields and stamps updatedAt', async () => {
      const user = newUser({ displayName: 'Before', totpSecret: 'sealed:x', totpEnabled: true });
      await t.store.users.create(user);
      await t.store.users.update(
        user.id,
        { displayName: 'After', failedLogins: 5, lockedUntil: '2025-01-15T09:15:00.000Z' },
        '2025-01-15T09:05:00.000Z',
      );
      let got = await t.store.users.get(user.id);
      assert.deepEqual(got, {
        ...user,
        displayName: 'After',
        failedLogins: 5,
        lockedUntil: '2025-01-15T09:15:00.000Z',
        updatedAt: '2025-01-15T09:05:00.000Z',
      });
      await t.store.users.update(
        user.id,
        { totpSecret: null, totpEnabled: false, disabled: true, mustChangePassword: true, lockedUntil: null },
        '2025-01-16T00:00:00.000Z',
      );
      got = await t.store.users.get(user.id);
      assert.equal(got?.totpSecret, null);
      assert.equal(got?.totpEnabled, false);
      assert.equal(got?.disabled, true);
      assert.equal(got?.mustChangePassword, true);
      assert.equal(got?.lockedUntil, null);
      assert.equal(got?.displayName, 'After');
    });

    it('lists users by display name with their grants', async () => {
      const countBefore = await t.store.users.count();
      await t.store.users.create(newUser({ displayName: 'Zed Last', grants: [{ role: 'office', schoolId: null }] }));
      await t.store.users.create(newUser({ displayName: 'Aaron First' }));
      const list = await t.store.users.list();
      assert.equal(list.length, countBefore + 2);
      assert.equal(await t.store.users.count(), countBefore + 2);
      assert.equal(list[0]?.displayName, 'Aaron First');
      assert.equal(list.at(-1)?.displayName, 'Zed Last');
      assert.deepEqual(list.at(-1)?.grants, [{ role: 'office', schoolId: null }]);
    });

    it('uses each recovery code once', async () => {
      const user = newUser();
      await t.store.users.create(user);
      await t.store.users.replaceRecoveryCodes(user.id, ['h1', 'h2', 'h3']);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(user.id), 3);
      assert.equal(await t.store.users.useRecoveryCode(user.id, 'h2', '2025-01-15T09:00:00.000Z'), true);
      assert.equal(await t.store.users.useRecoveryCode(user.id, 'h2', '2025-01-15T09:01:00.000Z'), false);
      assert.equal(await t.store.users.useRecoveryCode(user.id, 'nope', '2025-01-15T09:01:00.000Z'), false);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(user.id), 2);

      // Another user's code does not work for this one.
      const other = newUser();
      await t.store.users.create(other);
      await t.store.users.replaceRecoveryCodes(other.id, ['o1']);
      assert.equal(await t.store.users.useRecoveryCode(user.id, 'o1', '2025-01-15T09:02:00.000Z'), false);

      // Replacing codes discards the old ones, used or not.
      await t.store.users.replaceRecoveryCodes(user.id, ['n1', 'n2']);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(user.id), 2);
      assert.equal(await t.store.users.useRecoveryCode(user.id, 'h1', '2025-01-15T09:03:00.000Z'), false);
      await t.store.users.replaceRecoveryCodes(user.id, []);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(user.id), 0);
      assert.equal(await t.store.users.unusedRecoveryCodeCount(other.id), 1);
    });

    it('lets exactly one of several concurrent uses of a recovery code succeed', async () => {
      const user = newUser();
      await t.store.users.create(user);
      await t.store.users.replaceRecoveryCodes(user.id, ['only']);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => t.store.users.useRecoveryCode(user.id, 'only', '2025-01-15T09:00:00.000Z')),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('stores SQL-looking text verbatim', async () => {
      const nasty = "'); DROP TABLE app_user;--";
      const user = newUser({ displayName: nasty, passwordHash: "x' OR '1'='1" });
      await t.store.users.create(user);
      const got = await t.store.users.get(user.id);
      assert.equal(got?.displayName, nasty);
      assert.equal(got?.passwordHash, "x' OR '1'='1");
      await t.store.users.replaceRecoveryCodes(user.id, [nasty]);
      assert.equal(await t.store.users.useRecoveryCode(user.id, nasty, '2025-01-15T09:00:00.000Z'), true);
    });
  });
}
