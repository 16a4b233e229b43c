import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, decide } from './decide.ts';
import type { ClassificationResult, DecisionRequest, FilterPolicy, PolicyRule, RequestPerson, TeacherOverride } from './types.ts';

/** Monday 2 March 2026, 10:00 in London (GMT). */
const MONDAY_10AM = new Date('2026-03-02T10:00:00Z');

const basePolicy = (over: Partial<FilterPolicy> = {}): FilterPolicy => ({
  id: 'school-1',
  name: 'Test school',
  timeZone: 'Europe/London',
  baseline: { gambling: 'block', shopping: 'allow' },
  profiles: [
    {
      id: 'staff',
      label: 'staff',
      audience: { kinds: ['staff'] },
      actions: { games: 'allow', 'social-networks': 'allow' },
      safeSearch: false,
      youtube: 'off',
    },
    {
      id: 'pupils',
      label: 'pupils',
      audience: { kinds: ['pupil'] },
      actions: { games: 'block', 'social-networks': 'block', misinformation: 'warn', 'file-sharing': 'allow-and-flag', drugs: 'block' },
      safeSearch: true,
      youtube: 'strict',
    },
  ],
  rules: [],
  allowList: [],
  blockList: [],
  teacherOverrides: { categories: ['games', 'social-networks', 'streaming'], sites: true, maxMinutes: 480 },
  overrides: [],
  terms: [],
  places: [],
  ...over,
});

const pupil = (over: Partial<RequestPerson> = {}): RequestPerson => ({ kind: 'pupil', groups: ['class-6b'], yearGroup: '6', ...over });
const staff: RequestPerson = { kind: 'staff', groups: ['staff'] };
const cls = (category: string | null, extra: Partial<ClassificationResult> = {}): ClassificationResult => ({
  category,
  source: category ? `test/${category}` : null,
  illegal: false,
  ...extra,
});
const ask = (policy: FilterPolicy, request: Partial<DecisionRequest>, classification: ClassificationResult) =>
  decide(compilePolicy(policy), { host: 'example.com', at: MONDAY_10AM, person: pupil(), ...request }, classification);
const actionAt = (policy: FilterPolicy, at: string, category: string, person: RequestPerson = pupil()) =>
  ask(policy, { at: new Date(at), person }, cls(category)).action;

const override = (over: Partial<TeacherOverride> = {}): TeacherOverride => ({
  id: 'ov-1',
  audience: { groups: ['class-6b'] },
  categories: ['games'],
  startsAt: '2026-03-02T09:30:00Z',
  expiresAt: '2026-03-02T11:00:00Z',
  createdBy: 'teacher-7',
  reason: 'Maths games in the computing suite',
  ...over,
});

const rule = (over: Partial<PolicyRule> & Pick<PolicyRule, 'id' | 'actions'>): PolicyRule => ({
  description: over.id,
  audience: { kinds: ['pupil'] },
  ...over,
});

