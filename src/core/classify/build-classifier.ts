/**
 * Builds the compact classifier from source lists.
 *
 * Memory: the build hashes every entry into typed arrays (about 22 bytes an entry while it
 * runs), keeps no reference to the input and ends with only the tables (~9.4 bytes a domain).
 * The caller should drop its SourceList arrays once this returns; strings are the bulk of what a
 * loader holds (50–100 bytes a domain), so loading lists, not the index, sets the peak.
 *
 * Reloading without doubling memory: build in a separate step (`haven lists import`, or a worker)
 * and write `toSnapshot()` to disk; the serving process then loads the new snapshot with
 * `loadClassifierSnapshot` (views over one buffer, no parsing), swaps the one reference its
 * decision function reads, and drops the old classifier. The peak during a swap is two indexes,
 * ~19 bytes a domain, never two sets of strings; in-flight lookups finish on the old one, which
 * is collected once they are done.
 */
import type { SourceList } from './types.ts';
import { CompactClassifier, type IndexParts } from './domain-index.ts';
import { ListSetTable } from './list-sets.ts';
import { TAG_DOMAIN, TAG_IP, fmix32, hashHostKey, hashUrlKey, out } from './key-hash.ts';
import { buildSortedTable, type SortedTable } from './sorted-table.ts';
import { isIpv4Literal, normaliseDomainEntry, normaliseUrlEntry } from './normalise-host.ts';
import { compileExpression, isExpressionLine } from './expressions.ts';

export interface BuildOptions {
  /** Hash seed; random when absent. Fix it only for reproducible tests. */
  seed?: number;
  /** Fraction of home slots filled (default 0.85). */
  loadFactor?: number;
}

const MAX_LISTS = 0xffff;
const MAX_VALUE_BITS = 24;
const MAX_ATTEMPTS = 4;
const EXAMPLES = 3;

/** Two entries with different keys share a hash: rebuild with other seeds. */
export class KeyCollision extends Error {}

type Field = 'domains' | 'urls';

export interface Keyed {
  hi: Uint32Array;
  lo: Uint32Array;
  set: Uint32Array;
  count: number;
}

/** The canonical key of a list line, hashed into `out`; undefined for blanks, null if invalid. */
export type KeyOf = (line: string) => string | null | undefined;

const domainKey: KeyOf = (line) => normaliseDomainEntry(line);
const urlKey: KeyOf = (line) => {
  const entry = normaliseUrlEntry(line);
  return entry && entry.host + entry.path;
};

export const buildClassifier = (lists: readonly SourceList[], options: BuildOptions = {}): CompactClassifier => {
  if (lists.length > MAX_LISTS) throw new RangeError(`at most ${MAX_LISTS} lists, got ${lists.length}`);
  const base = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  for (let attempt = 0; ; attempt++) {
    try {
      return new CompactClassifier(buildParts(lists, base + attempt, options.loadFactor));
    } catch (err) {
      if (!(err instanceof KeyCollision) || attempt + 1 >= MAX_ATTEMPTS) throw err;
    }
  }
};

const buildParts = (lists: readonly SourceList[], seed: number, loadFactor: number | undefined): IndexParts => {
  const seedA = fmix32(seed ^ 0x2545f491);
  const seedB = fmix32(Math.imul(seed, 0x9e3779b1) ^ 0x6c8e9cf5);
  const warnings: string[] = [];
  const sets = new ListSetTable();
  let labelCounts = 0;
  const hashDomain = (key: string) => {
    const ip = isIpv4Literal(key);
    if (!ip) labelCounts |= 1 << Math.min(31, labelsOf(key));
    hashHostKey(key, seedA, seedB, ip ? TAG_IP : TAG_DOMAIN);
  };
  const hashUrl = (key: string) => hashUrlKey(key, seedA, seedB);
  const domains = collectKeys(lists, 'domains', domainKey, hashDomain, sets, warnings);
  const urls = collectKeys(lists, 'urls', urlKey, hashUrl, sets, warnings);
  const valueBits = Math.max(1, Math.ceil(Math.log2(Math.max(2, sets.count))));
  if (valueBits > MAX_VALUE_BITS) throw new RangeError(`too many distinct list combinations (${sets.count})`);
  const expressions = compileExpressions(lists, warnings);
  return {
    listNames: lists.map((l) => l.name),
    seedA,
    seedB,
    valueBits,
    domains: packTable(domains, valueBits, loadFactor),
    labelCounts,
    urls: packTable(urls, valueBits, loadFactor),
    ...sets.toArrays(),
    expressions,
    warnings,
  };
};

/** Hashed entries: parallel arrays, one record per list line that gave a key. */
interface Hashed {
  hi: Uint32Array;
  lo: Uint32Array;
  list: Uint16Array;
  entry: Uint32Array;
  count: number;
}

/**
 * Hashes every entry of one kind, sorts by hash and merges duplicates (the same key in several
 * lists, or twice in one) into one key pointing at its list-set.
 */
