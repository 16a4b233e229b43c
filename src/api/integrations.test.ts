/**
 * Integrations over HTTP: IT makes a key for the logon script (shown once, listed by its first
 * characters only, audited without the key), the script sends logins with it, and the filters
 * know who is at each address at once. Keys are the only way in: no key, a wrong, revoked or
 * unscoped key, or a session cookie get 401; bad bodies get a 400 naming each problem and store
 * nothing; a key of one school maps only that school's people.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { testEngines } from '../../test-support/databases.ts';

type Json = Record<string, any>;

for (const engine of testEngines())
  describe(`integrations API (${engine.name})`, { skip: engine.skip }, () => {
    let h: Harness;
    let itCookie: string;
    let secret: string;
    let keyId: string;
    const send = (headers: Record<string, string>, method: string, url: string, payload?: unknown) =>
      h.app.inject({
        method: method as 'POST',
        url,
        headers: { ...headers, ...(payload !== undefined && { 'content-type': 'application/json' }) },
        ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    const keysUrl = (path = '', schoolId = h.schoolA.id) => `/api/v1/schools/${schoolId}/integration-keys${path}`;
    const feed = (key: string, payload: unknown) => send({ authorization: `Bearer ${key}` }, 'POST', '/api/v1/identity/events', payload);

    before(async () => {
      h = await createHarness({ engine });
      itCookie = (await h.sessionFor([roleGrant('it_manager', h.schoolA.id)])).cookie;
      await h.services.people.update(
        { actor: { userId: '', grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
        h.schoolA.id,
        h.pupilA.id,
        { email: 'ada@pupils.alpha.example' },
      );
      await h.services.identity.refresh();
    });
    after(() => h.close());

    it('makes a key shown once, lists it by its first characters, and audits it without the key', async () => {
      const res = await send({ cookie: itCookie }, 'POST', keysUrl(), { name: '  Logon   script ' });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<Json>();
      secret = body.secret;
      keyId = body.key.id;
      assert.match(secret, /^hvn_[A-Za-z0-9_-]{43}$/);
      assert.equal(body.key.name, 'Logon script');
      assert.deepEqual(body.key.scopes, ['identity']);
      assert.equal(body.key.hint, `${secret.slice(0, 12)}…`);
      const list = await send({ cookie: itCookie }, 'GET', keysUrl());
      assert.equal(list.statusCode, 200);
      assert.ok(!list.body.includes(secret.slice(12)), 'the key is never listed');
      assert.equal(list.json<Json>().items[0].id, keyId);
      const audit = await h.db.store.audit.list({ limit: 50 });
      const made = audit.find((a) => a.action === 'integration_key.created' && a.resourceId === keyId);
      assert.ok(made, 'the key’s making is audited');
      assert.ok(!JSON.stringify(audit).includes(secret.slice(4, 20)), 'no key in the audit log');
      const dup = await send({ cookie: itCookie }, 'POST', keysUrl(), { name: 'LOGON SCRIPT' });
      assert.equal(dup.statusCode, 409);
    });

    it('takes logins with the key and the filters know the person at once', async () => {
      const res = await feed(secret, {
        events: [
          { type: 'login', ip: '10.7.0.21', user: 'ada@pupils.alpha.example', source: 'logon-script' },
          { type: 'login', ip: '10.7.0.22', user: 'nobody-here', source: 'radius', ttlSeconds: 3600 },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<Json>(), { accepted: 2, results: [{ matched: true }, { matched: false }] });
      const who = h.services.identity.identify({ ip: '10.7.0.21' });
      assert.equal(who?.personId, h.pupilA.id);
      assert.equal(who?.via, 'login');
      const logins = await send({ cookie: itCookie }, 'GET', `/api/v1/schools/${h.schoolA.id}/logins?limit=5`);
      assert.equal(logins.statusCode, 200);
      const rows = logins.json<Json>().items;
      assert.equal(rows[1].personName, 'Ada Lovelace');
      assert.equal(rows[0].personName, null);
      assert.equal(rows[0].source, 'radius');
      const used = (await send({ cookie: itCookie }, 'GET', keysUrl())).json<Json>().items[0];
      assert.ok(used.lastUsedAt, 'the key’s last use is shown');
    });

    it('answers 401 without a key, with a wrong or malformed one, and to a session cookie', async () => {
      const body = { events: [{ type: 'login', ip: '10.7.0.30', user: 'ada@pupils.alpha.example' }] };
      const attempts: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${secret}x` },
        { authorization: `Basic ${Buffer.from(`x:${secret}`).toString('base64')}` },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${'hvn_'.padEnd(500, 'a')}` },
        { cookie: itCookie },
      ];
      for (const headers of attempts) {
        const res = await send(headers, 'POST', '/api/v1/identity/events', body);
        assert.equal(res.statusCode, 401, JSON.stringify(headers).slice(0, 60));
        assert.equal(res.json<Json>().error.code, 'UNAUTHENTICATED');
      }
      assert.equal(h.services.identity.identify({ ip: '10.7.0.30' })?.via, 'default');
    });

    it('refuses bad bodies with the problem named, and stores nothing', async () => {
      const before = (await h.services.logins.recent(h.schoolA.id, 1000)).length;
      const cases: [unknown, RegExp][] = [
        ['{"events": [', /JSON|Unexpected|body/i],
        [{}, /events/],
        [{ events: [] }, /events/],
        [{ events: [{ type: 'login', ip: '10.7.0.40' }] }, /user/],
        [{ events: [{ type: 'login', ip: '10.7.0.40', user: 'x', extra: 1 }] }, /extra|additional/i],
        [{ events: [{ type: 'signin', ip: '10.7.0.40', user: 'x' }] }, /type/],
        [{ events: [{ type: 'login', ip: '10.7.0.40', user: 'x', ttlSeconds: 999_999 }] }, /ttlSeconds/],
        [{ events: [{ type: 'login', ip: '300.1.1.1', user: 'x' }] }, /events\/0\/ip/],
        [{ events: Array.from({ length: 1001 }, () => ({ type: 'login', ip: '10.7.0.40', user: 'x' })) }, /events/],
      ];
      for (const [payload, problem] of cases) {
        const res = await feed(secret, payload);
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)} → ${res.body}`);
        assert.match(res.body, problem);
      }
      assert.equal((await h.services.logins.recent(h.schoolA.id, 1000)).length, before);
    });

    it('a key maps only its own school’s people', async () => {
      const adminCookie = (await h.sessionFor([roleGrant('admin', null)])).cookie;
      const other = (await send({ cookie: adminCookie }, 'POST', keysUrl('', h.schoolB.id), { name: 'Beta RADIUS' })).json<Json>();
      const res = await feed(other.secret, { events: [{ type: 'login', ip: '10.8.0.5', user: 'ada@pupils.alpha.example' }] });
      assert.deepEqual(res.json<Json>().results, [{ matched: false }]);
      assert.equal(h.services.identity.identify({ ip: '10.8.0.5' })?.schoolId, h.schoolB.id);
      assert.equal(h.services.identity.identify({ ip: '10.8.0.5' })?.person, null);
    });

    it('a revoked key stops working at once; revoking twice is a conflict', async () => {
      const res = await send({ cookie: itCookie }, 'POST', keysUrl(`/${keyId}/revoke`));
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json<Json>().key.revokedAt);
      assert.equal((await feed(secret, { events: [{ type: 'logout', ip: '10.7.0.21', user: 'x' }] })).statusCode, 401);
      assert.equal((await send({ cookie: itCookie }, 'POST', keysUrl(`/${keyId}/revoke`))).statusCode, 409);
      assert.equal((await send({ cookie: itCookie }, 'POST', keysUrl(`/${keyId}/revoke`, h.schoolB.id))).statusCode, 403);
    });
  });
