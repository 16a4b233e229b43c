/**
 * Accounts and their roles. Administrators add users (who get a one-time password and must
 * choose their own at first login), change roles, disable accounts and reset passwords.
 */
import { DomainError, invalid, isEmail, isRole, notFound, type RoleGrant, type UserRecord } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { generatePassword, passwordProblem } from './auth-service.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  grants: RoleGrant[];
  totpEnabled: boolean;
  disabled: boolean;
  lockedUntil: string | null;
  mustChangePassword: boolean;
  createdAt: string;
}

export const summariseUser = (u: UserRecord): UserSummary => ({
  id: u.id,
  email: u.email,
  displayName: u.displayName,
  grants: u.grants,
  totpEnabled: u.totpEnabled,
  disabled: u.disabled,
  lockedUntil: u.lockedUntil,
  mustChangePassword: u.mustChangePassword,
  createdAt: u.createdAt,
});

const grantKey = (g: RoleGrant) => `${g.role}|${g.schoolId ?? ''}`;

export const createUserService = (deps: ServiceDeps) => {
  const { store, hasher } = deps;

  const requireUser = async (id: string) => {
    const u = await store.users.get(id);
    if (!u) throw notFound('USER_NOT_FOUND', 'User');
    return u;
  };

  const cleanGrants = async (grants: readonly { role: string; schoolId: string | null }[]): Promise<RoleGrant[]> => {
    const out = new Map<string, RoleGrant>();
    for (const g of grants) {
      if (!isRole(g.role)) throw invalid(`Unknown role "${g.role}"`);
      if (g.schoolId !== null && !(await store.tenancy.getSchool(g.schoolId))) throw invalid('A role names a school that does not exist');
      const grant: RoleGrant = { role: g.role, schoolId: g.schoolId };
      out.set(grantKey(grant), grant);
    }
    return [...out.values()];
  };

  const cleanDisplayName = (name: string) => {
    const n = name.trim().replace(/\s+/g, ' ');
    if (!n) throw invalid('Name is required');
    if (n.length > 100) throw invalid('Name is longer than 100 characters');
    if (/[\p{Cc}]/u.test(n)) throw invalid('Name contains control characters');
    return n;
  };

  const isTrustAdmin = (grants: readonly RoleGrant[]) => grants.some((g) => g.role === 'admin' && g.schoolId === null);

  return {
    requireUser,
    list: async () => (await store.users.list()).map(summariseUser),

    /**
     * Adds a user. Without a password a one-time one is generated, returned once, and must be
     * changed at first login.
     */
    async create(
      ctx: RequestContext,
      input: {
        email: string;
        displayName: string;
        grants: readonly { role: string; schoolId: string | null }[];
        password?: string | undefined;
      },
    ) {
      const email = input.email.trim().toLowerCase();
      if (!isEmail(email)) throw invalid('That is not a valid email address');
      if (await store.users.findByEmail(email)) throw new DomainError('EMAIL_TAKEN', 'A user with that email already exists', 409);
      const grants = await cleanGrants(input.grants);
      const temporary = input.password === undefined;
      const password = input.password ?? generatePassword();
      const problem = passwordProblem(password, email);
      if (problem) throw new DomainError('PASSWORD_TOO_WEAK', problem, 400);
      const at = nowIso(deps);
      const user: UserRecord = {
        id: deps.newId(),
        email,
        displayName: cleanDisplayName(input.displayName),
        personId: null,
        passwordHash: await hasher.hash(password),
        mustChangePassword: temporary,
        totpSecret: null,
        totpEnabled: false,
        failedLogins: 0,
        lockedUntil: null,
        disabled: false,
        createdAt: at,
        updatedAt: at,
        grants,
      };
      await store.transaction(async (tx) => {
        await tx.users.create(user);
        await recordAudit(tx, ctx, at, {
          action: 'user.created',
          resourceType: 'user',
          resourceId: user.id,
          detail: { roles: grants.map(grantKey) },
        });
      });
      return { user: summariseUser(user), temporaryPassword: temporary ? password : null };
    },

    async update(
      ctx: RequestContext,
      id: string,
      input: {
        displayName?: string | undefined;
        grants?: readonly { role: string; schoolId: string | null }[] | undefined;
        disabled?: boolean | undefined;
      },
    ) {
      const user = await requireUser(id);
      const changes: Parameters<typeof store.users.update>[1] = {};
      if (input.displayName !== undefined) changes.displayName = cleanDisplayName(input.displayName);
      if (input.disabled !== undefined) changes.disabled = input.disabled;
      const grants = input.grants !== undefined ? await cleanGrants(input.grants) : undefined;
      // An administrator cannot lock themselves out of running Haven.
      if (id === ctx.actor.userId) {
        if (input.disabled === true) throw new DomainError('CONFLICT', 'You cannot disable your own account', 409);
        if (grants && isTrustAdmin(user.grants) && !isTrustAdmin(grants)) {
          throw new DomainError('CONFLICT', 'You cannot remove your own trust-wide administrator role', 409);
        }
      }
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.users.update(id, changes, at);
        if (grants) await tx.users.setGrants(id, grants);
        if (input.disabled === true) await tx.sessions.deleteForUser(id);
        await recordAudit(tx, ctx, at, {
          action: input.disabled === true ? 'user.disabled' : input.disabled === false && user.disabled ? 'user.enabled' : 'user.updated',
          resourceType: 'user',
          resourceId: id,
          detail: { fields: Object.keys(changes).concat(grants ? ['roles'] : []), ...(grants && { roles: grants.map(grantKey) }) },
        });
      });
      return summariseUser(await requireUser(id));
    },

    /** Issues a one-time password (returned once), ends the user's sessions, clears any lock-out. */
    async resetPassword(ctx: RequestContext, id: string, resetTwoFactor: boolean) {
      await requireUser(id);
      const temporaryPassword = generatePassword();
      const at = nowIso(deps);
      const hash = await hasher.hash(temporaryPassword);
      await store.transaction(async (tx) => {
        await tx.users.update(
          id,
          {
            passwordHash: hash,
            mustChangePassword: true,
            failedLogins: 0,
            lockedUntil: null,
            ...(resetTwoFactor && { totpEnabled: false, totpSecret: null }),
          },
          at,
        );
        if (resetTwoFactor) await tx.users.replaceRecoveryCodes(id, []);
        await tx.sessions.deleteForUser(id);
        await recordAudit(tx, ctx, at, { action: 'user.password_reset', resourceType: 'user', resourceId: id, detail: { resetTwoFactor } });
      });
      return { temporaryPassword };
    },
  };
};

export type UserService = ReturnType<typeof createUserService>;
