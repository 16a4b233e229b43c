/**
 * The 64-bit key hash of the index, as two 32-bit lanes so the hot path never touches BigInt.
 *
 * Each character updates lane a with xor, multiply by an odd constant and rotate, and lane b
 * with multiply-and-add of a's new state: each step is a bijection of the lane pair for a fixed
 * character (so two equal-length strings that differ in one character never collide, and
 * otherwise both 32-bit lanes must meet by chance), and cheap enough to run per character while
 * walking a host from its right end, so every parent domain's hash falls out of one pass with no
 * substring. `finish` then mixes a lane pair, the key length and a tag (domain, IP and URL keys
 * never meet) into the key (hi, lo) with the murmur3 finaliser; (hi, lo) is a bijection of the
 * lane pair, so two keys collide only if both lanes do.
 *
 * The seeds are random per build and travel in the snapshot, so nobody without the snapshot can
 * craft a host that collides with an entry (say with an allow-listed domain).
 *
 * The matching code in domain-index.ts inlines these steps for speed; keep the two in step (the
 * reference tests catch any drift).
 */

export const TAG_DOMAIN = 0;
export const TAG_IP = 0x5bd1e995;
export const TAG_URL = 0x1b873593;

/** Largest hi a real key may have: 0xffffffff marks an empty slot (see sorted-table.ts). */
export const MAX_HI = 0xfffffffe;

export const stepA = (a: number, c: number): number => {
  const m = Math.imul(a ^ c, 0x9e3779b1);
  return (m << 15) | (m >>> 17);
};

/** Lane b folds in lane a's new state (not the character): two cheap operations a character. */
export const stepB = (b: number, a: number): number => (Math.imul(b, 0x85ebca77) + a) | 0;

export const fmix32 = (x: number): number => {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
};

/**
 * Where `finish` leaves the key: [hi, lo]. A typed array, because numbers above 2^31 written to
 * an object's fields would be boxed, one allocation per key.
 */
export const out = new Uint32Array(2);

export const finish = (a: number, b: number, length: number, tag: number): void => {
  const x = fmix32(a ^ length);
  const hi = x >>> 0;
  out[0] = hi > MAX_HI ? MAX_HI : hi;
  out[1] = fmix32(b ^ x ^ tag);
};

const ASCII_UPPER_A = 65;
const ASCII_UPPER_Z = 90;
/** Hosts are folded to lower case while hashing, so an un-normalised "Example.COM" still matches. */
export const foldCase = (c: number): number => (c >= ASCII_UPPER_A && c <= ASCII_UPPER_Z ? c | 32 : c);

/** Key of a whole domain or IP entry, hashed right to left as lookups walk hosts. */
export const hashHostKey = (host: string, seedA: number, seedB: number, tag: number): void => {
  let a = seedA;
  let b = seedB;
  for (let i = host.length - 1; i >= 0; i--) {
    const c = foldCase(host.charCodeAt(i));
    a = stepA(a, c);
    b = stepB(b, a);
  }
  finish(a, b, host.length, tag);
};

/** Key of a URL entry ("host" + "/path"), hashed left to right as lookups extend the path. */
export const hashUrlKey = (key: string, seedA: number, seedB: number): void => {
  let a = seedA;
  let b = seedB;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = stepA(a, c);
    b = stepB(b, a);
  }
  finish(a, b, key.length, TAG_URL);
};
