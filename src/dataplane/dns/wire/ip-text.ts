/**
 * IPv4/IPv6 addresses between text and RDATA bytes, without a dependency. Formatting follows
 * RFC 5952 (lower-case hex, no leading zeros, the longest run of two or more zero groups as
 * "::"), which is also how the URL standard prints IPv6 hosts, so answer addresses meet list
 * entries in one form.
 */

/** Four bytes of a dotted-quad IPv4 address ("192.0.2.1"), or null. */
export const parseIpv4 = (s: string): Buffer | null => {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
};

/** Sixteen bytes of an IPv6 address ("2001:db8::1", "::ffff:192.0.2.1"), or null. No zone ids. */
export const parseIpv6 = (s: string): Buffer | null => {
  if (s.length < 2 || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 2 && halves[0]!.includes('.')) return null; // an IPv4 tail must come last
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(all[i]!, i * 2);
  return out;
};

export const formatIpv4 = (buf: Buffer, at: number): string => `${buf[at]!}.${buf[at + 1]!}.${buf[at + 2]!}.${buf[at + 3]!}`;

export const formatIpv6 = (buf: Buffer, at: number): string => {
  // Longest run of zero groups (two or more; the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (buf[at + 2 * i] === 0 && buf[at + 2 * i + 1] === 0) {
      let j = i;
      while (j < 8 && buf[at + 2 * j] === 0 && buf[at + 2 * j + 1] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else {
      i++;
    }
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += (((buf[at + 2 * i]! << 8) | buf[at + 2 * i + 1]!) >>> 0).toString(16);
  }
  return s;
};
