import type { Kysely } from 'kysely';
import { isRole, type RoleGrant, type UserChanges, type UserRecord, type UserRepository } from '../../core/index.ts';
import type { DB, UserTable } from '../schema.ts';

const TRUST_WIDE = '';

const toColumns = (c: UserChanges): Partial<UserTable> => ({
  ...(c.displayName !== undefined && { display_name: c.displayName }),
  ...(c.personId !== undefined && { person_id: c.personId }),
  ...(c.passwordHash !== undefined && { password_hash: c.passwordHash }),
  ...(c.mustChangePassword !== undefined && { must_change_password: c.mustChangePassword ? 1 : 0 }),
  ...(c.totpSecret !== undefined && { totp_secret: c.totpSecret }),
  ...(c.totpEnabled !== undefined && { totp_enabled: c.totpEnabled ? 1 : 0 }),
  ...(c.totpLastStep !== undefined && { totp_last_step: c.totpLastStep }),
  ...(c.failedLogins !== undefined && { failed_logins: c.failedLogins }),
  ...(c.lockedUntil !== undefined && { locked_until: c.lockedUntil }),
  ...(c.disabled !== undefined && { disabled: c.disabled ? 1 : 0 }),
});

export const kyselyUserRepository = (db: Kysely<DB>): UserRepository => {
  const grantsOf = async (userIds: readonly string[]): Promise<Map<string, RoleGrant[]>> => {
    const map = new Map<string, RoleGrant[]>();
    if (userIds.length === 0) return map;
    const rows = await db.selectFrom('user_role').selectAll().where('user_id', 'in', userIds).orderBy('role').execute();
    for (const r of rows) {
      if (!isRole(r.role)) continue; // a role removed from the code grants nothing
      const list = map.get(r.user_id) ?? [];
      list.push({ role: r.role, schoolId: r.school_id === TRUST_WIDE ? null : r.school_id });
      map.set(r.user_id, list);
    }
    return map;
  };
  const toUsers = async (rows: UserTable[]): Promise<UserRecord[]> => {
    const grants = await grantsOf(rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      email: r.email,
      displayName: r.display_name,
      personId: r.person_id,
      passwordHash: r.password_hash,
      mustChangePassword: r.must_change_password === 1,
      totpSecret: r.totp_secret,
      totpEnabled: r.totp_enabled === 1,
      totpLastStep: r.totp_last_step,
      failedLogins: r.failed_logins,
      lockedUntil: r.locked_until,
      disabled: r.disabled === 1,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      grants: grants.get(r.id) ?? [],
    }));
  };
  const one = async (rows: UserTable[]): Promise<UserRecord | null> => (await toUsers(rows))[0] ?? null;
  const repo: UserRepository = {
    async count() {
      return Number(
        (
          await db
            .selectFrom('app_user')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    },
    async get(id) {
      return one(await db.selectFrom('app_user').selectAll().where('id', '=', id).execute());
    },
    async findByEmail(email) {
      return one(await db.selectFrom('app_user').selectAll().where('email', '=', email.trim().toLowerCase()).execute());
    },
    async list() {
      return toUsers(await db.selectFrom('app_user').selectAll().orderBy('display_name').orderBy('email').execute());
    },
    async create(u) {
      await db
        .insertInto('app_user')
        .values({
          id: u.id,
          email: u.email.toLowerCase(),
          display_name: u.displayName,
          person_id: u.personId,
          password_hash: u.passwordHash,
          must_change_password: u.mustChangePassword ? 1 : 0,
          totp_secret: u.totpSecret,
          totp_enabled: u.totpEnabled ? 1 : 0,
          failed_logins: u.failedLogins,
          locked_until: u.lockedUntil,
          disabled: u.disabled ? 1 : 0,
          created_at: u.createdAt,
          updated_at: u.updatedAt,
        })
        .execute();
      await repo.setGrants(u.id, u.grants);
    },
    async update(id, changes, at) {
      await db
        .updateTable('app_user')
        .set({ ...toColumns(changes), updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async setGrants(id, grants) {
      await db.deleteFrom('user_role').where('user_id', '=', id).execute();
      const unique = new Map(grants.map((g) => [`${g.role}|${g.schoolId ?? TRUST_WIDE}`, g]));
      if (unique.size === 0) return;
      await db
        .insertInto('user_role')
        .values([...unique.values()].map((g) => ({ user_id: id, role: g.role, school_id: g.schoolId ?? TRUST_WIDE })))
        .execute();
    },
    async replaceRecoveryCodes(id, hashes) {
      await db.deleteFrom('recovery_code').where('user_id', '=', id).execute();
      if (hashes.length === 0) return;
      await db
        .insertInto('recovery_code')
        .values(hashes.map((h) => ({ user_id: id, code_hash: h, used_at: null })))
        .execute();
    },
    async useRecoveryCode(id, hash, at) {
      const r = await db
        .updateTable('recovery_code')
        .set({ used_at: at })
        .where('user_id', '=', id)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async unusedRecoveryCodeCount(id) {
      const r = await db
        .selectFrom('recovery_code')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
  return repo;
};
