/**
 * Packet makers for the wire tests: well-formed packets through dns-packet (the independent
 * encoder), and crafted bytes for what dns-packet will not write.
 */
import dnsPacket from 'dns-packet';

export { dnsPacket };

/** A record as dns-packet decodes it, loosely typed (its types leave out rcode and unknown types). */
export interface DecodedRecord {
  type: string;
  name: string;
  ttl?: number;
  class?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- dns-packet's data differs by type; tests read it loosely
  data?: any;
  udpPayloadSize?: number;
  extendedRcode?: number;
  ednsVersion?: number;
  flag_do?: boolean;
  options?: { code: number; type?: string; data: Buffer }[];
}

export interface Decoded extends Omit<dnsPacket.DecodedPacket, 'answers' | 'authorities' | 'additionals'> {
  rcode: string;
  answers: DecodedRecord[];
  authorities: DecodedRecord[];
  additionals: DecodedRecord[];
}

export const decode = (buf: Buffer): Decoded => dnsPacket.decode(buf) as unknown as Decoded;

/** An OPT record for dns-packet to encode (its types want the decoded fields too). */
export const ednsAnswer = (udp = 1232, dnssecOk = false, options: { code: number; data: Buffer }[] = []): dnsPacket.Answer => ({
  type: 'OPT',
  name: '.',
  udpPayloadSize: udp,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
  flag_do: dnssecOk,
  options: options as never,
});

export interface QueryShape {
  id?: number;
  type?: string;
  rd?: boolean;
  cd?: boolean;
  edns?: { udp?: number; do?: boolean; options?: { code: number; data: Buffer }[] };
}

/** A query for `name` encoded by dns-packet. */
export const makeQuery = (name: string, shape: QueryShape = {}): Buffer =>
  dnsPacket.encode({
    type: 'query',
    id: shape.id ?? 4660,
    flags: (shape.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) | (shape.cd ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ type: (shape.type ?? 'A') as 'A', name }],
    additionals: shape.edns ? [ednsAnswer(shape.edns.udp ?? 1232, shape.edns.do ?? false, shape.edns.options)] : [],
  });

/** Concatenates byte values, strings (latin1) and buffers. */
export const bytes = (...parts: (number | number[] | string | Buffer)[]): Buffer =>
  Buffer.concat(
    parts.map((p) =>
      typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p),
    ),
  );

export const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export interface HeaderShape {
  id?: number;
  /** Byte 2 and 3 of the header. */
  b2?: number;
  b3?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}

export const header = (h: HeaderShape = {}): Buffer =>
  bytes(u16(h.id ?? 0x1234), h.b2 ?? 0x01, h.b3 ?? 0x00, u16(h.qd ?? 1), u16(h.an ?? 0), u16(h.ns ?? 0), u16(h.ar ?? 0));

/** Uncompressed wire name from labels (strings as latin1 bytes). */
export const wireName = (...labels: (string | Buffer)[]): Buffer =>
  bytes(...labels.flatMap((l) => [l.length, typeof l === 'string' ? Buffer.from(l, 'latin1') : l]), 0);

export const questionOf = (name: Buffer, type = 1, cls = 1): Buffer => bytes(name, u16(type), u16(cls));

export interface OptShape {
  udp?: number;
  extendedRcode?: number;
  version?: number;
  do?: boolean;
  options?: { code: number; data: Buffer }[];
  /** Overrides the RDLENGTH field. */
  rdlength?: number;
}

export const optRecord = (o: OptShape = {}): Buffer => {
  const rdata = bytes(...(o.options ?? []).flatMap((x) => [u16(x.code), u16(x.data.length), x.data]));
  return bytes(
    0,
    u16(41),
    u16(o.udp ?? 1232),
    o.extendedRcode ?? 0,
    o.version ?? 0,
    o.do ? 0x80 : 0,
    0,
    u16(o.rdlength ?? rdata.length),
    rdata,
  );
};

/** A resource record with the given owner bytes (plain or compressed). */
export const record = (owner: Buffer, type: number, ttl: number, rdata: Buffer, cls = 1): Buffer =>
  bytes(owner, u16(type), u16(cls), u32(ttl), u16(rdata.length), rdata);

/** A seeded generator (mulberry32), so failures reproduce from the printed seed. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
