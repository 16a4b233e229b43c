/**
 * Which school (and place) an address belongs to: a school's own sites, the most specific range
 * first, and the default school for everyone else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { createIdentityDirectory } from './identity-directory.ts';
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
    assert.equal(other?.schoolId, h.schoolA.id, 'the first school added');
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
});
