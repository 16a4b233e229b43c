/**
 * The hot-path read of an incoming query: header, the one question and an optional OPT record,
 * straight from the bytes (no general decoder, no per-record objects). Anything that is not a
 * well-formed single-question QUERY is rejected with the answer it deserves, or dropped.
 *
 * Rules, in order:
 * - drop: shorter than a header, or QR=1 (a response: answering it invites reflection loops);
 * - NOTIMP: an opcode other than QUERY (its sections may mean something else, so nothing more is read);
 * - FORMERR: QDCOUNT ≠ 1, ANCOUNT or NSCOUNT ≠ 0, ARCOUNT > 1; a truncated or over-long name
 *   (label > 63, i.e. a reserved label type, or name > 255 bytes), a compression pointer in the
 *   question (it could only point at the header or forwards: never followed);
 *   a meta QTYPE that cannot be asked (OPT, TKEY, TSIG); trailing bytes that are not exactly one
 *   well-formed OPT record (root owner, options within RDATA, sane COOKIE and CLIENT-SUBNET);
 * - BADVERS: an EDNS version other than 0 (RFC 6891 §6.1.3);
 * - REFUSED: QCLASS other than IN (CHAOS version probes and the like), zone transfers (AXFR/IXFR).
 */
import { CLASS_IN, CLASSIC_UDP_SIZE, EdnsOption, HEADER_SIZE, OPCODE_QUERY, RRType } from './constants.ts';
import { QNAME_POINTER, QNAME_TOO_LONG, QNAME_TRUNCATED, readQname, type QnameOut } from './names.ts';

export interface QueryFlags {
  /** Recursion desired: echoed in every response. */
  readonly rd: boolean;
  /** Checking disabled (RFC 4035): echoed, part of the cache key. */
  readonly cd: boolean;
  /** The client understands AD (RFC 6840 §5.7): passed upstream. */
  readonly ad: boolean;
  readonly opcode: number;
}

export interface QueryEdns {
  /** The client's UDP payload size, never below 512 (RFC 6891 §6.2.5). */
  readonly udpSize: number;
  /** DO bit: the client wants DNSSEC records (part of the cache key; echoed). */
  readonly dnssecOk: boolean;
  /** Offsets of the OPT record in the packet: [optStart, optEnd). */
  readonly optStart: number;
  readonly optEnd: number;
  /** An EDNS Client Subnet option was present (RFC 7871); Haven never forwards it. */
  readonly hasClientSubnet: boolean;
  /** The COOKIE option's data (client cookie, then any server cookie): a view into the packet. */
  readonly cookie: Buffer | undefined;
}

export interface ParsedQuery {
  readonly ok: true;
  /** The packet as received (responses copy the question from it, keeping the client's letter case). */
  readonly packet: Buffer;
  readonly id: number;
  readonly flags: QueryFlags;
  /** Presentation text: lower-case, no trailing dot ('' for the root), odd bytes as \. or \DDD. */
  readonly qname: string;
  /** The name's wire bytes lower-cased, as a latin1 string (one character a byte, root label included). */
  readonly qnameWire: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past the question: packet[12, questionEnd) is the question, name included. */
  readonly questionEnd: number;
  readonly edns: QueryEdns | null;
}

export type RejectReply = 'formerr' | 'notimp' | 'refused' | 'badvers' | 'drop';

/** Why a packet was turned away: stable strings, for counters. */
export type RejectReason =
  | 'short'
  | 'response'
  | 'opcode'
  | 'qdcount'
  | 'records-in-query'
  | 'arcount'
  | 'name-truncated'
  | 'name-too-long'
  | 'name-pointer'
  | 'label-too-long'
  | 'question-truncated'
  | 'meta-qtype'
  | 'trailing-bytes'
  | 'not-opt'
  | 'opt-truncated'
  | 'opt-option'
  | 'opt-cookie'
  | 'opt-client-subnet'
  | 'edns-version'
  | 'qclass'
  | 'zone-transfer';

