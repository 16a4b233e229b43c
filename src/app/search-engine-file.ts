/**
 * data/search-engines.json (search terms and SafeSearch in URLs, docs/search-terms.md): read and
 * validated at start-up, so a bad edit stops the proxy with every problem named instead of
 * silently missing searches.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSearchEngines, parseSearchEngineData, type SearchEngineData, type SearchEngines } from '../core/index.ts';
import { packageRoot } from './package-info.ts';

export const searchEnginesPath = (): string => path.join(packageRoot(), 'data', 'search-engines.json');

/** Reads and validates the file; errors name the file and each problem. */
export const loadSearchEngineData = (file = searchEnginesPath()): SearchEngineData => {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read the search engine file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSearchEngineData(json, `The search engine file ${file}`);
};

/** The lookup the proxy asks: `extractSearchTerm(url)`, `enforceSafeSearch(url, settings)`. */
export const loadSearchEngines = (file = searchEnginesPath()): SearchEngines => createSearchEngines(loadSearchEngineData(file));
