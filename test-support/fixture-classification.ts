/**
 * A small, real classification bundle for service and API tests: the compact index over a few
 * UT1-form lists, mapped through the product's own category map, and an illegal tier holding
 * one plain entry besides the canary.
 */
import { readFileSync } from 'node:fs';
import {
  buildClassifier,
  CATEGORY_IDS,
  categoriesForLists,
  createClassificationEngine,
  createIllegalTier,
  DEFAULT_ILLEGAL_CANARY,
  parseCategoryMap,
  type SourceList,
} from '../src/core/index.ts';
import type { ClassificationBundle } from '../src/services/index.ts';

export const FIXTURE_LISTS: SourceList[] = [
  { name: 'ut1/adult', domains: ['adult-example.test'], urls: [], expressions: [] },
  { name: 'ut1/gambling', domains: ['bet-example.test'], urls: [], expressions: [] },
  { name: 'ut1/games', domains: ['games-example.test'], urls: [], expressions: [] },
  { name: 'ut1/social_networks', domains: ['social-example.test'], urls: [], expressions: [] },
  { name: 'ut1/sexual_education', domains: ['rse-example.test'], urls: [], expressions: [] },
];

/** A URL the fixture illegal tier blocks (as the IWF list would). */
export const FIXTURE_ILLEGAL_URL = 'illegal-example.test/abuse/page.html';

export const fixtureClassification = (): ClassificationBundle => {
  const map = parseCategoryMap(JSON.parse(readFileSync(new URL('../data/category-map.json', import.meta.url), 'utf8')), {
    categories: CATEGORY_IDS,
  });
  const classifier = buildClassifier(FIXTURE_LISTS);
  const illegal = createIllegalTier([{ source: 'iwf', plain: [FIXTURE_ILLEGAL_URL], sha256: [], md5: [] }], {
    canaries: [DEFAULT_ILLEGAL_CANARY],
  });
  const listCategories = categoriesForLists(map, classifier.listNames);
  return {
    engine: createClassificationEngine({ classifier, listCategories, illegal }),
    illegal,
    manifest: {
      format: 1,
      source: 'test-support/fixture-classification.ts',
      sourceName: 'fixture',
      importedAt: '2026-03-01T00:00:00.000Z',
      snapshot: { file: 'none', bytes: 0, sha256: '' },
      totals: {
        lists: FIXTURE_LISTS.length,
        domains: 5,
        urls: 0,
        expressions: 0,
        malformed: 0,
        excluded: 0,
        distinctDomains: classifier.domainCount,
      },
      lists: FIXTURE_LISTS.map((l, i) => ({
        name: l.name,
        category: listCategories[i] ?? '-',
        domains: l.domains.length,
        urls: 0,
        expressions: 0,
        malformed: 0,
        excluded: 0,
      })),
      ignored: [],
      unmapped: [],
      warnings: [],
    },
  };
};
