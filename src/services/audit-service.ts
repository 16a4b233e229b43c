/**
 * Reading and verifying the audit log. Nothing here (or anywhere) edits it.
 */
import type { AuditEntry, AuditQuery } from '../core/index.ts';
import { findChainProblem } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

export interface ChainReport {
  ok: boolean;
  checked: number;
  problem: null | { seq: number; kind: string; message: string };
}

const BATCH = 2000;

export const createAuditService = (deps: ServiceDeps) => {
  const { store } = deps;
  return {
    async list(ctx: RequestContext, query: AuditQuery): Promise<{ items: AuditEntry[]; nextBeforeSeq: number | null }> {
      const limit = Math.min(Math.max(query.limit, 1), 500);
      const items = await store.audit.list({ ...query, limit });
      // Reading the audit log is itself recorded: who looked at whose activity matters to a DPO.
      await recordAudit(store, ctx, nowIso(deps), {
        action: 'audit.viewed',
        resourceType: 'audit',
        detail: Object.fromEntries(Object.entries({ ...query, limit }).filter(([, v]) => v !== undefined)),
      });
      const last = items.at(-1);
      return { items, nextBeforeSeq: items.length === limit && last ? last.seq : null };
    },

    /** Walks the whole chain in batches; reports the first altered, missing or unlinked entry. */
    async verify(): Promise<ChainReport> {
      let prev: { seq: number; hash: string } | null = null;
      let checked = 0;
      for (;;) {
        const batch = await store.audit.range(prev?.seq ?? 0, BATCH);
        if (batch.length === 0) break;
        const problem = findChainProblem(batch, prev);
        if (problem) {
          const message =
            problem.kind === 'missing-entry'
              ? `entry ${problem.expectedSeq} is missing (found ${problem.seq} next)`
              : problem.kind === 'broken-link'
                ? `entry ${problem.seq} does not link to the entry before it`
                : `entry ${problem.seq} was altered after it was written`;
          return {
            ok: false,
            checked: checked + batch.findIndex((e) => e.seq === problem.seq),
            problem: { seq: problem.seq, kind: problem.kind, message },
          };
        }
        checked += batch.length;
        const last = batch.at(-1)!;
        prev = { seq: last.seq, hash: last.hash };
      }
      const head = await store.audit.head();
      const headSeq = head?.seq ?? 0;
      if (headSeq !== (prev?.seq ?? 0) || (prev && head && head.hash !== prev.hash)) {
        const seq = Math.min(headSeq, prev?.seq ?? 0) + 1;
        return {
          ok: false,
          checked,
          problem: { seq, kind: 'missing-entry', message: `the log ends at entry ${prev?.seq ?? 0} but ${headSeq} entries were written` },
        };
      }
      return { ok: true, checked, problem: null };
    },
  };
};

export type AuditService = ReturnType<typeof createAuditService>;
