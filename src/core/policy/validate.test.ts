import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTrustPolicy } from './defaults.ts';
import { resolvePolicy } from './resolve.ts';
import type { ActionMap, FilterPolicy, PolicyRule, SchoolPolicy, TeacherOverride } from './types.ts';
import { policyErrors, validatePolicy, type PolicyProblem } from './validate.ts';

const school = (): FilterPolicy => resolvePolicy(defaultTrustPolicy(), { schoolId: 'school-1' });
const withRule = (r: Partial<PolicyRule>): FilterPolicy => ({
  ...school(),
  rules: [{ id: 'r', description: 'A rule', audience: { kinds: ['pupil'] }, actions: { games: 'allow' }, ...r }],
});
const override = (over: Partial<TeacherOverride> = {}): TeacherOverride => ({
  id: 'ov',
  audience: { groups: ['class-6b'] },
  categories: ['games'],
  startsAt: '2026-03-02T09:00:00Z',
  expiresAt: '2026-03-02T10:00:00Z',
  createdBy: 'teacher-1',
  reason: 'Golden time',
  ...over,
});
const withOverride = (o: Partial<TeacherOverride>): FilterPolicy => ({ ...school(), overrides: [override(o)] });

const at = (problems: PolicyProblem[], path: string, severity: 'error' | 'warning' = 'error') =>
  problems.filter((p) => p.path === path && p.severity === severity).map((p) => p.message);
const only = (problems: PolicyProblem[], severity: 'error' | 'warning' = 'error') =>
  problems.filter((p) => p.severity === severity).map((p) => p.path);

