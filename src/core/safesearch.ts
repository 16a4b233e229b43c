/**
 * SafeSearch by DNS (data/safesearch.json, documented in docs/safesearch.md). Search engines
 * publish a "safe" address to point their search host names at: the DNS filter answers a
 * question for www.google.co.uk with a CNAME to forcesafesearch.google.com (and that name's
 * A/AAAA records), and Google then serves only SafeSearch results whatever the browser asks for.
 * Which engines are rewritten depends on the asker's policy: `safeSearch` (on/off) for the search
 * engines, `youtube` (strict/moderate/off) for YouTube.
 *
 * Hosts match exactly (a CNAME for google.com must not catch mail.google.com), through one Map,
 * so `rewriteFor` costs a hash lookup. A target is never itself a host to rewrite.
 */
import { invalid } from './errors.ts';
import { parseIpAddress, type YoutubeMode } from './policy/index.ts';

/** The policy setting that switches an engine's rewrite on: SafeSearch (on/off) or the YouTube mode. */
export const SAFE_SEARCH_CONTROLS = ['safeSearch', 'youtube'] as const;
export type SafeSearchControl = (typeof SAFE_SEARCH_CONTROLS)[number];

interface EngineCommon {
  /** Short stable id, lower-case: "google". */
  readonly id: string;
  /** What people call it: "Google Search". Named in docs/safesearch.md. */
  readonly name: string;
  /** Lower-case host names without a trailing dot, matched exactly. */
  readonly hosts: readonly string[];
  /** Where the engine documents its DNS method. */
  readonly source?: string;
  readonly note?: string;
}

/** An engine and where its hosts point: `on` for SafeSearch engines, `strict`/`moderate` for YouTube. */
export type SafeSearchEngine =
  | (EngineCommon & { readonly control: 'safeSearch'; readonly targets: { readonly on: string } })
  | (EngineCommon & { readonly control: 'youtube'; readonly targets: { readonly strict: string; readonly moderate: string } });

/** Addresses a target had when the data file was written: only for when it cannot be resolved. They may change. */
export interface SafeSearchFallback {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
}

/** An engine whose safe search cannot be forced by DNS: only the proxy (or blocking it) can. */
export interface UnenforceableEngine {
  readonly id: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly reason: string;
  /** A safe address the engine once documented but Haven does not rely on. */
  readonly knownTarget?: string;
}

export interface SafeSearchData {
  readonly engines: readonly SafeSearchEngine[];
  readonly fallbackAddresses: Readonly<Record<string, SafeSearchFallback>>;
  readonly unenforceable: readonly UnenforceableEngine[];
}

/** The part of a decision that says what to rewrite (a policy `Decision` fits). */
export interface SafeSearchSettings {
  readonly safeSearch: boolean;
  readonly youtube: YoutubeMode;
}

/** Answer with a CNAME to `target` (then the target's own A/AAAA). */
export interface SafeSearchRewrite {
  /** The engine's id: "google". */
  readonly engine: string;
  readonly target: string;
}

export interface SafeSearch {
  /** The rewrite for a queried name under these settings, or null. Case and a trailing dot do not matter. */
  rewriteFor(host: string, settings: SafeSearchSettings): SafeSearchRewrite | null;
  /** Whether the name is a rewrite target (forcesafesearch.google.com …): such names are resolved as they are. */
  isSafeSearchTarget(host: string): boolean;
  /** The may-change fallback addresses of a target, if the data file has them. */
  fallbackFor(target: string): SafeSearchFallback | undefined;
  /** The engine a name belongs to when DNS cannot enforce its safe search (for the proxy and reports), or null. */
  unenforceableFor(host: string): UnenforceableEngine | null;
  readonly data: SafeSearchData;
}

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ENGINE_ID = /^[a-z][a-z0-9-]*$/;
const HOST_HINT = 'must be a lower-case host name without a trailing dot, such as "www.google.co.uk"';

const isIPv4 = (s: string): boolean => /^[0-9.]+$/.test(s) && parseIpAddress(s) !== null;
const isIPv6 = (s: string): boolean => /^[0-9a-f:]+$/i.test(s) && s.includes(':') && parseIpAddress(s) !== null;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Lower-case, without a trailing dot: the form the Maps hold. Cheap when the name already is. */
const hostKey = (host: string): string => {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  return /[A-Z]/.test(h) ? h.toLowerCase() : h;
};

type Problem = { path: string; message: string };

