/**
 * Filter events into an SQLite file from a worker thread that owns its own connection: the DNS
 * thread only posts a batch (a structured clone) and gets a promise that settles when the batch is
 * committed. The worker runs one prepared single-row INSERT in a transaction over the batch, so
 * nothing is compiled or prepared per flush and the insert itself runs on another core
 * (docs/decisions/0010-dns-benchmark.md). A batch the worker cannot write rejects, and the sink
 * spools it as for any database error; a worker that dies is started again on the next batch.
 *
 * The worker's code is plain JavaScript evaluated from a string, so it runs the same from the
 * TypeScript sources (tsx registers no loader in workers) and from the esbuild bundle.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { FilterEvent } from '../core/index.ts';
import { EVENT_COLUMNS, pushEventValues } from './event-columns.ts';

export interface EventWriter {
  insertBatch(events: readonly FilterEvent[]): Promise<void>;
  /** Waits for batches in flight, then stops the worker. */
  close(): Promise<void>;
}

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const COLUMNS = workerData.columns.length;
let db = null;
let insertAll = null;
const open = () => {
  if (insertAll) return insertAll;
  db = new Database(workerData.file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    'INSERT INTO filter_event (' + workerData.columns.join(', ') + ') VALUES (' + workerData.columns.map(() => '?').join(', ') + ')',
  );
  // Rows arrive flattened, COLUMNS values each, in the INSERT's column order.
  insertAll = db.transaction((values) => {
    for (let i = 0; i < values.length; i += COLUMNS) insert.run(values.slice(i, i + COLUMNS));
  });
  return insertAll;
};
parentPort.on('message', (m) => {
  if (m.close) {
    if (db) db.close();
    parentPort.close();
    return;
  }
  try {
    open()(JSON.parse(m.values));
    parentPort.postMessage({ id: m.id, ok: true });
  } catch (e) {
    // A failed open is tried again with the next batch (the table may not exist yet).
    if (!insertAll && db) { try { db.close(); } catch {} db = null; }
    parentPort.postMessage({ id: m.id, ok: false, message: String((e && e.message) || e) });
  }
});
`;

/**
 * One JSON text of a flat array of values (no keys): posting a string is a copy, and stringifying
 * plain values costs the DNS thread about a third of a structured clone of an object per event.
 */
const encode = (events: readonly FilterEvent[]): string => {
  const out: unknown[] = [];
  for (const e of events) pushEventValues(e, out);
  return JSON.stringify(out);
};

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A writer for the SQLite database at `file` (not ':memory:': the worker opens its own connection). */
export const createSqliteEventWriter = (file: string): EventWriter => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let closing: Promise<void> | null = null;

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const start = (): Worker => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, columns: EVENT_COLUMNS } });
    // Idle, it must not keep the process alive; while a batch is in flight it must.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; message?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.ok) p.resolve();
      else p.reject(new Error(m.message ?? 'event writer failed'));
    });
    w.on('error', (e) => {
      if (worker === w) worker = null;
      failAll(e);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new Error(`event writer stopped (exit ${code})`));
    });
    return w;
  };

  return {
    insertBatch(events) {
      if (closing) return Promise.reject(new Error('event writer closed'));
      if (events.length === 0) return Promise.resolve();
      worker ??= start();
      const id = nextId++;
      const w = worker;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (pending.size === 1) w.ref();
        w.postMessage({ id, values: encode(events) });
      });
    },
    close() {
      closing ??= (async () => {
        const w = worker;
        if (!w) return;
        // Messages are handled in order: every batch posted before this one is committed first.
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.ref();
        w.postMessage({ close: true });
        await exited;
      })();
      return closing;
    },
  };
};
