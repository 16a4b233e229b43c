/**
 * DNS wire-layer micro-benchmark: `node --import tsx bench/dns-wire.ts [--seconds N]`.
 *
 * One thread, in-process, no sockets: how many operations a second the hot-path pieces manage
 * over 10,000 distinct queries (half with EDNS and a cookie, as dig sends) and cached answers
 * (a CNAME and two A records, as the cache keeps them: no OPT). Each figure is measured for N
 * seconds (default 1) after a warm-up, as operations per CPU-second of the process (wall-clock
 * rates, which other load on the machine drags down, are printed beside them). Prints human
 * lines, then as its last line one JSON object:
 *
 *   parseQueryPerSecond (parseQuery), parseAndKeyPerSecond (parseQuery + cacheKey),
 *   patchResponsePerSecond (a cache hit as served: ID, aged TTLs, the asker's question and OPT,
 *   walking the records), patchWithOffsetsPerSecond (the same with responseInfo's TTL offsets),
 *   responseInfoPerSecond (checking an upstream answer before caching), blockedResponsePerSecond,
 *   dnsPacketDecodePerSecond (dns-packet's full decode of the same queries, for scale).
 */
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import {
  blockedResponse,
  cacheKey,
  EdeCode,
  parseQuery,
  patchResponse,
  responseInfo,
  withEdnsRemoved,
  type ParsedQuery,
} from '../src/dataplane/dns/wire/index.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' } } });
const seconds = Number(values.seconds);
const N = 10_000;

const words = ['www', 'cdn', 'api', 'mail', 'static', 'img', 'login', 'edge', 'news', 'video'];
const tlds = ['com', 'co.uk', 'org', 'net', 'sch.uk', 'io'];
const names = Array.from({ length: N }, (_, i) => `${words[i % 10]!}.${(i * 2654435761).toString(36).slice(-8)}.${tlds[i % 6]!}`);

/** An OPT record for dns-packet to encode (its types want every decoded field). */
const opt = (udpPayloadSize: number, options: { code: number; data: Buffer }[] = []): dnsPacket.Answer => ({
  type: 'OPT',
  name: '.',
  udpPayloadSize,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: options as never,
});

const queries = names.map((name, i) =>
  dnsPacket.encode({
    type: 'query',
    id: i & 0xffff,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: i % 3 === 0 ? 'AAAA' : 'A', name }],
    additionals: i % 2 === 0 ? [opt(1232, [{ code: 10, data: Buffer.alloc(8, i & 0xff) }])] : [],
  }),
);
const parsed = queries.map((q) => {
  const r = parseQuery(q);
  if (!r.ok) throw new Error('bench query rejected');
  return r;
});
const upstream = parsed.map((q, i) =>
  dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: q.qtype === 28 ? 'AAAA' : 'A', name: q.qname }],
    answers: [
      { type: 'CNAME', name: q.qname, ttl: 300, data: `edge.${q.qname}` },
      ...(q.qtype === 28
        ? [
            { type: 'AAAA' as const, name: `edge.${q.qname}`, ttl: 60, data: `2001:db8::${(i & 0xfff).toString(16)}` },
            { type: 'AAAA' as const, name: `edge.${q.qname}`, ttl: 60, data: `2001:db8::1:${(i & 0xfff).toString(16)}` },
          ]
        : [
            { type: 'A' as const, name: `edge.${q.qname}`, ttl: 60, data: `192.0.2.${i & 0xff}` },
            { type: 'A' as const, name: `edge.${q.qname}`, ttl: 60, data: `198.51.100.${i & 0xff}` },
          ]),
    ],
    additionals: [opt(4096)],
  }),
);
const cached = upstream.map((u) => withEdnsRemoved(u)!);
const offsets = cached.map((c) => {
  const info = responseInfo(c);
  if (!info.ok) throw new Error('bench response malformed');
  return info.ttlOffsets;
});

/**
 * Runs op over the inputs round-robin for `seconds`; returns operations per CPU-second of this
 * process (so other load on the machine skews it less than wall time would; wall is printed too).
 */
const measure = (label: string, op: (i: number) => unknown): number => {
  let sink = 0;
  const run = (budgetNs: bigint): { ops: number; ns: number; cpuUs: number } => {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const end = start + budgetNs;
    let ops = 0;
    for (;;) {
      for (let i = 0; i < N; i++) if (op(i)) sink++;
      ops += N;
      const now = process.hrtime.bigint();
      if (now >= end) {
        const cpu = process.cpuUsage(cpu0);
        return { ops, ns: Number(now - start), cpuUs: cpu.user + cpu.system };
      }
    }
  };
  run(BigInt(Math.round(seconds * 0.3e9))); // warm-up: let the JIT settle
  const { ops, ns, cpuUs } = run(BigInt(Math.round(seconds * 1e9)));
  const perCpuSecond = Math.round((ops / cpuUs) * 1e6);
  const perWallSecond = Math.round((ops / ns) * 1e9);
  // `sink` keeps the results observable, so no call can be optimised away.
  console.log(
    `${label.padEnd(34)} ${(perCpuSecond / 1e6).toFixed(2).padStart(6)} M/CPU-s  ${(perWallSecond / 1e6).toFixed(2).padStart(6)} M/wall-s  (${sink} truthy)`,
  );
  return perCpuSecond;
};

const q = (i: number): ParsedQuery => parsed[i]!;
const started = process.hrtime.bigint();
const result = {
  parseQueryPerSecond: measure('parseQuery', (i) => parseQuery(queries[i]!).ok),
  parseAndKeyPerSecond: measure('parseQuery + cacheKey', (i) => {
    const r = parseQuery(queries[i]!);
    return r.ok && cacheKey(r).length;
  }),
  patchResponsePerSecond: measure('patchResponse (walk, echo, OPT)', (i) =>
    patchResponse(cached[i]!, { id: i, ageSeconds: 7, query: q(i) }),
  ),
  patchWithOffsetsPerSecond: measure('patchResponse (TTL offsets)', (i) =>
    patchResponse(cached[i]!, { id: i, ageSeconds: 7, query: q(i), ttlOffsets: offsets[i]! }),
  ),
  responseInfoPerSecond: measure('responseInfo', (i) => responseInfo(upstream[i]!).ok),
  blockedResponsePerSecond: measure('blockedResponse (with EDE)', (i) =>
    blockedResponse(q(i), { ttl: 60, ede: { code: EdeCode.BLOCKED, text: 'adult' } }),
  ),
  dnsPacketDecodePerSecond: measure('dns-packet decode (baseline)', (i) => dnsPacket.decode(queries[i]!).id),
};
console.log(`done in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
console.log(JSON.stringify(result));
