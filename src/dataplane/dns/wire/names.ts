/**
 * Domain names on the wire: reading them as presentation text (lower-case, no trailing dot, odd
 * bytes escaped as dig prints them), skipping them, following compression pointers safely, and
 * encoding the few names Haven writes itself (SafeSearch targets, its SOA names).
 *
 * Every loop here is bounded by the buffer and by the 255-byte name limit. A compression pointer
 * must point to a prior occurrence (RFC 1035 §4.1.4): everything read after a jump lies before
 * the pointer that jumped, so each jump lowers that limit and chains always end (a hop limit
 * caps them anyway), and no name depends on bytes after it (removing a trailing record never
 * changes an earlier name).
 */
import { HEADER_SIZE, MAX_LABEL, MAX_NAME_WIRE } from './constants.ts';

/** How each byte of a label prints: 0 as itself (lower-cased), 1 behind a backslash, 2 as \DDD. */
const ESCAPE = new Uint8Array(256);
for (let b = 0; b < 256; b++) ESCAPE[b] = b <= 0x20 || b >= 0x7f ? 2 : 0;
for (const c of '."();\\@$') ESCAPE[c.charCodeAt(0)] = 1;

/** A name of 255 wire bytes prints in at most 4 characters a byte. */
const textScratch = Buffer.allocUnsafe(4 * MAX_NAME_WIRE);
const wireScratch = Buffer.allocUnsafe(MAX_NAME_WIRE);
/** readQname's wire bytes then text, side by side. */
const scratch = Buffer.allocUnsafe(5 * MAX_NAME_WIRE);

const lower = (b: number): number => (b >= 65 && b <= 90 ? b | 0x20 : b);

/**
 * Appends label bytes src[start, start+len) to `out` at o as presentation text, lower-cased.
 * Returns the new length.
 */
const appendLabelText = (src: Buffer, start: number, len: number, o: number, out = textScratch): number => {
  for (let i = start, end = start + len; i < end; i++) {
    const b = lower(src[i]!);
    const kind = ESCAPE[b]!;
    if (kind === 0) {
      out[o++] = b;
    } else if (kind === 1) {
      out[o++] = 92;
      out[o++] = b;
    } else {
      out[o++] = 92;
      out[o++] = 48 + ((b / 100) | 0);
      out[o++] = 48 + (((b / 10) | 0) % 10);
      out[o++] = 48 + (b % 10);
    }
  }
  return o;
};

/** What NameReader.read builds besides checking: bit 1 the text, bit 2 the wire string. */
export const WANT_NOTHING = 0;
export const WANT_TEXT = 1;
export const WANT_WIRE = 2;
export const WANT_BOTH = 3;

/**
 * Reads a name with compression pointers (as in responses). After a successful `read`, `end` is
 * the offset just past the name where it started (past the first pointer, if any), and as asked
 * `text` its presentation form and `wire` its lower-cased uncompressed wire bytes as a latin1
 * string (one character a byte, root label included). One shared instance: read the fields
 * before the next call.
 */
export class NameReader {
  end = 0;
  text = '';
  wire = '';

  /**
   * Returns false on a malformed name: out of bounds, a reserved label type, a pointer into the
   * header or to anything but bytes before it, or more than 255 bytes once expanded.
   * `pointers` false rejects any pointer (questions of queries, SVCB TargetName).
   */
  read(buf: Buffer, pos: number, pointers: boolean, want: number): boolean {
    // Bytes read must lie below limit: the buffer's end, then the position of the last pointer.
    let limit = buf.length;
    let end = -1;
    let wireLen = 0;
    let textLen = 0;
    for (let hops = 0; hops <= 127;) {
      if (pos >= limit) return false;
      const l = buf[pos]!;
      if (l === 0) {
        wireScratch[wireLen++] = 0;
        if (end < 0) end = pos + 1;
        this.end = end;
        if ((want & WANT_TEXT) !== 0) this.text = textLen === 0 ? '' : textScratch.toString('latin1', 0, textLen);
        if ((want & WANT_WIRE) !== 0) this.wire = wireScratch.toString('latin1', 0, wireLen);
        return true;
      }
      const top = l & 0xc0;
      if (top === 0xc0) {
        if (!pointers || pos + 1 >= limit) return false;
        const target = ((l & 0x3f) << 8) | buf[pos + 1]!;
        if (target < HEADER_SIZE || target >= pos) return false;
        if (end < 0) end = pos + 2;
        limit = pos;
        pos = target;
        hops++;
        continue;
      }
      if (top !== 0) return false; // 0x40 / 0x80: extended label types, obsolete (RFC 6891 §5)
      if (pos + 1 + l > limit || wireLen + l + 2 > MAX_NAME_WIRE) return false;
      if ((want & WANT_WIRE) !== 0) {
        wireScratch[wireLen] = l;
        for (let i = 0; i < l; i++) wireScratch[wireLen + 1 + i] = lower(buf[pos + 1 + i]!);
      }
      if ((want & WANT_TEXT) !== 0) {
        if (textLen > 0) textScratch[textLen++] = 46;
        textLen = appendLabelText(buf, pos + 1, l, textLen);
      }
      wireLen += l + 1;
      pos += l + 1;
    }
    return false;
  }
}

