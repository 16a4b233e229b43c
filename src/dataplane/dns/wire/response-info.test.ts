import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv6, parseIpv4, parseIpv6 } from './ip-text.ts';
import { responseInfo, type ResponseInfo } from './response-info.ts';
import { bytes, dnsPacket, header, prng, record, u16, u32, wireName, ednsAnswer } from './test-packets.ts';

const info = (buf: Buffer): ResponseInfo => {
  const r = responseInfo(buf);
  assert.equal(r.ok, true, r.ok ? '' : `malformed: ${r.reason}`);
  return r;
};
const malformed = (buf: Buffer): string => {
  const r = responseInfo(buf);
  assert.equal(r.ok, false, 'expected malformed');
  return r.reason;
};

const RESPONSE = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;

/** HTTPS RDATA: priority, TargetName (uncompressed), SvcParams. */
const svcb = (priority: number, target: Buffer, params: [number, Buffer][]): Buffer =>
  bytes(u16(priority), target, ...params.flatMap(([k, v]) => [u16(k), u16(v.length), v]));

describe('responseInfo on dns-packet responses', () => {
  it('reads a positive answer with a CNAME chain', () => {
    const buf = dnsPacket.encode({
      type: 'response',
      id: 777,
      flags: RESPONSE,
      questions: [{ type: 'AAAA', name: 'WWW.Example.com' }],
      answers: [
        { type: 'CNAME', name: 'WWW.Example.com', ttl: 3600, data: 'Edge.CDN.example.net' },
        { type: 'AAAA', name: 'edge.cdn.example.net', ttl: 20, data: '2001:db8:0:0:1:0:0:1' },
        { type: 'AAAA', name: 'edge.cdn.example.net', ttl: 40, data: '::ffff:192.0.2.1' },
      ],
      authorities: [{ type: 'NS', name: 'example.net', ttl: 86400, data: 'ns1.example.net' }],
      additionals: [{ type: 'A', name: 'ns1.example.net', ttl: 5, data: '192.0.2.53' }, ednsAnswer()],
    });
    const r = info(buf);
    assert.equal(r.id, 777);
    assert.equal(r.rcode, 0);
    assert.equal(r.tc, false);
    assert.equal(r.negative, false);
    assert.equal(r.hasOpt, true);
    assert.deepEqual(r.question, { qname: 'www.example.com', qnameWire: '\x03www\x07example\x03com\x00', qtype: 28, qclass: 1 });
    assert.equal(r.minTtl, 20); // additional records do not count
    assert.deepEqual(r.answers, [
      { type: 5, name: 'www.example.com', ttl: 3600, data: 'edge.cdn.example.net', hasEch: false },
      { type: 28, name: 'edge.cdn.example.net', ttl: 20, data: '2001:db8::1:0:0:1', hasEch: false },
      { type: 28, name: 'edge.cdn.example.net', ttl: 40, data: '::ffff:c000:201', hasEch: false },
    ]);
    assert.equal(r.ttlOffsets.length, 5); // every record but the OPT
    for (const at of r.ttlOffsets) assert.ok([3600, 20, 40, 86400, 5].includes(buf.readUInt32BE(at)));
  });

  it('uses the lesser of SOA TTL and MINIMUM for negative answers (RFC 2308)', () => {
    const soa = (ttl: number, minimum: number) =>
      dnsPacket.encode({
        type: 'response',
        flags: RESPONSE | 3,
        questions: [{ type: 'A', name: 'nope.example.com' }],
        authorities: [
          {
            type: 'SOA',
            name: 'example.com',
            ttl,
            data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 2, retry: 3, expire: 4, minimum },
          },
        ],
      });
    const lowMinimum = info(soa(3600, 300));
    assert.equal(lowMinimum.rcode, 3);
    assert.equal(lowMinimum.negative, true);
    assert.equal(lowMinimum.minTtl, 300);
    assert.equal(info(soa(60, 300)).minTtl, 60);
    assert.deepEqual(info(soa(60, 300)).answers, []);
  });

  it('has no minTtl when answer and authority are empty', () => {
    const r = info(dnsPacket.encode({ type: 'response', flags: RESPONSE | 2, questions: [{ type: 'A', name: 'x.com' }] }));
    assert.equal(r.rcode, 2);
    assert.equal(r.minTtl, null);
    assert.equal(r.negative, false);
  });

  it('counts TTLs with the top bit set as 0 (RFC 2181)', () => {
    const buf = bytes(
      header({ b2: 0x81, b3: 0x80, an: 1 }),
      wireName('x', 'com'),
      u16(1),
      u16(1),
      record(bytes(0xc0, 12), 1, 0x80000001, bytes(1, 2, 3, 4)),
    );
    assert.equal(info(buf).minTtl, 0);
    assert.equal(info(buf).answers[0]!.ttl, 0);
  });

  it('flags HTTPS and SVCB records carrying an ECH config', () => {
    const q = wireName('crypto', 'example');
    const ech = Buffer.from('0041fe0d003d', 'hex');
    const alpn = bytes(2, 'h2');
    const buf = bytes(
      header({ b2: 0x81, b3: 0x80, an: 3 }),
      q,
      u16(65),
      u16(1),
      record(
        bytes(0xc0, 12),
        65,
        300,
        svcb(1, Buffer.from([0]), [
          [1, alpn],
          [5, ech],
        ]),
      ),
      record(bytes(0xc0, 12), 65, 300, svcb(2, wireName('Pool', 'Example'), [[1, alpn]])),
      record(bytes(4, '_dns', 0xc0, 12), 64, 300, svcb(0, wireName('svc', 'example'), [])),
    );
    const r = info(buf);
    assert.deepEqual(
      r.answers.map((a) => [a.type, a.name, a.data, a.hasEch]),
      [
        [65, 'crypto.example', '', true],
        [65, 'crypto.example', 'pool.example', false],
        [64, '_dns.crypto.example', 'svc.example', false],
      ],
    );
  });

  it('reads the extended RCODE from the OPT record', () => {
    const buf = bytes(header({ b2: 0x81, b3: 0x80, ar: 1 }), wireName('x'), u16(1), u16(1), 0, u16(41), u16(1232), 1, 0, 0, 0, u16(0));
    assert.equal(info(buf).rcode, 16);
  });
});