describe('decide: profiles, baseline and fallback', () => {
  it('uses the first profile that matches the person', () => {
    const d = ask(basePolicy(), {}, cls('games'));
    assert.equal(d.action, 'block');
    assert.equal(d.layer, 'profile');
    assert.deepEqual(d.rule, { id: 'profile:pupils', description: 'Default for pupils' });
    assert.equal(d.reason, 'This site is blocked for pupils because it is in the Games category.');
    assert.equal(ask(basePolicy(), { person: staff }, cls('games')).action, 'allow');
  });

  it('falls back to the trust baseline for a category the profile does not set', () => {
    const d = ask(basePolicy(), {}, cls('gambling'));
    assert.equal(d.action, 'block');
    assert.equal(d.layer, 'baseline');
    assert.equal(d.rule?.id, 'baseline');
  });

  it('blocks locked categories and allows the rest when nothing sets them (built-in fallback, no rule)', () => {
    const p = basePolicy({ baseline: {} });
    const porn = ask(p, { person: staff }, cls('pornography'));
    assert.equal(porn.action, 'block');
    assert.equal(porn.layer, 'fallback');
    assert.equal(porn.rule, null);
    assert.equal(ask(p, {}, cls('streaming')).action, 'allow');
  });

  it('treats an unknown category id as uncategorised but reports it as given', () => {
    const d = ask(basePolicy(), {}, cls('no-such-category'));
    assert.equal(d.action, 'allow');
    assert.equal(d.category, 'no-such-category');
  });

  it('blocks unknown sites for a walled-garden profile (uncategorised: block)', () => {
    const p = basePolicy();
    p.profiles[1]!.actions.uncategorised = 'block';
    const d = ask(p, {}, cls(null));
    assert.equal(d.action, 'block');
    assert.equal(d.reason, 'This site is blocked for pupils because it has not been checked and approved yet.');
  });

  it('treats a request with nobody identified as a guest', () => {
    const p = basePolicy();
    p.profiles.push({
      id: 'guests',
      label: 'guests',
      audience: { kinds: ['guest'] },
      actions: { games: 'warn' },
      safeSearch: true,
      youtube: 'moderate',
    });
    const d = ask(p, { person: null }, cls('games'));
    assert.equal(d.action, 'warn');
    assert.equal(d.rule?.id, 'profile:guests');
    assert.equal(d.safeSearch, true);
  });

  it('turns SafeSearch on and YouTube to moderate for someone no profile covers', () => {
    const d = ask(basePolicy(), { person: { kind: 'visitor', groups: [] } }, cls(null));
    assert.equal(d.safeSearch, true);
    assert.equal(d.youtube, 'moderate');
  });

  it('reports SafeSearch and YouTube mode from the profile', () => {
    assert.deepEqual([ask(basePolicy(), {}, cls(null)).safeSearch, ask(basePolicy(), {}, cls(null)).youtube], [true, 'strict']);
    const s = ask(basePolicy(), { person: staff }, cls(null));
    assert.deepEqual([s.safeSearch, s.youtube], [false, 'off']);
  });

  it('derives the key stage from the year group', () => {
    const p = basePolicy({
      rules: [rule({ id: 'ks2-games', audience: { keyStages: ['KS2'] }, actions: { games: 'allow' } })],
    });
    assert.equal(ask(p, { person: pupil({ yearGroup: '4' }) }, cls('games')).action, 'allow');
    assert.equal(ask(p, { person: pupil({ yearGroup: '7' }) }, cls('games')).action, 'block');
    assert.equal(ask(p, { person: pupil({ yearGroup: undefined, keyStage: 'KS2' }) }, cls('games')).action, 'allow');
  });
});

describe('decide: warn and allow-and-flag', () => {
  it('warns: the person may continue after a notice, and the reason says so', () => {
    const d = ask(basePolicy(), {}, cls('misinformation'));
    assert.equal(d.action, 'warn');
    assert.equal(d.flagged, false);
    assert.equal(d.reason, 'This site is in the Misinformation category: you can continue, but your visit will be recorded.');
  });

  it('allows and flags: open, and flagged for monitoring', () => {
    const d = ask(basePolicy(), {}, cls('file-sharing'));
    assert.equal(d.action, 'allow-and-flag');
    assert.equal(d.flagged, true);
    assert.match(d.reason, /it is open for pupils, and visits are recorded\.$/);
  });

  it('flags attempts on safeguarding categories even when they are blocked, but not on distractions', () => {
    assert.equal(ask(basePolicy(), {}, cls('drugs')).flagged, true);
    assert.equal(ask(basePolicy(), {}, cls('games')).flagged, false);
  });
});

