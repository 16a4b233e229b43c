import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { UserRecord } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { newSession, newUser } from '../../../test-support/factories.ts';

for (const engine of testEngines()) {
  describe(`session repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let alice: UserRecord;
    let bob: UserRecord;
    before(async () => {
      t = await engine.open();
      alice = newUser();
      bob = newUser();
      await t.store.users.create(alice);
      await t.store.users.create(bob);
    });
    after(() => t?.close());

    it('creates and reads a session with every field', async () => {
      const s = newSession(alice.id, { mfaOk: true, locked: false, ip: '10.0.0.7', userAgent: 'Mozilla/5.0 (X11; Linux)' });
      await t.store.sessions.create(s);
      assert.deepEqual(await t.store.sessions.get(s.idHash), s);
      assert.equal(await t.store.sessions.get('no-such-session'), null);
    });

    it('updates lastSeenAt, mfaOk and locked independently', async () => {
      const s = newSession(alice.id);
      await t.store.sessions.create(s);
      await t.store.sessions.update(s.idHash, { lastSeenAt: '2025-01-15T09:30:00.000Z' });
      assert.deepEqual(await t.store.sessions.get(s.idHash), { ...s, lastSeenAt: '2025-01-15T09:30:00.000Z' });
      await t.store.sessions.update(s.idHash, { mfaOk: true, locked: true });
      assert.deepEqual(await t.store.sessions.get(s.idHash), { ...s, lastSeenAt: '2025-01-15T09:30:00.000Z', mfaOk: true, locked: true });
      await t.store.sessions.update(s.idHash, { locked: false });
      assert.equal((await t.store.sessions.get(s.idHash))?.locked, false);
      assert.equal((await t.store.sessions.get(s.idHash))?.mfaOk, true);
    });

    it('deletes one session, or every session of a user', async () => {
      const a1 = newSession(alice.id);
      const a2 = newSession(alice.id);
      const b1 = newSession(bob.id);
      for (const s of [a1, a2, b1]) await t.store.sessions.create(s);
      await t.store.sessions.delete(a1.idHash);
      assert.equal(await t.store.sessions.get(a1.idHash), null);
      await t.store.sessions.delete(a1.idHash); // deleting twice is harmless
      const removed = await t.store.sessions.deleteForUser(alice.id);
      assert.ok(removed >= 1);
      assert.equal(await t.store.sessions.get(a2.idHash), null);
      assert.ok(await t.store.sessions.get(b1.idHash));
      assert.equal(await t.store.sessions.deleteForUser(alice.id), 0);
    });

    it('cleans up only sessions that have expired', async () => {
      const now = '2025-02-01T12:00:00.000Z';
      const expired = newSession(bob.id, { expiresAt: '2025-02-01T11:59:59.999Z' });
      const longGone = newSession(alice.id, { expiresAt: '2024-12-31T23:00:00.000Z' });
      const exactlyNow = newSession(bob.id, { expiresAt: now });
      const live = newSession(bob.id, { expiresAt: '2025-02-01T12:00:00.001Z' });
      for (const s of [expired, longGone, exactlyNow, live]) await t.store.sessions.create(s);
      // Sessions from earlier tests expire at 2025-01-15T17:00, so they go too.
      const removed = await t.store.sessions.deleteExpired(now);
      assert.ok(removed >= 2);
      assert.equal(await t.store.sessions.get(expired.idHash), null);
      assert.equal(await t.store.sessions.get(longGone.idHash), null);
      assert.ok(await t.store.sessions.get(exactlyNow.idHash));
      assert.ok(await t.store.sessions.get(live.idHash));
      assert.equal(await t.store.sessions.deleteExpired(now), 0);
    });

    it('refuses a session for a user who does not exist', async () => {
      await assert.rejects(t.store.sessions.create(newSession('no-such-user')));
    });
  });
}
