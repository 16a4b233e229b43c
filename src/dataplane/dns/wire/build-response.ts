/**
 * Answers Haven makes itself. Each one echoes the query's ID, its question byte for byte (the
 * client's letter case kept, for 0x20 randomisation), RD and CD; sets RA; and carries an OPT
 * record (UDP size 1232, DO echoed, an optional Extended DNS Error) exactly when the query had
 * EDNS. Answer owners are a compression pointer to the question name (0xC00C).
 *
 * Negative answers Haven synthesises (blocked NODATA, NXDOMAIN with a TTL) carry an SOA for the
 * question name, as AdGuard Home does, so stub resolvers cache them for the given TTL
 * (RFC 2308 §5: the lesser of the SOA's TTL and MINIMUM, both set to it here).
 */
import { CLASS_IN, HEADER_SIZE, MAX_NAME_WIRE, Rcode, RRType, type Ede } from './constants.ts';
import { parseIpv4, parseIpv6 } from './ip-text.ts';
import { encodeName, nameReader, skipName, WANT_WIRE } from './names.ts';
import { optLength, writeOpt } from './opt.ts';
import type { ParsedQuery, QueryRejection } from './parse-query.ts';

const NAME_POINTER_TO_QUESTION = 0xc00c;
const MAX_TTL = 0x7fffffff;

const clampTtl = (ttl: number): number => (ttl > 0 ? (ttl < MAX_TTL ? Math.floor(ttl) : MAX_TTL) : 0);

/** Config values (block-page addresses, SafeSearch targets) are few; keep their encodings. */
const memo = <T>(encode: (s: string) => T) => {
  const cache = new Map<string, T>();
  return (s: string): T => {
    let v = cache.get(s);
    if (v === undefined) {
      v = encode(s);
      if (cache.size >= 256) cache.clear();
      cache.set(s, v);
    }
    return v;
  };
};

const ipv4 = memo((s) => {
  const b = parseIpv4(s);
  if (!b) throw new RangeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  return b;
});
const ipv6 = memo((s) => {
  const b = parseIpv6(s);
  if (!b) throw new RangeError(`not an IPv6 address: ${JSON.stringify(s)}`);
  return b;
});
const targetName = memo(encodeName);

/** MNAME and RNAME of the SOA in synthesised negative answers (.invalid never resolves, RFC 6761). */
const SOA_NAMES = Buffer.concat([encodeName('haven.invalid'), encodeName('hostmaster.haven.invalid')]);
const SOA_RDATA = SOA_NAMES.length + 20;
const SOA_RECORD = 12 + SOA_RDATA;

/** Writes the header and the echoed question; returns the offset past the question. */
const writePrelude = (out: Buffer, query: ParsedQuery, rcode: number, an: number, ns: number): number => {
  out.writeUInt16BE(query.id, 0);
  out[2] = 0x80 | (query.flags.rd ? 0x01 : 0); // QR, opcode QUERY, not AA, not TC
  out[3] = 0x80 | (query.flags.cd ? 0x10 : 0) | (rcode & 0x0f); // RA
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(query.edns ? 1 : 0, 10);
  return HEADER_SIZE + query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
};

/** Writes an RR header owned by the question name; returns the offset of its RDATA. */
const writeRrHeader = (out: Buffer, at: number, type: number, ttl: number, rdlength: number): number => {
  out.writeUInt16BE(NAME_POINTER_TO_QUESTION, at);
  out.writeUInt16BE(type, at + 2);
  out.writeUInt16BE(CLASS_IN, at + 4);
  out.writeUInt32BE(clampTtl(ttl), at + 6);
  out.writeUInt16BE(rdlength, at + 10);
  return at + 12;
};

const writeSoa = (out: Buffer, at: number, ttl: number): number => {
  let p = writeRrHeader(out, at, RRType.SOA, ttl, SOA_RDATA);
  p += SOA_NAMES.copy(out, p);
  out.writeUInt32BE(1, p); // serial
  out.writeUInt32BE(1800, p + 4); // refresh
  out.writeUInt32BE(900, p + 8); // retry
  out.writeUInt32BE(604800, p + 12); // expire
  out.writeUInt32BE(clampTtl(ttl), p + 16); // minimum: the negative-caching TTL
  return p + 20;
};