describe('decide: school allow and block lists', () => {
  it('lets the block list beat the profile, and the allow list open a blocked category', () => {
    const p = basePolicy({ blockList: [{ pattern: 'example.com' }] });
    const d = ask(p, { person: staff }, cls('games'));
    assert.equal(d.action, 'block');
    assert.equal(d.layer, 'block-list');
    assert.equal(d.reason, "This site is on the school's block list.");
    const a = ask(basePolicy({ allowList: [{ pattern: 'ttrockstars.com' }] }), { host: 'play.ttrockstars.com' }, cls('games'));
    assert.equal(a.action, 'allow');
    assert.equal(a.layer, 'allow-list');
    assert.equal(a.rule?.id, 'allow-list:ttrockstars.com');
  });

  it('blocks when the same entry is on both lists', () => {
    const p = basePolicy({ blockList: [{ pattern: 'example.com' }], allowList: [{ pattern: 'example.com' }] });
    assert.equal(ask(p, {}, cls(null)).action, 'block');
  });

  it('lets the more specific entry win: a subdomain or URL prefix on the allow list opens part of a blocked site', () => {
    const p = basePolicy({
      blockList: [{ pattern: 'bbc.co.uk' }, { pattern: 'docs.example.com' }],
      allowList: [{ pattern: 'bbc.co.uk/bitesize' }, { pattern: 'example.com' }],
    });
    assert.equal(ask(p, { host: 'www.bbc.co.uk', url: 'https://www.bbc.co.uk/bitesize/subjects' }, cls(null)).action, 'allow');
    assert.equal(ask(p, { host: 'www.bbc.co.uk', url: 'https://www.bbc.co.uk/bitesize' }, cls(null)).action, 'allow');
    assert.equal(ask(p, { host: 'www.bbc.co.uk', url: 'https://www.bbc.co.uk/bitesizes' }, cls(null)).action, 'block');
    assert.equal(ask(p, { host: 'www.bbc.co.uk', url: 'https://www.bbc.co.uk/iplayer' }, cls(null)).action, 'block');
    // A DNS query has no URL: only host entries apply.
    assert.equal(ask(p, { host: 'www.bbc.co.uk' }, cls(null)).action, 'block');
    assert.equal(ask(p, { host: 'docs.example.com' }, cls(null)).action, 'block');
    assert.equal(ask(p, { host: 'www.example.com' }, cls(null)).action, 'allow');
  });

  it('covers subdomains but not look-alike hosts, and normalises case and a trailing dot', () => {
    const p = basePolicy({ blockList: [{ pattern: 'tiktok.com' }] });
    assert.equal(ask(p, { host: 'www.tiktok.com' }, cls(null)).action, 'block');
    assert.equal(ask(p, { host: 'WWW.TikTok.COM.' }, cls(null)).action, 'block');
    assert.equal(ask(p, { host: 'nottiktok.com' }, cls(null)).action, 'allow');
    assert.equal(ask(p, { host: 'tiktok.com.evil.example' }, cls(null)).action, 'allow');
  });

  it('applies an entry with an audience only to those people', () => {
    const p = basePolicy({ allowList: [{ pattern: 'instagram.com', audience: { kinds: ['staff'] } }] });
    p.profiles[0]!.actions['social-networks'] = 'block';
    assert.equal(ask(p, { host: 'instagram.com', person: staff }, cls('social-networks')).action, 'allow');
    assert.equal(ask(p, { host: 'instagram.com' }, cls('social-networks')).action, 'block');
  });

  it('does not flag visits to an allow-listed site that a list mis-categorised', () => {
    const d = ask(basePolicy({ allowList: [{ pattern: 'brook.org.uk' }] }), { host: 'brook.org.uk' }, cls('pornography'));
    assert.equal(d.action, 'allow');
    assert.equal(d.flagged, false);
  });
});

