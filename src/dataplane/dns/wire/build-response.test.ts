import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  badversResponse,
  blockedResponse,
  cnameResponse,
  formerrResponse,
  mergeCnameAnswer,
  notimpResponse,
  nxdomainResponse,
  refusedResponse,
  servfailResponse,
  upstreamQuery,
} from './build-response.ts';
import { EdeCode } from './constants.ts';
import { parseQuery, type ParsedQuery } from './parse-query.ts';
import { responseInfo } from './response-info.ts';
import {
  bytes,
  decode,
  header,
  makeQuery,
  record,
  u16,
  u32,
  wireName,
  type Decoded,
  type DecodedRecord,
  type QueryShape,
} from './test-packets.ts';

const query = (name: string, shape: QueryShape = {}): ParsedQuery => {
  const r = parseQuery(makeQuery(name, shape));
  assert.ok(r.ok);
  return r;
};

const optOf = (packet: Decoded): DecodedRecord | undefined => packet.additionals.find((r) => r.type === 'OPT');

/** What every answer Haven makes shares with its query. */
const assertEchoes = (response: Buffer, q: ParsedQuery): Decoded => {
  const d = decode(response);
  const asked = decode(q.packet);
  assert.equal(d.id, q.id);
  assert.equal(d.flag_qr, true);
  assert.equal(d.flag_ra, true);
  assert.equal(d.flag_aa, false);
  assert.equal(d.flag_tc, false);
  assert.equal(d.flag_rd, q.flags.rd);
  assert.equal(d.flag_cd, q.flags.cd);
  assert.deepEqual(d.questions, asked.questions); // letter case kept
  assert.deepEqual(response.subarray(12, q.questionEnd), q.packet.subarray(12, q.questionEnd));
  const opt = optOf(d);
  if (q.edns) {
    assert.ok(opt, 'an OPT record answers an EDNS query');
    assert.equal(opt.udpPayloadSize, 1232);
    assert.equal(opt.ednsVersion, 0);
    assert.equal(opt.flag_do, q.edns.dnssecOk);
  } else {
    assert.equal(opt, undefined, 'no OPT record without EDNS in the query');
  }
  return d;
};

describe('blockedResponse', () => {
  it('answers A and AAAA with the block-page address, 0.0.0.0 and :: by default', () => {
    const cases: [QueryShape, { a?: string; aaaa?: string }, string][] = [
      [{ type: 'A' }, {}, '0.0.0.0'],
      [{ type: 'A' }, { a: '192.0.2.10' }, '192.0.2.10'],
      [{ type: 'AAAA' }, {}, '::'],
      [{ type: 'AAAA', cd: true, rd: false }, { aaaa: '2001:db8::10' }, '2001:db8::10'],
      [{ type: 'A', edns: { do: true } }, { a: '192.0.2.10' }, '192.0.2.10'],
    ];
    for (const [shape, addrs, expected] of cases) {
      const q = query('Ads.Example.NET', shape);
      const d = assertEchoes(blockedResponse(q, { ...addrs, ttl: 300 }), q);
      assert.equal(d.rcode, 'NOERROR');
      assert.equal(d.answers.length, 1);
      const a = d.answers[0]!;
      assert.equal(a.type, shape.type);
      assert.equal(a.name, 'Ads.Example.NET');
      assert.equal(a.ttl, 300);
      assert.equal(a.data, expected);
    }
  });

  it('answers other types NODATA with an SOA that caches for the TTL', () => {
    for (const type of ['TXT', 'MX', 'UNKNOWN_65', 'ANY']) {
      const q = query('ads.example.net', { type, edns: {} });
      const response = blockedResponse(q, { a: '192.0.2.10', ttl: 120, ede: { code: EdeCode.BLOCKED, text: 'ads' } });
      const d = assertEchoes(response, q);
      assert.equal(d.rcode, 'NOERROR');
      assert.equal(d.answers.length, 0);
      assert.equal(d.authorities.length, 1);
      const soa = d.authorities[0]!;
      assert.equal(soa.type, 'SOA');
      assert.equal(soa.ttl, 120);
      assert.equal(soa.data.minimum, 120);
      assert.equal(soa.data.mname, 'haven.invalid');
      const info = responseInfo(response);
      assert.ok(info.ok);
      assert.equal(info.negative, true);
      assert.equal(info.minTtl, 120);
    }
  });

  it('rejects block-page addresses that are not addresses', () => {
    assert.throws(() => blockedResponse(query('x.com'), { a: 'block.example', ttl: 1 }), RangeError);
    assert.throws(() => blockedResponse(query('x.com', { type: 'AAAA' }), { aaaa: '1.2.3.4', ttl: 1 }), RangeError);
  });
});

