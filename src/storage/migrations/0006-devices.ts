/**
 * School devices: laptops, tablets and the like that Haven recognises by a DoH token
 * (`/dns-query/<token>`, held only as its SHA-256) or a registered static address. Revoked
 * devices are kept, so the filter log still names them. Among a school's active devices a label
 * (in any case), an address and a MAC belong to one device only.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('school.id'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.references('person.id'))
    .addColumn('ip', 'text')
    .addColumn('mac', 'text')
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('device_token_hash').on('device').column('token_hash').unique().execute();
  await db.schema.createIndex('device_school').on('device').columns(['school_id', 'created_at']).execute();
  await db.schema.createIndex('device_person').on('device').column('person_id').execute();
  // Partial and expression indexes read the same in SQLite and PostgreSQL.
  await sql`CREATE UNIQUE INDEX device_active_label ON device (school_id, lower(label)) WHERE revoked_at IS NULL`.execute(db);
  await sql`CREATE UNIQUE INDEX device_active_ip ON device (school_id, ip) WHERE revoked_at IS NULL AND ip IS NOT NULL`.execute(db);
  await sql`CREATE UNIQUE INDEX device_active_mac ON device (school_id, mac) WHERE revoked_at IS NULL AND mac IS NOT NULL`.execute(db);
}
