/**
 * Test data for the DNS benchmark (bench/dns.ts), from a seeded generator so every run measures
 * the same names: a blocklist of distinct domains (no entry is a duplicate, a parent or a child
 * of another, so "the name or any parent is listed" means the same to every server), names the
 * list does not match, names it does, and dnsperf query files.
 *
 * Names look like the ones in web blocklists: mostly one registrable label on .com, then other
 * gTLDs and ccTLDs (some two-label, like co.uk), a quarter with one sub-domain label and a few
 * with two — about 15 characters on average.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** sfc32: 32-bit integer maths only, so the same seed gives the same names everywhere. */
export const seededRandom = (seed: number): (() => number) => {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
};

/** Picks from weighted choices with one random draw. */
const weighted = <T>(table: readonly (readonly [T, number])[]): ((next: () => number) => T) => {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let acc = 0;
  const bounds = table.map(([v, w]) => {
    acc += w / total;
    return [v, acc] as const;
  });
  return (next) => {
    const x = next();
    for (const [v, bound] of bounds) if (x < bound) return v;
    return bounds[bounds.length - 1]![0];
  };
};

const pickTld = weighted<string>([
  ['com', 46],
  ['net', 6.5],
  ['org', 4.5],
  ['ru', 3.5],
  ['de', 3],
  ['info', 2],
  ['co.uk', 1.8],
  ['xyz', 1.5],
  ['top', 1.5],
  ['nl', 1.5],
  ['com.br', 1.5],
  ['fr', 1.4],
  ['it', 1.3],
  ['pl', 1.3],
  ['cn', 1.2],
  ['jp', 1.1],
  ['in', 1],
  ['io', 0.8],
  ['com.au', 0.8],
  ['es', 0.8],
  ['online', 0.8],
  ['ca', 0.7],
  ['site', 0.7],
  ['club', 0.6],
  ['biz', 0.6],
  ['us', 0.6],
  ['co', 0.6],
  ['ch', 0.5],
  ['be', 0.5],
  ['eu', 0.5],
  ['me', 0.5],
  ['tv', 0.4],
  ['ro', 0.4],
  ['se', 0.4],
  ['ua', 0.4],
  ['com.tr', 0.3],
  ['co.za', 0.2],
  ['live', 0.3],
  ['shop', 0.3],
  ['mx', 0.3],
  ['at', 0.3],
]);

const SYLLABLES =
  'ba be bi bo ca ce co da de di do fa fe fi ga go ha he hi ho ja ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve vi wa xo ya za zo an en in on ar er or st ck x z k sh ch th tr pr gr bl cl fl pl'.split(
    ' ',
  );
const WORDS =
  'sex porn casino bet free live cam hot click ad track stat media cdn web net online game play shop win movie tube vpn proxy hide best top my go get pro x 24 365 tv video pic club world land'.split(
    ' ',
  );
const SUBDOMAINS =
  'www www www m ads ad cdn img static api track stats mail go pixel media video en de secure login app data a b c s1 s2'.split(' ');

const pick = (next: () => number, from: readonly string[]): string => from[Math.floor(next() * from.length)]!;

const word = (next: () => number): string => {
  if (next() < 0.35) return pick(next, WORDS);
  let s = '';
  for (let i = 2 + Math.floor(next() * 3); i > 0; i--) s += pick(next, SYLLABLES);
  return s;
};

const registrableLabel = (next: () => number): string => {
  const words = 1 + Math.floor(next() * next() * 3.2);
  let label = '';
  for (let i = 0; i < words; i++) label += (i > 0 && next() < 0.3 ? '-' : '') + word(next);
  if (next() < 0.12) label += String(Math.floor(next() * 1000));
  if (label.length < 3) label += `${pick(next, SYLLABLES)}o`;
  return label.length > 40 ? label.slice(0, 40).replace(/-+$/, '') : label;
};

const subLabel = (next: () => number): string => (next() < 0.7 ? pick(next, SUBDOMAINS) : word(next));

/** Whether `host` or any parent of it is in `set`. */
export const listedBy = (set: ReadonlySet<string>, host: string): boolean => {
  for (let h = host; ;) {
    if (set.has(h)) return true;
    const dot = h.indexOf('.');
    if (dot < 0) return false;
    h = h.slice(dot + 1);
  }
};

