/**
 * The labelled corpus (test-fixtures/analysis/corpus.tsv) through the analyser with Haven's own
 * lexicons: prints precision and recall per category and fails if recall on risky queries falls
 * below 0.9 or more than 3% of benign queries raise an alert. A risky case counts as found when
 * the analyser names its category with at least its minimum severity.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAnalyser } from './analyser.ts';
import { parseLexiconSet, RISK_CATEGORIES, type RiskCategory } from './lexicon.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const lexiconDir = path.join(root, 'data', 'lexicons');

export interface CorpusCase {
  readonly input: string;
  readonly risk: RiskCategory | 'none';
  readonly minSeverity: number;
  readonly kind: string;
  readonly line: number;
}

export const readCorpus = (file = path.join(root, 'test-fixtures', 'analysis', 'corpus.tsv')): CorpusCase[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .map((text, i) => ({ text, line: i + 1 }))
    // Comments start with "# "; a hashtag ("#thinspo") is an input.
    .filter(({ text }) => text !== '' && !text.startsWith('# '))
    .map(({ text, line }) => {
      const [input, risk, min, kind] = text.split('\t');
      assert.ok(input !== undefined && risk !== undefined && min !== undefined, `corpus line ${line}: needs input, risk and severity`);
      assert.ok(risk === 'none' || (RISK_CATEGORIES as readonly string[]).includes(risk), `corpus line ${line}: unknown risk "${risk}"`);
      return { input, risk: risk as RiskCategory | 'none', minSeverity: Number(min), kind: kind ?? '', line };
    });

const analyser = createAnalyser(
  parseLexiconSet(
    readdirSync(lexiconDir)
      .filter((n) => n.endsWith('.json'))
      .map((name) => ({ name, json: JSON.parse(readFileSync(path.join(lexiconDir, name), 'utf8')) as unknown })),
  ),
);

const pct = (n: number, d: number) => (d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

describe('the labelled corpus', () => {
  const cases = readCorpus();
  const results = cases.map((c) => ({ c, a: analyser.analyse(c.input) }));
  const risky = results.filter((r) => r.c.risk !== 'none');
  const benign = results.filter((r) => r.c.risk === 'none');
  const found = (r: (typeof results)[number]) => r.a.risk === r.c.risk && r.a.severity >= r.c.minSeverity;

  it('has at least 500 queries, risky and benign', () => {
    assert.ok(cases.length >= 500, `${cases.length} cases`);
    assert.ok(risky.length >= 200 && benign.length >= 200);
  });

  it('reports precision and recall per category; recall ≥ 0.9 on risky queries, false alerts ≤ 3% of benign ones', () => {
    const lines = ['category            cases  found  recall  alerts  precision'];
    for (const category of RISK_CATEGORIES) {
      const expected = risky.filter((r) => r.c.risk === category);
      const hits = expected.filter(found).length;
      const predicted = results.filter((r) => r.a.risk === category);
      const correct = predicted.filter((r) => r.c.risk === category).length;
      lines.push(
        `${category.padEnd(18)} ${String(expected.length).padStart(6)} ${String(hits).padStart(6)}  ${pct(hits, expected.length)}  ${String(predicted.length).padStart(6)}  ${pct(correct, predicted.length)}`,
      );
    }
    const hits = risky.filter(found).length;
    const detected = risky.filter((r) => r.a.risk !== 'none').length;
    const falseAlerts = benign.filter((r) => r.a.risk !== 'none');
    lines.push(
      `all risky          ${String(risky.length).padStart(6)} ${String(hits).padStart(6)}  ${pct(hits, risky.length)}   (any alert: ${pct(detected, risky.length)})`,
    );
    lines.push(
      `benign             ${String(benign.length).padStart(6)}  false alerts ${falseAlerts.length} (${pct(falseAlerts.length, benign.length).trim()})`,
    );
    const kinds = [...new Set(risky.map((r) => r.c.kind.replace(/^evasion-.*/, 'evasion')))];
    lines.push(
      'recall by kind: ' +
        kinds
          .map((k) => {
            const of = risky.filter((r) => r.c.kind.replace(/^evasion-.*/, 'evasion') === k);
            return `${k} ${of.filter(found).length}/${of.length}`;
          })
          .join(', '),
    );
    const misses = risky.filter((r) => !found(r));
    for (const r of misses)
      lines.push(
        `  missed (line ${r.c.line}): ${JSON.stringify(r.c.input)} expected ${r.c.risk} ≥${r.c.minSeverity}, got ${r.a.risk} ${r.a.severity}`,
      );
    for (const r of falseAlerts)
      lines.push(
        `  false alert (line ${r.c.line}): ${JSON.stringify(r.c.input)} → ${r.a.risk} ${r.a.severity} (${r.a.matches.map((m) => m.term).join(', ')})`,
      );
    console.log(lines.join('\n'));
    assert.ok(hits / risky.length >= 0.9, `recall ${(hits / risky.length).toFixed(3)} < 0.9`);
    assert.ok(
      falseAlerts.length / benign.length <= 0.03,
      `false alerts on ${falseAlerts.length} of ${benign.length} benign queries (> 3%)`,
    );
  });
});