export interface QueryRejection {
  readonly ok: false;
  readonly reply: RejectReply;
  readonly reason: RejectReason;
  /** Absent only when the packet is shorter than a header. */
  readonly id?: number;
  readonly opcode?: number;
  readonly rd?: boolean;
  /** For 'refused' and 'badvers': the parsed query, so the answer can echo the question and EDNS. */
  readonly query?: ParsedQuery;
}

export type QueryParse = ParsedQuery | QueryRejection;

const DROP_SHORT: QueryRejection = Object.freeze({ ok: false, reply: 'drop', reason: 'short' });

const reject = (reply: RejectReply, reason: RejectReason, buf: Buffer): QueryRejection => ({
  ok: false,
  reply,
  reason,
  id: (buf[0]! << 8) | buf[1]!,
  opcode: (buf[2]! >> 3) & 0x0f,
  rd: (buf[2]! & 0x01) !== 0,
});

const qnameOut: QnameOut = { text: '', wire: '' };

/**
 * Reads the OPT record at `start`, which must run exactly to the end of the packet.
 * Returns the EDNS facts or a rejection reason.
 */
const readOpt = (buf: Buffer, start: number): QueryEdns | RejectReason => {
  const len = buf.length;
  if (start + 11 > len) return 'opt-truncated';
  if (buf[start] !== 0 || ((buf[start + 1]! << 8) | buf[start + 2]!) !== RRType.OPT) return 'not-opt';
  const udp = (buf[start + 3]! << 8) | buf[start + 4]!;
  const version = buf[start + 6]!;
  const dnssecOk = (buf[start + 7]! & 0x80) !== 0;
  const rdEnd = start + 11 + ((buf[start + 9]! << 8) | buf[start + 10]!);
  if (rdEnd > len) return 'opt-truncated';
  if (rdEnd < len) return 'trailing-bytes';
  let hasClientSubnet = false;
  let cookie: Buffer | undefined;
  // Each option takes at least 4 bytes of a bounded RDATA.
  for (let p = start + 11; p < rdEnd;) {
    if (p + 4 > rdEnd) return 'opt-option';
    const code = (buf[p]! << 8) | buf[p + 1]!;
    const olen = (buf[p + 2]! << 8) | buf[p + 3]!;
    const data = p + 4;
    if (data + olen > rdEnd) return 'opt-option';
    if (code === EdnsOption.CLIENT_SUBNET) {
      if (!validClientSubnet(buf, data, olen)) return 'opt-client-subnet';
      hasClientSubnet = true;
    } else if (code === EdnsOption.COOKIE) {
      // A client cookie of 8 bytes, alone or with a server cookie of 8–32 (RFC 7873 §5.2.2).
      if (olen !== 8 && (olen < 16 || olen > 40)) return 'opt-cookie';
      cookie = buf.subarray(data, data + olen);
    }
    p = data + olen;
  }
  if (version !== 0) return 'edns-version';
  // One object shape whether or not a cookie came (cookie: undefined), so the hot path stays monomorphic.
  return {
    udpSize: udp < CLASSIC_UDP_SIZE ? CLASSIC_UDP_SIZE : udp,
    dnssecOk,
    optStart: start,
    optEnd: rdEnd,
    hasClientSubnet,
    cookie,
  };
};

/** RFC 7871 §6: family 1 or 2, prefix within it, address bytes exactly enough for it, scope 0 in a query. */
const validClientSubnet = (buf: Buffer, at: number, len: number): boolean => {
  if (len < 4) return false;
  const family = (buf[at]! << 8) | buf[at + 1]!;
  const source = buf[at + 2]!;
  const scope = buf[at + 3]!;
  const maxBits = family === 1 ? 32 : family === 2 ? 128 : -1;
  return maxBits > 0 && source <= maxBits && scope === 0 && len - 4 === Math.ceil(source / 8);
};

