import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdeCode } from './constants.ts';
import { parseQuery, type ParsedQuery } from './parse-query.ts';
import { patchResponse, truncateForUdp, withEdnsRemoved } from './patch-response.ts';
import { responseInfo } from './response-info.ts';
import { bytes, dnsPacket, header, makeQuery, u16, u32, wireName, type QueryShape, ednsAnswer, decode } from './test-packets.ts';

const query = (name: string, shape: QueryShape = {}): ParsedQuery => {
  const r = parseQuery(makeQuery(name, shape));
  assert.ok(r.ok);
  return r;
};

const upstream = (answers = 2): Buffer =>
  dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'www.example.com' }],
    answers: [
      { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'web.example.com' },
      ...Array.from({ length: answers - 1 }, (_, i) => ({
        type: 'A' as const,
        name: 'web.example.com',
        ttl: 20 + i,
        data: `192.0.2.${i + 1}`,
      })),
    ],
    authorities: [{ type: 'NS', name: 'example.com', ttl: 86400, data: 'ns.example.com' }],
    additionals: [{ type: 'A', name: 'ns.example.com', ttl: 10, data: '192.0.2.53' }, ednsAnswer(4096, true)],
  });

const ttls = (buf: Buffer): number[] => {
  const d = decode(buf);
  return [...d.answers, ...d.authorities, ...d.additionals].filter((r) => r.type !== 'OPT').map((r) => r.ttl ?? -1);
};

describe('patchResponse', () => {
  it('replaces the ID and ages every TTL, OPT untouched, without touching the cached bytes', () => {
    const cached = upstream();
    const before = Buffer.from(cached);
    const patched = patchResponse(cached, { id: 0xfeed, ageSeconds: 15.7 })!;
    assert.deepEqual(cached, before);
    assert.equal(patched.readUInt16BE(0), 0xfeed);
    assert.deepEqual(ttls(patched), [285, 5, 86385, 0]); // 20 - 15 = 5; 10 - 15 floors at 0
    const opt = decode(patched).additionals.find((r) => r.type === 'OPT') as unknown as {
      flag_do: boolean;
      udpPayloadSize: number;
    };
    assert.equal(opt.flag_do, true);
    assert.equal(opt.udpPayloadSize, 4096);
    // Only the ID and TTL bytes differ.
    const diff = [...patched.keys()].filter((i) => patched[i] !== cached[i]);
    const info = responseInfo(cached);
    assert.ok(info.ok);
    const ttlBytes = new Set([...info.ttlOffsets].flatMap((o) => [o, o + 1, o + 2, o + 3]));
    assert.ok(diff.every((i) => i < 2 || ttlBytes.has(i)));
  });

  it('gives the same bytes with the TTL offsets from responseInfo', () => {
    const cached = upstream(6);
    const info = responseInfo(cached);
    assert.ok(info.ok);
    for (const ageSeconds of [0, 1, 19, 25, 299, 100000]) {
      assert.deepEqual(
        patchResponse(cached, { id: 5, ageSeconds, ttlOffsets: info.ttlOffsets }),
        patchResponse(cached, { id: 5, ageSeconds }),
      );
    }
  });

  it('keeps TTLs at the floor when serving stale, and reads top-bit TTLs as 0', () => {
    const cached = upstream();
    assert.deepEqual(ttls(patchResponse(cached, { id: 1, ageSeconds: 1e6, floorTtl: 30 })!), [30, 30, 30, 30]);
    const topBit = bytes(
      header({ b2: 0x81, an: 1 }),
      wireName('x'),
      u16(1),
      u16(1),
      0xc0,
      12,
      u16(1),
      u16(1),
      u32(0x80000010),
      u16(4),
      1,
      2,
      3,
      4,
    );
    assert.deepEqual(ttls(patchResponse(topBit, { id: 1, ageSeconds: 0 })!), [0]);
  });

  it('echoes the asker’s question case and RD, and appends Haven’s OPT with an EDE', () => {
    const cached = withEdnsRemoved(upstream())!;
    const asker = query('WWW.Example.Com', { id: 77, rd: false, edns: { do: true } });
    const patched = patchResponse(cached, { id: asker.id, ageSeconds: 0, query: asker, ede: { code: EdeCode.STALE_ANSWER, text: '' } })!;
    const d = decode(patched);
    assert.equal(d.id, 77);
    assert.equal(d.flag_rd, false);
    assert.deepEqual(d.questions, [{ name: 'WWW.Example.Com', type: 'A', class: 'IN' }]);
    const opt = d.additionals.find((r) => r.type === 'OPT')!;
    assert.equal(opt.udpPayloadSize, 1232);
    assert.equal(opt.flag_do, true);
    assert.deepEqual(opt.options, [{ code: 15, type: 'OPTION_15', data: Buffer.from([0, 3]) }]);
    assert.equal(patched.readUInt16BE(10), 2);

    const plain = patchResponse(cached, { id: 1, ageSeconds: 0, query: query('www.example.com') })!;
    assert.equal(plain.length, cached.length);
  });

  it('refuses a question of another length, and bytes that do not walk', () => {
    const cached = upstream();
    assert.equal(patchResponse(cached, { id: 1, ageSeconds: 0, query: query('example.com') }), null);
    for (let cut = 0; cut < cached.length; cut++) {
      assert.equal(patchResponse(cached.subarray(0, cut), { id: 1, ageSeconds: 5 }), null, `cut at ${cut}`);
    }
    const info = responseInfo(cached);
    assert.ok(info.ok);
    assert.equal(patchResponse(cached.subarray(0, 40), { id: 1, ageSeconds: 5, ttlOffsets: info.ttlOffsets }), null);
  });
});

