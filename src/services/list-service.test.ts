import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeListsPorts } from '../adapters/index.ts';
import {
  buildClassifier,
  categoriesForLists,
  DEFAULT_ILLEGAL_CANARY,
  DomainError,
  loadClassifierSnapshot,
  parseCategoryMap,
  type ListsPorts,
} from '../core/index.ts';
import { sourcesOf, stubBuildClassifier, stubLoadClassifierSnapshot } from '../../test-support/stub-classifier.ts';
import {
  importIllegalList,
  importLists,
  listsPaths,
  listsStatus,
  loadIllegalTier,
  loadImportedClassifier,
  scheduleListUpdates,
  type ListsServiceDeps,
  type ScheduledResult,
  type Timers,
} from './list-service.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(repo, 'test-fixtures', 'lists');
const tmp = mkdtempSync(path.join(tmpdir(), 'haven-lists-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const categoryMap = parseCategoryMap(JSON.parse(readFileSync(path.join(repo, 'data', 'category-map.json'), 'utf8')));
let clockMs = Date.parse('2026-11-25T09:00:00Z');
const deps = (ports: ListsPorts = nodeListsPorts()): ListsServiceDeps => ({
  ports,
  categoryMap,
  buildClassifier: stubBuildClassifier,
  loadClassifierSnapshot: stubLoadClassifierSnapshot,
  clock: { now: () => new Date(clockMs) },
});
let n = 0;
const dataDir = () => path.join(tmp, `data${n++}`);
const filesOf = (dir: string) => {
  const p = listsPaths(dir);
  return { snapshot: readFileSync(p.snapshot), manifest: readFileSync(p.manifest, 'utf8') };
};
const leftovers = (dir: string) => readdirSync(listsPaths(dir).dir).filter((f) => f.startsWith('.'));

describe('importLists', () => {
  it('imports a folder: maps lists, leaves out ignored and unmapped ones, drops excluded entries, writes snapshot + manifest', async () => {
    const dir = dataDir();
    const stages = new Set<string>();
    const { manifest, classifier } = await importLists(deps(), {
      from: path.join(fixtures, 'tree'),
      dataDir: dir,
      onProgress: (p) => stages.add(p.stage),
    });
    assert.deepEqual([...stages], ['read', 'build', 'write']);
    assert.deepEqual(
      manifest.lists.map((l) => [l.name, l.category]),
      [
        ['extra/sinfonietta/gore', 'violence'],
        ['ut1/adult', 'pornography'],
        ['ut1/gambling', 'gambling'],
        ['ut1/games', 'games'],
        ['ut1/redirector', 'circumvention'],
        ['ut1/sexual_education', 'sex-education'],
      ],
    );
    assert.deepEqual(manifest.ignored, [
      { name: 'ut1/examen_pix', reason: 'UT1: reserved for French students taking the PIX exam; do not use otherwise' },
    ]);
    assert.deepEqual(manifest.unmapped, ['ut1/newcategory']);
    assert.ok(manifest.warnings.includes('list ut1/newcategory is not in the category map and was not used'));
    assert.equal(manifest.totals.malformed, 3);
    assert.equal(manifest.totals.excluded, 1, 'ttrockstars.com left out of games');
    assert.equal(manifest.importedAt, '2026-11-25T09:00:00.000Z');
    assert.equal(manifest.source, path.join(fixtures, 'tree'));
    assert.equal(sourcesOf(classifier, 'www.adult-site.example'), 'ut1/adult,ut1/sexual_education');
    assert.equal(sourcesOf(classifier, 'ttrockstars.com'), '-');
    assert.equal(sourcesOf(classifier, 'pix-only.example'), '-');

    const onDisk = await loadImportedClassifier(deps(), dir);
    assert.equal(sourcesOf(onDisk!.classifier, 'gore.example'), 'extra/sinfonietta/gore');
    assert.deepEqual(onDisk!.manifest, manifest);
    const status = await listsStatus(deps(), dir);
    assert.equal(status.snapshotMatches, true);
    assert.equal(status.snapshotBytes, manifest.snapshot.bytes);
    assert.deepEqual(leftovers(dir), [], 'no temporary folder or lock left behind');
  });

  it('works with the real compact index: hosts map through the category map to Haven categories', async () => {
    const real = { ...deps(), buildClassifier: (l: Parameters<typeof buildClassifier>[0]) => buildClassifier(l), loadClassifierSnapshot };
    const dir = dataDir();
    await importLists(real, { from: path.join(fixtures, 'tree'), dataDir: dir });
    const { classifier } = (await loadImportedClassifier(real, dir))!;
    const categories = categoriesForLists(categoryMap, classifier.listNames);
    const categoriesOf = (host: string) =>
      classifier
        .matchHost(host)
        .map((m) => categories[m.list])
        .sort();
    assert.deepEqual(categoriesOf('www.adult-site.example'), ['pornography', 'sex-education']);
    assert.deepEqual(categoriesOf('a.b.casino.example'), ['gambling']);
    assert.deepEqual(categoriesOf('203.0.113.7'), ['circumvention']);
    assert.deepEqual(categoriesOf('ttrockstars.com'), []);
    assert.deepEqual(categoriesOf('pix-only.example'), []);
  });

  it('imports a .tar.gz in UT1 layout, stripping its wrapper folder and naming lists ut1/…', async () => {
    const dir = dataDir();
    const stages = new Set<string>();
    const { manifest } = await importLists(deps(), {
      from: path.join(fixtures, 'ut1-blacklists.tar.gz'),
      dataDir: dir,
      onProgress: (p) => stages.add(p.stage),
    });
    assert.deepEqual([...stages], ['extract', 'read', 'build', 'write']);
    assert.deepEqual(
      manifest.lists.map((l) => l.name),
      ['ut1/adult', 'ut1/gambling', 'ut1/games', 'ut1/redirector', 'ut1/sexual_education'],
    );
    assert.ok(manifest.warnings.includes('skipped symbolic link blacklists/porn → adult'));
    const other = await importLists(deps(), {
      from: path.join(fixtures, 'ut1-blacklists.tar.gz'),
      dataDir: dataDir(),
      sourceName: 'ut1-full',
    });
    assert.equal(other.manifest.lists[0]!.name, 'ut1-full/adult', '--source names the folder; */ rules still map it');
    assert.equal(other.manifest.lists[0]!.category, 'pornography');
  });

  it('a failed import leaves the old snapshot and manifest exactly as they were', async () => {
    const dir = dataDir();
    await importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir });
    const before = filesOf(dir);
    const whole = readFileSync(path.join(fixtures, 'ut1-blacklists.tar.gz'));
    const truncated = path.join(tmp, 'truncated.tar.gz');
    writeFileSync(truncated, whole.subarray(0, whole.length - 50));
    const empty = path.join(tmp, 'empty-tree');
    mkdirSync(path.join(empty, 'LICENSES'), { recursive: true });
    for (const [from, stage] of [
      [truncated, /failed \(unpack\)/],
      [path.join(tmp, 'nope'), /does not exist/],
      [empty, /no lists found/],
      [path.join(fixtures, 'tree', 'ut1', 'newcategory'), /none of the 1 lists found is in the category map/],
    ] as const) {
      await assert.rejects(importLists(deps(), { from, dataDir: dir }), (e: Error) => e instanceof DomainError && stage.test(e.message));
      assert.deepEqual(filesOf(dir), before);
      assert.deepEqual(leftovers(dir), []);
    }
    const failingBuild = {
      ...deps(),
      buildClassifier: () => {
        throw new Error('out of memory');
      },
    };
    await assert.rejects(importLists(failingBuild, { from: path.join(fixtures, 'tree'), dataDir: dir }), /failed \(build\): out of memory/);
    const badSnapshot = { ...deps(), loadClassifierSnapshot: () => stubBuildClassifier([]) };
    await assert.rejects(importLists(badSnapshot, { from: path.join(fixtures, 'tree'), dataDir: dir }), /does not read back/);
    const failingWrite: ListsPorts = { ...nodeListsPorts(), writeFileAtomic: () => Promise.reject(new Error('disk full')) };
    await assert.rejects(importLists(deps(failingWrite), { from: path.join(fixtures, 'tree'), dataDir: dir }), /disk full/);
    assert.deepEqual(filesOf(dir), before);
  });

  it('rebuilds the index when its snapshot does not read back, and says so', async () => {
    let calls = 0;
    const flaky = {
      ...deps(),
      loadClassifierSnapshot: (bytes: Uint8Array) => {
        if (++calls === 1) throw new Error('corrupted (table layout)');
        return stubLoadClassifierSnapshot(bytes);
      },
    };
    const { manifest } = await importLists(flaky, { from: path.join(fixtures, 'tree'), dataDir: dataDir() });
    assert.ok(manifest.warnings.includes('index rebuilt: attempt 1 failed (corrupted (table layout))'));
  });

  it('refuses an import far smaller than the one in use unless allowed', async () => {
    const dir = dataDir();
    const big = path.join(tmp, 'big-tree');
    mkdirSync(path.join(big, 'ut1', 'gambling'), { recursive: true });
    writeFileSync(path.join(big, 'ut1', 'gambling', 'domains'), Array.from({ length: 100 }, (_, i) => `g${i}.example`).join('\n'));
    await importLists(deps(), { from: big, dataDir: dir });
    const before = filesOf(dir);
    await assert.rejects(
      importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir }),
      /under half the 100 now in use.*--force/,
    );
    assert.deepEqual(filesOf(dir), before);
    const { manifest } = await importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir, allowShrink: true });
    assert.equal(manifest.lists.length, 6);
  });

  it('runs one import at a time', async () => {
    const dir = dataDir();
    const slow: ListsPorts = {
      ...nodeListsPorts(),
      loadTree: async (root, o) => {
        await new Promise((r) => setTimeout(r, 100));
        return nodeListsPorts().loadTree(root, o);
      },
    };
    const first = importLists(deps(slow), { from: path.join(fixtures, 'tree'), dataDir: dir });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(
      importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir }),
      (e: DomainError) => e.code === 'CONFLICT',
    );
    await first;
    await importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir });
  });

  it('clears what a crashed import left behind', async () => {
    const dir = dataDir();
    const lists = listsPaths(dir).dir;
    mkdirSync(path.join(lists, '.import-crashed', 'tree'), { recursive: true });
    writeFileSync(path.join(lists, '.category-index.snapshot.99.abcd.tmp'), 'half');
    writeFileSync(listsPaths(dir).lock, JSON.stringify({ pid: 2 ** 22 + 54321, at: '2026-11-25T08:00:00Z' }));
    await importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir });
    assert.deepEqual(leftovers(dir), []);
  });

  it('reports status when nothing has been imported', async () => {
    const dir = dataDir();
    const status = await listsStatus(deps(), dir);
    assert.equal(status.manifest, null);
    assert.equal(status.snapshotBytes, null);
    assert.equal(status.snapshotMatches, null);
    assert.equal(await loadImportedClassifier(deps(), dir), null);
  });
});

