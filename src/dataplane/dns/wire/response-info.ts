/**
 * What Haven needs to know about an upstream response before caching it and before letting it
 * through: RCODE, TC, how long it may be cached, the addresses and names it answers with (to
 * block by CNAME chain or by answer IP, and to see ECH configs), and where its TTLs sit, so a
 * cache hit is patched in place rather than decoded and encoded again.
 *
 * The whole packet is checked: every count against the bytes, every RDATA length, every name
 * (compression pointers must point to bytes before them and never into the header, names stay
 * within 255 bytes), the fixed RDATA of A/AAAA and the names in CNAME, NS, PTR, MX, SOA and
 * SVCB/HTTPS records. Bytes after the last record are ignored.
 */
import { CLASS_IN, HEADER_SIZE, Rcode, RRType, SVC_PARAM_ECH } from './constants.ts';
import { formatIpv4, formatIpv6 } from './ip-text.ts';
import { nameReader, WANT_BOTH, WANT_NOTHING, WANT_TEXT } from './names.ts';

export interface AnswerRecord {
  readonly type: number;
  /** Owner, presentation text as for ParsedQuery.qname. */
  readonly name: string;
  readonly ttl: number;
  /** A/AAAA: the address (RFC 5952 for IPv6); CNAME: the target; SVCB/HTTPS: the TargetName ('' for "."). */
  readonly data: string;
  /** SVCB/HTTPS only: an "ech" SvcParam (key 5) is present. */
  readonly hasEch: boolean;
}

export interface ResponseQuestion {
  readonly qname: string;
  /** As ParsedQuery.qnameWire, to check the answer is for the question asked. */
  readonly qnameWire: string;
  readonly qtype: number;
  readonly qclass: number;
}

export interface ResponseInfo {
  readonly ok: true;
  readonly id: number;
  /** The full RCODE: header bits, plus the OPT record's upper bits when there is one. */
  readonly rcode: number;
  readonly tc: boolean;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  readonly question: ResponseQuestion | null;
  /** NXDOMAIN, or NOERROR with an empty answer section (NODATA). */
  readonly negative: boolean;
  /**
   * Least TTL over the answer and authority records, an SOA in authority counting as the lesser
   * of its TTL and MINIMUM (RFC 2308 §5); TTLs with the top bit set count as 0 (RFC 2181 §8).
   * null when those sections are empty (a negative answer without SOA should not be cached).
   */
  readonly minTtl: number | null;
  /** A, AAAA, CNAME, SVCB and HTTPS records of the answer section, in order. */
  readonly answers: readonly AnswerRecord[];
  /** Offsets of every TTL field outside OPT records, for patchResponse. */
  readonly ttlOffsets: Uint16Array;
  readonly hasOpt: boolean;
}

export interface ResponseMalformed {
  readonly ok: false;
  readonly reason: string;
}

const bad = (reason: string): ResponseMalformed => ({ ok: false, reason });

