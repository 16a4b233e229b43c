/**
 * The DNS filter's pipeline, one function per question, the same for UDP, TCP and DoH:
 *
 *   parse → identify the client → circumvention controls → decide (illegal tier, lists, policy)
 *   → blocked answer, SafeSearch CNAME, or forward (cache, then upstreams; stale if they fail)
 *   → check the answer's CNAME targets and addresses → event → reply.
 *
 * Every question becomes one event on the sink; nothing here waits for the database. A request
 * whose school policy is not compiled yet waits for it once (the first question after a start).
 *
 * `handleNow` answers synchronously whenever it can (decision 0010): when the decision is ready
 * and the answer is a block or a fresh cache hit, the reply is built and returned without a
 * Promise; only questions that must wait (for the upstreams, a SafeSearch target, or a policy
 * still compiling) return one. The verdict on a cached answer's CNAME targets and addresses is
 * kept on the cache entry with the decision scope it was made in (`decisionScope`), and made
 * again when the policy, the lists, the requester or the time span changes.
 */
import type {
  ClassifiedInput,
  ClientHint,
  ClientIdentity,
  Decision,
  EventSink,
  FilterEvent,
  RequestPerson,
  YoutubeMode,
} from '../../core/index.ts';
import type { DnsCache, DnsCacheHit } from './cache.ts';
import type { Upstreams } from './upstream.ts';
import {
  blockedResponse,
  EdeCode,
  nxdomainResponse,
  parseQuery,
  patchResponse,
  refusedResponse,
  rejectionResponse,
  responseInfo,
  RRType,
  servfailResponse,
  truncateForUdp,
  upstreamQuery,
  withEdnsRemoved,
  cacheKey,
  mergeCnameAnswer,
  encodeName,
  type Ede,
  type ParsedQuery,
  type ResponseInfo,
} from './wire/index.ts';

export interface DnsDecideRequest {
  site: string;
  at: Date;
  person: RequestPerson | null;
  /** Who, when known: a choice to go on past a warning is theirs. */
  personId?: string | null;
  clientIp?: string;
  place?: string;
  /** Category to use when no list knows the host (Haven's own circumvention hosts). */
  fallback?: { category: string; source: string };
}

export interface DnsDecision {
  classification: ClassifiedInput;
  decision: Decision | null;
}

export type CircumventionKind = 'canary' | 'private-relay' | 'doh-resolver';

export interface DnsFilterDeps {
  identify(hint: ClientHint): ClientIdentity | null;
  /** Without waiting: null until the school's policy has first compiled. */
  decideNow(schoolId: string, request: DnsDecideRequest): DnsDecision | null;
  decide(schoolId: string, request: DnsDecideRequest): Promise<DnsDecision>;
  /**
   * An object that stays the same exactly while every `decideNow` answer for this requester at this
   * time stays the same (the filter runtime's memo scope); null when it cannot say. Without it,
   * cached answers are checked on every hit.
   */
  decisionScope?: (schoolId: string, request: DnsDecideRequest) => object | null;
  safeSearch?: (host: string, settings: { safeSearch: boolean; youtube: YoutubeMode }) => { target: string } | null;
  circumvention?: (host: string) => { kind: CircumventionKind } | null;
  cache: DnsCache;
  upstreams: Pick<Upstreams, 'forward'>;
  events: EventSink;
  /** Where blocked A/AAAA questions point (the block page); 0.0.0.0 and :: when unset. */
  blockPage: { a?: string | undefined; aaaa?: string | undefined };
  /** TTL of blocked answers, in seconds (default 60: a policy change reaches devices soon). */
  blockTtl?: number;
  /** Milliseconds, for event times (default Date.now). */
  now?: () => number;
}

export interface DnsClient {
  ip: string;
  transport: 'udp' | 'tcp' | 'doh';
  deviceToken?: string | null;
  /** Largest UDP reply the client accepts (from EDNS); TCP and DoH have no limit here. */
}

export interface DnsHandlerStats {
  queries: number;
  rejected: number;
  refused: number;
  blocked: number;
  rewritten: number;
  forwarded: number;
  cacheHits: number;
  staleServed: number;
  servfail: number;
}

const QTYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
};
const qtypeName = (t: number): string => QTYPE_NAMES[t] ?? `TYPE${t}`;

const CIRCUMVENTION = { category: 'circumvention', source: 'haven/circumvention' } as const;
/** A name under .invalid (RFC 6761): no list holds it, so the circumvention fallback decides. */
const ECH_PROBE = 'ech.haven.invalid';