describe('illegal lists', () => {
  it('stores checked IWF and CTIRU files (owner-only) and builds a tier from them with the canaries', async () => {
    const dir = dataDir();
    const none = await loadIllegalTier(deps(), { dataDir: dir, canaries: [DEFAULT_ILLEGAL_CANARY] });
    assert.equal(none.tier.selfCheck().ok, true, 'the canary blocks even before any list is imported');
    assert.equal(none.warnings.length, 2);

    const iwf = await importIllegalList(deps(), { kind: 'iwf', from: path.join(fixtures, 'iwf-plain.txt'), dataDir: dir });
    assert.deepEqual(iwf.entries, { plain: 4, sha256: 0, md5: 0 });
    assert.equal(iwf.malformed, 1);
    assert.equal(statSync(iwf.storedAt).mode & 0o777, 0o600);
    await importIllegalList(deps(), { kind: 'ctiru', from: path.join(fixtures, 'ctiru.txt'), dataDir: dir });

    const loaded = await loadIllegalTier(deps(), { dataDir: dir, canaries: ['canary.test'] });
    assert.deepEqual(loaded.tier.matchUrl('http://abuse-one.test/images/set1/x.jpg'), { source: 'iwf', kind: 'plain' });
    assert.deepEqual(loaded.tier.matchHost('terror-two.test'), { source: 'ctiru', kind: 'plain' });
    assert.deepEqual(loaded.tier.selfCheck().canaries, [{ entry: 'canary.test', blocked: true }]);
    assert.equal(loaded.sources.iwf?.lines, 7);

    const junk = path.join(tmp, 'junk.txt');
    writeFileSync(junk, '# nothing\nnot a url\n');
    await assert.rejects(
      importIllegalList(deps(), { kind: 'iwf', from: junk, dataDir: dir }),
      /holds no valid entries.*current list is kept/,
    );
    assert.ok((await loadIllegalTier(deps(), { dataDir: dir, canaries: [] })).tier.matchHost('whole-host.test'));
    await assert.rejects(importIllegalList(deps(), { kind: 'iwf', from: path.join(tmp, 'missing'), dataDir: dir }), /is not a file/);
  });
});