const readU16 = (b: Buffer, at: number): number => (b[at]! << 8) | b[at + 1]!;
const readU32 = (b: Buffer, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** RFC 2181 §8: a TTL with the top bit set means zero. */
export const effectiveTtl = (raw: number): number => (raw > 0x7fffffff ? 0 : raw);

/** Checks a name in RDATA that must end exactly at `end` (pointers allowed unless noted). */
const nameFills = (buf: Buffer, at: number, end: number, pointers = true): boolean =>
  nameReader.read(buf, at, pointers, WANT_NOTHING) && nameReader.end === end;

export const responseInfo = (buf: Buffer): ResponseInfo | ResponseMalformed => {
  const len = buf.length;
  if (len < HEADER_SIZE) return bad('short');
  if (len > 0xffff) return bad('too-long');
  if ((buf[2]! & 0x80) === 0) return bad('not-a-response');
  const qdcount = readU16(buf, 4);
  const ancount = readU16(buf, 6);
  const nscount = readU16(buf, 8);
  const arcount = readU16(buf, 10);
  if (qdcount > 1) return bad('qdcount');
  // Every record takes at least 11 bytes: a quick bound before walking.
  if (HEADER_SIZE + qdcount * 5 + (ancount + nscount + arcount) * 11 > len) return bad('counts');

  let p = HEADER_SIZE;
  let question: ResponseQuestion | null = null;
  if (qdcount === 1) {
    if (!nameReader.read(buf, p, true, WANT_BOTH)) return bad('question-name');
    p = nameReader.end;
    if (p + 4 > len) return bad('question-truncated');
    question = { qname: nameReader.text, qnameWire: nameReader.wire, qtype: readU16(buf, p), qclass: readU16(buf, p + 2) };
    p += 4;
  }

  const total = ancount + nscount + arcount;
  const ttlOffsets = new Uint16Array(total);
  let ttlCount = 0;
  const answers: AnswerRecord[] = [];
  let minTtl = -1;
  let optSeen = false;
  let extendedRcode = 0;
  for (let i = 0; i < total; i++) {
    const section = i < ancount ? 0 : i < ancount + nscount ? 1 : 2;
    const ownerAt = p;
    // Owner text is only wanted for the answer records reported.
    if (!nameReader.read(buf, p, true, section === 0 ? WANT_TEXT : WANT_NOTHING)) return bad('owner-name');
    const owner = section === 0 ? nameReader.text : '';
    p = nameReader.end;
    if (p + 10 > len) return bad('record-truncated');
    const type = readU16(buf, p);
    const rdStart = p + 10;
    const rdEnd = rdStart + readU16(buf, p + 8);
    if (rdEnd > len) return bad('rdata-truncated');

    if (type === RRType.OPT) {
      if (section !== 2 || optSeen || buf[ownerAt] !== 0) return bad('misplaced-opt');
      optSeen = true;
      extendedRcode = buf[p + 4]!;
      p = rdEnd;
      continue;
    }
    const ttl = effectiveTtl(readU32(buf, p + 4));
    ttlOffsets[ttlCount++] = p + 4;
    const inClass = readU16(buf, p + 2) === CLASS_IN;
    let recordTtl = ttl;
    let data: string | null = null;
    let hasEch = false;
    switch (type) {
      case RRType.A:
        if (inClass) {
          if (rdEnd - rdStart !== 4) return bad('a-length');
          data = formatIpv4(buf, rdStart);
        }
        break;
      case RRType.AAAA:
        if (inClass) {
          if (rdEnd - rdStart !== 16) return bad('aaaa-length');
          data = formatIpv6(buf, rdStart);
        }
        break;
      case RRType.CNAME:
        if (!nameReader.read(buf, rdStart, true, section === 0 ? WANT_TEXT : WANT_NOTHING) || nameReader.end !== rdEnd)
          return bad('cname-rdata');
        data = nameReader.text;
        break;
      case RRType.NS:
      case RRType.PTR:
        if (!nameFills(buf, rdStart, rdEnd)) return bad('name-rdata');
        break;
      case RRType.MX:
        if (rdEnd - rdStart < 3 || !nameFills(buf, rdStart + 2, rdEnd)) return bad('mx-rdata');
        break;
      case RRType.SOA: {
        if (!nameReader.read(buf, rdStart, true, WANT_NOTHING)) return bad('soa-rdata');
        if (!nameReader.read(buf, nameReader.end, true, WANT_NOTHING) || nameReader.end + 20 !== rdEnd) return bad('soa-rdata');
        const minimum = effectiveTtl(readU32(buf, rdEnd - 4));
        if (section === 1 && minimum < recordTtl) recordTtl = minimum;
        break;
      }
      case RRType.SVCB:
      case RRType.HTTPS: {
        if (
          rdEnd - rdStart < 3 ||
          !nameReader.read(buf, rdStart + 2, false, section === 0 ? WANT_TEXT : WANT_NOTHING) ||
          nameReader.end > rdEnd
        ) {
          return bad('svcb-rdata');
        }
        data = nameReader.text;
        const params = svcParamsHaveEch(buf, nameReader.end, rdEnd);
        if (params === null) return bad('svcb-params');
        hasEch = params;
        break;
      }
      default:
        break;
    }
    if (section < 2 && (minTtl < 0 || recordTtl < minTtl)) minTtl = recordTtl;
    if (section === 0 && data !== null) answers.push({ type, name: owner, ttl, data, hasEch });
    p = rdEnd;
  }

  const rcode = (extendedRcode << 4) | (buf[3]! & 0x0f);
  return {
    ok: true,
    id: readU16(buf, 0),
    rcode,
    tc: (buf[2]! & 0x02) !== 0,
    ancount,
    nscount,
    arcount,
    question,
    negative: rcode === Rcode.NXDOMAIN || (rcode === Rcode.NOERROR && ancount === 0),
    minTtl: minTtl < 0 ? null : minTtl,
    answers,
    ttlOffsets: ttlCount === total ? ttlOffsets : ttlOffsets.slice(0, ttlCount),
    hasOpt: optSeen,
  };
};

/** Whether SvcParams in buf[at, end) hold key 5 (ech); null if they overrun the RDATA. */
const svcParamsHaveEch = (buf: Buffer, at: number, end: number): boolean | null => {
  let ech = false;
  // Each parameter takes at least 4 bytes.
  for (let p = at; p < end;) {
    if (p + 4 > end) return null;
    const key = readU16(buf, p);
    const next = p + 4 + readU16(buf, p + 2);
    if (next > end) return null;
    if (key === SVC_PARAM_ECH) ech = true;
    p = next;
  }
  return ech;
};
