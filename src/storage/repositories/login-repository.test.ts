import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DomainError, type IntegrationKeyRecord, type NewLoginRecord } from '../../core/index.ts';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { AT, newPerson, seedSchool } from '../../../test-support/factories.ts';

const login = (schoolId: string, over: Partial<NewLoginRecord> = {}): NewLoginRecord => ({
  schoolId,
  kind: 'login',
  ip: '10.0.0.5',
  username: 'someone',
  personId: null,
  source: 'logon-script',
  keyId: null,
  at: AT,
  expiresAt: '2025-01-15T19:00:00.000Z',
  receivedAt: AT,
  ...over,
});

const key = (schoolId: string, over: Partial<IntegrationKeyRecord> = {}): IntegrationKeyRecord => ({
  id: randomUUID(),
  schoolId,
  name: 'Logon script',
  scopes: ['identity'],
  keyHash: randomUUID().replace(/-/g, '').padEnd(64, '0'),
  keyPrefix: 'hvn_abcdefgh',
  createdBy: 'it@test',
  createdAt: AT,
  lastUsedAt: null,
  revokedAt: null,
  ...over,
});

for (const engine of testEngines()) {
  describe(`login feed and integration key repositories (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('appends rows in order and feeds them with the person’s kind, year and groups', async () => {
      const school = await seedSchool(t.store);
      const ada = newPerson(school.id, { firstName: 'Ada', lastName: 'Lovelace', yearGroup: '5' });
      await t.store.people.create(ada);
      const group = { id: randomUUID(), schoolId: school.id, name: 'Chess', kind: 'custom' as const, managed: false, createdAt: AT };
      await t.store.groups.create(group);
      await t.store.groups.addMember(group.id, ada.id);
      const start = (await t.store.logins.feed(0, '2000-01-01', 100_000)).at(-1)?.seq ?? 0;
      await t.store.logins.append([
        login(school.id, { personId: ada.id, username: 'ada' }),
        login(school.id, { kind: 'logout', expiresAt: null, username: 'ada', personId: ada.id }),
        login(school.id, { ip: '10.0.0.6', receivedAt: '2025-01-14T09:00:00.000Z' }),
      ]);
      const rows = await t.store.logins.feed(start, '2025-01-15T00:00:00.000Z', 10);
      assert.deepEqual(
        rows.map((r) => [r.kind, r.ip, r.username]),
        [
          ['login', '10.0.0.5', 'ada'],
          ['logout', '10.0.0.5', 'ada'],
        ],
        'in order, and only those received since the given time',
      );
      assert.ok(rows[0]!.seq < rows[1]!.seq && typeof rows[0]!.seq === 'number');
      assert.deepEqual(rows[0]!.person, { kind: 'pupil', yearGroup: '5', leftAt: null, groupIds: [group.id] });
      assert.equal((await t.store.logins.feed(rows[1]!.seq, '2000-01-01', 10)).length, 1, 'after a seq: only later rows');
      const recent = await t.store.logins.recent(school.id, 2);
      assert.equal(recent.length, 2);
      assert.equal(recent[1]!.personName, 'Ada Lovelace');
      assert.equal(recent[1]!.kind, 'logout');
    });

    it('matches names to active pupils and staff only, with LIKE wildcards taken literally', async () => {
      const school = await seedSchool(t.store);
      const jo = newPerson(school.id, { kind: 'staff', email: 'J_Smith@school.example' });
      const left = newPerson(school.id, { kind: 'pupil', email: 'gone@school.example', leftAt: AT });
      const parent = newPerson(school.id, { kind: 'parent', email: 'mum@home.example' });
      const upn = newPerson(school.id, { upn: 'B801200005001' });
      for (const p of [jo, left, parent, upn]) await t.store.people.create(p);
      const ids = async (name: string) => (await t.store.logins.matchPeople(school.id, name)).map((r) => r.id);
      assert.deepEqual(await ids('j_smith@school.example'), [jo.id]);
      assert.deepEqual(await ids('j_smith'), [jo.id]);
      assert.deepEqual(await ids('jxsmith'), [], '_ is a letter, not "any letter"');
      assert.deepEqual(await ids('%'), []);
      assert.deepEqual(await ids('j\\'), []);
      assert.deepEqual(await ids('gone'), [], 'someone who has left');
      assert.deepEqual(await ids('mum@home.example'), [], 'a parent');
      assert.deepEqual(await ids('b801200005001'), [upn.id]);
      const other = await seedSchool(t.store);
      assert.deepEqual((await t.store.logins.matchPeople(other.id, 'j_smith')).length, 0, 'another school’s people');
    });

    it('deletes rows received before a time, in bounded steps', async () => {
      const school = await seedSchool(t.store);
      await t.store.logins.append(Array.from({ length: 7 }, (_, i) => login(school.id, { receivedAt: `2020-01-0${i + 1}T00:00:00.000Z` })));
      assert.equal(await t.store.logins.deleteBefore('2020-01-05T00:00:00.000Z', 3), 3);
      assert.equal(await t.store.logins.deleteBefore('2020-01-05T00:00:00.000Z', 3), 1);
      assert.equal(await t.store.logins.deleteBefore('2020-01-05T00:00:00.000Z', 3), 0);
      assert.equal((await t.store.logins.recent(school.id, 100)).length, 3);
    });

    it('keeps keys by hash, one active name per school, and revokes once', async () => {
      const school = await seedSchool(t.store);
      const k = key(school.id);
      await t.store.integrationKeys.create(k);
      await assert.rejects(
        t.store.integrationKeys.create(key(school.id, { name: 'LOGON SCRIPT' })),
        (e: unknown) => e instanceof DomainError && e.code === 'CONFLICT',
      );
      assert.deepEqual(await t.store.integrationKeys.findActiveByHash(k.keyHash), k);
      await t.store.integrationKeys.touch(k.id, '2025-02-01T00:00:00.000Z');
      assert.equal((await t.store.integrationKeys.get(k.id))?.lastUsedAt, '2025-02-01T00:00:00.000Z');
      assert.equal(await t.store.integrationKeys.revoke(k.id, AT), true);
      assert.equal(await t.store.integrationKeys.revoke(k.id, AT), false);
      assert.equal(await t.store.integrationKeys.findActiveByHash(k.keyHash), null);
      await t.store.integrationKeys.create(key(school.id, { name: 'Logon script' }));
      assert.equal((await t.store.integrationKeys.list(school.id)).length, 2, 'the name is free again once revoked');
    });
  });
}