describe('Extended DNS Errors (RFC 8914)', () => {
  it('lays out option 15 byte for byte: code, length, INFO-CODE, UTF-8 EXTRA-TEXT', () => {
    const q = query('adult.example', { edns: {} });
    const response = blockedResponse(q, { ttl: 60, ede: { code: EdeCode.BLOCKED, text: 'adult' } });
    const opt = response.subarray(response.length - 11 - 4 - 2 - 5);
    assert.deepEqual(
      opt,
      bytes(
        0, // owner: root
        u16(41), // TYPE OPT
        u16(1232), // CLASS: UDP payload size
        0, // extended RCODE
        0, // version
        u16(0), // DO and Z
        u16(4 + 2 + 5), // RDLENGTH
        u16(15), // OPTION-CODE: Extended DNS Error
        u16(2 + 5), // OPTION-LENGTH
        u16(15), // INFO-CODE: Blocked
        'adult', // EXTRA-TEXT, no NUL
      ),
    );
    const parsed = optOf(decode(response))!.options![0]!;
    assert.equal(parsed.code, 15);
  });

  it('encodes Filtered with multi-byte text, DO echoed', () => {
    const text = 'Catégorie: 成人';
    const q = query('x.example', { edns: { do: true } });
    const response = nxdomainResponse(q, { code: EdeCode.FILTERED, text });
    const utf8 = Buffer.from(text, 'utf8');
    assert.deepEqual(
      response.subarray(response.length - 17 - utf8.length),
      bytes(0, u16(41), u16(1232), 0, 0, 0x80, 0, u16(6 + utf8.length), u16(15), u16(2 + utf8.length), u16(17), utf8),
    );
  });

  it('cuts long text to 200 bytes on a character boundary', () => {
    const q = query('x.example', { edns: {} });
    const response = servfailResponse(q, { code: EdeCode.OTHER, text: 'é'.repeat(150) }); // 300 bytes
    const option = optOf(decode(response))!.options![0]!.data;
    assert.equal(option.length, 2 + 200);
    assert.equal(option.subarray(2).toString('utf8'), 'é'.repeat(100));
    const odd = servfailResponse(q, { code: EdeCode.OTHER, text: 'a' + 'é'.repeat(150) });
    assert.equal(optOf(decode(odd))!.options![0]!.data.subarray(2).toString('utf8'), 'a' + 'é'.repeat(99));
  });

  it('is left out when the query had no EDNS', () => {
    const q = query('adult.example');
    const response = blockedResponse(q, { ttl: 60, ede: { code: EdeCode.BLOCKED, text: 'adult' } });
    assert.equal(response.readUInt16BE(10), 0);
    assert.equal(response.length, 12 + (q.questionEnd - 12) + 16);
  });
});

