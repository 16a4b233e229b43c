import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, decide } from './decide.ts';
import { defaultTrustPolicy } from './defaults.ts';
import { resolvePolicy } from './resolve.ts';
import type { RequestPerson, SchoolPolicy, TrustPolicy } from './types.ts';

const AT = new Date('2026-03-02T10:00:00Z');
const year5: RequestPerson = { kind: 'pupil', groups: ['class-5a'], yearGroup: '5' };
const year10: RequestPerson = { kind: 'pupil', groups: [], yearGroup: '10' };

const action = (trust: TrustPolicy, school: SchoolPolicy, person: RequestPerson, category: string | null, host = 'x.example') =>
  decide(compilePolicy(resolvePolicy(trust, school)), { host, at: AT, person }, { category, source: null, illegal: false });

describe('resolvePolicy: trust defaults inherited by schools', () => {
  it('gives a school with no changes exactly the trust policy', () => {
    const trust = defaultTrustPolicy('trust-1', 'Oak Trust');
    const p = resolvePolicy(trust, { schoolId: 'school-1' });
    assert.equal(p.id, 'school-1');
    assert.equal(p.name, 'Oak Trust');
    assert.equal(p.timeZone, 'Europe/London');
    assert.deepEqual(p.profiles, trust.profiles);
    assert.deepEqual(p.rules, trust.rules);
    assert.deepEqual(p.allowList, trust.allowList);
    assert.deepEqual(p.baseline, trust.baseline);
    assert.deepEqual(p.teacherOverrides, trust.teacherOverrides);
    assert.deepEqual(p.overrides, []);
  });

  it('lets a school change one category of one profile and keep the rest', () => {
    const school: SchoolPolicy = { schoolId: 's', profiles: [{ id: 'ks2', actions: { games: 'warn' }, youtube: 'moderate' }] };
    const d = action(defaultTrustPolicy(), school, year5, 'games');
    assert.equal(d.action, 'warn');
    assert.equal(d.youtube, 'moderate');
    assert.equal(action(defaultTrustPolicy(), school, year5, 'gambling').action, 'block');
    assert.equal(action(defaultTrustPolicy(), school, year5, 'games').safeSearch, true);
  });

  it('checks a school’s own profile before the trust’s profiles', () => {
    const school: SchoolPolicy = {
      schoolId: 's',
      profiles: [
        { id: 'nurture', label: 'Nurture group', audience: { groups: ['nurture'] }, actions: { streaming: 'block' }, youtube: 'strict' },
      ],
    };
    const d = action(defaultTrustPolicy(), school, { ...year10, groups: ['nurture'] }, 'streaming');
    assert.equal(d.action, 'block');
    assert.equal(d.rule?.id, 'profile:nurture');
    assert.equal(action(defaultTrustPolicy(), school, year10, 'streaming').action, 'allow');
  });

  it('puts the trust’s enforced rules first, then the school’s rules, then the trust’s other rules', () => {
    const trust = defaultTrustPolicy();
    trust.rules = [
      { id: 'trust-open', description: 'Trust: shopping warn', audience: { kinds: ['pupil'] }, actions: { shopping: 'warn' } },
      {
        id: 'trust-enforced',
        description: 'Trust: no dating',
        audience: { kinds: ['pupil'] },
        actions: { dating: 'block' },
        enforced: true,
      },
    ];
    const school: SchoolPolicy = {
      schoolId: 's',
      rules: [
        {
          id: 'school-rule',
          description: 'School: shopping and dating allowed',
          audience: { kinds: ['pupil'] },
          actions: { shopping: 'allow', dating: 'allow' },
        },
      ],
    };
    assert.deepEqual(
      resolvePolicy(trust, school).rules.map((r) => r.id),
      ['trust-enforced', 'school-rule', 'trust-open'],
    );
    assert.equal(action(trust, school, year10, 'shopping').action, 'allow');
    assert.equal(action(trust, school, year10, 'dating').action, 'block');
  });

  it('lets a school switch off a trust rule, but not an enforced one', () => {
    const trust = defaultTrustPolicy();
    trust.rules.push({ id: 'enforced', description: 'e', audience: {}, actions: { shopping: 'block' }, enforced: true });
    const p = resolvePolicy(trust, { schoolId: 's', disabledTrustRules: ['years-7-8-minimum-age', 'enforced'] });
    assert.deepEqual(
      p.rules.map((r) => r.id),
      ['enforced', 'at-risk-contact'],
    );
  });

  it('adds school list entries to the trust’s, and removes trust entries the school drops unless enforced', () => {
    const trust = defaultTrustPolicy();
    trust.blockList = [{ pattern: 'tiktok.com', enforced: true }, { pattern: 'roblox.com' }];
    const p = resolvePolicy(trust, {
      schoolId: 's',
      blockList: [{ pattern: 'example.org' }],
      allowList: [{ pattern: 'mathsbot.com' }],
      removedTrustEntries: ['https://ROBLOX.com/', 'tiktok.com', 'ttrockstars.com'],
    });
    assert.deepEqual(
      p.blockList.map((e) => e.pattern),
      ['tiktok.com', 'example.org'],
    );
    assert.ok(p.allowList.some((e) => e.pattern === 'mathsbot.com'));
    assert.ok(!p.allowList.some((e) => e.pattern === 'ttrockstars.com'));
    assert.ok(p.allowList.some((e) => e.pattern === 'topmarks.co.uk'));
  });

  it('merges the trust baseline, teacher settings and places, and replaces term dates', () => {
    const trust = defaultTrustPolicy();
    trust.terms = [{ name: 'Autumn', from: '2026-09-03', to: '2026-12-18' }];
    trust.places = [{ id: 'main', label: 'Main site', cidrs: ['10.0.0.0/16'] }];
    const p = resolvePolicy(trust, {
      schoolId: 's',
      baseline: { games: 'allow' },
      teacherOverrides: { maxMinutes: 60 },
      terms: [{ name: 'Autumn', from: '2026-09-07', to: '2026-12-18' }],
      places: [
        { id: 'main', label: 'Main site', cidrs: ['10.9.0.0/16'] },
        { id: 'annex', label: 'Annex', cidrs: ['10.8.0.0/16'] },
      ],
    });
    assert.equal(p.baseline.games, 'allow');
    assert.equal(p.baseline.gambling, 'block');
    assert.equal(p.teacherOverrides.maxMinutes, 60);
    assert.deepEqual(p.teacherOverrides.categories, trust.teacherOverrides.categories);
    assert.equal(p.terms[0]!.from, '2026-09-07');
    assert.deepEqual(
      p.places.map((x) => `${x.id}:${x.cidrs.join()}`),
      ['main:10.9.0.0/16', 'annex:10.8.0.0/16'],
    );
    assert.deepEqual(resolvePolicy(trust, { schoolId: 's' }).terms, trust.terms);
  });

  it('does not change the trust or school objects', () => {
    const trust = defaultTrustPolicy();
    const school: SchoolPolicy = { schoolId: 's', profiles: [{ id: 'ks2', actions: { games: 'allow' } }] };
    const before = structuredClone({ trust, school });
    const p = resolvePolicy(trust, school);
    p.profiles.find((x) => x.id === 'ks2')!.actions.games = 'warn';
    p.rules.pop();
    assert.deepEqual({ trust, school }, before);
  });

  it('keeps a school’s teacher overrides', () => {
    const p = resolvePolicy(defaultTrustPolicy(), {
      schoolId: 's',
      overrides: [
        {
          id: 'o',
          audience: { groups: ['class-5a'] },
          categories: ['games'],
          startsAt: '2026-03-02T09:00:00Z',
          expiresAt: '2026-03-02T11:00:00Z',
          createdBy: 't',
          reason: 'Golden time',
        },
      ],
    });
    const d = decide(compilePolicy(p), { host: 'poki.com', at: AT, person: year5 }, { category: 'games', source: null, illegal: false });
    assert.equal(d.overrideId, 'o');
  });
});
