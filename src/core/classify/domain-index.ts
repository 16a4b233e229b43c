/**
 * The compact classifier: domain/IP keys and URL keys in two sorted tables (sorted-table.ts), a
 * deduplicated table of list-sets the keys point into, and the few expressions.
 *
 * Memory is the tables and nothing per entry: ~9.4 bytes a domain at 85 % load, no strings. A
 * domain entry's 64-bit key is hashed, never stored, so a lookup can be fooled only by a hash
 * collision. With valueBits of the 64 taken by the value, a probe of an unlisted name compares
 * about one stored key on 64 − valueBits bits (≥ 40: list-set tables stay far below 2^24):
 * a false match about once in 10^12 probes, a few a host — years of a large trust's traffic, and
 * then only a wrong category for one host. Collisions between two entries are ruled out at
 * build time (buildClassifier rebuilds with fresh seeds).
 */
import type { Classifier, ListMatch, MatchKind } from './types.ts';
import { TAG_IP, TAG_URL, hashHostKey, out, MAX_HI, stepA, stepB, fmix32 } from './key-hash.ts';
import { homeScale, probe, type SortedTable } from './sorted-table.ts';
import { canonicalPath, isIpv4Literal, isPathBoundary, splitUrl, stripWww } from './normalise-host.ts';
import { compileExpression } from './expressions.ts';
import { encodeSnapshot } from './snapshot-writer.ts';

/** Everything a CompactClassifier is made of; also exactly what a snapshot holds. */
export interface IndexParts {
  listNames: readonly string[];
  seedA: number;
  seedB: number;
  /** Low bits of each key's lo word that hold its list-set index. */
  valueBits: number;
  /** Domain and IPv4 entries (IP keys are hashed with another tag, so they never match as suffixes). */
  domains: SortedTable;
  /** Bit n set when some domain entry has n labels (bit 31: 31 or more); lookups skip the rest. */
  labelCounts: number;
  /** URL entries, keyed by "host/path" with the host's "www." dropped. */
  urls: SortedTable;
  /** List-set s holds setMembers[setOffsets[s] .. setOffsets[s + 1]), ascending list indices. */
  setOffsets: Uint32Array;
  setMembers: Uint16Array;
  /** Expressions that compiled, in list order. */
  expressions: readonly { list: number; source: string }[];
  warnings: readonly string[];
}

/** Above any domain's label count (≤ 127), so a URL entry always beats a domain entry. */
export const URL_SPECIFICITY_BASE = 1000;
export const IP_SPECIFICITY = 4;
export const EXPRESSION_SPECIFICITY = 0;

const NO_MATCH: readonly ListMatch[] = Object.freeze([]);

/** Per-lookup working space, shared (lookups are synchronous); grows only for absurd hosts. */
const scratch = {
  hi: new Uint32Array(128),
  lo: new Int32Array(128),
  labels: new Uint32Array(128),
  slot: new Uint32Array(128),
  first: new Uint32Array(128),
};
const growScratch = (): typeof scratch => {
  for (const key of ['hi', 'labels', 'slot', 'first'] as const) {
    const grown = new Uint32Array(scratch[key].length * 2);
    grown.set(scratch[key]);
    scratch[key] = grown;
  }
  const lo = new Int32Array(scratch.lo.length * 2);
  lo.set(scratch.lo);
  scratch.lo = lo;
  return scratch;
};

export class CompactClassifier implements Classifier {
  readonly listNames: readonly string[];
  readonly domainCount: number;
  readonly warnings: readonly string[];
  private readonly parts: IndexParts;
  private readonly domainKeys: Uint32Array;
  private readonly domainScale: number;
  private readonly urlScale: number;
  private readonly seedA: number;
  private readonly seedB: number;
  private readonly valueBits: number;
  private readonly valueMask: number;
  private readonly labelCounts: number;
  private readonly compiled: readonly { list: number; re: RegExp }[];
  /** Frozen answers, made on first use: [list-set][labels] for domains, [list-set] for IPs. */
  private readonly domainAnswers: (readonly ListMatch[])[][] = [];
  private readonly ipAnswers: (readonly ListMatch[])[] = [];

  constructor(parts: IndexParts) {
    this.parts = parts;
    this.listNames = Object.freeze([...parts.listNames]);
    this.domainCount = parts.domains.count;
    this.warnings = Object.freeze([...parts.warnings]);
    this.domainKeys = parts.domains.keys;
    this.domainScale = homeScale(parts.domains.homes);
    this.urlScale = homeScale(parts.urls.homes);
    this.seedA = parts.seedA;
    this.seedB = parts.seedB;
    this.valueBits = parts.valueBits;
    this.valueMask = (1 << parts.valueBits) - 1;
    this.labelCounts = parts.labelCounts;
    const compiled: { list: number; re: RegExp }[] = [];
    for (const e of parts.expressions) {
      const re = compileExpression(e.source);
      if (re instanceof RegExp) compiled.push({ list: e.list, re });
    }
    this.compiled = compiled;
  }

