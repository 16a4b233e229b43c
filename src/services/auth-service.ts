/**
 * Logging in and staying logged in: argon2id passwords, TOTP 2FA with recovery codes, sessions
 * that lock when idle, and lock-out after repeated failures. A session is identified by a random
 * token held only in the browser's cookie; the database keeps its SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DomainError, requiresMfa, type RoleGrant, type SessionRecord, type UserRecord } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

export type SessionState = 'active' | 'mfa_required' | 'mfa_enrolment_required' | 'password_change_required' | 'locked';

export interface SessionView {
  state: SessionState;
  user: { id: string; email: string; displayName: string; totpEnabled: boolean; grants: RoleGrant[] };
  idleLockMinutes: number;
  expiresAt: string;
}

export interface AuthenticatedSession {
  session: SessionRecord;
  user: UserRecord;
  state: SessionState;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
export const hashSessionToken = sha256;

const MIN_PASSWORD = 12;
const MAX_PASSWORD = 256;

export const passwordProblem = (password: string, email: string): string | null => {
  if (password.length < MIN_PASSWORD) return `Passwords must be at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `Passwords must be at most ${MAX_PASSWORD} characters`;
  if (password.toLowerCase() === email.toLowerCase()) return 'A password must not be your email address';
  if (new Set(password).size < 4) return 'That password is too easy to guess';
  return null;
};

/** A readable random password for first admins and admin resets (about 100 bits). */
export const generatePassword = (): string => {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  let out = '';
  for (let i = 0; i < 20; i++) {
    out += alphabet.charAt(bytes[i]! % alphabet.length);
    if (i % 5 === 4 && i < 19) out += '-';
  }
  return out;
};

const newRecoveryCode = (): string => {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  let s = '';
  for (const b of bytes) s += alphabet.charAt(b % alphabet.length);
  return `${s.slice(0, 5)}-${s.slice(5)}`;
};
const normaliseRecoveryCode = (code: string): string => code.trim().toLowerCase().replace(/[\s-]/g, '');

// A fixed argon2id hash to verify against when the email is unknown, so timing does not reveal accounts.
let dummyHash: Promise<string> | null = null;

