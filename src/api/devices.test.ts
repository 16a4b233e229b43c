/**
 * Devices over HTTP: IT registers a device and gets its DoH token once, lists without tokens,
 * changes, rotates and revokes; bad bodies are refused clearly; who may do what; and the DNS
 * filter's identity directory follows each step at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { testEngines } from '../../test-support/databases.ts';

type Json = Record<string, any>;
type Session = { cookie: string; userId: string };

for (const engine of testEngines())
  describe(`devices API (${engine.name})`, { skip: engine.skip }, () => {
    let h: Harness;
    let it_manager: Session;
    let dsl: Session;
    let teacher: Session;
    let trustAdmin: Session;
    const send = (cookie: string, method: string, url: string, payload?: unknown) =>
      h.app.inject({
        method: method as 'POST',
        url,
        headers: { cookie, ...(payload !== undefined && { 'content-type': 'application/json' }) },
        ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    const devicesUrl = (path = '', schoolId = h.schoolA.id) => `/api/v1/schools/${schoolId}/devices${path}`;
    const who = (token: string | null, ip = '198.51.100.7') => h.services.identity.identify({ ip, deviceToken: token });

    before(async () => {
      h = await createHarness({ engine });
      it_manager = await h.sessionFor([roleGrant('it_manager', h.schoolA.id)]);
      dsl = await h.sessionFor([roleGrant('dsl', h.schoolA.id)]);
      teacher = await h.sessionFor([roleGrant('staff', h.schoolA.id)]);
      trustAdmin = await h.sessionFor([roleGrant('admin', null)]);
      await h.services.identity.refresh();
    });
    after(() => h.close());

    it('registers a device for a pupil and answers its token and DoH path once; the filter knows it at once', async () => {
      const res = await send(it_manager.cookie, 'POST', devicesUrl(), {
        label: 'Ada’s Chromebook',
        kind: 'laptop',
        personId: h.pupilA.id,
        mac: 'AA-BB-CC-DD-EE-10',
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<Json>();
      assert.match(body.token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(body.dohPath, `/dns-query/${body.token}`);
      assert.equal(body.device.personName, 'Ada Lovelace');
      assert.equal(body.device.mac, 'aa:bb:cc:dd:ee:10');
      assert.equal('tokenHash' in body.device, false);

      const identity = who(body.token);
      assert.deepEqual(
        [identity?.schoolId, identity?.via, identity?.deviceId, identity?.personId, identity?.person?.kind, identity?.person?.yearGroup],
        [h.schoolA.id, 'device-token', body.device.id, h.pupilA.id, 'pupil', '5'],
      );

      const list = await send(dsl.cookie, 'GET', devicesUrl());
      assert.equal(list.statusCode, 200, list.body);
      assert.deepEqual(
        list.json<Json>().items.map((d: Json) => d.label),
        ['Ada’s Chromebook'],
      );
      assert.ok(!list.body.includes(body.token), 'no token in the list');
      assert.ok(!/token/i.test(list.body), 'nor a token hash');
    });

    it('refuses bad bodies with a clear 400 and saves nothing', async () => {
      const bad = async (payload: unknown, message?: RegExp) => {
        const res = await send(it_manager.cookie, 'POST', devicesUrl(), payload);
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.body}`);
        assert.equal(res.json<Json>().error.code, 'VALIDATION_FAILED');
        if (message) assert.match(res.json<Json>().error.message, message);
      };
      await bad({ label: 'X', kind: 'laptop', token: 'mine' });
      await bad({ label: 'X', kind: 'fridge' });
      await bad({ label: '', kind: 'laptop' });
      await bad({ label: 'x'.repeat(81), kind: 'laptop' });
      await bad({ kind: 'laptop' });
      await bad({ label: 'X', kind: 'laptop', ip: '1'.repeat(65) });
      await bad({ label: 'X', kind: 'laptop', ip: '10.1.2' }, /not an IP address/);
      await bad({ label: 'X', kind: 'laptop', mac: 'zz:zz' }, /not a MAC address/);
      await bad({ label: 'X', kind: 'laptop', personId: 'has spaces' });
      const list = (await send(it_manager.cookie, 'GET', devicesUrl())).json<Json>();
      assert.equal(list.items.length, 1);
      const id = list.items[0].id as string;
      const patch = await send(it_manager.cookie, 'PATCH', devicesUrl(`/${id}`), {});
      assert.equal(patch.statusCode, 400, 'an empty change');
      const unknown = await send(it_manager.cookie, 'PATCH', devicesUrl(`/${id}`), { revokedAt: null });
      assert.equal(unknown.statusCode, 400);
    });

    it('changes, rotates and revokes, and the filter follows', async () => {
      const created = (
        await send(it_manager.cookie, 'POST', devicesUrl(), { label: 'Library PC 3', kind: 'desktop', ip: '10.30.0.3' })
      ).json<Json>();
      const id = created.device.id as string;
      assert.equal(who(null, '10.30.0.3')?.deviceId, id, 'known by its address');

      const patched = await send(it_manager.cookie, 'PATCH', devicesUrl(`/${id}`), { ip: '10.30.0.4', personId: h.pupilA.id });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json<Json>().device.ip, '10.30.0.4');
      assert.equal(who(null, '10.30.0.3')?.via, 'default');
      assert.deepEqual([who(null, '10.30.0.4')?.via, who(null, '10.30.0.4')?.personId], ['device-ip', h.pupilA.id]);

      const rotated = await send(it_manager.cookie, 'POST', devicesUrl(`/${id}/rotate-token`));
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = rotated.json<Json>();
      assert.notEqual(fresh.token, created.token);
      assert.equal(fresh.dohPath, `/dns-query/${fresh.token}`);
      assert.equal(who(created.token)?.via, 'default', 'the old token no longer identifies');
      assert.equal(who(fresh.token)?.deviceId, id);

      const revoked = await send(it_manager.cookie, 'POST', devicesUrl(`/${id}/revoke`));
      assert.equal(revoked.statusCode, 200, revoked.body);
      assert.ok(revoked.json<Json>().device.revokedAt);
      assert.deepEqual([who(fresh.token)?.via, who(fresh.token)?.person], ['default', null], 'a guest again');
      assert.equal(who(null, '10.30.0.4')?.via, 'default');

      assert.equal((await send(it_manager.cookie, 'POST', devicesUrl(`/${id}/revoke`))).statusCode, 409);
      assert.equal((await send(it_manager.cookie, 'POST', devicesUrl(`/${id}/rotate-token`))).statusCode, 409);
      assert.equal((await send(it_manager.cookie, 'PATCH', devicesUrl(`/${id}`), { label: 'Again' })).statusCode, 409);

      const active = (await send(it_manager.cookie, 'GET', devicesUrl())).json<Json>().items.map((d: Json) => d.id);
      assert.equal(active.includes(id), false);
      const all = (await send(it_manager.cookie, 'GET', devicesUrl('?includeRevoked=true'))).json<Json>().items;
      assert.ok(all.some((d: Json) => d.id === id && d.revokedAt));

      const audit = await h.db.store.audit.list({ resourceType: 'device', resourceId: id, limit: 10 });
      assert.deepEqual(audit.map((e) => e.action).reverse(), [
        'device.registered',
        'device.updated',
        'device.token_rotated',
        'device.revoked',
      ]);
      assert.ok(!JSON.stringify(audit).includes(fresh.token) && !JSON.stringify(audit).includes(created.token));
    });

    it('lets IT and admins change devices, safeguarding leads only look, and nobody else in', async () => {
      const body = { label: 'Staffroom iPad', kind: 'tablet' };
      assert.equal((await send(dsl.cookie, 'POST', devicesUrl(), body)).statusCode, 403);
      assert.equal((await send(teacher.cookie, 'GET', devicesUrl())).statusCode, 403);
      assert.equal((await send(it_manager.cookie, 'GET', devicesUrl('', h.schoolB.id))).statusCode, 403, 'another school');
      const made = await send(trustAdmin.cookie, 'POST', devicesUrl(), body);
      assert.equal(made.statusCode, 201, made.body);
      const id = made.json<Json>().device.id as string;
      // The device belongs to school A: asked for under school B, it is not there.
      assert.equal((await send(trustAdmin.cookie, 'PATCH', devicesUrl(`/${id}`, h.schoolB.id), { label: 'Moved' })).statusCode, 404);
      assert.equal((await send(trustAdmin.cookie, 'POST', devicesUrl(`/${id}/revoke`, h.schoolB.id))).statusCode, 404);
      const clash = await send(it_manager.cookie, 'POST', devicesUrl(), { label: 'staffroom ipad', kind: 'tablet' });
      assert.equal(clash.statusCode, 409);
      assert.match(clash.json<Json>().error.message, /already a device called "Staffroom iPad"/);
    });
  });
