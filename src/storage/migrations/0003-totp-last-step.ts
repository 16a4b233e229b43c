/**
 * Remembers the time step of each user's last accepted TOTP code, so no code works twice.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('app_user').addColumn('totp_last_step', 'bigint').execute();
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Haven migrations are forward-only: restore from backup to go back.'));
}
