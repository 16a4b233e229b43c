/**
 * Synthetic lists and lookup mixes for the benchmark, from a seeded generator so every run
 * measures the same data. Hosts are flat one-byte strings, as a loader reading files makes them.
 */
import type { SourceList } from '../src/core/index.ts';

/** mulberry32: small, fast and good enough to make test data. */
export const random = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const TLDS = ['com', 'com', 'com', 'net', 'org', 'de', 'fr', 'co.uk', 'ru', 'info', 'io', 'xyz', 'nl', 'it', 'com.br', 'pl'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-';

export const label = (next: () => number, min: number, max: number): string => {
  const len = min + Math.floor(next() * (max - min + 1));
  const codes: number[] = [];
  for (let i = 0; i < len; i++) {
    const edge = i === 0 || i === len - 1;
    codes.push(ALPHABET.charCodeAt(Math.floor(next() * (edge ? 36 : 37))));
  }
  return String.fromCharCode(...codes);
};

export const randomDomain = (next: () => number): string => {
  const tld = TLDS[Math.floor(next() * TLDS.length)]!;
  const base = `${label(next, 4, 14)}.${tld}`;
  return next() < 0.15 ? `${label(next, 2, 8)}.${base}` : base;
};

/** `count` domains spread over 20 lists, one in twenty also in a second list (as real lists overlap). */
export const syntheticLists = (count: number, seed = 5): SourceList[] => {
  const next = random(seed);
  const domains: string[][] = Array.from({ length: 20 }, () => []);
  for (let i = 0; i < count; i++) {
    const d = randomDomain(next);
    domains[i % 20]!.push(d);
    if (next() < 0.05) domains[(i + 7) % 20]!.push(d);
  }
  return domains.map((d, i) => ({ name: `synthetic/list${i}`, domains: d, urls: [], expressions: [] }));
};

const PREFIXES = ['www', 'cdn', 'api', 'm', 'static', 'img', 'login', 'mail'];

/**
 * A lookup mix: a third listed domains as listed, a third subdomains of listed domains, a third
 * unlisted hosts. Random picks from the whole list, so it measures uncached table access; real
 * traffic repeats popular hosts far more and runs faster.
 */
export const lookupMix = (listed: readonly string[], count: number, seed = 7): string[] => {
  const next = random(seed);
  const hosts: string[] = [];
  for (let i = 0; i < count; i++) {
    const pick = listed[Math.floor(next() * listed.length)] ?? 'example.com';
    const kind = i % 3;
    if (kind === 0) hosts.push(pick);
    else if (kind === 1)
      hosts.push(next() < 0.5 ? `${PREFIXES[Math.floor(next() * PREFIXES.length)]!}.${pick}` : `${label(next, 3, 10)}.${pick}`);
    else hosts.push(next() < 0.7 ? randomDomain(next) : `${PREFIXES[Math.floor(next() * PREFIXES.length)]!}.${randomDomain(next)}`);
  }
  // Flatten concatenations, as hosts parsed from packets or headers arrive.
  return hosts.map((h) => String.fromCharCode(...Array.from(h, (c) => c.charCodeAt(0))));
};
