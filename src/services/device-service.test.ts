/**
 * Registering, changing, re-keying and revoking school devices: validation with clear messages,
 * one active device per label, address and MAC in a school, tokens shown once and kept only as
 * their SHA-256, and an audit entry for every change that never holds a token.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/index.ts';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { normaliseDeviceIp, normaliseMac } from './device-service.ts';
import type { RequestContext } from './index.ts';

const failsWith = (code: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof DomainError, String(e));
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.message, message);
  return true;
};

describe('addresses and MACs', () => {
  it('writes addresses the canonical way and refuses what is not one device’s address', () => {
    assert.equal(normaliseDeviceIp(' 10.0.0.5 '), '10.0.0.5');
    assert.equal(normaliseDeviceIp('2001:DB8:0:0::5'), '2001:db8::5');
    assert.equal(normaliseDeviceIp('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(normaliseDeviceIp(''), null);
    assert.equal(normaliseDeviceIp(null), null);
    assert.throws(() => normaliseDeviceIp('10.0.0.0/24'), failsWith('VALIDATION_FAILED', /is a range/));
    assert.throws(() => normaliseDeviceIp('fe80::1%eth0'), failsWith('VALIDATION_FAILED', /zone id/));
    assert.throws(() => normaliseDeviceIp('010.0.0.5'), failsWith('VALIDATION_FAILED', /not an IP address/));
    assert.throws(() => normaliseDeviceIp('10.0.0.256'), failsWith('VALIDATION_FAILED', /not an IP address/));
    assert.throws(() => normaliseDeviceIp('laptop.local'), failsWith('VALIDATION_FAILED', /like 10\.0\.0\.5/));
    assert.throws(() => normaliseDeviceIp('0.0.0.0'), failsWith('VALIDATION_FAILED', /unspecified/));
    assert.throws(() => normaliseDeviceIp('::'), failsWith('VALIDATION_FAILED', /unspecified/));
  });

  it('reads MACs written with colons, hyphens, Cisco dots or bare hex', () => {
    for (const raw of ['AA:BB:CC:DD:EE:0F', 'aa-bb-cc-dd-ee-0f', 'aabb.ccdd.ee0f', 'AABBCCDDEE0F', ' aa:bb:cc:dd:ee:0f ']) {
      assert.equal(normaliseMac(raw), 'aa:bb:cc:dd:ee:0f', raw);
    }
    assert.equal(normaliseMac(''), null);
    assert.throws(() => normaliseMac('aa:bb-cc:dd:ee:ff'), failsWith('VALIDATION_FAILED', /not a MAC address/));
    assert.throws(() => normaliseMac('aa:bb:cc:dd:ee'), failsWith('VALIDATION_FAILED', /aa:bb:cc:dd:ee:ff/));
    assert.throws(() => normaliseMac('gg:bb:cc:dd:ee:ff'), failsWith('VALIDATION_FAILED'));
    assert.throws(() => normaliseMac('00:00:00:00:00:00'), failsWith('VALIDATION_FAILED', /all-zero/));
    assert.throws(() => normaliseMac('ff:ff:ff:ff:ff:ff'), failsWith('VALIDATION_FAILED', /broadcast/));
    assert.throws(() => normaliseMac('01:00:5e:00:00:01'), failsWith('VALIDATION_FAILED', /multicast/));
  });
});

describe('device service', () => {
  let h: Harness;
  const it_manager: RequestContext = {
    actor: { userId: 'u-it', grants: [roleGrant('it_manager', null)] },
    actorLabel: 'it@test',
    ip: '192.0.2.1',
  };
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  it('registers a device, returns its token once and keeps only the token’s SHA-256', async () => {
    const r = await h.services.devices.register(it_manager, h.schoolA.id, {
      label: '  Ada’s   laptop ',
      kind: 'laptop',
      personId: h.pupilA.id,
      ip: '10.9.0.1',
      mac: 'AA-BB-CC-00-00-01',
    });
    assert.match(r.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(r.dohPath, `/dns-query/${r.token}`);
    assert.deepEqual(
      { ...r.device, id: '', createdAt: '', updatedAt: '' },
      {
        id: '',
        schoolId: h.schoolA.id,
        label: 'Ada’s laptop',
        kind: 'laptop',
        personId: h.pupilA.id,
        personName: 'Ada Lovelace',
        ip: '10.9.0.1',
        mac: 'aa:bb:cc:00:00:01',
        createdAt: '',
        updatedAt: '',
        revokedAt: null,
      },
    );
    const stored = await h.db.store.devices.get(r.device.id);
    assert.equal(stored?.tokenHash, sha256(r.token));
    assert.ok(!JSON.stringify(stored).includes(r.token), 'the token itself is not stored');

    const listed = await h.services.devices.list(h.schoolA.id);
    const mine = listed.find((d) => d.id === r.device.id);
    assert.deepEqual(mine, r.device);
    assert.ok(!JSON.stringify(listed).includes(r.token) && !JSON.stringify(listed).includes(sha256(r.token)), 'lists hold no tokens');

    const [entry] = await h.db.store.audit.list({ action: 'device.registered', resourceId: r.device.id, limit: 5 });
    assert.equal(entry?.actorLabel, 'it@test');
    assert.equal(entry?.schoolId, h.schoolA.id);
    assert.deepEqual(entry?.detail, { kind: 'laptop', personId: h.pupilA.id, address: true, mac: true });
  });

  it('says clearly what is wrong with a new device', async () => {
    const register = (input: Parameters<typeof h.services.devices.register>[2], schoolId = h.schoolA.id) =>
      h.services.devices.register(it_manager, schoolId, input);
    await assert.rejects(register({ label: '   ', kind: 'laptop' }), failsWith('VALIDATION_FAILED', /Give the device a name/));
    await assert.rejects(register({ label: 'x'.repeat(81), kind: 'laptop' }), failsWith('VALIDATION_FAILED', /longer than 80/));
    await assert.rejects(register({ label: 'Bell\u0007', kind: 'laptop' }), failsWith('VALIDATION_FAILED', /control characters/));
    await assert.rejects(
      register({ label: 'Toaster', kind: 'toaster' as 'other' }),
      failsWith('VALIDATION_FAILED', /not a kind of device/),
    );
    await assert.rejects(register({ label: 'Bad IP', kind: 'laptop', ip: '10.0.0' }), failsWith('VALIDATION_FAILED', /not an IP address/));
    await assert.rejects(register({ label: 'Bad MAC', kind: 'laptop', mac: 'nope' }), failsWith('VALIDATION_FAILED', /not a MAC/));
    await assert.rejects(register({ label: 'Nobody’s', kind: 'laptop', personId: 'missing' }), failsWith('PERSON_NOT_FOUND'));
    await assert.rejects(
      register({ label: 'Wrong school', kind: 'laptop', personId: h.pupilA.id }, h.schoolB.id),
      failsWith('PERSON_NOT_FOUND'),
    );
    const visitor = await h.services.people.create(it_manager, h.schoolA.id, { kind: 'visitor', firstName: 'Vi', lastName: 'Sitor' });
    await assert.rejects(
      register({ label: 'Visitor laptop', kind: 'laptop', personId: visitor.id }),
      failsWith('VALIDATION_FAILED', /pupil or a member of staff, not a visitor/),
    );
    const leaver = await h.services.people.create(it_manager, h.schoolA.id, {
      kind: 'staff',
      firstName: 'Len',
      lastName: 'Leaver',
      email: 'len@alpha.example',
    });
    await h.services.people.update(it_manager, h.schoolA.id, leaver.id, { left: true });
    await assert.rejects(
      register({ label: 'Leaver laptop', kind: 'laptop', personId: leaver.id }),
      failsWith('VALIDATION_FAILED', /has left/),
    );
    await assert.rejects(register({ label: 'Ghost', kind: 'laptop' }, 'no-such-school'), failsWith('SCHOOL_NOT_FOUND'));
  });

  it('keeps labels, addresses and MACs to one active device per school', async () => {
    await h.services.devices.register(it_manager, h.schoolA.id, {
      label: 'Hall PC',
      kind: 'desktop',
      ip: '10.9.1.1',
      mac: '02:00:00:00:01:01',
    });
    const register = (input: Parameters<typeof h.services.devices.register>[2]) =>
      h.services.devices.register(it_manager, h.schoolA.id, input);
    await assert.rejects(register({ label: 'HALL pc', kind: 'desktop' }), failsWith('CONFLICT', /already a device called "Hall PC"/));
    await assert.rejects(
      register({ label: 'Other', kind: 'desktop', ip: '::ffff:10.9.1.1' }),
      failsWith('CONFLICT', /address 10\.9\.1\.1 \("Hall PC"\)/),
    );
    await assert.rejects(
      register({ label: 'Other', kind: 'desktop', mac: '0200.0000.0101' }),
      failsWith('CONFLICT', /MAC 02:00:00:00:01:01/),
    );
    // Another school may use the same name and private address.
    await h.services.devices.register(it_manager, h.schoolB.id, { label: 'Hall PC', kind: 'desktop', ip: '10.9.1.1' });
  });

  it('changes a device, auditing which fields changed, and refuses a clash', async () => {
    const { device } = await h.services.devices.register(it_manager, h.schoolA.id, { label: 'Trolley 1', kind: 'tablet' });
    await h.services.devices.register(it_manager, h.schoolA.id, { label: 'Trolley 2', kind: 'tablet', ip: '10.9.2.2' });
    const updated = await h.services.devices.update(it_manager, h.schoolA.id, device.id, {
      label: 'Trolley iPad 1',
      personId: h.pupilA.id,
      ip: '10.9.2.1',
      mac: 'aabbccddee02',
    });
    assert.deepEqual(
      [updated.label, updated.personId, updated.personName, updated.ip, updated.mac],
      ['Trolley iPad 1', h.pupilA.id, 'Ada Lovelace', '10.9.2.1', 'aa:bb:cc:dd:ee:02'],
    );
    const [entry] = await h.db.store.audit.list({ action: 'device.updated', resourceId: device.id, limit: 5 });
    assert.deepEqual(entry?.detail, { fields: ['label', 'personId', 'ip', 'mac'], personId: h.pupilA.id, previousPersonId: null });

    const cleared = await h.services.devices.update(it_manager, h.schoolA.id, device.id, { personId: null, ip: null, mac: '' });
    assert.deepEqual([cleared.personId, cleared.personName, cleared.ip, cleared.mac], [null, null, null, null]);

    const before = (await h.db.store.audit.list({ resourceId: device.id, limit: 50 })).length;
    await h.services.devices.update(it_manager, h.schoolA.id, device.id, { label: 'Trolley iPad 1' });
    assert.equal((await h.db.store.audit.list({ resourceId: device.id, limit: 50 })).length, before, 'no change, no entry');

    await assert.rejects(
      h.services.devices.update(it_manager, h.schoolA.id, device.id, { ip: '10.9.2.2' }),
      failsWith('CONFLICT', /"Trolley 2"/),
    );
    await assert.rejects(h.services.devices.update(it_manager, h.schoolB.id, device.id, { label: 'Moved' }), failsWith('NOT_FOUND'));
    await assert.rejects(h.services.devices.update(it_manager, h.schoolA.id, 'missing', { label: 'X' }), failsWith('NOT_FOUND'));
  });

  it('rotates a token: a new one, shown once; the old one is forgotten', async () => {
    const first = await h.services.devices.register(it_manager, h.schoolA.id, { label: 'Rotating laptop', kind: 'laptop' });
    const second = await h.services.devices.rotateToken(it_manager, h.schoolA.id, first.device.id);
    assert.notEqual(second.token, first.token);
    assert.equal(second.dohPath, `/dns-query/${second.token}`);
    assert.equal((await h.db.store.devices.get(first.device.id))?.tokenHash, sha256(second.token));
    const entries = await h.db.store.audit.list({ resourceId: first.device.id, limit: 10 });
    assert.deepEqual(entries.map((e) => e.action).sort(), ['device.registered', 'device.token_rotated']);
    const text = JSON.stringify(entries);
    for (const secret of [first.token, second.token, sha256(first.token), sha256(second.token)]) {
      assert.ok(!text.includes(secret), 'no token or token hash in the audit log');
    }
  });

  it('revokes a device: kept and listed on request, not changed again, not revoked twice', async () => {
    let refreshes = 0;
    const { createDeviceService } = await import('./device-service.ts');
    const devices = createDeviceService(h.services.deps, {
      onChange: () => {
        refreshes++;
        return Promise.reject(new Error('directory down'));
      },
    });
    const { device } = await devices.register(it_manager, h.schoolA.id, { label: 'Old laptop', kind: 'laptop', ip: '10.9.3.3' });
    const revoked = await devices.revoke(it_manager, h.schoolA.id, device.id);
    assert.equal(refreshes, 2, 'each change tells the directory, and its failure does not fail the change');
    assert.equal(revoked.revokedAt, h.clock.now().toISOString());
    assert.equal(
      (await devices.list(h.schoolA.id)).some((d) => d.id === device.id),
      false,
    );
    assert.equal(
      (await devices.list(h.schoolA.id, { includeRevoked: true })).find((d) => d.id === device.id)?.revokedAt,
      revoked.revokedAt,
    );
    await assert.rejects(devices.revoke(it_manager, h.schoolA.id, device.id), failsWith('CONFLICT', /already been revoked/));
    await assert.rejects(devices.update(it_manager, h.schoolA.id, device.id, { label: 'Back' }), failsWith('CONFLICT', /was revoked/));
    await assert.rejects(devices.rotateToken(it_manager, h.schoolA.id, device.id), failsWith('CONFLICT', /was revoked/));
    // Its name and address are free again.
    await devices.register(it_manager, h.schoolA.id, { label: 'Old laptop', kind: 'laptop', ip: '10.9.3.3' });
    const [entry] = await h.db.store.audit.list({ action: 'device.revoked', resourceId: device.id, limit: 5 });
    assert.equal(entry?.actorLabel, 'it@test');
  });
});
