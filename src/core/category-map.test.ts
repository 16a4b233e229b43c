import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DomainError } from './errors.ts';
import { categoriesForLists, categoryMapMarkdown, parseCategoryMap, resolveListCategory } from './category-map.ts';
import { CATEGORY_IDS, isAllowListCategory } from './policy/index.ts';

const mapJson: unknown = JSON.parse(readFileSync(new URL('../../data/category-map.json', import.meta.url), 'utf8'));

const problemsOf = (json: unknown): string[] => {
  try {
    parseCategoryMap(json);
    return [];
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return ((e.details ?? []) as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
};

describe('category map', () => {
  const map = parseCategoryMap(mapJson);

  it('data/category-map.json is valid', () => {
    assert.ok(map.rules.length > 80);
  });

  it('maps only to categories that exist in src/core/policy/categories.ts', () => {
    const missing = map.rules.filter((r) => r.category !== null && !CATEGORY_IDS.includes(r.category as never));
    assert.deepEqual(missing, []);
    assert.doesNotThrow(() => parseCategoryMap(mapJson, { categories: CATEGORY_IDS }));
  });

  it('feeds the allow-list categories only from lists of good sites', () => {
    const allow = map.rules.filter((r) => r.category !== null && isAllowListCategory(r.category)).map((r) => r.list);
    assert.deepEqual(allow.sort(), ['*/child', '*/educational_games', '*/liste_blanche', '*/sexual_education']);
  });

  it('matches exact paths, and "*/x" for any one source folder; exact rules win', () => {
    const m = parseCategoryMap({
      rules: [
        { list: '*/adult', category: 'pornography' },
        { list: 'mine/adult', category: 'adult-themes' },
        { list: '*/pix', category: null, reason: 'do not use' },
        { list: 'extra/x/gore', category: 'violence' },
      ],
    });
    assert.deepEqual(resolveListCategory(m, 'ut1/adult'), { kind: 'mapped', category: 'pornography', rule: m.rules[0] });
    assert.equal((resolveListCategory(m, 'blacklists/adult') as { category: string }).category, 'pornography');
    assert.equal((resolveListCategory(m, 'mine/adult') as { category: string }).category, 'adult-themes');
    assert.deepEqual(resolveListCategory(m, 'ut1/pix'), { kind: 'ignored', reason: 'do not use', rule: m.rules[2] });
    assert.deepEqual(resolveListCategory(m, 'adult'), { kind: 'unmapped' }, '"*" stands for exactly one folder');
    assert.deepEqual(resolveListCategory(m, 'a/b/adult'), { kind: 'unmapped' });
    assert.deepEqual(resolveListCategory(m, 'extra/x/gore').kind, 'mapped');
    assert.deepEqual(categoriesForLists(m, ['ut1/adult', 'ut1/pix', 'nope/x']), ['pornography', null, null]);
  });

  it('maps the lists the brief and the data README name as the issue asks', () => {
    const expect: Record<string, string | null> = {
      'ut1/adult': 'pornography',
      'ut1/sexual_education': 'sex-education',
      'ut1/agressif': 'discrimination',
      'ut1/redirector': 'circumvention',
      'ut1/vpn': 'circumvention',
      'ut1/doh': 'circumvention',
      'ut1/residential-proxies': 'circumvention',
      'extra/sinfonietta/gore': 'violence',
      'extra/blocklistproject/drugs': 'drugs',
      'ut1/examen_pix': null,
      'ut1/tricheur_pix': null,
      'blacklists/adult': 'pornography',
    };
    for (const [list, category] of Object.entries(expect)) {
      const c = resolveListCategory(map, list);
      assert.equal(c.kind === 'mapped' ? c.category : c.kind === 'ignored' ? null : 'UNMAPPED', category, list);
    }
  });

  it('refuses bad maps, naming each problem', () => {
    assert.deepEqual(
      problemsOf({
        rules: [
          { list: 'ut1/a', category: 'illegal' },
          { list: 'ut1/b', category: null },
          { list: 'ut1/*', category: 'games' },
          { list: '../x', category: 'games' },
          { list: 'ut1/c', category: 'Not An Id' },
          { list: 'ut1/d', category: 'games', extra: 1 },
          { list: 'ut1/e', category: 'games' },
          { list: 'ut1/e', category: 'chat' },
          { list: 'ut1/f', category: 'games', exclude: [''] },
        ],
      }),
      [
        'rules[0].category: "illegal" is reserved for the IWF/CTIRU tier; a category list cannot feed it',
        'rules[1].reason: a list that is not used must say why',
        'rules[2].list: must be a list path such as "ut1/adult" or "*/adult"',
        'rules[3].list: must be a list path such as "ut1/adult" or "*/adult"',
        'rules[4].category: must be a category id (lower-case, hyphens) or null',
        'rules[5].extra: unknown field',
        'rules[7].list: "ut1/e" has two rules',
        'rules[8].exclude: must be a list of entries',
      ],
    );
    assert.throws(() => parseCategoryMap([]), /must be an object with a "rules" array/);
    assert.throws(() => parseCategoryMap({ rules: [{ list: 'a/b', category: 'nope' }] }, { categories: ['games'] }), DomainError);
  });

  it('docs/category-map.md shows the table generated from data/category-map.json', () => {
    const doc = readFileSync(new URL('../../docs/category-map.md', import.meta.url), 'utf8');
    const section = /<!-- category-map:start -->\n([\s\S]*?)\n<!-- category-map:end -->/.exec(doc)?.[1];
    assert.ok(section, 'the category-map markers are missing');
    assert.equal(
      section,
      categoryMapMarkdown(map),
      "regenerate the table: node --import tsx -e \"import('./src/core/index.ts').then(m=>console.log(m.categoryMapMarkdown(m.parseCategoryMap(JSON.parse(require('fs').readFileSync('data/category-map.json','utf8'))))))\"",
    );
  });
});
