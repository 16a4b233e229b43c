import type { Store } from '../core/index.ts';
import type { RequestContext } from './context.ts';

export interface AuditFacts {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  schoolId?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Appends one audit entry for what `ctx` did; call inside the same transaction as the change. */
export const recordAudit = (store: Store, ctx: RequestContext, at: string, facts: AuditFacts) =>
  store.audit.append(
    {
      actorUserId: ctx.actor.userId || null,
      actorLabel: ctx.actorLabel,
      ip: ctx.ip,
      action: facts.action,
      resourceType: facts.resourceType,
      resourceId: facts.resourceId ?? null,
      schoolId: facts.schoolId ?? null,
      detail: facts.detail ?? null,
    },
    at,
  );
