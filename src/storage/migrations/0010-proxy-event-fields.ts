/**
 * What the proxy knows about a request that DNS does not: the method, the answer's status, bytes
 * each way, the search term when the URL is a search engine's, and whether the person went on
 * past a warning to get there. Null (0 for the flag) on DNS events and on rows from before.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('filter_event').addColumn('method', 'text').execute();
  await db.schema.alterTable('filter_event').addColumn('status', 'integer').execute();
  await db.schema.alterTable('filter_event').addColumn('bytes_in', 'bigint').execute();
  await db.schema.alterTable('filter_event').addColumn('bytes_out', 'bigint').execute();
  await db.schema.alterTable('filter_event').addColumn('search_term', 'text').execute();
  await db.schema
    .alterTable('filter_event')
    .addColumn('warn_continued', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
