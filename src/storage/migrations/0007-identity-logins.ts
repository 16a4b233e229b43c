/**
 * Integration keys and the login feed.
 *
 * `integration_key`: keys a school gives its own systems (a logon script, a RADIUS server, an
 * agent) to tell Haven who is using which address. Only the SHA-256 of a key is kept; revoked
 * keys stay, so the feed still names what sent each row.
 *
 * `identity_login`: one row per login or logout the feed reported, in arrival order (`seq`),
 * never changed afterwards. The identity directory replays recent rows to know who is behind
 * an address now; the rows also say who was behind it at a past time. Old rows are removed by
 * the retention schedule (`deleteBefore`), not one by one.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

export const identityLogins = (engine: Engine) => ({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('integration_key')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('school_id', 'text', (c) => c.notNull().references('school.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('key_prefix', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('integration_key_hash').on('integration_key').column('key_hash').unique().execute();
    await db.schema.createIndex('integration_key_school').on('integration_key').columns(['school_id', 'created_at']).execute();
    await sql`CREATE UNIQUE INDEX integration_key_active_name ON integration_key (school_id, lower(name)) WHERE revoked_at IS NULL`.execute(
      db,
    );

    await db.schema
      .createTable('identity_login')
      .addColumn('seq', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      )
      .addColumn('school_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('received_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('identity_login_received').on('identity_login').column('received_at').execute();
    await db.schema.createIndex('identity_login_school_ip').on('identity_login').columns(['school_id', 'ip', 'seq']).execute();
  },
});