describe('responseInfo on malformed responses', () => {
  const q = bytes(wireName('a', 'example'), u16(1), u16(1)); // name at 12..22; records from 27
  const cases: [string, Buffer][] = [
    ['short', Buffer.alloc(11)],
    ['a query', bytes(header(), q)],
    ['QDCOUNT 2', bytes(header({ b2: 0x81, qd: 2 }), q, q)],
    ['counts beyond the bytes', bytes(header({ b2: 0x81, an: 40 }), q)],
    ['pointer loop in the question', bytes(header({ b2: 0x81 }), 0xc0, 12, u16(1), u16(1), Buffer.alloc(20))],
    ['pointer into the header', bytes(header({ b2: 0x81 }), 0xc0, 2, u16(1), u16(1))],
    ['owner pointing at itself', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 27), 1, 1, bytes(1, 2, 3, 4)))],
    ['owner pointing forwards', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 40), 1, 1, bytes(1, 2, 3, 4)))],
    [
      'two pointers pointing at each other',
      bytes(
        header({ b2: 0x81, an: 2 }),
        q,
        record(bytes(0xc0, 43), 1, 1, bytes(1, 2, 3, 4)),
        record(bytes(0xc0, 27), 1, 1, bytes(1, 2, 3, 4)),
      ),
    ],
    [
      'label then pointer back to that label',
      bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(1, 'x', 0xc0, 27), 1, 1, bytes(1, 2, 3, 4))),
    ],
    ['RDATA past the end', bytes(header({ b2: 0x81, an: 1 }), q, bytes(0xc0, 12), u16(1), u16(1), u32(1), u16(4), 1, 2)],
    ['A of 5 bytes', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 1, 1, bytes(1, 2, 3, 4, 5)))],
    ['AAAA of 4 bytes', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 28, 1, bytes(1, 2, 3, 4)))],
    ['CNAME with bytes after the name', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 5, 1, bytes(wireName('x'), 0)))],
    ['CNAME pointing at its own RDATA', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 5, 1, bytes(0xc0, 39)))],
    ['SOA too short', bytes(header({ b2: 0x81, ns: 1 }), q, record(bytes(0xc0, 12), 6, 1, bytes(0, 0, u32(1))))],
    ['HTTPS TargetName compressed', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 65, 1, bytes(u16(1), 0xc0, 12)))],
    [
      'HTTPS SvcParam past RDATA',
      bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0xc0, 12), 65, 1, bytes(u16(1), 0, u16(5), u16(9), 1))),
    ],
    ['OPT in the answer section', bytes(header({ b2: 0x81, an: 1 }), q, 0, u16(41), u16(512), u32(0), u16(0))],
    ['two OPT records', bytes(header({ b2: 0x81, ar: 2 }), q, 0, u16(41), u16(512), u32(0), u16(0), 0, u16(41), u16(512), u32(0), u16(0))],
    ['extended label type', bytes(header({ b2: 0x81, an: 1 }), q, record(bytes(0x41, 0), 1, 1, bytes(1, 2, 3, 4)))],
  ];
  for (const [what, buf] of cases) {
    it(what, () => {
      malformed(buf);
    });
  }

  it('allows a name of 255 bytes through pointers but not 256', () => {
    const l63 = 'a'.repeat(63);
    const suffix = wireName(l63, l63, l63); // 193 bytes at 12
    const ok = bytes(
      header({ b2: 0x81, an: 1 }),
      suffix,
      u16(1),
      u16(1),
      record(bytes(61, 'b'.repeat(61), 0xc0, 12), 1, 1, bytes(1, 2, 3, 4)),
    );
    assert.equal(info(ok).answers[0]!.name.length, 3 * 64 + 61);
    const long = bytes(
      header({ b2: 0x81, an: 1 }),
      suffix,
      u16(1),
      u16(1),
      record(bytes(62, 'b'.repeat(62), 0xc0, 12), 1, 1, bytes(1, 2, 3, 4)),
    );
    malformed(long);
  });
});

