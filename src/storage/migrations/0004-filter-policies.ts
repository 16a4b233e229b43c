/**
 * Filtering policies: every saved version of the trust's and each school's policy (append-only,
 * like the audit log: a change is a new version, history is never rewritten), and teachers'
 * temporary overrides, which are revoked rather than deleted.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

export const filterPolicies = (engine: Engine) => ({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('policy_version')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('scope_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('changes', 'text', (c) => c.notNull())
      .addColumn('changed_by_user_id', 'text')
      .addColumn('changed_by_label', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('policy_version_pk', ['scope', 'scope_id', 'version'])
      .execute();

    await db.schema
      .createTable('teacher_override')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('school_id', 'text', (c) => c.notNull().references('school.id'))
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('categories', 'text', (c) => c.notNull())
      .addColumn('sites', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_by_user_id', 'text')
      .addColumn('created_by_label', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('revoked_by_label', 'text')
      .execute();
    await db.schema.createIndex('teacher_override_school_expiry').on('teacher_override').columns(['school_id', 'expires_at']).execute();

    if (engine === 'sqlite') {
      await sql`CREATE TRIGGER policy_version_no_update BEFORE UPDATE ON policy_version
        BEGIN SELECT RAISE(ABORT, 'policy versions are append-only'); END`.execute(db);
      await sql`CREATE TRIGGER policy_version_no_delete BEFORE DELETE ON policy_version
        BEGIN SELECT RAISE(ABORT, 'policy versions are append-only'); END`.execute(db);
      return;
    }
    await sql`CREATE FUNCTION haven_policy_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'policy versions are append-only'; END $$`.execute(db);
    await sql`CREATE TRIGGER policy_version_append_only BEFORE UPDATE OR DELETE ON policy_version
      FOR EACH ROW EXECUTE FUNCTION haven_policy_append_only()`.execute(db);
  },
});
