/**
 * Walks every API route with every role and checks the permission table in core is obeyed:
 * allowed roles get through, others get 403 FORBIDDEN, strangers get 401, and a role held at
 * one school opens nothing at another. Also fails when a route is missing from the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { can, defaultTrustPolicy, PERMISSIONS, ROLES, rolesAllowed, type Role } from '../core/index.ts';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { routeTable, type RouteInfo } from './index.ts';

/** A harmless, valid request for each route, so an allowed role is not stopped by validation. */
const SAMPLES: Record<string, { body?: unknown; csv?: string }> = {
  'POST /api/v1/auth/login': { body: { email: 'nobody@test.example', password: 'x' } },
  'POST /api/v1/auth/logout': { body: {} },
  'POST /api/v1/auth/mfa/verify': { body: { code: '123456' } },
  'POST /api/v1/auth/mfa/setup': { body: {} },
  'POST /api/v1/auth/mfa/enable': { body: { code: '123456' } },
  'POST /api/v1/auth/unlock': { body: { password: 'x' } },
  'POST /api/v1/auth/password': { body: { currentPassword: 'wrong password', newPassword: 'another long password 1' } },
  'PATCH /api/v1/trust': { body: { name: 'Test Trust' } },
  'POST /api/v1/schools': { body: { name: 'Alpha Primary' } },
  'PATCH /api/v1/schools/:schoolId': { body: { urn: '100001' } },
  'POST /api/v1/schools/:schoolId/people': { body: { kind: 'visitor', firstName: 'Vera', lastName: 'Visitor' } },
  'PATCH /api/v1/schools/:schoolId/people/:personId': { body: { firstName: 'Ada' } },
  'POST /api/v1/schools/:schoolId/people/import': { csv: 'upn,first name,surname,year,dob\n' },
  'POST /api/v1/schools/:schoolId/groups': { body: { name: 'Chess Club' } },
  'PATCH /api/v1/schools/:schoolId/groups/:groupId': { body: { name: 'Art Club' } },
  'POST /api/v1/schools/:schoolId/groups/:groupId/members': { body: { personId: 'PERSON' } },
  'POST /api/v1/users': { body: { email: 'new@test.example', displayName: 'New', grants: [] } },
  'PATCH /api/v1/users/:userId': { body: { displayName: 'Target user' } },
  'POST /api/v1/users/:userId/reset-password': { body: {} },
  'PUT /api/v1/trust/filtering-policy': { body: { policy: defaultTrustPolicy(), reason: 'Role walk', baseVersion: 0 } },
  'PUT /api/v1/schools/:schoolId/filtering-policy': {
    body: { policy: { blockList: [{ pattern: 'role-walk.example' }] }, reason: 'Role walk', baseVersion: 0 },
  },
  'POST /api/v1/schools/:schoolId/filtering/check': { body: { site: 'games-example.test', profile: 'ks2' } },
  'POST /api/v1/schools/:schoolId/overrides': {
    body: { audience: { yearGroups: ['5'] }, categories: ['games'], minutes: 30, reason: 'Role walk lesson' },
  },
  'POST /api/v1/schools/:schoolId/overrides/:overrideId/revoke': { body: { reason: 'Role walk' } },
  // The first role allowed registers it; the rest are told the name is taken (409).
  'POST /api/v1/schools/:schoolId/devices': { body: { label: 'Role walk laptop', kind: 'laptop', personId: 'PERSON' } },
  'PATCH /api/v1/schools/:schoolId/devices/:deviceId': { body: { label: 'Role walk tablet', kind: 'tablet' } },
  // The first role allowed makes it; the rest are told the name is taken (409).
  'POST /api/v1/schools/:schoolId/integration-keys': { body: { name: 'Role walk logon script' } },
  // The first role allowed answers it; the rest are told it has been answered (409).
  'POST /api/v1/schools/:schoolId/unblock-requests/:requestId/answer': { body: { outcome: 'declined', note: 'Role walk' } },
  'POST /api/v1/identity/events': { body: { events: [{ type: 'login', ip: '10.9.9.9', user: 'nobody@test.example' }] } },
};

