import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { examplePerson } from './audience.ts';
import { CATEGORY_IDS, HAVEN_CATEGORIES, isLockedCategory } from './categories.ts';
import { compilePolicy, decide } from './decide.ts';
import { DEFAULT_ACTION_TABLE, DEFAULT_TABLE_COLUMNS, defaultPolicyTableMarkdown, defaultTrustPolicy } from './defaults.ts';
import { resolvePolicy } from './resolve.ts';
import type { Decision, RequestPerson } from './types.ts';
import { validatePolicy } from './validate.ts';

const AT = new Date('2026-03-02T10:00:00Z');
const compiled = compilePolicy(resolvePolicy(defaultTrustPolicy(), { schoolId: 'school-1' }));
const ask = (person: RequestPerson | null, host: string, category: string | null, url?: string): Decision =>
  decide(compiled, { host, url, at: AT, person }, { category, source: category ? `test/${category}` : null, illegal: false });

const year = (y: string, extra: Partial<RequestPerson> = {}): RequestPerson => ({ kind: 'pupil', groups: [], yearGroup: y, ...extra });
const reception = year('R');
const year5 = year('5');
const staff: RequestPerson = { kind: 'staff', groups: [] };

describe('default policy', () => {
  it('validates without errors', () => {
    const trust = defaultTrustPolicy();
    assert.deepEqual(
      validatePolicy(trust).filter((p) => p.severity === 'error'),
      [],
    );
    assert.deepEqual(
      validatePolicy(resolvePolicy(trust, { schoolId: 's' })).filter((p) => p.severity === 'error'),
      [],
    );
  });

  it('has a row for every category a policy can set, and blocks every locked category for everyone', () => {
    assert.deepEqual(Object.keys(DEFAULT_ACTION_TABLE).sort(), [...CATEGORY_IDS.filter((c) => c !== 'illegal'), 'uncategorised'].sort());
    for (const c of HAVEN_CATEGORIES) {
      if (c.id === 'illegal' || !c.locked) continue;
      assert.deepEqual(DEFAULT_ACTION_TABLE[c.id], ['block', 'block', 'block', 'block', 'block'], c.id);
    }
  });

  it('blocks every UKSIC harm for every pupil and guest column, and opens every allow-list category for everyone', () => {
    const pupilsAndGuests = DEFAULT_TABLE_COLUMNS.map((c, i) => [c, i] as const).filter(([c]) => c !== 'staff');
    for (const c of HAVEN_CATEGORIES) {
      if (c.id === 'illegal') continue;
      const row = DEFAULT_ACTION_TABLE[c.id];
      if (c.uksic && c.id !== 'misinformation') for (const [col, i] of pupilsAndGuests) assert.equal(row[i], 'block', `${c.id} for ${col}`);
      if (c.kind === 'allow-list') assert.deepEqual(row, ['allow', 'allow', 'allow', 'allow', 'allow'], c.id);
    }
  });

  it('hands out fresh copies', () => {
    const a = defaultTrustPolicy();
    a.profiles[0]!.actions.games = 'block';
    a.teacherOverrides.categories.push('chat');
    const b = defaultTrustPolicy();
    assert.equal(b.profiles[0]!.actions.games, 'allow');
    assert.ok(!b.teacherOverrides.categories.includes('chat'));
  });

  it('lets teachers open only unlocked categories', () => {
    for (const c of defaultTrustPolicy().teacherOverrides.categories) assert.equal(isLockedCategory(c), false, c);
  });

  describe('a Key Stage 2 pupil', () => {
    it('can use learning games that lists file under games (ttrockstars.com), but not other games', () => {
      const tt = ask(year5, 'play.ttrockstars.com', 'games');
      assert.equal(tt.action, 'allow');
      assert.equal(tt.layer, 'allow-list');
      assert.equal(ask(year5, 'www.bbc.co.uk', 'education', 'https://www.bbc.co.uk/bitesize/primary').action, 'allow');
      assert.equal(ask(year5, 'poki.com', 'games').action, 'block');
      assert.equal(ask(year5, 'mathgames.example', 'educational-games').action, 'allow');
    });

    it('can reach sex education, education and help sites, even a help site a list mis-filed as self-harm', () => {
      assert.equal(ask(year5, 'rse.example', 'sex-education').action, 'allow');
      assert.equal(ask(year5, 'school.example', 'education').action, 'allow');
      assert.equal(ask(year5, 'help.example', 'help-services').action, 'allow');
      assert.equal(ask(year5, 'www.childline.org.uk', 'self-harm').action, 'allow');
    });

    it('is blocked from pornography, gambling, social networks and chat', () => {
      for (const c of ['pornography', 'gambling', 'social-networks', 'chat', 'dating', 'circumvention'])
        assert.equal(ask(year5, 'x.example', c).action, 'block', c);
    });

    it('gets SafeSearch and strict YouTube, and flagged school web mail', () => {
      const d = ask(year5, 'x.example', null);
      assert.deepEqual([d.action, d.safeSearch, d.youtube], ['allow', true, 'strict']);
      assert.equal(ask(year5, 'mail.example', 'webmail').action, 'allow-and-flag');
    });
  });

  describe('EYFS and Key Stage 1', () => {
    it('is filtered like KS2 but without web mail, with strict YouTube', () => {
      assert.equal(ask(reception, 'mail.example', 'webmail').action, 'block');
      assert.equal(ask(year('2'), 'poki.com', 'games').action, 'block');
      assert.equal(ask(reception, 'x.example', null).youtube, 'strict');
      assert.equal(ask(reception, 'rse.example', 'sex-education').action, 'allow');
    });
  });

  describe('Key Stages 3–5', () => {
    it('keeps social networks and AI chat closed in Years 7–8 (minimum age 13) and allows and flags them from Year 9', () => {
      const y7 = ask(year('7'), 'instagram.com', 'social-networks');
      assert.equal(y7.action, 'block');
      assert.equal(y7.rule?.id, 'years-7-8-minimum-age');
      assert.equal(ask(year('8'), 'chat.ai.example', 'generative-ai').action, 'block');
      const y9 = ask(year('9'), 'instagram.com', 'social-networks');
      assert.equal(y9.action, 'allow-and-flag');
      assert.equal(y9.flagged, true);
      assert.equal(ask(year('12'), 'chat.ai.example', 'generative-ai').action, 'allow-and-flag');
    });

    it('warns on games and misinformation and gives moderate YouTube', () => {
      assert.equal(ask(year('10'), 'poki.com', 'games').action, 'warn');
      assert.equal(ask(year('10'), 'fake.example', 'misinformation').action, 'warn');
      assert.equal(ask(year('10'), 'x.example', null).youtube, 'moderate');
    });

    it('closes contact channels for a pupil flagged at-risk', () => {
      const d = ask(year('10', { flags: ['at-risk'] }), 'instagram.com', 'social-networks');
      assert.equal(d.action, 'block');
      assert.equal(d.rule?.id, 'at-risk-contact');
    });
  });

  describe('staff', () => {
    it('can open social networks, games and gambling, but never locked categories or piracy', () => {
      for (const c of ['social-networks', 'games', 'gambling', 'chat', 'hacking'])
        assert.equal(ask(staff, 'x.example', c).action, 'allow', c);
      for (const c of ['pornography', 'self-harm', 'extremism', 'malware', 'circumvention', 'piracy'])
        assert.equal(ask(staff, 'x.example', c).action, 'block', c);
    });

    it('keeps SafeSearch on (classroom projectors) with YouTube unrestricted', () => {
      const d = ask(staff, 'x.example', null);
      assert.deepEqual([d.safeSearch, d.youtube], [true, 'off']);
    });
  });

  describe('guests and unidentified devices', () => {
    it('get SafeSearch, moderate YouTube and pupil-strength harm filtering', () => {
      for (const guest of [null, { kind: 'visitor', groups: [] } as RequestPerson]) {
        const d = ask(guest, 'x.example', null);
        assert.deepEqual([d.safeSearch, d.youtube], [true, 'moderate']);
        assert.equal(ask(guest, 'x.example', 'gambling').action, 'block');
        assert.equal(ask(guest, 'x.example', 'pornography').action, 'block');
        assert.equal(ask(guest, 'x.example', 'social-networks').action, 'allow');
        assert.equal(ask(guest, 'x.example', 'games').action, 'warn');
      }
    });
  });

  it('filters a pupil with no year group like the youngest until the record is fixed', () => {
    const d = ask({ kind: 'pupil', groups: [] }, 'mail.example', 'webmail');
    assert.equal(d.action, 'block');
    assert.equal(d.rule?.id, 'profile:pupil-unknown');
  });

  it('has an example person for each profile that the profile covers (for haven classify --group and self-checks)', () => {
    for (const profile of compiled.source.profiles) {
      const person = examplePerson(profile.audience);
      assert.ok(person, profile.id);
      assert.equal(ask(person, 'x.example', null).rule?.id, `profile:${profile.id}`);
    }
    assert.equal(examplePerson({ groups: [] }), null);
  });

  it('leaves uncategorised sites open for everyone (over-blocking is a harm too)', () => {
    for (const p of [reception, year5, year('10'), staff, null]) assert.equal(ask(p, 'unknown.example', null).action, 'allow');
  });

  it('is the table in docs/decisions/0005-filtering-policy-model.md', () => {
    const doc = readFileSync(new URL('../../../docs/decisions/0005-filtering-policy-model.md', import.meta.url), 'utf8');
    const section = /<!-- default-table:start -->\n([\s\S]*?)\n<!-- default-table:end -->/.exec(doc)?.[1];
    assert.ok(section, 'the default-table markers are missing');
    assert.equal(
      section,
      defaultPolicyTableMarkdown(),
      'regenerate: node --import tsx -e "import(\'./src/core/policy/index.ts\').then(m=>console.log(m.defaultPolicyTableMarkdown()))"',
    );
  });
});