describe('IP text', () => {
  it('formats IPv6 as RFC 5952 and the URL standard do, and parses it back', () => {
    const rand = prng(5952);
    const buf = Buffer.alloc(16);
    for (let n = 0; n < 5000; n++) {
      for (let i = 0; i < 8; i++)
        buf.writeUInt16BE(rand() < 0.5 ? 0 : rand() < 0.5 ? Math.floor(rand() * 16) : Math.floor(rand() * 65536), i * 2);
      const text = formatIpv6(buf, 0);
      assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`, text);
      assert.deepEqual(parseIpv6(text), buf, text);
    }
  });

  it('parses the usual forms and refuses the rest', () => {
    assert.deepEqual(parseIpv4('192.0.2.1'), Buffer.from([192, 0, 2, 1]));
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.1.1.1', '1.2.3.a', '', '1..2.3']) assert.equal(parseIpv4(bad), null, bad);
    assert.deepEqual(parseIpv6('::'), Buffer.alloc(16));
    assert.deepEqual(parseIpv6('::1'), bytes(Buffer.alloc(15), 1));
    assert.deepEqual(parseIpv6('::ffff:192.0.2.1'), bytes(Buffer.alloc(10), 0xff, 0xff, 192, 0, 2, 1));
    assert.deepEqual(parseIpv6('2001:DB8:0:0:0:0:0:1'), parseIpv6('2001:db8::1'));
    for (const bad of [
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      'g::1',
      '12345::',
      '1.2.3.4::',
      '::1.2.3',
      '1:2:3:4:5:6:7::8',
    ]) {
      assert.equal(parseIpv6(bad), null, bad);
    }
  });
});