export const createAuthService = (deps: ServiceDeps) => {
  const { store, hasher, totp, secretBox, auth } = deps;
  const minutes = (n: number) => n * 60_000;

  const stateOf = (user: UserRecord, session: SessionRecord): SessionState => {
    if (session.locked) return 'locked';
    if (!session.mfaOk) return user.totpEnabled ? 'mfa_required' : 'mfa_enrolment_required';
    if (user.mustChangePassword) return 'password_change_required';
    return 'active';
  };

  const view = (user: UserRecord, session: SessionRecord): SessionView => ({
    state: stateOf(user, session),
    user: { id: user.id, email: user.email, displayName: user.displayName, totpEnabled: user.totpEnabled, grants: [...user.grants] },
    idleLockMinutes: auth.idleLockMinutes,
    expiresAt: session.expiresAt,
  });

  const ctxFor = (user: UserRecord | null, ip: string | null, label?: string): RequestContext => ({
    actor: { userId: user?.id ?? '', grants: user?.grants ?? [] },
    actorLabel: label ?? user?.email ?? 'anonymous',
    ip,
  });

  /** Counts a failed password or code; locks the account after too many in a row. */
  const recordFailure = async (user: UserRecord, ip: string | null, what: string) => {
    const at = nowIso(deps);
    const failed = user.failedLogins + 1;
    const lock = failed >= auth.maxFailedLogins;
    const lockedUntil = lock ? new Date(deps.clock.now().getTime() + minutes(auth.lockoutMinutes)).toISOString() : null;
    await store.transaction(async (tx) => {
      await tx.users.update(user.id, { failedLogins: lock ? 0 : failed, lockedUntil }, at);
      await recordAudit(tx, ctxFor(user, ip), at, {
        action: lock ? 'auth.account_locked' : `auth.${what}_failed`,
        resourceType: 'user',
        resourceId: user.id,
        detail: { failedInARow: failed },
      });
    });
  };

  const assertNotLocked = (user: UserRecord) => {
    if (user.disabled) throw new DomainError('ACCOUNT_DISABLED', 'This account has been disabled. Ask your Haven administrator.', 403);
    if (user.lockedUntil && user.lockedUntil > nowIso(deps)) {
      throw new DomainError(
        'ACCOUNT_LOCKED',
        'Too many failed attempts: this account is locked for a few minutes. Try again later or ask an administrator.',
        423,
        { lockedUntil: user.lockedUntil },
      );
    }
  };

  const checkSecondFactor = async (user: UserRecord, code: string): Promise<'totp' | 'recovery' | null> => {
    if (!user.totpSecret) return null;
    const trimmed = code.trim().replace(/\s/g, '');
    if (/^\d{6}$/.test(trimmed)) {
      const step = await totp.verify(secretBox.open(user.totpSecret), trimmed, user.totpLastStep);
      if (step === null) return null;
      await store.users.update(user.id, { totpLastStep: step }, nowIso(deps));
      return 'totp';
    }
    const used = await store.users.useRecoveryCode(user.id, sha256(normaliseRecoveryCode(code)), nowIso(deps));
    return used ? 'recovery' : null;
  };

  const loadUser = async (id: string) => {
    const user = await store.users.get(id);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Please log in', 401);
    return user;
  };

  return {
    /** Checks email and password; returns a new session token and what the user must do next. */
    async login(email: string, password: string, ip: string | null, userAgent: string | null) {
      const user = await store.users.findByEmail(email);
      if (!user) {
        dummyHash ??= hasher.hash('haven-dummy-password-for-timing');
        await hasher.verify(await dummyHash, password);
        await recordAudit(store, ctxFor(null, ip, email.slice(0, 254)), nowIso(deps), {
          action: 'auth.login_failed',
          resourceType: 'user',
          detail: { reason: 'unknown email' },
        });
        throw new DomainError('INVALID_CREDENTIALS', 'Email or password is not right', 401);
      }
      assertNotLocked(user);
      if (!(await hasher.verify(user.passwordHash, password))) {
        await recordFailure(user, ip, 'login');
        throw new DomainError('INVALID_CREDENTIALS', 'Email or password is not right', 401);
      }
      const token = randomBytes(32).toString('base64url');
      const now = deps.clock.now();
      const session: SessionRecord = {
        idHash: sha256(token),
        userId: user.id,
        createdAt: now.toISOString(),
        lastSeenAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + auth.sessionMaxHours * 3_600_000).toISOString(),
        // Users who have not enrolled and whose roles do not demand 2FA need no second step.
        mfaOk: !user.totpEnabled && !requiresMfa(user.grants),
        locked: false,
        ip,
        userAgent: userAgent?.slice(0, 300) ?? null,
      };
      await store.transaction(async (tx) => {
        await tx.sessions.create(session);
        await tx.users.update(user.id, { failedLogins: 0, lockedUntil: null }, session.createdAt);
        await recordAudit(tx, ctxFor(user, ip), session.createdAt, { action: 'auth.login', resourceType: 'user', resourceId: user.id });
      });
      return { token, session: view(user, session) };
    },

    /**
     * Resolves a session token. Locks the session when it has been idle too long; refreshes its
     * idle clock when `touch` is set (user actions do; background polling does not).
     */
    async authenticate(token: string | undefined, touch: boolean): Promise<AuthenticatedSession> {
      if (!token) throw new DomainError('UNAUTHENTICATED', 'Please log in', 401);
      const idHash = sha256(token);
      const session = await store.sessions.get(idHash);
      if (!session) throw new DomainError('UNAUTHENTICATED', 'Please log in', 401);
      const now = deps.clock.now();
      if (session.expiresAt <= now.toISOString()) {
        await store.sessions.delete(idHash);
        throw new DomainError('SESSION_EXPIRED', 'Your session has ended. Please log in again.', 401);
      }
      const user = await loadUser(session.userId);
      if (user.disabled) {
        await store.sessions.deleteForUser(user.id);
        throw new DomainError('ACCOUNT_DISABLED', 'This account has been disabled', 401);
      }
      const idleMs = now.getTime() - Date.parse(session.lastSeenAt);
      if (!session.locked && idleMs > minutes(auth.idleLockMinutes)) {
        session.locked = true;
        await store.sessions.update(idHash, { locked: true });
        await recordAudit(store, ctxFor(user, session.ip), now.toISOString(), {
          action: 'auth.session_locked',
          resourceType: 'user',
          resourceId: user.id,
          detail: { idleMinutes: Math.floor(idleMs / 60_000) },
        });
      } else if (touch && !session.locked && idleMs > 5_000) {
        session.lastSeenAt = now.toISOString();
        await store.sessions.update(idHash, { lastSeenAt: session.lastSeenAt });
      }
      return { session, user, state: stateOf(user, session) };
    },

    view,

    async logout(token: string | undefined, ip: string | null) {
      if (!token) return;
      const session = await store.sessions.get(sha256(token));
      if (!session) return;
      await store.sessions.delete(session.idHash);
      const user = await store.users.get(session.userId);
      await recordAudit(store, ctxFor(user, ip), nowIso(deps), { action: 'auth.logout', resourceType: 'user', resourceId: session.userId });
    },

    /** Second step of login: a TOTP code or an unused recovery code. */
    async verifySecondFactor(s: AuthenticatedSession, code: string, ip: string | null) {
      if (s.state !== 'mfa_required') throw new DomainError('BAD_REQUEST', 'No second step is waiting for this session', 409);
      const user = await loadUser(s.user.id);
      assertNotLocked(user);
      const how = await checkSecondFactor(user, code);
      if (!how) {
        await recordFailure(user, ip, 'mfa');
        throw new DomainError('MFA_INVALID_CODE', 'That code is not right. Check the time on your phone and try again.', 401);
      }
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.sessions.update(s.session.idHash, { mfaOk: true, lastSeenAt: at });
        await tx.users.update(user.id, { failedLogins: 0 }, at);
        await recordAudit(tx, ctxFor(user, ip), at, {
          action: `auth.mfa_verified`,
          resourceType: 'user',
          resourceId: user.id,
          detail: { method: how },
        });
      });
      return view(user, { ...s.session, mfaOk: true, lastSeenAt: at });
    },

    /** Starts TOTP enrolment: a new secret (kept sealed, not yet enabled) and its otpauth URI. */
    async beginTotpEnrolment(s: AuthenticatedSession) {
      if (s.user.totpEnabled) throw new DomainError('MFA_ALREADY_ENABLED', 'Two-factor authentication is already set up', 409);
      const secret = totp.generateSecret();
      await store.users.update(s.user.id, { totpSecret: secretBox.seal(secret) }, nowIso(deps));
      return { secret, otpauthUri: totp.keyUri(secret, s.user.email, auth.issuer) };
    },

    /** Confirms enrolment with a first code; returns ten recovery codes, shown once. */
    async completeTotpEnrolment(s: AuthenticatedSession, code: string, ip: string | null) {
      const user = await loadUser(s.user.id);
      if (user.totpEnabled) throw new DomainError('MFA_ALREADY_ENABLED', 'Two-factor authentication is already set up', 409);
      if (!user.totpSecret) throw new DomainError('BAD_REQUEST', 'Start the set-up first', 409);
      const step = await totp.verify(secretBox.open(user.totpSecret), code.trim());
      if (step === null) {
        throw new DomainError('MFA_INVALID_CODE', 'That code is not right. Check the time on your phone and try again.', 400);
      }
      const codes = Array.from({ length: 10 }, newRecoveryCode);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.users.update(user.id, { totpEnabled: true, totpLastStep: step }, at);
        await tx.users.replaceRecoveryCodes(
          user.id,
          codes.map((c) => sha256(normaliseRecoveryCode(c))),
        );
        await tx.sessions.update(s.session.idHash, { mfaOk: true, lastSeenAt: at });
        await recordAudit(tx, ctxFor(user, ip), at, { action: 'auth.mfa_enrolled', resourceType: 'user', resourceId: user.id });
      });
      return { recoveryCodes: codes };
    },

    /** Unlocks an idle-locked session with the password (and a code when 2FA is on). */
    async unlock(s: AuthenticatedSession, password: string, code: string | undefined, ip: string | null) {
      if (!s.session.locked) return view(s.user, s.session);
      const user = await loadUser(s.user.id);
      assertNotLocked(user);
      const passwordOk = await hasher.verify(user.passwordHash, password);
      const codeOk = !user.totpEnabled || (code !== undefined && (await checkSecondFactor(user, code)) !== null);
      if (!passwordOk || !codeOk) {
        await recordFailure(user, ip, 'unlock');
        throw new DomainError(
          passwordOk ? 'MFA_INVALID_CODE' : 'INVALID_CREDENTIALS',
          passwordOk ? 'That code is not right' : 'That password is not right',
          401,
        );
      }
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.sessions.update(s.session.idHash, { locked: false, lastSeenAt: at });
        await tx.users.update(user.id, { failedLogins: 0 }, at);
        await recordAudit(tx, ctxFor(user, ip), at, { action: 'auth.session_unlocked', resourceType: 'user', resourceId: user.id });
      });
      return view(user, { ...s.session, locked: false, lastSeenAt: at });
    },

    async changePassword(s: AuthenticatedSession, current: string, next: string, ip: string | null) {
      const user = await loadUser(s.user.id);
      if (!(await hasher.verify(user.passwordHash, current))) {
        await recordFailure(user, ip, 'password_change');
        throw new DomainError('INVALID_CREDENTIALS', 'Your current password is not right', 400);
      }
      const problem = passwordProblem(next, user.email);
      if (problem) throw new DomainError('PASSWORD_TOO_WEAK', problem, 400);
      if (await hasher.verify(user.passwordHash, next))
        throw new DomainError('PASSWORD_TOO_WEAK', 'Choose a password you have not used here', 400);
      const at = nowIso(deps);
      const hash = await hasher.hash(next);
      await store.transaction(async (tx) => {
        await tx.users.update(user.id, { passwordHash: hash, mustChangePassword: false }, at);
        await recordAudit(tx, ctxFor(user, ip), at, { action: 'auth.password_changed', resourceType: 'user', resourceId: user.id });
      });
      return view({ ...user, mustChangePassword: false }, s.session);
    },

    async cleanExpiredSessions() {
      return store.sessions.deleteExpired(nowIso(deps));
    },
  };
};

export type AuthService = ReturnType<typeof createAuthService>;