const questionLength = (query: ParsedQuery): number => query.questionEnd - HEADER_SIZE;

const optFor = (query: ParsedQuery, ede: Ede | undefined): number => (query.edns ? optLength(ede) : 0);

const finish = (out: Buffer, at: number, query: ParsedQuery, ede: Ede | undefined): Buffer => {
  if (query.edns) writeOpt(out, at, query.edns.dnssecOk, ede);
  return out;
};

/** A header-and-question answer with this RCODE (and an SOA when negativeTtl is given). */
const bareResponse = (query: ParsedQuery, rcode: number, ede: Ede | undefined, negativeTtl?: number): Buffer => {
  const soa = negativeTtl === undefined ? 0 : SOA_RECORD;
  const out = Buffer.allocUnsafe(HEADER_SIZE + questionLength(query) + soa + optFor(query, ede));
  let p = writePrelude(out, query, rcode, 0, soa ? 1 : 0);
  if (negativeTtl !== undefined) p = writeSoa(out, p, negativeTtl);
  return finish(out, p, query, ede);
};

export interface BlockOptions {
  /** Block-page IPv4 address for A questions; 0.0.0.0 when absent. */
  readonly a?: string;
  /** Block-page IPv6 address for AAAA questions; :: when absent. */
  readonly aaaa?: string;
  /** TTL of the answer, and of the negative answer (NODATA) for other types. */
  readonly ttl: number;
  /** Usually { code: EdeCode.BLOCKED or FILTERED, text: the category }; sent only if the query had EDNS. */
  readonly ede?: Ede;
}

/**
 * A blocked name: A/AAAA questions get the block-page address, every other type NODATA (NOERROR,
 * no answer, an SOA). Throws RangeError only if the configured addresses are not IP addresses.
 */
export const blockedResponse = (query: ParsedQuery, options: BlockOptions): Buffer => {
  const { qtype } = query;
  const addr = qtype === RRType.A ? ipv4(options.a ?? '0.0.0.0') : qtype === RRType.AAAA ? ipv6(options.aaaa ?? '::') : null;
  if (!addr) return bareResponse(query, Rcode.NOERROR, options.ede, options.ttl);
  const out = Buffer.allocUnsafe(HEADER_SIZE + questionLength(query) + 12 + addr.length + optFor(query, options.ede));
  let p = writePrelude(out, query, Rcode.NOERROR, 1, 0);
  p = writeRrHeader(out, p, qtype, options.ttl, addr.length);
  p += addr.copy(out, p);
  return finish(out, p, query, options.ede);
};

/** NXDOMAIN (e.g. the use-application-dns.net canary). With negativeTtl, an SOA lets clients cache it. */
export const nxdomainResponse = (query: ParsedQuery, ede?: Ede, negativeTtl?: number): Buffer =>
  bareResponse(query, Rcode.NXDOMAIN, ede, negativeTtl);

/** SERVFAIL, e.g. with { code: EdeCode.NO_REACHABLE_AUTHORITY, text } when every upstream is down. */
export const servfailResponse = (query: ParsedQuery, ede?: Ede): Buffer => bareResponse(query, Rcode.SERVFAIL, ede);

/** REFUSED, e.g. with { code: EdeCode.PROHIBITED, text } for a client Haven will not serve. */
export const refusedResponse = (query: ParsedQuery, ede?: Ede): Buffer => bareResponse(query, Rcode.REFUSED, ede);

/** BADVERS (RFC 6891 §6.1.3): the question echoed and an OPT of version 0 carrying the upper RCODE bits. */
export const badversResponse = (query: ParsedQuery): Buffer => {
  const out = Buffer.allocUnsafe(HEADER_SIZE + questionLength(query) + optLength(undefined));
  const p = writePrelude(out, query, Rcode.BADVERS & 0x0f, 0, 0);
  out.writeUInt16BE(1, 10);
  writeOpt(out, p, query.edns?.dnssecOk ?? false, undefined, Rcode.BADVERS >> 4);
  return out;
};