/** Reads a query by the rules above; never throws, whatever the bytes. */
export const parseQuery = (buf: Buffer): QueryParse => {
  const len = buf.length;
  if (len < HEADER_SIZE) return DROP_SHORT;
  const b2 = buf[2]!;
  if ((b2 & 0x80) !== 0) return reject('drop', 'response', buf);
  const opcode = (b2 >> 3) & 0x0f;
  if (opcode !== OPCODE_QUERY) return reject('notimp', 'opcode', buf);
  if (buf[4] !== 0 || buf[5] !== 1) return reject('formerr', 'qdcount', buf);
  if ((buf[6]! | buf[7]! | buf[8]! | buf[9]!) !== 0) return reject('formerr', 'records-in-query', buf);
  const arcount = (buf[10]! << 8) | buf[11]!;
  if (arcount > 1) return reject('formerr', 'arcount', buf);

  const qnameEnd = readQname(buf, qnameOut);
  if (qnameEnd < 0) {
    const reason =
      qnameEnd === QNAME_TRUNCATED
        ? 'name-truncated'
        : qnameEnd === QNAME_TOO_LONG
          ? 'name-too-long'
          : qnameEnd === QNAME_POINTER
            ? 'name-pointer'
            : 'label-too-long';
    return reject('formerr', reason, buf);
  }
  const questionEnd = qnameEnd + 4;
  if (questionEnd > len) return reject('formerr', 'question-truncated', buf);
  const qtype = (buf[qnameEnd]! << 8) | buf[qnameEnd + 1]!;
  const qclass = (buf[qnameEnd + 2]! << 8) | buf[qnameEnd + 3]!;
  if (qtype === RRType.OPT || qtype === RRType.TKEY || qtype === RRType.TSIG) return reject('formerr', 'meta-qtype', buf);

  let edns: QueryEdns | null = null;
  let badVersion = false;
  if (arcount === 1) {
    const opt = readOpt(buf, questionEnd);
    if (typeof opt === 'string') {
      if (opt !== 'edns-version') return reject('formerr', opt, buf);
      badVersion = true;
      edns = versionlessEdns(buf, questionEnd);
    } else {
      edns = opt;
    }
  } else if (questionEnd !== len) {
    return reject('formerr', 'trailing-bytes', buf);
  }

  const query: ParsedQuery = {
    ok: true,
    packet: buf,
    id: (buf[0]! << 8) | buf[1]!,
    flags: { rd: (b2 & 0x01) !== 0, cd: (buf[3]! & 0x10) !== 0, ad: (buf[3]! & 0x20) !== 0, opcode },
    qname: qnameOut.text,
    qnameWire: qnameOut.wire,
    qtype,
    qclass,
    questionEnd,
    edns,
  };
  if (badVersion) return { ...reject('badvers', 'edns-version', buf), query };
  if (qclass !== CLASS_IN) return { ...reject('refused', 'qclass', buf), query };
  if (qtype === RRType.AXFR || qtype === RRType.IXFR) return { ...reject('refused', 'zone-transfer', buf), query };
  return query;
};

/** The EDNS facts of an OPT record already checked except for its version (for the BADVERS answer). */
const versionlessEdns = (buf: Buffer, start: number): QueryEdns => {
  const udp = (buf[start + 3]! << 8) | buf[start + 4]!;
  return {
    udpSize: udp < CLASSIC_UDP_SIZE ? CLASSIC_UDP_SIZE : udp,
    dnssecOk: (buf[start + 7]! & 0x80) !== 0,
    optStart: start,
    optEnd: buf.length,
    hasClientSubnet: false,
    cookie: undefined,
  };
};

/**
 * The cache key of a query: its lower-cased wire name (which ends in the root label, so nothing
 * after it can run into it), then QTYPE, QCLASS and the DO and CD bits as one UTF-16 unit each.
 */
export const cacheKey = (query: ParsedQuery): string =>
  query.qnameWire + String.fromCharCode(query.qtype, query.qclass, (query.edns?.dnssecOk ? 1 : 0) | (query.flags.cd ? 2 : 0));
