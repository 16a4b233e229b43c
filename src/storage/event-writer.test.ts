/**
 * Events written by the SQLite worker thread (every acknowledged event is in the file once the
 * sink has closed; a refused batch is spooled and replayed), and the repository's cached INSERT
 * texts on both engines (batches of any length, in order, every field).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FilterEvent, StoredFilterEvent } from '../core/index.ts';
import { newEvent } from '../../test-support/factories.ts';
import { testEngines, type TestDatabase } from '../../test-support/databases.ts';
import { openDatabase } from './database.ts';
import { createBatchedEventSink } from './event-sink.ts';
import { createSqliteEventWriter } from './event-writer.ts';
import { migrateToLatest } from './migrate.ts';
import { createStore } from './store.ts';

const withoutId = (e: StoredFilterEvent): FilterEvent => {
  const { id, ...rest } = e;
  assert.ok(id > 0);
  return rest;
};

const varied = (i: number): FilterEvent =>
  newEvent({
    at: new Date(Date.UTC(2026, 2, 2, 9, 0, 0, i)).toISOString(),
    host: `h${i}.example`,
    schoolId: i % 2 === 0 ? null : `school-${i % 5}`,
    personId: i % 3 === 0 ? `person-${i}` : null,
    category: i % 4 === 0 ? 'games' : null,
    action: i % 7 === 0 ? 'block' : 'allow',
    flagged: i % 11 === 0,
    latencyUs: i + 0.4,
    // Every few rows a proxy event, with the fields only the proxy knows.
    ...(i % 6 === 0 && {
      source: 'proxy' as const,
      qtype: null,
      method: i % 12 === 0 ? 'CONNECT' : 'GET',
      status: 200 + (i % 3),
      bytesIn: i * 10,
      bytesOut: 5_000_000_000 + i,
      searchTerm: i % 12 === 0 ? null : `how to revise ${i}`,
      warnContinued: i % 18 === 0,
    }),
  });

describe('SQLite event writer (worker thread)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'haven-writer-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loses no event on close: every one written is in the file, in order, with every field', async () => {
    const dataDir = tempDir();
    const db = openDatabase({ dataDir });
    await migrateToLatest(db);
    const store = createStore(db.kysely, db.engine);
    try {
      const sink = createBatchedEventSink(store.events, {
        spoolDir: path.join(dataDir, 'spool'),
        flushMs: 5,
        batchSize: 300,
        sqliteWorkerFile: db.describe,
      });
      const sent: FilterEvent[] = [];
      for (let i = 0; i < 2345; i++) {
        const e = varied(i);
        sent.push(e);
        sink.write(e);
        // Some while flushes are in flight, the rest just before close.
        if (i === 1000) await new Promise((r) => setTimeout(r, 20));
      }
      await sink.close();
      assert.deepEqual(sink.stats(), { queued: 0, written: 2345, spooled: 0, dropped: 0 });
      const stored = (await store.events.query({ schoolIds: 'all', limit: 10_000 })).reverse();
      assert.equal(stored.length, 2345);
      assert.deepEqual(
        stored.map(withoutId),
        sent.map((e) => ({ ...e, latencyUs: Math.round(e.latencyUs) })),
      );
    } finally {
      await db.close();
    }
  });

  it('rejects a batch it cannot write (the sink spools it) and writes it once the table exists', async () => {
    const dataDir = tempDir();
    const spoolDir = path.join(dataDir, 'spool');
    const db = openDatabase({ dataDir });
    try {
      const errors: string[] = [];
      const store = createStore(db.kysely, db.engine);
      const sink = createBatchedEventSink(store.events, {
        spoolDir,
        flushMs: 10_000,
        sqliteWorkerFile: db.describe,
        onError: (e) => errors.push(e.message),
      });
      for (let i = 0; i < 10; i++) sink.write(varied(i));
      await sink.flush();
      assert.match(errors.join('\n'), /no such table: filter_event/);
      assert.equal(sink.stats().spooled, 10);
      assert.equal(readdirSync(spoolDir).length, 1);
      await migrateToLatest(db);
      assert.equal(await sink.replaySpool(), 10);
      await sink.close();
      assert.equal((await store.events.query({ schoolIds: 'all', limit: 100 })).length, 10);
      assert.deepEqual(readdirSync(spoolDir), []);
    } finally {
      await db.close();
    }
  });

  it('writes batch after batch, and refuses batches once closed', async () => {
    const dataDir = tempDir();
    const db = openDatabase({ dataDir });
    await migrateToLatest(db);
    try {
      const writer = createSqliteEventWriter(db.describe);
      await writer.insertBatch([varied(1)]);
      await writer.insertBatch([varied(2), varied(3)]);
      await writer.close();
      await assert.rejects(writer.insertBatch([varied(4)]), /closed/);
      const store = createStore(db.kysely, db.engine);
      assert.equal((await store.events.query({ schoolIds: 'all', limit: 100 })).length, 3);
    } finally {
      await db.close();
    }
  });
});

for (const engine of testEngines()) {
  describe(`event repository batches (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('writes batches of any length in order through its cached INSERT texts', async () => {
      for (const n of [1, 7, 1000, 1537]) {
        const events = Array.from({ length: n }, (_, i) => varied(i));
        await t.store.events.insertBatch(events);
        const stored = (await t.store.events.query({ schoolIds: 'all', limit: n })).reverse();
        assert.deepEqual(
          stored.map(withoutId),
          events.map((e) => ({ ...e, latencyUs: Math.round(e.latencyUs) })),
          `batch of ${n}`,
        );
      }
    });
  });
}
