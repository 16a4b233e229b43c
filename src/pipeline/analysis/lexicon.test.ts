import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommonLexicon, parseLexicon, parseLexiconSet } from './lexicon.ts';

const valid = {
  schema: 1,
  category: 'drugs',
  version: '1.2.0',
  description: 'drugs',
  languages: ['en', 'pl'],
  terms: [
    { term: 'buy weed', severity: 3 },
    { term: 'narkotyki', severity: 1, lang: 'pl' },
  ],
};

describe('lexicon files', () => {
  it('parses a valid file, defaulting lang to en', () => {
    const l = parseLexicon(valid);
    assert.equal(l.version, '1.2.0');
    assert.equal(l.terms[0]!.lang, 'en');
    assert.deepEqual(l.exceptions, []);
  });

  it('names every problem at once', () => {
    const bad = {
      ...valid,
      version: '2',
      extra: true,
      terms: [
        { term: '', severity: 3 },
        { term: 'x', severity: 6 },
        { term: 'y', severity: 1, lang: 'fr' },
        { term: 'buy weed', severity: 2 },
        { term: 'buy weed', severity: 2 },
        { term: 'kms', severity: 2, fuzzy: true },
        { term: 'z', severity: 2, escalateTo: 5 },
        { term: 'w', severity: 2, unless: 'nope' },
      ],
    };
    assert.throws(
      () => parseLexicon(bad, 'drugs.json'),
      (e: Error) => {
        for (const part of [
          'drugs.json is not valid',
          'extra: unknown field',
          'version: must be a version',
          'terms[0].term',
          'terms[1].severity: must be 1, 2, 3, 4 or 5',
          'terms[2].lang',
          'terms[4]: "buy weed" is already terms[3]',
          'terms[5].fuzzy',
        ])
          assert.ok(e.message.includes(part), `${part} in: ${e.message}`);
        return true;
      },
    );
  });

  it('checks common.json and the set as a whole', () => {
    assert.throws(
      () => parseCommonLexicon({ schema: 1, version: '1.0.0', rewrites: { 'two words': 'x' } }),
      /rewrites\.two words: must be one word/,
    );
    assert.throws(
      () => parseLexiconSet([{ name: 'drug.json', json: valid }]),
      /drug\.json holds the category "drugs".*common\.json is missing.*suicide\.json is missing/,
    );
  });
});
