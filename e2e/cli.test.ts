/**
 * The `haven` command as an administrator or a script uses it: a real process, a real SQLite
 * file, results on stdout and nothing else, progress and errors on stderr, honest exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';

const bin = path.resolve('bin/haven.mjs');
const fixture = (name: string) => path.resolve('test-fixtures/people', name);

describe('haven CLI', () => {
  let dataDir: string;
  const haven = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '' },
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('has --help on every command', () => {
    for (const args of [
      ['--help'],
      ['start', '--help'],
      ['serve', '--help'],
      ['db', 'migrate', '--help'],
      ['user', 'add', '--help'],
      ['import', 'people', '--help'],
      ['audit', 'verify', '--help'],
      ['school', 'add', '--help'],
    ]) {
      const r = haven(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: haven/m, args.join(' '));
    }
  });

  it('migrates, and says so only once', () => {
    const first = haven(['db', 'migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      'applied: 0001-foundation, 0002-audit-append-only, 0003-totp-last-step, 0004-filter-policies, 0005-filter-events, 0006-devices, 0007-identity-logins, 0008-unblock-requests, 0009-warn-continues, 0010-proxy-event-fields\n',
    );
    assert.equal(haven(['db', 'migrate']).stdout, 'database is up to date\n');
  });

  it('adds a school and users, with a one-time password unless one is piped in', () => {
    const school = haven(['school', 'add', '--name', 'Cedar Primary', '--urn', '123456']);
    assert.equal(school.code, 0, school.stderr);
    assert.match(school.stdout, /^created Cedar Primary \(/);

    const dsl = haven([
      'user',
      'add',
      '--email',
      'dsl@cedar.example',
      '--name',
      'Dee Ess',
      '--role',
      'dsl@123456',
      '--role',
      'staff@Cedar Primary',
    ]);
    assert.equal(dsl.code, 0, dsl.stderr);
    assert.match(dsl.stdout, /^created dsl@cedar\.example \([0-9a-f-]{36}\)\none-time password: [\w-]{20,}\n$/);

    const piped = haven(
      ['user', 'add', '--email', 'it@cedar.example', '--name', 'Eye Tee', '--role', 'it_manager', '--password-stdin'],
      'a long enough password\n',
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stdout, /password/);

    const badRole = haven(['user', 'add', '--email', 'x@cedar.example', '--name', 'X', '--role', 'wizard']);
    assert.equal(badRole.code, 2);
    assert.equal(badRole.stdout, '');
    assert.match(badRole.stderr, /Unknown role "wizard"/);

    const noSchool = haven(['user', 'add', '--email', 'y@cedar.example', '--name', 'Y', '--role', 'dsl@999999']);
    assert.equal(noSchool.code, 2);
    assert.match(noSchool.stderr, /No school matches "999999"/);
  });

  it('imports people from a MIS export, idempotently, with progress on stderr', () => {
    const dry = haven(['import', 'people', fixture('clean-mis-export.csv'), '--school', '123456', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /applied: no/);
    const first = haven(['import', 'people', fixture('clean-mis-export.csv'), '--school', '123456']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^rows: 29 {2}valid: 29 {2}invalid: 0$/m);
    assert.match(first.stdout, /created: 29 {2}updated: 0 {2}unchanged: 0 {2}applied: yes/);
    assert.match(first.stderr, /(\d+)\/\1 rows\n$/, 'progress ends at 100%');
    const again = haven(['import', 'people', fixture('clean-mis-export.csv'), '--school', '123456']);
    assert.match(again.stdout, /created: 0 {2}updated: 0 {2}unchanged: 29 {2}applied: yes/);
  });

  it('imports nothing from a file with bad rows, naming each line, unless told to skip them', () => {
    const bad = haven(['import', 'people', fixture('row-errors.csv'), '--school', 'Cedar Primary']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /applied: no/);
    assert.match(bad.stdout, /^line 3 \(first_name\): /m);
    assert.match(bad.stderr, /nothing was imported/);
    const skipped = haven(['import', 'people', fixture('row-errors.csv'), '--school', 'Cedar Primary', '--skip-invalid']);
    assert.equal(skipped.code, 1, 'still non-zero: some rows were not imported');
    assert.match(skipped.stdout, /applied: yes/);
  });

  it('refuses a role it does not have, naming the ones it has', () => {
    const r = spawnSync(process.execPath, [bin, 'serve', '--role', 'nonsense'], {
      encoding: 'utf8',
      env: { ...process.env, HAVEN_DATA_DIR: dataDir },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /role must be one of web, dns, proxy, worker/);
  });

  it('verifies the audit chain, and names the first entry that was altered or removed', () => {
    const ok = haven(['audit', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^audit log OK: \d+ entries, chain intact\n$/);

    const file = path.join(dataDir, 'haven.db');
    const db = new Database(file);
    // The app's own triggers refuse edits; someone with the file can still drop them.
    assert.throws(() => db.prepare("UPDATE audit_log SET action = 'x' WHERE seq = 3").run(), /append-only/);
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    const original = db.prepare('SELECT detail FROM audit_log WHERE seq = 3').get() as { detail: string | null };
    db.prepare('UPDATE audit_log SET detail = \'{"fields":["tampered"]}\' WHERE seq = 3').run();
    db.close();
    const altered = haven(['audit', 'verify']);
    assert.equal(altered.code, 1);
    assert.match(altered.stdout, /^audit log BROKEN at entry 3: entry 3 was altered after it was written$/m);

    const db2 = new Database(file);
    db2.prepare('UPDATE audit_log SET detail = ? WHERE seq = 3').run(original.detail);
    db2.prepare('DELETE FROM audit_log WHERE seq = 5').run();
    db2.close();
    const removed = haven(['audit', 'verify']);
    assert.equal(removed.code, 1);
    assert.match(removed.stdout, /BROKEN at entry 6: entry 5 is missing/);

    const db3 = new Database(file);
    const max = (db3.prepare('SELECT max(seq) AS m FROM audit_log').get() as { m: number }).m;
    db3.prepare('DELETE FROM audit_log WHERE seq >= 5').run();
    db3.close();
    const cut = haven(['audit', 'verify']);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, new RegExp(`the log ends at entry 4 but ${max} entries were written`));
  });
});