describe('decide: teacher overrides', () => {
  const withOverride = (o: Partial<TeacherOverride> = {}, extra: Partial<FilterPolicy> = {}) =>
    basePolicy({ overrides: [override(o)], ...extra });

  it('opens a category for the class until the expiry, and says so', () => {
    const d = ask(withOverride(), {}, cls('games'));
    assert.equal(d.action, 'allow');
    assert.equal(d.layer, 'override');
    assert.equal(d.overrideId, 'ov-1');
    assert.equal(d.reason, 'A teacher has opened this for group class-6b until 11:00.');
    assert.match(d.rule?.description ?? '', /Maths games in the computing suite/);
  });

  it('does not reach pupils outside the class', () => {
    const d = ask(withOverride(), { person: pupil({ groups: ['class-6a'] }) }, cls('games'));
    assert.equal(d.action, 'block');
    assert.equal(d.overrideId, undefined);
  });

  it('is ignored before it starts, at its expiry and after it (expiry is exclusive)', () => {
    const p = withOverride();
    assert.equal(actionAt(p, '2026-03-02T09:29:59Z', 'games'), 'block');
    assert.equal(actionAt(p, '2026-03-02T09:30:00Z', 'games'), 'allow');
    assert.equal(actionAt(p, '2026-03-02T10:59:59Z', 'games'), 'allow');
    assert.equal(actionAt(p, '2026-03-02T11:00:00Z', 'games'), 'block');
    assert.equal(actionAt(p, '2026-03-03T10:00:00Z', 'games'), 'block');
  });

  it('is ignored once revoked', () => {
    assert.equal(ask(withOverride({ revoked: true }), {}, cls('games')).action, 'block');
  });

  it('opens a single site, and its subdomains, whatever its (unlocked) category', () => {
    const p = withOverride({ categories: [], sites: ['poki.com'] });
    assert.equal(ask(p, { host: 'poki.com' }, cls('games')).action, 'allow');
    assert.equal(ask(p, { host: 'games.poki.com' }, cls('games')).action, 'allow');
    assert.equal(ask(p, { host: 'crazygames.com' }, cls('games')).action, 'block');
  });

  it('never opens a locked category, even if one was stored or a site override points at it', () => {
    const forced = withOverride({ categories: ['pornography', 'games'] });
    assert.equal(ask(forced, {}, cls('pornography')).action, 'block');
    assert.equal(ask(forced, {}, cls('games')).action, 'allow');
    const site = withOverride({ categories: [], sites: ['example.com'] });
    assert.equal(ask(site, {}, cls('pornography')).action, 'block');
    assert.equal(ask(site, {}, cls('self-harm')).action, 'block');
    assert.equal(ask(site, {}, cls('circumvention')).action, 'block');
    assert.equal(ask(site, {}, cls(null)).action, 'allow');
  });

  it('is dropped when it is not scoped to a class or group (it would reach everyone)', () => {
    assert.equal(ask(withOverride({ audience: {} }), {}, cls('games')).action, 'block');
    assert.equal(ask(withOverride({ audience: { kinds: ['pupil'] } }), {}, cls('games')).action, 'block');
  });

  it('loses to the school block list', () => {
    assert.equal(ask(withOverride({}, { blockList: [{ pattern: 'example.com' }] }), {}, cls('games')).action, 'block');
  });

  it('beats a rule that blocks the category', () => {
    const p = withOverride({}, { rules: [rule({ id: 'no-games', actions: { games: 'block' } })] });
    assert.equal(ask(p, {}, cls('games')).layer, 'override');
  });

  it('can allow and flag so the DSL sees the visits', () => {
    const d = ask(withOverride({ action: 'allow-and-flag' }), {}, cls('games'));
    assert.equal(d.action, 'allow-and-flag');
    assert.equal(d.flagged, true);
  });

  it('names the expiry date when it is not the same day', () => {
    const d = ask(withOverride({ expiresAt: '2026-03-03T11:00:00Z' }), {}, cls('games'));
    assert.equal(d.reason, 'A teacher has opened this for group class-6b until 11:00 on 2026-03-03.');
  });
});

