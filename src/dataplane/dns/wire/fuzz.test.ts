/**
 * A million random and mutated packets through every reader of the wire layer: none may throw,
 * every call must return (the run is bounded by count, so a hang shows as a test that never
 * ends), and what the readers accept must hold together (a patched answer walks as the same
 * message, answers built for an accepted query read back as well-formed).
 *
 * The seed is random per run and printed; rerun a failure with HAVEN_FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedResponse, cnameResponse, mergeCnameAnswer, nxdomainResponse, rejectionResponse, upstreamQuery } from './build-response.ts';
import { EdeCode } from './constants.ts';
import { cacheKey, parseQuery } from './parse-query.ts';
import { patchResponse, truncateForUdp, withEdnsRemoved } from './patch-response.ts';
import { responseInfo } from './response-info.ts';
import { bytes, dnsPacket, header, makeQuery, optRecord, prng, record, u16, wireName, ednsAnswer } from './test-packets.ts';

const PACKETS = 1_000_000;
const SEED = process.env.HAVEN_FUZZ_SEED ? Number(process.env.HAVEN_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;

/** Valid queries and responses to mutate: compressed names, EDNS options, every record type the readers look into. */
const corpus = (): Buffer[] => {
  const queries = [
    makeQuery('www.example.com'),
    makeQuery('WwW.ExAmPlE.CoM', { type: 'AAAA', cd: true, edns: { udp: 4096, do: true } }),
    makeQuery('a.b.c.d.e.f.g.h', { type: 'UNKNOWN_65', edns: { options: [{ code: 10, data: Buffer.alloc(24, 3) }] } }),
    makeQuery('_dmarc.school.sch.uk', { type: 'TXT', edns: { options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 10, 0, 0]) }] } }),
    makeQuery(['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')),
    bytes(header({ ar: 1 }), wireName('x', 'y'), u16(1), u16(1), optRecord({ version: 1, options: [{ code: 12, data: Buffer.alloc(8) }] })),
    bytes(header(), wireName('version', 'bind'), u16(16), u16(3)),
  ];
  const q0 = parseQuery(queries[1]!);
  assert.ok(q0.ok);
  const responses = [
    dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'www.example.com' }],
      answers: [
        { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'web.example.com' },
        { type: 'A', name: 'web.example.com', ttl: 20, data: '192.0.2.1' },
        { type: 'AAAA', name: 'web.example.com', ttl: 20, data: '2001:db8::1' },
      ],
      authorities: [{ type: 'NS', name: 'example.com', ttl: 86400, data: 'ns.example.com' }],
      additionals: [{ type: 'A', name: 'ns.example.com', ttl: 10, data: '192.0.2.53' }, ednsAnswer(4096)],
    }),
    dnsPacket.encode({
      type: 'response',
      flags: 3,
      questions: [{ type: 'A', name: 'nope.example.com' }],
      authorities: [
        {
          type: 'SOA',
          name: 'example.com',
          ttl: 900,
          data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 60 },
        },
      ],
    }),
    // Compressed: owners and RDATA names point back into the question and earlier records.
    bytes(
      header({ b2: 0x81, b3: 0x80, an: 4, ns: 1 }),
      wireName('www', 'youtube', 'com'),
      u16(1),
      u16(1),
      record(bytes(0xc0, 12), 5, 600, bytes(1, 'm', 0xc0, 16)),
      record(bytes(1, 'm', 0xc0, 16), 1, 300, bytes(216, 239, 38, 119)),
      record(bytes(0xc0, 12), 65, 300, bytes(u16(1), 0, u16(1), u16(3), 2, 'h', '2', u16(5), u16(4), 1, 2, 3, 4)),
      record(bytes(0xc0, 12), 15, 300, bytes(u16(10), 4, 'mail', 0xc0, 16)),
      record(bytes(0xc0, 16), 6, 300, bytes(2, 'ns', 0xc0, 16, 1, 'h', 0xc0, 16, Buffer.alloc(20, 1))),
    ),
    blockedResponse(q0, { ttl: 60, aaaa: '2001:db8::dead', ede: { code: EdeCode.BLOCKED, text: 'adult' } }),
    nxdomainResponse(q0, { code: EdeCode.FILTERED, text: 'canary' }, 300),
    cnameResponse(q0, 'restrict.youtube.com', 300),
  ];
  responses.push(mergeCnameAnswer(q0, 'web.example.com', 60, responses[0]!));
  return [...queries, ...responses];
};

const INTERESTING = [0x00, 0xff, 0xc0, 0xc0, 0x3f, 0x40, 0x80, 0x01, 0x0c, 0x29];

const hex = (b: Buffer): string => b.toString('hex');

