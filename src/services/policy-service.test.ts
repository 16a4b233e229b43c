/**
 * Filtering policy change control: versions, reasons, conflicts, the audit trail, validation
 * that refuses what must never be opened, teachers' overrides, and decisions that follow a
 * saved change at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError, type SchoolPolicy, type TrustPolicy } from '../core/index.ts';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { FIXTURE_ILLEGAL_URL } from '../../test-support/fixture-classification.ts';
import type { RequestContext } from './index.ts';

const isError = (code: string, match?: RegExp) => (e: unknown) =>
  e instanceof DomainError && e.code === code && (match === undefined || match.test(e.message));

describe('policy service', () => {
  let h: Harness;
  let manager: RequestContext;
  let teacher: RequestContext;
  let otherTeacher: RequestContext;
  let trustAdmin: RequestContext;
  let classGroup: string;

  const ctxFor = (userId: string, label: string, grants: RequestContext['actor']['grants']): RequestContext => ({
    actor: { userId, grants },
    actorLabel: label,
    ip: '10.0.0.1',
  });

  before(async () => {
    h = await createHarness();
    const a = h.schoolA.id;
    manager = ctxFor('u-it', 'it@alpha.example', [roleGrant('it_manager', a)]);
    teacher = ctxFor('u-t1', 'teacher@alpha.example', [roleGrant('staff', a)]);
    otherTeacher = ctxFor('u-t2', 'other@alpha.example', [roleGrant('staff', a)]);
    trustAdmin = ctxFor('u-admin', 'admin@trust.example', [roleGrant('admin', null)]);
    const group = await h.services.groups.create(manager, a, 'Class 5B');
    await h.services.groups.addMember(manager, a, group.id, h.pupilA.id);
    classGroup = group.id;
  });
  after(() => h.close());

  const checkPupil = (site: string) => h.services.policies.check(h.schoolA.id, { site, personId: h.pupilA.id });
  const checkKs2 = (site: string, schoolId: string) => h.services.policies.check(schoolId, { site, profile: 'ks2' });

  it('starts from the built-in defaults (version 0) and decides by them', async () => {
    const trust = await h.services.policies.trustPolicy();
    assert.equal(trust.version, 0);
    assert.equal(trust.savedBy, null);
    const school = await h.services.policies.schoolPolicy(h.schoolA.id);
    assert.deepEqual(school, { version: 0, policy: { schoolId: h.schoolA.id }, savedAt: null, savedBy: null, reason: null });
    const r = await checkPupil('https://games-example.test/play');
    assert.equal(r.classification.category, 'games');
    assert.equal(r.classification.source, 'ut1/games');
    assert.equal(r.decision?.action, 'block');
    assert.match(r.decision?.reason ?? '', /Key Stage 2|KS2/i);
    assert.equal((await checkPupil('rse-example.test')).decision?.action, 'allow', 'sex education stays open');
  });

  it('saves a school change as version 1 with who, why and a readable diff, live at once', async () => {
    const policy: SchoolPolicy = { schoolId: h.schoolA.id, blockList: [{ pattern: 'distracting.example', note: 'Year 5 complaint' }] };
    assert.equal((await checkPupil('distracting.example')).decision?.action, 'allow');
    const saved = await h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, {
      policy,
      reason: 'Parents reported pupils using it in lessons',
      baseVersion: 0,
    });
    assert.equal(saved.version, 1);
    assert.equal(saved.changes.length, 1);
    assert.match(saved.changes[0]!, /distracting\.example/);
    const current = await h.services.policies.schoolPolicy(h.schoolA.id);
    assert.equal(current.version, 1);
    assert.equal(current.savedBy, 'it@alpha.example');
    assert.equal(current.reason, 'Parents reported pupils using it in lessons');

    const blocked = await checkPupil('www.distracting.example');
    assert.equal(blocked.decision?.action, 'block', 'the change is live without a restart');
    assert.equal(blocked.decision?.layer, 'block-list');

    const [entry] = await h.db.store.audit.list({ action: 'filtering.school_policy_changed', limit: 1 });
    assert.equal(entry?.actorLabel, 'it@alpha.example');
    assert.equal(entry?.schoolId, h.schoolA.id);
    assert.deepEqual(entry?.detail, { version: 1, reason: 'Parents reported pupils using it in lessons', changes: saved.changes });
    assert.equal((await checkKs2('distracting.example', h.schoolB.id)).decision?.action, 'allow', 'school B is untouched');
  });

  it("names a school's change to an inherited group by the trust's label", async () => {
    const saved = await h.services.policies.saveSchoolPolicy(manager, h.schoolB.id, {
      policy: { schoolId: h.schoolB.id, profiles: [{ id: 'ks3-plus', actions: { 'social-networks': 'block' } }] },
      reason: 'Social media ban in school hours agreed by governors',
      baseVersion: 0,
    });
    assert.deepEqual(saved.changes, ['Key Stage 3–5 pupils: social networks set to block']);
  });

  it('requires a reason, and changes nothing without one', async () => {
    for (const reason of ['', '  ', 'x']) {
      await assert.rejects(
        h.services.policies.saveSchoolPolicy(manager, h.schoolB.id, {
          policy: { schoolId: h.schoolB.id, blockList: [{ pattern: 'a.example' }] },
          reason,
          baseVersion: 1,
        }),
        isError('VALIDATION_FAILED', /reason/),
      );
    }
    assert.equal((await h.services.policies.schoolPolicy(h.schoolB.id)).version, 1);
  });

  it('refuses a save made against an older version (two editors at once)', async () => {
    await assert.rejects(
      h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, {
        policy: { schoolId: h.schoolA.id, blockList: [{ pattern: 'other.example' }] },
        reason: 'Editing an old copy',
        baseVersion: 0,
      }),
      isError('CONFLICT', /version 1/),
    );
    assert.equal((await h.services.policies.schoolPolicy(h.schoolA.id)).version, 1);
  });

  it('refuses a save that changes nothing', async () => {
    const current = await h.services.policies.schoolPolicy(h.schoolA.id);
    await assert.rejects(
      h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, { policy: current.policy, reason: 'No-op', baseVersion: 1 }),
      isError('VALIDATION_FAILED', /Nothing changed/),
    );
  });

  it('refuses invalid policies with every problem listed, and saves nothing', async () => {
    const bad = {
      schoolId: h.schoolA.id,
      baseline: { gambling: 'maybe' },
      rules: [{ id: 'r1', description: 'x', audience: { yearGroups: ['14'] }, actions: { 'not-a-category': 'allow' } }],
    } as unknown as SchoolPolicy;
    await assert.rejects(
      h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, { policy: bad, reason: 'Testing bad input', baseVersion: 1 }),
      (e: unknown) => {
        assert.ok(e instanceof DomainError && e.code === 'VALIDATION_FAILED');
        const problems = (e.details as { problems: { path: string }[] }).problems;
        assert.ok(problems.length >= 3, JSON.stringify(problems));
        assert.ok(problems.some((p) => p.path.startsWith('baseline')));
        assert.ok(problems.some((p) => p.path.startsWith('rules[0]')));
        return true;
      },
    );
    assert.equal((await h.services.policies.schoolPolicy(h.schoolA.id)).version, 1);
  });

  it('no policy, at school or trust level, can open illegal content or a locked category for pupils', async () => {
    const attempts: [string, () => Promise<unknown>][] = [
      [
        'school allow list',
        () =>
          h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, {
            policy: { schoolId: h.schoolA.id, allowList: [{ pattern: FIXTURE_ILLEGAL_URL }] },
            reason: 'Trying to open the illegal tier',
            baseVersion: 1,
          }),
      ],
      [
        'school baseline',
        () =>
          h.services.policies.saveSchoolPolicy(manager, h.schoolA.id, {
            policy: { schoolId: h.schoolA.id, baseline: { pornography: 'allow' } },
            reason: 'Trying to open a locked category',
            baseVersion: 1,
          }),
      ],
      [
        'trust allow list',
        async () => {
          const trust = await h.services.policies.trustPolicy();
          return h.services.policies.saveTrustPolicy(trustAdmin, {
            policy: { ...trust.policy, allowList: [...trust.policy.allowList, { pattern: FIXTURE_ILLEGAL_URL }] },
            reason: 'Trying to open the illegal tier for every school',
            baseVersion: trust.version,
          });
        },
      ],
    ];
    for (const [what, attempt] of attempts) {
      await assert.rejects(attempt(), isError('VALIDATION_FAILED'), what);
    }
    const r = await h.services.policies.check(h.schoolA.id, { site: `https://${FIXTURE_ILLEGAL_URL}`, profile: 'staff' });
    assert.equal(r.decision?.action, 'block');
    assert.equal(r.decision?.layer, 'illegal');
    assert.equal((await h.services.policies.schoolPolicy(h.schoolA.id)).version, 1);
  });

  it('a trust change reaches every school at once and is recorded against the trust', async () => {
    assert.equal((await checkKs2('trustwide.example', h.schoolB.id)).decision?.action, 'allow');
    const trust = await h.services.policies.trustPolicy();
    const policy: TrustPolicy = { ...trust.policy, blockList: [{ pattern: 'trustwide.example', enforced: true }] };
    const saved = await h.services.policies.saveTrustPolicy(trustAdmin, {
      policy,
      reason: 'Trust-wide block after an incident',
      baseVersion: 0,
    });
    assert.equal(saved.version, 1);
    for (const school of [h.schoolA.id, h.schoolB.id]) {
      assert.equal((await checkKs2('trustwide.example', school)).decision?.action, 'block', school);
    }
    const [entry] = await h.db.store.audit.list({ action: 'filtering.trust_policy_changed', limit: 1 });
    assert.equal(entry?.schoolId, null);
    assert.equal((entry?.detail as { reason: string }).reason, 'Trust-wide block after an incident');
    const history = await h.services.policies.history('trust', trust.policy.trustId);
    assert.deepEqual(
      history.map((v) => [v.version, v.savedBy]),
      [[1, 'admin@trust.example']],
    );
    const v1 = await h.services.policies.version('trust', trust.policy.trustId, 1);
    assert.deepEqual((v1.policy as TrustPolicy).blockList, [{ pattern: 'trustwide.example', enforced: true }]);
  });

  describe('teacher overrides', () => {
    it('opens a permitted category for a class until it expires, and says so', async () => {
      assert.equal((await checkPupil('games-example.test')).decision?.action, 'block');
      const o = await h.services.policies.createOverride(teacher, h.schoolA.id, {
        audience: { groups: [classGroup] },
        categories: ['games'],
        minutes: 60,
        reason: 'Computing lesson on game design',
      });
      assert.equal(o.state, 'active');
      assert.equal(o.audienceLabel.includes('Class 5B'), true, o.audienceLabel);
      const open = await checkPupil('games-example.test');
      assert.equal(open.decision?.action, 'allow');
      assert.equal(open.decision?.layer, 'override');
      assert.equal(open.decision?.overrideId, o.id);
      // Someone outside the class is unaffected.
      assert.equal((await checkKs2('games-example.test', h.schoolA.id)).decision?.action, 'block');

      h.clock.advanceMinutes(61);
      assert.equal((await checkPupil('games-example.test')).decision?.action, 'block', 'expired');
      const listed = await h.services.policies.overrides(h.schoolA.id);
      assert.equal(listed.items.find((x) => x.id === o.id)?.state, 'expired');
      const [entry] = await h.db.store.audit.list({ action: 'filtering.override_created', limit: 1 });
      assert.equal((entry?.detail as { reason: string }).reason, 'Computing lesson on game design');
    });

    it('refuses what the policy does not let teachers open', async () => {
      const base = { audience: { groups: [classGroup] }, minutes: 30, reason: 'Lesson' };
      const cases: [string, Parameters<typeof h.services.policies.createOverride>[2], RegExp][] = [
        ['locked category', { ...base, categories: ['pornography'] }, /locked/],
        ['not permitted', { ...base, categories: ['gambling'] }, /does not let teachers/],
        ['illegal tier', { ...base, categories: ['illegal'] }, /illegal|Unknown/],
        ['illegal site', { ...base, sites: [FIXTURE_ILLEGAL_URL] }, /.+/],
        ['too long', { ...base, categories: ['games'], minutes: 100_000 }, /longer than/],
        ['everyone', { ...base, audience: {}, categories: ['games'] }, /class or group/],
        ['nothing opened', { ...base }, /at least one/],
        ['past start', { ...base, categories: ['games'], startsAt: '2020-01-01T09:00:00Z' }, /past/],
      ];
      for (const [what, input, message] of cases) {
        await assert.rejects(h.services.policies.createOverride(teacher, h.schoolA.id, input), isError('VALIDATION_FAILED', message), what);
      }
      await assert.rejects(
        h.services.policies.createOverride(teacher, h.schoolA.id, {
          ...base,
          audience: { groups: ['no-such-group'] },
          categories: ['games'],
        }),
        isError('GROUP_NOT_FOUND'),
      );
      const illegal = await h.services.policies.check(h.schoolA.id, { site: FIXTURE_ILLEGAL_URL, personId: h.pupilA.id });
      assert.equal(illegal.decision?.action, 'block');
    });

    it('only the teacher who made it or a filtering manager can end it early', async () => {
      const o = await h.services.policies.createOverride(teacher, h.schoolA.id, {
        audience: { groups: [classGroup] },
        sites: ['social-example.test'],
        minutes: 45,
        reason: 'Media studies: analysing a social network',
      });
      assert.equal((await checkPupil('social-example.test')).decision?.action, 'allow');
      await assert.rejects(h.services.policies.revokeOverride(otherTeacher, h.schoolA.id, o.id, 'Not mine'), isError('FORBIDDEN'));
      await assert.rejects(h.services.policies.revokeOverride(teacher, h.schoolB.id, o.id, 'Wrong school'), isError('NOT_FOUND'));
      const ended = await h.services.policies.revokeOverride(manager, h.schoolA.id, o.id, 'Lesson finished early');
      assert.equal(ended.state, 'revoked');
      assert.equal(ended.revokedByLabel, 'it@alpha.example');
      assert.equal((await checkPupil('social-example.test')).decision?.action, 'block');
      await assert.rejects(h.services.policies.revokeOverride(teacher, h.schoolA.id, o.id, 'Again'), isError('CONFLICT'));
      const [entry] = await h.db.store.audit.list({ action: 'filtering.override_revoked', limit: 1 });
      assert.equal((entry?.detail as { reason: string }).reason, 'Lesson finished early');
    });
  });
});