describe('NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP, BADVERS', () => {
  it('NXDOMAIN, with an SOA only when given a negative TTL', () => {
    const q = query('use-application-dns.net', { edns: {} });
    const plain = assertEchoes(nxdomainResponse(q), q);
    assert.equal(plain.rcode, 'NXDOMAIN');
    assert.equal(plain.authorities.length, 0);
    const cached = assertEchoes(nxdomainResponse(q, undefined, 3600), q);
    assert.equal(cached.authorities[0]!.data.minimum, 3600);
  });

  it('SERVFAIL with Stale Answer or No Reachable Authority', () => {
    for (const code of [EdeCode.STALE_ANSWER, EdeCode.NO_REACHABLE_AUTHORITY]) {
      const q = query('example.com', { edns: {}, cd: true });
      const d = assertEchoes(servfailResponse(q, { code, text: 'upstreams down' }), q);
      assert.equal(d.rcode, 'SERVFAIL');
      const data = optOf(d)!.options![0]!.data;
      assert.equal(data.readUInt16BE(0), code);
      assert.equal(data.subarray(2).toString(), 'upstreams down');
    }
    const q = query('example.com');
    assert.equal(assertEchoes(servfailResponse(q, { code: 22, text: '' }), q).rcode, 'SERVFAIL');
  });

  it('REFUSED echoes the question', () => {
    const q = query('example.com', { edns: {} });
    assert.equal(assertEchoes(refusedResponse(q), q).rcode, 'REFUSED');
  });

  it('FORMERR and NOTIMP are bare headers', () => {
    assert.deepEqual(formerrResponse(0xbeef), bytes(0xbe, 0xef, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(notimpResponse(7, 5), bytes(0, 7, 0x80 | (5 << 3), 0x84, 0, 0, 0, 0, 0, 0, 0, 0));
  });

  it('BADVERS carries the upper RCODE bits in an OPT of version 0', () => {
    const q = query('example.com', { edns: {} });
    const b = badversResponse(q);
    assert.equal(b[3]! & 0x0f, 0);
    assert.equal(optOf(decode(b))!.extendedRcode, 1);
  });
});

describe('SafeSearch CNAMEs', () => {
  it('cnameResponse answers one CNAME to the target', () => {
    const q = query('www.Google.co.uk', { edns: {} });
    const d = assertEchoes(cnameResponse(q, 'forcesafesearch.google.com', 3600), q);
    assert.deepEqual(
      d.answers.map((a) => [a.name, a.type, a.ttl, a.data]),
      [['www.Google.co.uk', 'CNAME', 3600, 'forcesafesearch.google.com']],
    );
    assert.throws(() => cnameResponse(q, 'bad..name', 1), RangeError);
    assert.throws(() => cnameResponse(q, 'a'.repeat(64) + '.com', 1), RangeError);
  });

  it('mergeCnameAnswer expands a compressed upstream answer behind the CNAME', () => {
    // Upstream answer for restrictmoderate.youtube.com with a CNAME chain, all compressed:
    //   restrictmoderate.youtube.com CNAME m.youtube.com ; m.youtube.com A 216.239.38.119
    const q12 = wireName('RESTRICTMODERATE', 'youtube', 'com'); // at 12; "youtube" at 29
    const upstream = bytes(
      header({ id: 99, b2: 0x81, b3: 0x80, an: 2 }),
      q12,
      u16(1),
      u16(1),
      record(bytes(0xc0, 12), 5, 600, bytes(1, 'm', 0xc0, 29)),
      record(bytes(1, 'm', 0xc0, 29), 1, 300, bytes(216, 239, 38, 119)),
    );
    const q = query('www.YouTube.com', { edns: { do: true } });
    const merged = mergeCnameAnswer(q, 'restrictmoderate.youtube.com', 3600, upstream);
    const d = assertEchoes(merged, q);
    assert.equal(d.rcode, 'NOERROR');
    assert.deepEqual(
      d.answers.map((a) => [a.name, a.type, a.ttl, a.data]),
      [
        ['www.YouTube.com', 'CNAME', 3600, 'restrictmoderate.youtube.com'],
        ['restrictmoderate.youtube.com', 'CNAME', 600, 'm.youtube.com'],
        ['m.youtube.com', 'A', 300, '216.239.38.119'],
      ],
    );
    // The record owned by the target points at the first CNAME's RDATA.
    const targetAt = q.questionEnd + 12;
    assert.equal(merged.readUInt16BE(targetAt + 'restrictmoderate.youtube.com'.length + 2), 0xc000 | targetAt);
    const info = responseInfo(merged);
    assert.ok(info.ok);
    assert.equal(info.minTtl, 300);
  });

  it('mergeCnameAnswer keeps the upstream RCODE and turns garbage into SERVFAIL', () => {
    const q = query('www.bing.com');
    const nx = bytes(header({ b2: 0x81, b3: 0x83 }), wireName('strict', 'bing', 'com'), u16(1), u16(1));
    const d = assertEchoes(mergeCnameAnswer(q, 'strict.bing.com', 60, nx), q);
    assert.equal(d.rcode, 'NXDOMAIN');
    assert.equal(d.answers.length, 1);
    const broken = bytes(header({ b2: 0x81, an: 1 }), wireName('strict', 'bing', 'com'), u16(1), u16(1), 0xc0, 0x30);
    assert.equal(decode(mergeCnameAnswer(q, 'strict.bing.com', 60, broken)).rcode, 'SERVFAIL');
    assert.equal(decode(mergeCnameAnswer(q, 'strict.bing.com', 60, Buffer.alloc(3))).rcode, 'SERVFAIL');
  });
});

describe('upstreamQuery', () => {
  it('asks the question as asked with a new ID, RD and Haven’s own OPT, never the client’s options', () => {
    const cookie = { code: 10, data: Buffer.alloc(8, 1) };
    const ecs = { code: 8, data: Buffer.from([0, 1, 24, 0, 10, 1, 2]) };
    const q = query('Example.COM', { rd: false, cd: true, edns: { udp: 4096, do: true, options: [cookie, ecs] } });
    const d = decode(upstreamQuery(q, 0xabcd));
    assert.equal(d.id, 0xabcd);
    assert.equal(d.flag_qr, false);
    assert.equal(d.flag_rd, true);
    assert.equal(d.flag_cd, true);
    assert.deepEqual(d.questions, [{ name: 'Example.COM', type: 'A', class: 'IN' }]);
    const opt = optOf(d)!;
    assert.equal(opt.udpPayloadSize, 1232);
    assert.equal(opt.flag_do, true);
    assert.deepEqual(opt.options, []);
    const plain = parseQuery(upstreamQuery(query('example.com'), 1));
    assert.ok(plain.ok);
    assert.equal(plain.edns?.dnssecOk, false);
  });
});

describe('the 32-bit fields', () => {
  it('clamps TTLs to 0 … 2^31-1', () => {
    const q = query('x.example');
    assert.equal(decode(blockedResponse(q, { ttl: -5 })).answers[0]!.ttl, 0);
    const big = blockedResponse(q, { ttl: 2 ** 40 });
    assert.deepEqual(big.subarray(q.questionEnd + 6, q.questionEnd + 10), Buffer.from(u32(0x7fffffff)));
  });
});
