/**
 * Search terms and SafeSearch in URLs (data/search-engines.json, documented in
 * docs/search-terms.md). When the proxy sees a full address (plain HTTP, or HTTPS it decrypts) it
 * asks `extractSearchTerm(url)` for the term to put in the event, for monitoring, and
 * `enforceSafeSearch(url, settings)` for the address and headers to send upstream instead.
 *
 * Hosts cover their subdomains (like the category lists), so a lookup walks the host's parent
 * names through one Map; paths are exact or "/prefix/*". Nothing here throws on a bad URL: a URL
 * that does not parse is not a search and is left as it is.
 */
import { invalid } from './errors.ts';
import type { SafeSearchSettings } from './safesearch.ts';

/** Longest term kept, in code points: enough for any real search, bounded for the event log. */
export const MAX_SEARCH_TERM_LENGTH = 200;
/** Raw (still encoded) characters of a parameter read at most: a term's work is bounded however long the URL. */
const MAX_RAW_TERM = 4096; // 200 code points of 4-byte UTF-8 as %xx is 2,400

export type SearchEngineControl = 'safeSearch' | 'youtube';

/** What to change on a request: query parameters to set (replacing any value) and headers to add. */
export interface SafeSearchChange {
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

export type SearchEngineSafeSearch =
  | { readonly control: 'safeSearch'; readonly scope: 'search' | 'everywhere'; readonly on: SafeSearchChange }
  | {
      readonly control: 'youtube';
      readonly scope: 'search' | 'everywhere';
      readonly strict: SafeSearchChange;
      readonly moderate: SafeSearchChange;
    };

export interface SearchEngine {
  /** Short stable id, lower-case: "google". It is what events record. */
  readonly id: string;
  readonly name: string;
  /** Domains, each covering its subdomains. */
  readonly hosts: readonly string[];
  /** Exact paths, or "/prefix/*" for the prefix and below. */
  readonly paths: readonly string[];
  /** Query parameters holding the term, in order of preference. */
  readonly terms: readonly string[];
  readonly safeSearch?: SearchEngineSafeSearch;
  readonly source?: string;
  readonly note?: string;
}

export interface SearchEngineData {
  readonly version: number;
  readonly engines: readonly SearchEngine[];
}

export interface SearchTerm {
  /** The engine's id. */
  readonly engine: string;
  /** Decoded, whitespace collapsed, control characters removed, at most MAX_SEARCH_TERM_LENGTH code points. */
  readonly term: string;
}

export interface SafeSearchResult {
  /** The URL to fetch: the same string when nothing changed. */
  readonly url: string;
  readonly changed: boolean;
  /** Request headers to add (set, replacing any the client sent). */
  readonly headers: Readonly<Record<string, string>>;
  /** The engine whose rule applied, or null. */
  readonly engine: string | null;
}

export interface SearchEngines {
  extractSearchTerm(url: string): SearchTerm | null;
  enforceSafeSearch(url: string, settings: SafeSearchSettings): SafeSearchResult;
  /** The engine a host (and path) belongs to, or null. */
  engineFor(host: string, path?: string): SearchEngine | null;
  readonly data: SearchEngineData;
}

// ---------------------------------------------------------------------------------------------
// Validation

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ENGINE_ID = /^[a-z][a-z0-9-]*$/;
/** A path as it appears in a request: "/", "/search", "/w/index.php", "/sch/*"; no query, no trailing slash. */
const PATH = /^\/(?:[A-Za-z0-9._~:@!$'()+,;=-]+(?:\/[A-Za-z0-9._~:@!$'()+,;=-]+)*(?:\/\*)?)?$/;
const PARAM = /^[A-Za-z0-9_.-]{1,64}$/;
const HEADER = /^[A-Za-z0-9-]{1,64}$/;
const HEADER_VALUE = /^[\x20-\x7e]{1,200}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

type Problem = { path: string; message: string };
type Fail = (path: string, message: string) => void;

