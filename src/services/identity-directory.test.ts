/**
 * Who is asking: a registered device by its DoH token or its address (with the person it is given
 * to), else the school whose site holds the address (the most specific range first), else the
 * default school, as a guest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { createIdentityDirectory, hashDeviceToken } from './identity-directory.ts';
import type { RequestContext } from './index.ts';

describe('identity directory', () => {
  let h: Harness;
  const admin: RequestContext = { actor: { userId: 'u-admin', grants: [roleGrant('admin', null)] }, actorLabel: 'admin@test', ip: null };

  before(async () => {
    h = await createHarness();
    await h.services.policies.saveSchoolPolicy(admin, h.schoolB.id, {
      policy: {
        schoolId: h.schoolB.id,
        places: [{ id: 'beta-campus', label: 'Beta campus', cidrs: ['10.20.0.0/16', '2001:db8:20::/48'] }],
      },
      reason: 'Beta network ranges',
      baseVersion: 0,
    });
    await h.services.policies.saveSchoolPolicy(admin, h.schoolA.id, {
      policy: { schoolId: h.schoolA.id, places: [{ id: 'alpha-annexe', label: 'Alpha annexe', cidrs: ['10.20.5.0/24'] }] },
      reason: 'Alpha annexe shares the Beta campus network',
      baseVersion: 0,
    });
  });
  after(() => h.close());

  it('knows nothing until refreshed, then places addresses by the most specific range', async () => {
    const dir = createIdentityDirectory(h.db, h.services.policies);
    assert.equal(dir.identify({ ip: '10.20.5.9' }), null);
    await dir.refresh();
    assert.deepEqual(dir.identify({ ip: '10.20.5.9' }), {
      schoolId: h.schoolA.id,
      person: null,
      personId: null,
      deviceId: null,
      place: 'alpha-annexe',
      via: 'site',
    });
    assert.equal(dir.identify({ ip: '10.20.9.1' })?.schoolId, h.schoolB.id);
    assert.equal(dir.identify({ ip: '2001:db8:20::7' })?.place, 'beta-campus');
    assert.equal(dir.identify({ ip: '::ffff:10.20.9.1' })?.schoolId, h.schoolB.id, 'IPv4 seen through a dual-stack socket');
  });

  it('puts unclaimed and unreadable addresses in the default school as guests', async () => {
    const dir = createIdentityDirectory(h.db, h.services.policies);
    await dir.refresh();
    const other = dir.identify({ ip: '192.168.1.1' });
    // Both were added at the same (test clock) moment: the id breaks the tie.
    const [first] = [h.schoolA, h.schoolB].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    assert.equal(other?.schoolId, first?.id, 'the first school added');
    assert.equal(other?.via, 'default');
    assert.equal(other?.person, null);
    assert.equal(dir.identify({ ip: 'not an address' })?.via, 'default');
    const byUrn = createIdentityDirectory(h.db, h.services.policies, { defaultSchool: '100002' });
    await byUrn.refresh();
    assert.equal(byUrn.identify({ ip: '192.168.1.1' })?.schoolId, h.schoolB.id);
  });

  it('follows a saved change to a school’s places', async () => {
    const dir = h.services.identity;
    await dir.refresh();
    assert.equal(dir.identify({ ip: '172.16.0.1' })?.via, 'default');
    const current = await h.services.policies.schoolPolicy(h.schoolB.id);
    await h.services.policies.saveSchoolPolicy(admin, h.schoolB.id, {
      policy: {
        ...current.policy,
        places: [...(current.policy.places ?? []), { id: 'wifi', label: 'Guest wifi', cidrs: ['172.16.0.0/12'] }],
      },
      reason: 'Guest wifi added',
      baseVersion: current.version,
    });
    await dir.refresh();
    assert.deepEqual([dir.identify({ ip: '172.16.0.1' })?.schoolId, dir.identify({ ip: '172.16.0.1' })?.place], [h.schoolB.id, 'wifi']);
  });

  describe('devices', () => {
    let pupil: string;
    let pupilGroups: string[];

    before(async () => {
      pupil = h.pupilA.id;
      const chess = await h.services.groups.create(admin, h.schoolA.id, 'Chess Club');
      await h.services.groups.addMember(admin, h.schoolA.id, chess.id, pupil);
      pupilGroups = (await h.db.store.groups.groupsOf(pupil)).map((g) => g.id).sort();
      assert.ok(pupilGroups.includes(chess.id) && pupilGroups.length >= 2, 'year group, key stage and the club');
    });

    it('knows a device by its token: its school, its person’s kind, year and groups, and the place it is in', async () => {
      const { device, token } = await h.services.devices.register(admin, h.schoolA.id, {
        label: 'Ada’s laptop',
        kind: 'laptop',
        personId: pupil,
      });
      const dir = createIdentityDirectory(h.db, h.services.policies);
      await dir.refresh();
      const away = dir.identify({ ip: '203.0.113.9', deviceToken: token });
      assert.deepEqual(away, {
        schoolId: h.schoolA.id,
        person: { kind: 'pupil', yearGroup: '5', groups: pupilGroups },
        personId: pupil,
        deviceId: device.id,
        place: null,
        via: 'device-token',
      });
      assert.equal(dir.identify({ ip: '10.20.5.9', deviceToken: token })?.place, 'alpha-annexe', 'on site: the place still counts');
      // In school B's range, school A's device keeps school A's policy and gets no place of B's.
      const inB = dir.identify({ ip: '10.20.9.1', deviceToken: token });
      assert.deepEqual([inB?.schoolId, inB?.place, inB?.via], [h.schoolA.id, null, 'device-token']);
      // An unknown token is just an address.
      const unknown = dir.identify({ ip: '10.20.9.1', deviceToken: 'x'.repeat(43) });
      assert.deepEqual([unknown?.schoolId, unknown?.via, unknown?.person], [h.schoolB.id, 'site', null]);
    });

    it('knows a device by its registered address, however the address is written', async () => {
      const { device } = await h.services.devices.register(admin, h.schoolB.id, { label: 'Hall PC', kind: 'desktop', ip: '10.20.7.7' });
      const v6 = await h.services.devices.register(admin, h.schoolB.id, { label: 'Office Mac', kind: 'desktop', ip: '2001:DB8:20:0::7' });
      const dir = createIdentityDirectory(h.db, h.services.policies);
      await dir.refresh();
      const expected = {
        schoolId: h.schoolB.id,
        person: null,
        personId: null,
        deviceId: device.id,
        place: 'beta-campus',
        via: 'device-ip',
      };
      assert.deepEqual(dir.identify({ ip: '10.20.7.7' }), expected);
      assert.deepEqual(dir.identify({ ip: '::ffff:10.20.7.7' }), expected, 'through a dual-stack socket');
      assert.equal(dir.identify({ ip: '2001:db8:20::7' })?.deviceId, v6.device.id);
      assert.equal(dir.identify({ ip: '10.20.7.8' })?.via, 'site', 'the next address is only on the site');
    });

    it('knows a device by its MAC at the address the DHCP server leased it', async () => {
      const { device } = await h.services.devices.register(admin, h.schoolA.id, {
        label: 'Trolley tablet 3',
        kind: 'tablet',
        personId: pupil,
        mac: '02:00:5E:10:00:03',
      });
      const dir = createIdentityDirectory(h.db, h.services.policies);
      await dir.refresh();
      assert.equal(dir.identify({ ip: '10.20.5.77' })?.via, 'site', 'no lease yet');
      dir.setLeases([{ ip: '10.20.5.77', mac: '02:00:5e:10:00:03', expires: null }]);
      const leased = dir.identify({ ip: '10.20.5.77' });
      assert.deepEqual([leased?.deviceId, leased?.personId, leased?.place, leased?.via], [device.id, pupil, 'alpha-annexe', 'device-mac']);
      assert.equal(dir.identify({ ip: '10.20.5.78' })?.via, 'site');
      dir.setLeases([]);
      assert.equal(dir.identify({ ip: '10.20.5.77' })?.via, 'site', 'the lease ended');
    });

    it('prefers the token to the address, and goes back to site or default when a device is revoked', async () => {
      const tokenDevice = await h.services.devices.register(admin, h.schoolA.id, { label: 'Trolley iPad 1', kind: 'tablet' });
      const ipDevice = await h.services.devices.register(admin, h.schoolB.id, { label: 'Library PC', kind: 'desktop', ip: '10.20.8.8' });
      const dir = createIdentityDirectory(h.db, h.services.policies);
      await dir.refresh();
      const both = dir.identify({ ip: '10.20.8.8', deviceToken: tokenDevice.token });
      assert.deepEqual([both?.deviceId, both?.via, both?.person], [tokenDevice.device.id, 'device-token', null]);

      await h.services.devices.revoke(admin, h.schoolA.id, tokenDevice.device.id);
      await h.services.devices.revoke(admin, h.schoolB.id, ipDevice.device.id);
      await dir.refresh();
      assert.deepEqual(dir.identify({ ip: '10.20.8.8', deviceToken: tokenDevice.token }), {
        schoolId: h.schoolB.id,
        person: null,
        personId: null,
        deviceId: null,
        place: 'beta-campus',
        via: 'site',
      });
      const home = dir.identify({ ip: '198.51.100.1', deviceToken: tokenDevice.token });
      assert.deepEqual([home?.via, home?.deviceId, home?.person], ['default', null, null]);
    });

    it('follows device changes at once through the services’ own directory', async () => {
      const dir = h.services.identity;
      await dir.refresh();
      const { device, token } = await h.services.devices.register(admin, h.schoolA.id, { label: 'Loan laptop', kind: 'laptop' });
      assert.equal(dir.identify({ ip: '198.51.100.2', deviceToken: token })?.deviceId, device.id, 'no refresh needed');
      await h.services.devices.update(admin, h.schoolA.id, device.id, { personId: pupil });
      assert.equal(dir.identify({ ip: '198.51.100.2', deviceToken: token })?.person?.kind, 'pupil');
      const rotated = await h.services.devices.rotateToken(admin, h.schoolA.id, device.id);
      assert.equal(dir.identify({ ip: '198.51.100.2', deviceToken: token })?.via, 'default', 'the old token is dead');
      assert.equal(dir.identify({ ip: '198.51.100.2', deviceToken: rotated.token })?.via, 'device-token');
      assert.equal(hashDeviceToken(rotated.token).length, 64);
    });

    it('filters a leaver’s device as a guest’s, and an address two schools registered only where a site says whose it is', async () => {
      const staff = await h.services.people.create(admin, h.schoolB.id, {
        kind: 'staff',
        firstName: 'Lee',
        lastName: 'Ver',
        email: 'lee@beta.example',
      });
      const { token } = await h.services.devices.register(admin, h.schoolB.id, {
        label: 'Lee’s laptop',
        kind: 'laptop',
        personId: staff.id,
      });
      await h.services.people.update(admin, h.schoolB.id, staff.id, { left: true });
      // 10.20.6.6 is on Beta's campus; 192.168.50.5 is on nobody's site.
      await h.services.devices.register(admin, h.schoolA.id, { label: 'Shared 1', kind: 'other', ip: '10.20.6.6' });
      const beta = await h.services.devices.register(admin, h.schoolB.id, { label: 'Shared 1', kind: 'other', ip: '10.20.6.6' });
      await h.services.devices.register(admin, h.schoolA.id, { label: 'Shared 2', kind: 'other', ip: '192.168.50.5' });
      await h.services.devices.register(admin, h.schoolB.id, { label: 'Shared 2', kind: 'other', ip: '192.168.50.5' });
      const dir = createIdentityDirectory(h.db, h.services.policies);
      await dir.refresh();
      const leaver = dir.identify({ ip: '198.51.100.3', deviceToken: token });
      assert.deepEqual([leaver?.schoolId, leaver?.via, leaver?.person, leaver?.personId], [h.schoolB.id, 'device-token', null, null]);
      assert.equal(dir.identify({ ip: '10.20.6.6' })?.deviceId, beta.device.id);
      assert.equal(dir.identify({ ip: '192.168.50.5' })?.via, 'default', 'ambiguous: neither school’s device');
    });
  });
});