  /**
   * One pass from the right end of the host computes the hash of every parent domain (the
   * running state at each dot) and loads the first slot of each probe as soon as its hash is
   * known, without examining it yet: the CPU fetches those cache lines in parallel while the
   * pass goes on — with millions of domains each probe is a cache (and TLB) miss, and this
   * overlaps them. Probes are then examined from the longest suffix down, so the first hit is
   * the most specific.
   */
  matchHost(host: string): readonly ListMatch[] {
    const len = host.length;
    if (len === 0) return NO_MATCH;
    const last = host.charCodeAt(len - 1);
    if (last >= 48 && last <= 57 && isIpv4Literal(host)) return this.matchIp(host);
    const keys = this.domainKeys;
    const scale = this.domainScale;
    const present = this.labelCounts;
    let { hi: his, lo: los, labels: labelsAt, slot, first } = scratch;
    let probes = 0;
    let a = this.seedA;
    let b = this.seedB;
    let labels = 1;
    for (let i = len - 1; ; i--) {
      const c = i < 0 ? 46 : host.charCodeAt(i);
      if (c === 46) {
        // Only where the index holds entries of this many labels (rarely a bare TLD, say).
        if ((present >>> (labels < 31 ? labels : 31)) & 1) {
          if (probes === his.length) ({ hi: his, lo: los, labels: labelsAt, slot, first } = growScratch());
          // key-hash.ts finish(a, b, len - 1 - i, TAG_DOMAIN), inlined; lo is only worked out
          // when a slot's hi matches, from x and the b lane.
          let x = a ^ (len - 1 - i);
          x ^= x >>> 16;
          x = Math.imul(x, 0x85ebca6b);
          x ^= x >>> 13;
          x = Math.imul(x, 0xc2b2ae35);
          x ^= x >>> 16;
          const hi = x >>> 0 > MAX_HI ? MAX_HI : x >>> 0;
          const s = ((hi * scale) | 0) << 1;
          his[probes] = hi;
          los[probes] = b ^ x;
          labelsAt[probes] = labels;
          slot[probes] = s;
          first[probes] = keys[s]!; // the load starts now; it is examined below
          probes++;
        }
        if (i < 0) break;
        labels++;
      }
      const f = c >= 65 && c <= 90 ? c | 32 : c;
      const m = Math.imul(a ^ f, 0x9e3779b1);
      a = (m << 15) | (m >>> 17);
      b = (Math.imul(b, 0x85ebca77) + a) | 0;
    }
    const vb = this.valueBits;
    for (let p = probes - 1; p >= 0; p--) {
      // sorted-table.ts probe, inlined
      const hi = his[p]!;
      let k = first[p]!;
      let s = slot[p]!;
      for (;;) {
        if (k === hi) {
          const v = keys[s + 1]!;
          if ((v ^ fmix32(los[p]!)) >>> vb === 0) {
            const set = v & this.valueMask;
            const bySet = (this.domainAnswers[set] ??= []);
            const n = labelsAt[p]!;
            return (bySet[n] ??= this.answer(set, 'domain', n));
          }
        } else if (k > hi) {
          break;
        }
        s += 2;
        k = keys[s]!;
      }
    }
    return NO_MATCH;
  }

  /**
   * URL entries for the host and path (the longest entry path ending at a segment boundary),
   * else the host's matches, else the expressions. A URL without a usable host matches nothing.
   */
  matchUrl(url: string): readonly ListMatch[] {
    const { host, path } = splitUrl(url);
    if (host === null) return NO_MATCH;
    const canonical = canonicalPath(path);
    const byUrl = this.matchUrlEntries(stripWww(host), canonical);
    if (byUrl.length > 0) return byUrl;
    const byHost = this.matchHost(host);
    if (byHost.length > 0) return byHost;
    return this.matchExpressions(host + canonical);
  }

  toSnapshot(): Uint8Array {
    return encodeSnapshot(this.parts);
  }

  private matchIp(host: string): readonly ListMatch[] {
    hashHostKey(host, this.seedA, this.seedB, TAG_IP);
    const set = probe(this.domainKeys, this.domainScale, this.valueBits, out[0]!, out[1]!);
    if (set < 0) return NO_MATCH;
    return (this.ipAnswers[set] ??= this.answer(set, 'ip', IP_SPECIFICITY));
  }

  private matchUrlEntries(host: string, path: string): readonly ListMatch[] {
    if (this.parts.urls.count === 0) return NO_MATCH;
    const key = host + path;
    const keys = this.parts.urls.keys;
    let a = this.seedA;
    let b = this.seedB;
    let best = -1;
    let bestPath = 0;
    for (let i = 0; i <= key.length; i++) {
      const c = i < key.length ? key.charCodeAt(i) : 47;
      if (i >= host.length && (i === host.length || i === key.length || isPathBoundary(c))) {
        const x = fmix32(a ^ i);
        let hi = x >>> 0;
        if (hi > MAX_HI) hi = MAX_HI;
        const set = probe(keys, this.urlScale, this.valueBits, hi, fmix32(b ^ x ^ TAG_URL) >>> 0);
        if (set >= 0) {
          best = set;
          bestPath = i - host.length;
        }
      }
      a = stepA(a, c);
      b = stepB(b, a);
    }
    return best < 0 ? NO_MATCH : this.answer(best, 'url', URL_SPECIFICITY_BASE + bestPath);
  }

  private matchExpressions(subject: string): readonly ListMatch[] {
    let found: ListMatch[] | null = null;
    for (const { list, re } of this.compiled) {
      if (found?.at(-1)?.list === list || !re.test(subject)) continue;
      (found ??= []).push(Object.freeze({ list, kind: 'expression', specificity: EXPRESSION_SPECIFICITY }));
    }
    return found === null ? NO_MATCH : Object.freeze(found);
  }

  private answer(set: number, kind: MatchKind, specificity: number): readonly ListMatch[] {
    const { setOffsets, setMembers } = this.parts;
    const matches: ListMatch[] = [];
    for (let j = setOffsets[set]!; j < setOffsets[set + 1]!; j++) {
      matches.push(Object.freeze({ list: setMembers[j]!, kind, specificity }));
    }
    return Object.freeze(matches);
  }
}
