/**
 * The login feed: a school's own systems tell Haven who logged in or out at which address — a
 * logon script on shared computers, RADIUS accounting from the wireless network, an agent, or the
 * proxy's own sign-in — so the DNS filter and the proxy apply that person's policy at that address.
 *
 * A batch is checked whole before anything is stored: one bad event refuses the batch with every
 * problem and its path, so a sender never half-delivers. Each event is matched to an active pupil
 * or member of staff of the key's school by email (any case), UPN, or — for a bare name like
 * "jsmith" or "SCHOOL\jsmith" — the part of an email before the @, when exactly one person has
 * it. Unmatched logins are still recorded (the address is then nobody's: the guest policy applies).
 *
 * Rows are appended, never changed, and are not audited one by one (thousands a day): the feed is
 * its own record. Making and revoking the keys that send it is audited.
 */
import { invalid, LOGIN_KINDS, LOGIN_SOURCES, type LoginKind, type LoginSource, type NewLoginRecord } from '../core/index.ts';
import type { ServiceDeps } from './context.ts';
import { normaliseDeviceIp } from './device-service.ts';

export const MAX_LOGIN_EVENTS = 1000;
export const MAX_USERNAME = 256;
/** A login lapses after this long without a logout, unless the sender says otherwise. */
export const DEFAULT_LOGIN_TTL_SECONDS = 10 * 3600;
export const MIN_LOGIN_TTL_SECONDS = 60;
/** A day: a mapping older than that is not trusted (senders repeat logins that last longer). */
export const MAX_LOGIN_TTL_SECONDS = 24 * 3600;
/** A sender's clock may run this far ahead of Haven's. */
const FUTURE_SLACK_MS = 5 * 60_000;

export interface LoginEventInput {
  type: LoginKind;
  ip: string;
  user: string;
  source?: LoginSource | undefined;
  /** ISO-8601; default: when Haven received it. */
  at?: string | undefined;
  /** Logins only. */
  ttlSeconds?: number | undefined;
}

export interface LoginEventResult {
  /** Whether the name matched exactly one pupil or member of staff. */
  matched: boolean;
}

export interface LoginSender {
  schoolId: string;
  keyId: string | null;
}

/** "SCHOOL\jsmith" → "jsmith"; other names as given. */
const accountName = (user: string): string => {
  const slash = user.lastIndexOf('\\');
  return slash >= 0 ? user.slice(slash + 1) : user;
};

export interface LoginFeedOptions {
  /** Called (and awaited) after rows are stored, so this process's identity directory knows at once. */
  onAppend?: () => Promise<void>;
}

export const createLoginFeedService = (deps: ServiceDeps, options: LoginFeedOptions = {}) => {
  const { store } = deps;

  const check = (events: readonly LoginEventInput[], nowMs: number) => {
    const problems: { path: string; message: string }[] = [];
    const rows: Omit<NewLoginRecord, 'personId'>[] = [];
    if (events.length === 0) problems.push({ path: '/events', message: 'Send at least one event' });
    if (events.length > MAX_LOGIN_EVENTS) problems.push({ path: '/events', message: `Send at most ${MAX_LOGIN_EVENTS} events at a time` });
    events.forEach((e, i) => {
      const at = (field: string, message: string) => problems.push({ path: `/events/${i}/${field}`, message });
      if (!(LOGIN_KINDS as readonly string[]).includes(e.type)) at('type', `"${e.type}" is not login or logout`);
      const source = e.source ?? 'other';
      if (!(LOGIN_SOURCES as readonly string[]).includes(source)) at('source', `"${source}" is not one of ${LOGIN_SOURCES.join(', ')}`);
      let ip: string | null = null;
      try {
        ip = normaliseDeviceIp(e.ip);
        if (ip === null) at('ip', 'The address is empty');
      } catch (err) {
        at('ip', err instanceof Error ? err.message.replace(/device/g, 'computer') : 'not an address');
      }
      const user = typeof e.user === 'string' ? e.user.trim() : '';
      if (!user) at('user', 'The user name is empty');
      else if (user.length > MAX_USERNAME) at('user', `The user name is longer than ${MAX_USERNAME} characters`);
      else if (/\p{Cc}/u.test(user)) at('user', 'The user name contains control characters');
      let whenMs = nowMs;
      if (e.at !== undefined) {
        const parsed = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(e.at) ? Date.parse(e.at) : NaN;
        if (Number.isNaN(parsed)) at('at', `"${e.at}" is not a date and time like 2026-11-25T08:40:00Z`);
        else if (parsed > nowMs + FUTURE_SLACK_MS) at('at', 'The time is in the future: check the sending computer’s clock');
        else whenMs = parsed;
      }
      const ttl = e.ttlSeconds ?? DEFAULT_LOGIN_TTL_SECONDS;
      if (e.ttlSeconds !== undefined && e.type === 'logout') at('ttlSeconds', 'Only a login lasts for a time');
      else if (!Number.isInteger(ttl) || ttl < MIN_LOGIN_TTL_SECONDS || ttl > MAX_LOGIN_TTL_SECONDS) {
        at('ttlSeconds', `Give a whole number of seconds from ${MIN_LOGIN_TTL_SECONDS} to ${MAX_LOGIN_TTL_SECONDS}`);
      }
      if (ip === null || !user) return;
      rows.push({
        schoolId: '',
        kind: e.type,
        ip,
        username: user,
        source,
        keyId: null,
        at: new Date(whenMs).toISOString(),
        expiresAt: e.type === 'login' ? new Date(whenMs + ttl * 1000).toISOString() : null,
        receivedAt: new Date(nowMs).toISOString(),
      });
    });
    if (problems.length > 0) {
      throw invalid(
        `${problems.length === 1 ? 'One event' : `${problems.length} problems`} stopped this batch; nothing was stored`,
        problems,
      );
    }
    return rows;
  };

  return {
    /** Stores a batch from one sender; all or nothing. */
    async record(sender: LoginSender, events: readonly LoginEventInput[]): Promise<LoginEventResult[]> {
      const nowMs = deps.clock.now().getTime();
      const checked = check(events, nowMs);
      // One lookup per distinct name in the batch (RADIUS sends the same people again and again).
      const people = new Map<string, string | null>();
      for (const row of checked) {
        const name = accountName(row.username).toLowerCase();
        if (people.has(name)) continue;
        const found = await store.logins.matchPeople(sender.schoolId, name);
        people.set(name, found.length === 1 ? found[0]!.id : null);
      }
      const rows: NewLoginRecord[] = checked.map((r) => ({
        ...r,
        schoolId: sender.schoolId,
        keyId: sender.keyId,
        personId: people.get(accountName(r.username).toLowerCase()) ?? null,
      }));
      await store.logins.append(rows);
      await options.onAppend?.().catch(() => undefined);
      return rows.map((r) => ({ matched: r.personId !== null }));
    },

    /** A school's newest feed rows with names, newest first. */
    async recent(schoolId: string, limit = 200) {
      return store.logins.recent(schoolId, Math.min(Math.max(limit, 1), 1000));
    },

    /** The retention schedule: rows older than `days` go. */
    async purge(days: number): Promise<number> {
      const before = new Date(deps.clock.now().getTime() - days * 86_400_000).toISOString();
      let total = 0;
      for (let i = 0; i < 1000; i++) {
        const n = await store.logins.deleteBefore(before, 10_000);
        total += n;
        if (n < 10_000) break;
      }
      return total;
    },
  };
};

export type LoginFeedService = ReturnType<typeof createLoginFeedService>;
