import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { findChainProblem, GENESIS_HASH, hashAuditEntry, type AuditEntry } from '../../core/index.ts';
import { testEngines, withDatabase, type TestDatabase } from '../../../test-support/databases.ts';
import { newAuditInput } from '../../../test-support/factories.ts';

const AT = '2025-01-15T09:00:00.000Z';

for (const engine of testEngines()) {
  describe(`audit repository (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.close());

    const wholeChain = async (): Promise<AuditEntry[]> => t.store.audit.range(0, 1_000_000);

    it('starts at the genesis head with no entries', async () => {
      assert.deepEqual(await t.store.audit.head(), { seq: 0, hash: GENESIS_HASH });
      assert.deepEqual(await wholeChain(), []);
    });

    it('appends a chain: seq from 1, each prevHash the hash before, head kept in step', async () => {
      const first = await t.store.audit.append(
        newAuditInput({
          actorUserId: 'u-1',
          actorLabel: 'dsl@school.example',
          ip: '10.0.0.1',
          action: 'incident.create',
          resourceType: 'incident',
          resourceId: 'i-1',
          schoolId: 's-1',
          detail: { z: 1, a: ['x', { n: null }], nested: { b: true, a: 'é' } },
        }),
        AT,
      );
      assert.equal(first.seq, 1);
      assert.equal(first.prevHash, GENESIS_HASH);
      assert.equal(first.hash, hashAuditEntry(first));
      assert.deepEqual(await t.store.audit.head(), { seq: 1, hash: first.hash });

      const second = await t.store.audit.append(newAuditInput({ action: 'incident.read' }), '2025-01-15T09:00:01.000Z');
      const third = await t.store.audit.append(newAuditInput({ action: 'incident.close' }), '2025-01-15T09:00:02.000Z');
      assert.equal(second.seq, 2);
      assert.equal(second.prevHash, first.hash);
      assert.equal(third.seq, 3);
      assert.equal(third.prevHash, second.hash);
      assert.deepEqual(await t.store.audit.head(), { seq: 3, hash: third.hash });

      // What is read back is exactly what was hashed (detail JSON included).
      const stored = await wholeChain();
      assert.deepEqual(stored, [first, second, third]);
      assert.equal(findChainProblem(stored, null), null);
    });

    it('keeps a gapless, valid chain under 20 concurrent appends', async () => {
      const head = (await t.store.audit.head())!;
      const appended = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.store.audit.append(newAuditInput({ action: 'concurrent', resourceId: `r-${i}`, detail: { i } }), AT),
        ),
      );
      assert.deepEqual(
        appended.map((e) => e.seq).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => head.seq + 1 + i),
      );
      const chain = await wholeChain();
      assert.equal(chain.length, head.seq + 20);
      assert.equal(findChainProblem(chain, null), null);
      const newHead = await t.store.audit.head();
      assert.deepEqual(newHead, { seq: chain.at(-1)!.seq, hash: chain.at(-1)!.hash });
    });

    it('keeps the chain valid when appends run inside concurrent transactions', async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.store.transaction(async (tx) => {
            await tx.audit.append(newAuditInput({ action: 'tx.first', detail: { i } }), AT);
            await tx.audit.append(newAuditInput({ action: 'tx.second', detail: { i } }), AT);
          }),
        ),
      );
      const chain = await wholeChain();
      assert.equal(findChainProblem(chain, null), null);
      // Each transaction's two entries are adjacent: the head lock is held until commit.
      const txEntries = chain.filter((e) => e.action.startsWith('tx.'));
      assert.equal(txEntries.length, 20);
      for (let k = 0; k < txEntries.length; k += 2) {
        assert.equal(txEntries[k]!.action, 'tx.first');
        assert.equal(txEntries[k + 1]!.action, 'tx.second');
        assert.equal(txEntries[k + 1]!.seq, txEntries[k]!.seq + 1);
        assert.deepEqual(txEntries[k]!.detail, txEntries[k + 1]!.detail);
      }
    });

    it('rolls an append back with its transaction, leaving the head unchanged', async () => {
      const head = await t.store.audit.head();
      await assert.rejects(
        t.store.transaction(async (tx) => {
          await tx.audit.append(newAuditInput({ action: 'doomed' }), AT);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await t.store.audit.head(), head);
      assert.equal((await t.store.audit.list({ action: 'doomed', limit: 10 })).length, 0);
      // The next append continues the chain where it was.
      const next = await t.store.audit.append(newAuditInput({ action: 'after.rollback' }), AT);
      assert.equal(next.seq, head!.seq + 1);
      assert.equal(next.prevHash, head!.hash);
      assert.equal(findChainProblem(await wholeChain(), null), null);
    });

    it('reads ranges in order and checks a run against the entry before it', async () => {
      const chain = await wholeChain();
      const run = await t.store.audit.range(5, 10);
      assert.deepEqual(
        run.map((e) => e.seq),
        Array.from({ length: 10 }, (_, i) => 6 + i),
      );
      assert.equal(findChainProblem(run, { seq: 5, hash: chain[4]!.hash }), null);
      assert.deepEqual(await t.store.audit.range(chain.length, 10), []);
    });

    it('lists newest first with filters and beforeSeq paging', async () => {
      await t.store.audit.append(
        newAuditInput({ action: 'person.update', resourceType: 'person', resourceId: 'p-1', schoolId: 'school-a', actorUserId: 'user-a' }),
        AT,
      );
      await t.store.audit.append(
        newAuditInput({ action: 'person.read', resourceType: 'person', resourceId: 'p-1', schoolId: 'school-a', actorUserId: 'user-b' }),
        AT,
      );
      await t.store.audit.append(
        newAuditInput({ action: 'person.read', resourceType: 'person', resourceId: 'p-2', schoolId: 'school-b', actorUserId: 'user-b' }),
        AT,
      );

      const byResource = await t.store.audit.list({ resourceType: 'person', resourceId: 'p-1', limit: 10 });
      assert.deepEqual(
        byResource.map((e) => e.action),
        ['person.read', 'person.update'],
      );
      assert.ok(byResource[0]!.seq > byResource[1]!.seq);
      assert.deepEqual(
        (await t.store.audit.list({ action: 'person.read', limit: 10 })).map((e) => e.resourceId),
        ['p-2', 'p-1'],
      );
      assert.deepEqual(
        (await t.store.audit.list({ actorUserId: 'user-a', limit: 10 })).map((e) => e.action),
        ['person.update'],
      );
      assert.deepEqual(
        (await t.store.audit.list({ schoolId: 'school-b', limit: 10 })).map((e) => e.resourceId),
        ['p-2'],
      );

      const newest = await t.store.audit.list({ limit: 2 });
      assert.equal(newest.length, 2);
      const olderPage = await t.store.audit.list({ beforeSeq: newest[1]!.seq, limit: 2 });
      assert.deepEqual(
        olderPage.map((e) => e.seq),
        [newest[1]!.seq - 1, newest[1]!.seq - 2],
      );
    });

    it('stores SQL-looking text verbatim and still verifies', async () => {
      const nasty = "'); DROP TABLE audit_log;--";
      const e = await t.store.audit.append(
        newAuditInput({ actorLabel: nasty, action: nasty, resourceId: nasty, detail: { reason: nasty } }),
        AT,
      );
      const [back] = await t.store.audit.list({ action: nasty, limit: 1 });
      assert.deepEqual(back, e);
      assert.equal(findChainProblem(await wholeChain(), null), null);
    });

    it('is refused UPDATE and DELETE by the database itself', async () => {
      const untouched = await wholeChain();
      await assert.rejects(sql`UPDATE audit_log SET action = 'tampered' WHERE seq = 1`.execute(t.db.kysely), /append-only/);
      await assert.rejects(t.db.kysely.updateTable('audit_log').set({ actor_label: 'someone else' }).execute(), /append-only/);
      await assert.rejects(sql`DELETE FROM audit_log WHERE seq = ${untouched.length}`.execute(t.db.kysely), /append-only/);
      await assert.rejects(t.db.kysely.deleteFrom('audit_log').execute(), /append-only/);
      if (t.engine === 'postgres') {
        await assert.rejects(sql`TRUNCATE audit_log`.execute(t.db.kysely), /append-only/);
      }
      assert.deepEqual(await wholeChain(), untouched);
    });

    it('lets findChainProblem see a row changed behind the triggers’ back', async () => {
      await withDatabase(engine, async (fresh) => {
        for (let i = 0; i < 3; i++) await fresh.store.audit.append(newAuditInput({ detail: { i } }), AT);
        const chain = await fresh.store.audit.range(0, 10);
        assert.equal(findChainProblem(chain, null), null);
        const forged = chain.map((e) => (e.seq === 2 ? { ...e, actorLabel: 'forged' } : e));
        assert.deepEqual(findChainProblem(forged, null), { kind: 'hash-mismatch', seq: 2 });
        assert.deepEqual(findChainProblem([chain[0]!, chain[2]!], null), { kind: 'missing-entry', seq: 3, expectedSeq: 2 });
      });
    });
  });
}