export interface BenchNames {
  /** The blocklist, in generation order. */
  domains: string[];
  /** Names no entry matches (each resolves through the upstream). */
  allowed: string[];
  /** Names the list matches: listed entries and sub-domains of them, half each. */
  blocked: string[];
}

/**
 * `count` listed domains, plus `testNames` allowed and `testNames` blocked names, all from `seed`.
 * A million domains take about two seconds.
 */
export const generateNames = (count: number, testNames: number, seed = 20240601): BenchNames => {
  const next = seededRandom(seed);
  const listed = new Set<string>();
  /** Every proper parent of a listed entry: an entry may not be one. */
  const parents = new Set<string>();
  const domains: string[] = [];
  while (domains.length < count) {
    let d = `${registrableLabel(next)}.${pickTld(next)}`;
    const r = next();
    if (r < 0.25) d = `${subLabel(next)}.${d}`;
    else if (r < 0.3) d = `${subLabel(next)}.${subLabel(next)}.${d}`;
    if (listedBy(listed, d) || parents.has(d)) continue;
    listed.add(d);
    for (let dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) {
      const parent = d.slice(dot + 1);
      if (parent.includes('.')) parents.add(parent);
    }
    domains.push(d);
  }
  parents.clear();

  const tests = seededRandom(seed ^ 0x5bd1e995);
  const allowed: string[] = [];
  const seen = new Set<string>();
  while (allowed.length < testNames) {
    let h = `${registrableLabel(tests)}.${pickTld(tests)}`;
    if (tests() < 0.6) h = `${subLabel(tests)}.${h}`;
    if (seen.has(h) || listedBy(listed, h)) continue;
    seen.add(h);
    allowed.push(h);
  }
  const blocked: string[] = [];
  const blockedSeen = new Set<string>();
  while (blocked.length < testNames) {
    const d = domains[Math.floor(tests() * domains.length)]!;
    const h = blocked.length % 2 === 0 ? d : `${subLabel(tests)}.${d}`;
    if (blockedSeen.has(h)) continue;
    blockedSeen.add(h);
    blocked.push(h);
  }
  return { domains, allowed, blocked };
};

/** What a query file holds, in shares of its lines. */
export interface QueryMix {
  /** Names from `allowed`, repeated: cache hits once warm. */
  allowed: number;
  /** Names from `blocked`, repeated. */
  blocked: number;
  /** Names seen once in the file (and never in another file): cache misses the upstream answers. */
  unique: number;
}

export const DEFAULT_MIX: QueryMix = { allowed: 0.85, blocked: 0.1, unique: 0.05 };

/**
 * Writes a dnsperf query file of `lines` A questions drawn from `names` by `mix` (shuffled by
 * `seed`). Unique names are `<tag>-<n>.<an allowed name>`: `tag` keeps them apart between files,
 * so no server has seen them before. Nothing lists a name under an allowed one, so they are allowed.
 */
export const writeQueryFile = async (
  file: string,
  names: Pick<BenchNames, 'allowed' | 'blocked'>,
  options: { lines: number; mix: QueryMix; tag: string; seed: number },
): Promise<void> => {
  const next = seededRandom(options.seed);
  const { allowed, blocked } = names;
  const blockedBelow = options.mix.allowed + options.mix.blocked;
  const out = createWriteStream(file);
  let chunk = '';
  let unique = 0;
  for (let i = 0; i < options.lines; i++) {
    const r = next();
    const name =
      r < options.mix.allowed
        ? allowed[Math.floor(next() * allowed.length)]!
        : r < blockedBelow
          ? blocked[Math.floor(next() * blocked.length)]!
          : `${options.tag}-${(unique++).toString(36)}.${allowed[Math.floor(next() * allowed.length)]!}`;
    chunk += `${name} A\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
};

/** Writes every name once, shuffled by `seed`: the warm-up pass that fills the caches. */
export const writeWarmupFile = async (file: string, hosts: readonly string[], seed: number): Promise<void> => {
  const next = seededRandom(seed);
  const order = [...hosts];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const out = createWriteStream(file);
  out.end(order.map((h) => `${h} A\n`).join(''));
  await once(out, 'finish');
};