describe('wire fuzz', () => {
  it(`survives ${PACKETS.toLocaleString('en-GB')} random and mutated packets`, (t) => {
    t.diagnostic(`seed ${SEED} (rerun with HAVEN_FUZZ_SEED=${SEED})`);
    const rand = prng(SEED);
    const int = (n: number): number => Math.floor(rand() * n);
    const seeds = corpus();
    const started = process.hrtime.bigint();
    const tally = { queriesOk: 0, rejected: 0, responsesOk: 0, patched: 0 };
    const reasons = new Map<string, number>();

    const mutate = (): Buffer => {
      if (int(10) === 0) {
        const out = Buffer.allocUnsafe(int(int(4) === 0 ? 1500 : 80));
        for (let i = 0; i < out.length; i++) out[i] = int(256);
        return out;
      }
      let out = Buffer.from(seeds[int(seeds.length)]!);
      for (let round = 1 + int(3); round > 0; round--) {
        switch (int(8)) {
          case 0: // bit flips
            for (let k = 1 + int(8); k > 0 && out.length > 0; k--) out[int(out.length)]! ^= 1 << int(8);
            break;
          case 1: // interesting bytes
            for (let k = 1 + int(4); k > 0 && out.length > 0; k--) out[int(out.length)] = INTERESTING[int(INTERESTING.length)]!;
            break;
          case 2: // truncation
            out = out.subarray(0, int(out.length + 1));
            break;
          case 3: {
            // random tail
            const tail = Buffer.allocUnsafe(int(64));
            for (let i = 0; i < tail.length; i++) tail[i] = int(256);
            out = Buffer.concat([out, tail]);
            break;
          }
          case 4: // pointer loops: to itself, to a later pointer, to the question
            if (out.length > 14) {
              const at = 12 + int(out.length - 13);
              const target = int(3) === 0 ? at : int(2) === 0 ? 12 : int(out.length);
              out[at] = 0xc0 | ((target >> 8) & 0x3f);
              out[at + 1] = target & 0xff;
            }
            break;
          case 5: // header counts
            if (out.length >= 12) {
              const field = 4 + 2 * int(4);
              const value = int(2) === 0 ? int(4) : int(65536);
              out[field] = value >> 8;
              out[field + 1] = value & 0xff;
            }
            break;
          case 6: // a 16-bit field (RDLENGTH, option length …) set to something odd
            if (out.length > 2) {
              const at = int(out.length - 1);
              const value = [0, 1, 4, 0xff, 0xffff, int(65536)][int(6)]!;
              out[at] = value >> 8;
              out[at + 1] = value & 0xff;
            }
            break;
          default: {
            // splice two packets
            const other = seeds[int(seeds.length)]!;
            out = Buffer.concat([out.subarray(0, int(out.length + 1)), other.subarray(int(other.length + 1))]);
          }
        }
      }
      return out;
    };

    for (let i = 0; i < PACKETS; i++) {
      const pkt = mutate();
      const where = (): string => `seed ${SEED}, packet ${i}: ${hex(pkt)}`;
      try {
        const q = parseQuery(pkt);
        if (q.ok) {
          tally.queriesOk++;
          cacheKey(q);
          // What Haven builds for an accepted query must read back as a well-formed response.
          const answer = blockedResponse(q, { ttl: 60, ede: { code: EdeCode.FILTERED, text: 'x' } });
          const back = responseInfo(answer);
          assert.ok(back.ok, `our answer to an accepted query is malformed (${back.ok ? '' : back.reason}); ${where()}`);
          assert.equal(back.question?.qnameWire, q.qnameWire, where());
          const forwarded = parseQuery(upstreamQuery(q, i & 0xffff));
          assert.ok(forwarded.ok && forwarded.qnameWire === q.qnameWire && forwarded.qtype === q.qtype, where());
        } else {
          tally.rejected++;
          reasons.set(q.reason, (reasons.get(q.reason) ?? 0) + 1);
          rejectionResponse(q);
        }

        const r = responseInfo(pkt);
        const walked = patchResponse(pkt, { id: i & 0xffff, ageSeconds: i & 63 });
        const udp = truncateForUdp(pkt, 512);
        assert.ok(pkt.length <= 512 ? udp === pkt : udp.length <= 512, where());
        if (r.ok) {
          tally.responsesOk++;
          assert.ok(walked, `a well-formed response did not patch; ${where()}`);
          assert.equal(walked.length, pkt.length, where());
          assert.deepEqual(patchResponse(pkt, { id: i & 0xffff, ageSeconds: i & 63, ttlOffsets: r.ttlOffsets }), walked, where());
          const stored = withEdnsRemoved(pkt);
          if (stored) assert.ok(responseInfo(stored).ok, `withEdnsRemoved broke a response; ${where()}`);
        }
        if (walked) tally.patched++;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.fail(`threw ${(e as Error).stack ?? String(e)}\n${where()}`);
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    t.diagnostic(`${PACKETS} packets in ${seconds.toFixed(1)} s: ${JSON.stringify(tally)}`);
    t.diagnostic(`rejections: ${JSON.stringify(Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1])))}`);
    // Enough of each kind got through for the invariants above to mean something.
    assert.ok(tally.queriesOk > PACKETS / 100 && tally.responsesOk > PACKETS / 100, JSON.stringify(tally));
  });
});
