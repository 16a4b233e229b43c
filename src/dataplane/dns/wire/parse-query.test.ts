import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey, parseQuery, type ParsedQuery, type QueryParse, type QueryRejection } from './parse-query.ts';
import { rejectionResponse } from './build-response.ts';
import { bytes, header, makeQuery, optRecord, prng, questionOf, u16, wireName, decode } from './test-packets.ts';

const ok = (r: QueryParse): ParsedQuery => {
  assert.equal(r.ok, true, r.ok ? '' : `rejected: ${r.reply} (${r.reason})`);
  return r;
};
const rejected = (r: QueryParse): QueryRejection => {
  assert.equal(r.ok, false, 'expected a rejection');
  return r;
};

const A_QUESTION = questionOf(wireName('www', 'example', 'com'));

describe('parseQuery: well-formed queries, checked against dns-packet', () => {
  it('reads id, flags, question and EDNS', () => {
    const cookie = Buffer.from('0102030405060708', 'hex');
    const buf = makeQuery('WwW.Example.COM', { id: 513, cd: true, edns: { udp: 4096, do: true, options: [{ code: 10, data: cookie }] } });
    const q = ok(parseQuery(buf));
    assert.equal(q.id, 513);
    assert.deepEqual(q.flags, { rd: true, cd: true, ad: false, opcode: 0 });
    assert.equal(q.qname, 'www.example.com');
    assert.equal(q.qnameWire, '\x03www\x07example\x03com\x00');
    assert.equal(q.qtype, 1);
    assert.equal(q.qclass, 1);
    assert.equal(q.questionEnd, 12 + 17 + 4);
    assert.equal(q.packet, buf);
    assert.deepEqual(q.edns, { udpSize: 4096, dnssecOk: true, optStart: 33, optEnd: buf.length, hasClientSubnet: false, cookie });
  });

  it('matches dns-packet on random names, types and flags', () => {
    const rand = prng(20240501);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
    const types: Record<string, number> = {
      A: 1,
      AAAA: 28,
      UNKNOWN_65: 65,
      TXT: 16,
      MX: 15,
      ANY: 255,
      PTR: 12,
      UNKNOWN_64: 64,
      NS: 2,
      SOA: 6,
    };
    const typeNames = Object.keys(types);
    for (let n = 0; n < 2000; n++) {
      const labels: string[] = [];
      const count = 1 + Math.floor(rand() * 5);
      for (let i = 0; i < count; i++) {
        let l = '';
        const len = 1 + Math.floor(rand() * (rand() < 0.05 ? 63 : 12));
        for (let j = 0; j < len; j++) l += alphabet[Math.floor(rand() * alphabet.length)]!;
        labels.push(l);
      }
      const name = labels.join('.');
      const type = typeNames[n % typeNames.length]!;
      const withEdns = rand() < 0.5;
      const shape = { id: Math.floor(rand() * 65536), type, rd: rand() < 0.8, cd: rand() < 0.2 };
      const buf = makeQuery(name, withEdns ? { ...shape, edns: { udp: Math.floor(rand() * 5000), do: rand() < 0.5 } } : shape);
      const decoded = decode(buf);
      const q = ok(parseQuery(buf));
      assert.equal(q.id, decoded.id);
      assert.equal(q.flags.rd, decoded.flag_rd);
      assert.equal(q.flags.cd, decoded.flag_cd);
      assert.equal(q.qname, decoded.questions![0]!.name.toLowerCase());
      assert.equal(q.qtype, types[type]);
      assert.deepEqual(
        Buffer.from(q.qnameWire, 'latin1'),
        Buffer.from(
          buf
            .subarray(12, q.questionEnd - 4)
            .toString('latin1')
            .toLowerCase(),
          'latin1',
        ),
      );
      if (withEdns) {
        const opt = decoded.additionals[0]!;
        assert.equal(q.edns?.udpSize, Math.max(512, opt.udpPayloadSize!));
        assert.equal(q.edns?.dnssecOk, opt.flag_do);
      } else {
        assert.equal(q.edns, null);
      }
    }
  });

  it('reads the root name and names of exactly 255 bytes', () => {
    const root = ok(parseQuery(bytes(header(), questionOf(Buffer.from([0]), 2))));
    assert.equal(root.qname, '');
    assert.equal(root.qnameWire, '\x00');
    const l63 = 'a'.repeat(63);
    const name255 = wireName(l63, l63, l63, 'b'.repeat(61)); // 3×64 + 62 + 1
    assert.equal(name255.length, 255);
    const q = ok(parseQuery(bytes(header(), questionOf(name255))));
    assert.equal(q.qname, [l63, l63, l63, 'b'.repeat(61)].join('.'));
  });

  it('prints odd bytes with escapes, as dig does, and lower-cases ASCII only', () => {
    const name = wireName('A.B', 'x\\y', 'sp ace', Buffer.from([0, 0x7f, 0xc4, 0xff]), '"();@$', 'Ünï', '_srv-1');
    const q = ok(parseQuery(bytes(header(), questionOf(name))));
    assert.equal(q.qname, 'a\\.b.x\\\\y.sp\\032ace.\\000\\127\\196\\255.\\"\\(\\)\\;\\@\\$.\\220n\\239._srv-1');
    assert.equal(Buffer.from(q.qnameWire, 'latin1').length, name.length);
  });

  it('raises a UDP size below 512 to 512', () => {
    const q = ok(parseQuery(makeQuery('example.com', { edns: { udp: 100 } })));
    assert.equal(q.edns?.udpSize, 512);
  });

  it('accepts EDNS client subnet and cookies of legal shapes', () => {
    const ecs = Buffer.from([0, 1, 24, 0, 192, 0, 2]);
    const q = ok(parseQuery(makeQuery('example.com', { edns: { options: [{ code: 8, data: ecs }] } })));
    assert.equal(q.edns?.hasClientSubnet, true);
    const ecs6 = Buffer.from([0, 2, 0, 0]);
    assert.equal(ok(parseQuery(makeQuery('example.com', { edns: { options: [{ code: 8, data: ecs6 }] } }))).edns?.hasClientSubnet, true);
    for (const len of [8, 16, 24, 40]) {
      const cookie = Buffer.alloc(len, 7);
      const p = ok(parseQuery(makeQuery('example.com', { edns: { options: [{ code: 10, data: cookie }] } })));
      assert.deepEqual(p.edns?.cookie, cookie);
    }
    // Unknown options (padding, NSID) are skipped.
    const padded = ok(
      parseQuery(
        makeQuery('example.com', {
          edns: {
            options: [
              { code: 12, data: Buffer.alloc(100) },
              { code: 3, data: Buffer.alloc(0) },
            ],
          },
        }),
      ),
    );
    assert.equal(padded.edns?.hasClientSubnet, false);
  });
});

