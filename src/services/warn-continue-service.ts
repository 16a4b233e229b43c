/**
 * Going on past a warning. A "warn" category shows a notice first (the proxy's page, or the
 * block-page server the DNS filter points warned names at); choosing to go on lets that person —
 * or, for a guest, that address — reach the host and its sub-domains for an hour. The choice is
 * stored (the DSL can see who went on to what), applied in this process at once and in others at
 * their next poll (every two seconds), and answered from memory on the filters' hot path.
 */
import { invalid } from '../core/index.ts';
import { openTicket } from './block-ticket.ts';
import { nowIso, type ServiceDeps } from './context.ts';

export const CONTINUE_MINUTES = 60;

const keyOf = (schoolId: string, personId: string | null, clientIp: string | null, host: string): string =>
  `${schoolId}|${personId ?? `ip:${clientIp ?? ''}`}|${host}`;

export const createWarnContinueService = (deps: ServiceDeps, ticketKey: Buffer) => {
  const { store } = deps;
  /** key → until (ms). */
  const live = new Map<string, number>();
  let seq = 0;
  let polling: Promise<number> | null = null;

  const apply = async (): Promise<number> => {
    const now = deps.clock.now();
    const rows = await store.warnContinues.since(seq, now.toISOString(), 10_000);
    for (const r of rows) {
      seq = r.seq;
      live.set(keyOf(r.schoolId, r.personId, r.clientIp, r.host), Date.parse(r.until));
    }
    for (const [k, until] of live) if (until <= now.getTime()) live.delete(k);
    return rows.length;
  };

  const poll = async (): Promise<number> => {
    while (polling) await polling.catch(() => undefined);
    polling = apply();
    try {
      return await polling;
    } finally {
      polling = null;
    }
  };

  return {
    poll,

    /** From the warning page's "go on" link: records the choice; returns the host to go on to. */
    async choose(token: string): Promise<{ host: string; until: string }> {
      const t = openTicket(ticketKey, token, deps.clock.now().getTime());
      if (!t || t.a !== 'warn' || t.h === null)
        throw invalid('This link has expired or is not from a warning page: go back to the site and try again');
      const at = nowIso(deps);
      const until = new Date(deps.clock.now().getTime() + CONTINUE_MINUTES * 60_000).toISOString();
      await store.warnContinues.append({ schoolId: t.s, host: t.h, category: t.c, personId: t.p, clientIp: t.p ? null : t.i, at, until });
      await poll().catch(() => undefined);
      return { host: t.h, until };
    },

    /** Whether `host` (or a parent of it) was chosen past a warning by this person or guest address, and still lasts. */
    allows(schoolId: string, personId: string | null, clientIp: string | null, host: string): boolean {
      if (live.size === 0) return false;
      const now = deps.clock.now().getTime();
      for (let name = host; ;) {
        const until = live.get(keyOf(schoolId, personId, personId ? null : clientIp, name));
        if (until !== undefined && until > now) return true;
        const dot = name.indexOf('.');
        if (dot < 0) return false;
        name = name.slice(dot + 1);
      }
    },
  };
};

export type WarnContinueService = ReturnType<typeof createWarnContinueService>;
