import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { DEFAULT_AUTH_SETTINGS } from './index.ts';

describe('proxy auth service', () => {
  let h: Harness;
  const admin = { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null };

  before(async () => {
    h = await createHarness();
    await h.services.users.create(admin, {
      email: 'teacher@test.example',
      displayName: 'Teacher',
      grants: [roleGrant('staff', h.schoolA.id)],
      password: 'teacher password 123',
    });
  });
  after(async () => {
    await h.close();
  });

  it('accepts the right email (any case) and password, with the user’s id and email', async () => {
    const r = await h.services.proxyAuth.verifyPassword('Teacher@Test.Example', 'teacher password 123', '10.0.0.1');
    assert.ok(r.ok);
    assert.equal(r.user.email, 'teacher@test.example');
  });

  it('refuses unknown emails and wrong passwords, counts failures, and refuses a locked account', async () => {
    assert.deepEqual(await h.services.proxyAuth.verifyPassword('nobody@test.example', 'x', null), { ok: false, reason: 'wrong' });
    assert.deepEqual(await h.services.proxyAuth.verifyPassword('teacher@test.example', '', null), { ok: false, reason: 'wrong' });
    for (let i = 0; i < DEFAULT_AUTH_SETTINGS.maxFailedLogins; i++)
      assert.deepEqual(await h.services.proxyAuth.verifyPassword('teacher@test.example', `wrong ${i}`, '10.0.0.1'), {
        ok: false,
        reason: 'wrong',
      });
    assert.deepEqual(await h.services.proxyAuth.verifyPassword('teacher@test.example', 'teacher password 123', '10.0.0.1'), {
      ok: false,
      reason: 'locked',
    });
    const audit = await h.services.deps.store.audit.list({ limit: 50 });
    assert.ok(audit.some((e) => e.action === 'auth.account_locked'));
  });
});
