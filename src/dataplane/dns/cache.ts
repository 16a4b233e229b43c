/**
 * The DNS answer cache: upstream responses kept as wire bytes, so a hit is a copy and a few byte
 * patches (id, RD, question case, TTLs), never a decode/encode.
 *
 * `set` reads only what it needs — header, question, the record headers of every section, the SOA
 * MINIMUM — with bounds checks on every read, and refuses what it cannot trust: malformed,
 * truncated (TC=1), SERVFAIL and other error rcodes, negative answers without an SOA (RFC 2308
 * §5 says those SHOULD NOT be cached). Lifetimes:
 *
 *  - positive: the smallest answer/authority TTL, floored at `minTtl`, capped at `maxTtl`;
 *  - negative (NXDOMAIN, NODATA): min(SOA TTL, SOA MINIMUM) per RFC 2308 §5, capped at
 *    `maxNegativeTtl` (and by any CNAME TTLs before it);
 *  - stale: for `maxStaleSeconds` after expiry an entry is still returned, marked `stale`, for the
 *    server to use only when the upstreams fail (RFC 8767 serve-stale, bounded).
 *
 * Nothing here imports the wire-format layer: the few reads are done in place, so the cache and
 * the upstream client stand alone.
 */
import { LRUCache } from 'lru-cache';

/** Milliseconds since some epoch; `Date.now` unless a test injects one. */
export type MillisecondClock = () => number;

export interface DnsCacheOptions {
  /** LRU bound by count. Default 10,000. */
  maxEntries?: number;
  /** Optional bound on the bytes of wire held (plus a small per-entry overhead). */
  maxBytes?: number;
  /** How long past expiry an entry may still be served stale (RFC 8767). Default 3600 s. */
  maxStaleSeconds?: number;
  /** Cap on positive TTLs. Default 86,400 s (1 day). */
  maxTtl?: number;
  /** Floor on TTLs. Default 0. */
  minTtl?: number;
  /** Cap on negative (NXDOMAIN/NODATA) TTLs. Default 300 s. */
  maxNegativeTtl?: number;
  /** A fresh hit within this fraction of its TTL of expiring asks for a prefetch. Default 0.1; 0 turns it off. */
  prefetchRatio?: number;
  /** Entries whose TTL is shorter than this never ask for a prefetch (it would be most of their life). Default 10 s. */
  prefetchMinTtl?: number;
  /** A refresh not finished after this long no longer blocks a new one. Default 10,000 ms. */
  refreshTimeoutMs?: number;
  clock?: MillisecondClock;
}

export interface DnsCacheHit {
  /** The stored response as received (client id of the query that filled it). Shared: do not modify; see `renderHit`. */
  wire: Buffer;
  /** Whole seconds since it was stored. */
  ageSeconds: number;
  /** Past its TTL, inside the stale window: serve only when the upstreams fail. */
  stale: boolean;
  /** Whole seconds of freshness left (0 when stale). */
  ttlSeconds: number;
  /** The lifetime it was stored with, after floors and caps. */
  originalTtl: number;
  /** An NXDOMAIN or NODATA answer. */
  negative: boolean;
  /** Fresh but close to expiry and nobody is refreshing it yet: worth fetching again in the background. */
  prefetch: boolean;
  /** Byte offsets of the 32-bit TTL fields of every record but OPT, for `renderHit`. */
  ttlOffsets: Uint16Array;
  /** What the caller noted on this entry (`DnsCache.note`), if anything. */
  note?: unknown;
}

export interface DnsCacheStats {
  size: number;
  bytes: number;
  hits: number;
  misses: number;
  staleServed: number;
  stored: number;
  evictions: number;
  expired: number;
  prefetches: number;
  refreshesInFlight: number;
  rejected: { malformed: number; truncated: number; servfail: number; uncacheable: number };
}

export interface RefreshTicket {
  /** Ends the refresh (call in `finally`). Idempotent. */
  done(): void;
}

