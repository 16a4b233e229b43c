/**
 * The illegal-content tier (IWF, CTIRU) cannot be switched off "by anyone, at any level". Each way
 * someone might try is refused when the policy is validated, and if such a policy is forced past
 * validation (a bug, a hand-edited database), decide still blocks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, decide } from './decide.ts';
import { defaultTrustPolicy } from './defaults.ts';
import { resolvePolicy } from './resolve.ts';
import type { ActionMap, ClassificationResult, FilterPolicy, RequestPerson, SchoolPolicy } from './types.ts';
import { validatePolicy } from './validate.ts';

const AT = new Date('2026-03-02T10:00:00Z');
const HOST = 'bad.example';
const ILLEGAL: ClassificationResult = { category: 'illegal', source: 'iwf/url-list', illegal: true };
/** The tier matched, but a category list also knows the host as something harmless. */
const ILLEGAL_BUT_EDUCATION: ClassificationResult = { category: 'education', source: 'ctiru/list', illegal: true };
/** A category of 'illegal' without the flag is still the tier. */
const ILLEGAL_CATEGORY_ONLY: ClassificationResult = { category: 'illegal', source: 'iwf/url-list', illegal: false };

const pupil: RequestPerson = { kind: 'pupil', groups: ['class-6b'], yearGroup: '6' };
const staff: RequestPerson = { kind: 'staff', groups: ['staff', 'it-admins', 'dsl'] };
const allowIllegal = { illegal: 'allow' } as unknown as ActionMap;

const school = (): FilterPolicy => resolvePolicy(defaultTrustPolicy(), { schoolId: 'school-1' });

const errorsAt = (problems: ReturnType<typeof validatePolicy>, path: string) =>
  problems.filter((p) => p.severity === 'error' && p.path.startsWith(path));

const assertBlocked = (policy: FilterPolicy, person: RequestPerson | null) => {
  const compiled = compilePolicy(policy);
  for (const classification of [ILLEGAL, ILLEGAL_BUT_EDUCATION, ILLEGAL_CATEGORY_ONLY]) {
    const d = decide(compiled, { host: HOST, url: `http://${HOST}/page`, at: AT, person }, classification);
    assert.equal(d.action, 'block');
    assert.equal(d.layer, 'illegal');
    assert.equal(d.category, 'illegal');
    assert.equal(d.flagged, true);
    assert.equal(d.overrideId, undefined);
  }
};

