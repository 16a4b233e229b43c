/**
 * The API as a client sees it: one error format, bad input refused clearly with nothing half
 * written, security headers, OpenAPI, health, and the people/groups/users/audit resources.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { testEngines } from '../../test-support/databases.ts';
import { upnCheckLetter } from '../core/index.ts';
import { routeTable } from './index.ts';

type Json = Record<string, any>;

for (const engine of testEngines())
  describe(`API behaviour (${engine.name})`, { skip: engine.skip }, () => {
    let h: Harness;
    let admin: { cookie: string; userId: string };
    let office: { cookie: string };
    const send = (method: string, url: string, payload?: unknown, extra: Record<string, string> = {}, cookie = admin.cookie) =>
      h.app.inject({
        method: method as 'POST',
        url,
        headers: { cookie, ...(payload !== undefined && typeof payload !== 'string' && { 'content-type': 'application/json' }), ...extra },
        ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    const people = () => `/api/v1/schools/${h.schoolA.id}/people`;

    before(async () => {
      h = await createHarness({ engine });
      admin = await h.sessionFor([roleGrant('admin', null)]);
      office = await h.sessionFor([roleGrant('office', h.schoolA.id)]);
    });
    after(() => h.close());

    describe('bad input', () => {
      it('refuses malformed JSON with 400 BAD_REQUEST and keeps serving', async () => {
        const res = await send('POST', people(), '{"kind": "pupil",', { 'content-type': 'application/json' });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json<Json>().error.code, 'BAD_REQUEST');
        assert.equal((await send('GET', people())).statusCode, 200);
      });

      it('refuses wrong types, unknown fields and over-long text with field-level details', async () => {
        const wrongType = await send('POST', people(), { kind: 'pupil', firstName: 42, lastName: 'X' });
        assert.equal(wrongType.statusCode, 400);
        assert.equal(wrongType.json<Json>().error.code, 'VALIDATION_FAILED');
        assert.ok(wrongType.json<Json>().error.details.some((d: Json) => d.path === '/firstName'));

        const unknown = await send('POST', people(), { kind: 'visitor', firstName: 'A', lastName: 'B', isAdmin: true });
        assert.equal(unknown.statusCode, 400);
        assert.match(unknown.json<Json>().error.message, /unknown field "isAdmin"/);

        const long = await send('POST', people(), { kind: 'visitor', firstName: 'A'.repeat(101), lastName: 'B' });
        assert.equal(long.statusCode, 400);

        const badYear = await send('POST', people(), {
          kind: 'pupil',
          firstName: 'A',
          lastName: 'B',
          yearGroup: '14',
          upn: 'B801200005001',
          dateOfBirth: '2015-01-01',
        });
        assert.equal(badYear.statusCode, 400);

        const badQuery = await send('GET', `${people()}?limit=100000`);
        assert.equal(badQuery.statusCode, 400);
        const total = (await send('GET', people())).json<Json>().total;
        assert.equal(total, 1, 'nothing was written by any refused request');
      });

      it('refuses a pupil whose UPN check letter is wrong, or whose birthday is in the future', async () => {
        const upn = await send('POST', people(), {
          kind: 'pupil',
          firstName: 'A',
          lastName: 'B',
          yearGroup: '3',
          upn: 'A801200005001',
          dateOfBirth: '2018-01-01',
        });
        assert.equal(upn.statusCode, 400);
        assert.match(upn.json<Json>().error.message, /check letter/);
        const future = await send('POST', people(), {
          kind: 'pupil',
          firstName: 'A',
          lastName: 'B',
          yearGroup: '3',
          upn: 'B801200005001',
          dateOfBirth: '2030-01-01',
        });
        assert.equal(future.statusCode, 400);
      });

      it('refuses a duplicate UPN with 409 UPN_TAKEN', async () => {
        const dup = await send('POST', people(), {
          kind: 'pupil',
          firstName: 'Dup',
          lastName: 'Licate',
          yearGroup: '5',
          upn: h.pupilA.upn,
          dateOfBirth: '2016-05-05',
        });
        assert.equal(dup.statusCode, 409);
        assert.equal(dup.json<Json>().error.code, 'UPN_TAKEN');
      });

      it('stores SQL-looking and script-looking text verbatim and returns it as JSON, never HTML', async () => {
        const evil = { kind: 'visitor', firstName: "Robert'); DROP TABLE person;--", lastName: '<script>alert(1)</script>' };
        const res = await send('POST', people(), evil);
        assert.equal(res.statusCode, 201, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const found = await send('GET', `${people()}?search=${encodeURIComponent("'); DROP")}`);
        assert.equal(found.json<Json>().items[0].firstName, evil.firstName);
        assert.equal(found.json<Json>().items[0].lastName, evil.lastName);
      });

      it('refuses bodies that are not JSON (no cross-site form posts) and requests from other origins', async () => {
        const text = await send('POST', people(), 'kind=visitor', { 'content-type': 'text/plain' });
        assert.equal(text.statusCode, 415);
        assert.equal(text.json<Json>().error.code, 'UNSUPPORTED_MEDIA_TYPE');
        const form = await send('POST', people(), 'kind=visitor', { 'content-type': 'application/x-www-form-urlencoded' });
        assert.equal(form.statusCode, 415);
        const cross = await send('POST', people(), { kind: 'visitor', firstName: 'A', lastName: 'B' }, { origin: 'https://evil.example' });
        assert.equal(cross.statusCode, 403);
        const same = await send(
          'POST',
          people(),
          { kind: 'visitor', firstName: 'Same', lastName: 'Origin' },
          { origin: 'http://localhost:80', host: 'localhost:80' },
        );
        assert.equal(same.statusCode, 201);
      });

      it('answers unknown API paths with a JSON 404', async () => {
        const res = await send('GET', '/api/v1/nope');
        assert.equal(res.statusCode, 404);
        assert.equal(res.json<Json>().error.code, 'NOT_FOUND');
      });

      it('refuses an over-large body with 413', async () => {
        const res = await send(
          'POST',
          people(),
          JSON.stringify({ kind: 'visitor', firstName: 'x'.repeat(2 * 1024 * 1024), lastName: 'y' }),
          { 'content-type': 'application/json' },
        );
        assert.equal(res.statusCode, 413);
        assert.equal(res.json<Json>().error.code, 'PAYLOAD_TOO_LARGE');
      });
    });

    describe('headers, health and OpenAPI', () => {
      it('sends CSP and the usual safe headers', async () => {
        const res = await send('GET', '/healthz');
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<Json>().status, 'ok');
        const csp = String(res.headers['content-security-policy']);
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /script-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
        const api = await send('GET', '/api/v1/dashboard');
        assert.equal(api.headers['cache-control'], 'no-store');
      });

      it('describes every API route in OpenAPI', async () => {
        const res = await send('GET', '/api/openapi.json');
        assert.equal(res.statusCode, 200);
        const doc = res.json<Json>();
        assert.equal(doc.openapi, '3.0.3');
        const documented = new Set(
          Object.entries(doc.paths as Json).flatMap(([p, ops]) => Object.keys(ops as Json).map((m) => `${m.toUpperCase()} ${p}`)),
        );
        for (const r of routeTable(h.app).filter((x) => x.url.startsWith('/api/v1/'))) {
          const openapiPath = r.url.replace(/:(\w+)/g, '{$1}');
          assert.ok(documented.has(`${r.method} ${openapiPath}`), `${r.method} ${r.url} is missing from OpenAPI`);
        }
      });
    });

    describe('people, groups and the audit trail', () => {
      it('lets office staff add a pupil, who joins their year group and key stage', async () => {
        const upn = `${upnCheckLetter('801200005002')}801200005002`;
        const ok = await send(
          'POST',
          people(),
          { kind: 'pupil', firstName: 'Grace', lastName: 'Hopper', yearGroup: '3', upn, dateOfBirth: '2018-12-09' },
          {},
          office.cookie,
        );
        assert.equal(ok.statusCode, 201, ok.body);
        const id = ok.json<Json>().person.id;
        const detail = await send('GET', `${people()}/${id}`, undefined, {}, office.cookie);
        assert.deepEqual(
          detail
            .json<Json>()
            .groups.map((g: Json) => g.name)
            .sort(),
          ['KS2', 'Year 3'],
        );

        const moved = await send('PATCH', `${people()}/${id}`, { yearGroup: '4' }, {}, office.cookie);
        assert.equal(moved.statusCode, 200);
        const after = await send('GET', `${people()}/${id}`, undefined, {}, office.cookie);
        assert.deepEqual(
          after
            .json<Json>()
            .groups.map((g: Json) => g.name)
            .sort(),
          ['KS2', 'Year 4'],
        );

        const left = await send('PATCH', `${people()}/${id}`, { left: true }, {}, office.cookie);
        assert.ok(left.json<Json>().person.leftAt);
        const list = await send('GET', `${people()}?search=hopper`, undefined, {}, office.cookie);
        assert.equal(list.json<Json>().total, 0, 'people who left are hidden by default');
        const withLeft = await send('GET', `${people()}?search=hopper&includeLeft=true`, undefined, {}, office.cookie);
        assert.equal(withLeft.json<Json>().total, 1, 'but never deleted');

        const trail = await h.db.store.audit.list({ resourceId: id, limit: 20 });
        assert.deepEqual(trail.map((e) => e.action).reverse(), [
          'person.created',
          'person.viewed',
          'person.updated',
          'person.viewed',
          'person.left',
        ]);
        assert.doesNotMatch(JSON.stringify(trail), /2018-12-09/, 'values such as a date of birth stay out of the audit log');
      });

      it('keeps managed groups out of hand edits, and runs custom groups', async () => {
        const groups = (await send('GET', `/api/v1/schools/${h.schoolA.id}/groups`)).json<Json>().items as Json[];
        const year5 = groups.find((g) => g.name === 'Year 5')!;
        assert.equal(year5.managed, true);
        const rename = await send('PATCH', `/api/v1/schools/${h.schoolA.id}/groups/${year5.id}`, { name: 'Top set' });
        assert.equal(rename.statusCode, 409);
        const made = await send('POST', `/api/v1/schools/${h.schoolA.id}/groups`, { name: 'Choir' });
        assert.equal(made.statusCode, 201);
        const gid = made.json<Json>().group.id;
        const added = await send('POST', `/api/v1/schools/${h.schoolA.id}/groups/${gid}/members`, { personId: h.pupilA.id });
        assert.equal(added.json<Json>().group.memberCount, 1);
        const other = await send('POST', `/api/v1/schools/${h.schoolA.id}/groups/${gid}/members`, { personId: 'not-a-person' });
        assert.equal(other.statusCode, 404);
        const removed = await send('DELETE', `/api/v1/schools/${h.schoolA.id}/groups/${gid}/members/${h.pupilA.id}`);
        assert.equal(removed.json<Json>().group.memberCount, 0);
        const dupName = await send('POST', `/api/v1/schools/${h.schoolA.id}/groups`, { name: 'Choir' });
        assert.equal(dupName.statusCode, 409);
      });

      it('shows the audit log to an admin, audits that view, and verifies the chain', async () => {
        const res = await send('GET', '/api/v1/audit?limit=5');
        assert.equal(res.statusCode, 200);
        const body = res.json<Json>();
        assert.equal(body.items.length, 5);
        assert.ok(body.items[0].seq > body.items[4].seq, 'newest first');
        assert.equal(body.nextBeforeSeq, body.items[4].seq);
        const older = await send('GET', `/api/v1/audit?limit=5&beforeSeq=${body.nextBeforeSeq}`);
        assert.ok(older.json<Json>().items.every((e: Json) => e.seq < body.nextBeforeSeq));
        const viewed = await h.db.store.audit.list({ action: 'audit.viewed', limit: 5 });
        assert.ok(viewed.length >= 2);
        const verify = await send('GET', '/api/v1/audit/verify');
        assert.deepEqual({ ok: verify.json<Json>().ok, problem: verify.json<Json>().problem }, { ok: true, problem: null });
        assert.ok(verify.json<Json>().checked > 10);
      });

      it('has no route that edits or deletes the audit log', () => {
        const auditRoutes = routeTable(h.app).filter((r) => r.url.startsWith('/api/v1/audit'));
        assert.deepEqual(auditRoutes.map((r) => r.method).sort(), ['GET', 'GET']);
      });

      it('gives a dashboard of real figures limited to the user', async () => {
        const res = await send('GET', '/api/v1/dashboard', undefined, {}, office.cookie);
        const d = res.json<Json>();
        assert.equal(d.schoolCount, 1);
        assert.equal(d.userCount, null, 'office staff do not see user counts');
        assert.ok(d.people.pupil >= 1);
        const adm = (await send('GET', '/api/v1/dashboard')).json<Json>();
        assert.equal(adm.schoolCount, 2);
        assert.ok(adm.userCount >= 2);
      });

      it('stops an admin from locking themselves out', async () => {
        const res = await send('PATCH', `/api/v1/users/${admin.userId}`, { grants: [{ role: 'office', schoolId: null }] });
        assert.equal(res.statusCode, 409);
        const dis = await send('PATCH', `/api/v1/users/${admin.userId}`, { disabled: true });
        assert.equal(dis.statusCode, 409);
        const badRole = await send('POST', '/api/v1/users', {
          email: 'x@test.example',
          displayName: 'X',
          grants: [{ role: 'superuser', schoolId: null }],
        });
        assert.equal(badRole.statusCode, 400);
      });
    });
  });