describe('withEdnsRemoved', () => {
  it('drops the OPT record and nothing else', () => {
    const withOpt = upstream();
    const without = withEdnsRemoved(withOpt)!;
    const d = decode(without);
    assert.equal(without.readUInt16BE(10), 1);
    assert.deepEqual(
      d.additionals.map((r) => r.type),
      ['A'],
    );
    assert.deepEqual(d.answers, decode(withOpt).answers);
    assert.equal(withEdnsRemoved(without), without);
  });

  it('drops bytes after the OPT, and refuses an OPT with records after it', () => {
    const withOpt = upstream();
    assert.deepEqual(withEdnsRemoved(bytes(withOpt, 1, 2, 3)), withEdnsRemoved(withOpt));
    const optFirst = bytes(
      header({ b2: 0x81, ar: 2 }),
      wireName('x'),
      u16(1),
      u16(1),
      0,
      u16(41),
      u16(1232),
      0,
      0,
      0,
      0,
      u16(0),
      0xc0,
      12,
      u16(1),
      u16(1),
      u32(5),
      u16(4),
      1,
      2,
      3,
      4,
    );
    assert.ok(responseInfo(optFirst).ok);
    assert.equal(withEdnsRemoved(optFirst), null);
  });

  it('gives null for extended RCODEs and for garbage', () => {
    const badCookie = bytes(
      header({ b2: 0x81, b3: 0x87, ar: 1 }),
      wireName('x'),
      u16(1),
      u16(1),
      0,
      u16(41),
      u16(1232),
      1,
      0,
      0,
      0,
      u16(0),
    );
    assert.equal(withEdnsRemoved(badCookie), null);
    assert.equal(withEdnsRemoved(Buffer.alloc(5)), null);
    assert.equal(withEdnsRemoved(upstream().subarray(0, 50)), null);
  });
});

describe('truncateForUdp', () => {
  it('returns the response itself when it fits', () => {
    const r = upstream();
    assert.equal(truncateForUdp(r, r.length), r);
  });

  it('keeps header (TC=1), question and OPT when it does not', () => {
    const big = upstream(60);
    assert.ok(big.length > 512);
    const t = truncateForUdp(big, 512);
    const d = decode(t);
    assert.equal(d.flag_tc, true);
    assert.equal(d.id, 1);
    assert.deepEqual(d.questions, [{ name: 'www.example.com', type: 'A', class: 'IN' }]);
    assert.equal(d.answers.length, 0);
    assert.equal(d.authorities.length, 0);
    assert.deepEqual(
      d.additionals.map((r) => r.type),
      ['OPT'],
    );
    // Too small even for the OPT: header and question only.
    const tiny = truncateForUdp(big, 40);
    assert.equal(tiny.length, 33);
    assert.equal(tiny.readUInt16BE(10), 0);
    // Too small for the question, or garbage: a bare header with TC.
    assert.deepEqual(truncateForUdp(big, 20), bytes(big.subarray(0, 2), big[2]! | 2, big[3]!, 0, 0, 0, 0, 0, 0, 0, 0));
    const garbage = bytes(header({ b2: 0x81, an: 9 }), 0x40, Buffer.alloc(600));
    assert.equal(truncateForUdp(garbage, 512).length, 12);
    assert.equal(truncateForUdp(Buffer.alloc(600, 0xff), 512).length, 12);
  });
});
