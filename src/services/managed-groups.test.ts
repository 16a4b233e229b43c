import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Person, Store } from '../core/index.ts';
import { createStore, migrateToLatest, openDatabase, type Database } from '../storage/index.ts';
import { managedGroupsFor, syncManagedGroups, type ManagedGroupCache } from './managed-groups.ts';

const AT = '2026-03-02T09:00:00.000Z';

describe('syncManagedGroups', () => {
  let db: Database;
  let store: Store;
  let schoolId: string;

  before(async () => {
    db = openDatabase({ dataDir: '', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    store = createStore(db.kysely, db.engine);
    await store.tenancy.createTrust({ id: 'trust', name: 'Trust', createdAt: AT });
  });
  after(() => db.close());
  beforeEach(async () => {
    // A school per test keeps the group names of one test out of the next.
    schoolId = randomUUID();
    await store.tenancy.createSchool({
      id: schoolId,
      trustId: 'trust',
      name: `School ${schoolId}`,
      urn: null,
      createdAt: AT,
      updatedAt: AT,
    });
  });

  const person = async (fields: Partial<Person>): Promise<Person> => {
    const p: Person = {
      id: randomUUID(),
      schoolId,
      kind: 'pupil',
      upn: null,
      firstName: 'Test',
      lastName: 'Person',
      yearGroup: null,
      dateOfBirth: null,
      email: null,
      staffRole: null,
      leftAt: null,
      createdAt: AT,
      updatedAt: AT,
      ...fields,
    };
    await store.people.create(p);
    return p;
  };
  const groupNames = async (p: Person) => (await store.groups.groupsOf(p.id)).map((g) => g.name).sort();
  const group = async (name: string) => {
    const g = await store.groups.findByName(schoolId, name);
    assert.ok(g, `group ${name} exists`);
    return g;
  };

  it('puts a pupil in their year group and key stage, creating managed groups on first need', async () => {
    const p = await person({ yearGroup: '7' });
    await syncManagedGroups(store, p, AT, randomUUID);
    assert.deepEqual(await groupNames(p), ['KS3', 'Year 7']);
    const year7 = await group('Year 7');
    assert.equal(year7.kind, 'year_group');
    assert.equal(year7.managed, true);
    const ks3 = await group('KS3');
    assert.equal(ks3.kind, 'key_stage');
    assert.equal(ks3.managed, true);
  });

  it('reuses the groups for the next pupil and does not add anyone twice', async () => {
    const a = await person({ yearGroup: 'R' });
    const b = await person({ yearGroup: 'R' });
    await syncManagedGroups(store, a, AT, randomUUID);
    await syncManagedGroups(store, b, AT, randomUUID);
    await syncManagedGroups(store, b, AT, randomUUID);
    assert.equal((await store.groups.list(schoolId)).length, 2);
    assert.equal((await group('Reception')).memberCount, 2);
    assert.equal((await group('EYFS')).memberCount, 2);
  });

  it('moves a pupil who changes year group, across key stages too', async () => {
    const p = await person({ yearGroup: '9' });
    await syncManagedGroups(store, p, AT, randomUUID);
    await syncManagedGroups(store, { ...p, yearGroup: '10' }, AT, randomUUID);
    assert.deepEqual(await groupNames(p), ['KS4', 'Year 10']);
    assert.equal((await group('Year 9')).memberCount, 0);
    assert.equal((await group('KS3')).memberCount, 0);
  });

  it('keeps the key stage when the year changes within it', async () => {
    const p = await person({ yearGroup: '3' });
    await syncManagedGroups(store, p, AT, randomUUID);
    await syncManagedGroups(store, { ...p, yearGroup: '4' }, AT, randomUUID);
    assert.deepEqual(await groupNames(p), ['KS2', 'Year 4']);
  });

  it('puts staff in "All staff" and nobody else in any managed group', async () => {
    const s = await person({ kind: 'staff', email: 's@example.com' });
    await syncManagedGroups(store, s, AT, randomUUID);
    assert.deepEqual(await groupNames(s), ['All staff']);
    assert.equal((await group('All staff')).kind, 'staff');
    for (const kind of ['parent', 'governor', 'visitor'] as const) {
      const p = await person({ kind, email: `${kind}@example.com` });
      await syncManagedGroups(store, p, AT, randomUUID);
      assert.deepEqual(await groupNames(p), [], kind);
    }
  });

  it('takes a person who has left out of managed groups but leaves custom groups alone', async () => {
    const p = await person({ yearGroup: '6' });
    const s = await person({ kind: 'staff', email: 'left@example.com' });
    await syncManagedGroups(store, p, AT, randomUUID);
    await syncManagedGroups(store, s, AT, randomUUID);
    const club = { id: randomUUID(), schoolId, name: 'Coding club', kind: 'custom' as const, managed: false, createdAt: AT };
    await store.groups.create(club);
    await store.groups.addMember(club.id, p.id);

    await syncManagedGroups(store, { ...p, leftAt: AT }, AT, randomUUID);
    await syncManagedGroups(store, { ...s, leftAt: AT }, AT, randomUUID);
    assert.deepEqual(await groupNames(p), ['Coding club']);
    assert.deepEqual(await groupNames(s), []);
  });

  it('brings a returning person back into their groups', async () => {
    const p = await person({ yearGroup: '2', leftAt: AT });
    await syncManagedGroups(store, p, AT, randomUUID);
    assert.deepEqual(await groupNames(p), []);
    await syncManagedGroups(store, { ...p, leftAt: null }, AT, randomUUID);
    assert.deepEqual(await groupNames(p), ['KS1', 'Year 2']);
  });

  it("refuses to fill a custom group that has a managed group's name", async () => {
    const custom = { id: randomUUID(), schoolId, name: 'Year 5', kind: 'custom' as const, managed: false, createdAt: AT };
    await store.groups.create(custom);
    const p = await person({ yearGroup: '5' });
    await assert.rejects(syncManagedGroups(store, p, AT, randomUUID), (e: { code?: string; message: string }) => {
      assert.equal(e.code, 'CONFLICT');
      assert.match(e.message, /custom group called "Year 5"/);
      return true;
    });
    assert.equal((await group('Year 5')).memberCount, 0);
  });

  it('looks each group up once when given a cache', async () => {
    const cache: ManagedGroupCache = new Map();
    let ids = 0;
    const newId = () => {
      ids++;
      return randomUUID();
    };
    for (let i = 0; i < 5; i++) await syncManagedGroups(store, await person({ yearGroup: '11' }), AT, newId, cache);
    assert.equal(ids, 2);
    assert.equal(cache.size, 2);
    assert.equal((await group('Year 11')).memberCount, 5);
  });
});

describe('managedGroupsFor', () => {
  it('names year groups and key stages as schools do', () => {
    assert.deepEqual(managedGroupsFor({ kind: 'pupil', yearGroup: 'N', leftAt: null }), [
      { name: 'Nursery', kind: 'year_group' },
      { name: 'EYFS', kind: 'key_stage' },
    ]);
    assert.deepEqual(
      managedGroupsFor({ kind: 'pupil', yearGroup: '12', leftAt: null }).map((g) => g.name),
      ['Year 12', 'KS5'],
    );
    assert.deepEqual(managedGroupsFor({ kind: 'pupil', yearGroup: '12', leftAt: AT }), []);
  });
});
