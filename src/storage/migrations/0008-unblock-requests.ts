/**
 * What pupils and staff send from a block page: "ask for this site to be unblocked" (for IT and
 * the filtering managers) and "tell a trusted adult" (for the DSL team only). Each row comes from
 * one signed block-page ticket (its nonce is unique, so a page cannot send twice). A row's answer
 * (allowed, declined, seen) is written once, by a named person, and audited.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('unblock_request')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('school.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ticket_nonce', 'text', (c) => c.notNull())
    .addColumn('host', 'text')
    .addColumn('url', 'text')
    .addColumn('category', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.references('person.id'))
    .addColumn('device_id', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('blocked_at', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('answered_by', 'text')
    .addColumn('answered_at', 'text')
    .addColumn('answer_note', 'text')
    .execute();
  await db.schema.createIndex('unblock_request_nonce').on('unblock_request').column('ticket_nonce').unique().execute();
  await db.schema.createIndex('unblock_request_school').on('unblock_request').columns(['school_id', 'status', 'created_at']).execute();
}
