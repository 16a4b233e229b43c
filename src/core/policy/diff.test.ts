import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTrustPolicy } from './defaults.ts';
import { describeSchedule, policyDiff } from './diff.ts';
import { resolvePolicy } from './resolve.ts';
import type { FilterPolicy, SchoolPolicy } from './types.ts';

const school = (): FilterPolicy => resolvePolicy(defaultTrustPolicy(), { schoolId: 'school-1' });

describe('policyDiff', () => {
  it('says nothing when nothing changed', () => {
    assert.deepEqual(policyDiff(school(), school()), []);
    assert.deepEqual(policyDiff(defaultTrustPolicy(), defaultTrustPolicy()), []);
  });

  it('names the group and the category when a default action changes', () => {
    const after = school();
    after.profiles.find((p) => p.id === 'ks3-plus')!.actions.gambling = 'warn';
    after.profiles.find((p) => p.id === 'ks2')!.actions.uncategorised = undefined;
    assert.deepEqual(policyDiff(school(), after), [
      'Key Stage 2 pupils: uncategorised sites no longer set (was allow)',
      'Key Stage 3–5 pupils: gambling changed from block to warn',
    ]);
  });

  it('keeps capitalised labels readable and reports SafeSearch and YouTube changes', () => {
    const after = school();
    const staff = after.profiles.find((p) => p.id === 'staff')!;
    staff.actions['generative-ai'] = 'allow-and-flag';
    staff.safeSearch = false;
    after.profiles.find((p) => p.id === 'ks2')!.youtube = 'moderate';
    assert.deepEqual(policyDiff(school(), after), [
      'Staff: AI chat and image tools changed from allow to allow-and-flag',
      'Staff: SafeSearch turned off',
      'Key Stage 2 pupils: YouTube restricted mode changed from strict to moderate',
    ]);
  });

  it('reports list entries added and removed, normalised', () => {
    const after = school();
    after.allowList.push({ pattern: 'https://www.BBC.co.uk/', note: 'News lessons' });
    after.allowList = after.allowList.filter((e) => e.pattern !== 'scratch.mit.edu');
    after.blockList.push({ pattern: 'roblox.com', audience: { keyStages: ['KS1', 'KS2'] } });
    assert.deepEqual(policyDiff(school(), after), [
      'Added block-list entry roblox.com for Key Stages 1–2',
      'Added allow-list entry www.bbc.co.uk (News lessons)',
      'Removed allow-list entry scratch.mit.edu',
    ]);
  });

  it('reports rules added, changed, switched off, removed and reordered', () => {
    const before = school();
    const after = school();
    after.rules.push({
      id: 'lunch',
      description: 'Lunchtime games',
      audience: { yearGroups: ['7', '8', '9'] },
      when: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '12:00', to: '13:00' },
      actions: { games: 'allow' },
    });
    const y78 = after.rules.find((r) => r.id === 'years-7-8-minimum-age')!;
    y78.actions['social-networks'] = 'warn';
    y78.when = { termTime: 'term' };
    after.rules.find((r) => r.id === 'at-risk-contact')!.disabled = true;
    assert.deepEqual(policyDiff(before, after), [
      'Rule “Pupils flagged at-risk: contact channels closed” switched off',
      'Rule “Years 7–8: social networks and AI chat blocked (their minimum age is 13)”: time changed from any time to in term time',
      'Rule “Years 7–8: social networks and AI chat blocked (their minimum age is 13)”: social networks changed from block to warn',
      'Added rule “Lunchtime games” for Years 7–9, weekdays 12:00–13:00: games allow',
    ]);
    const reordered = school();
    reordered.rules.reverse();
    assert.deepEqual(policyDiff(before, reordered), [
      'Rule order changed: “Years 7–8: social networks and AI chat blocked (their minimum age is 13)”, “Pupils flagged at-risk: contact channels closed”',
    ]);
    const removed = school();
    removed.rules.shift();
    assert.deepEqual(policyDiff(before, removed), ['Removed rule “Pupils flagged at-risk: contact channels closed”']);
  });

  it('reports teacher settings and overrides with who and why', () => {
    const after = school();
    after.teacherOverrides.categories = [...after.teacherOverrides.categories.filter((c) => c !== 'shopping'), 'chat'];
    after.teacherOverrides.maxMinutes = 120;
    after.overrides.push({
      id: 'o1',
      audience: { groups: ['6B'] },
      categories: ['games'],
      sites: ['poki.com'],
      startsAt: '2026-03-06T13:00:00Z',
      expiresAt: '2026-03-06T14:00:00Z',
      createdBy: 'Ms Patel',
      reason: 'Golden time',
    });
    assert.deepEqual(policyDiff(school(), after), [
      'Teachers may now open chat',
      'Teachers may no longer open shopping',
      'Longest teacher override changed from 480 to 120 minutes',
      'Teacher override added by Ms Patel: games, poki.com for group 6B from 2026-03-06T13:00:00Z until 2026-03-06T14:00:00Z (Golden time)',
    ]);
    const revoked = structuredClone(after);
    revoked.overrides[0]!.revoked = true;
    assert.match(policyDiff(after, revoked)[0]!, /^Teacher override by Ms Patel revoked: /);
  });

  it('reports terms, places and the baseline', () => {
    const after = school();
    after.terms.push({ name: 'Autumn 2026', from: '2026-09-03', to: '2026-12-18' });
    after.places.push({ id: 'lib', label: 'Library', cidrs: ['10.1.0.0/16'] });
    after.baseline.games = 'allow';
    assert.deepEqual(policyDiff(school(), after), [
      'Default for everyone: games changed from warn to allow',
      'Added term Autumn 2026 (2026-09-03 to 2026-12-18)',
      'Added place Library (10.1.0.0/16)',
    ]);
  });

  it('describes a school policy’s own changes (profile patches, trust rules switched off, trust entries removed)', () => {
    const before: SchoolPolicy = { schoolId: 's' };
    const after: SchoolPolicy = {
      schoolId: 's',
      profiles: [
        { id: 'ks2', label: 'Key Stage 2 pupils', actions: { games: 'warn' } },
        { id: 'nurture', label: 'Nurture group', audience: { groups: ['nurture'] }, actions: { streaming: 'block' } },
      ],
      disabledTrustRules: ['years-7-8-minimum-age'],
      removedTrustEntries: ['scratch.mit.edu'],
    };
    assert.deepEqual(policyDiff(before, after), [
      'Key Stage 2 pupils: games set to warn',
      'Added profile “Nurture group” for group nurture: streaming media block',
      'Switched off trust rule years-7-8-minimum-age',
      'Removed trust list entry scratch.mit.edu',
    ]);
  });
});

describe('describeSchedule', () => {
  it('reads like a timetable', () => {
    assert.equal(describeSchedule(undefined), 'any time');
    assert.equal(describeSchedule({ days: ['fri'], from: '22:00', to: '06:00' }), 'Fri 22:00–06:00');
    assert.equal(describeSchedule({ days: ['sat', 'sun'] }), 'Sat, Sun');
    assert.equal(
      describeSchedule({ dates: [{ from: '2026-05-11', to: '2026-05-22' }], termTime: 'holiday' }),
      'on 2026-05-11 to 2026-05-22 outside term time',
    );
  });
});