describe('every route × every role', () => {
  let h: Harness;
  let routes: RouteInfo[];
  let ids: Record<string, string>;

  before(async () => {
    h = await createHarness();
    // Logging out ends the walking session, so it goes last.
    const isLogout = (r: RouteInfo) => r.url === '/api/v1/auth/logout';
    routes = routeTable(h.app)
      .filter((r) => r.url.startsWith('/api/v1/'))
      .sort((a, b) => Number(isLogout(a)) - Number(isLogout(b)));
    const admin = await h.sessionFor([roleGrant('admin', null)]);
    const group = await h.services.groups.create(
      { actor: { userId: admin.userId, grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      h.schoolA.id,
      'Art Club',
    );
    const target = await h.sessionFor([roleGrant('staff', h.schoolA.id)]);
    // The first role allowed to revoke it ends it; the rest are told it has ended (409).
    const override = await h.services.policies.createOverride(
      { actor: { userId: admin.userId, grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      h.schoolA.id,
      { audience: { yearGroups: ['5'] }, categories: ['games'], minutes: 240, reason: 'Role walk' },
    );
    // Once revoked, the other roles allowed to change it are told so (409).
    const device = await h.services.devices.register(
      { actor: { userId: admin.userId, grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      h.schoolA.id,
      { label: 'Role walk device', kind: 'tablet' },
    );
    // Once revoked, the other roles allowed to revoke it are told so (409).
    const key = await h.services.integrationKeys.create(
      { actor: { userId: admin.userId, grants: [roleGrant('admin', null)] }, actorLabel: 'test', ip: null },
      h.schoolA.id,
      { name: 'Role walk RADIUS' },
    );
    const request = await h.services.unblock.submit(
      h.services.unblock.ticketFor({
        schoolId: h.schoolA.id,
        host: 'games.example',
        url: null,
        category: 'games',
        action: 'block',
        personId: null,
        deviceId: null,
        clientIp: null,
        illegal: false,
        at: h.clock.now(),
      }),
      'unblock',
      'Role walk homework',
      null,
    );
    ids = {
      keyId: key.key.id,
      requestId: request.id,
      schoolId: h.schoolA.id,
      personId: h.pupilA.id,
      groupId: group.id,
      userId: target.userId,
      overrideId: override.id,
      deviceId: device.device.id,
      version: '1',
    };
  });
  after(() => h.close());

  const fill = (url: string, params: Record<string, string>) => url.replace(/:(\w+)/g, (_, k: string) => params[k] ?? `missing-${k}`);

  // Each caller from its own address: the per-address throttles on login steps are tested elsewhere.
  let callers = 0;
  const call = (
    route: RouteInfo,
    cookie: string | undefined,
    params: Record<string, string>,
    remoteAddress = `10.1.${++callers % 250}.1`,
  ) => {
    const sample = SAMPLES[`${route.method} ${route.url}`] ?? {};
    const body = JSON.parse(JSON.stringify(sample.body ?? null)?.replace('PERSON', params.personId ?? '') ?? 'null') as unknown;
    return h.app.inject({
      method: route.method as 'GET',
      url: fill(route.url, params),
      headers: {
        ...(cookie && { cookie }),
        ...(sample.csv !== undefined ? { 'content-type': 'text/csv' } : body !== null ? { 'content-type': 'application/json' } : {}),
      },
      ...(sample.csv !== undefined ? { payload: sample.csv } : body !== null ? { payload: JSON.stringify(body) } : {}),
      remoteAddress,
    });
  };

  it('every /api/v1 route declares an access rule that is in the permission table', () => {
    assert.ok(routes.length >= 25, `expected the whole API, found ${routes.length} routes`);
    for (const r of routes) {
      assert.ok(r.access, `${r.method} ${r.url} has no access rule`);
      if ('public' in r.access) {
        assert.equal(`${r.method} ${r.url}`, 'POST /api/v1/auth/login', 'only logging in is public');
        continue;
      }
      if ('integration' in r.access) {
        assert.ok(r.url.startsWith('/api/v1/identity/'), `${r.method} ${r.url}: integration keys reach only /api/v1/identity/`);
        continue;
      }
      assert.ok(PERMISSIONS[r.access.resource], `${r.method} ${r.url}: resource ${r.access.resource} is not in the table`);
      assert.ok(
        rolesAllowed(r.access.action, r.access.resource).length > 0,
        `${r.method} ${r.url}: ${r.access.resource}:${r.access.action} allows no role`,
      );
    }
  });

  it('refuses every non-public route without a session (401)', async () => {
    for (const r of routes) {
      if (r.access && 'public' in r.access) continue;
      const res = await call(r, undefined, ids);
      assert.equal(res.statusCode, 401, `${r.method} ${r.url} without a session gave ${res.statusCode}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'UNAUTHENTICATED');
    }
  });

  for (const role of ROLES) {
    it(`obeys the table for ${role}`, async () => {
      const { cookie, userId } = await h.sessionFor([roleGrant(role, h.schoolA.id)]);
      const actor = { userId, grants: [roleGrant(role, h.schoolA.id)] };
      for (const r of routes) {
        const access = r.access!;
        if ('public' in access) continue;
        const res = await call(r, cookie, ids);
        const where = `${role} → ${r.method} ${r.url} (${res.statusCode} ${res.body.slice(0, 160)})`;
        if ('integration' in access) {
          // A session, whoever holds it, is not an integration key.
          assert.equal(res.statusCode, 401, where);
          continue;
        }
        if (!(access.states ?? ['active']).includes('active')) {
          // Steps of the login flow (second factor, unlock) are refused for a session past them.
          assert.equal(res.statusCode, 409, where);
          continue;
        }
        const allowed = can(actor, access.action, { type: access.resource, schoolId: h.schoolA.id });
        if (allowed) {
          assert.ok(res.statusCode !== 401 && res.statusCode !== 403, `should be allowed: ${where}`);
          assert.ok(res.statusCode < 500, `server error: ${where}`);
        } else {
          assert.equal(res.statusCode, 403, `should be forbidden: ${where}`);
          assert.equal(res.json<{ error: { code: string } }>().error.code, 'FORBIDDEN', where);
        }
      }
    });
  }

  it('a role held at one school opens nothing school-scoped at another', async () => {
    const rolesAtA: Role[] = ['dsl', 'headteacher', 'office', 'it_manager', 'staff', 'admin'];
    const otherSchool = { ...ids, schoolId: h.schoolB.id };
    for (const role of rolesAtA) {
      const { cookie } = await h.sessionFor([roleGrant(role, h.schoolA.id)]);
      for (const r of routes.filter((x) => x.url.includes(':schoolId'))) {
        const res = await call(r, cookie, otherSchool);
        assert.equal(res.statusCode, 403, `${role}@A → ${r.method} ${r.url} at B gave ${res.statusCode}`);
      }
    }
  });

  it('lists only the schools a user belongs to', async () => {
    const { cookie } = await h.sessionFor([roleGrant('dsl', h.schoolB.id)]);
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/schools', headers: { cookie } });
    assert.deepEqual(
      res.json<{ items: { name: string }[] }>().items.map((s) => s.name),
      ['Beta Academy'],
    );
  });
});