describe('parseQuery: every rejection rule', () => {
  const cases: { what: string; packet: Buffer; reply: QueryRejection['reply']; reason: QueryRejection['reason'] }[] = [
    { what: 'empty packet', packet: Buffer.alloc(0), reply: 'drop', reason: 'short' },
    { what: '11 bytes', packet: Buffer.alloc(11), reply: 'drop', reason: 'short' },
    { what: 'QR=1 (a response)', packet: bytes(header({ b2: 0x81 }), A_QUESTION), reply: 'drop', reason: 'response' },
    { what: 'opcode IQUERY', packet: bytes(header({ b2: 1 << 3 }), A_QUESTION), reply: 'notimp', reason: 'opcode' },
    { what: 'opcode STATUS', packet: bytes(header({ b2: 2 << 3 }), A_QUESTION), reply: 'notimp', reason: 'opcode' },
    { what: 'opcode NOTIFY', packet: bytes(header({ b2: 4 << 3, an: 1 }), A_QUESTION), reply: 'notimp', reason: 'opcode' },
    { what: 'opcode UPDATE', packet: bytes(header({ b2: 5 << 3, ns: 3 }), A_QUESTION), reply: 'notimp', reason: 'opcode' },
    { what: 'QDCOUNT 0', packet: header({ qd: 0 }), reply: 'formerr', reason: 'qdcount' },
    { what: 'QDCOUNT 2', packet: bytes(header({ qd: 2 }), A_QUESTION, A_QUESTION), reply: 'formerr', reason: 'qdcount' },
    { what: 'QDCOUNT 256', packet: bytes(header({ qd: 256 }), A_QUESTION), reply: 'formerr', reason: 'qdcount' },
    { what: 'ANCOUNT 1', packet: bytes(header({ an: 1 }), A_QUESTION), reply: 'formerr', reason: 'records-in-query' },
    { what: 'NSCOUNT 1', packet: bytes(header({ ns: 1 }), A_QUESTION), reply: 'formerr', reason: 'records-in-query' },
    { what: 'ARCOUNT 2', packet: bytes(header({ ar: 2 }), A_QUESTION, optRecord(), optRecord()), reply: 'formerr', reason: 'arcount' },
    { what: 'no question bytes', packet: header(), reply: 'formerr', reason: 'name-truncated' },
    { what: 'label runs off the end', packet: bytes(header(), 3, 'ww'), reply: 'formerr', reason: 'name-truncated' },
    { what: 'name without its root label', packet: bytes(header(), 3, 'www'), reply: 'formerr', reason: 'name-truncated' },
    {
      what: 'label of 64 (0x40 type)',
      packet: bytes(header(), 64, 'a'.repeat(64), 0, u16(1), u16(1)),
      reply: 'formerr',
      reason: 'label-too-long',
    },
    {
      what: 'label length 0x80',
      packet: bytes(header(), 0x80, 'a'.repeat(128), 0, u16(1), u16(1)),
      reply: 'formerr',
      reason: 'label-too-long',
    },
    {
      what: 'name of 256 bytes',
      packet: bytes(header(), questionOf(wireName('a'.repeat(63), 'a'.repeat(63), 'a'.repeat(63), 'b'.repeat(62)))),
      reply: 'formerr',
      reason: 'name-too-long',
    },
    {
      what: 'name of 129 one-byte labels',
      packet: bytes(header(), questionOf(wireName(...new Array<string>(129).fill('a')))),
      reply: 'formerr',
      reason: 'name-too-long',
    },
    {
      what: 'compression pointer to the header',
      packet: bytes(header(), 0xc0, 0x00, u16(1), u16(1)),
      reply: 'formerr',
      reason: 'name-pointer',
    },
    { what: 'pointer to itself (a loop)', packet: bytes(header(), 0xc0, 0x0c, u16(1), u16(1)), reply: 'formerr', reason: 'name-pointer' },
    {
      what: 'pointer after a label',
      packet: bytes(header(), 3, 'www', 0xc0, 0x0c, u16(1), u16(1)),
      reply: 'formerr',
      reason: 'name-pointer',
    },
    { what: 'forward pointer', packet: bytes(header(), 0xc0, 0x12, u16(1), u16(1), 0), reply: 'formerr', reason: 'name-pointer' },
    {
      what: 'QTYPE/QCLASS cut short',
      packet: bytes(header(), wireName('example', 'com'), 0, 1, 0),
      reply: 'formerr',
      reason: 'question-truncated',
    },
    { what: 'QTYPE OPT', packet: bytes(header(), questionOf(wireName('example', 'com'), 41)), reply: 'formerr', reason: 'meta-qtype' },
    { what: 'QTYPE TSIG', packet: bytes(header(), questionOf(wireName('example', 'com'), 250)), reply: 'formerr', reason: 'meta-qtype' },
    { what: 'QTYPE TKEY', packet: bytes(header(), questionOf(wireName('example', 'com'), 249)), reply: 'formerr', reason: 'meta-qtype' },
    { what: 'trailing byte, no additional', packet: bytes(header(), A_QUESTION, 0), reply: 'formerr', reason: 'trailing-bytes' },
    { what: 'trailing OPT not counted', packet: bytes(header(), A_QUESTION, optRecord()), reply: 'formerr', reason: 'trailing-bytes' },
    { what: 'ARCOUNT 1, nothing there', packet: bytes(header({ ar: 1 }), A_QUESTION), reply: 'formerr', reason: 'opt-truncated' },
    {
      what: 'OPT cut short',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord().subarray(0, 9)),
      reply: 'formerr',
      reason: 'opt-truncated',
    },
    {
      what: 'additional is an A record',
      packet: bytes(header({ ar: 1 }), A_QUESTION, 0, u16(1), u16(1), 0, 0, 0, 60, u16(4), 1, 2, 3, 4),
      reply: 'formerr',
      reason: 'not-opt',
    },
    {
      what: 'OPT with a non-root owner',
      packet: bytes(header({ ar: 1 }), A_QUESTION, wireName('com'), optRecord().subarray(1)),
      reply: 'formerr',
      reason: 'not-opt',
    },
    {
      what: 'OPT with a pointer owner',
      packet: bytes(header({ ar: 1 }), A_QUESTION, 0xc0, 0x0c, optRecord().subarray(1)),
      reply: 'formerr',
      reason: 'not-opt',
    },
    {
      what: 'OPT RDLENGTH past the end',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ rdlength: 4 })),
      reply: 'formerr',
      reason: 'opt-truncated',
    },
    {
      what: 'bytes after the OPT',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord(), 0, 0),
      reply: 'formerr',
      reason: 'trailing-bytes',
    },
    {
      what: 'option header cut short',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ rdlength: 3 }), 0, 8, 0),
      reply: 'formerr',
      reason: 'opt-option',
    },
    {
      what: 'option longer than RDATA',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ rdlength: 6 }), u16(12), u16(10), 0, 0),
      reply: 'formerr',
      reason: 'opt-option',
    },
    {
      what: 'cookie of 5 bytes',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ options: [{ code: 10, data: Buffer.alloc(5) }] })),
      reply: 'formerr',
      reason: 'opt-cookie',
    },
    {
      what: 'cookie of 12 bytes',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ options: [{ code: 10, data: Buffer.alloc(12) }] })),
      reply: 'formerr',
      reason: 'opt-cookie',
    },
    {
      what: 'cookie of 41 bytes',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ options: [{ code: 10, data: Buffer.alloc(41) }] })),
      reply: 'formerr',
      reason: 'opt-cookie',
    },
    ...(
      [
        ['family 3', [0, 3, 0, 0]],
        ['IPv4 prefix 33', [0, 1, 33, 0, 1, 2, 3, 4, 5]],
        ['non-zero scope', [0, 1, 24, 8, 192, 0, 2]],
        ['too many address bytes', [0, 1, 8, 0, 10, 0]],
        ['too few address bytes', [0, 2, 64, 0, 0x20, 0x01]],
        ['3 bytes', [0, 1, 0]],
      ] as const
    ).map(([what, data]) => ({
      what: `client subnet: ${what}`,
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ options: [{ code: 8, data: Buffer.from(data) }] })),
      reply: 'formerr' as const,
      reason: 'opt-client-subnet' as const,
    })),
    {
      what: 'EDNS version 1',
      packet: bytes(header({ ar: 1 }), A_QUESTION, optRecord({ version: 1 })),
      reply: 'badvers',
      reason: 'edns-version',
    },
    { what: 'QCLASS CH', packet: bytes(header(), questionOf(wireName('version', 'bind'), 16, 3)), reply: 'refused', reason: 'qclass' },
    { what: 'QCLASS ANY', packet: bytes(header(), questionOf(wireName('example', 'com'), 1, 255)), reply: 'refused', reason: 'qclass' },
    { what: 'AXFR', packet: bytes(header(), questionOf(wireName('example', 'com'), 252)), reply: 'refused', reason: 'zone-transfer' },
    { what: 'IXFR', packet: bytes(header(), questionOf(wireName('example', 'com'), 251)), reply: 'refused', reason: 'zone-transfer' },
  ];

  for (const c of cases) {
    it(`${c.reply} for ${c.what}`, () => {
      const r = rejected(parseQuery(c.packet));
      assert.equal(r.reply, c.reply);
      assert.equal(r.reason, c.reason);
      if (c.packet.length >= 12) assert.equal(r.id, 0x1234);
      else assert.equal(r.id, undefined);
      if (c.reply === 'refused' || c.reply === 'badvers') assert.equal(r.query?.ok, true);
    });
  }

  it('answers each rejection as the RFCs ask', () => {
    const decodeReply = (b: Buffer | null) => decode(b!);
    assert.equal(rejectionResponse(rejected(parseQuery(Buffer.alloc(5)))), null);
    assert.equal(rejectionResponse(rejected(parseQuery(bytes(header({ b2: 0x81 }), A_QUESTION)))), null);

    const formerr = decodeReply(rejectionResponse(rejected(parseQuery(bytes(header({ qd: 2 }), A_QUESTION, A_QUESTION)))));
    assert.equal(formerr.rcode, 'FORMERR');
    assert.equal(formerr.id, 0x1234);
    assert.equal(formerr.questions!.length, 0);

    const notimp = rejectionResponse(rejected(parseQuery(bytes(header({ b2: (5 << 3) | 1 }), A_QUESTION))))!;
    assert.equal(notimp.length, 12);
    assert.equal((notimp[2]! >> 3) & 0xf, 5); // opcode echoed
    assert.equal(notimp[3]! & 0xf, 4);

    const refused = decodeReply(rejectionResponse(rejected(parseQuery(bytes(header(), questionOf(wireName('version', 'bind'), 16, 3))))));
    assert.equal(refused.rcode, 'REFUSED');
    assert.deepEqual(refused.questions, [{ name: 'version.bind', type: 'TXT', class: 'CH' }]);

    const badvers = rejectionResponse(rejected(parseQuery(bytes(header({ ar: 1 }), A_QUESTION, optRecord({ version: 2, do: true })))))!;
    const d = decodeReply(badvers);
    assert.equal(badvers[3]! & 0x0f, 0); // BADVERS = 16: low bits 0 in the header …
    const opt = d.additionals[0]!;
    assert.equal(opt.extendedRcode, 1); // … and 1 in the OPT's upper bits
    assert.equal(opt.ednsVersion, 0);
    assert.equal(opt.flag_do, true);
    assert.equal(d.questions![0]!.name, 'www.example.com');
  });
});

describe('cacheKey', () => {
  const key = (name: string, shape: Parameters<typeof makeQuery>[1] = {}) => cacheKey(ok(parseQuery(makeQuery(name, shape))));

  it('folds letter case, ID and RD but not type, DO or CD', () => {
    const base = key('www.example.com', { edns: {} });
    assert.equal(key('WWW.EXAMPLE.com', { id: 9, rd: false }), base); // no EDNS ≡ DO off
    assert.notEqual(key('www.example.com', { type: 'AAAA' }), base);
    assert.notEqual(key('www.example.com', { edns: { do: true } }), base);
    assert.notEqual(key('www.example.com', { cd: true }), base);
    assert.notEqual(key('www.example.org'), base);
  });

  it('keeps names that print alike apart', () => {
    const dotted = cacheKey(ok(parseQuery(bytes(header(), questionOf(wireName('a.b', 'c'))))));
    const split = cacheKey(ok(parseQuery(bytes(header(), questionOf(wireName('a', 'b', 'c'))))));
    assert.notEqual(dotted, split);
  });
});
