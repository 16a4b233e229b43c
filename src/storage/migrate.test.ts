import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { testEngines, withDatabase } from '../../test-support/databases.ts';
import { newAuditInput } from '../../test-support/factories.ts';
import { migrateToLatest } from './index.ts';

const MIGRATIONS = [
  '0001-foundation',
  '0002-audit-append-only',
  '0003-totp-last-step',
  '0004-filter-policies',
  '0005-filter-events',
  '0006-devices',
  '0007-identity-logins',
  '0008-unblock-requests',
  '0009-warn-continues',
  '0010-proxy-event-fields',
];

const TABLES = [
  'app_user',
  'audit_head',
  'audit_log',
  'device',
  'filter_event',
  'group_member',
  'haven_migration',
  'haven_migration_lock',
  'identity_login',
  'integration_key',
  'meta',
  'parent_link',
  'person',
  'person_group',
  'policy_version',
  'recovery_code',
  'school',
  'session',
  'teacher_override',
  'trust',
  'unblock_request',
  'user_role',
  'warn_continue',
];

for (const engine of testEngines()) {
  describe(`migrations (${engine.name})`, { skip: engine.skip }, () => {
    it('applies every migration to an empty database, then nothing the second time', async () => {
      await withDatabase(
        engine,
        async (t) => {
          assert.deepEqual(await migrateToLatest(t.db), { applied: MIGRATIONS });
          await t.store.audit.append(newAuditInput({ action: 'before.remigrate' }), '2025-01-15T09:00:00.000Z');
          assert.deepEqual(await migrateToLatest(t.db), { applied: [] });
          assert.deepEqual(await migrateToLatest(t.db), { applied: [] });
          const recorded = await sql<{ name: string }>`SELECT name FROM haven_migration ORDER BY name`.execute(t.db.kysely);
          assert.deepEqual(
            recorded.rows.map((r) => r.name),
            MIGRATIONS,
          );
          // Re-running left the data (and the audit chain) alone.
          assert.equal((await t.store.audit.head())?.seq, 1);
        },
        { migrate: false },
      );
    });

    it('creates every table and the genesis audit head', async () => {
      await withDatabase(engine, async (t) => {
        const tables = (await t.db.kysely.introspection.getTables()).map((x) => x.name).sort();
        assert.deepEqual(tables, TABLES);
        const rows = await t.db.kysely.selectFrom('audit_head').selectAll().execute();
        assert.deepEqual(rows, [{ id: 1, seq: 0, hash: '0'.repeat(64) }]);
      });
    });

    it('applies each migration exactly once when several processes start together', async () => {
      await withDatabase(
        engine,
        async (t) => {
          const reports = await Promise.all([migrateToLatest(t.db), migrateToLatest(t.db), migrateToLatest(t.db)]);
          assert.deepEqual(reports.flatMap((r) => r.applied).sort(), MIGRATIONS);
          assert.deepEqual(await t.store.audit.head(), { seq: 0, hash: '0'.repeat(64) });
        },
        { migrate: false },
      );
    });
  });
}