/** A one-question query for `name` (a SafeSearch target), RD set, Haven's own OPT. */
const queryFor = (name: string, qtype: number, dnssecOk: boolean): Buffer => {
  const wire = encodeName(name);
  const out = Buffer.alloc(12 + wire.length + 4 + 11);
  out[2] = 0x01;
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  let p = 12 + wire.copy(out, 12);
  out.writeUInt16BE(qtype, p);
  out.writeUInt16BE(1, p + 2);
  p += 4;
  // OPT: root name, type 41, class = UDP size 1232, TTL = flags (DO), no options.
  out[p] = 0;
  out.writeUInt16BE(RRType.OPT, p + 1);
  out.writeUInt16BE(1232, p + 3);
  out.writeUInt32BE(dnssecOk ? 0x8000 : 0, p + 5);
  out.writeUInt16BE(0, p + 9);
  return out;
};

/** What a cached answer's check found, kept on the cache entry (`DnsCache.note`). */
interface AnswerNote {
  scope: object;
  /** The blocking decision on a CNAME target or address, or null. */
  blocked: DnsDecision | null;
  /** An HTTPS/SVCB answer carrying Encrypted Client Hello. */
  hasEch: boolean;
}

/** Per question: what every step after the decision needs. */
interface Question {
  query: ParsedQuery;
  client: DnsClient;
  identity: ClientIdentity;
  at: Date;
  atIso: string;
  started: number;
  circumvention: { kind: CircumventionKind } | null;
}

type Reply = Buffer | null;
type MaybePromise<T> = T | Promise<T>;

