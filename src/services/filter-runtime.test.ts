/**
 * The filter runtime's decision memo (decision 0010): `checkNow` remembers answers for repeated
 * names, and forgets them when the policy changes, when the lists are reloaded, and at the edges
 * of time — a rule's schedule, a teacher override's start and end — so a memo never answers with
 * a decision that the clock has changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildClassifier,
  createClassificationEngine,
  createIllegalTier,
  defaultTrustPolicy,
  resolvePolicy,
  type FilterPolicy,
  type RequestPerson,
  type SchoolPolicy,
} from '../core/index.ts';
import { createFilterRuntime, type ClassificationBundle } from './filter-runtime.ts';

const SCHOOL = 'school-1';

const bundleWith = (lists: { name: string; domains: string[] }[], categories: string[]): ClassificationBundle => {
  const illegal = createIllegalTier([], { canaries: ['iwf-canary.haven.test'] });
  const engine = createClassificationEngine({
    classifier: buildClassifier(lists.map((l) => ({ ...l, urls: [], expressions: [] }))),
    listCategories: categories,
    illegal,
  });
  return { engine, illegal, manifest: null };
};

const LISTS = bundleWith(
  [
    { name: 'ut1/games', domains: ['games.example'] },
    { name: 'ut1/streaming', domains: ['video.example'] },
  ],
  ['games', 'streaming'],
);

const pupil: RequestPerson = { kind: 'pupil', groups: ['class-1'], yearGroup: '8' };
const otherPupil: RequestPerson = { kind: 'pupil', groups: ['class-2'], yearGroup: '8' };

/** Times in November, when Europe/London is UTC. */
const at = (hhmmss: string) => new Date(`2026-11-25T${hhmmss}Z`);

const setup = (school: Partial<SchoolPolicy>, bundle = LISTS) => {
  let policy: FilterPolicy = resolvePolicy(defaultTrustPolicy(), { schoolId: SCHOOL, ...school });
  let lists = bundle;
  const runtime = createFilterRuntime({
    loadClassification: () => Promise.resolve(lists),
    effectivePolicy: () => Promise.resolve(policy),
  });
  return {
    runtime,
    setPolicy: (school2: Partial<SchoolPolicy>) => {
      policy = resolvePolicy(defaultTrustPolicy(), { schoolId: SCHOOL, ...school2 });
    },
    setLists: (b: ClassificationBundle) => {
      lists = b;
    },
    /** checkNow once everything has loaded. */
    ready: async () => {
      await Promise.all([runtime.classification(), runtime.policyFor(SCHOOL)]);
    },
  };
};

const actionOf = (r: ReturnType<ReturnType<typeof setup>['runtime']['checkNow']>) => r?.decision?.action ?? null;

