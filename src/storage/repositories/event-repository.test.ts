import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testEngines, type TestDatabase } from '../../../test-support/databases.ts';
import { newEvent, seedSchool } from '../../../test-support/factories.ts';

for (const engine of testEngines()) {
  describe(`event repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    it('stores a batch and finds events newest first by school, host, action and time', async () => {
      const a = await seedSchool(t.store);
      const b = await seedSchool(t.store);
      await t.store.events.insertBatch([
        newEvent({ schoolId: a.id, host: 'games.example', category: 'games', action: 'block', at: '2026-03-02T09:00:00.000Z' }),
        newEvent({ schoolId: a.id, host: 'www.bbc.co.uk', at: '2026-03-02T09:01:00.000Z' }),
        newEvent({ schoolId: b.id, host: 'games.example', action: 'block', at: '2026-03-02T09:02:00.000Z', flagged: true }),
      ]);
      const all = await t.store.events.query({ schoolIds: [a.id, b.id], limit: 10 });
      assert.deepEqual(
        all.map((e) => e.host),
        ['games.example', 'www.bbc.co.uk', 'games.example'],
      );
      assert.equal(all[0]!.flagged, true);
      assert.equal(all[2]!.category, 'games');
      assert.equal((await t.store.events.query({ schoolIds: [a.id], limit: 10 })).length, 2);
      assert.equal((await t.store.events.query({ schoolIds: [], limit: 10 })).length, 0);
      assert.equal((await t.store.events.query({ schoolIds: [a.id, b.id], host: 'GAMES', limit: 10 })).length, 2);
      assert.equal((await t.store.events.query({ schoolIds: [a.id, b.id], action: 'block', limit: 10 })).length, 2);
      assert.equal(
        (
          await t.store.events.query({
            schoolIds: [a.id, b.id],
            since: '2026-03-02T09:01:00.000Z',
            until: '2026-03-02T09:02:00.000Z',
            limit: 10,
          })
        ).length,
        1,
      );
      const page = await t.store.events.query({ schoolIds: [a.id, b.id], beforeId: all[0]!.id, limit: 1 });
      assert.equal(page[0]!.id, all[1]!.id);
    });

    it('takes LIKE wildcards in a host search literally', async () => {
      const s = await seedSchool(t.store);
      await t.store.events.insertBatch([
        newEvent({ schoolId: s.id, host: 'a_b.example' }),
        newEvent({ schoolId: s.id, host: 'axb.example' }),
      ]);
      assert.deepEqual(
        (await t.store.events.query({ schoolIds: [s.id], host: 'a_b', limit: 10 })).map((e) => e.host),
        ['a_b.example'],
      );
      assert.equal((await t.store.events.query({ schoolIds: [s.id], host: '%', limit: 10 })).length, 0);
    });

    it('stores a batch larger than one insert can carry, and deletes by age in bounded steps', async () => {
      const s = await seedSchool(t.store);
      const many = Array.from({ length: 2500 }, (_, i) =>
        newEvent({ schoolId: s.id, host: `h${i}.example`, at: i < 2000 ? '2025-01-01T00:00:00.000Z' : '2026-03-02T09:00:00.000Z' }),
      );
      await t.store.events.insertBatch(many);
      assert.equal((await t.store.events.query({ schoolIds: [s.id], limit: 5000 })).length, 2500);
      assert.equal(await t.store.events.deleteBefore('2026-01-01T00:00:00.000Z', 1500), 1500);
      assert.equal(await t.store.events.deleteBefore('2026-01-01T00:00:00.000Z', 1500), 500);
      assert.equal((await t.store.events.query({ schoolIds: [s.id], limit: 5000 })).length, 500);
    });
  });
}
