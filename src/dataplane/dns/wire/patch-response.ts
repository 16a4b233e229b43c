/**
 * Serving cached upstream answers without decoding them: the cache keeps the response as bytes
 * (without the upstream's OPT record: `withEdnsRemoved`), and a hit copies them, writes the new
 * ID, lowers every TTL by the entry's age, echoes the asker's question and RD, and appends
 * Haven's own OPT when the asker used EDNS. `truncateForUdp` then cuts what does not fit.
 *
 * The record walks here skip names without following pointers: the bytes were checked by
 * responseInfo before they were cached. They are still bounded and never read out of range, so
 * garbage gives null (or a bare truncated header) instead of an exception.
 */
import { HEADER_SIZE, RRType, type Ede } from './constants.ts';
import { skipName } from './names.ts';
import { optLength, writeOpt } from './opt.ts';
import type { ParsedQuery } from './parse-query.ts';

export interface PatchOptions {
  /** The ID of the query being answered. */
  readonly id: number;
  /** Seconds since the response was received; each TTL is lowered by it. */
  readonly ageSeconds: number;
  /** No TTL goes below this (default 0). Serving stale (RFC 8767) sets 30. */
  readonly floorTtl?: number;
  /** responseInfo(cached).ttlOffsets: skips the walk over the records. */
  readonly ttlOffsets?: Uint16Array;
  /**
   * The query being answered: its question bytes replace the cached ones (same name, maybe in
   * other letter case), its RD bit is echoed, and if it had EDNS an OPT record is appended
   * (DO echoed, `ede` in it). The cached bytes must then hold no OPT record.
   */
  readonly query?: ParsedQuery;
  /** An Extended DNS Error for the appended OPT, e.g. { code: EdeCode.STALE_ANSWER, text: '' }. */
  readonly ede?: Ede;
}

const readU16 = (b: Buffer, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** Offset past the question section, or -1. */
const questionEnd = (buf: Buffer): number => {
  const qdcount = readU16(buf, 4);
  let p = HEADER_SIZE;
  for (let i = 0; i < qdcount; i++) {
    p = skipName(buf, p);
    if (p < 0 || p + 4 > buf.length) return -1;
    p += 4;
  }
  return p;
};

/**
 * A copy of `cached` answering the query with `options.id`, TTLs aged. Returns null if the bytes
 * do not walk as a DNS message, or if `options.query` asks a question of another length.
 */
export const patchResponse = (cached: Buffer, options: PatchOptions): Buffer | null => {
  const len = cached.length;
  if (len < HEADER_SIZE) return null;
  const { query, ttlOffsets } = options;
  const age = options.ageSeconds > 0 ? Math.floor(options.ageSeconds) : 0;
  const floor = options.floorTtl ?? 0;
  const opt = query?.edns ? optLength(options.ede) : 0;
  const out = Buffer.allocUnsafe(len + opt);
  cached.copy(out, 0, 0, len);
  out[0] = (options.id >> 8) & 0xff;
  out[1] = options.id & 0xff;

  if (query) {
    const qEnd = questionEnd(cached);
    if (qEnd !== query.questionEnd || readU16(cached, 4) !== 1) return null;
    query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, qEnd);
    out[2] = (out[2]! & 0xfe) | (query.flags.rd ? 1 : 0);
  }

  if (ttlOffsets) {
    for (let i = 0; i < ttlOffsets.length; i++) {
      const at = ttlOffsets[i]!;
      if (at + 4 > len) return null;
      agedTtl(out, at, age, floor);
    }
  } else {
    let p = questionEnd(cached);
    if (p < 0) return null;
    const records = readU16(cached, 6) + readU16(cached, 8) + readU16(cached, 10);
    // Each record moves p forward by at least 11 bytes, and p is checked against len.
    for (let i = 0; i < records; i++) {
      p = skipName(cached, p);
      if (p < 0 || p + 10 > len) return null;
      if (readU16(cached, p) !== RRType.OPT) agedTtl(out, p + 4, age, floor);
      p += 10 + readU16(cached, p + 8);
      if (p > len) return null;
    }
  }

  if (opt > 0) {
    writeOpt(out, len, query!.edns!.dnssecOk, options.ede);
    const arcount = readU16(out, 10) + 1;
    if (arcount > 0xffff) return null;
    out[10] = arcount >> 8;
    out[11] = arcount & 0xff;
  }
  return out;
};

