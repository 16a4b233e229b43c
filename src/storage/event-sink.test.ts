/**
 * The batched sink: writes in batches, loses nothing when the database refuses (spool, then
 * replay — also by a new sink after a restart), flushes on close, and bounds its memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { EventRepository, FilterEvent, StoredFilterEvent } from '../core/index.ts';
import { createBatchedEventSink } from './event-sink.ts';
import { newEvent } from '../../test-support/factories.ts';

/** An in-memory repository that can be told to fail, counting inserts. */
const flakyRepo = () => {
  const stored: FilterEvent[] = [];
  const state = { failing: false, inserts: 0 };
  const repo: EventRepository = {
    insertBatch(events) {
      state.inserts++;
      if (state.failing) return Promise.reject(new Error('database is down'));
      stored.push(...events);
      return Promise.resolve();
    },
    query: () => Promise.resolve(stored.map((e, i): StoredFilterEvent => ({ ...e, id: i + 1 }))),
    deleteBefore: () => Promise.resolve(0),
  };
  return { repo, stored, state };
};

describe('batched event sink', () => {
  const dirs: string[] = [];
  const spool = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'haven-spool-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('writes many events in a few inserts, and everything on close', async () => {
    const { repo, stored, state } = flakyRepo();
    const sink = createBatchedEventSink(repo, { spoolDir: spool(), flushMs: 10_000, batchSize: 100 });
    for (let i = 0; i < 1050; i++) sink.write(newEvent({ host: `h${i}.example` }));
    await sink.close();
    assert.equal(stored.length, 1050);
    assert.equal(stored[1049]!.host, 'h1049.example', 'in order');
    assert.ok(state.inserts <= 12, `${state.inserts} inserts`);
    assert.deepEqual(sink.stats(), { queued: 0, written: 1050, spooled: 0, dropped: 0 });
  });

  it('spools batches the database refuses, and writes them once it is back', async () => {
    const dir = spool();
    const { repo, stored, state } = flakyRepo();
    const sink = createBatchedEventSink(repo, { spoolDir: dir, flushMs: 10_000, onError: () => undefined });
    state.failing = true;
    for (let i = 0; i < 30; i++) sink.write(newEvent({ host: `down${i}.example` }));
    await sink.flush();
    assert.equal(stored.length, 0);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length, 1);
    assert.equal(sink.stats().spooled, 30);
    state.failing = false;
    sink.write(newEvent({ host: 'up.example' }));
    await sink.flush();
    assert.equal(stored.length, 31);
    assert.deepEqual(new Set(stored.map((e) => e.host)).size, 31);
    assert.deepEqual(readdirSync(dir), []);
    await sink.close();
  });

  it('a new sink after a restart writes what the old one spooled', async () => {
    const dir = spool();
    const first = flakyRepo();
    first.state.failing = true;
    const old = createBatchedEventSink(first.repo, { spoolDir: dir, flushMs: 10_000, onError: () => undefined });
    for (let i = 0; i < 5; i++) old.write(newEvent({ host: `before-restart${i}.example` }));
    await old.close();
    const second = flakyRepo();
    const sink = createBatchedEventSink(second.repo, { spoolDir: dir, flushMs: 10_000 });
    assert.equal(await sink.replaySpool(), 5);
    assert.deepEqual(
      second.stored.map((e) => e.host),
      [
        'before-restart0.example',
        'before-restart1.example',
        'before-restart2.example',
        'before-restart3.example',
        'before-restart4.example',
      ],
    );
    await sink.close();
  });

  it('bounds memory when it cannot store or spool, counting what it drops', async () => {
    const { repo, state } = flakyRepo();
    state.failing = true;
    const sink = createBatchedEventSink(repo, {
      spoolDir: null,
      flushMs: 10_000,
      batchSize: 1_000_000,
      maxQueue: 100,
      onError: () => undefined,
    });
    for (let i = 0; i < 150; i++) sink.write(newEvent());
    await sink.flush();
    const s = sink.stats();
    assert.equal(s.queued, 100);
    assert.equal(s.dropped, 50);
    state.failing = false;
    await sink.close();
    assert.equal(sink.stats().written, 100);
    sink.write(newEvent());
    assert.equal(sink.stats().dropped, 51, 'writes after close are counted, not kept');
  });
});