/** Header-only FORMERR: the question may be what was wrong, so none is echoed. */
export const formerrResponse = (id: number): Buffer => headerOnly(id, 0, Rcode.FORMERR);

/** Header-only NOTIMP, echoing the opcode that is not implemented. */
export const notimpResponse = (id: number, opcode: number): Buffer => headerOnly(id, opcode, Rcode.NOTIMP);

const headerOnly = (id: number, opcode: number, rcode: number): Buffer => {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16BE(id & 0xffff, 0);
  out[2] = 0x80 | ((opcode & 0x0f) << 3);
  out[3] = 0x80 | rcode;
  return out;
};

/** The answer a rejected packet deserves, or null when it is to be dropped. */
export const rejectionResponse = (rejection: QueryRejection): Buffer | null => {
  if (rejection.id === undefined) return null;
  switch (rejection.reply) {
    case 'drop':
      return null;
    case 'formerr':
      return formerrResponse(rejection.id);
    case 'notimp':
      return notimpResponse(rejection.id, rejection.opcode ?? 0);
    case 'refused':
      return rejection.query ? refusedResponse(rejection.query) : headerOnly(rejection.id, 0, Rcode.REFUSED);
    case 'badvers':
      return rejection.query ? badversResponse(rejection.query) : formerrResponse(rejection.id);
  }
};

/**
 * A SafeSearch rewrite before the target is resolved: one CNAME from the question name to
 * `target` (say "forcesafesearch.google.com"). Throws RangeError if target is not a host name.
 */
export const cnameResponse = (query: ParsedQuery, target: string, ttl: number): Buffer => {
  const wire = targetName(target);
  const out = Buffer.allocUnsafe(HEADER_SIZE + questionLength(query) + 12 + wire.length + optFor(query, undefined));
  let p = writePrelude(out, query, Rcode.NOERROR, 1, 0);
  p = writeRrHeader(out, p, RRType.CNAME, ttl, wire.length);
  p += wire.copy(out, p);
  return finish(out, p, query, undefined);
};

/** RR types whose RDATA holds one name that may be compressed (RFC 3597 §4), and its offset; SOA is done apart. */
const COMPRESSIBLE: ReadonlyMap<number, number> = new Map([
  [RRType.CNAME, 0],
  [RRType.NS, 0],
  [RRType.PTR, 0],
  [RRType.MX, 2],
]);

/**
 * The full answer to a SafeSearch rewrite: the CNAME to `target`, then the answer records of
 * `upstream` (the upstream's response to the query for target, same type), with their names
 * expanded (records owned by the target point at the CNAME's RDATA), and the upstream's RCODE.
 * Authority and additional records of the upstream are left out. A malformed upstream response
 * gives SERVFAIL. The caller checks that `upstream` answers the question for `target`.
 */
export const mergeCnameAnswer = (query: ParsedQuery, target: string, ttl: number, upstream: Buffer): Buffer => {
  const wire = targetName(target);
  const merged = upstreamAnswers(upstream, wire);
  if (!merged) return servfailResponse(query);
  const qlen = questionLength(query);
  // The target's RDATA starts after header, question and the CNAME's 12-byte RR header.
  const targetOffset = HEADER_SIZE + qlen + 12;
  const recordsLength = merged.records.reduce((n, r) => n + (r.ownerIsTarget ? 2 : r.owner.length) + 10 + r.rdata.length, 0);
  const total = HEADER_SIZE + qlen + 12 + wire.length + recordsLength + optFor(query, undefined);
  if (total > 0xffff || merged.records.length >= 0xffff) return servfailResponse(query);
  const out = Buffer.allocUnsafe(total);
  let p = writePrelude(out, query, merged.rcode, 1 + merged.records.length, 0);
  p = writeRrHeader(out, p, RRType.CNAME, ttl, wire.length);
  p += wire.copy(out, p);
  for (const r of merged.records) {
    if (r.ownerIsTarget) {
      out.writeUInt16BE(0xc000 | targetOffset, p);
      p += 2;
    } else {
      p += r.owner.copy(out, p);
    }
    p += r.fixed.copy(out, p, 0, 8);
    out.writeUInt16BE(r.rdata.length, p);
    p += 2;
    p += r.rdata.copy(out, p);
  }
  return finish(out, p, query, undefined);
};