const agedTtl = (out: Buffer, at: number, age: number, floor: number): void => {
  let ttl = ((out[at]! << 24) | (out[at + 1]! << 16) | (out[at + 2]! << 8) | out[at + 3]!) >>> 0;
  if (ttl > 0x7fffffff) ttl = 0; // RFC 2181 §8
  ttl -= age;
  if (ttl < floor) ttl = floor;
  out[at] = ttl >>> 24;
  out[at + 1] = (ttl >>> 16) & 0xff;
  out[at + 2] = (ttl >>> 8) & 0xff;
  out[at + 3] = ttl & 0xff;
};

interface Layout {
  questionEnd: number;
  /** [start, end) of each OPT record in the additional section. */
  opts: [number, number][];
  /** Offset past the last record. */
  recordsEnd: number;
}

/** Where the question ends and the OPT records are, or null if the records do not walk. */
const layout = (buf: Buffer): Layout | null => {
  if (buf.length < HEADER_SIZE) return null;
  const qEnd = questionEnd(buf);
  if (qEnd < 0) return null;
  const ancount = readU16(buf, 6);
  const nscount = readU16(buf, 8);
  const total = ancount + nscount + readU16(buf, 10);
  const opts: [number, number][] = [];
  let p = qEnd;
  for (let i = 0; i < total; i++) {
    const start = p;
    p = skipName(buf, p);
    if (p < 0 || p + 10 > buf.length) return null;
    const type = readU16(buf, p);
    p += 10 + readU16(buf, p + 8);
    if (p > buf.length) return null;
    if (type === RRType.OPT && i >= ancount + nscount) opts.push([start, p]);
  }
  return { questionEnd: qEnd, opts, recordsEnd: p };
};

/**
 * `buf` if it fits in maxSize; otherwise its header with TC=1 and no records, the question and
 * the OPT record (if that still fits), so the client retries over TCP (RFC 7766). Bytes that do
 * not walk give a bare header with TC=1.
 */
export const truncateForUdp = (buf: Buffer, maxSize: number): Buffer => {
  if (buf.length <= maxSize) return buf;
  const l = buf.length >= HEADER_SIZE ? layout(buf) : null;
  const opt = l?.opts[0];
  let size = l ? l.questionEnd : HEADER_SIZE;
  if (opt && size + opt[1] - opt[0] <= maxSize) size += opt[1] - opt[0];
  const keepQuestion = l !== null && l.questionEnd <= maxSize;
  if (!keepQuestion) size = HEADER_SIZE;
  const out = Buffer.alloc(size);
  buf.copy(out, 0, 0, Math.min(HEADER_SIZE, buf.length));
  out[2] = out[2]! | 0x02;
  out.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  out.writeUInt16BE(0, 10);
  if (!keepQuestion) {
    out.writeUInt16BE(0, 4);
    return out;
  }
  buf.copy(out, HEADER_SIZE, HEADER_SIZE, l.questionEnd);
  if (opt && size > l.questionEnd) {
    buf.copy(out, l.questionEnd, opt[0], opt[1]);
    out.writeUInt16BE(1, 10);
  }
  return out;
};

/**
 * `buf` without its OPT record, ARCOUNT lowered: what the cache keeps, since each asker gets
 * Haven's own OPT or none. The same buffer when there is none. null if the bytes do not walk, if
 * the OPT carries upper RCODE bits (such answers, BADVERS and BADCOOKIE, are not cached), or if
 * records follow it (a TSIG, say): cutting bytes out of the middle could move what a later
 * compression pointer names. Bytes after the last record go with the OPT.
 */
export const withEdnsRemoved = (buf: Buffer): Buffer | null => {
  const l = layout(buf);
  if (!l) return null;
  const opt = l.opts[0];
  if (!opt) return buf;
  if (l.opts.length > 1 || opt[1] !== l.recordsEnd) return null;
  if (buf[opt[0]] !== 0 || buf[opt[0] + 5] !== 0) return null; // owner not root, or an extended RCODE
  const out = Buffer.from(buf.subarray(0, opt[0]));
  out.writeUInt16BE(readU16(buf, 10) - 1, 10);
  return out;
};
