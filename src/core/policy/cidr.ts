/**
 * A tiny IPv4/IPv6 CIDR matcher for policy places. Addresses are held as four 32-bit words;
 * IPv4 is held IPv4-mapped (::ffff:a.b.c.d) so one comparison serves both families, and an
 * IPv4 client seen as ::ffff:a.b.c.d by a dual-stack socket matches IPv4 CIDRs.
 */

export interface Cidr {
  /** Network address, four 32-bit words, host bits cleared. */
  readonly words: Uint32Array;
  /** Prefix length over the 128-bit form (an IPv4 /24 is 120). */
  readonly bits: number;
  readonly family: 4 | 6;
}

const V4_MAPPED_PREFIX = 0xffff;

/** Dotted quad to a 32-bit number without allocating (it runs per request when rules have places). */
const parseV4 = (s: string): number | null => {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= s.length; i++) {
    const code = i < s.length ? s.charCodeAt(i) : 46; /* a final '.' closes the last part */
    if (code === 46) {
      if (digits === 0 || part > 255) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      if (i < s.length) dots++;
    } else if (code >= 48 && code <= 57) {
      // No leading zeros: "010" is octal to some parsers and decimal to others.
      if (digits > 0 && part === 0) return null;
      part = part * 10 + (code - 48);
      if (++digits > 3) return null;
    } else {
      return null;
    }
  }
  return dots === 3 ? value >>> 0 : null;
};

const parseHextets = (s: string): number[] | null => {
  if (s === '') return [];
  const parts = s.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseV4(part);
      if (v4 === null) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
      out.push(parseInt(part, 16));
    }
  }
  return out;
};

/**
 * Parses an IPv4 or IPv6 address (brackets and a zone id are ignored) into `out` (four words).
 * Returns the family, or 0 when it is not an address.
 */
export const parseIpInto = (raw: string, out: Uint32Array): 0 | 4 | 6 => {
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) {
    const v4 = parseV4(s);
    if (v4 === null) return 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = V4_MAPPED_PREFIX;
    out[3] = v4;
    return 4;
  }
  const gap = s.indexOf('::');
  if (gap >= 0 && s.indexOf('::', gap + 1) >= 0) return 0;
  let hextets: number[];
  if (gap >= 0) {
    const left = parseHextets(s.slice(0, gap));
    const right = parseHextets(s.slice(gap + 2));
    if (!left || !right || left.length + right.length > 7) return 0;
    hextets = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseHextets(s);
    if (!all || all.length !== 8) return 0;
    hextets = all;
  }
  for (let w = 0; w < 4; w++) out[w] = ((hextets[2 * w]! << 16) | hextets[2 * w + 1]!) >>> 0;
  // An IPv4-mapped address is an IPv4 client on a dual-stack socket.
  return out[0] === 0 && out[1] === 0 && out[2] === V4_MAPPED_PREFIX ? 4 : 6;
};

/** A parsed address as four words, or null. */
export const parseIpAddress = (raw: string): Uint32Array | null => {
  const out = new Uint32Array(4);
  return parseIpInto(raw, out) === 0 ? null : out;
};

const maskWord = (bits: number, word: number): number => {
  const inWord = Math.max(0, Math.min(32, bits - word * 32));
  return inWord === 0 ? 0 : inWord === 32 ? 0xffffffff : (0xffffffff << (32 - inWord)) >>> 0;
};

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a single host). Null when malformed. */
export const parseCidr = (raw: string): Cidr | null => {
  const s = raw.trim();
  const slash = s.indexOf('/');
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  const words = new Uint32Array(4);
  const family = parseIpInto(addr, words);
  if (family === 0) return null;
  // "::ffff:10.0.0.0/104" is written as IPv6; only a dotted address takes an IPv4 prefix length.
  const writtenAsV4 = !addr.includes(':');
  const max = writtenAsV4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return null;
    length = Number(lenText);
    if (length > max) return null;
  }
  const bits = writtenAsV4 ? 96 + length : length;
  for (let w = 0; w < 4; w++) words[w] = (words[w]! & maskWord(bits, w)) >>> 0;
  return { words, bits, family: writtenAsV4 ? 4 : family };
};

/** Whether a parsed address (four words) is inside the CIDR. */
export const cidrContains = (cidr: Cidr, address: Uint32Array): boolean => {
  for (let w = 0; w < 4; w++) {
    const mask = maskWord(cidr.bits, w);
    if (mask === 0) return true;
    if ((address[w]! & mask) >>> 0 !== cidr.words[w]) return false;
  }
  return true;
};

/** Convenience for one-off checks: false when either side is malformed. */
export const ipInCidr = (ip: string, cidr: string): boolean => {
  const range = parseCidr(cidr);
  const address = parseIpAddress(ip);
  return range !== null && address !== null && cidrContains(range, address);
};
