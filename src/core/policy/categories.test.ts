import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CATEGORY_IDS,
  HAVEN_CATEGORIES,
  isAllowListCategory,
  isCategoryId,
  isLockedCategory,
  LOCKED_CATEGORIES,
  pickCategory,
} from './categories.ts';

describe('Haven categories', () => {
  it('has unique ids in the form category maps use (lower case, hyphens)', () => {
    assert.equal(new Set(CATEGORY_IDS).size, CATEGORY_IDS.length);
    for (const id of CATEGORY_IDS) assert.match(id, /^[a-z][a-z0-9-]*$/);
  });

  it('covers every UKSIC filtering category and the ones the issue names', () => {
    for (const id of [
      'illegal',
      'pornography',
      'gambling',
      'drugs',
      'discrimination',
      'extremism',
      'self-harm',
      'violence',
      'weapons',
      'malware',
      'phishing',
      'hacking',
      'piracy',
      'circumvention',
      'social-networks',
      'games',
      'chat',
      'dating',
      'shopping',
      'misinformation',
    ]) {
      assert.ok(isCategoryId(id), id);
    }
  });

  it('keeps sex education, education, child-safe, learning games and help services as allow-list categories', () => {
    for (const id of ['sex-education', 'education', 'child-safe', 'educational-games', 'help-services'])
      assert.ok(isAllowListCategory(id), id);
    assert.equal(isAllowListCategory('pornography'), false);
  });

  it('locks the categories teachers may never open', () => {
    for (const id of ['illegal', 'pornography', 'malware', 'phishing', 'self-harm', 'extremism', 'weapons', 'circumvention']) {
      assert.ok(isLockedCategory(id), id);
    }
    for (const id of ['games', 'social-networks', 'misinformation', 'streaming', 'sex-education'])
      assert.equal(isLockedCategory(id), false, id);
    assert.deepEqual(
      LOCKED_CATEGORIES,
      HAVEN_CATEGORIES.filter((c) => c.locked).map((c) => c.id),
    );
  });

  it('gives every category a label and a description', () => {
    for (const c of HAVEN_CATEGORIES) {
      assert.ok(c.label.length > 0 && c.description.length > 0, c.id);
    }
  });

  describe('pickCategory (tie-break for one host in several categories)', () => {
    it('lets the illegal tier and security threats beat everything', () => {
      assert.equal(pickCategory(['education', 'illegal']), 'illegal');
      assert.equal(pickCategory(['sex-education', 'malware']), 'malware');
      assert.equal(pickCategory(['education', 'phishing']), 'phishing');
    });

    it('lets a curated allow-list category beat a content category, so sex education is not mis-blocked as pornography', () => {
      assert.equal(pickCategory(['pornography', 'sex-education']), 'sex-education');
      assert.equal(pickCategory(['games', 'educational-games']), 'educational-games');
      assert.equal(pickCategory(['self-harm', 'help-services']), 'help-services');
    });

    it('prefers harms over distractions, known over unknown, and keeps the first of equals', () => {
      assert.equal(pickCategory(['games', 'gambling']), 'gambling');
      assert.equal(pickCategory(['mystery', 'games']), 'games');
      assert.equal(pickCategory(['x', 'y']), 'x');
      assert.equal(pickCategory([]), null);
    });
  });
});
