/**
 * The forward proxy's Basic sign-in against Haven's own users (HAVEN_PROXY_AUTH=basic): email and
 * password checked with the same argon2 hasher, lock-out and failure counting as the web app's
 * login, but no session, no second factor (a browser's proxy prompt has nowhere to type a code)
 * and no audit entry per success (the proxy asks once per cached credential; the login feed row
 * it records is the trace). Failures are audited like web logins, since they count towards the lock.
 */
import type { UserRecord } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type ServiceDeps } from './context.ts';

export interface ProxyUser {
  id: string;
  email: string;
  personId: string | null;
}

export type ProxyPasswordResult = { ok: true; user: ProxyUser } | { ok: false; reason: 'wrong' | 'locked' | 'disabled' };

// Verified against when the email is unknown, so timing does not reveal which accounts exist.
let dummyHash: Promise<string> | null = null;

export const createProxyAuthService = (deps: ServiceDeps) => {
  const { store, hasher, auth } = deps;

  const recordFailure = async (user: UserRecord, ip: string | null) => {
    const at = nowIso(deps);
    const failed = user.failedLogins + 1;
    const lock = failed >= auth.maxFailedLogins;
    const lockedUntil = lock ? new Date(deps.clock.now().getTime() + auth.lockoutMinutes * 60_000).toISOString() : null;
    await store.transaction(async (tx) => {
      await tx.users.update(user.id, { failedLogins: lock ? 0 : failed, lockedUntil }, at);
      await recordAudit(tx, { actor: { userId: user.id, grants: user.grants }, actorLabel: user.email, ip }, at, {
        action: lock ? 'auth.account_locked' : 'auth.proxy_login_failed',
        resourceType: 'user',
        resourceId: user.id,
        detail: { failedInARow: failed },
      });
    });
  };

  return {
    /** Checks a proxy sign-in. Never throws for bad input; the password is never stored or logged. */
    async verifyPassword(email: string, password: string, ip: string | null): Promise<ProxyPasswordResult> {
      const user = email.length > 0 && email.length <= 254 && password.length > 0 ? await store.users.findByEmail(email) : null;
      if (!user) {
        dummyHash ??= hasher.hash('haven-dummy-password-for-timing');
        await hasher.verify(await dummyHash, password.slice(0, 1024));
        return { ok: false, reason: 'wrong' };
      }
      if (user.disabled) return { ok: false, reason: 'disabled' };
      if (user.lockedUntil && user.lockedUntil > nowIso(deps)) return { ok: false, reason: 'locked' };
      if (!(await hasher.verify(user.passwordHash, password))) {
        await recordFailure(user, ip);
        return { ok: false, reason: 'wrong' };
      }
      if (user.failedLogins > 0) await store.users.update(user.id, { failedLogins: 0, lockedUntil: null }, nowIso(deps));
      return { ok: true, user: { id: user.id, email: user.email, personId: user.personId } };
    },
  };
};

export type ProxyAuthService = ReturnType<typeof createProxyAuthService>;