describe('decide: rules', () => {
  it('uses the first matching rule in order', () => {
    const a = rule({ id: 'a', actions: { games: 'block' } });
    const b = rule({ id: 'b', actions: { games: 'allow' } });
    assert.equal(ask(basePolicy({ rules: [a, b] }), {}, cls('games')).rule?.id, 'a');
    assert.equal(ask(basePolicy({ rules: [b, a] }), {}, cls('games')).action, 'allow');
  });

  it('passes over a rule that does not set the category, or does not match the person, or is switched off', () => {
    const rules = [
      rule({ id: 'other-category', actions: { shopping: 'block' } }),
      rule({ id: 'other-people', audience: { yearGroups: ['7'] }, actions: { games: 'allow' } }),
      rule({ id: 'off', actions: { games: 'allow' }, disabled: true }),
      rule({ id: 'this-one', audience: { groups: ['class-6b'] }, actions: { games: 'warn' } }),
    ];
    const d = ask(basePolicy({ rules }), {}, cls('games'));
    assert.equal(d.rule?.id, 'this-one');
    assert.equal(d.action, 'warn');
  });

  it('matches flags such as SEND or at-risk', () => {
    const p = basePolicy({ rules: [rule({ id: 'send', audience: { flags: ['send'] }, actions: { games: 'allow' } })] });
    assert.equal(ask(p, { person: pupil({ flags: ['eal', 'send'] }) }, cls('games')).action, 'allow');
    assert.equal(ask(p, { person: pupil({ flags: ['eal'] }) }, cls('games')).action, 'block');
  });

  it('never matches anyone with an empty list in its audience', () => {
    const p = basePolicy({ rules: [rule({ id: 'nobody', audience: { groups: [] }, actions: { games: 'allow' } })] });
    assert.equal(ask(p, {}, cls('games')).action, 'block');
  });

  it('can change SafeSearch and YouTube mode for its people', () => {
    const p = basePolicy({ rules: [rule({ id: 'y6-video', audience: { yearGroups: ['6'] }, actions: {}, youtube: 'moderate' })] });
    const d = ask(p, {}, cls(null));
    assert.equal(d.youtube, 'moderate');
    assert.equal(d.safeSearch, true);
    assert.equal(ask(p, { person: pupil({ yearGroup: '5' }) }, cls(null)).youtube, 'strict');
  });

  it('writes a reason naming who and that it depends on the time', () => {
    const p = basePolicy({
      rules: [
        rule({
          id: 'lunch',
          audience: { kinds: ['pupil'], yearGroups: ['5', '6'] },
          when: { from: '09:00', to: '12:00' },
          actions: { shopping: 'block' },
        }),
      ],
    });
    assert.equal(
      ask(p, {}, cls('shopping')).reason,
      'This site is blocked for Years 5–6 pupils at this time because it is in the Shopping category.',
    );
  });
});