export const nameReader = new NameReader();

/**
 * Offset just past the name at pos without following pointers (they were checked when the packet
 * was first read), or -1 if it runs off the buffer or holds a reserved label type.
 */
export const skipName = (buf: Buffer, pos: number): number => {
  const len = buf.length;
  // At most 128 labels fit in 255 bytes; the buffer bound ends the loop in any case.
  for (let n = 0; n < 128; n++) {
    if (pos >= len) return -1;
    const l = buf[pos]!;
    if (l === 0) return pos + 1;
    if ((l & 0xc0) === 0xc0) return pos + 2 <= len ? pos + 2 : -1;
    if ((l & 0xc0) !== 0) return -1;
    pos += l + 1;
  }
  return -1;
};

/**
 * Reads the uncompressed name at buf[12] of a query into presentation text and lower-cased wire
 * bytes. Returns the offset past the name, or a negative reason code. The two strings are slices
 * of one (a single toString is the cheaper path), so keeping one keeps both: a few hundred
 * bytes at most.
 */
export const QNAME_TRUNCATED = -1;
export const QNAME_TOO_LONG = -2;
export const QNAME_POINTER = -3;
export const QNAME_BAD_LABEL = -4;

export interface QnameOut {
  text: string;
  wire: string;
}

export const readQname = (buf: Buffer, out: QnameOut): number => {
  const len = buf.length;
  // First hop over the labels to check the name and learn its length, so that the second pass
  // can write the wire bytes and then the text side by side: one toString, two slices.
  let pos = HEADER_SIZE;
  for (;;) {
    if (pos >= len) return QNAME_TRUNCATED;
    const l = buf[pos]!;
    if (l === 0) break;
    if (l > MAX_LABEL) return (l & 0xc0) === 0xc0 ? QNAME_POINTER : QNAME_BAD_LABEL;
    pos += l + 1;
    if (pos - HEADER_SIZE + 1 > MAX_NAME_WIRE) return QNAME_TOO_LONG;
  }
  const nameEnd = pos + 1;
  const wireLen = nameEnd - HEADER_SIZE;
  const s = scratch;
  let o = wireLen;
  for (pos = HEADER_SIZE; ;) {
    const l = buf[pos]!;
    s[pos - HEADER_SIZE] = l;
    if (l === 0) break;
    if (o > wireLen) s[o++] = 46;
    const end = pos + 1 + l;
    let i = pos + 1;
    // The common case, inlined: letters, digits, hyphen and underscore print as themselves.
    for (; i < end; i++) {
      let b = buf[i]!;
      if (b >= 65 && b <= 90) b |= 0x20;
      else if (ESCAPE[b] !== 0) break;
      s[i - HEADER_SIZE] = b;
      s[o++] = b;
    }
    if (i < end) {
      for (let j = i; j < end; j++) s[j - HEADER_SIZE] = lower(buf[j]!);
      o = appendLabelText(buf, i, end - i, o, s);
    }
    pos = end;
  }
  const both = s.toString('latin1', 0, o);
  out.wire = both.slice(0, wireLen);
  out.text = o === wireLen ? '' : both.slice(wireLen);
  return nameEnd;
};

/**
 * Wire form of a host name Haven writes itself ("forcesafesearch.google.com", trailing dot
 * optional): ASCII labels of 1–63 printable bytes other than '\\', 255 bytes at most. Throws
 * RangeError otherwise: such names come from configuration, never from packets.
 */
export const encodeName = (text: string): Buffer => {
  const t = text.endsWith('.') ? text.slice(0, -1) : text;
  if (t === '') return Buffer.from([0]);
  const labels = t.split('.');
  const out = Buffer.allocUnsafe(t.length + 2);
  let o = 0;
  for (const label of labels) {
    if (label.length === 0 || label.length > MAX_LABEL || !/^[\x21-\x5b\x5d-\x7e]+$/.test(label)) {
      throw new RangeError(`not a usable DNS name: ${JSON.stringify(text)}`);
    }
    out[o++] = label.length;
    o += out.write(label, o, 'latin1');
  }
  out[o++] = 0;
  if (o > MAX_NAME_WIRE) throw new RangeError(`DNS name longer than 255 bytes: ${JSON.stringify(text)}`);
  return out;
};