export interface DnsCache {
  get(key: string): DnsCacheHit | null;
  /** Stores a response; false when it is not cacheable (and nothing changes). */
  set(key: string, wire: Buffer): boolean;
  /**
   * Keeps `value` with the entry for `key` while it holds `wire` (a hit's `wire`), for the caller's
   * own use (the handler's verdict on the answer); a new answer for the key starts without one.
   */
  note(key: string, wire: Buffer, value: unknown): void;
  delete(key: string): boolean;
  clear(): void;
  /**
   * Claims the one refresh of `key`: a ticket when nobody else is refreshing it, else null. Lets
   * prefetches and stale refreshes run once per key however many clients ask.
   */
  refreshing(key: string): RefreshTicket | null;
  isRefreshing(key: string): boolean;
  /** `refreshing` plus the fetch and the store: null when a refresh is already in flight, else whether the result was cached. */
  refresh(key: string, fetch: () => Promise<Buffer>): Promise<boolean> | null;
  stats(): DnsCacheStats;
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------
// Minimal wire reading (RFC 1035 §4.1), bounds-checked. Exported for upstream.ts and tests.

const HEADER = 12;
const TYPE_SOA = 6;
const TYPE_OPT = 41;
const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

/**
 * Offset just past the (possibly compressed) name at `off`, or -1 when it runs off the end, uses a
 * reserved label type, is longer than 255 octets, or points forward (pointers must point back, which
 * also rules out loops; we never follow them here).
 */
export const skipName = (buf: Uint8Array, off: number): number => {
  let nameLen = 0;
  const len = buf.length;
  for (;;) {
    if (off >= len) return -1;
    const b = buf[off]!;
    if (b === 0) return nameLen + 1 > 255 ? -1 : off + 1;
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (off + 1 >= len) return -1;
      const target = ((b & 0x3f) << 8) | buf[off + 1]!;
      if (target < HEADER || target >= off) return -1;
      return off + 2;
    }
    if (kind !== 0) return -1;
    nameLen += b + 1;
    if (nameLen > 255) return -1;
    off += b + 1;
  }
};

/**
 * Offset just past the first question (uncompressed name + type + class), or -1. The question of
 * a query, and of the response to it, sits at offset 12 where there is nothing earlier to point to,
 * so compression there is treated as malformed.
 */
export const questionEnd = (buf: Uint8Array): number => {
  if (buf.length < HEADER) return -1;
  let off = HEADER;
  let nameLen = 0;
  for (;;) {
    if (off >= buf.length) return -1;
    const b = buf[off]!;
    if (b === 0) break;
    if (b > 63) return -1;
    nameLen += b + 1;
    if (nameLen > 255) return -1;
    off += b + 1;
  }
  off += 1 + 4;
  return off <= buf.length ? off : -1;
};

const lowerAscii = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/** Whether two messages ask the same first question (name compared case-insensitively, type, class). */
export const sameQuestion = (a: Uint8Array, aEnd: number, b: Uint8Array, bEnd: number): boolean => {
  if (aEnd !== bEnd || aEnd < 0) return false;
  for (let i = HEADER; i < aEnd; i++) {
    if (a[i] !== b[i] && lowerAscii(a[i]!) !== lowerAscii(b[i]!)) return false;
  }
  return true;
};

const u16 = (buf: Uint8Array, off: number): number => (buf[off]! << 8) | buf[off + 1]!;
const u32 = (buf: Uint8Array, off: number): number =>
  ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
/** RFC 2181 §8: a TTL with the top bit set is treated as zero. */
const ttlValue = (raw: number): number => (raw > 0x7fffffff ? 0 : raw);

