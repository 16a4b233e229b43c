/**
 * Regression: with few entries, the largest key's home can fall short of the last home slot.
 * The table must still end in an empty slot past every home, or a lookup homed there would read
 * past the array (and the snapshot reader rightly refuses such a table).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildClassifier } from './build-classifier.ts';
import { loadClassifierSnapshot } from './snapshot.ts';

it('small indexes round-trip through a snapshot and answer misses, whatever the seed', () => {
  for (let seed = 0; seed < 200; seed++) {
    const domains = Array.from({ length: 50 }, (_, i) => `site${i}-${seed}.example`);
    const built = buildClassifier([{ name: 'test/list', domains, urls: ['site0-0.example/path'], expressions: [] }], { seed });
    const loaded = loadClassifierSnapshot(built.toSnapshot());
    for (let k = 0; k < 500; k++) assert.equal(loaded.matchHost(`miss${k}.unlisted.test`).length, 0, `seed ${seed}`);
    assert.equal(loaded.matchHost(`www.site7-${seed}.example`).length, 1, `seed ${seed}`);
  }
});
