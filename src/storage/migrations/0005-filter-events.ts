/**
 * Filter events: one row per DNS or proxy decision, for the request log, monitoring and reports.
 * The id is the engine's own auto-increment (events are many and ordered by arrival).
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

export const filterEvents = (engine: Engine) => ({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('filter_event')
      .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      )
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('school_id', 'text')
      .addColumn('client_ip', 'text')
      .addColumn('person_id', 'text')
      .addColumn('device_id', 'text')
      .addColumn('profile', 'text')
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('url', 'text')
      .addColumn('qtype', 'text')
      .addColumn('category', 'text')
      .addColumn('list', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('layer', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text')
      .addColumn('flagged', 'integer', (c) => c.notNull())
      .addColumn('latency_us', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('filter_event_school_at').on('filter_event').columns(['school_id', 'at']).execute();
    await db.schema.createIndex('filter_event_person_at').on('filter_event').columns(['person_id', 'at']).execute();
    await db.schema.createIndex('filter_event_at').on('filter_event').column('at').execute();
  },
});
