/**
 * The DNS filter's pipeline, one function per question, the same for UDP, TCP and DoH:
 *
 *   parse → identify the client → circumvention controls → decide (illegal tier, lists, policy)
 *   → blocked answer, SafeSearch CNAME, or forward (cache, then upstreams; stale if they fail)
 *   → check the answer's CNAME targets and addresses → event → reply.
 *
 * Every question becomes one event on the sink; nothing here waits for the database. A request
 * whose school policy is not compiled yet waits for it once (the first question after a start).
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
import type { DnsCache } from './cache.ts';
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

  const decideFor = (identity: ClientIdentity, request: DnsDecideRequest): DnsDecision | Promise<DnsDecision> =>
    deps.decideNow(identity.schoolId, request) ?? deps.decide(identity.schoolId, request);

  const requestFor = (identity: ClientIdentity, client: DnsClient, site: string, at: Date): DnsDecideRequest => ({
    site,
    at,
    person: identity.person,
    clientIp: client.ip,
    ...(identity.place !== null && { place: identity.place }),
  });

  const edeFor = (d: DnsDecision): Ede => {
    const category = d.classification.category ?? 'uncategorised';
    return d.classification.illegal
      ? { code: EdeCode.BLOCKED, text: 'Blocked: illegal content (IWF/CTIRU list)' }
      : { code: EdeCode.FILTERED, text: `Filtered by school policy: ${category}` };
  };

  /** Forward through the cache and upstreams: the response as the client should get it, and whether it came from the cache. */
  const resolve = async (query: ParsedQuery): Promise<{ wire: Buffer; from: 'cache' | 'upstream' | 'stale' } | null> => {
    const key = cacheKey(query);
    const hit = deps.cache.get(key);
    if (hit && !hit.stale) {
      const wire = patchResponse(hit.wire, { id: query.id, ageSeconds: hit.ageSeconds, ttlOffsets: hit.ttlOffsets, query });
      if (wire) {
        stats.cacheHits++;
        if (hit.prefetch) void refresh(query, key);
        return { wire, from: 'cache' };
      }
    }
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

  /** The blocking decision on an answer's CNAME targets and addresses, if any blocks. */
  const checkAnswer = async (identity: ClientIdentity, client: DnsClient, info: ResponseInfo, at: Date): Promise<DnsDecision | null> => {
    for (const record of info.answers) {
      if (record.type !== RRType.CNAME && record.type !== RRType.A && record.type !== RRType.AAAA) continue;
      const d = await decideFor(identity, requestFor(identity, client, record.data, at));
      if (d.decision?.action === 'block' && d.classification.category !== null) return d;
    }
    return null;
  };

  // Over UDP, never more than 1232 bytes (the DNS flag day size): larger replies fragment, and fragments get lost.
  const finish = (reply: Buffer, query: ParsedQuery, client: DnsClient): Buffer =>
    client.transport === 'udp' ? truncateForUdp(reply, Math.min(query.edns?.udpSize ?? 512, 1232)) : reply;

  return {
    stats: (): DnsHandlerStats => ({ ...stats }),

    /** The reply to send, or null to stay silent (a packet not worth answering). */
    async handle(packet: Buffer, client: DnsClient): Promise<Buffer | null> {
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
      const at = new Date(atMs);
      const host = query.qname;
      let layer: FilterEvent['layer'] | null = null;
      let d: DnsDecision | null = null;
      let reply: Buffer | null = null;

      const circumvention = deps.circumvention?.(host) ?? null;
      d = await decideFor(identity, { ...requestFor(identity, client, host, at), ...(circumvention && { fallback: CIRCUMVENTION }) });
      const action = d.decision?.action ?? 'allow';

      if (d.decision && (action === 'block' || (action === 'warn' && (deps.blockPage.a || deps.blockPage.aaaa)))) {
        // Firefox's canary and iCloud Private Relay get NXDOMAIN, which is what makes devices fall back.
        reply =
          circumvention && circumvention.kind !== 'doh-resolver' && d.classification.category === 'circumvention'
            ? nxdomainResponse(query, edeFor(d), blockTtl)
            : blockedResponse(query, { a: deps.blockPage.a, aaaa: deps.blockPage.aaaa, ttl: blockTtl, ede: edeFor(d) });
        stats.blocked++;
        if (circumvention) layer = 'circumvention';
      } else {
        const rewrite = d.decision ? deps.safeSearch?.(host, { safeSearch: d.decision.safeSearch, youtube: d.decision.youtube }) : null;
        if (rewrite) {
          const targetQuery = parseQuery(queryFor(rewrite.target, query.qtype, query.edns?.dnssecOk ?? false));
          const resolved = targetQuery.ok ? await resolve(targetQuery) : null;
          reply = resolved
            ? mergeCnameAnswer(query, rewrite.target, blockTtl, resolved.wire)
            : servfailResponse(query, { code: EdeCode.NETWORK_ERROR, text: '' });
          if (!resolved) stats.servfail++;
          stats.rewritten++;
          layer = 'safesearch';
        } else {
          const resolved = await resolve(query);
          if (!resolved) {
            stats.servfail++;
            reply = servfailResponse(query, { code: EdeCode.NO_REACHABLE_AUTHORITY, text: 'upstream resolvers unreachable' });
            layer = 'error';
          } else {
            const info = responseInfo(resolved.wire);
            const viaAnswer = info.ok ? await checkAnswer(identity, client, info, at) : null;
            if (viaAnswer) {
              d = viaAnswer;
              stats.blocked++;
              reply = blockedResponse(query, { a: deps.blockPage.a, aaaa: deps.blockPage.aaaa, ttl: blockTtl, ede: edeFor(viaAnswer) });
            } else if (info.ok && (query.qtype === RRType.HTTPS || query.qtype === RRType.SVCB) && info.answers.some((r) => r.hasEch)) {
              // Encrypted Client Hello hides the site's name from the proxy: drop the record (the browser falls back) when circumvention is blocked.
              // What the policy does with circumvention for this person, asked with a name no list holds.
              const ech = await decideFor(identity, { ...requestFor(identity, client, ECH_PROBE, at), fallback: CIRCUMVENTION });
              const echBlocked = ech.decision?.action === 'block';
              reply = echBlocked
                ? blockedResponse(query, { ttl: blockTtl, ede: { code: EdeCode.FILTERED, text: 'Filtered: encrypted client hello' } })
                : resolved.wire;
              if (echBlocked) layer = 'circumvention';
            } else {
              reply = resolved.wire;
            }
          }
        }
      }

      const decision = d.decision;
      deps.events.write({
        at: at.toISOString(),
        source: client.transport === 'doh' ? 'doh' : 'dns',
        schoolId: identity.schoolId,
        clientIp: client.ip,
        personId: identity.personId,
        deviceId: identity.deviceId,
        profile: decision?.rule?.id.startsWith('profile:') ? decision.rule.id.slice(8) : null,
        host,
        url: null,
        qtype: qtypeName(query.qtype),
        category: d.classification.category,
        list: d.classification.source,
        action: layer === 'error' ? 'allow' : (decision?.action ?? 'allow'),
        layer: layer ?? decision?.layer ?? 'fallback',
        ruleId: decision?.rule?.id ?? null,
        flagged: decision?.flagged ?? false,
        latencyUs: Math.round((performance.now() - started) * 1000),
      });
      return finish(reply, query, client);
    },
  };
};

export type DnsHandler = ReturnType<typeof createDnsHandler>;