describe('decide: time windows', () => {
  const lunchtime = basePolicy({
    rules: [
      rule({
        id: 'lunch-games',
        when: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '12:00', to: '13:00' },
        actions: { games: 'allow' },
      }),
    ],
  });

  it('applies inside the window, from its start up to (not including) its end', () => {
    assert.equal(actionAt(lunchtime, '2026-03-02T11:59:00Z', 'games'), 'block');
    assert.equal(actionAt(lunchtime, '2026-03-02T12:00:00Z', 'games'), 'allow');
    assert.equal(actionAt(lunchtime, '2026-03-02T12:59:59Z', 'games'), 'allow');
    assert.equal(actionAt(lunchtime, '2026-03-02T13:00:00Z', 'games'), 'block');
  });

  it('applies only on its days', () => {
    assert.equal(actionAt(lunchtime, '2026-03-07T12:30:00Z', 'games'), 'block'); // Saturday
  });

  it('follows British Summer Time: 12:30 local is 11:30 UTC in summer', () => {
    assert.equal(actionAt(lunchtime, '2026-06-01T11:30:00Z', 'games'), 'allow');
    assert.equal(actionAt(lunchtime, '2026-06-01T12:30:00Z', 'games'), 'block');
    assert.equal(actionAt(lunchtime, '2026-12-07T12:30:00Z', 'games'), 'allow');
  });

  it('follows the clocks across the March and October changes', () => {
    const school = basePolicy({
      rules: [rule({ id: 'school-day', when: { from: '08:00', to: '16:00' }, actions: { shopping: 'block' } })],
    });
    assert.equal(actionAt(school, '2026-03-27T07:30:00Z', 'shopping'), 'allow'); // Fri, GMT: 07:30
    assert.equal(actionAt(school, '2026-03-30T07:30:00Z', 'shopping'), 'block'); // Mon, BST: 08:30
    assert.equal(actionAt(school, '2026-03-30T15:30:00Z', 'shopping'), 'allow'); // Mon, BST: 16:30
    assert.equal(actionAt(school, '2026-10-23T15:30:00Z', 'shopping'), 'allow'); // Fri, BST: 16:30
    assert.equal(actionAt(school, '2026-10-26T15:30:00Z', 'shopping'), 'block'); // Mon, GMT: 15:30
  });

  it('handles the hour that is skipped in March and the hour that repeats in October', () => {
    const early = basePolicy({
      rules: [rule({ id: 'night', when: { days: ['sun'], from: '01:00', to: '02:00' }, actions: { shopping: 'block' } })],
    });
    // 29 March 2026: 00:59 UTC is 00:59 GMT; 01:00 UTC is 02:00 BST; 01:00–02:00 local never happens.
    assert.equal(actionAt(early, '2026-03-29T00:59:00Z', 'shopping'), 'allow');
    assert.equal(actionAt(early, '2026-03-29T01:00:00Z', 'shopping'), 'allow');
    // 25 October 2026: 01:30 local happens twice, at 00:30 UTC (BST) and 01:30 UTC (GMT).
    assert.equal(actionAt(early, '2026-10-25T00:30:00Z', 'shopping'), 'block');
    assert.equal(actionAt(early, '2026-10-25T01:30:00Z', 'shopping'), 'block');
    assert.equal(actionAt(early, '2026-10-25T02:00:00Z', 'shopping'), 'allow');
  });

  it('runs a window across midnight from the day it starts on', () => {
    const night = basePolicy({
      rules: [rule({ id: 'friday-night', when: { days: ['fri'], from: '22:00', to: '06:00' }, actions: { games: 'allow' } })],
    });
    assert.equal(actionAt(night, '2026-03-06T21:59:00Z', 'games'), 'block'); // Fri 21:59
    assert.equal(actionAt(night, '2026-03-06T23:00:00Z', 'games'), 'allow'); // Fri 23:00
    assert.equal(actionAt(night, '2026-03-07T02:00:00Z', 'games'), 'allow'); // Sat 02:00, Friday's window
    assert.equal(actionAt(night, '2026-03-07T06:00:00Z', 'games'), 'block'); // Sat 06:00, ended
    assert.equal(actionAt(night, '2026-03-06T02:00:00Z', 'games'), 'block'); // Fri 02:00 is Thursday's window
    assert.equal(actionAt(night, '2026-03-07T23:00:00Z', 'games'), 'block'); // Sat 23:00
  });

  it('treats "to 24:00" as the end of the day', () => {
    const evening = basePolicy({ rules: [rule({ id: 'evening', when: { from: '18:00', to: '24:00' }, actions: { games: 'allow' } })] });
    assert.equal(actionAt(evening, '2026-03-02T23:59:00Z', 'games'), 'allow');
    assert.equal(actionAt(evening, '2026-03-03T00:00:00Z', 'games'), 'block');
  });

  it('applies on given dates only, both ends included, in local time', () => {
    const exams = basePolicy({
      rules: [
        rule({
          id: 'exam-weeks',
          audience: { yearGroups: ['11'] },
          when: { dates: [{ from: '2026-05-11', to: '2026-05-22' }] },
          actions: { 'generative-ai': 'block' },
        }),
      ],
    });
    const y11 = pupil({ yearGroup: '11' });
    assert.equal(actionAt(exams, '2026-05-10T22:59:00Z', 'generative-ai', y11), 'allow'); // 23:59 BST on the 10th
    assert.equal(actionAt(exams, '2026-05-10T23:00:00Z', 'generative-ai', y11), 'block'); // 00:00 BST on the 11th
    assert.equal(actionAt(exams, '2026-05-22T22:59:00Z', 'generative-ai', y11), 'block');
    assert.equal(actionAt(exams, '2026-05-22T23:00:00Z', 'generative-ai', y11), 'allow');
  });

  it('knows term time from the term dates (weekends inside a term count as term)', () => {
    const terms = [
      { name: 'Spring 2026', from: '2026-01-05', to: '2026-03-27' },
      { name: 'Summer 2026', from: '2026-04-13', to: '2026-07-22' },
    ];
    const holidays = basePolicy({
      terms,
      rules: [rule({ id: 'holiday-games', when: { termTime: 'holiday' }, actions: { games: 'allow' } })],
    });
    assert.equal(actionAt(holidays, '2026-03-02T10:00:00Z', 'games'), 'block');
    assert.equal(actionAt(holidays, '2026-03-07T10:00:00Z', 'games'), 'block'); // Saturday in term
    assert.equal(actionAt(holidays, '2026-04-01T10:00:00Z', 'games'), 'allow'); // Easter holiday
    assert.equal(actionAt(holidays, '2026-07-23T10:00:00Z', 'games'), 'allow');
    const termOnly = basePolicy({
      terms,
      rules: [rule({ id: 'term-shopping', when: { termTime: 'term', days: ['mon'] }, actions: { shopping: 'block' } })],
    });
    assert.equal(actionAt(termOnly, '2026-03-02T10:00:00Z', 'shopping'), 'block');
    assert.equal(actionAt(termOnly, '2026-03-30T10:00:00Z', 'shopping'), 'allow');
  });

  it('never applies a rule whose schedule is malformed', () => {
    const bad = basePolicy({ rules: [rule({ id: 'bad', when: { from: '25:00', to: '26:00' }, actions: { games: 'allow' } })] });
    assert.equal(actionAt(bad, '2026-03-02T10:00:00Z', 'games'), 'block');
  });
});