/** `qname/qtype/qclass/flags` for a query — lower-case name, plus CD and DO, which change the answer. Null when it is not a one-question query we can read. */
export const cacheKeyFor = (query: Uint8Array): string | null => {
  const qEnd = questionEnd(query);
  if (qEnd < 0 || u16(query, 4) !== 1) return null;
  const labels: string[] = [];
  let off = HEADER;
  while (query[off] !== 0) {
    const n = query[off]!;
    let label = '';
    for (let i = off + 1; i <= off + n; i++) label += String.fromCharCode(lowerAscii(query[i]!));
    labels.push(label);
    off += n + 1;
  }
  const qtype = u16(query, qEnd - 4);
  const qclass = u16(query, qEnd - 2);
  const cd = (query[3]! & 0x10) !== 0;
  let dnssecOk = false;
  // Look for an OPT in the additional section for the DO bit (RFC 6891 §6.1.4).
  const an = u16(query, 6);
  const ns = u16(query, 8);
  const ar = u16(query, 10);
  let p = qEnd;
  for (let i = 0; i < an + ns + ar && p >= 0; i++) {
    p = skipName(query, p);
    if (p < 0 || p + 10 > query.length) break;
    const type = u16(query, p);
    const rdlen = u16(query, p + 8);
    if (type === TYPE_OPT && i >= an + ns) dnssecOk = (query[p + 6]! & 0x80) !== 0;
    p += 10 + rdlen;
    if (p > query.length) break;
  }
  return `${labels.join('.')}/${qtype}/${qclass}/${cd ? 'c' : ''}${dnssecOk ? 'd' : ''}`;
};

export interface ResponseLimits {
  minTtl: number;
  maxTtl: number;
  maxNegativeTtl: number;
}

export type ResponseAnalysis =
  | { ok: true; ttl: number; negative: boolean; ttlOffsets: Uint16Array }
  | { ok: false; reason: 'malformed' | 'truncated' | 'servfail' | 'uncacheable' };

/** Decides whether a response may be cached and for how long (seconds, after floors and caps). */
export const analyseResponse = (wire: Uint8Array, limits: ResponseLimits): ResponseAnalysis => {
  const len = wire.length;
  if (len < HEADER || len > 0xffff) return { ok: false, reason: 'malformed' };
  const flags = u16(wire, 2);
  if ((flags & 0x8000) === 0) return { ok: false, reason: 'malformed' }; // not a response
  if ((flags & 0x7800) !== 0) return { ok: false, reason: 'uncacheable' }; // opcode other than QUERY
  if ((flags & 0x0200) !== 0) return { ok: false, reason: 'truncated' };
  const rcode = flags & 0x000f;
  const qd = u16(wire, 4);
  const an = u16(wire, 6);
  const ns = u16(wire, 8);
  const ar = u16(wire, 10);
  if (qd !== 1) return { ok: false, reason: 'malformed' };
  let off = questionEnd(wire);
  if (off < 0) return { ok: false, reason: 'malformed' };

  let minAnswerTtl = Infinity;
  let soaTtl = -1;
  const offsets: number[] = [];
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    off = skipName(wire, off);
    if (off < 0 || off + 10 > len) return { ok: false, reason: 'malformed' };
    const type = u16(wire, off);
    const ttl = ttlValue(u32(wire, off + 4));
    const rdlen = u16(wire, off + 8);
    const rdata = off + 10;
    if (rdata + rdlen > len) return { ok: false, reason: 'malformed' };
    if (type === TYPE_OPT) {
      if (i < an + ns) return { ok: false, reason: 'malformed' }; // OPT only in the additional section
    } else {
      offsets.push(off + 4);
      if (i < an + ns) {
        if (type === TYPE_SOA && i >= an) {
          // SOA RDATA: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM; both names at least one octet.
          if (rdlen < 22) return { ok: false, reason: 'malformed' };
          const minimum = ttlValue(u32(wire, rdata + rdlen - 4));
          const negative = Math.min(ttl, minimum);
          soaTtl = soaTtl < 0 ? negative : Math.min(soaTtl, negative);
        } else {
          minAnswerTtl = Math.min(minAnswerTtl, ttl);
        }
      }
    }
    off = rdata + rdlen;
  }
  if (off !== len) return { ok: false, reason: 'malformed' }; // trailing bytes: not what the counts say

  if (rcode === RCODE_SERVFAIL) return { ok: false, reason: 'servfail' };
  if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) return { ok: false, reason: 'uncacheable' };
  const ttlOffsets = Uint16Array.from(offsets);
  const negative = rcode === RCODE_NXDOMAIN || an === 0;
  if (negative) {
    if (soaTtl < 0) return { ok: false, reason: 'uncacheable' }; // RFC 2308 §5: no SOA, no negative caching
    // CNAMEs before the negative answer bound it too (minAnswerTtl is Infinity when there are none).
    const base = Math.min(soaTtl, minAnswerTtl);
    const ttl = Math.min(Math.max(base, limits.minTtl), limits.maxNegativeTtl);
    return { ok: true, ttl, negative: true, ttlOffsets };
  }
  // A positive answer: the SOA in authority (rare here) counts like any other record.
  const base = Math.min(minAnswerTtl, soaTtl < 0 ? Infinity : soaTtl);
  const ttl = Math.min(Math.max(base, limits.minTtl), limits.maxTtl);
  return { ok: true, ttl, negative: false, ttlOffsets };
};

