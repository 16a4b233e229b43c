/**
 * The DNS log over HTTP, on SQLite and PostgreSQL: what each role gets, safeguarding entries
 * hidden from technical staff, person searches refused for them, bad query strings refused
 * clearly, paging, live polls, and the audit entry every search leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { testEngines } from '../../test-support/databases.ts';
import { newEvent } from '../../test-support/factories.ts';
import { ROLES, rolesAllowed } from '../core/index.ts';

type Json = Record<string, any>;

const TECHNICAL = new Set(['admin', 'it_manager']);

for (const engine of testEngines())
  describe(`DNS log API (${engine.name})`, { skip: engine.skip }, () => {
    let h: Harness;
    let dsl: string;
    let it_: string;
    let admin: string;
    const url = (q = '', schoolId = h.schoolA.id) => `/api/v1/schools/${schoolId}/filter-log${q}`;
    const get = (cookie: string, q = '', schoolId?: string) => h.app.inject({ method: 'GET', url: url(q, schoolId), headers: { cookie } });

    before(async () => {
      h = await createHarness({ engine });
      const a = h.schoolA.id;
      dsl = (await h.sessionFor([roleGrant('dsl', a)])).cookie;
      it_ = (await h.sessionFor([roleGrant('it_manager', a)])).cookie;
      admin = (await h.sessionFor([roleGrant('admin', null)])).cookie;
      await h.db.store.events.insertBatch([
        newEvent({ schoolId: a, at: '2026-03-02T09:00:00.000Z', host: 'www.bbc.co.uk', category: 'news', personId: h.pupilA.id }),
        newEvent({
          schoolId: a,
          at: '2026-03-02T09:01:00.000Z',
          host: 'bet.example',
          category: 'gambling',
          action: 'block',
          list: 'ut1/gambling',
        }),
        newEvent({
          schoolId: a,
          at: '2026-03-02T09:02:00.000Z',
          host: 'self-harm.example',
          category: 'self-harm',
          action: 'block',
          layer: 'baseline',
          ruleId: 'baseline:self-harm',
          personId: h.pupilA.id,
          deviceId: 'laptop-7',
          flagged: true,
        }),
        newEvent({ schoolId: a, at: '2026-03-02T09:03:00.000Z', host: 'ok.example', source: 'doh', clientIp: '2001:db8::7' }),
        newEvent({ schoolId: h.schoolB.id, at: '2026-03-02T09:04:00.000Z', host: 'beta-only.example' }),
      ]);
    });
    after(() => h.close());

    it('gives a DSL every entry at the school, newest first, with names', async () => {
      const res = await get(dsl);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json<Json>();
      assert.deepEqual(
        body.items.map((i: Json) => i.host),
        ['ok.example', 'self-harm.example', 'bet.example', 'www.bbc.co.uk'],
      );
      assert.equal(body.restricted, false);
      assert.equal(body.truncated, false);
      assert.equal(body.nextBeforeId, null);
      const sh = body.items[1];
      assert.deepEqual(sh.person, { id: h.pupilA.id, name: 'Ada Lovelace' });
      assert.equal(sh.clientIp, '10.0.0.5');
      assert.equal(sh.deviceId, 'laptop-7');
      assert.equal(sh.identityHidden, false);
      assert.equal(sh.ruleId, 'baseline:self-harm');
      assert.equal(sh.layer, 'baseline');
      assert.equal(body.items[0].clientIp, '2001:db8::7');
    });

    it('hides who asked on safeguarding entries from IT and administrators, and nothing else', async () => {
      for (const cookie of [it_, admin]) {
        const body = (await get(cookie)).json<Json>();
        assert.equal(body.restricted, true);
        const sh = body.items.find((i: Json) => i.host === 'self-harm.example');
        assert.deepEqual(
          { person: sh.person, personId: sh.personId, clientIp: sh.clientIp, deviceId: sh.deviceId, hidden: sh.identityHidden },
          { person: null, personId: null, clientIp: null, deviceId: null, hidden: true },
        );
        assert.deepEqual([sh.category, sh.action, sh.host], ['self-harm', 'block', 'self-harm.example']);
        const bbc = body.items.find((i: Json) => i.host === 'www.bbc.co.uk');
        assert.deepEqual(bbc.person, { id: h.pupilA.id, name: 'Ada Lovelace' });
        assert.equal(bbc.identityHidden, false);
      }
    });

    it('refuses a person search to IT with a clear 403, and lets the DSL search by person', async () => {
      const refused = await get(it_, `?personId=${h.pupilA.id}`);
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json<Json>().error.code, 'FORBIDDEN');
      assert.match(refused.json<Json>().error.message, /by person needs a safeguarding role/);
      const ok = await get(dsl, `?personId=${h.pupilA.id}`);
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(
        ok.json<Json>().items.map((i: Json) => i.host),
        ['self-harm.example', 'www.bbc.co.uk'],
      );
    });

    it('filters through the query string', async () => {
      const hosts = async (q: string) => (await get(dsl, q)).json<Json>().items.map((i: Json) => i.host);
      assert.deepEqual(await hosts('?host=BET'), ['bet.example']);
      assert.deepEqual(await hosts('?action=block'), ['self-harm.example', 'bet.example']);
      assert.deepEqual(await hosts('?category=gambling'), ['bet.example']);
      assert.deepEqual(await hosts('?source=doh'), ['ok.example']);
      assert.deepEqual(await hosts(`?clientIp=${encodeURIComponent('2001:db8::7')}`), ['ok.example']);
      assert.deepEqual(await hosts(`?since=${encodeURIComponent('2026-03-02T10:01:00+01:00')}&until=2026-03-02T09:03:00Z`), [
        'self-harm.example',
        'bet.example',
      ]);
      assert.deepEqual(await hosts(`?host=${encodeURIComponent("%' OR 1=1 --")}`), [], 'the search text is literal');
    });

    it('pages back with beforeId and polls forward with afterId', async () => {
      const first = (await get(dsl, '?limit=2')).json<Json>();
      assert.equal(first.items.length, 2);
      assert.equal(first.nextBeforeId, first.items[1].id);
      const second = (await get(dsl, `?limit=2&beforeId=${first.nextBeforeId}`)).json<Json>();
      assert.deepEqual(
        second.items.map((i: Json) => i.host),
        ['bet.example', 'www.bbc.co.uk'],
      );
      const newest = first.items[0].id as number;
      assert.deepEqual((await get(dsl, `?afterId=${newest}`)).json<Json>().items, []);
      await h.db.store.events.insertBatch([newEvent({ schoolId: h.schoolA.id, at: '2026-03-02T09:10:00.000Z', host: 'fresh.example' })]);
      const live = (await get(dsl, `?afterId=${newest}`)).json<Json>();
      assert.deepEqual(
        live.items.map((i: Json) => i.host),
        ['fresh.example'],
      );
    });

    it('refuses bad query strings with 400 and a message that says what is wrong', async () => {
      const cases: [string, RegExp][] = [
        ['?limit=0', /limit/],
        ['?limit=201', /limit/],
        ['?limit=ten', /limit/],
        ['?beforeId=0', /beforeId/],
        ['?beforeId=-4', /beforeId/],
        ['?afterId=x', /afterId/],
        ['?since=yesterday', /since/],
        ['?since=2026-03-02T09:00:00', /since/],
        ['?until=2026-13-01', /until/],
        ['?since=2026-02-30', /since must be a date/],
        ['?since=2026-03-03&until=2026-03-02', /since must be before until/],
        ['?action=explode', /action/],
        ['?source=ftp', /source/],
        ['?category=Not%20A%20Category', /category/],
        [`?host=${'a'.repeat(254)}`, /host/],
        ['?personId=has%20spaces', /personId/],
        ['?clientIp=evil.example', /clientIp/],
        ['?clientIp=999.1.1.1', /clientIp/],
        ['?beforeId=9&afterId=3', /not both/],
        ['?unknown=1', /unknown field "unknown"/],
      ];
      for (const [q, message] of cases) {
        const res = await get(dsl, q);
        assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
        assert.equal(res.json<Json>().error.code, 'VALIDATION_FAILED', q);
        assert.match(res.json<Json>().error.message, message, q);
      }
    });

    it('answers each role as the permission table says, hiding people from the technical roles', async () => {
      const allowed = rolesAllowed('read', 'filter_log');
      for (const role of ROLES) {
        const { cookie } = await h.sessionFor([roleGrant(role, h.schoolA.id)]);
        const res = await get(cookie);
        if (!allowed.includes(role)) {
          assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
          continue;
        }
        assert.equal(res.statusCode, 200, `${role}: ${res.body}`);
        const body = res.json<Json>();
        assert.equal(body.restricted, TECHNICAL.has(role), role);
        const sh = body.items.find((i: Json) => i.host === 'self-harm.example');
        assert.equal(sh.identityHidden, TECHNICAL.has(role), role);
        assert.equal(sh.person?.name ?? null, TECHNICAL.has(role) ? null : 'Ada Lovelace', role);
        // No role at one school opens another's log.
        assert.equal((await get(cookie, '', h.schoolB.id)).statusCode, 403, `${role} at B`);
      }
      const nobody = await h.app.inject({ method: 'GET', url: url() });
      assert.equal(nobody.statusCode, 401);
    });

    it('says when the school does not exist', async () => {
      const res = await get(admin, '', 'no-such-school');
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<Json>().error.code, 'SCHOOL_NOT_FOUND');
    });

    it('leaves an audit entry for every search, naming the filters and never the results', async () => {
      await get(it_, '?host=self&action=block&limit=20');
      const audit = await h.app.inject({
        method: 'GET',
        url: '/api/v1/audit?action=filter_log.viewed&limit=1',
        headers: { cookie: admin },
      });
      assert.equal(audit.statusCode, 200);
      const [entry] = audit.json<Json>().items;
      assert.equal(entry.resourceType, 'filter_log');
      assert.equal(entry.schoolId, h.schoolA.id);
      assert.match(entry.actorLabel, /it_manager/);
      assert.deepEqual(entry.detail, { host: 'self', action: 'block', limit: 20 });
      const refused = await h.app.inject({
        method: 'GET',
        url: '/api/v1/audit?action=filter_log.refused&limit=5',
        headers: { cookie: admin },
      });
      assert.ok(refused.json<Json>().items.length >= 1, 'the refused person search is on record too');
    });

    it('serves the live view’s poll, which needs afterId and does not keep an idle session awake', async () => {
      const live = (cookie: string, q: string) => h.app.inject({ method: 'GET', url: url(`/live${q}`), headers: { cookie } });
      const missing = await live(dsl, '');
      assert.equal(missing.statusCode, 400);
      assert.match(missing.json<Json>().error.message, /afterId/);
      assert.equal((await live(dsl, '?afterId=1&beforeId=3')).statusCode, 400, 'no paging back on the live poll');
      const newest = (await get(dsl, '?limit=1')).json<Json>().items[0].id as number;
      await h.db.store.events.insertBatch([newEvent({ schoolId: h.schoolA.id, at: '2026-03-02T09:20:00.000Z', host: 'live.example' })]);
      const polled = await live(it_, `?afterId=${newest}&host=live`);
      assert.equal(polled.statusCode, 200, polled.body);
      assert.deepEqual(
        polled.json<Json>().items.map((i: Json) => i.host),
        ['live.example'],
      );

      // Last in this file: it moves the shared clock past the idle lock.
      const watcher = (await h.sessionFor([roleGrant('dsl', h.schoolA.id)])).cookie;
      const worker = (await h.sessionFor([roleGrant('dsl', h.schoolA.id)])).cookie;
      for (let minute = 0; minute < 12; minute++) {
        h.clock.advanceMinutes(1);
        assert.equal((await get(worker, '?limit=1')).statusCode, 200, 'searching is activity');
        const res = await live(watcher, `?afterId=${newest}`);
        if (minute < 9) assert.equal(res.statusCode, 200, `minute ${minute}`);
      }
      const locked = await live(watcher, `?afterId=${newest}`);
      assert.equal(locked.statusCode, 401);
      assert.equal(locked.json<Json>().error.code, 'SESSION_LOCKED');
    });
  });
