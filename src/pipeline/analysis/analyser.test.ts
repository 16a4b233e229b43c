import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAnalyser } from './analyser.ts';
import { parseLexiconSet, type RiskCategory } from './lexicon.ts';
import { RISK_CATEGORIES } from './lexicon.ts';

/** A small set: every category present, a few terms with each kind of rule. */
const set = (extra: Partial<Record<RiskCategory, unknown[]>> = {}) =>
  parseLexiconSet([
    {
      name: 'common.json',
      json: {
        schema: 1,
        version: '1.0.0',
        helpSeeking: ['helpline', 'how to help'],
        study: ['gcse', 'history of'],
        exceptions: ['essex', 'assassins creed', 'therapist'],
        rewrites: { u: 'you', '2nite': 'tonight' },
      },
    },
    ...RISK_CATEGORIES.map((category) => ({
      name: `${category}.json`,
      json: {
        schema: 1,
        category,
        version: '1.0.0',
        description: category,
        languages: ['en'],
        terms: extra[category] ?? [{ term: `${category} placeholder`, severity: 1 }],
      },
    })),
  ]);

const analyser = createAnalyser(
  set({
    suicide: [
      { term: 'kill myself', severity: 4, disclosure: true, escalateWith: ['tonight', 'how to'] },
      { term: 'suicide', severity: 3, fuzzy: true },
    ],
    'sexual-content': [{ term: 'sex', severity: 1, wholeWord: true }],
    violence: [
      { term: 'assassin', severity: 2 },
      { term: 'rapist', severity: 3 },
      { term: 'kill', severity: 2, unless: ['weeds'] },
    ],
    drugs: [{ term: 'coke', severity: 1, onlyWith: ['snort', 'buy'] }],
  }),
);

describe('analyse', () => {
  it('grades: the highest severity wins, escalation words make 5', () => {
    assert.deepEqual(analyser.analyse('kill myself'), {
      risk: 'suicide',
      severity: 4,
      matches: [
        { category: 'suicide', term: 'kill myself', severity: 4 },
        { category: 'violence', term: 'kill', severity: 2 },
      ],
      helpSeeking: false,
    });
    assert.equal(analyser.analyse('how to kill myself').severity, 5);
    assert.equal(analyser.analyse('kill myself 2nite').severity, 5);
  });

  it('matches through spacing, dots, leet, look-alikes, repeats and joined words', () => {
    for (const q of [
      'k i l l m y s e l f',
      'k.i.l.l my-self',
      'k1ll mys3lf',
      'кill myself',
      'killlll myyyself',
      'killmyself',
      '#killmyself',
      'killin myself',
    ])
      assert.equal(analyser.analyse(q).risk, 'suicide', q);
    assert.equal(analyser.analyse('sucide').risk, 'suicide', 'one edit away');
    assert.equal(analyser.analyse('suuuiiicide').risk, 'suicide');
    assert.equal(analyser.analyse('https://howtokillmyself.example/').severity, 5);
  });

  it('matches whole words only, with exceptions: no Scunthorpe problem', () => {
    for (const q of [
      'Essex',
      'Sussex',
      'skills',
      'assassins creed',
      "assassin's creed",
      'therapist',
      'https://www.therapist.example/',
      'sextant',
    ])
      assert.equal(analyser.analyse(q).risk, 'none', q);
    assert.equal(analyser.analyse('sex').risk, 'sexual-content');
    assert.equal(analyser.analyse('the rapist').risk, 'violence');
    assert.equal(analyser.analyse('assassin').risk, 'violence');
  });

  it('applies unless and onlyWith', () => {
    assert.equal(analyser.analyse('how to kill weeds').risk, 'none');
    assert.equal(analyser.analyse('diet coke').risk, 'none');
    assert.equal(analyser.analyse('snort coke').risk, 'drugs');
  });

  it('lowers for help-seeking and study, keeps disclosures at 2 and never lowers 5', () => {
    assert.deepEqual(analyser.analyse('suicide helpline'), { risk: 'none', severity: 0, matches: [], helpSeeking: true });
    assert.equal(analyser.analyse('suicide gcse').risk, 'none');
    const disclosure = analyser.analyse('kill myself helpline');
    assert.equal(disclosure.risk, 'suicide');
    assert.equal(disclosure.severity, 2);
    assert.equal(disclosure.helpSeeking, true);
    assert.equal(analyser.analyse('how to kill myself helpline').severity, 5);
  });

  it('answers none for nothing at all', () => {
    for (const q of ['', '   ', '\u0000', 'homework help'])
      assert.deepEqual(analyser.analyse(q), { risk: 'none', severity: 0, matches: [], helpSeeking: false });
  });
});
