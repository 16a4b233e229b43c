/**
 * @module storage — Kysely over embedded SQLite or PostgreSQL: one schema, portable migrations,
 * and the repositories behind core's ports.
 */
export { openDatabase, type Database, type DatabaseConfig } from './database.ts';
export { migrateToLatest, type MigrationReport } from './migrate.ts';
export { createStore } from './store.ts';
export type { Engine } from './engine.ts';
export { createBatchedEventSink, type BatchedEventSink, type BatchedSinkOptions } from './event-sink.ts';