export const createDnsHandler = (deps: DnsFilterDeps) => {
  const now = deps.now ?? Date.now;
  const blockTtl = deps.blockTtl ?? 60;
  const stats: DnsHandlerStats = {
    queries: 0,
    rejected: 0,
    refused: 0,
    blocked: 0,
    rewritten: 0,
    forwarded: 0,
    cacheHits: 0,
    staleServed: 0,
    servfail: 0,
  };

  // Many questions share a millisecond: one Date and one ISO string for all of them.
  let lastMs = Number.NaN;
  let lastDate = new Date(0);
  let lastIso = '';

  const decideFor = (identity: ClientIdentity, request: DnsDecideRequest): DnsDecision | Promise<DnsDecision> =>
    deps.decideNow(identity.schoolId, request) ?? deps.decide(identity.schoolId, request);

  const requestFor = (identity: ClientIdentity, client: DnsClient, site: string, at: Date): DnsDecideRequest => ({
    site,
    at,
    person: identity.person,
    personId: identity.personId,
    clientIp: client.ip,
    ...(identity.place !== null && { place: identity.place }),
  });

  const edeFor = (d: DnsDecision): Ede => {
    const category = d.classification.category ?? 'uncategorised';
    return d.classification.illegal
      ? { code: EdeCode.BLOCKED, text: 'Blocked: illegal content (IWF/CTIRU list)' }
      : { code: EdeCode.FILTERED, text: `Filtered by school policy: ${category}` };
  };

  /** A fresh cached answer for the query, patched for this client; null on a miss. */
  const cached = (query: ParsedQuery, hit: DnsCacheHit | null, key: string): Buffer | null => {
    if (!hit || hit.stale) return null;
    const wire = patchResponse(hit.wire, { id: query.id, ageSeconds: hit.ageSeconds, ttlOffsets: hit.ttlOffsets, query });
    if (!wire) return null;
    stats.cacheHits++;
    if (hit.prefetch) void refresh(query, key);
    return wire;
  };

  /** The upstreams' answer (stored in the cache), else the stale entry, else null. */
  const forward = async (
    query: ParsedQuery,
    key: string,
    hit: DnsCacheHit | null,
  ): Promise<{ wire: Buffer; from: 'upstream' | 'stale' } | null> => {
    try {
      const answer = await deps.upstreams.forward(upstreamQuery(query, query.id));
      const bare = withEdnsRemoved(answer);
      if (bare) deps.cache.set(key, bare);
      const wire = bare ? patchResponse(bare, { id: query.id, ageSeconds: 0, query }) : null;
      stats.forwarded++;
      return { wire: wire ?? answer, from: 'upstream' };
    } catch {
      if (hit) {
        const wire = patchResponse(hit.wire, {
          id: query.id,
          ageSeconds: hit.ageSeconds,
          floorTtl: 30,
          query,
          ede: { code: EdeCode.STALE_ANSWER, text: 'upstream resolvers unreachable' },
        });
        if (wire) {
          stats.staleServed++;
          return { wire, from: 'stale' };
        }
      }
      return null;
    }
  };

  /** Forward through the cache and upstreams: the response as the client should get it. */
  const resolve = async (query: ParsedQuery): Promise<{ wire: Buffer } | null> => {
    const key = cacheKey(query);
    const hit = deps.cache.get(key);
    const wire = cached(query, hit, key);
    return wire ? { wire } : forward(query, key, hit);
  };

  const refresh = async (query: ParsedQuery, key: string) => {
    const job = deps.cache.refreshing(key);
    if (!job) return;
    try {
      const answer = await deps.upstreams.forward(upstreamQuery(query, query.id));
      const bare = withEdnsRemoved(answer);
      if (bare) deps.cache.set(key, bare);
    } catch {
      // The entry stays; it is served stale if the upstreams stay down.
    } finally {
      job.done();
    }
  };

  const isChecked = (type: number) => type === RRType.CNAME || type === RRType.A || type === RRType.AAAA;

  /** The blocking decision on an answer's CNAME targets and addresses, if any blocks; undefined when a decision is not ready. */
  const checkAnswerNow = (q: Question, info: ResponseInfo): DnsDecision | null | undefined => {
    for (const record of info.answers) {
      if (!isChecked(record.type)) continue;
      const d = deps.decideNow(q.identity.schoolId, requestFor(q.identity, q.client, record.data, q.at));
      if (d === null) return undefined;
      if (d.decision?.action === 'block' && d.classification.category !== null) return d;
    }
    return null;
  };

  const checkAnswer = async (q: Question, info: ResponseInfo): Promise<DnsDecision | null> => {
    for (const record of info.answers) {
      if (!isChecked(record.type)) continue;
      const d = await decideFor(q.identity, requestFor(q.identity, q.client, record.data, q.at));
      if (d.decision?.action === 'block' && d.classification.category !== null) return d;
    }
    return null;
  };

  // Over UDP, never more than 1232 bytes (the DNS flag day size): larger replies fragment, and fragments get lost.
  const finish = (reply: Buffer, query: ParsedQuery, client: DnsClient): Buffer =>
    client.transport === 'udp' ? truncateForUdp(reply, Math.min(query.edns?.udpSize ?? 512, 1232)) : reply;

  /** Writes the question's event and returns the reply to send. */
  const complete = (q: Question, d: DnsDecision, layer: FilterEvent['layer'] | null, reply: Buffer): Buffer => {
    const decision = d.decision;
    const rule = decision?.rule ?? null;
    deps.events.write({
      at: q.atIso,
      source: q.client.transport === 'doh' ? 'doh' : 'dns',
      schoolId: q.identity.schoolId,
      clientIp: q.client.ip,
      personId: q.identity.personId,
      deviceId: q.identity.deviceId,
      profile: rule?.id.startsWith('profile:') ? rule.id.slice(8) : null,
      host: q.query.qname,
      url: null,
      qtype: qtypeName(q.query.qtype),
      category: d.classification.category,
      list: d.classification.source,
      action: layer === 'error' ? 'allow' : (decision?.action ?? 'allow'),
      layer: layer ?? decision?.layer ?? 'fallback',
      ruleId: rule?.id ?? null,
      flagged: decision?.flagged ?? false,
      latencyUs: Math.round((performance.now() - q.started) * 1000),
    });
    return finish(reply, q.query, q.client);
  };

  const blockedBy = (q: Question, d: DnsDecision): Buffer => {
    stats.blocked++;
    return complete(
      q,
      d,
      null,
      blockedResponse(q.query, { a: deps.blockPage.a, aaaa: deps.blockPage.aaaa, ttl: blockTtl, ede: edeFor(d) }),
    );
  };

  /** After the answer check: blocked, ECH withheld, or the answer as it came. */
  const afterCheck = (q: Question, d: DnsDecision, wire: Buffer, blocked: DnsDecision | null, hasEch: boolean): MaybePromise<Reply> => {
    if (blocked) return blockedBy(q, blocked);
    if (!hasEch) return complete(q, d, null, wire);
    // Encrypted Client Hello hides the site's name from the proxy: drop the record (the browser falls back) when circumvention is blocked.
    // What the policy does with circumvention for this person, asked with a name no list holds.
    const echRequest = { ...requestFor(q.identity, q.client, ECH_PROBE, q.at), fallback: CIRCUMVENTION };
    const withEch = (ech: DnsDecision): Buffer =>
      ech.decision?.action === 'block'
        ? complete(
            q,
            d,
            'circumvention',
            blockedResponse(q.query, { ttl: blockTtl, ede: { code: EdeCode.FILTERED, text: 'Filtered: encrypted client hello' } }),
          )
        : complete(q, d, null, wire);
    const now = deps.decideNow(q.identity.schoolId, echRequest);
    return now !== null ? withEch(now) : deps.decide(q.identity.schoolId, echRequest).then(withEch);
  };

  /** The answer from the cache or upstreams: check its CNAME targets and addresses (the verdict kept on the cache entry). */
  const afterResolve = (q: Question, d: DnsDecision, wire: Buffer, hit: DnsCacheHit | null, key: string): MaybePromise<Reply> => {
    const https = q.query.qtype === RRType.HTTPS || q.query.qtype === RRType.SVCB;
    const scope =
      hit && deps.decisionScope ? deps.decisionScope(q.identity.schoolId, requestFor(q.identity, q.client, q.query.qname, q.at)) : null;
    const note = hit?.note as AnswerNote | undefined;
    if (scope !== null && note !== undefined && note.scope === scope) return afterCheck(q, d, wire, note.blocked, note.hasEch);
    const info = responseInfo(wire);
    if (!info.ok) return complete(q, d, null, wire);
    const hasEch = https && info.answers.some((r) => r.hasEch);
    const blocked = checkAnswerNow(q, info);
    if (blocked === undefined) return checkAnswer(q, info).then((b) => afterCheck(q, d, wire, b, hasEch));
    if (hit && scope !== null) deps.cache.note(key, hit.wire, { scope, blocked, hasEch } satisfies AnswerNote);
    return afterCheck(q, d, wire, blocked, hasEch);
  };

  /** Everything after the question's own decision. */
  const afterDecision = (q: Question, d: DnsDecision): MaybePromise<Reply> => {
    const { query } = q;
    const action = d.decision?.action ?? 'allow';
    if (d.decision && (action === 'block' || (action === 'warn' && (deps.blockPage.a || deps.blockPage.aaaa)))) {
      // Firefox's canary and iCloud Private Relay get NXDOMAIN, which is what makes devices fall back.
      const c = q.circumvention;
      const reply =
        c && c.kind !== 'doh-resolver' && d.classification.category === 'circumvention'
          ? nxdomainResponse(query, edeFor(d), blockTtl)
          : blockedResponse(query, { a: deps.blockPage.a, aaaa: deps.blockPage.aaaa, ttl: blockTtl, ede: edeFor(d) });
      stats.blocked++;
      return complete(q, d, c ? 'circumvention' : null, reply);
    }
    const rewrite = d.decision ? deps.safeSearch?.(query.qname, { safeSearch: d.decision.safeSearch, youtube: d.decision.youtube }) : null;
    if (rewrite) {
      stats.rewritten++;
      const targetQuery = parseQuery(queryFor(rewrite.target, query.qtype, query.edns?.dnssecOk ?? false));
      return (targetQuery.ok ? resolve(targetQuery) : Promise.resolve(null)).then((resolved) => {
        if (resolved) return complete(q, d, 'safesearch', mergeCnameAnswer(query, rewrite.target, blockTtl, resolved.wire));
        stats.servfail++;
        return complete(q, d, 'safesearch', servfailResponse(query, { code: EdeCode.NETWORK_ERROR, text: '' }));
      });
    }
    const key = cacheKey(query);
    const hit = deps.cache.get(key);
    const wire = cached(query, hit, key);
    if (wire) return afterResolve(q, d, wire, hit, key);
    return forward(query, key, hit).then((resolved) => {
      if (resolved) return afterResolve(q, d, resolved.wire, null, key);
      stats.servfail++;
      return complete(
        q,
        d,
        'error',
        servfailResponse(query, { code: EdeCode.NO_REACHABLE_AUTHORITY, text: 'upstream resolvers unreachable' }),
      );
    });
  };

  /** The reply to send (null: stay silent), at once when it can be, else a Promise of it. Throws only on a bug. */
  const handleNow = (packet: Buffer, client: DnsClient): MaybePromise<Reply> => {
    const started = performance.now();
    stats.queries++;
    const query = parseQuery(packet);
    if (!query.ok) {
      stats.rejected++;
      return rejectionResponse(query);
    }
    const identity = deps.identify({ ip: client.ip, deviceToken: client.deviceToken ?? null });
    if (identity === null) {
      stats.refused++;
      return refusedResponse(query, { code: EdeCode.NOT_READY, text: 'Haven has no school set up yet' });
    }
    const atMs = now();
    if (atMs !== lastMs) {
      lastMs = atMs;
      lastDate = new Date(atMs);
      lastIso = Number.isFinite(atMs) ? lastDate.toISOString() : '';
    }
    const circumvention = deps.circumvention?.(query.qname) ?? null;
    const q: Question = { query, client, identity, at: lastDate, atIso: lastIso, started, circumvention };
    const request = { ...requestFor(identity, client, query.qname, q.at), ...(circumvention && { fallback: CIRCUMVENTION }) };
    const d = deps.decideNow(identity.schoolId, request);
    if (d !== null) return afterDecision(q, d);
    return deps.decide(identity.schoolId, request).then((later) => afterDecision(q, later));
  };

  return {
    stats: (): DnsHandlerStats => ({ ...stats }),

    handleNow,

    /** The reply to send, or null to stay silent (a packet not worth answering). */
    async handle(packet: Buffer, client: DnsClient): Promise<Buffer | null> {
      return handleNow(packet, client);
    },
  };
};

export type DnsHandler = ReturnType<typeof createDnsHandler>;
