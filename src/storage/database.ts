/**
 * Opens Haven's database: an embedded SQLite file (WAL) by default, or PostgreSQL when a
 * postgres:// URL is given. Everything above this file sees one Kysely<DB>.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Engine } from './engine.ts';
import type { DB } from './schema.ts';

export interface Database {
  kysely: Kysely<DB>;
  engine: Engine;
  /** Where the data is, for humans (the SQLite path, or the PostgreSQL host/db without password). */
  describe: string;
  /** The SQLite database's file (null for PostgreSQL and in-memory SQLite): the event writer thread opens it too. */
  sqliteFile: string | null;
  close(): Promise<void>;
}

export interface DatabaseConfig {
  /** postgres://… selects PostgreSQL; otherwise SQLite in dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** For tests: ':memory:' SQLite. */
  sqliteFile?: string | undefined;
}

// PostgreSQL BIGINT (int8) arrives as a string by default; audit seq numbers fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
};

export const openDatabase = (config: DatabaseConfig): Database => {
  const url = config.databaseUrl?.trim();
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { kysely, engine: 'postgres', describe: redactUrl(url), sqliteFile: null, close: () => kysely.destroy() };
  }
  if (url) throw new Error('HAVEN_DATABASE_URL must start with postgres:// (leave it unset for the embedded SQLite database)');
  let file = config.sqliteFile;
  if (!file) {
    mkdirSync(config.dataDir, { recursive: true });
    file = path.join(config.dataDir, 'haven.db');
  }
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // SQLite's own lower() folds only A–Z, so "Élodie" could never be found by a search. Replace it
  // with JavaScript's full Unicode lower-casing, as PostgreSQL's lower() does on a UTF-8 database.
  sqlite.function('lower', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { kysely, engine: 'sqlite', describe: file, sqliteFile: file === ':memory:' ? null : file, close: () => kysely.destroy() };
};
