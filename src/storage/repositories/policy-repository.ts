import type { Kysely } from 'kysely';
import { DomainError, type OverrideRecord, type PolicyRepository, type PolicyScope, type PolicyVersionRecord } from '../../core/index.ts';
import type { DB, PolicyVersionTable, TeacherOverrideTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toVersion = (r: PolicyVersionTable): PolicyVersionRecord => ({
  scope: r.scope as PolicyScope,
  scopeId: r.scope_id,
  version: r.version,
  document: JSON.parse(r.document) as unknown,
  reason: r.reason,
  changes: JSON.parse(r.changes) as string[],
  changedByUserId: r.changed_by_user_id,
  changedByLabel: r.changed_by_label,
  createdAt: r.created_at,
});

const toOverride = (r: TeacherOverrideTable): OverrideRecord => ({
  id: r.id,
  schoolId: r.school_id,
  audience: JSON.parse(r.audience) as unknown,
  categories: JSON.parse(r.categories) as string[],
  sites: JSON.parse(r.sites) as string[],
  action: r.action === 'allow-and-flag' ? 'allow-and-flag' : 'allow',
  startsAt: r.starts_at,
  expiresAt: r.expires_at,
  reason: r.reason,
  createdByUserId: r.created_by_user_id,
  createdByLabel: r.created_by_label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  revokedByLabel: r.revoked_by_label,
});

export const kyselyPolicyRepository = (db: Kysely<DB>): PolicyRepository => {
  const versions = (scope: PolicyScope, scopeId: string) =>
    db.selectFrom('policy_version').selectAll().where('scope', '=', scope).where('scope_id', '=', scopeId);
  return {
    async current(scope, scopeId) {
      const r = await versions(scope, scopeId).orderBy('version', 'desc').limit(1).executeTakeFirst();
      return r ? toVersion(r) : null;
    },
    async get(scope, scopeId, version) {
      const r = await versions(scope, scopeId).where('version', '=', version).executeTakeFirst();
      return r ? toVersion(r) : null;
    },
    async history(scope, scopeId, limit) {
      const rows = await versions(scope, scopeId).orderBy('version', 'desc').limit(limit).execute();
      return rows.map(toVersion);
    },
    async append(v) {
      try {
        await db
          .insertInto('policy_version')
          .values({
            scope: v.scope,
            scope_id: v.scopeId,
            version: v.version,
            document: JSON.stringify(v.document),
            reason: v.reason,
            changes: JSON.stringify(v.changes),
            changed_by_user_id: v.changedByUserId,
            changed_by_label: v.changedByLabel,
            created_at: v.createdAt,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new DomainError('CONFLICT', 'Someone else changed this policy at the same time: reload it and make your change again', 409);
        }
        throw err;
      }
    },
    async listOverrides(schoolId, activeAt, limit = 200) {
      let q = db.selectFrom('teacher_override').selectAll().where('school_id', '=', schoolId);
      if (activeAt !== undefined) q = q.where('revoked_at', 'is', null).where('expires_at', '>', activeAt);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
      return rows.map(toOverride);
    },
    async getOverride(id) {
      const r = await db.selectFrom('teacher_override').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toOverride(r) : null;
    },
    async createOverride(o) {
      await db
        .insertInto('teacher_override')
        .values({
          id: o.id,
          school_id: o.schoolId,
          audience: JSON.stringify(o.audience),
          categories: JSON.stringify(o.categories),
          sites: JSON.stringify(o.sites),
          action: o.action,
          starts_at: o.startsAt,
          expires_at: o.expiresAt,
          reason: o.reason,
          created_by_user_id: o.createdByUserId,
          created_by_label: o.createdByLabel,
          created_at: o.createdAt,
          revoked_at: o.revokedAt,
          revoked_by_label: o.revokedByLabel,
        })
        .execute();
    },
    async stamp() {
      const [v, o] = await Promise.all([
        db
          .selectFrom('policy_version')
          .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.max('created_at').as('latest')])
          .executeTakeFirst(),
        db
          .selectFrom('teacher_override')
          .select((eb) => [
            eb.fn.countAll<string | number>().as('n'),
            eb.fn.max('created_at').as('latest'),
            eb.fn.max('revoked_at').as('revoked'),
          ])
          .executeTakeFirst(),
      ]);
      return [v?.n, v?.latest, o?.n, o?.latest, o?.revoked].map((x) => String(x ?? '')).join('|');
    },
    async revokeOverride(id, at, byLabel) {
      const r = await db
        .updateTable('teacher_override')
        .set({ revoked_at: at, revoked_by_label: byLabel })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
};
