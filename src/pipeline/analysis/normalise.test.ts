import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldText, normalise, normalisedText, percentDecode, wordsOfUrl } from './normalise.ts';

const forms = (text: string) => normalise(text).map((t) => t.forms);

describe('normaliser', () => {
  it('folds case, compatibility forms, accents, look-alikes and invisible characters', () => {
    assert.equal(foldText('SUICIDE'), 'suicide');
    assert.equal(foldText('ｓｕｉｃｉｄｅ'), 'suicide');
    assert.equal(foldText('ѕuісіdе'), 'suicide'); // Cyrillic ѕ і с і е
    assert.equal(foldText('κιλλ'), 'kill'); // Greek
    assert.equal(foldText('sui\u200bci\u00add\u200de'), 'suicide');
    assert.equal(foldText('samobójstwo'), 'samobojstwo');
    assert.equal(foldText('să mă sinucid'), 'sa ma sinucid');
    assert.equal(foldText('zabić się, głodzić'), 'zabic sie, glodzic');
    assert.equal(foldText('𝐬𝐮𝐢𝐜𝐢𝐝𝐞'), 'suicide'); // mathematical bold
    assert.equal(foldText('خودکُشی'), 'خودکشی'); // a diacritic (zammah) removed
    assert.equal(foldText('خودكشي'), 'خودکشی'); // Arabic kaf and yeh → Urdu forms
  });

  it('reads leetspeak inside words but leaves numbers as numbers', () => {
    assert.deepEqual(forms('k1ll')[0], ['kill', 'klll', 'k1ll', 'kll']);
    assert.equal(normalisedText('$u1c1d3'), 'suicide');
    assert.equal(normalisedText('p0rn'), 'porn');
    assert.equal(normalisedText('m@ke @ bomb'), 'make a bomb');
    assert.deepEqual(forms('2024'), [['2024']]);
    assert.deepEqual(forms('999 year7')[1]![0], 'year7');
    assert.ok(forms('70')[0]!.includes('to'), 'a short number may be a leet word');
    assert.equal(normalisedText('help!'), 'help');
  });

  it('cuts runs of a letter to two, keeping the spelling as typed too', () => {
    assert.deepEqual(forms('killlll')[0], ['killlll', 'kill']);
    assert.deepEqual(forms('xxx')[0], ['xxx', 'xx']);
    assert.deepEqual(forms('kill')[0], ['kill']);
  });

  it('splits on punctuation and spaces (the matcher joins tokens back), and drops apostrophes', () => {
    assert.equal(normalisedText('k.i.l.l my-self'), 'k i l l my self');
    assert.equal(normalisedText("assassin's creed"), 'assassins creed');
  });

  it('rewrites text-speak given a table', () => {
    const rewrites = new Map([
      ['u', 'you'],
      ['2nite', 'tonight'],
    ]);
    assert.equal(normalisedText('u 2nite', { rewrites }), 'you tonight');
  });

  it('pulls the words out of URLs: host labels, path, and the typed text of a search', () => {
    assert.equal(wordsOfUrl('https://www.google.com/search?q=how+to+kms&oq=how&ved=0ahUKE'), 'google search how to kms');
    assert.equal(wordsOfUrl('https://www.youtube.com/results?search_query=sewer%20slide'), 'youtube results sewer slide');
    assert.equal(wordsOfUrl('pornhub.com/view_video.php?viewkey=abc'), 'pornhub view video');
    assert.equal(wordsOfUrl('how to kms'), null);
    assert.equal(wordsOfUrl('https://en.wikipedia.org/wiki/Self-harm'), 'wikipedia wiki Self harm');
    assert.ok(normalise('https://howtokillmyself.example/').every((t) => t.compound));
  });

  it('percent-decodes without throwing, twice for double encoding', () => {
    assert.equal(percentDecode('a%20b'), 'a b');
    assert.equal(percentDecode('%2520'), ' ');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('%E2%9C%93'), '✓');
    assert.equal(percentDecode('%ff'), '\ufffd');
  });

  it('bounds its work on long or strange input', () => {
    assert.ok(normalise('a '.repeat(100_000)).length <= 96);
    assert.ok(normalise('x'.repeat(100_000))[0]!.forms[0]!.length <= 64);
    assert.deepEqual(normalise(''), []);
    assert.deepEqual(normalise('!!! ??? ...'), []);
    assert.doesNotThrow(() => normalise('\ud800\udfff\ud800 %zz %e2%28%a1'));
  });
});