/**
 * A ready-to-send copy of a hit for `query`: the query's id, RD bit and question spelling (case,
 * for 0x20-randomising clients), and every TTL lowered by the entry's age (never above what is
 * left of its capped lifetime), or `staleTtl` seconds for a stale hit (RFC 8767 §4 suggests 30).
 */
export const renderHit = (hit: DnsCacheHit, query: Uint8Array, staleTtl = 30): Buffer => {
  const out = Buffer.from(hit.wire);
  if (query.length >= HEADER) {
    out[0] = query[0]!;
    out[1] = query[1]!;
    out[2] = (out[2]! & ~0x01) | (query[2]! & 0x01);
    const qEnd = questionEnd(query);
    if (qEnd > 0 && sameQuestion(out, questionEnd(out), query, qEnd)) out.set(query.subarray(HEADER, qEnd), HEADER);
  }
  for (const at of hit.ttlOffsets) {
    const ttl = hit.stale ? staleTtl : Math.max(0, Math.min(ttlValue(u32(hit.wire, at)) - hit.ageSeconds, hit.ttlSeconds));
    out.writeUInt32BE(ttl, at);
  }
  return out;
};

// ---------------------------------------------------------------------------------------------

interface Entry {
  wire: Buffer;
  storedAt: number;
  expiresAt: number;
  staleUntil: number;
  ttl: number;
  negative: boolean;
  ttlOffsets: Uint16Array;
  note: unknown;
}

const ENTRY_OVERHEAD = 64;

const positive = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  return v;
};