describe('validatePolicy', () => {
  it('accepts the default trust policy and the school policy resolved from it', () => {
    assert.deepEqual(policyErrors(defaultTrustPolicy()), []);
    assert.deepEqual(validatePolicy(school()), []);
  });

  describe('categories and actions', () => {
    it('refuses unknown categories and actions', () => {
      const p = withRule({ actions: { gamez: 'allow', games: 'maybe' } as unknown as ActionMap });
      assert.deepEqual(at(validatePolicy(p), 'rules[0].actions.gamez'), ['Unknown category "gamez"']);
      assert.match(at(validatePolicy(p), 'rules[0].actions.games')[0]!, /Unknown action "maybe"/);
    });

    it('refuses opening a locked category for pupils, but only warns for staff', () => {
      const pupils = validatePolicy(withRule({ actions: { pornography: 'warn' } }));
      assert.match(at(pupils, 'rules[0].actions.pornography')[0]!, /locked category: it can only be opened for staff, not for pupils/);
      const staff = validatePolicy(withRule({ audience: { kinds: ['staff'] }, actions: { malware: 'allow' } }));
      assert.deepEqual(only(staff), []);
      assert.match(at(staff, 'rules[0].actions.malware', 'warning')[0]!, /deliberate, recorded decision/);
      const everyone = validatePolicy({ ...school(), baseline: { ...school().baseline, 'self-harm': 'allow' } });
      assert.deepEqual(only(everyone), ['baseline.self-harm']);
    });

    it('warns that blocking an allow-list category is over-blocking', () => {
      const problems = validatePolicy(withRule({ actions: { 'help-services': 'block' } }));
      assert.deepEqual(only(problems), []);
      assert.match(at(problems, 'rules[0].actions.help-services', 'warning')[0]!, /over-blocking/);
    });

    it('accepts uncategorised as a key (walled garden)', () => {
      assert.deepEqual(only(validatePolicy(withRule({ actions: { uncategorised: 'block' } }))), []);
    });
  });

  describe('time windows', () => {
    it('refuses bad times, equal start and end, unknown days and impossible dates', () => {
      assert.deepEqual(only(validatePolicy(withRule({ when: { from: '8:00', to: '25:00' } }))), ['rules[0].when.from', 'rules[0].when.to']);
      assert.deepEqual(only(validatePolicy(withRule({ when: { from: '12:00', to: '12:00' } }))), ['rules[0].when']);
      assert.deepEqual(only(validatePolicy(withRule({ when: { days: ['monday' as 'mon'] } }))), ['rules[0].when.days[0]']);
      assert.deepEqual(only(validatePolicy(withRule({ when: { dates: [{ from: '2026-02-30', to: '2026-03-01' }] } }))), [
        'rules[0].when.dates[0].from',
      ]);
      assert.deepEqual(only(validatePolicy(withRule({ when: { dates: [{ from: '2026-03-05', to: '2026-03-01' }] } }))), [
        'rules[0].when.dates[0]',
      ]);
    });

    it('accepts windows across midnight and an end of 24:00', () => {
      assert.deepEqual(only(validatePolicy(withRule({ when: { days: ['fri'], from: '22:00', to: '06:00' } }))), []);
      assert.deepEqual(only(validatePolicy(withRule({ when: { from: '18:00', to: '24:00' } }))), []);
    });

    it('refuses a term-time rule when the policy has no term dates', () => {
      assert.deepEqual(only(validatePolicy(withRule({ when: { termTime: 'term' } }))), ['rules[0].when.termTime']);
      const withTerms = {
        ...withRule({ when: { termTime: 'holiday' } }),
        terms: [{ name: 'Spring', from: '2026-01-05', to: '2026-03-27' }],
      };
      assert.deepEqual(only(validatePolicy(withTerms)), []);
    });

    it('checks term dates and warns when terms overlap', () => {
      const p = {
        ...school(),
        terms: [
          { name: 'Spring', from: '2026-01-05', to: '2026-03-27' },
          { name: 'Summer', from: '2026-03-20', to: '2026-07-22' },
          { name: '', from: '2026-13-01', to: '2026-12-01' },
        ],
      };
      const problems = validatePolicy(p);
      assert.deepEqual(only(problems), ['terms[2].name', 'terms[2].from']);
      assert.deepEqual(at(problems, 'terms[1]', 'warning'), ['Overlaps Spring']);
    });
  });

  describe('places', () => {
    it('refuses bad CIDRs and references to places that do not exist', () => {
      const p = {
        ...withRule({ places: ['library', '10.0.0.0/8', '2001:db8::/32', 'gym', '10.0.0.0/40'] }),
        places: [{ id: 'library', label: 'Library', cidrs: ['10.1.0.0/16', '10.1.0.0/99', 'fe80::/10'] }],
      };
      assert.deepEqual(only(validatePolicy(p)), ['places[0].cidrs[1]', 'rules[0].places[3]', 'rules[0].places[4]']);
    });
  });

  describe('lists', () => {
    it('refuses patterns that are not hosts or URLs and warns on duplicates, both-list entries and whole TLDs', () => {
      const p = {
        ...school(),
        blockList: [{ pattern: 'tiktok.com' }, { pattern: 'https://TikTok.com/' }, { pattern: 'not a host' }, { pattern: 'xxx' }],
        allowList: [{ pattern: 'tiktok.com' }],
      };
      const problems = validatePolicy(p);
      assert.deepEqual(only(problems), ['blockList[2].pattern']);
      assert.deepEqual(only(problems, 'warning'), ['blockList[1].pattern', 'blockList[3].pattern', 'allowList[0].pattern']);
    });
  });

  describe('teacher overrides', () => {
    it('accepts a well-formed override', () => {
      assert.deepEqual(validatePolicy(withOverride({})), []);
    });

    it('refuses an override on a locked category', () => {
      const problems = validatePolicy(withOverride({ categories: ['pornography'] }));
      assert.deepEqual(at(problems, 'overrides[0].categories[0]'), ['Pornography is a locked category: teachers can never open it']);
    });

    it('refuses a category the policy does not let teachers open, and single sites when they are not allowed', () => {
      assert.deepEqual(at(validatePolicy(withOverride({ categories: ['gambling'] })), 'overrides[0].categories[0]'), [
        'The policy does not let teachers open Gambling',
      ]);
      const noSites = {
        ...withOverride({ categories: [], sites: ['poki.com'] }),
        teacherOverrides: { ...school().teacherOverrides, sites: false },
      };
      assert.deepEqual(only(validatePolicy(noSites)), ['overrides[0].sites']);
    });

    it('refuses a locked category in the settings', () => {
      const p = { ...school(), teacherOverrides: { ...school().teacherOverrides, categories: ['extremism' as const] } };
      assert.deepEqual(only(validatePolicy(p)), ['teacherOverrides.categories[0]']);
    });

    it('needs a group scope, an expiry after the start within the maximum, an author, a reason and something to open', () => {
      assert.deepEqual(only(validatePolicy(withOverride({ audience: { kinds: ['pupil'] } }))), ['overrides[0].audience']);
      assert.deepEqual(only(validatePolicy(withOverride({ expiresAt: '' }))), ['overrides[0].expiresAt']);
      assert.deepEqual(only(validatePolicy(withOverride({ expiresAt: '2026-03-02T08:00:00Z' }))), ['overrides[0].expiresAt']);
      assert.match(at(validatePolicy(withOverride({ expiresAt: '2026-03-02T17:01:00Z' })), 'overrides[0].expiresAt')[0]!, /480 minutes/);
      assert.deepEqual(only(validatePolicy(withOverride({ createdBy: ' ', reason: '' }))), [
        'overrides[0].createdBy',
        'overrides[0].reason',
      ]);
      assert.deepEqual(only(validatePolicy(withOverride({ categories: [], sites: [] }))), ['overrides[0]']);
      assert.deepEqual(only(validatePolicy(withOverride({ categories: [], sites: ['bad host!'] }))), ['overrides[0].sites[0]']);
    });

    it('caps the longest override at a week', () => {
      const p = { ...school(), teacherOverrides: { ...school().teacherOverrides, maxMinutes: 20_000 } };
      assert.deepEqual(only(validatePolicy(p)), ['teacherOverrides.maxMinutes']);
    });
  });

  describe('ids, audiences and profiles', () => {
    it('refuses duplicate ids and unknown audience values, and warns on empty ones', () => {
      const r: PolicyRule = { id: 'r', description: 'd', audience: { kinds: ['pupil'] }, actions: { games: 'allow' } };
      const p = { ...school(), rules: [r, { ...r, audience: { yearGroups: ['14'], keyStages: ['KS9' as 'KS1'], groups: [] } }] };
      const problems = validatePolicy(p);
      assert.deepEqual(only(problems), ['rules[1].id', 'rules[1].audience.keyStages[0]', 'rules[1].audience.yearGroups[0]']);
      assert.deepEqual(at(problems, 'rules[1].audience.groups', 'warning'), ['No group chosen: this matches nobody']);
    });

    it('warns about a profile that matches everyone before others', () => {
      const p = school();
      p.profiles.unshift({ id: 'all', label: 'everyone', audience: {}, actions: {}, safeSearch: true, youtube: 'strict' });
      assert.deepEqual(at(validatePolicy(p), 'profiles[0].audience', 'warning'), [
        'Matches everyone: the profiles after it are never used',
      ]);
    });

    it('warns about a rule that does nothing', () => {
      assert.deepEqual(only(validatePolicy(withRule({ actions: {} })), 'warning'), ['rules[0]']);
    });

    it('refuses an unknown time zone', () => {
      assert.deepEqual(only(validatePolicy({ ...school(), timeZone: 'Europe/Londres' })), ['timeZone']);
    });
  });

  describe('a school policy against its trust', () => {
    const trust = () => {
      const t = defaultTrustPolicy();
      t.rules.push({ id: 'enforced', description: 'No dating', audience: {}, actions: { dating: 'block' }, enforced: true });
      t.blockList.push({ pattern: 'tiktok.com', enforced: true });
      return t;
    };

    it('accepts changes to inherited profiles without repeating their audience', () => {
      const s: SchoolPolicy = { schoolId: 's', profiles: [{ id: 'ks2', actions: { games: 'warn' } }] };
      assert.deepEqual(validatePolicy(s, { trust: trust() }), []);
    });

    it('needs a label and audience for a new profile, and checks locked categories against the inherited audience', () => {
      const s: SchoolPolicy = {
        schoolId: 's',
        profiles: [
          { id: 'new', actions: {} },
          { id: 'ks2', actions: { weapons: 'allow' } },
        ],
      };
      assert.deepEqual(only(validatePolicy(s, { trust: trust() })), ['profiles[0]', 'profiles[1].actions.weapons']);
    });

    it('refuses switching off an enforced trust rule or removing an enforced entry, and warns on unknown rule ids', () => {
      const s: SchoolPolicy = {
        schoolId: 's',
        disabledTrustRules: ['enforced', 'nope', 'at-risk-contact'],
        removedTrustEntries: ['tiktok.com', 'ttrockstars.com'],
      };
      const problems = validatePolicy(s, { trust: trust() });
      assert.deepEqual(only(problems), ['disabledTrustRules[0]', 'removedTrustEntries[0]']);
      assert.deepEqual(only(problems, 'warning'), ['disabledTrustRules[1]']);
    });

    it('refuses a school rule that reuses a trust rule id, and checks places and terms it inherits', () => {
      const t = trust();
      t.places = [{ id: 'main', label: 'Main', cidrs: ['10.0.0.0/16'] }];
      t.terms = [{ name: 'Spring', from: '2026-01-05', to: '2026-03-27' }];
      const s: SchoolPolicy = {
        schoolId: 's',
        rules: [
          { id: 'at-risk-contact', description: 'dup', audience: {}, actions: { games: 'block' } },
          { id: 'mine', description: 'mine', audience: {}, places: ['main'], when: { termTime: 'term' }, actions: { games: 'block' } },
        ],
      };
      assert.deepEqual(only(validatePolicy(s, { trust: t })), ['rules[0].id']);
    });

    it('checks teacher overrides against the inherited settings', () => {
      const s: SchoolPolicy = { schoolId: 's', teacherOverrides: { maxMinutes: 30 }, overrides: [override()] };
      assert.match(at(validatePolicy(s, { trust: trust() }), 'overrides[0].expiresAt')[0]!, /30 minutes/);
    });
  });
});
