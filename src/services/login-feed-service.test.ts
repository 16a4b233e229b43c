/**
 * The login feed from a school system's point of view: a batch is all or nothing, names are
 * matched to the school's pupils and staff, and the filters then know who is at each address
 * until the logout or the login's time is up — in this process at once, in others at their next poll.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { DomainError, type Person } from '../core/index.ts';
import { createServices, type RequestContext } from './index.ts';

const isValidation = (e: unknown) => e instanceof DomainError && e.code === 'VALIDATION_FAILED';

describe('login feed', () => {
  let h: Harness;
  let staff: Person;
  let twin: Person;
  let sender: { schoolId: string; keyId: string };
  const admin: RequestContext = { actor: { userId: 'u-admin', grants: [roleGrant('admin', null)] }, actorLabel: 'admin@test', ip: null };

  before(async () => {
    h = await createHarness();
    const ctx = admin;
    staff = await h.services.people.create(ctx, h.schoolA.id, {
      kind: 'staff',
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'g.hopper@alpha.example',
    });
    // Two people whose emails share the part before the @: a bare "jsmith" is nobody's.
    twin = await h.services.people.create(ctx, h.schoolA.id, {
      kind: 'staff',
      firstName: 'Jo',
      lastName: 'Smith',
      email: 'jsmith@alpha.example',
    });
    await h.services.people.create(ctx, h.schoolA.id, {
      kind: 'staff',
      firstName: 'Jay',
      lastName: 'Smith',
      email: 'JSmith@other.example',
    });
    await h.services.people.update(ctx, h.schoolA.id, h.pupilA.id, { email: 'ada.l@pupils.alpha.example' });
    const key = await h.services.integrationKeys.create(admin, h.schoolA.id, { name: 'Logon script' });
    sender = { schoolId: h.schoolA.id, keyId: key.key.id };
    await h.services.identity.refresh();
  });
  after(() => h.close());

  const identify = (ip: string) => h.services.identity.identify({ ip });

  it('maps an address to the person who logged in there, by email, UPN, or a bare or DOMAIN\\ name', async () => {
    const results = await h.services.logins.record(sender, [
      { type: 'login', ip: '10.1.0.11', user: 'G.Hopper@Alpha.example', source: 'logon-script' },
      { type: 'login', ip: '10.1.0.12', user: 'ALPHA\\ada.l', source: 'radius' },
      { type: 'login', ip: '10.1.0.13', user: 'b801200005001', source: 'agent' },
      { type: 'login', ip: '10.1.0.14', user: 'jsmith' },
      { type: 'login', ip: '10.1.0.15', user: 'j_smith' },
      { type: 'login', ip: '10.1.0.16', user: '%' },
    ]);
    assert.deepEqual(
      results.map((r) => r.matched),
      [true, true, true, false, false, false],
      'ambiguous names and LIKE wildcards match nobody',
    );
    assert.deepEqual(identify('10.1.0.11'), {
      schoolId: h.schoolA.id,
      person: { kind: 'staff', groups: identify('10.1.0.11')!.person!.groups },
      personId: staff.id,
      deviceId: null,
      place: null,
      via: 'login',
    });
    assert.equal(identify('10.1.0.12')?.personId, h.pupilA.id);
    assert.equal(identify('10.1.0.12')?.person?.yearGroup, '5', 'the pupil’s year group comes with them');
    assert.equal(identify('::ffff:10.1.0.13')?.personId, h.pupilA.id, 'the same address written the IPv6 way');
    assert.equal(identify('10.1.0.14')?.via, 'login', 'an unmatched login still says someone unknown is there');
    assert.equal(identify('10.1.0.14')?.person, null);
    assert.equal(twin.email, 'jsmith@alpha.example');
    const rows = await h.services.logins.recent(h.schoolA.id);
    assert.equal(rows[0]?.username, '%');
    assert.equal(rows.find((r) => r.ip === '10.1.0.11')?.personName, 'Grace Hopper');
    assert.equal(rows.find((r) => r.ip === '10.1.0.11')?.source, 'logon-script');
  });

  it('a logout ends the login; a late logout of the previous user does not end the next one', async () => {
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.1.1.1', user: 'g.hopper@alpha.example' }]);
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.1.1.1', user: 'ada.l@pupils.alpha.example' }]);
    await h.services.logins.record(sender, [{ type: 'logout', ip: '10.1.1.1', user: 'g.hopper@alpha.example' }]);
    assert.equal(identify('10.1.1.1')?.personId, h.pupilA.id);
    await h.services.logins.record(sender, [{ type: 'logout', ip: '10.1.1.1', user: 'ADA.L@pupils.alpha.example' }]);
    assert.equal(identify('10.1.1.1')?.via, 'default', 'back to a guest of the default school');
  });

  it('a login lapses after its time unless renewed', async () => {
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.1.2.1', user: 'g.hopper@alpha.example', ttlSeconds: 600 }]);
    h.clock.advanceMinutes(9);
    assert.equal(identify('10.1.2.1')?.personId, staff.id);
    h.clock.advanceMinutes(2);
    assert.equal(identify('10.1.2.1')?.via, 'default');
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.1.2.1', user: 'g.hopper@alpha.example' }]);
    h.clock.advanceMinutes(9 * 60 + 50);
    assert.equal(identify('10.1.2.1')?.personId, staff.id, 'the default lasts a school day (10 hours)');
  });

  it('a login outranks a device registered at the address', async () => {
    await h.services.devices.register(admin, h.schoolA.id, { label: 'Suite PC 7', kind: 'desktop', ip: '10.1.3.7' });
    assert.equal(identify('10.1.3.7')?.via, 'device-ip');
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.1.3.7', user: 'g.hopper@alpha.example' }]);
    assert.equal(identify('10.1.3.7')?.via, 'login');
    assert.equal(identify('10.1.3.7')?.personId, staff.id);
  });

  it('an address on another school’s site is not claimed by this school’s feed', async () => {
    await h.services.policies.saveSchoolPolicy(admin, h.schoolB.id, {
      policy: { schoolId: h.schoolB.id, places: [{ id: 'beta-main', label: 'Beta main site', cidrs: ['10.50.0.0/16'] }] },
      reason: 'Beta network',
      baseVersion: 0,
    });
    await h.services.identity.refresh();
    await h.services.logins.record(sender, [{ type: 'login', ip: '10.50.0.9', user: 'g.hopper@alpha.example' }]);
    assert.equal(identify('10.50.0.9')?.schoolId, h.schoolB.id);
    assert.equal(identify('10.50.0.9')?.via, 'site');
  });

  it('refuses a whole batch with every problem and its path, and stores nothing', async () => {
    const before = (await h.services.logins.recent(h.schoolA.id, 1000)).length;
    await assert.rejects(
      h.services.logins.record(sender, [
        { type: 'login', ip: '10.1.4.1', user: 'g.hopper@alpha.example' },
        { type: 'login', ip: '10.1.4.0/24', user: 'g.hopper@alpha.example' },
        { type: 'login', ip: 'not-an-ip', user: ' ' },
        { type: 'logout', ip: '10.1.4.2', user: 'x', ttlSeconds: 60 },
        { type: 'login', ip: '10.1.4.3', user: 'x', ttlSeconds: 30 },
        { type: 'login', ip: '10.1.4.4', user: 'x', at: 'yesterday' },
        { type: 'login', ip: '10.1.4.5', user: 'x', at: '2099-01-01T00:00:00Z' },
        { type: 'login', ip: '10.1.4.6', user: 'a\u0000b' },
        { type: 'sideways' as 'login', ip: '10.1.4.7', user: 'x' },
      ]),
      (e: unknown) => {
        assert.ok(isValidation(e));
        const paths = ((e as DomainError).details as { path: string }[]).map((d) => d.path);
        assert.deepEqual(paths, [
          '/events/1/ip',
          '/events/2/ip',
          '/events/2/user',
          '/events/3/ttlSeconds',
          '/events/4/ttlSeconds',
          '/events/5/at',
          '/events/6/at',
          '/events/7/user',
          '/events/8/type',
        ]);
        return true;
      },
    );
    await assert.rejects(h.services.logins.record(sender, []), isValidation);
    assert.equal((await h.services.logins.recent(h.schoolA.id, 1000)).length, before);
    assert.equal(identify('10.1.4.1')?.via, 'default', 'the good event in the refused batch did not apply');
  });

  it('another process sharing the database learns of logins at its next poll', async () => {
    const other = createServices({ ...h.services.deps });
    await other.identity.refresh();
    await other.identity.pollLogins();
    const ip = `10.1.5.${1 + Math.floor(Math.random() * 200)}`;
    await h.services.logins.record(sender, [{ type: 'login', ip, user: 'g.hopper@alpha.example' }]);
    assert.notEqual(other.identity.identify({ ip })?.personId, staff.id, 'not before it polls');
    assert.equal(await other.identity.pollLogins(), 1);
    assert.equal(other.identity.identify({ ip })?.personId, staff.id);
  });

  it('keeps the times the sender gave, and removes rows past the retention period', async () => {
    const at = new Date(h.clock.now().getTime() - 3600_000).toISOString();
    const ip = `10.1.6.${randomUUID().charCodeAt(0) % 200}`;
    await h.services.logins.record(sender, [{ type: 'login', ip, user: 'g.hopper@alpha.example', at, ttlSeconds: 7200 }]);
    const row = (await h.services.logins.recent(h.schoolA.id, 1))[0]!;
    assert.equal(row.at, at);
    assert.equal(row.expiresAt, new Date(Date.parse(at) + 7200_000).toISOString());
    const count = (await h.services.logins.recent(h.schoolA.id, 1000)).length;
    h.clock.advanceMinutes(2 * 24 * 60);
    assert.equal(await h.services.logins.purge(1), count, 'every row is older than a day now');
    assert.equal((await h.services.logins.recent(h.schoolA.id, 1000)).length, 0);
  });
});