export const createDnsCache = (options: DnsCacheOptions = {}): DnsCache => {
  const maxEntries = Math.floor(positive('maxEntries', options.maxEntries, 10_000));
  if (maxEntries < 1) throw new RangeError('maxEntries must be at least 1');
  const maxStaleMs = positive('maxStaleSeconds', options.maxStaleSeconds, 3600) * 1000;
  const limits: ResponseLimits = {
    maxTtl: positive('maxTtl', options.maxTtl, 86_400),
    minTtl: positive('minTtl', options.minTtl, 0),
    maxNegativeTtl: positive('maxNegativeTtl', options.maxNegativeTtl, 300),
  };
  const prefetchRatio = positive('prefetchRatio', options.prefetchRatio, 0.1);
  const prefetchMinTtl = positive('prefetchMinTtl', options.prefetchMinTtl, 10);
  const refreshTimeoutMs = positive('refreshTimeoutMs', options.refreshTimeoutMs, 10_000);
  const clock = options.clock ?? Date.now;

  const counters = { hits: 0, misses: 0, staleServed: 0, stored: 0, evictions: 0, expired: 0, prefetches: 0 };
  const rejected = { malformed: 0, truncated: 0, servfail: 0, uncacheable: 0 };
  let bytes = 0;

  const lru = new LRUCache<string, Entry>({
    max: maxEntries,
    ...(options.maxBytes !== undefined
      ? { maxSize: positive('maxBytes', options.maxBytes, 0), sizeCalculation: (e: Entry) => e.wire.length + ENTRY_OVERHEAD }
      : {}),
    dispose: (entry, _key, reason) => {
      bytes -= entry.wire.length;
      if (reason === 'evict') counters.evictions++;
    },
  });

  /** key → when its refresh started. Bounded like the cache itself. */
  const inFlight = new Map<string, number>();

  const isRefreshing = (key: string): boolean => {
    const started = inFlight.get(key);
    if (started === undefined) return false;
    if (clock() - started < refreshTimeoutMs) return true;
    inFlight.delete(key);
    return false;
  };

  const refreshing = (key: string): RefreshTicket | null => {
    if (isRefreshing(key)) return null;
    if (inFlight.size >= maxEntries) {
      const now = clock();
      for (const [k, started] of inFlight) if (now - started >= refreshTimeoutMs) inFlight.delete(k);
      if (inFlight.size >= maxEntries) return null;
    }
    const started = clock();
    inFlight.set(key, started);
    let finished = false;
    return {
      done: () => {
        if (finished) return;
        finished = true;
        // A timed-out ticket must not end a newer refresh of the same key.
        if (inFlight.get(key) === started) inFlight.delete(key);
      },
    };
  };

  const set = (key: string, wire: Buffer): boolean => {
    const analysis = analyseResponse(wire, limits);
    if (!analysis.ok) {
      rejected[analysis.reason]++;
      return false;
    }
    const now = clock();
    const expiresAt = now + analysis.ttl * 1000;
    const staleUntil = expiresAt + maxStaleMs;
    if (staleUntil <= now) {
      rejected.uncacheable++;
      return false;
    }
    // A copy: the caller's buffer may be a slice of a larger pool, or reused.
    const copy = Buffer.allocUnsafeSlow(wire.length);
    wire.copy(copy);
    const entry: Entry = {
      wire: copy,
      storedAt: now,
      expiresAt,
      staleUntil,
      ttl: analysis.ttl,
      negative: analysis.negative,
      ttlOffsets: analysis.ttlOffsets,
      note: undefined,
    };
    lru.set(key, entry);
    if (lru.peek(key) !== entry) {
      rejected.uncacheable++; // larger than maxBytes on its own
      return false;
    }
    bytes += copy.length;
    counters.stored++;
    return true;
  };

  const get = (key: string): DnsCacheHit | null => {
    const entry = lru.get(key);
    if (!entry) {
      counters.misses++;
      return null;
    }
    const now = clock();
    if (now >= entry.staleUntil) {
      lru.delete(key);
      counters.expired++;
      counters.misses++;
      return null;
    }
    const stale = now >= entry.expiresAt;
    const leftMs = stale ? 0 : entry.expiresAt - now;
    let prefetch = false;
    if (stale) counters.staleServed++;
    else {
      counters.hits++;
      if (prefetchRatio > 0 && entry.ttl >= prefetchMinTtl && leftMs <= entry.ttl * 1000 * prefetchRatio && !isRefreshing(key)) {
        prefetch = true;
        counters.prefetches++;
      }
    }
    return {
      wire: entry.wire,
      ageSeconds: Math.max(0, Math.floor((now - entry.storedAt) / 1000)),
      stale,
      ttlSeconds: Math.floor(leftMs / 1000),
      originalTtl: entry.ttl,
      negative: entry.negative,
      prefetch,
      ttlOffsets: entry.ttlOffsets,
      note: entry.note,
    };
  };

  const refresh = (key: string, fetch: () => Promise<Buffer>): Promise<boolean> | null => {
    const ticket = refreshing(key);
    if (!ticket) return null;
    return (async () => {
      try {
        return set(key, await fetch());
      } finally {
        ticket.done();
      }
    })();
  };

  return {
    get,
    set,
    note: (key, wire, value) => {
      const entry = lru.peek(key);
      if (entry !== undefined && entry.wire === wire) entry.note = value;
    },
    delete: (key) => lru.delete(key),
    clear: () => {
      lru.clear();
      inFlight.clear();
    },
    refreshing,
    isRefreshing,
    refresh,
    stats: () => ({ size: lru.size, bytes, ...counters, refreshesInFlight: inFlight.size, rejected: { ...rejected } }),
    get size() {
      return lru.size;
    },
  };
};
