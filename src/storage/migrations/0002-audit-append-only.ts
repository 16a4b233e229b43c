/**
 * The database itself refuses UPDATE and DELETE on the audit log, so not even a bug (or a
 * hand-typed SQL statement through the app's own connection) can rewrite history quietly.
 * `haven audit verify` still checks the hash chain, for edits made around these triggers.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

export const appendOnlyAudit = (engine: Engine) => ({
  async up(db: Kysely<unknown>): Promise<void> {
    if (engine === 'sqlite') {
      await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`.execute(db);
      await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`.execute(db);
      return;
    }
    await sql`CREATE FUNCTION haven_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$`.execute(db);
    await sql`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION haven_audit_append_only()`.execute(db);
    await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION haven_audit_append_only()`.execute(db);
  },
});
