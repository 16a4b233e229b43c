/**
 * Logging in as a user would: first admin from bootstrap, 2FA enrolment and recovery codes,
 * second step, lock-out after failures, idle lock and unlock, password reset, log out.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { bootstrap } from '../services/index.ts';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';

type Json = Record<string, any>;

const cookieFrom = (res: { headers: Record<string, unknown> }): string => {
  const raw = [res.headers['set-cookie']].flat().find((c): c is string => typeof c === 'string' && c.startsWith('haven_session='));
  assert.ok(raw, 'no session cookie was set');
  return raw.split(';')[0]!;
};

describe('authentication', () => {
  let h: Harness;
  // Each call from its own address, so the per-address login throttle (tested on its own) stays out of the way.
  let calls = 0;
  const post = (url: string, body: unknown, cookie?: string) =>
    h.app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(cookie && { cookie }) },
      remoteAddress: `10.9.${Math.floor(++calls / 250)}.${calls % 250}`,
    });
  const get = (url: string, cookie?: string) => h.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
  const code = (secret: string) => h.services.deps.totp.generate(secret);

  /** Creates a user through the service and logs in: returns the cookie and session view. */
  const loginAs = async (email: string, password: string) => {
    const res = await post('/api/v1/auth/login', { email, password });
    assert.equal(res.statusCode, 200, res.body);
    return { cookie: cookieFrom(res), session: res.json<Json>().session };
  };

  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());
  beforeEach(() => {
    h.clock.advanceMinutes(60 * 24); // fresh day: lock-outs from earlier tests have expired
  });

  it('takes the first admin from bootstrap through 2FA enrolment and a password change', async () => {
    const boot = await bootstrap(h.services.deps, { trustName: 'Test Trust' });
    assert.ok(boot.createdAdmin, 'bootstrap made the first admin');
    assert.equal(boot.createdAdmin.generated, true);
    const password = boot.createdAdmin.password!;
    assert.match(password, /^[\w-]{20,}$/);

    const { cookie, session } = await loginAs('admin@haven.local', password);
    assert.equal(session.state, 'mfa_enrolment_required');
    assert.deepEqual(session.abilities, {});

    // Nothing else works until 2FA is set up.
    const blocked = await get('/api/v1/dashboard', cookie);
    assert.equal(blocked.statusCode, 403);
    assert.equal(blocked.json<Json>().error.code, 'MFA_ENROLMENT_REQUIRED');

    const setup = await post('/api/v1/auth/mfa/setup', {}, cookie);
    assert.equal(setup.statusCode, 200, setup.body);
    const { secret, otpauthUri, qrSvgDataUrl } = setup.json<Json>();
    assert.match(otpauthUri, /^otpauth:\/\/totp\/Haven:admin%40haven\.local\?/);
    assert.match(qrSvgDataUrl, /^data:image\/svg\+xml;base64,/);

    const wrong = await post('/api/v1/auth/mfa/enable', { code: '000000' }, cookie);
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json<Json>().error.code, 'MFA_INVALID_CODE');

    const enabled = await post('/api/v1/auth/mfa/enable', { code: await code(secret) }, cookie);
    assert.equal(enabled.statusCode, 200, enabled.body);
    const { recoveryCodes } = enabled.json<Json>();
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    // A generated password must be replaced before anything else.
    assert.equal(enabled.json<Json>().session.state, 'password_change_required');
    assert.equal((await get('/api/v1/dashboard', cookie)).json<Json>().error.code, 'PASSWORD_CHANGE_REQUIRED');

    const weak = await post('/api/v1/auth/password', { currentPassword: password, newPassword: 'short' }, cookie);
    assert.equal(weak.json<Json>().error.code, 'PASSWORD_TOO_WEAK');
    const changed = await post('/api/v1/auth/password', { currentPassword: password, newPassword: 'a much better passphrase 42' }, cookie);
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json<Json>().session.state, 'active');
    assert.equal(changed.json<Json>().session.abilities['user:create'], 'all');
    assert.equal((await get('/api/v1/dashboard', cookie)).statusCode, 200);

    // Next login: password, then a code; a recovery code works once.
    const again = await loginAs('admin@haven.local', 'a much better passphrase 42');
    assert.equal(again.session.state, 'mfa_required');
    const bad = await post('/api/v1/auth/mfa/verify', { code: '999999' }, again.cookie);
    assert.equal(bad.statusCode, 401);
    const good = await post('/api/v1/auth/mfa/verify', { code: recoveryCodes[0] }, again.cookie);
    assert.equal(good.statusCode, 200, good.body);
    assert.equal(good.json<Json>().session.state, 'active');

    const third = await loginAs('admin@haven.local', 'a much better passphrase 42');
    const reused = await post('/api/v1/auth/mfa/verify', { code: recoveryCodes[0] }, third.cookie);
    assert.equal(reused.statusCode, 401, 'a recovery code is single-use');
    h.clock.advanceMinutes(1); // a new 30-second step: the enrolment code cannot be used again
    const fresh = await code(secret);
    const byTotp = await post('/api/v1/auth/mfa/verify', { code: fresh }, third.cookie);
    assert.equal(byTotp.statusCode, 200);

    // The same code, seen over a shoulder, does not work a second time.
    const fourth = await loginAs('admin@haven.local', 'a much better passphrase 42');
    const replay = await post('/api/v1/auth/mfa/verify', { code: fresh }, fourth.cookie);
    assert.equal(replay.statusCode, 401);
    assert.equal(replay.json<Json>().error.code, 'MFA_INVALID_CODE');
  });

  it('sets the session cookie HttpOnly and SameSite=Strict, and Secure when configured', async () => {
    await h.services.users.create(
      { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      {
        email: 'teacher@test.example',
        displayName: 'Teacher',
        grants: [roleGrant('staff', h.schoolA.id)],
        password: 'teacher password 123',
      },
    );
    const res = await post('/api/v1/auth/login', { email: 'Teacher@Test.Example', password: 'teacher password 123' });
    assert.equal(res.statusCode, 200);
    const raw = String([res.headers['set-cookie']].flat()[0]);
    assert.match(raw, /HttpOnly/);
    assert.match(raw, /SameSite=Strict/);
    assert.doesNotMatch(raw, /Secure/, 'plain HTTP on loopback: not Secure');
    // Staff do not need 2FA: straight in.
    assert.equal(res.json<Json>().session.state, 'active');

    const { buildApi } = await import('./index.ts');
    const secureApp = await buildApi({ services: h.services, version: 't', healthCheck: () => Promise.resolve(), secureCookies: true });
    const sres = await secureApp.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'teacher@test.example', password: 'teacher password 123' },
    });
    assert.match(String([sres.headers['set-cookie']].flat()[0]), /Secure/);
    await secureApp.close();
  });

  it('locks an account after repeated failures, whatever password comes next', async () => {
    await h.services.users.create(
      { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      { email: 'office@test.example', displayName: 'Office', grants: [roleGrant('office', h.schoolA.id)], password: 'office password 123' },
    );
    for (let i = 0; i < 5; i++) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'office@test.example', password: `wrong ${i}` },
        remoteAddress: `10.0.0.${i + 1}`, // different addresses: the per-address rate limit is not what stops this
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<Json>().error.message, 'Email or password is not right');
    }
    const locked = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'office@test.example', password: 'office password 123' },
      remoteAddress: '10.0.1.1',
    });
    assert.equal(locked.statusCode, 423);
    assert.equal(locked.json<Json>().error.code, 'ACCOUNT_LOCKED');
    h.clock.advanceMinutes(16);
    const ok = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'office@test.example', password: 'office password 123' },
      remoteAddress: '10.0.1.2',
    });
    assert.equal(ok.statusCode, 200);
    const entries = await h.db.store.audit.list({ action: 'auth.account_locked', limit: 10 });
    assert.equal(entries.length, 1);
  });

  it('throttles logins from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: `x${i}@test.example`, password: 'nope' },
        remoteAddress: '192.0.2.99',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) assert.equal(res.json<Json>().error.code, 'RATE_LIMITED');
    }
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
    assert.deepEqual(statuses.slice(10), [429, 429]);
  });

  it('locks a session after 10 idle minutes, and polling the session does not keep it alive', async () => {
    await h.services.users.create(
      { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      { email: 'ta@test.example', displayName: 'TA', grants: [roleGrant('staff', h.schoolA.id)], password: 'assistant password 1' },
    );
    const { cookie } = await loginAs('ta@test.example', 'assistant password 1');
    h.clock.advanceMinutes(9);
    assert.equal((await get('/api/v1/dashboard', cookie)).statusCode, 200, 'activity within 10 minutes is fine');
    for (let i = 0; i < 11; i++) {
      h.clock.advanceMinutes(1);
      await get('/api/v1/auth/session', cookie);
    }
    const res = await get('/api/v1/dashboard', cookie);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<Json>().error.code, 'SESSION_LOCKED');
    assert.equal((await get('/api/v1/auth/session', cookie)).json<Json>().session.state, 'locked');

    const wrong = await post('/api/v1/auth/unlock', { password: 'not my password' }, cookie);
    assert.equal(wrong.statusCode, 401);
    const unlocked = await post('/api/v1/auth/unlock', { password: 'assistant password 1' }, cookie);
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    assert.equal((await get('/api/v1/dashboard', cookie)).statusCode, 200);
  });

  it('counts reported typing as activity, so writing a long record does not lock the session', async () => {
    const { cookie } = await h.sessionFor([roleGrant('dsl', h.schoolA.id)]);
    for (let i = 0; i < 4; i++) {
      h.clock.advanceMinutes(8);
      const res = await post('/api/v1/auth/activity', {}, cookie);
      assert.equal(res.statusCode, 204);
    }
    assert.equal((await get('/api/v1/dashboard', cookie)).statusCode, 200, '32 minutes of typing, never idle for 10');
    h.clock.advanceMinutes(11);
    assert.equal((await post('/api/v1/auth/activity', {}, cookie)).json<Json>().error.code, 'SESSION_LOCKED');
  });

  it('ends sessions on log out, after their lifetime, and when an admin resets the password', async () => {
    const admin = await h.sessionFor([roleGrant('admin', null)]);
    const created = await post(
      '/api/v1/users',
      { email: 'dsl@test.example', displayName: 'Dee Ess', grants: [{ role: 'dsl', schoolId: h.schoolA.id }] },
      admin.cookie,
    );
    assert.equal(created.statusCode, 201, created.body);
    const { user, temporaryPassword } = created.json<Json>();
    assert.equal(user.mustChangePassword, true);

    const first = await loginAs('dsl@test.example', temporaryPassword);
    assert.equal(first.session.state, 'mfa_enrolment_required', 'a DSL must set up 2FA');
    const out = await post('/api/v1/auth/logout', {}, first.cookie);
    assert.equal(out.statusCode, 204);
    assert.equal((await get('/api/v1/auth/session', first.cookie)).statusCode, 401);

    const second = await loginAs('dsl@test.example', temporaryPassword);
    const reset = await post(`/api/v1/users/${user.id}/reset-password`, { resetTwoFactor: true }, admin.cookie);
    assert.equal(reset.statusCode, 200);
    assert.equal((await get('/api/v1/auth/session', second.cookie)).statusCode, 401, 'reset ends existing sessions');
    const old = await post('/api/v1/auth/login', { email: 'dsl@test.example', password: temporaryPassword });
    assert.equal(old.statusCode, 401, 'the old password no longer works');
    const fresh = await loginAs('dsl@test.example', reset.json<Json>().temporaryPassword);
    h.clock.advanceMinutes(60 * 13); // past the 12-hour lifetime
    const expired = await get('/api/v1/auth/session', fresh.cookie);
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.json<Json>().error.code, 'SESSION_EXPIRED');
  });

  it('refuses disabled accounts and forged cookies', async () => {
    const admin = await h.sessionFor([roleGrant('admin', null)]);
    const created = await post('/api/v1/users', { email: 'leaver@test.example', displayName: 'Leaver', grants: [] }, admin.cookie);
    const { user, temporaryPassword } = created.json<Json>();
    const s = await loginAs('leaver@test.example', temporaryPassword);
    const disabled = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      payload: { disabled: true },
      headers: { cookie: admin.cookie },
    });
    assert.equal(disabled.statusCode, 200);
    assert.equal((await get('/api/v1/auth/session', s.cookie)).statusCode, 401);
    const again = await post('/api/v1/auth/login', { email: 'leaver@test.example', password: temporaryPassword });
    assert.equal(again.json<Json>().error.code, 'ACCOUNT_DISABLED');
    assert.equal((await get('/api/v1/dashboard', 'haven_session=forged-token')).statusCode, 401);
  });

  it('records logins and failures in the audit log without passwords', async () => {
    const entries = await h.db.store.audit.list({ limit: 500 });
    const actions = new Set(entries.map((e) => e.action));
    for (const a of [
      'auth.login',
      'auth.login_failed',
      'auth.mfa_enrolled',
      'auth.mfa_verified',
      'auth.session_locked',
      'auth.session_unlocked',
      'auth.logout',
      'user.password_reset',
    ]) {
      assert.ok(actions.has(a), `audit has ${a}`);
    }
    const text = JSON.stringify(entries);
    assert.doesNotMatch(text, /assistant password 1|teacher password 123/);
  });
});