export const collectKeys = (
  lists: readonly SourceList[],
  field: Field,
  keyOf: KeyOf,
  hash: (key: string) => void,
  sets: ListSetTable,
  warnings: string[],
): Keyed => {
  const sorted = sortByHash(hashEntries(lists, field, keyOf, hash, warnings));
  const keyAt = (j: number) => keyOf(lists[sorted.list[j]!]![field][sorted.entry[j]!]!);
  const { hi, lo, list, count: n } = sorted;
  const dHi = new Uint32Array(n);
  const dLo = new Uint32Array(n);
  const dSet = new Uint32Array(n);
  const members: number[] = [];
  let d = 0;
  for (let j = 0; j < n;) {
    let end = j + 1;
    while (end < n && hi[end] === hi[j] && lo[end] === lo[j]) end++;
    let set: number;
    if (end - j === 1) {
      set = sets.one(list[j]!);
    } else {
      const key = keyAt(j);
      members.length = 0;
      for (let r = j; r < end; r++) {
        if (r > j && keyAt(r) !== key) throw new KeyCollision();
        members.push(list[r]!);
      }
      members.sort((x, y) => x - y);
      set = sets.intern(members.filter((m, i) => i === 0 || m !== members[i - 1]));
    }
    dHi[d] = hi[j]!;
    dLo[d] = lo[j]!;
    dSet[d] = set;
    d++;
    j = end;
  }
  return { hi: dHi.subarray(0, d), lo: dLo.subarray(0, d), set: dSet.subarray(0, d), count: d };
};

const hashEntries = (lists: readonly SourceList[], field: Field, keyOf: KeyOf, hash: (key: string) => void, warnings: string[]): Hashed => {
  const total = lists.reduce((sum, l) => sum + l[field].length, 0);
  const h: Hashed = {
    hi: new Uint32Array(total),
    lo: new Uint32Array(total),
    list: new Uint16Array(total),
    entry: new Uint32Array(total),
    count: 0,
  };
  lists.forEach((list, l) => {
    const invalid: string[] = [];
    const lines = list[field];
    for (let e = 0; e < lines.length; e++) {
      const key = keyOf(lines[e]!);
      if (key === undefined) continue;
      if (key === null) {
        invalid.push(lines[e]!);
        continue;
      }
      hash(key);
      const n = h.count++;
      h.hi[n] = out[0]!;
      h.lo[n] = out[1]!;
      h.list[n] = l;
      h.entry[n] = e;
    }
    if (invalid.length > 0) {
      const examples = invalid.slice(0, EXAMPLES).map((x) => JSON.stringify(x.slice(0, 80)));
      warnings.push(`${list.name} ${field}: skipped ${invalid.length} invalid entries (e.g. ${examples.join(', ')})`);
    }
  });
  return h;
};

/**
 * The records ordered by (hi, lo): one counting-sort pass on the top bits of hi into buckets of
 * a few records each (moving whole records, so every later pass reads sequentially), then an
 * insertion sort inside each bucket. 5 million keys sort in a fraction of a second.
 */
const sortByHash = (h: Hashed): Hashed => {
  const n = h.count;
  const bits = Math.min(22, Math.max(4, Math.ceil(Math.log2(n + 1)) - 2));
  const shift = 32 - bits;
  const starts = new Uint32Array((1 << bits) + 1);
  for (let i = 0; i < n; i++) starts[(h.hi[i]! >>> shift) + 1]!++;
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const next = starts.slice(0, -1);
  const s: Hashed = { hi: new Uint32Array(n), lo: new Uint32Array(n), list: new Uint16Array(n), entry: new Uint32Array(n), count: n };
  for (let i = 0; i < n; i++) {
    const to = next[h.hi[i]! >>> shift]!++;
    s.hi[to] = h.hi[i]!;
    s.lo[to] = h.lo[i]!;
    s.list[to] = h.list[i]!;
    s.entry[to] = h.entry[i]!;
  }
  for (let b = 0; b + 1 < starts.length; b++) {
    for (let i = starts[b]! + 1; i < starts[b + 1]!; i++) {
      const hi = s.hi[i]!;
      const lo = s.lo[i]!;
      const list = s.list[i]!;
      const entry = s.entry[i]!;
      let j = i - 1;
      for (; j >= starts[b]! && (s.hi[j]! > hi || (s.hi[j] === hi && s.lo[j]! > lo)); j--) {
        s.hi[j + 1] = s.hi[j]!;
        s.lo[j + 1] = s.lo[j]!;
        s.list[j + 1] = s.list[j]!;
        s.entry[j + 1] = s.entry[j]!;
      }
      s.hi[j + 1] = hi;
      s.lo[j + 1] = lo;
      s.list[j + 1] = list;
      s.entry[j + 1] = entry;
    }
  }
  return s;
};

/**
 * Moves each key's list-set into the low valueBits of lo and lays out the table. Two keys that
 * differ only in those bits would now be one: treated as a collision.
 */
export const packTable = (keys: Keyed, valueBits: number, loadFactor: number | undefined): SortedTable => {
  const mask = (1 << valueBits) - 1;
  const packed = new Uint32Array(keys.count);
  for (let j = 0; j < keys.count; j++) {
    const lo = keys.lo[j]!;
    if (j > 0 && keys.hi[j] === keys.hi[j - 1] && lo >>> valueBits === keys.lo[j - 1]! >>> valueBits) throw new KeyCollision();
    packed[j] = ((lo & ~mask) | keys.set[j]!) >>> 0;
  }
  return buildSortedTable(keys.hi, packed, keys.count, loadFactor);
};

const labelsOf = (host: string): number => {
  let labels = 1;
  for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) labels++;
  return labels;
};

const compileExpressions = (lists: readonly SourceList[], warnings: string[]): { list: number; source: string }[] => {
  const compiled: { list: number; source: string }[] = [];
  lists.forEach((list, l) => {
    for (const line of list.expressions) {
      if (!isExpressionLine(line)) continue;
      const source = line.trim();
      const re = compileExpression(source);
      if (re instanceof RegExp) compiled.push({ list: l, source });
      else warnings.push(`${list.name} expressions: skipped ${JSON.stringify(source.slice(0, 80))}: ${re.message}`);
    }
  });
  return compiled;
};
