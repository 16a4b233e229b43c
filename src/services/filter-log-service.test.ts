/**
 * The DNS log service: filters, paging back and polling forward, names for people, safeguarding
 * entries hidden from technical staff (and person searches refused for them), and an audit entry
 * for every search that names the filters, never the results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError, type FilterEvent, type StoredFilterEvent } from '../core/index.ts';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { newEvent, newPerson } from '../../test-support/factories.ts';
import { createFilterLogService, isSafeguardingEvent } from './filter-log-service.ts';
import type { RequestContext } from './index.ts';

const isError = (code: string, match?: RegExp) => (e: unknown) =>
  e instanceof DomainError && e.code === code && (match === undefined || match.test(e.message));

const ctxFor = (userId: string, grants: RequestContext['actor']['grants']): RequestContext => ({
  actor: { userId, grants },
  actorLabel: `${userId}@test.example`,
  ip: '10.9.9.9',
});

describe('filter log service', () => {
  let h: Harness;
  let a: string;
  let dsl: RequestContext;
  let it_: RequestContext;
  let schoolAdmin: RequestContext;
  let trustAdmin: RequestContext;
  let head: RequestContext;
  let adminAndDsl: RequestContext;
  let itHereDslElsewhere: RequestContext;
  let staff: RequestContext;
  let pupilB: string;
  let stranger: string;
  const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 9, minute)).toISOString();

  const insert = (events: Partial<FilterEvent>[]) =>
    h.db.store.events.insertBatch(events.map((e) => newEvent({ schoolId: a, clientIp: null, ...e })));

  before(async () => {
    h = await createHarness();
    a = h.schoolA.id;
    dsl = ctxFor('u-dsl', [roleGrant('dsl', a)]);
    it_ = ctxFor('u-it', [roleGrant('it_manager', a)]);
    schoolAdmin = ctxFor('u-sadmin', [roleGrant('admin', a)]);
    trustAdmin = ctxFor('u-tadmin', [roleGrant('admin', null)]);
    head = ctxFor('u-head', [roleGrant('headteacher', a)]);
    adminAndDsl = ctxFor('u-both', [roleGrant('admin', null), roleGrant('dsl', a)]);
    itHereDslElsewhere = ctxFor('u-mixed', [roleGrant('it_manager', a), roleGrant('dsl', h.schoolB.id)]);
    staff = ctxFor('u-staff', [roleGrant('staff', a)]);
    const other = newPerson(h.schoolB.id, { firstName: 'Bea', lastName: 'Other' });
    await h.db.store.people.create(other);
    pupilB = other.id;
    stranger = 'gone-person-id';

    // Oldest first, so ids rise with time.
    await insert([
      { at: at(0), host: 'www.bbc.co.uk', category: 'news', action: 'allow', personId: h.pupilA.id, clientIp: '10.0.0.5' },
      {
        at: at(1),
        host: 'bet.example',
        category: 'gambling',
        action: 'block',
        list: 'ut1/gambling',
        layer: 'profile',
        clientIp: '10.0.0.6',
      },
      {
        at: at(2),
        host: 'adult.example',
        category: 'pornography',
        action: 'block',
        layer: 'baseline',
        personId: h.pupilA.id,
        clientIp: '10.0.0.5',
        deviceId: 'dev-1',
        flagged: true,
      },
      { at: at(3), host: 'iwf-canary.haven.test', category: 'illegal', action: 'block', layer: 'illegal', clientIp: '10.0.0.5' },
      { at: at(4), host: 'chat.example', category: 'social-networks', action: 'allow-and-flag', flagged: true, personId: h.pupilA.id },
      { at: at(5), host: 'www.bbc.co.uk', qtype: 'AAAA', source: 'doh', personId: h.pupilA.id, clientIp: '203.0.113.9' },
      { at: at(6), host: 'games.example', category: 'games', action: 'warn', personId: pupilB, clientIp: '10.0.0.7' },
      { at: at(7), host: 'maths.example', category: 'education', personId: stranger, clientIp: '10.0.0.8' },
      { at: at(8), host: 'proxy.example', source: 'proxy', qtype: null, url: 'https://proxy.example/search?q=secret+words#x' },
      // Another school's event never shows at school A.
      { at: at(9), host: 'www.bbc.co.uk', schoolId: h.schoolB.id, personId: pupilB },
    ]);
  });
  after(() => h.close());

  const hosts = (items: { host: string }[]) => items.map((i) => i.host);
  const search = (ctx: RequestContext, q: Parameters<typeof h.services.filterLog.search>[2] = {}) => h.services.filterLog.search(ctx, a, q);

  it('lists a school’s events newest first, with the names of the people behind them', async () => {
    const page = await search(dsl);
    assert.deepEqual(hosts(page.items), [
      'proxy.example',
      'maths.example',
      'games.example',
      'www.bbc.co.uk',
      'chat.example',
      'iwf-canary.haven.test',
      'adult.example',
      'bet.example',
      'www.bbc.co.uk',
    ]);
    assert.equal(page.nextBeforeId, null);
    assert.equal(page.restricted, false);
    const bbc = page.items.at(-1)!;
    assert.deepEqual(bbc.person, { id: h.pupilA.id, name: 'Ada Lovelace' });
    assert.equal(bbc.clientIp, '10.0.0.5');
    const games = page.items.find((i) => i.host === 'games.example')!;
    assert.equal(games.person, null, 'a person from another school is not named');
    assert.equal(games.personId, pupilB);
    const maths = page.items.find((i) => i.host === 'maths.example')!;
    assert.equal(maths.person, null, 'a person who is gone has no name');
    assert.equal(maths.personId, stranger);
    assert.equal(page.items[0]!.url, 'https://proxy.example/search?q=secret+words#x', 'the DSL sees the whole URL');
  });

  it('filters by host substring, action, category, source, address, person and time', async () => {
    assert.deepEqual(hosts((await search(dsl, { host: 'BBC' })).items), ['www.bbc.co.uk', 'www.bbc.co.uk']);
    assert.deepEqual(hosts((await search(dsl, { host: '  ' })).items).length, 9, 'a blank host is no filter');
    assert.deepEqual(hosts((await search(dsl, { action: 'block' })).items), ['iwf-canary.haven.test', 'adult.example', 'bet.example']);
    assert.deepEqual(hosts((await search(dsl, { category: 'gambling' })).items), ['bet.example']);
    assert.deepEqual(hosts((await search(dsl, { source: 'doh' })).items), ['www.bbc.co.uk']);
    assert.deepEqual(hosts((await search(dsl, { clientIp: '10.0.0.5' })).items), [
      'iwf-canary.haven.test',
      'adult.example',
      'www.bbc.co.uk',
    ]);
    assert.deepEqual(hosts((await search(dsl, { personId: h.pupilA.id })).items), [
      'www.bbc.co.uk',
      'chat.example',
      'adult.example',
      'www.bbc.co.uk',
    ]);
    assert.deepEqual(hosts((await search(dsl, { since: at(2), until: at(4) })).items), ['iwf-canary.haven.test', 'adult.example']);
    // Written with a zone other than UTC, and without seconds: the same instants.
    assert.deepEqual(hosts((await search(dsl, { since: '2026-03-02T10:02+01:00', until: '2026-03-02T09:04Z' })).items), [
      'iwf-canary.haven.test',
      'adult.example',
    ]);
    assert.equal((await search(dsl, { since: '2026-03-03' })).items.length, 0, 'a date means its midnight, UTC');
  });

  it('refuses impossible dates, a reversed range, addresses that are not addresses, and both directions at once', async () => {
    await assert.rejects(search(dsl, { since: '2026-02-30' }), isError('VALIDATION_FAILED', /since must be a date/));
    await assert.rejects(search(dsl, { until: '2026-02-30T09:00:00Z' }), isError('VALIDATION_FAILED', /until/));
    await assert.rejects(search(dsl, { since: 'yesterday' }), isError('VALIDATION_FAILED'));
    await assert.rejects(search(dsl, { since: '2026-03-02T09:00:00' }), isError('VALIDATION_FAILED', /time zone/));
    await assert.rejects(search(dsl, { since: at(4), until: at(2) }), isError('VALIDATION_FAILED', /since must be before until/));
    await assert.rejects(search(dsl, { clientIp: '10.0.0.256' }), isError('VALIDATION_FAILED', /clientIp/));
    await assert.rejects(search(dsl, { beforeId: 5, afterId: 2 }), isError('VALIDATION_FAILED', /not both/));
  });

  it('pages back in time with beforeId, and says when there is nothing older', async () => {
    const first = await search(dsl, { limit: 4 });
    assert.equal(first.items.length, 4);
    assert.equal(first.nextBeforeId, first.items.at(-1)!.id);
    const second = await search(dsl, { limit: 4, beforeId: first.nextBeforeId });
    const third = await search(dsl, { limit: 4, beforeId: second.nextBeforeId! });
    assert.equal(third.items.length, 1);
    assert.equal(third.nextBeforeId, null);
    const all = [...first.items, ...second.items, ...third.items].map((i) => i.id);
    assert.deepEqual(
      all,
      [...all].sort((x, y) => y - x),
      'strictly newest first, no repeats',
    );
    assert.equal(new Set(all).size, 9);
    // Limits are clamped to 1–200.
    assert.equal((await search(dsl, { limit: 0 })).items.length, 1);
    assert.equal((await search(dsl, { limit: 10_000 })).items.length, 9);
  });

  it('polls forward with afterId: only newer events, and says when more arrived than one answer holds', async () => {
    const newest = (await search(dsl, { limit: 1 })).items[0]!;
    const none = await search(dsl, { afterId: newest.id });
    assert.deepEqual(none.items, []);
    assert.equal(none.truncated, false);
    await insert([{ at: at(20), host: 'new-one.example' }]);
    const one = await search(dsl, { afterId: newest.id });
    assert.deepEqual(hosts(one.items), ['new-one.example']);
    assert.equal(one.truncated, false);
    await insert([
      { at: at(21), host: 'burst-1.example' },
      { at: at(22), host: 'burst-2.example' },
      { at: at(23), host: 'burst-3.example' },
    ]);
    const burst = await search(dsl, { afterId: one.items[0]!.id, limit: 2 });
    assert.deepEqual(hosts(burst.items), ['burst-3.example', 'burst-2.example']);
    assert.equal(burst.truncated, true, 'burst-1 is missing: the page starts again from here');
    assert.equal(burst.nextBeforeId, burst.items.at(-1)!.id);
    const filtered = await search(dsl, { afterId: newest.id, host: 'burst-2' });
    assert.deepEqual(hosts(filtered.items), ['burst-2.example'], 'filters apply to polls too');
  });

  it('hides who asked on safeguarding entries from IT and administrators, keeping what IT needs', async () => {
    for (const viewer of [it_, schoolAdmin, trustAdmin, itHereDslElsewhere]) {
      const page = await search(viewer, { until: at(10) });
      assert.equal(page.restricted, true, viewer.actor.userId);
      const byHost = new Map(page.items.map((i) => [i.host, i]));
      for (const host of ['adult.example', 'iwf-canary.haven.test', 'chat.example']) {
        const item = byHost.get(host)!;
        assert.equal(item.identityHidden, true, `${viewer.actor.userId} ${host}`);
        assert.equal(item.person, null);
        assert.equal(item.personId, null);
        assert.equal(item.clientIp, null);
        assert.equal(item.deviceId, null);
        assert.ok(item.category && item.action && item.layer, 'host, category and action stay');
      }
      assert.equal(byHost.get('adult.example')!.category, 'pornography');
      assert.equal(byHost.get('adult.example')!.action, 'block');
      const ordinary = page.items.find((i) => i.host === 'www.bbc.co.uk' && i.qtype === 'A')!;
      assert.equal(ordinary.identityHidden, false);
      assert.deepEqual(ordinary.person, { id: h.pupilA.id, name: 'Ada Lovelace' }, 'ordinary entries keep the person');
      assert.equal(ordinary.clientIp, '10.0.0.5');
      assert.equal(byHost.get('bet.example')!.clientIp, '10.0.0.6');
      assert.equal(byHost.get('proxy.example')!.url, 'https://proxy.example/search', 'no search terms for technical staff');
    }
    for (const viewer of [dsl, head, adminAndDsl]) {
      const page = await search(viewer, { until: at(10) });
      assert.equal(page.restricted, false, viewer.actor.userId);
      const porn = page.items.find((i) => i.host === 'adult.example')!;
      assert.equal(porn.identityHidden, false);
      assert.deepEqual(porn.person, { id: h.pupilA.id, name: 'Ada Lovelace' });
      assert.equal(porn.clientIp, '10.0.0.5');
      assert.equal(porn.deviceId, 'dev-1');
    }
  });

  it('refuses a person search to IT and administrators (403, audited), and keeps address searches from singling out safeguarding entries', async () => {
    await assert.rejects(search(it_, { personId: h.pupilA.id }), isError('FORBIDDEN', /safeguarding role/));
    await assert.rejects(search(trustAdmin, { personId: h.pupilA.id }), isError('FORBIDDEN', /DSL/));
    const refused = await h.db.store.audit.list({ action: 'filter_log.refused', limit: 10 });
    assert.equal(refused.length, 2);
    assert.equal(refused[1]!.actorUserId, 'u-it');
    assert.equal((refused[1]!.detail as { personId?: string }).personId, h.pupilA.id);

    const byIp = await search(it_, { clientIp: '10.0.0.5', until: at(10) });
    assert.deepEqual(hosts(byIp.items), ['www.bbc.co.uk'], 'the pornography and illegal entries for that address are left out');
    const dslByIp = await search(dsl, { clientIp: '10.0.0.5', until: at(10) });
    assert.equal(dslByIp.items.length, 3);
  });

  it('refuses roles without the log and schools that do not exist', async () => {
    await assert.rejects(search(staff), isError('FORBIDDEN'));
    await assert.rejects(h.services.filterLog.search(dsl, h.schoolB.id, {}), isError('FORBIDDEN'), 'a DSL at A is nobody at B');
    await assert.rejects(h.services.filterLog.search(trustAdmin, 'no-such-school', {}), isError('SCHOOL_NOT_FOUND'));
  });

  it('records every search in the audit log with the filters used, never the results', async () => {
    const before = await h.db.store.audit.list({ action: 'filter_log.viewed', limit: 500 });
    await search(head, { host: 'adult', action: 'block', category: 'pornography', source: 'dns', since: at(0), limit: 50 });
    const [entry] = await h.db.store.audit.list({ action: 'filter_log.viewed', limit: 1 });
    assert.ok(entry && !before.some((b) => b.seq === entry.seq));
    assert.equal(entry.actorUserId, 'u-head');
    assert.equal(entry.resourceType, 'filter_log');
    assert.equal(entry.schoolId, a);
    assert.equal(entry.ip, '10.9.9.9');
    assert.deepEqual(entry.detail, { host: 'adult', action: 'block', category: 'pornography', source: 'dns', since: at(0), limit: 50 });
    const text = JSON.stringify(entry);
    assert.doesNotMatch(text, /adult\.example|Lovelace|10\.0\.0\.5/, 'nothing that came back');
  });

  it('records a live view when it starts and then every ten minutes, not every poll', async () => {
    const count = async () => (await h.db.store.audit.list({ action: 'filter_log.viewed', limit: 500 })).length;
    const start = await count();
    await search(dsl, { host: 'live-test', afterId: 1 });
    await search(dsl, { host: 'live-test', afterId: 2 });
    await search(dsl, { host: 'live-test', afterId: 3 });
    assert.equal(await count(), start + 1);
    const [entry] = await h.db.store.audit.list({ action: 'filter_log.viewed', limit: 1 });
    assert.deepEqual(entry!.detail, { host: 'live-test', live: true, limit: 100 });
    await search(dsl, { host: 'other-filter', afterId: 3 });
    assert.equal(await count(), start + 2, 'new filters are a new search');
    await search(dsl, { host: 'live-test' });
    assert.equal(await count(), start + 3, 'an ordinary search is always recorded');
    h.clock.advanceMinutes(11);
    await search(dsl, { host: 'live-test', afterId: 4 });
    assert.equal(await count(), start + 4);
  });

  it('looks each person up once per search', async () => {
    let lookups = 0;
    const store = h.db.store;
    const counting = createFilterLogService({
      ...h.services.deps,
      store: {
        ...store,
        people: {
          ...store.people,
          get: (id: string) => {
            lookups++;
            return store.people.get(id);
          },
        },
      },
    });
    const page = await counting.search(dsl, a, { until: at(10) });
    assert.ok(page.items.filter((i) => i.personId === h.pupilA.id).length >= 3);
    assert.equal(lookups, 3, 'Ada, Bea and the person who is gone: one look-up each');
  });

  it('knows which entries are safeguarding entries', () => {
    const e = (over: Partial<StoredFilterEvent>) => ({ category: null, layer: 'profile' as const, flagged: false, ...over });
    assert.equal(isSafeguardingEvent(e({ category: 'self-harm' })), true);
    assert.equal(isSafeguardingEvent(e({ category: 'extremism' })), true);
    assert.equal(isSafeguardingEvent(e({ category: 'illegal' })), true);
    assert.equal(isSafeguardingEvent(e({ layer: 'illegal' })), true);
    assert.equal(isSafeguardingEvent(e({ category: 'games', flagged: true })), true);
    assert.equal(isSafeguardingEvent(e({ category: 'games' })), false);
    assert.equal(isSafeguardingEvent(e({ category: 'no-such-category' })), false);
    assert.equal(isSafeguardingEvent(e({})), false);
  });
});
