/**
 * Runs Haven's migrations. The list is static (not read from disk) so the bundled build carries
 * them; each migration is written once and runs on both engines.
 */
import { inspect } from 'node:util';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Database } from './database.ts';
import * as foundation from './migrations/0001-foundation.ts';
import { appendOnlyAudit } from './migrations/0002-audit-append-only.ts';
import * as totpReplay from './migrations/0003-totp-last-step.ts';
import { filterPolicies } from './migrations/0004-filter-policies.ts';
import { filterEvents } from './migrations/0005-filter-events.ts';
import * as devices from './migrations/0006-devices.ts';
import { identityLogins } from './migrations/0007-identity-logins.ts';
import * as unblockRequests from './migrations/0008-unblock-requests.ts';
import { warnContinues } from './migrations/0009-warn-continues.ts';
import * as proxyEventFields from './migrations/0010-proxy-event-fields.ts';

const migrationsFor = (db: Database): Record<string, Migration> => ({
  '0001-foundation': foundation,
  '0002-audit-append-only': appendOnlyAudit(db.engine),
  '0003-totp-last-step': totpReplay,
  '0004-filter-policies': filterPolicies(db.engine),
  '0005-filter-events': filterEvents(db.engine),
  '0006-devices': devices,
  '0007-identity-logins': identityLogins(db.engine),
  '0008-unblock-requests': unblockRequests,
  '0009-warn-continues': warnContinues(db.engine),
  '0010-proxy-event-fields': proxyEventFields,
});

export interface MigrationReport {
  applied: string[];
}

export const migrateToLatest = async (db: Database): Promise<MigrationReport> => {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrationsFor(db)) };
  const migrator = new Migrator({
    db: db.kysely,
    provider,
    migrationTableName: 'haven_migration',
    migrationLockTableName: 'haven_migration_lock',
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const cause = result.error instanceof Error ? result.error.message : inspect(result.error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`);
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
};
