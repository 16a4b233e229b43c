// The test database helper (test-support/databases.ts) decides whether PostgreSQL is tested at
// all, so its own rules are tested here, beside the storage tests that rely on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { POSTGRES_REQUIRED_IN_CI, POSTGRES_SKIPPED, testEngines, withDatabase } from '../../test-support/databases.ts';

describe('test database helper', () => {
  it('always offers SQLite, first', () => {
    const [sqlite] = testEngines({});
    assert.equal(sqlite?.name, 'sqlite');
    assert.equal(sqlite?.skip, false);
  });

  it('skips PostgreSQL with instructions when no URL is set outside CI', () => {
    const postgres = testEngines({}).find((e) => e.name === 'postgres')!;
    assert.equal(postgres.skip, POSTGRES_SKIPPED);
    assert.match(POSTGRES_SKIPPED, /HAVEN_TEST_DATABASE_URL=postgres:\/\//);
    assert.equal(testEngines({ CI: 'false' }).find((e) => e.name === 'postgres')!.skip, POSTGRES_SKIPPED);
    assert.equal(testEngines({ HAVEN_TEST_DATABASE_URL: '  ' }).find((e) => e.name === 'postgres')!.skip, POSTGRES_SKIPPED);
  });

  it('fails, not skips, PostgreSQL in CI when no URL is set', async () => {
    const postgres = testEngines({ CI: 'true' }).find((e) => e.name === 'postgres')!;
    assert.equal(postgres.skip, false);
    await assert.rejects(postgres.open(), { message: POSTGRES_REQUIRED_IN_CI });
    assert.match(POSTGRES_REQUIRED_IN_CI, /^PostgreSQL is required in CI: set HAVEN_TEST_DATABASE_URL/);
  });

  it('refuses a URL that is not postgres://', async () => {
    const postgres = testEngines({ HAVEN_TEST_DATABASE_URL: 'mysql://x@y/z' }).find((e) => e.name === 'postgres')!;
    assert.equal(postgres.skip, false);
    await assert.rejects(postgres.open(), /must be a postgres:\/\/ URL/);
  });

  it('closes SQLite after withDatabase, even when fn throws', async () => {
    const sqlite = testEngines({})[0]!;
    let seen: { close(): Promise<void> } | undefined;
    await assert.rejects(
      withDatabase(sqlite, (t) => {
        seen = t;
        return Promise.reject(new Error('inside'));
      }),
      /inside/,
    );
    // Kysely refuses queries after destroy(); close twice is harmless.
    await seen!.close();
  });

  const url = process.env.HAVEN_TEST_DATABASE_URL?.trim();
  it(
    'gives each PostgreSQL open() its own database and drops it on close',
    { skip: url ? false : 'HAVEN_TEST_DATABASE_URL is not set' },
    async () => {
      const postgres = testEngines({ HAVEN_TEST_DATABASE_URL: url }).find((e) => e.name === 'postgres')!;
      const a = await postgres.open();
      const b = await postgres.open({ migrate: false });
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        assert.notEqual(a.name, b.name);
        assert.match(a.name, /^haven_test_\d+_[0-9a-f]{12}$/);
        await a.store.tenancy.createTrust({ id: 't1', name: 'Only in a', createdAt: '2025-01-01T00:00:00.000Z' });
        assert.equal((await a.store.tenancy.getTrust())?.name, 'Only in a');
        // b was not migrated, so it has no tables at all.
        assert.deepEqual(await b.db.kysely.introspection.getTables(), []);
        const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
        assert.equal(await exists(a.name), true);
        await a.close();
        await b.close();
        await a.close();
        assert.equal(await exists(a.name), false);
        assert.equal(await exists(b.name), false);
      } finally {
        await admin.end();
      }
    },
  );
});
