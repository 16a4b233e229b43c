/**
 * The serving process's view of the lists: what loads from an empty data directory, what an
 * import puts in use, and that an import by another process is noticed and swapped in.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createFilterRuntime, importLists, listsPaths } from '../services/index.ts';
import { defaultTrustPolicy, resolvePolicy } from '../core/index.ts';
import { loadClassificationBundle, watchListFiles } from './classification.ts';
import { listsServiceDeps } from './commands/lists-command.ts';

const tree = (root: string, lists: Record<string, string[]>) => {
  for (const [name, domains] of Object.entries(lists)) {
    mkdirSync(path.join(root, name), { recursive: true });
    writeFileSync(path.join(root, name, 'domains'), `${domains.join('\n')}\n`);
  }
};

describe('classification from the data directory', () => {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'haven-classification-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('with nothing imported: nothing categorised, the illegal tier live with its canary', async () => {
    const bundle = await loadClassificationBundle(temp(), {});
    assert.equal(bundle.manifest, null);
    assert.equal(bundle.engine.classify('games.example').category, null);
    assert.equal(bundle.illegal.selfCheck().ok, true);
    assert.equal(bundle.engine.classify('iwf-canary.haven.test').category, 'illegal');
  });

  it('swaps in an import made by another process, and keeps serving if the new files are broken', async () => {
    const dataDir = temp();
    const src = temp();
    tree(src, { adult: ['adult-one.test'], games: ['game-one.test'] });
    await importLists(listsServiceDeps(), { from: src, dataDir, sourceName: 'ut1' });

    const runtime = createFilterRuntime({
      loadClassification: () => loadClassificationBundle(dataDir, {}),
      effectivePolicy: () => Promise.resolve(resolvePolicy(defaultTrustPolicy(), { schoolId: 's' })),
    });
    const errors: (Error | null)[] = [];
    const watcher = watchListFiles(runtime, dataDir, { everyMs: 3_600_000, onReload: (e) => errors.push(e) });
    try {
      await new Promise((r) => setTimeout(r, 20)); // the first check takes the baseline
      const check = (site: string) => runtime.check('s', { site, at: new Date('2026-03-02T10:00:00Z'), person: null });
      assert.equal((await check('game-one.test')).classification.category, 'games');
      assert.equal((await check('game-two.test')).classification.category, null);
      assert.equal(await watcher.check(), false, 'nothing changed yet');

      tree(src, { games: ['game-one.test', 'game-two.test'] });
      await importLists(listsServiceDeps(), { from: src, dataDir, sourceName: 'ut1', allowShrink: true });
      assert.equal(await watcher.check(), true);
      assert.deepEqual(errors, [null]);
      assert.equal((await check('game-two.test')).classification.category, 'games');

      writeFileSync(listsPaths(dataDir).snapshot, 'not a snapshot');
      assert.equal(await watcher.check(), false);
      assert.equal(errors.length, 2);
      assert.ok(errors[1] !== null && errors[1] !== undefined, 'the failed load is reported');
      assert.equal((await check('game-two.test')).classification.category, 'games', 'the old index keeps serving');
    } finally {
      watcher.stop();
    }
  });
});
