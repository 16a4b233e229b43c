/**
 * The batched event sink: the data plane's `write` only queues; a timer (or a full batch) writes
 * the queue to the database in one insert. If the database refuses a batch, the batch goes to a
 * spool file and is written later (`replaySpool`, run at start and after each good flush), so a
 * database outage loses nothing. A clean stop flushes everything; only a crash can lose the
 * last `flushMs` of events (docs/decisions/0009-dns-filter.md). The writer is the event repository,
 * or for SQLite a worker thread that owns its own connection (`event-writer.ts`, decision 0010);
 * a writer with `close` is closed after the last flush.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EventRepository, EventSink, EventSinkStats, FilterEvent } from '../core/index.ts';
import { createSqliteEventWriter } from './event-writer.ts';

export interface BatchedSinkOptions {
  /** Where failed batches wait (NDJSON files); null keeps them in memory only. */
  spoolDir: string | null;
  flushMs?: number;
  batchSize?: number;
  /** Events held in memory at most; beyond it the oldest are dropped and counted. */
  maxQueue?: number;
  onError?: (error: Error) => void;
  /**
   * The SQLite database file: write (and replay) batches from a worker thread with its own
   * connection (`event-writer.ts`) instead of through `repo` on this thread. Not for ':memory:'.
   */
  sqliteWorkerFile?: string | undefined;
}

export interface BatchedEventSink extends EventSink {
  /** Writes spooled batches to the database, oldest first; returns how many events. */
  replaySpool(): Promise<number>;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** What the sink writes through: a repository, or a writer that must be closed after the last batch. */
export type EventBatchWriter = Pick<EventRepository, 'insertBatch'> & { close?(): Promise<void> };

export const createBatchedEventSink = (repository: EventBatchWriter, options: BatchedSinkOptions): BatchedEventSink => {
  const repo: EventBatchWriter = options.sqliteWorkerFile ? createSqliteEventWriter(options.sqliteWorkerFile) : repository;
  const flushMs = options.flushMs ?? 250;
  const batchSize = options.batchSize ?? 500;
  const maxQueue = options.maxQueue ?? 100_000;
  let queue: FilterEvent[] = [];
  let closed = false;
  let chain: Promise<void> = Promise.resolve();
  let flushScheduled = false;
  const stats: Omit<EventSinkStats, 'queued'> = { written: 0, spooled: 0, dropped: 0 };

  const spoolBatch = async (batch: FilterEvent[]) => {
    if (options.spoolDir === null) {
      // No spool: keep them at the front of the queue, within the bound.
      queue = [...batch, ...queue];
      if (queue.length > maxQueue) {
        stats.dropped += queue.length - maxQueue;
        queue = queue.slice(queue.length - maxQueue);
      }
      return;
    }
    await mkdir(options.spoolDir, { recursive: true });
    const name = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.ndjson`;
    const tmp = path.join(options.spoolDir, `.${name}.tmp`);
    await writeFile(tmp, batch.map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o600 });
    await rename(tmp, path.join(options.spoolDir, name));
    stats.spooled += batch.length;
  };

  const writeOut = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, Math.max(batchSize, 5000));
      try {
        await repo.insertBatch(batch);
        stats.written += batch.length;
      } catch (err) {
        options.onError?.(asError(err));
        await spoolBatch(batch).catch((e: unknown) => {
          options.onError?.(asError(e));
          stats.dropped += batch.length;
        });
        return false;
      }
    }
    return true;
  };

  const replayOnce = async (): Promise<number> => {
    if (options.spoolDir === null) return 0;
    let files: string[];
    try {
      files = (await readdir(options.spoolDir)).filter((f) => f.endsWith('.ndjson')).sort();
    } catch {
      return 0;
    }
    let n = 0;
    for (const f of files) {
      const file = path.join(options.spoolDir, f);
      const events = (await readFile(file, 'utf8'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as FilterEvent];
          } catch {
            return []; // a torn last line after a crash mid-write
          }
        });
      await repo.insertBatch(events);
      await rm(file, { force: true });
      stats.written += events.length;
      n += events.length;
    }
    return n;
  };

  const enqueue = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };

  const flush = () =>
    enqueue(async () => {
      flushScheduled = false;
      const ok = await writeOut();
      if (ok) await replayOnce().catch((e: unknown) => options.onError?.(asError(e)));
    });

  const timer = setInterval(() => {
    if (queue.length > 0) void flush();
  }, flushMs);
  timer.unref();

  return {
    write(event) {
      if (closed) {
        stats.dropped++;
        return;
      }
      queue.push(event);
      if (queue.length > maxQueue) {
        queue.shift();
        stats.dropped++;
      }
      if (queue.length >= batchSize && !flushScheduled) {
        flushScheduled = true;
        setImmediate(() => void flush());
      }
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
      await repo.close?.();
    },
    stats: () => ({ queued: queue.length, ...stats }),
    replaySpool: () => enqueue(replayOnce),
  };
};
