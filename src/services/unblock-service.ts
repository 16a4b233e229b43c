/**
 * What block pages send, and the queues it lands in.
 *
 * - "Ask for this site to be unblocked": an unblock request with the site, the person, the device,
 *   the time and the reason they give, for IT and the filtering managers (`unblock_request` in the
 *   permission table). Answering "allowed" adds the site to the school's allow list (and takes the
 *   school's own block entry for exactly that site off its block list) as a new policy version
 *   (which needs `filtering:update`), with the request named in the reason.
 * - "Tell a trusted adult": a message for the DSL team only (`dsl`, `deputy_dsl`): IT and system
 *   administrators never see it. Every listing of these messages is audited.
 *
 * Pupils are not signed in: a block page carries a signed ticket (`block-ticket.ts`) saying who was
 * blocked from what; each ticket sends once. Illegal-tier pages carry no address and offer no
 * unblock request.
 */
import {
  can,
  categoryLabel,
  DomainError,
  invalid,
  notFound,
  type UnblockRequestKind,
  type UnblockRequestListItem,
  type UnblockRequestStatus,
} from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { openTicket, signTicket, type BlockTicket } from './block-ticket.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';
import type { PolicyService } from './policy-service.ts';

export const MAX_UNBLOCK_MESSAGE = 1000;
export const MAX_ANSWER_NOTE = 1000;
/** Who reads "tell a trusted adult" messages. */
const TRUSTED_ADULT_ROLES = new Set(['dsl', 'deputy_dsl']);

export interface BlockPageFacts {
  schoolId: string;
  host: string;
  url: string | null;
  category: string | null;
  action: 'block' | 'warn';
  personId: string | null;
  deviceId: string | null;
  clientIp: string | null;
  /** On an illegal-content list: the ticket carries no address. */
  illegal: boolean;
  at: Date;
}

/** What the form behind a block-page button shows. */
export interface TicketView {
  host: string | null;
  categoryLabel: string;
  /** False for the illegal tier: only "tell a trusted adult". */
  mayAskToUnblock: boolean;
}

export type UnblockRequestView = Omit<UnblockRequestListItem, 'ticketNonce'>;

/** Everything but the ticket's nonce, which only stops a page sending twice. */
const view = (r: UnblockRequestListItem): UnblockRequestView => {
  const rest: Partial<UnblockRequestListItem> = { ...r };
  delete rest.ticketNonce;
  return rest as UnblockRequestView;
};

const readsTrustedAdult = (ctx: RequestContext, schoolId: string): boolean =>
  ctx.actor.grants.some((g) => TRUSTED_ADULT_ROLES.has(g.role) && (g.schoolId === null || g.schoolId === schoolId));

const cleanText = (raw: string, max: number, field: string, what: string): string => {
  const text = raw.trim();
  if (text.length > max) throw invalid(`The ${what} is longer than ${max} characters`, [{ path: `/${field}`, message: 'too long' }]);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    throw invalid(`The ${what} contains control characters`, [{ path: `/${field}`, message: 'control characters' }]);
  }
  return text;
};

