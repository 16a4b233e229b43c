/**
 * Block-page tickets: what a block page carries so its buttons ("ask for this site to be
 * unblocked", "tell a trusted adult") can say who was blocked from what, without the pupil being
 * signed in. The facts are signed with HMAC-SHA-256 under a key only Haven holds, so a ticket
 * cannot be forged or edited; it expires after a day; its nonce lets each page send once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface BlockTicket {
  /** Nonce. */
  n: string;
  /** School. */
  s: string;
  /** Host and URL; null for the illegal tier, whose addresses are never passed on. */
  h: string | null;
  u: string | null;
  /** Category id. */
  c: string | null;
  a: 'block' | 'warn';
  /** Person, device, client address. */
  p: string | null;
  d: string | null;
  i: string | null;
  /** When the page was shown (ISO). */
  t: string;
}

export const TICKET_MAX_AGE_MS = 24 * 3600_000;
const MAX_TOKEN = 4096;
const MAX_URL = 1000;

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(body).digest();

export const signTicket = (key: Buffer, facts: Omit<BlockTicket, 'n'>): string => {
  const ticket: BlockTicket = { ...facts, n: randomBytes(12).toString('base64url'), u: facts.u && facts.u.slice(0, MAX_URL) };
  const body = Buffer.from(JSON.stringify(ticket)).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
};

const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** The ticket's facts, or null when it is malformed, forged, edited or older than a day. */
export const openTicket = (key: Buffer, token: string, nowMs: number): BlockTicket | null => {
  if (token.length > MAX_TOKEN) return null;
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return null;
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let t: Partial<BlockTicket>;
  try {
    t = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<BlockTicket>;
  } catch {
    return null;
  }
  if (typeof t.n !== 'string' || typeof t.s !== 'string' || typeof t.t !== 'string' || (t.a !== 'block' && t.a !== 'warn')) return null;
  if (![t.h, t.u, t.c, t.p, t.d, t.i].every(isNullableString)) return null;
  const at = Date.parse(t.t);
  if (Number.isNaN(at) || at > nowMs + 60_000 || nowMs - at > TICKET_MAX_AGE_MS) return null;
  return t as BlockTicket;
};