describe('decide: places', () => {
  const library = basePolicy({
    places: [{ id: 'library', label: 'Library', cidrs: ['10.1.0.0/16', '2001:db8:1::/48'] }],
    rules: [
      rule({ id: 'library-games', places: ['library'], actions: { games: 'allow' } }),
      rule({ id: 'sixth-form-wifi', places: ['192.168.50.0/24'], actions: { games: 'warn' } }),
    ],
  });

  it('applies a rule to requests from the place’s networks, IPv4 and IPv6', () => {
    assert.equal(ask(library, { clientIp: '10.1.2.3' }, cls('games')).action, 'allow');
    assert.equal(ask(library, { clientIp: '::ffff:10.1.2.3' }, cls('games')).action, 'allow');
    assert.equal(ask(library, { clientIp: '2001:db8:1:ff::9' }, cls('games')).action, 'allow');
    assert.equal(ask(library, { clientIp: '10.2.0.1' }, cls('games')).action, 'block');
    assert.equal(ask(library, { clientIp: '2001:db8:2::9' }, cls('games')).action, 'block');
  });

  it('applies a rule to requests tagged with the site id', () => {
    assert.equal(ask(library, { site: 'library' }, cls('games')).action, 'allow');
  });

  it('accepts a CIDR written straight into a rule', () => {
    assert.equal(ask(library, { clientIp: '192.168.50.7' }, cls('games')).action, 'warn');
  });

  it('does not apply without a client address, or with a malformed one (and does not throw)', () => {
    assert.equal(ask(library, {}, cls('games')).action, 'block');
    assert.equal(ask(library, { clientIp: 'not-an-ip' }, cls('games')).action, 'block');
  });
});

describe('decide: purity', () => {
  it('gives the same answer twice and does not change the policy it compiled', () => {
    const policy = basePolicy({
      overrides: [override()],
      rules: [rule({ id: 'r', when: { from: '09:00', to: '15:00' }, actions: { shopping: 'warn' } })],
    });
    const copy = structuredClone(policy);
    const compiled = compilePolicy(policy);
    const req: DecisionRequest = { host: 'example.com', at: MONDAY_10AM, person: pupil() };
    assert.deepEqual(decide(compiled, req, cls('shopping')), decide(compiled, req, cls('shopping')));
    assert.deepEqual(policy, copy);
  });

  it('does not throw on an invalid time, and applies no override or timed rule then', () => {
    const policy = basePolicy({
      overrides: [override()],
      rules: [rule({ id: 'timed', when: { from: '00:00', to: '24:00' }, actions: { games: 'allow' } })],
    });
    const d = ask(policy, { at: new Date('not a date') }, cls('games'));
    assert.equal(d.action, 'block');
    assert.equal(d.layer, 'profile');
  });

  it('gives one-sentence reasons', () => {
    for (const category of ['games', 'gambling', 'misinformation', 'file-sharing', null, 'illegal']) {
      const d = ask(basePolicy(), {}, cls(category, { illegal: category === 'illegal' }));
      assert.match(d.reason, /^[A-Z][^\n]*\.$/);
      assert.equal(d.reason.split('. ').length, 1, d.reason);
    }
  });
});