export const createUnblockService = (deps: ServiceDeps, policies: PolicyService, ticketKey: Buffer) => {
  const { store } = deps;

  const readTicket = (token: string): BlockTicket => {
    const t = openTicket(ticketKey, token, deps.clock.now().getTime());
    if (!t)
      throw new DomainError('VALIDATION_FAILED', 'This link has expired or is not from Haven: go back to the site and try again', 400);
    return t;
  };

  return {
    /** The ticket a block page carries in its buttons. */
    ticketFor(facts: BlockPageFacts): string {
      return signTicket(ticketKey, {
        s: facts.schoolId,
        h: facts.illegal ? null : facts.host,
        u: facts.illegal ? null : facts.url,
        c: facts.category,
        a: facts.action,
        p: facts.personId,
        d: facts.deviceId,
        i: facts.clientIp,
        t: facts.at.toISOString(),
      });
    },

    describeTicket(token: string): TicketView {
      const t = readTicket(token);
      return { host: t.h, categoryLabel: categoryLabel(t.c), mayAskToUnblock: t.h !== null };
    },

    /** From the block page's form; `ip` is the sender's address, for the audit log. */
    async submit(token: string, kind: UnblockRequestKind, rawMessage: string, ip: string | null): Promise<{ id: string }> {
      const t = readTicket(token);
      if (kind === 'unblock' && t.h === null) throw invalid('This site cannot be unblocked; you can still tell a trusted adult');
      const message = cleanText(rawMessage, MAX_UNBLOCK_MESSAGE, 'message', 'message');
      if (kind === 'unblock' && !message) {
        throw invalid('Say why you need the site, so the person who checks it can decide', [{ path: '/message', message: 'empty' }]);
      }
      if (!(await store.tenancy.getSchool(t.s))) throw notFound('SCHOOL_NOT_FOUND', 'School');
      // A ticket may name someone who has since been removed; keep the request, without them.
      const personId = t.p && (await store.people.get(t.p))?.schoolId === t.s ? t.p : null;
      const at = nowIso(deps);
      const id = deps.newId();
      await store.transaction(async (tx) => {
        await tx.unblockRequests.create({
          id,
          schoolId: t.s,
          kind,
          ticketNonce: `${t.n}:${kind}`,
          host: t.h,
          url: t.u,
          category: t.c,
          action: t.a,
          personId,
          deviceId: t.d,
          clientIp: t.i,
          blockedAt: t.t,
          message,
          createdAt: at,
          status: 'open',
          answeredBy: null,
          answeredAt: null,
          answerNote: null,
        });
        await recordAudit(tx, { actor: { userId: '', grants: [] }, actorLabel: 'block page', ip }, at, {
          action: kind === 'unblock' ? 'unblock_request.created' : 'trusted_adult_message.created',
          resourceType: 'unblock_request',
          resourceId: id,
          schoolId: t.s,
          detail: { kind, personId },
        });
      });
      return { id };
    },

    async list(
      ctx: RequestContext,
      schoolId: string,
      q: { kind?: UnblockRequestKind | undefined; status?: UnblockRequestStatus | undefined; limit?: number | undefined },
    ): Promise<{ items: UnblockRequestView[]; trustedAdultVisible: boolean }> {
      if (!(await store.tenancy.getSchool(schoolId))) throw notFound('SCHOOL_NOT_FOUND', 'School');
      const trustedAdultVisible = readsTrustedAdult(ctx, schoolId);
      const kinds: UnblockRequestKind[] = (q.kind ? [q.kind] : (['unblock', 'trusted_adult'] as const)).filter(
        (k) => k !== 'trusted_adult' || trustedAdultVisible,
      );
      const items = await store.unblockRequests.list({ schoolId, kinds, status: q.status, limit: Math.min(q.limit ?? 200, 500) });
      const messages = items.filter((i) => i.kind === 'trusted_adult');
      if (messages.length > 0) {
        await recordAudit(store, ctx, nowIso(deps), {
          action: 'trusted_adult_message.listed',
          resourceType: 'unblock_request',
          schoolId,
          detail: { ids: messages.map((m) => m.id).slice(0, 50), count: messages.length },
        });
      }
      return { items: items.map(view), trustedAdultVisible };
    },

    async answer(
      ctx: RequestContext,
      schoolId: string,
      id: string,
      input: { outcome: Exclude<UnblockRequestStatus, 'open'>; note: string },
    ): Promise<UnblockRequestView> {
      const current = await store.unblockRequests.get(id);
      if (!current || current.schoolId !== schoolId) throw notFound('NOT_FOUND', 'Request');
      if (current.kind === 'trusted_adult' && !readsTrustedAdult(ctx, schoolId)) throw notFound('NOT_FOUND', 'Request');
      if (current.status !== 'open') throw new DomainError('CONFLICT', 'This has been answered already', 409);
      const note = cleanText(input.note, MAX_ANSWER_NOTE, 'note', 'note');
      const allowed: Record<UnblockRequestKind, readonly string[]> = { unblock: ['allowed', 'declined'], trusted_adult: ['seen'] };
      if (!allowed[current.kind].includes(input.outcome)) {
        throw invalid(
          `A ${current.kind === 'unblock' ? 'request to unblock' : 'message'} is answered with ${allowed[current.kind].join(' or ')}`,
          [{ path: '/outcome', message: 'not for this kind' }],
        );
      }
      if (input.outcome === 'declined' && !note)
        throw invalid('Say why, so the pupil’s teacher can explain', [{ path: '/note', message: 'empty' }]);
      if (input.outcome === 'allowed') {
        if (!can(ctx.actor, 'update', { type: 'filtering', schoolId })) {
          throw new DomainError('FORBIDDEN', 'Allowing a site changes the filtering policy, which your role cannot do', 403);
        }
        const host = current.host!;
        const { version, policy } = await policies.schoolPolicy(schoolId);
        const same = (e: { pattern: string }) => e.pattern.trim().toLowerCase() === host;
        // The school's own block entry for exactly this site goes (an allow entry only ties with it, and a tie blocks).
        const blockList = (policy.blockList ?? []).filter((e) => !same(e));
        const allowList = (policy.allowList ?? []).some(same)
          ? (policy.allowList ?? [])
          : [...(policy.allowList ?? []), { pattern: host, note: `Unblock request ${id.slice(0, 8)}` }];
        if (allowList !== policy.allowList || blockList.length !== (policy.blockList ?? []).length) {
          await policies.saveSchoolPolicy(ctx, schoolId, {
            policy: { ...policy, allowList, ...(policy.blockList !== undefined && { blockList }) },
            reason: `Unblock request from ${current.personName ?? 'a guest'}${note ? `: ${note}` : ''}`,
            baseVersion: version,
          });
        }
      }
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        if (!(await tx.unblockRequests.answer(id, { status: input.outcome, by: ctx.actorLabel, at, note }))) {
          throw new DomainError('CONFLICT', 'This has been answered already', 409);
        }
        await recordAudit(tx, ctx, at, {
          action: 'unblock_request.answered',
          resourceType: 'unblock_request',
          resourceId: id,
          schoolId,
          detail: { outcome: input.outcome, kind: current.kind },
        });
      });
      return view({ ...current, status: input.outcome, answeredBy: ctx.actorLabel, answeredAt: at, answerNote: note });
    },
  };
};

export type UnblockService = ReturnType<typeof createUnblockService>;