describe('filter runtime decision memo', () => {
  it('answers a repeated name from the memo, per person and per fallback', async () => {
    const s = setup({});
    await s.ready();
    const first = s.runtime.checkNow(SCHOOL, { site: 'games.example', at: at('08:00:00'), person: pupil });
    assert.equal(actionOf(first), 'warn'); // games, for a KS3 pupil
    const again = s.runtime.checkNow(SCHOOL, { site: 'games.example', at: at('08:00:30'), person: pupil });
    assert.equal(again, first, 'the same answer object: remembered');
    const guest = s.runtime.checkNow(SCHOOL, { site: 'games.example', at: at('08:00:30'), person: null });
    assert.notEqual(guest, first, 'another person is another entry');
    const plain = s.runtime.checkNow(SCHOOL, { site: 'unlisted.example', at: at('08:00:30'), person: pupil });
    const fallback = s.runtime.checkNow(SCHOOL, {
      site: 'unlisted.example',
      at: at('08:00:30'),
      person: pupil,
      fallback: { category: 'circumvention', source: 'haven/circumvention' },
    });
    assert.equal(plain?.classification.category, null);
    assert.equal(fallback?.classification.category, 'circumvention');
    assert.equal(actionOf(fallback), 'block');
  });

  it('forgets decisions after a policy change', async () => {
    const s = setup({});
    await s.ready();
    const request = { site: 'video.example', at: at('08:00:00'), person: pupil };
    assert.equal(actionOf(s.runtime.checkNow(SCHOOL, request)), 'allow');
    const scope = s.runtime.decisionScope(SCHOOL, request);
    s.setPolicy({ blockList: [{ pattern: 'video.example' }] });
    s.runtime.invalidate(SCHOOL);
    await s.runtime.policyFor(SCHOOL);
    assert.equal(actionOf(s.runtime.checkNow(SCHOOL, request)), 'block');
    assert.notEqual(s.runtime.decisionScope(SCHOOL, request), scope, 'a new policy is a new scope');
  });

  it('forgets decisions when the lists are reloaded', async () => {
    const s = setup({});
    await s.ready();
    const request = { site: 'new-game.example', at: at('08:00:00'), person: pupil };
    assert.equal(s.runtime.checkNow(SCHOOL, request)?.classification.category, null);
    const scope = s.runtime.decisionScope(SCHOOL, request);
    s.setLists(bundleWith([{ name: 'ut1/games', domains: ['games.example', 'new-game.example'] }], ['games']));
    await s.runtime.reloadClassification();
    assert.equal(s.runtime.checkNow(SCHOOL, request)?.classification.category, 'games');
    assert.notEqual(s.runtime.decisionScope(SCHOOL, request), scope);
  });

  it("forgets decisions at a rule's time boundary, both ways", async () => {
    const s = setup({
      rules: [
        {
          id: 'period-1',
          description: 'No streaming in period 1',
          audience: { kinds: ['pupil'] },
          when: { from: '09:00', to: '10:00' },
          actions: { streaming: 'block' },
        },
      ],
    });
    await s.ready();
    const ask = (t: string) => actionOf(s.runtime.checkNow(SCHOOL, { site: 'video.example', at: at(t), person: pupil }));
    assert.equal(ask('08:59:59.999'), 'allow');
    assert.equal(ask('09:00:00.000'), 'block');
    assert.equal(ask('09:59:59.999'), 'block');
    assert.equal(ask('10:00:00.000'), 'allow');
    assert.equal(ask('09:30:00.000'), 'block', 'a clock that goes back is answered for its own time');
    assert.equal(ask('08:00:00.000'), 'allow');
    const scope = (t: string) => s.runtime.decisionScope(SCHOOL, { site: 'x', at: at(t), person: pupil });
    assert.equal(scope('09:15:01'), scope('09:15:59'), 'one scope within a minute');
    assert.notEqual(scope('09:15:59'), scope('09:16:00'));
  });

  it('forgets decisions when a teacher override starts and ends, to the millisecond, and keeps them between', async () => {
    const s = setup({
      overrides: [
        {
          id: 'ovr-1',
          audience: { groups: ['class-1'] },
          sites: ['video.example', 'games.example'],
          startsAt: '2026-11-25T10:30:00.000Z',
          expiresAt: '2026-11-25T11:00:00.000Z',
          createdBy: 'teacher-1',
          reason: 'Lesson on game design',
        },
      ],
    });
    await s.ready();
    const ask = (t: string, person = pupil) =>
      s.runtime.checkNow(SCHOOL, { site: 'games.example', at: at(t), person })?.decision?.layer ?? null;
    assert.notEqual(ask('10:29:59.999'), 'override');
    assert.equal(ask('10:30:00.000'), 'override');
    assert.notEqual(ask('10:30:00.000', otherPupil), 'override', 'not for another class');
    assert.equal(ask('10:59:59.999'), 'override');
    assert.notEqual(ask('11:00:00.000'), 'override');
    // No schedule in this policy: between the override's edges one scope serves.
    const scope = (t: string) => s.runtime.decisionScope(SCHOOL, { site: 'x', at: at(t), person: pupil });
    assert.equal(scope('10:31:00'), scope('10:58:00'));
    assert.notEqual(scope('10:58:00'), scope('11:00:00'));
    assert.equal(scope('12:00:00'), scope('23:00:00'));
  });

  it('keys by client address when a rule names address ranges', async () => {
    const s = setup({
      rules: [
        {
          id: 'library',
          description: 'No streaming in the library',
          audience: {},
          places: ['10.9.0.0/16'],
          actions: { streaming: 'block' },
        },
      ],
    });
    await s.ready();
    const ask = (ip: string) =>
      actionOf(s.runtime.checkNow(SCHOOL, { site: 'video.example', at: at('12:00:00'), person: pupil, clientIp: ip }));
    assert.equal(ask('10.1.2.3'), 'allow');
    assert.equal(ask('10.9.2.3'), 'block');
    assert.equal(ask('10.1.2.3'), 'allow');
  });
});
