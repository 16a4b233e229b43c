/**
 * data/lexicons/*.json (risk categories for monitoring, docs/analysis.md): read at start-up and
 * validated by the pipeline's pure parser, so a bad edit stops the process with the file and
 * every problem named instead of silently missing risky searches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createAnalyser, parseLexiconSet, type Analyser, type LexiconSet } from '../pipeline/index.ts';
import { packageRoot } from './package-info.ts';

export const lexiconsDir = (): string => path.join(packageRoot(), 'data', 'lexicons');

/** Reads every .json file in the folder and validates the set; errors name the file and each problem. */
export const loadLexiconSet = (dir = lexiconsDir()): LexiconSet => {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (e) {
    throw new Error(`Cannot read the lexicon folder ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const files = names.map((name) => {
    const file = path.join(dir, name);
    try {
      return { name, json: JSON.parse(readFileSync(file, 'utf8')) as unknown };
    } catch (e) {
      throw new Error(`Cannot read the lexicon file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return parseLexiconSet(files);
};

/** The analyser over the lexicons in the folder (default: Haven's own, data/lexicons). */
export const loadAnalyser = (dir = lexiconsDir()): Analyser => createAnalyser(loadLexiconSet(dir));
