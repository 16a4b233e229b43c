import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { RISK_CATEGORIES } from '../pipeline/index.ts';
import { lexiconsDir, loadAnalyser, loadLexiconSet } from './lexicon-files.ts';

describe('lexicon files (data/lexicons)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-lexicons-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("Haven's own files are valid: common.json and every category, in English, Polish, Romanian and Urdu", () => {
    const set = loadLexiconSet();
    assert.deepEqual(set.lexicons.map((l) => l.category).sort(), [...RISK_CATEGORIES].sort());
    for (const lexicon of set.lexicons) {
      const langs = new Set(lexicon.terms.map((t) => t.lang));
      for (const lang of ['en', 'pl', 'ro', 'ur']) assert.ok(langs.has(lang as never), `${lexicon.category} has no ${lang} terms`);
    }
    const counts = loadAnalyser().termCounts;
    for (const c of RISK_CATEGORIES) assert.ok(counts[c] >= 20, `${c}: ${counts[c]} terms`);
  });

  it('a bad edit stops loading with the file and the problem named', () => {
    cpSync(lexiconsDir(), dir, { recursive: true });
    const file = path.join(dir, 'drugs.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.terms[0].severity = 7;
    json.terms.push({ term: 'weed', severity: 2 });
    writeFileSync(file, JSON.stringify(json));
    assert.throws(
      () => loadLexiconSet(dir),
      /drugs\.json is not valid: terms\[0\]\.severity: must be 1, 2, 3, 4 or 5; terms\[\d+\]: "weed" is already terms\[\d+\]/,
    );
    writeFileSync(file, '{ not json');
    assert.throws(() => loadLexiconSet(dir), /Cannot read the lexicon file .*drugs\.json/);
    rmSync(file);
    assert.throws(() => loadLexiconSet(dir), /drugs\.json is missing/);
    assert.throws(() => loadLexiconSet(path.join(dir, 'nowhere')), /Cannot read the lexicon folder/);
  });
});
