/**
 * Loads the real shared lists (../shared/data/categories, beside the repository) through the tree
 * loader and checks the category map covers every list. Skipped with a message when the folder is
 * absent on a developer's machine; under CI=true its absence fails.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCategoryMap, resolveListCategory } from '../../core/index.ts';
import { loadUt1Tree } from './ut1-tree-loader.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(repo, '..', 'shared', 'data', 'categories');
const present = existsSync(shared);
const map = parseCategoryMap(JSON.parse(readFileSync(path.join(repo, 'data', 'category-map.json'), 'utf8')));

describe('the shared category lists', () => {
  it('are present under CI', () => {
    if (process.env.CI === 'true') assert.ok(present, `${shared} is missing: CI must run with the shared lists`);
  });

  it(
    'load through the UT1 tree loader, and the category map names every list',
    { skip: present ? false : `${shared} is absent` },
    async () => {
      const tree = await loadUt1Tree(shared, { sourceName: 'ut1', unwrapSingleFolder: true });
      assert.ok(tree.lists.length >= 80, `${tree.lists.length} lists`);
      const unmapped = tree.lists.filter((l) => resolveListCategory(map, l.name).kind === 'unmapped').map((l) => l.name);
      assert.deepEqual(unmapped, [], `lists the category map does not name: ${unmapped.join(', ')}`);
      const byName = new Map(tree.lists.map((l) => [l.name, l]));
      assert.ok(byName.get('ut1/adult')!.domains.length > 10_000);
      assert.ok(
        byName.get('ut1/redirector')!.domains.includes('1.0.133.97') ||
          byName.get('ut1/redirector')!.domains.some((d) => /^\d+\.\d+\.\d+\.\d+$/.test(d)),
      );
      assert.equal(resolveListCategory(map, 'extra/sinfonietta/gore').kind, 'mapped');
      // The data was normalised upstream, so nearly nothing should be malformed.
      assert.ok(tree.malformed < 100, `${tree.malformed} malformed lines: ${tree.warnings.slice(0, 5).join(' | ')}`);
      // Every `exclude` entry names something actually in its list (or the exclusion is stale).
      for (const rule of map.rules) {
        for (const entry of rule.exclude ?? []) {
          const lists = tree.lists.filter(
            (l) =>
              resolveListCategory(map, l.name).kind === 'mapped' &&
              (rule.list.startsWith('*/') ? l.name.endsWith(rule.list.slice(1)) : l.name === rule.list),
          );
          assert.ok(
            lists.some((l) => l.domains.includes(entry) || l.urls.includes(entry) || l.expressions.includes(entry)),
            `${rule.list} excludes "${entry.slice(0, 40)}", which is not in it`,
          );
        }
      }
    },
  );
});
