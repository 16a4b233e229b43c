/**
 * Choices to go on past a warning page, in arrival order. While one lasts, the filters let that
 * person (or, for a guest, that address) reach the host; the rows also tell the DSL who chose to
 * go on to what, and when. Never changed (their retention joins the event store's, with monitoring).
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

export const warnContinues = (engine: Engine) => ({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('warn_continue')
      .addColumn('seq', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      )
      .addColumn('school_id', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('category', 'text')
      .addColumn('person_id', 'text')
      .addColumn('client_ip', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('until', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('warn_continue_until').on('warn_continue').column('until').execute();
  },
});