describe('illegal-content tier: nothing can allow it', () => {
  it('blocks for every kind of person under the default policy', () => {
    for (const person of [pupil, staff, null, { kind: 'visitor', groups: [] } as RequestPerson]) assertBlocked(school(), person);
  });

  it('gives a generic reason that names neither the list nor the URL', () => {
    const d = decide(compilePolicy(school()), { host: HOST, url: `http://${HOST}/secret-path`, at: AT, person: pupil }, ILLEGAL);
    assert.equal(d.reason, 'This page is blocked for everyone because it is on a list of illegal content that UK schools must block.');
    assert.doesNotMatch(d.reason, /iwf|ctiru|bad\.example|secret/i);
    // The source stays in the decision for the log, which block pages do not show.
    assert.equal(d.source, 'iwf/url-list');
  });

  describe('an allow-list entry for the host', () => {
    const policy = () => ({ ...school(), allowList: [{ pattern: HOST }, { pattern: `${HOST}/page` }] });

    it('is refused at validation when the illegal tier knows the site', () => {
      const problems = validatePolicy(policy(), { isIllegal: (site) => site === HOST || site.startsWith(`${HOST}/`) });
      assert.equal(errorsAt(problems, 'allowList').length, 2);
      assert.doesNotMatch(errorsAt(problems, 'allowList')[0]!.message, /iwf|ctiru/i);
    });

    it('still blocks if forced through', () => {
      assertBlocked(policy(), pupil);
      assertBlocked(policy(), staff);
    });
  });

  describe('a rule allowing illegal', () => {
    const policy = (): FilterPolicy => ({
      ...school(),
      rules: [{ id: 'open-all', description: 'Open everything', audience: {}, actions: allowIllegal }],
    });

    it('is refused at validation', () => {
      assert.equal(errorsAt(validatePolicy(policy()), 'rules[0].actions.illegal').length, 1);
    });

    it('still blocks if forced through', () => assertBlocked(policy(), pupil));
  });

  describe('a teacher override', () => {
    const policy = (): FilterPolicy => {
      const p = school();
      p.teacherOverrides.categories.push('illegal' as 'games');
      p.overrides = [
        {
          id: 'ov-illegal',
          audience: { groups: ['class-6b'] },
          categories: ['illegal' as 'games'],
          sites: [HOST],
          startsAt: '2026-03-02T09:00:00Z',
          expiresAt: '2026-03-02T12:00:00Z',
          createdBy: 'teacher-1',
          reason: 'test',
        },
      ];
      return p;
    };

    it('is refused at validation: in the settings, in the override, and for the site', () => {
      const problems = validatePolicy(policy(), { isIllegal: (site) => site === HOST });
      assert.equal(errorsAt(problems, 'teacherOverrides.categories').length, 1);
      assert.equal(errorsAt(problems, 'overrides[0].categories[0]').length, 1);
      assert.equal(errorsAt(problems, 'overrides[0].sites[0]').length, 1);
    });

    it('still blocks if forced through', () => assertBlocked(policy(), pupil));
  });

  describe('staff', () => {
    const policy = (): FilterPolicy => {
      const p = school();
      const staffProfile = p.profiles.find((x) => x.id === 'staff')!;
      staffProfile.actions = { ...staffProfile.actions, ...allowIllegal };
      return p;
    };

    it('is refused at validation, even though locked categories may be opened for staff', () => {
      assert.equal(errorsAt(validatePolicy(policy()), 'profiles').length, 1);
    });

    it('still blocks if forced through', () => assertBlocked(policy(), staff));
  });

  describe('an admin-like group, the trust baseline and a school policy', () => {
    const admins = (): FilterPolicy => ({
      ...school(),
      profiles: [
        {
          id: 'it-admins',
          label: 'IT administrators',
          audience: { groups: ['it-admins'] },
          actions: allowIllegal,
          safeSearch: false,
          youtube: 'off',
        },
        ...school().profiles,
      ],
      baseline: { ...school().baseline, ...allowIllegal },
    });

    it('is refused at validation', () => {
      const problems = validatePolicy(admins());
      assert.equal(errorsAt(problems, 'profiles[0].actions.illegal').length, 1);
      assert.equal(errorsAt(problems, 'baseline.illegal').length, 1);
      const schoolPolicy: SchoolPolicy = { schoolId: 's', baseline: allowIllegal, profiles: [{ id: 'staff', actions: allowIllegal }] };
      const schoolProblems = validatePolicy(schoolPolicy, { trust: defaultTrustPolicy() });
      assert.equal(errorsAt(schoolProblems, 'baseline.illegal').length, 1);
      assert.equal(errorsAt(schoolProblems, 'profiles[0].actions.illegal').length, 1);
    });

    it('still blocks if forced through, including through trust inheritance', () => {
      assertBlocked(admins(), staff);
      const trust = defaultTrustPolicy();
      trust.baseline = { ...trust.baseline, ...allowIllegal };
      assertBlocked(
        resolvePolicy(trust, { schoolId: 's', baseline: allowIllegal, profiles: [{ id: 'staff', actions: allowIllegal }] }),
        staff,
      );
    });
  });

  it('blocks even when every other layer says allow at once', () => {
    const p = school();
    p.allowList.push({ pattern: HOST });
    p.rules.unshift({ id: 'all', description: 'all', audience: {}, actions: { ...allowIllegal, education: 'allow' } });
    p.overrides.push({
      id: 'ov',
      audience: { groups: ['class-6b'] },
      sites: [HOST],
      startsAt: '2026-03-02T00:00:00Z',
      expiresAt: '2026-03-02T23:00:00Z',
      createdBy: 't',
      reason: 'r',
    });
    assertBlocked(p, pupil);
    assertBlocked(p, staff);
  });
});
