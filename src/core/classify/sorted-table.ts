/**
 * The static hash table behind the index: one Uint32Array of (hi, lo) pairs, 8 bytes a slot.
 *
 * Keys are placed in order of hi, each at its home slot `floor(hi * homes / 2^32)` or the first
 * free slot after it (linear probing, but built from sorted keys, which is the layout Robin Hood
 * hashing converges to). Homes grow with hi, so a lookup scans from its home only while slots hold
 * smaller keys and stops at the first larger or empty one: a miss — the common case while walking
 * a host's parent domains — costs one cache line almost always, even at 85 % load.
 *
 * Why not open addressing over a power-of-two table: the load factor would swing between 37 %
 * and 75 % with the list size (10–21 bytes a domain); any number of home slots works here.
 *
 * `lo` carries the value in its low `valueBits` (an index into the list-set table) and hash
 * bits above it, so a hit is one slot read and needs no second array.
 */

/** Marks an empty slot, and is larger than any real hi (key-hash.ts caps hi at MAX_HI). */
export const EMPTY = 0xffffffff;

/** 85 % full: 9.4 bytes a key, and misses still stop within a slot or two of their home. */
export const LOAD_FACTOR = 0.85;

export interface SortedTable {
  /** Interleaved (hi, lo) pairs; the last slot is always empty, so every scan stops. */
  keys: Uint32Array;
  /** Number of home slots; keys displaced past the last home spill into the tail. */
  homes: number;
  /** Keys held. */
  count: number;
}

export const homeScale = (homes: number): number => homes / 4294967296;

/** Builds the table from keys already sorted by hi (lo holds value and hash bits). */
export const buildSortedTable = (hi: Uint32Array, lo: Uint32Array, count: number, load = LOAD_FACTOR): SortedTable => {
  const homes = Math.max(1, Math.ceil(count / load));
  const scale = homeScale(homes);
  let last = -1;
  for (let j = 0; j < count; j++) {
    const home = (hi[j]! * scale) | 0;
    last = home > last ? home : last + 1;
  }
  // At least one slot per home plus an empty one after the last key: a lookup whose home lies
  // past every key must still find an empty slot there, not run off the end of the array.
  const keys = new Uint32Array((Math.max(last, homes - 1) + 2) * 2).fill(EMPTY);
  last = -1;
  for (let j = 0; j < count; j++) {
    const home = (hi[j]! * scale) | 0;
    last = home > last ? home : last + 1;
    keys[last * 2] = hi[j]!;
    keys[last * 2 + 1] = lo[j]!;
  }
  return { keys, homes, count };
};

/**
 * The value stored for (hi, lo), or -1. Readable reference for the inlined copy in
 * domain-index.ts's host walk.
 */
export const probe = (keys: Uint32Array, scale: number, valueBits: number, hi: number, lo: number): number => {
  let i = ((hi * scale) | 0) << 1;
  for (;;) {
    const k = keys[i]!;
    if (k === hi) {
      const v = keys[i + 1]!;
      if ((v ^ lo) >>> valueBits === 0) return v & ((1 << valueBits) - 1);
    } else if (k > hi) {
      return -1;
    }
    i += 2;
  }
};
