/**
 * The DNS filter's data files shipped with Haven: data/safesearch.json (SafeSearch rewrites) and
 * data/circumvention.json (DoH canary, iCloud Private Relay, DoH resolvers), both documented in
 * docs/safesearch.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCircumventionData, parseSafeSearchData, type CircumventionData, type SafeSearchData } from '../core/index.ts';
import { packageRoot } from './package-info.ts';

export const safeSearchPath = (): string => path.join(packageRoot(), 'data', 'safesearch.json');
export const circumventionPath = (): string => path.join(packageRoot(), 'data', 'circumvention.json');

export const loadSafeSearch = (file = safeSearchPath()): SafeSearchData => parseSafeSearchData(JSON.parse(readFileSync(file, 'utf8')));

export const loadCircumvention = (file = circumventionPath()): CircumventionData =>
  parseCircumventionData(JSON.parse(readFileSync(file, 'utf8')));