const summarise = (what: string, problems: readonly Problem[]): string => {
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${what} is not valid: ${shown.join('; ')}${more}`;
};

const checkKeys = (raw: Record<string, unknown>, at: string, allowed: readonly string[], fail: (path: string, m: string) => void) => {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) fail(at ? `${at}.${key}` : key, 'unknown field');
};

/** A list of host names; reports each bad one and returns the good ones. */
const hostList = (raw: unknown, at: string, fail: (path: string, m: string) => void): string[] | null => {
  if (!Array.isArray(raw) || raw.length === 0) {
    fail(at, 'must be a non-empty list of host names');
    return null;
  }
  const hosts: string[] = [];
  raw.forEach((h: unknown, j) => {
    if (typeof h !== 'string' || !HOST.test(h)) fail(`${at}[${j}]`, `${JSON.stringify(h)} ${HOST_HINT}`);
    else hosts.push(h);
  });
  return hosts;
};

const TARGET_KEYS: Record<SafeSearchControl, readonly string[]> = { safeSearch: ['on'], youtube: ['strict', 'moderate'] };

/** Validates the parsed JSON of data/safesearch.json. Throws VALIDATION_FAILED naming every problem. */
export const parseSafeSearchData = (json: unknown): SafeSearchData => {
  const problems: Problem[] = [];
  const fail = (path: string, message: string) => void problems.push({ path, message });
  if (!isRecord(json) || !Array.isArray(json.engines)) throw invalid('The SafeSearch data must be an object with an "engines" array');
  checkKeys(json, '', ['description', 'engines', 'fallbackAddresses', 'unenforceable'], fail);

  const engines: SafeSearchEngine[] = [];
  const ids = new Set<string>();
  /** host → where it was first listed, across engines and unenforceable entries. */
  const owner = new Map<string, string>();
  const claim = (host: string, at: string) => {
    const first = owner.get(host);
    if (first !== undefined) fail(at, `"${host}" is already listed at ${first}`);
    else owner.set(host, at);
  };
  const targets = new Map<string, string>();

  const common = (raw: Record<string, unknown>, at: string): { id: string; name: string; hosts: string[] } | null => {
    const { id, name } = raw;
    let ok = true;
    if (typeof id !== 'string' || !ENGINE_ID.test(id)) {
      fail(`${at}.id`, 'must be a short lower-case id such as "google"');
      ok = false;
    } else if (ids.has(id)) {
      fail(`${at}.id`, `"${id}" is used twice`);
      ok = false;
    }
    if (!isText(name)) {
      fail(`${at}.name`, 'must be the engine\'s name, such as "Google Search"');
      ok = false;
    }
    const hosts = hostList(raw.hosts, `${at}.hosts`, fail);
    if (!ok || hosts === null) return null;
    ids.add(id as string);
    hosts.forEach((h, j) => claim(h, `${at}.hosts[${j}]`));
    return { id: id as string, name: name as string, hosts };
  };

  json.engines.forEach((raw: unknown, i) => {
    const at = `engines[${i}]`;
    if (!isRecord(raw)) return fail(at, 'must be an object');
    checkKeys(raw, at, ['id', 'name', 'control', 'targets', 'hosts', 'source', 'note'], fail);
    const base = common(raw, at);
    const { control, targets: rawTargets, source, note } = raw;
    if (typeof control !== 'string' || !(SAFE_SEARCH_CONTROLS as readonly string[]).includes(control))
      return fail(`${at}.control`, `must be one of ${SAFE_SEARCH_CONTROLS.map((c) => `"${c}"`).join(', ')}`);
    const keys = TARGET_KEYS[control as SafeSearchControl];
    const expected = keys.map((k) => `"${k}"`).join(' and ');
    if (!isRecord(rawTargets)) return fail(`${at}.targets`, `must be an object with ${expected}`);
    let targetsOk = true;
    for (const key of Object.keys(rawTargets)) {
      if (!keys.includes(key)) {
        fail(`${at}.targets.${key}`, `not a target for control "${control}" (expected ${expected})`);
        targetsOk = false;
      }
    }
    for (const key of keys) {
      const t = rawTargets[key];
      if (typeof t !== 'string' || !HOST.test(t)) {
        fail(`${at}.targets.${key}`, t === undefined ? 'is missing' : `${JSON.stringify(t)} ${HOST_HINT}`);
        targetsOk = false;
      }
    }
    if (source !== undefined && !(typeof source === 'string' && /^https:\/\/\S+$/.test(source)))
      fail(`${at}.source`, 'must be an https:// address');
    if (note !== undefined && typeof note !== 'string') fail(`${at}.note`, 'must be text');
    if (!base || !targetsOk) return;
    const t = rawTargets as Record<string, string>;
    for (const key of keys) targets.set(t[key]!, `${at}.targets.${key}`);
    const extra = { ...(typeof source === 'string' ? { source } : {}), ...(typeof note === 'string' ? { note } : {}) };
    engines.push(
      control === 'youtube'
        ? { ...base, control, targets: { strict: t.strict!, moderate: t.moderate! }, ...extra }
        : { ...base, control: 'safeSearch', targets: { on: t.on! }, ...extra },
    );
  });
  if (json.engines.length === 0) fail('engines', 'must list at least one engine');

  const unenforceable: UnenforceableEngine[] = [];
  if (json.unenforceable !== undefined && !Array.isArray(json.unenforceable)) fail('unenforceable', 'must be a list');
  const rawUnenforceable: unknown[] = Array.isArray(json.unenforceable) ? json.unenforceable : [];
  rawUnenforceable.forEach((raw: unknown, i) => {
    const at = `unenforceable[${i}]`;
    if (!isRecord(raw)) return fail(at, 'must be an object');
    checkKeys(raw, at, ['id', 'name', 'hosts', 'reason', 'knownTarget'], fail);
    const { reason, knownTarget } = raw;
    if (!isText(reason)) fail(`${at}.reason`, 'must say why DNS cannot enforce it and what to do instead');
    if (knownTarget !== undefined && (typeof knownTarget !== 'string' || !HOST.test(knownTarget)))
      fail(`${at}.knownTarget`, `${JSON.stringify(knownTarget)} ${HOST_HINT}`);
    const base = common(raw, at);
    if (!base || !isText(reason)) return;
    unenforceable.push({ ...base, reason, ...(typeof knownTarget === 'string' ? { knownTarget } : {}) });
  });

  // A target in a host list would rewrite to itself (or to another engine): a CNAME loop.
  for (const [target, at] of targets) {
    const listed = owner.get(target);
    if (listed !== undefined) fail(listed, `"${target}" is a rewrite target (${at}) and cannot also be a host to rewrite`);
  }

  const fallbackAddresses: Record<string, SafeSearchFallback> = {};
  if (json.fallbackAddresses !== undefined && !isRecord(json.fallbackAddresses))
    fail('fallbackAddresses', 'must be an object of target → { "a": [...], "aaaa": [...] }');
  const rawFallbacks = isRecord(json.fallbackAddresses) ? json.fallbackAddresses : {};
  for (const [target, raw] of Object.entries(rawFallbacks)) {
    const at = `fallbackAddresses.${target}`;
    if (!targets.has(target)) {
      fail(at, `"${target}" is not the target of any engine`);
      continue;
    }
    if (!isRecord(raw)) {
      fail(at, 'must be an object with "a" and "aaaa" lists');
      continue;
    }
    checkKeys(raw, at, ['a', 'aaaa'], fail);
    const list = (key: 'a' | 'aaaa', valid: (s: string) => boolean, kind: string): string[] => {
      const v = raw[key] ?? [];
      if (!Array.isArray(v) || !v.every((x: unknown) => typeof x === 'string' && valid(x))) {
        fail(`${at}.${key}`, `must be a list of ${kind} addresses`);
        return [];
      }
      return v as string[];
    };
    fallbackAddresses[target] = { a: list('a', isIPv4, 'IPv4'), aaaa: list('aaaa', isIPv6, 'IPv6') };
  }

  if (problems.length) throw invalid(summarise('The SafeSearch data', problems), problems);
  return { engines, fallbackAddresses, unenforceable };
};

interface HostRewrites {
  on: SafeSearchRewrite | null;
  strict: SafeSearchRewrite | null;
  moderate: SafeSearchRewrite | null;
}

/** The lookup the DNS filter and the proxy ask. One Map entry per host; results are shared frozen objects. */
export const createSafeSearch = (data: SafeSearchData): SafeSearch => {
  const byHost = new Map<string, HostRewrites>();
  const targets = new Set<string>();
  for (const engine of data.engines) {
    const rewrite = (target: string): SafeSearchRewrite => Object.freeze({ engine: engine.id, target });
    let entry: HostRewrites;
    if (engine.control === 'youtube') {
      targets.add(engine.targets.strict).add(engine.targets.moderate);
      entry = Object.freeze({ on: null, strict: rewrite(engine.targets.strict), moderate: rewrite(engine.targets.moderate) });
    } else {
      targets.add(engine.targets.on);
      entry = Object.freeze({ on: rewrite(engine.targets.on), strict: null, moderate: null });
    }
    for (const host of engine.hosts) byHost.set(host, entry);
  }
  const unenforceable = new Map<string, UnenforceableEngine>();
  for (const e of data.unenforceable) for (const host of e.hosts) unenforceable.set(host, e);
  // parseSafeSearchData refuses it; data built by hand must not loop either.
  for (const t of targets) byHost.delete(t);

  return {
    data,
    rewriteFor(host, settings) {
      let entry = byHost.get(host);
      if (entry === undefined) {
        const key = hostKey(host);
        if (key === host) return null;
        entry = byHost.get(key);
        if (entry === undefined) return null;
      }
      if (entry.on !== null) return settings.safeSearch ? entry.on : null;
      switch (settings.youtube) {
        case 'strict':
          return entry.strict;
        case 'moderate':
          return entry.moderate;
        case 'off':
          return null;
      }
    },
    isSafeSearchTarget: (host) => targets.has(host) || targets.has(hostKey(host)),
    fallbackFor: (target) => {
      const key = hostKey(target);
      return Object.hasOwn(data.fallbackAddresses, key) ? data.fallbackAddresses[key] : undefined;
    },
    unenforceableFor: (host) => unenforceable.get(hostKey(host)) ?? null,
  };
};
