/**
 * `haven classify` as scripts use it: one tab-separated line per input, in the exact shape
 * `input<TAB>category<TAB>source<TAB>action`, from arguments or stdin, on a fixture tree (always)
 * and on the shared category lists (skipped when absent, required under CI=true).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openHaven } from '../src/app/compose.ts';
import { loadConfig } from '../src/app/config.ts';
import { systemContext } from '../src/services/index.ts';

const bin = path.resolve('bin/haven.mjs');
const tree = path.resolve('test-fixtures/lists/tree');
const shared = path.resolve('..', 'shared', 'data', 'categories');

describe('haven classify', () => {
  let dataDir: string;
  const classify = (args: string[], input?: string, dir = dataDir) => {
    const r = spawnSync(process.execPath, [bin, 'classify', ...args], {
      env: { ...process.env, HAVEN_DATA_DIR: dir, HAVEN_DATABASE_URL: '' },
      input,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      rows: r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')),
    };
  };

  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-classify-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints input, category, source and action for each argument', () => {
    const r = classify(['--lists', tree, 'www.bet.example', 'sex-ed.example', 'adult-site.example', 'unlisted.example', 'gore.example']);
    assert.equal(r.code, 0, r.stderr);
    for (const row of r.rows) assert.equal(row.length, 4, `four fields: ${row.join('|')}`);
    assert.deepEqual(r.rows, [
      ['www.bet.example', 'gambling', 'ut1/gambling', 'block'],
      ['sex-ed.example', 'sex-education', 'ut1/sexual_education', 'allow'],
      // In both the adult list and the sex-education allow-list at the same level: the allow-list wins.
      ['adult-site.example', 'sex-education', 'ut1/sexual_education', 'allow'],
      ['unlisted.example', '-', '-', 'allow'],
      ['gore.example', 'violence', 'extra/sinfonietta/gore', 'block'],
    ]);
  });

  it('reads one input per line from stdin, and decides for the group asked', () => {
    const r = classify(['--lists', tree, '--group', 'staff'], 'bet.example\n\nhttp://adult-pages.example/gallery/1\nproxy.example\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.rows, [
      ['bet.example', 'gambling', 'ut1/gambling', 'allow'],
      ['http://adult-pages.example/gallery/1', 'pornography', 'ut1/adult', 'block'],
      ['proxy.example', 'circumvention', 'ut1/redirector', 'block'],
    ]);
  });

  it('marks input that is not a host and refuses an unknown group', () => {
    const r = classify(['--lists', tree, 'not a host', 'a..b']);
    assert.deepEqual(
      r.rows.map((x) => x[3]),
      ['invalid', 'invalid'],
    );
    const bad = classify(['--lists', tree, '--group', 'wizards', 'x.example']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown group "wizards"/);
  });

  it('always blocks the illegal-tier canary, for every group', () => {
    for (const group of ['staff', 'guests', 'ks3-plus']) {
      const r = classify(['--lists', tree, '--group', group, 'iwf-canary.haven.test']);
      assert.deepEqual(r.rows, [['iwf-canary.haven.test', 'illegal', 'canary', 'block']]);
    }
  });

  it("decides by the school's saved policy when there is a database", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-classify-db-'));
    try {
      const haven = await openHaven(loadConfig({ HAVEN_DATA_DIR: dir }));
      const ctx = systemContext('test');
      await haven.services.tenancy.ensureTrust('Test Trust');
      const school = await haven.services.tenancy.createSchool(ctx, { name: 'Hill Primary', urn: '123456' });
      await haven.services.policies.saveSchoolPolicy(ctx, school.id, {
        policy: { schoolId: school.id, blockList: [{ pattern: 'unlisted.example' }] },
        reason: 'Blocked after a complaint',
        baseVersion: 0,
      });
      await haven.close();
      assert.deepEqual(classify(['--lists', tree, 'unlisted.example'], undefined, dir).rows, [['unlisted.example', '-', '-', 'block']]);

      const again = await openHaven(loadConfig({ HAVEN_DATA_DIR: dir }));
      await again.services.tenancy.createSchool(ctx, { name: 'Vale Academy' });
      await again.close();
      // Two schools and none named: the trust policy both inherit.
      assert.deepEqual(classify(['--lists', tree, 'unlisted.example'], undefined, dir).rows, [['unlisted.example', '-', '-', 'allow']]);
      assert.deepEqual(classify(['--lists', tree, '--school', '123456', 'unlisted.example'], undefined, dir).rows, [
        ['unlisted.example', '-', '-', 'block'],
      ]);
      const unknown = classify(['--lists', tree, '--school', 'Nowhere School', 'unlisted.example'], undefined, dir);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /No school matches "Nowhere School"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const sharedSkip = existsSync(shared)
    ? false
    : process.env.CI === 'true'
      ? false
      : 'the shared category lists (../shared/data/categories) are not here';
  it('classifies with the shared UT1 lists, naming sources as folder/list', { skip: sharedSkip }, () => {
    assert.ok(existsSync(shared), 'CI needs ../shared/data/categories');
    const r = classify(['--lists', shared, 'ttrockstars.com', 'pokerstars.com', 'nordvpn.com'], undefined);
    assert.equal(r.code, 0, r.stderr);
    const bySource = Object.fromEntries(r.rows.map((x) => [x[0], x]));
    assert.equal(bySource['pokerstars.com']?.[1], 'gambling');
    assert.match(bySource['pokerstars.com']?.[2] ?? '', /^(ut1|extra\/[a-z]+)\/[a-z_-]+$/);
    assert.equal(bySource['pokerstars.com']?.[3], 'block');
    assert.equal(bySource['ttrockstars.com']?.[3], 'allow', 'a primary maths site stays open for pupils');
  });
});