interface CopiedRecord {
  owner: Buffer;
  ownerIsTarget: boolean;
  /** TYPE, CLASS, TTL as in the upstream (8 bytes). */
  fixed: Buffer;
  rdata: Buffer;
}

/** The upstream's answer records with every name expanded, or null if it is malformed. */
const upstreamAnswers = (buf: Buffer, target: Buffer): { rcode: number; records: CopiedRecord[] } | null => {
  if (buf.length < HEADER_SIZE || (buf[2]! & 0x80) === 0) return null;
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  let p = HEADER_SIZE;
  for (let i = 0; i < qdcount; i++) {
    p = skipName(buf, p);
    if (p < 0 || p + 4 > buf.length) return null;
    p += 4;
  }
  const targetWire = target.toString('latin1').toLowerCase();
  const records: CopiedRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    if (!nameReader.read(buf, p, true, WANT_WIRE)) return null;
    const owner = Buffer.from(nameReader.wire, 'latin1');
    const ownerIsTarget = nameReader.wire === targetWire;
    p = nameReader.end;
    if (p + 10 > buf.length) return null;
    const type = buf.readUInt16BE(p);
    const rdlength = buf.readUInt16BE(p + 8);
    const rdStart = p + 10;
    const rdEnd = rdStart + rdlength;
    if (rdEnd > buf.length) return null;
    const fixed = buf.subarray(p, p + 8);
    let rdata = buf.subarray(rdStart, rdEnd);
    const nameAt = COMPRESSIBLE.get(type);
    if (nameAt !== undefined) {
      if (rdlength < nameAt + 1 || !nameReader.read(buf, rdStart + nameAt, true, WANT_WIRE) || nameReader.end !== rdEnd) return null;
      rdata = Buffer.concat([buf.subarray(rdStart, rdStart + nameAt), Buffer.from(nameReader.wire, 'latin1')]);
    } else if (type === RRType.SOA) {
      const expanded = expandSoa(buf, rdStart, rdEnd);
      if (!expanded) return null;
      rdata = expanded;
    }
    if (owner.length > MAX_NAME_WIRE) return null;
    records.push({ owner, ownerIsTarget, fixed, rdata });
    p = rdEnd;
  }
  return { rcode: buf[3]! & 0x0f, records };
};

const expandSoa = (buf: Buffer, start: number, end: number): Buffer | null => {
  if (!nameReader.read(buf, start, true, WANT_WIRE)) return null;
  const mname = Buffer.from(nameReader.wire, 'latin1');
  if (!nameReader.read(buf, nameReader.end, true, WANT_WIRE)) return null;
  const rname = Buffer.from(nameReader.wire, 'latin1');
  if (nameReader.end + 20 !== end) return null;
  return Buffer.concat([mname, rname, buf.subarray(end - 20, end)]);
};

/**
 * The query Haven sends upstream for a client's question: a fresh ID, RD set, CD and AD as the
 * client sent them, the question as asked, and Haven's own OPT (1232, the client's DO bit) — never
 * the client's options (its subnet, its cookie).
 */
export const upstreamQuery = (query: ParsedQuery, id: number): Buffer => {
  const out = Buffer.allocUnsafe(HEADER_SIZE + questionLength(query) + optLength(undefined));
  out.writeUInt16BE(id & 0xffff, 0);
  out[2] = 0x01;
  out[3] = (query.flags.cd ? 0x10 : 0) | (query.flags.ad ? 0x20 : 0);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(1, 10);
  const p = HEADER_SIZE + query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
  writeOpt(out, p, query.edns?.dnssecOk ?? false, undefined);
  return out;
};
