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
import { compileExpression, expressionSubject } from './expressions.ts';
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

/**
 * Per-lookup working space, shared (lookups are synchronous): the lane state where each suffix
 * starts (one entry per dot), then one entry per probe. Grown only for absurdly long hosts.
 */
const scratch = {
  laneA: new Int32Array(256),
  laneB: new Int32Array(256),
  dotAt: new Int32Array(256),
  hi: new Uint32Array(256),
  lo: new Int32Array(256),
  labels: new Uint32Array(256),
  slot: new Int32Array(256),
  first: new Uint32Array(256),
};
const growScratch = (size: number): void => {
  for (const key of ['laneA', 'laneB', 'dotAt', 'lo', 'slot'] as const) scratch[key] = new Int32Array(size);
  for (const key of ['hi', 'labels', 'first'] as const) scratch[key] = new Uint32Array(size);
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
    this.domainKeys = parts.domains.keys;
    this.domainScale = homeScale(parts.domains.homes);
    this.urlScale = homeScale(parts.urls.homes);
    this.seedA = parts.seedA;
    this.seedB = parts.seedB;
    this.valueBits = parts.valueBits;
    this.valueMask = (1 << parts.valueBits) - 1;
    this.labelCounts = parts.labelCounts;
    const compiled: { list: number; re: RegExp }[] = [];
    const refused: string[] = [];
    for (const e of parts.expressions) {
      const re = compileExpression(e.source);
      if (re instanceof RegExp) compiled.push({ list: e.list, re });
      // Only from a snapshot written before a check was added: buildClassifier keeps none.
      else refused.push(`${parts.listNames[e.list]} expressions: skipped ${JSON.stringify(e.source.slice(0, 80))}: ${re.message}`);
    }
    this.compiled = compiled;
    this.warnings = Object.freeze([...parts.warnings, ...refused]);
  }

  /**
   * Three short passes, none of which allocates or builds a substring:
   *
   * 1. One pass from the right end of the host runs the key hash (key-hash.ts) over its
   *    characters, folding ASCII case, and keeps the lane state at each dot: the state there is
   *    the hash of the parent domain to its right. The loop has no data-dependent branch — the
   *    state is written every character and kept by advancing `dots` only on a dot — because a
   *    dot or capital letter at an unpredictable place costs a mispredicted branch each.
   * 2. For each suffix whose label count some entry has, its key and home slot; the first slot of
   *    every probe is loaded back to back, so the cache (and TLB) misses — with millions of
   *    domains every probe is one — overlap instead of queueing one after another.
   * 3. The probes are examined from the longest suffix down; the first hit is the most specific.
   */
  matchHost(host: string): readonly ListMatch[] {
    const len = host.length;
    if (len === 0) return NO_MATCH;
    const last = host.charCodeAt(len - 1);
    if (last >= 48 && last <= 57 && isIpv4Literal(host)) return this.matchIp(host);
    if (len >= scratch.dotAt.length) growScratch(len + 1);
    const { laneA, laneB, dotAt, hi: his, lo: los, labels: labelsAt, slot, first } = scratch;

    let a = this.seedA;
    let b = this.seedB;
    let dots = 0;
    for (let i = len - 1; i >= 0; i--) {
      const c = host.charCodeAt(i);
      laneA[dots] = a;
      laneB[dots] = b;
      dotAt[dots] = i;
      dots += ((c ^ 46) - 1) >>> 31; // 1 for '.', else 0
      // key-hash.ts foldCase, stepA and stepB, inlined; folding sets bit 5 of A–Z only
      const f = c | ((((c - 65) ^ (c - 91)) >>> 31) << 5);
      const m = Math.imul(a ^ f, 0x9e3779b1);
      a = (m << 15) | (m >>> 17);
      b = (Math.imul(b, 0x85ebca77) + a) | 0;
    }
    laneA[dots] = a;
    laneB[dots] = b;
    dotAt[dots] = -1;

    const keys = this.domainKeys;
    const scale = this.domainScale;
    const present = this.labelCounts;
    let probes = 0;
    for (let d = dots; d >= 0; d--) {
      const labels = d + 1;
      if (((present >>> (labels < 31 ? labels : 31)) & 1) === 0) continue;
      // key-hash.ts finish(a, b, length, TAG_DOMAIN), inlined; lo is only worked out when a
      // slot's hi matches, from x and the b lane.
      let x = laneA[d]! ^ (len - 1 - dotAt[d]!);
      x ^= x >>> 16;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      x ^= x >>> 16;
      const hi = x >>> 0 > MAX_HI ? MAX_HI : x >>> 0;
      const s = ((hi * scale) | 0) << 1;
      his[probes] = hi;
      los[probes] = laneB[d]! ^ x;
      labelsAt[probes] = labels;
      slot[probes] = s;
      first[probes] = keys[s]!; // the load starts now; it is examined below
      probes++;
    }

    const vb = this.valueBits;
    for (let p = 0; p < probes; p++) {
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
    return this.matchExpressions(expressionSubject(host + canonical));
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
