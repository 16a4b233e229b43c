/**
 * Databases for tests: every engine Haven supports, each opened fresh and migrated.
 *
 *   for (const engine of testEngines()) {
 *     describe(`people (${engine.name})`, { skip: engine.skip }, () => {
 *       let t: TestDatabase;
 *       before(async () => { t = await engine.open(); });
 *       after(() => t?.close());
 *       it('…', async () => { await t.store.people.list(…) });
 *     });
 *   }
 *
 * SQLite is in memory. PostgreSQL needs HAVEN_TEST_DATABASE_URL (a role that may CREATE
 * DATABASE); each open() creates its own `haven_test_…` database and close() drops it, so test
 * files can run in parallel without seeing each other's rows. Without the variable the
 * PostgreSQL cases are skipped on a laptop and fail under CI=true (docs/decisions/0002).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../src/core/index.ts';
import { createStore, migrateToLatest, openDatabase, type Database, type Engine } from '../src/storage/index.ts';

export const TEST_DATABASE_URL_VAR = 'HAVEN_TEST_DATABASE_URL';

export const POSTGRES_REQUIRED_IN_CI = `PostgreSQL is required in CI: set ${TEST_DATABASE_URL_VAR} (e.g. postgres://haven:haven@127.0.0.1:5432/postgres, a role with CREATEDB), or run .ci/run`;

export const POSTGRES_SKIPPED = `PostgreSQL tests skipped: set ${TEST_DATABASE_URL_VAR}=postgres://haven:haven@127.0.0.1:5432/postgres (a role with CREATEDB) to run them; .ci/run shows how to start one`;

/** Prefix of every database the helper creates; nothing else is ever dropped. */
const DB_PREFIX = 'haven_test_';
/** A test database older than this was left behind by a crashed run. */
const STALE_AFTER_SECONDS = 6 * 60 * 60;

export interface TestDatabase {
  engine: Engine;
  db: Database;
  store: Store;
  /** The PostgreSQL database name, or ':memory:'. */
  name: string;
  close(): Promise<void>;
}

export interface EngineCase {
  name: Engine;
  /** For describe()/it() options: false to run, or the reason it is skipped. */
  skip: string | false;
  /** A fresh database of this engine, migrated unless asked not to. Rejects with a clear message when it cannot. */
  open(options?: OpenOptions): Promise<TestDatabase>;
}

export interface OpenOptions {
  /** false leaves the database empty, for testing migrations themselves. Default true. */
  migrate?: boolean;
}

const openSqlite = async (options: OpenOptions = {}): Promise<TestDatabase> => {
  const db = openDatabase({ dataDir: '', sqliteFile: ':memory:' });
  try {
    if (options.migrate !== false) await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return { engine: 'sqlite', db, store: createStore(db.kysely, db.engine), name: ':memory:', close: () => db.close() };
};

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const withAdmin = async <T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

const dropDatabase = async (client: pg.Client, name: string): Promise<void> => {
  // Terminate stragglers (a pool a test forgot to close) so DROP does not wait or fail.
  // Only our own sessions: an autovacuum worker belongs to the superuser (DROP DATABASE stops it itself).
  await client.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND usename = current_user',
    [name],
  );
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
};

/** Best effort: drops test databases a crashed run left behind (their name carries the time). */
const dropStale = async (client: pg.Client): Promise<void> => {
  const now = Math.floor(Date.now() / 1000);
  const rows = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${DB_PREFIX}%`]);
  for (const { datname } of rows.rows) {
    const created = Number(/^haven_test_(\d+)_/.exec(datname)?.[1]);
    if (Number.isFinite(created) && now - created > STALE_AFTER_SECONDS) {
      await dropDatabase(client, datname).catch(() => undefined);
    }
  }
};

let staleSweepDone = false;

/**
 * UTF-8 with the C.UTF-8 locale: code-point order (as SQLite sorts) and Unicode lower(), whatever
 * the cluster's defaults. A server without that locale (e.g. macOS) gets its default instead.
 */
const createDatabase = async (client: pg.Client, name: string): Promise<void> => {
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`);
  } catch (err) {
    // 42809: no such locale on this server; 22023: it does not fit UTF-8.
    const code = (err as { code?: string }).code;
    if (code !== '42809' && code !== '22023') throw err;
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING 'UTF8'`);
  }
};

const openPostgres = async (adminUrl: string, options: OpenOptions = {}): Promise<TestDatabase> => {
  const name = `${DB_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, async (client) => {
    if (!staleSweepDone) {
      staleSweepDone = true;
      await dropStale(client).catch(() => undefined);
    }
    await createDatabase(client, name);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = openDatabase({ dataDir: '', databaseUrl: url.toString() });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      await db.close();
    } finally {
      await withAdmin(adminUrl, (client) => dropDatabase(client, name));
    }
  };
  try {
    if (options.migrate !== false) await migrateToLatest(db);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { engine: 'postgres', db, store: createStore(db.kysely, db.engine), name, close };
};

const postgresCase = (env: NodeJS.ProcessEnv): EngineCase => {
  const url = env[TEST_DATABASE_URL_VAR]?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      const problem = `${TEST_DATABASE_URL_VAR} must be a postgres:// URL`;
      return { name: 'postgres', skip: false, open: () => Promise.reject(new Error(problem)) };
    }
    return { name: 'postgres', skip: false, open: (options) => openPostgres(url, options) };
  }
  if (env.CI === 'true') {
    // Not skipped: the suite's before() hook fails, so CI cannot pass with PostgreSQL untested.
    return { name: 'postgres', skip: false, open: () => Promise.reject(new Error(POSTGRES_REQUIRED_IN_CI)) };
  }
  return { name: 'postgres', skip: POSTGRES_SKIPPED, open: () => Promise.reject(new Error(POSTGRES_SKIPPED)) };
};

/** Every engine, in a fixed order: SQLite, then PostgreSQL. */
export const testEngines = (env: NodeJS.ProcessEnv = process.env): EngineCase[] => [
  { name: 'sqlite', skip: false, open: openSqlite },
  postgresCase(env),
];

/** Opens a fresh database, runs fn, and always closes (and for PostgreSQL drops) it. */
export const withDatabase = async <T>(engine: EngineCase, fn: (t: TestDatabase) => Promise<T>, options?: OpenOptions): Promise<T> => {
  const t = await engine.open(options);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
};