const summarise = (what: string, problems: readonly Problem[]): string => {
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${what} is not valid: ${shown.join('; ')}${more}`;
};

const checkKeys = (raw: Record<string, unknown>, at: string, allowed: readonly string[], fail: Fail) => {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) fail(at ? `${at}.${key}` : key, 'unknown field');
};

const stringList = (raw: unknown, at: string, valid: RegExp, hint: string, fail: Fail): string[] | null => {
  if (!Array.isArray(raw) || raw.length === 0) {
    fail(at, `must be a non-empty list (${hint})`);
    return null;
  }
  const seen = new Set<string>();
  const good: string[] = [];
  raw.forEach((v: unknown, i) => {
    if (typeof v !== 'string' || !valid.test(v)) return fail(`${at}[${i}]`, `${JSON.stringify(v)} ${hint}`);
    if (seen.has(v)) return fail(`${at}[${i}]`, `"${v}" is listed twice`);
    seen.add(v);
    good.push(v);
  });
  return good.length === raw.length ? good : null;
};

const pairs = (raw: unknown, at: string, key: RegExp, value: RegExp, what: string, fail: Fail): Record<string, string> | null => {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    fail(at, `must be an object of ${what}`);
    return null;
  }
  let ok = true;
  for (const [k, v] of Object.entries(raw)) {
    if (!key.test(k) || typeof v !== 'string' || !value.test(v)) {
      fail(`${at}.${k}`, `must be a ${what} (letters, digits and - _ . in the name; printable ASCII in the value)`);
      ok = false;
    }
  }
  return ok ? (raw as Record<string, string>) : null;
};

const change = (raw: unknown, at: string, fail: Fail): SafeSearchChange | null => {
  if (!isRecord(raw)) {
    fail(at, 'must be an object with "params" and/or "headers"');
    return null;
  }
  checkKeys(raw, at, ['params', 'headers'], fail);
  const params = pairs(raw.params, `${at}.params`, PARAM, HEADER_VALUE, 'query parameter name → value', fail);
  const headers = pairs(raw.headers, `${at}.headers`, HEADER, HEADER_VALUE, 'header name → value', fail);
  if (!params || !headers) return null;
  if (Object.keys(params).length + Object.keys(headers).length === 0) {
    fail(at, 'must set at least one parameter or header');
    return null;
  }
  return { params, headers };
};

const safeSearchOf = (raw: unknown, at: string, fail: Fail): SearchEngineSafeSearch | null => {
  if (!isRecord(raw)) {
    fail(at, 'must be an object with "control", "scope" and the changes');
    return null;
  }
  const { control, scope } = raw;
  if (scope !== 'search' && scope !== 'everywhere') fail(`${at}.scope`, 'must be "search" or "everywhere"');
  if (control === 'safeSearch') {
    checkKeys(raw, at, ['control', 'scope', 'on'], fail);
    const on = change(raw.on, `${at}.on`, fail);
    return on && (scope === 'search' || scope === 'everywhere') ? { control, scope, on } : null;
  }
  if (control === 'youtube') {
    checkKeys(raw, at, ['control', 'scope', 'strict', 'moderate'], fail);
    const strict = change(raw.strict, `${at}.strict`, fail);
    const moderate = change(raw.moderate, `${at}.moderate`, fail);
    return strict && moderate && (scope === 'search' || scope === 'everywhere') ? { control, scope, strict, moderate } : null;
  }
  fail(`${at}.control`, 'must be "safeSearch" or "youtube"');
  return null;
};

/** Validates the parsed JSON of data/search-engines.json. Throws VALIDATION_FAILED naming every problem. */
export const parseSearchEngineData = (json: unknown, what = 'The search engine data'): SearchEngineData => {
  const problems: Problem[] = [];
  const fail: Fail = (path, message) => void problems.push({ path, message });
  if (!isRecord(json) || !Array.isArray(json.engines)) throw invalid(`${what} must be an object with an "engines" array`);
  checkKeys(json, '', ['description', 'version', 'engines'], fail);
  if (json.version !== 1) fail('version', 'must be 1');
  if (json.engines.length === 0) fail('engines', 'must list at least one engine');
  const ids = new Set<string>();
  const engines: SearchEngine[] = [];
  json.engines.forEach((raw: unknown, i) => {
    const at = `engines[${i}]`;
    if (!isRecord(raw)) return fail(at, 'must be an object');
    checkKeys(raw, at, ['id', 'name', 'hosts', 'paths', 'terms', 'safeSearch', 'source', 'note'], fail);
    const { id, name, source, note } = raw;
    let ok = true;
    if (typeof id !== 'string' || !ENGINE_ID.test(id)) {
      fail(`${at}.id`, 'must be a short lower-case id such as "google"');
      ok = false;
    } else if (ids.has(id)) {
      fail(`${at}.id`, `"${id}" is used twice`);
      ok = false;
    } else ids.add(id);
    if (!isText(name)) {
      fail(`${at}.name`, 'must be the engine’s name');
      ok = false;
    }
    const hosts = stringList(
      raw.hosts,
      `${at}.hosts`,
      HOST,
      'must be a lower-case domain such as "google.co.uk" (it covers its subdomains)',
      fail,
    );
    const paths = stringList(
      raw.paths,
      `${at}.paths`,
      PATH,
      'must be a path such as "/search" or "/sch/*", without a query or trailing slash',
      fail,
    );
    const terms = stringList(raw.terms, `${at}.terms`, PARAM, 'must be a query parameter name such as "q"', fail);
    const safeSearch = raw.safeSearch === undefined ? undefined : safeSearchOf(raw.safeSearch, `${at}.safeSearch`, fail);
    if (source !== undefined && !(typeof source === 'string' && /^https:\/\/\S+$/.test(source)))
      fail(`${at}.source`, 'must be an https:// address');
    if (note !== undefined && typeof note !== 'string') fail(`${at}.note`, 'must be text');
    if (!ok || !hosts || !paths || !terms || safeSearch === null) return;
    engines.push({
      id: id as string,
      name: name as string,
      hosts,
      paths,
      terms,
      ...(safeSearch ? { safeSearch } : {}),
      ...(typeof source === 'string' ? { source } : {}),
      ...(typeof note === 'string' ? { note } : {}),
    });
  });
  if (problems.length) throw invalid(summarise(what, problems), problems);
  return { version: 1, engines };
};

// ---------------------------------------------------------------------------------------------
// Decoding

const HEX = /^[0-9a-fA-F]{2}$/;
const utf8 = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * application/x-www-form-urlencoded decoding that never throws: "+" is a space, valid %xx are
 * bytes, a stray "%" stays itself, and bytes that are not UTF-8 become U+FFFD.
 */
export const decodeQueryValue = (raw: string): string => {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '+') bytes.push(0x20);
    else if (c === '%' && HEX.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = raw.codePointAt(i)!;
      if (code < 0x80) bytes.push(code);
      else {
        const ch = String.fromCodePoint(code);
        for (const b of utf8.encode(ch)) bytes.push(b);
        i += ch.length - 1;
      }
    }
  }
  return decoder.decode(new Uint8Array(bytes));
};

/** Control and format characters out, whitespace runs to one space, trimmed, bounded. */
const cleanTerm = (s: string): string => {
  const cleaned = s
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  const points = Array.from(cleaned);
  return points.length > MAX_SEARCH_TERM_LENGTH ? points.slice(0, MAX_SEARCH_TERM_LENGTH).join('').trimEnd() : cleaned;
};

interface ParsedUrl {
  /** Everything before "?" (or before "#" when there is no query). */
  readonly head: string;
  readonly query: string | null;
  /** "#…" or "". */
  readonly fragment: string;
  readonly host: string;
  readonly path: string;
}

/** http(s) URLs only; the host as the WHATWG parser gives it (lower case, punycode), the path without a trailing slash. */
const parseUrl = (url: string): ParsedUrl | null => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const hash = url.indexOf('#');
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const q = beforeHash.indexOf('?');
  let path = u.pathname;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  let host = u.hostname;
  if (host.endsWith('.')) host = host.slice(0, -1);
  return {
    head: q < 0 ? beforeHash : beforeHash.slice(0, q),
    query: q < 0 ? null : beforeHash.slice(q + 1),
    fragment: hash < 0 ? '' : url.slice(hash),
    host,
    path,
  };
};

const pathMatches = (patterns: readonly string[], path: string): boolean => {
  for (const p of patterns) {
    if (p.endsWith('/*')) {
      const prefix = p.slice(0, -2);
      if (path === prefix || path.startsWith(`${prefix}/`)) return true;
    } else if (p === path) return true;
  }
  return false;
};

/** The raw value of the first occurrence of `name` in a query string, or null. */
const rawParam = (query: string, name: string): string | null => {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name || (key.includes('%') || key.includes('+') ? decodeQueryValue(key) === name : false))
      return eq < 0 ? '' : pair.slice(eq + 1, eq + 1 + MAX_RAW_TERM);
  }
  return null;
};

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

const encodePair = (name: string, value: string) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;

/**
 * Sets each parameter to its value, once, keeping every other pair as it was written. Returns
 * null when the query already says exactly that.
 */
const withParams = (query: string | null, params: Readonly<Record<string, string>>): string | null => {
  const names = Object.keys(params);
  if (names.length === 0) return null;
  const pairsIn = query === null || query === '' ? [] : query.split('&');
  const found = new Map<string, string[]>();
  const kept: string[] = [];
  for (const pair of pairsIn) {
    const eq = pair.indexOf('=');
    const key = decodeQueryValue(eq < 0 ? pair : pair.slice(0, eq));
    if (Object.hasOwn(params, key)) {
      const list = found.get(key) ?? [];
      list.push(eq < 0 ? '' : decodeQueryValue(pair.slice(eq + 1)));
      found.set(key, list);
    } else kept.push(pair);
  }
  const already = names.every((n) => {
    const values = found.get(n);
    return values?.length === 1 && values[0] === params[n];
  });
  if (already) return null;
  return [...kept.filter((p) => p !== ''), ...names.map((n) => encodePair(n, params[n]!))].join('&');
};

// ---------------------------------------------------------------------------------------------
// Lookup

export const createSearchEngines = (data: SearchEngineData): SearchEngines => {
  /** domain → engines listing it (several may share one, told apart by path). */
  const byDomain = new Map<string, SearchEngine[]>();
  for (const engine of data.engines)
    for (const host of engine.hosts) {
      const list = byDomain.get(host);
      if (list) list.push(engine);
      else byDomain.set(host, [engine]);
    }

  /** Engines for the host, most specific domain first. */
  const candidates = (host: string): SearchEngine[] => {
    const found: SearchEngine[] = [];
    let h = host;
    for (let labels = 0; labels < 127; labels++) {
      const list = byDomain.get(h);
      if (list) found.push(...list);
      const dot = h.indexOf('.');
      if (dot < 0) break;
      h = h.slice(dot + 1);
    }
    return found;
  };

  const engineFor = (host: string, path?: string): SearchEngine | null => {
    let h = host.toLowerCase();
    if (h.endsWith('.')) h = h.slice(0, -1);
    for (const engine of candidates(h)) if (path === undefined || pathMatches(engine.paths, path)) return engine;
    return null;
  };

  const termIn = (engine: SearchEngine, query: string | null): string | null => {
    if (query === null) return null;
    for (const name of engine.terms) {
      const raw = rawParam(query, name);
      if (raw === null) continue;
      const term = cleanTerm(decodeQueryValue(raw));
      if (term !== '') return term;
    }
    return null;
  };

  return {
    data,
    engineFor,
    extractSearchTerm(url) {
      const u = parseUrl(url);
      if (!u) return null;
      const engine = engineFor(u.host, u.path);
      if (!engine) return null;
      const term = termIn(engine, u.query);
      return term === null ? null : { engine: engine.id, term };
    },
    enforceSafeSearch(url, settings) {
      const unchanged = (engine: string | null): SafeSearchResult => ({ url, changed: false, headers: EMPTY, engine });
      const u = parseUrl(url);
      if (!u) return unchanged(null);
      // An engine whose rule reaches this path: "everywhere" rules apply to any path on their hosts.
      let engine: SearchEngine | null = null;
      for (const e of candidates(u.host))
        if (pathMatches(e.paths, u.path) || e.safeSearch?.scope === 'everywhere') {
          engine = e;
          break;
        }
      if (!engine) return unchanged(null);
      const rule = engine.safeSearch;
      if (!rule) return unchanged(engine.id);
      let chosen: SafeSearchChange | null;
      if (rule.control === 'safeSearch') chosen = settings.safeSearch ? rule.on : null;
      else
        switch (settings.youtube) {
          case 'strict':
            chosen = rule.strict;
            break;
          case 'moderate':
            chosen = rule.moderate;
            break;
          case 'off':
            chosen = null;
            break;
        }
      if (!chosen) return unchanged(engine.id);
      const query = withParams(u.query, chosen.params);
      return {
        url: query === null ? url : `${u.head}?${query}${u.fragment}`,
        changed: query !== null,
        headers: chosen.headers,
        engine: engine.id,
      };
    },
  };
};
