import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DomainError } from '../core/index.ts';
import { loadSearchEngineData, loadSearchEngines, searchEnginesPath } from './search-engine-file.ts';

describe('search engine file', () => {
  it('finds and validates the shipped data/search-engines.json', () => {
    assert.match(searchEnginesPath(), /data[/\\]search-engines\.json$/);
    assert.ok(loadSearchEngineData().engines.length >= 15);
    assert.deepEqual(loadSearchEngines().extractSearchTerm('https://www.google.co.uk/search?q=hello+world'), {
      engine: 'google',
      term: 'hello world',
    });
  });

  it('names the file and every problem of a bad one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-search-engines-'));
    try {
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ version: 1, engines: [{ id: 'x', name: 'X', hosts: ['X.example'], paths: ['/'], terms: [] }] }));
      assert.throws(
        () => loadSearchEngineData(bad),
        (e: unknown) =>
          e instanceof DomainError &&
          e.code === 'VALIDATION_FAILED' &&
          e.message.includes(bad) &&
          /engines\[0\]\.hosts\[0\]/.test(e.message) &&
          /engines\[0\]\.terms/.test(e.message),
      );
      const broken = path.join(dir, 'broken.json');
      writeFileSync(broken, '{ not json');
      assert.throws(
        () => loadSearchEngineData(broken),
        new RegExp(`Cannot read the search engine file ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
      );
      assert.throws(() => loadSearchEngineData(path.join(dir, 'missing.json')), /Cannot read the search engine file .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
