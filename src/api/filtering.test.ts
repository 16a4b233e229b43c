/**
 * Filtering over HTTP: reading and changing policies with reasons and versions, bad bodies
 * refused clearly with nothing saved, who may change what, overrides, "check a site", and the
 * lists page's view of the index and the illegal tier.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { testEngines } from '../../test-support/databases.ts';
import { FIXTURE_ILLEGAL_URL } from '../../test-support/fixture-classification.ts';

type Json = Record<string, any>;
type Session = { cookie: string; userId: string };

for (const engine of testEngines())
  describe(`filtering API (${engine.name})`, { skip: engine.skip }, () => {
    let h: Harness;
    let trustAdmin: Session;
    let schoolAdmin: Session;
    let it_manager: Session;
    let teacher: Session;
    let otherTeacher: Session;
    let governor: Session;
    const send = (cookie: string, method: string, url: string, payload?: unknown) =>
      h.app.inject({
        method: method as 'POST',
        url,
        headers: { cookie, ...(payload !== undefined && { 'content-type': 'application/json' }) },
        ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    const schoolUrl = (path: string) => `/api/v1/schools/${h.schoolA.id}${path}`;

    before(async () => {
      h = await createHarness({ engine });
      trustAdmin = await h.sessionFor([roleGrant('admin', null)]);
      schoolAdmin = await h.sessionFor([roleGrant('admin', h.schoolA.id)]);
      it_manager = await h.sessionFor([roleGrant('it_manager', h.schoolA.id)]);
      teacher = await h.sessionFor([roleGrant('staff', h.schoolA.id)]);
      otherTeacher = await h.sessionFor([roleGrant('staff', h.schoolA.id)]);
      governor = await h.sessionFor([roleGrant('governor', h.schoolA.id)]);
    });
    after(() => h.close());

    it('shows a school its own changes, the trust policy it inherits and the result', async () => {
      const res = await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy'));
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<Json>();
      assert.equal(body.version, 0);
      assert.deepEqual(body.policy, { schoolId: h.schoolA.id });
      assert.equal(body.trust.version, 0);
      assert.ok(body.effective.profiles.some((p: Json) => p.id === 'ks2'));
    });

    it('changes a school policy with a reason and records it in the history', async () => {
      const res = await send(it_manager.cookie, 'PUT', schoolUrl('/filtering-policy'), {
        policy: { blockList: [{ pattern: 'timewaster.example', note: 'Asked by Year 6 team' }] },
        reason: 'Year 6 team asked for it during SATs revision',
        baseVersion: 0,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<Json>().version, 1);
      assert.match(res.json<Json>().changes.join('\n'), /timewaster\.example/);

      const history = (await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy/history'))).json<Json>();
      assert.equal(history.items.length, 1);
      assert.equal(history.items[0].reason, 'Year 6 team asked for it during SATs revision');
      assert.match(history.items[0].savedBy, /@/);
      const v1 = await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy/versions/1'));
      assert.equal(v1.json<Json>().policy.blockList[0].pattern, 'timewaster.example');
      assert.equal((await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy/versions/9'))).statusCode, 404);

      const check = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), {
        site: 'https://timewaster.example/x',
        profile: 'ks2',
      });
      assert.equal(check.json<Json>().decision.action, 'block');
      assert.equal(check.json<Json>().decision.layer, 'block-list');

      const audit = (await send(trustAdmin.cookie, 'GET', '/api/v1/audit?action=filtering.school_policy_changed')).json<Json>();
      assert.equal(audit.items[0].detail.reason, 'Year 6 team asked for it during SATs revision');
    });

    it('refuses bad bodies with a clear 400 and saves nothing', async () => {
      const cases: [string, unknown, RegExp][] = [
        ['no reason', { policy: {}, baseVersion: 1 }, /reason/],
        ['empty reason', { policy: { blockList: [{ pattern: 'a.example' }] }, reason: '', baseVersion: 1 }, /reason/],
        ['no base version', { policy: {}, reason: 'Because' }, /baseVersion/],
        ['unknown field', { policy: { colour: 'red' }, reason: 'Because', baseVersion: 1 }, /colour|additional/i],
        [
          'bad action',
          { policy: { baseline: { gambling: 'sometimes' } }, reason: 'Because', baseVersion: 1 },
          /gambling|allowed values|sometimes/,
        ],
        ['unknown category', { policy: { baseline: { knitting: 'block' } }, reason: 'Because', baseVersion: 1 }, /knitting/],
        ['bad site', { policy: { blockList: [{ pattern: 'not a host' }] }, reason: 'Because', baseVersion: 1 }, /not a host/],
        ['overrides in policy', { policy: { overrides: [] }, reason: 'Because', baseVersion: 1 }, /overrides|additional/i],
        ['stale version', { policy: { blockList: [{ pattern: 'b.example' }] }, reason: 'Because', baseVersion: 0 }, /changed since/],
      ];
      for (const [what, body, message] of cases) {
        const res = await send(it_manager.cookie, 'PUT', schoolUrl('/filtering-policy'), body);
        assert.ok(res.statusCode === 400 || res.statusCode === 409, `${what}: ${res.statusCode} ${res.body}`);
        assert.match(res.json<Json>().error.message, message, what);
      }
      const malformed = await send(it_manager.cookie, 'PUT', schoolUrl('/filtering-policy'), '{"policy": {');
      assert.equal(malformed.statusCode, 400);
      assert.equal((await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy'))).json<Json>().version, 1);
    });

    it('lets only trust-wide administrators change the trust policy', async () => {
      const current = (await send(trustAdmin.cookie, 'GET', '/api/v1/trust/filtering-policy')).json<Json>();
      const body = {
        policy: { ...current.policy, blockList: [{ pattern: 'trust-block.example', enforced: true }] },
        reason: 'Trust-wide block agreed by the safeguarding committee',
        baseVersion: current.version,
      };
      for (const who of [schoolAdmin, it_manager, teacher]) {
        assert.equal((await send(who.cookie, 'PUT', '/api/v1/trust/filtering-policy', body)).statusCode, 403);
      }
      const res = await send(trustAdmin.cookie, 'PUT', '/api/v1/trust/filtering-policy', body);
      assert.equal(res.statusCode, 200, res.body);
      const check = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), { site: 'trust-block.example', profile: 'staff' });
      assert.equal(check.json<Json>().decision.action, 'block');
      // The school may not remove an entry the trust enforces.
      const school = (await send(it_manager.cookie, 'GET', schoolUrl('/filtering-policy'))).json<Json>();
      const remove = await send(it_manager.cookie, 'PUT', schoolUrl('/filtering-policy'), {
        policy: { ...school.policy, removedTrustEntries: ['trust-block.example'] },
        reason: 'We want it back',
        baseVersion: school.version,
      });
      assert.equal(remove.statusCode, 400);
      assert.match(remove.json<Json>().error.message, /enforces/);
    });

    it('explains a decision for a site, person, time and place', async () => {
      const res = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), {
        site: 'games-example.test',
        personId: h.pupilA.id,
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<Json>();
      assert.equal(body.category, 'games');
      assert.equal(body.source, 'ut1/games');
      assert.equal(body.decision.action, 'block');
      assert.ok(body.decision.reason.length > 10);
      const illegal = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), { site: FIXTURE_ILLEGAL_URL, profile: 'staff' });
      assert.equal(illegal.json<Json>().decision.action, 'block');
      assert.equal(illegal.json<Json>().category, 'illegal');
      const bad = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), { site: 'x', profile: 'no-such' });
      assert.equal(bad.statusCode, 400);
      const noHost = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), { site: '///', profile: 'ks2' });
      assert.equal(noHost.json<Json>().decision, null);
      assert.equal((await send(governor.cookie, 'POST', schoolUrl('/filtering/check'), { site: 'x.example' })).statusCode, 403);
    });

    it('lets a teacher open a permitted category for a class, and only them or a manager end it', async () => {
      const list = (await send(teacher.cookie, 'GET', schoolUrl('/overrides'))).json<Json>();
      assert.ok(list.settings.categories.some((c: Json) => c.id === 'games' && c.label));
      assert.equal(list.settings.sites, true);

      const created = await send(teacher.cookie, 'POST', schoolUrl('/overrides'), {
        audience: { yearGroups: ['5'] },
        categories: ['games'],
        minutes: 50,
        reason: 'Computing: designing a platform game',
      });
      assert.equal(created.statusCode, 201, created.body);
      const o = created.json<Json>().override;
      assert.equal(o.state, 'active');
      assert.equal(o.audienceLabel, 'Year 5');
      const check = await send(it_manager.cookie, 'POST', schoolUrl('/filtering/check'), {
        site: 'games-example.test',
        personId: h.pupilA.id,
      });
      assert.equal(check.json<Json>().decision.layer, 'override');

      const refused = await send(teacher.cookie, 'POST', schoolUrl('/overrides'), {
        audience: { yearGroups: ['5'] },
        categories: ['pornography'],
        minutes: 10,
        reason: 'Not allowed',
      });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.json<Json>().error.message, /locked/);
      const noReason = await send(teacher.cookie, 'POST', schoolUrl('/overrides'), {
        audience: { yearGroups: ['5'] },
        categories: ['games'],
        minutes: 10,
      });
      assert.equal(noReason.statusCode, 400);

      const byOther = await send(otherTeacher.cookie, 'POST', schoolUrl(`/overrides/${o.id}/revoke`), { reason: 'Not mine to end' });
      assert.equal(byOther.statusCode, 403);
      const byOwner = await send(teacher.cookie, 'POST', schoolUrl(`/overrides/${o.id}/revoke`), { reason: 'Lesson over' });
      assert.equal(byOwner.statusCode, 200, byOwner.body);
      assert.equal(byOwner.json<Json>().override.state, 'revoked');
      assert.equal((await send(governor.cookie, 'GET', schoolUrl('/overrides'))).statusCode, 403);
    });

    it('shows the lists in use and proves the illegal tier is live', async () => {
      const res = await send(it_manager.cookie, 'GET', '/api/v1/filtering/lists');
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<Json>();
      assert.equal(body.illegal.ok, true);
      assert.equal(body.illegal.entries.iwf, 1);
      assert.ok(body.manifest.lists.some((l: Json) => l.name === 'ut1/adult' && l.category === 'pornography'));
      const cats = (await send(teacher.cookie, 'GET', '/api/v1/filtering/categories')).json<Json>();
      assert.ok(cats.items.some((c: Json) => c.id === 'pornography' && c.locked === true));
    });
  });