class FakeTimers implements Timers {
  now: number;
  private next = 1;
  private pending = new Map<number, { at: number; fn: () => void }>();
  constructor(start: number) {
    this.now = start;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown) {
    this.pending.delete(handle as number);
  }
  get count() {
    return this.pending.size;
  }
  /** Moves the clock forward, firing due timers in order. */
  advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = end;
  }
}

describe('scheduleListUpdates', () => {
  const setup = (dir: string) => {
    const timers = new FakeTimers(Date.parse('2026-11-25T00:00:00Z'));
    let fail = false;
    let downloads = 0;
    const ports: ListsPorts = {
      ...nodeListsPorts(),
      download: (_url, toFile) => {
        downloads++;
        if (fail) return Promise.reject(new Error('connection refused'));
        copyFileSync(path.join(fixtures, 'ut1-blacklists.tar.gz'), toFile);
        return Promise.resolve({ bytes: statSync(toFile).size });
      },
    };
    const results: ScheduledResult[] = [];
    let notify: () => void = () => undefined;
    const d: ListsServiceDeps = { ...deps(ports), clock: { now: () => new Date(timers.now) } };
    const schedule = scheduleListUpdates(d, {
      url: 'https://lists.example/blacklists.tar.gz',
      everyHours: 24,
      dataDir: dir,
      timers,
      onResult: (r) => {
        results.push(r);
        notify();
      },
    });
    const nextResult = () => new Promise<void>((resolve) => (notify = resolve));
    const settle = () => new Promise((r) => setTimeout(r, 30));
    return { timers, schedule, results, nextResult, settle, setFail: (v: boolean) => (fail = v), downloads: () => downloads };
  };

  it('imports at once when nothing was imported, then every interval; retries sooner after a failure; stops', async () => {
    const dir = dataDir();
    const s = setup(dir);
    await s.settle();
    let done = s.nextResult();
    s.timers.advance(0);
    await done;
    assert.equal(s.results.length, 1);
    assert.equal(s.results[0]!.ok, true);
    assert.equal(s.schedule.nextRunAt(), '2026-11-26T00:00:00.000Z');

    s.timers.advance(23 * 3_600_000);
    await s.settle();
    assert.equal(s.results.length, 1, 'nothing before the interval is up');

    s.setFail(true);
    done = s.nextResult();
    s.timers.advance(3_600_000);
    await done;
    assert.equal(s.results[1]!.ok, false);
    assert.match((s.results[1] as { error: Error }).error.message, /failed \(download\): connection refused/);
    assert.equal(s.schedule.nextRunAt(), '2026-11-26T01:00:00.000Z', 'retry after an hour');
    assert.equal((await loadImportedClassifier(deps(), dir))?.manifest?.importedAt, '2026-11-25T00:00:00.000Z', 'old index kept');

    s.setFail(false);
    done = s.nextResult();
    s.timers.advance(3_600_000);
    await done;
    assert.equal(s.results[2]!.ok, true);
    assert.equal(s.downloads(), 3);

    s.schedule.stop();
    assert.equal(s.timers.count, 0);
    assert.equal(s.schedule.nextRunAt(), null);
    s.timers.advance(100 * 3_600_000);
    await s.settle();
    assert.equal(s.results.length, 3);
    assert.equal(await s.schedule.runNow(), null);
  });

  it('waits out the rest of the interval after a recent import, and runNow does not overlap a running import', async () => {
    const dir = dataDir();
    clockMs = Date.parse('2026-11-24T12:00:00Z');
    await importLists(deps(), { from: path.join(fixtures, 'tree'), dataDir: dir });
    const s = setup(dir);
    await s.settle();
    assert.equal(s.schedule.nextRunAt(), '2026-11-25T12:00:00.000Z');
    s.timers.advance(11 * 3_600_000);
    await s.settle();
    assert.equal(s.results.length, 0);
    const [a, b] = await Promise.all([s.schedule.runNow(), s.schedule.runNow()]);
    assert.equal(a, b, 'the second call joins the first');
    assert.equal(s.downloads(), 1);
    assert.ok(existsSync(listsPaths(dir).snapshot));
    s.schedule.stop();
  });

  it('refuses a nonsense interval', () => {
    assert.throws(
      () => scheduleListUpdates(deps(), { url: 'https://x.example/a.tgz', everyHours: 0, dataDir: dataDir(), timers: new FakeTimers(0) }),
      /positive number of hours/,
    );
  });
});
