/**
 * The illegal-content tier: IWF and CTIRU entries (plain URLs, or SHA-256 / MD5 digests of the
 * normalised URL) and canary entries. A match always blocks, for everyone; the tier has no method
 * that switches it off, its entries are private to the closure and the object is frozen.
 *
 * Normalisation (docs/decisions/0006-illegal-tier.md) — entries and requests go through the same
 * function, and a digest is taken over the normalised text:
 *   - scheme, userinfo, port and #fragment removed; host lower-cased, IDN to punycode, trailing
 *     dots removed, one leading "www." removed;
 *   - path kept case-sensitive, percent-escapes upper-cased, a trailing "/" removed ("/" alone
 *     means the whole host); the query is kept as written.
 *   e.g. "HTTP://WWW.Example.COM:8080/a/B/?x=1#f" → "example.com/a/B?x=1".
 * A host-only entry covers the host and its subdomains; a path entry covers that path and paths
 * under it at a "/" boundary; an entry with a query matches that exact URL.
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';

export type IllegalSource = 'iwf' | 'ctiru' | 'canary';
export type IllegalMatchKind = 'plain' | 'sha256' | 'md5';

/** The entries of one list, as its loader produced them (already normalised / lower-case hex). */
export interface IllegalListEntries {
  source: IllegalSource;
  /** Normalised plain entries: "host" or "host/path[?query]". */
  plain: readonly string[];
  sha256: readonly string[];
  md5: readonly string[];
}

export interface IllegalMatch {
  source: IllegalSource;
  kind: IllegalMatchKind;
}

export interface IllegalSelfCheck {
  /** True when every canary is blocked (and there is at least one). */
  ok: boolean;
  canaries: { entry: string; blocked: boolean }[];
  /** Entries held per source (plain + hashed). */
  entries: Record<IllegalSource, number>;
}

export interface IllegalTier {
  /** Entries held per source (plain + hashed). */
  readonly entries: Readonly<Record<IllegalSource, number>>;
  readonly canaries: readonly string[];
  /** For DNS and CONNECT: host-level entries only (a URL entry cannot be judged without its path). */
  matchHost(host: string): IllegalMatch | null;
  /** For a full URL (scheme optional): URL entries, then host-level entries. */
  matchUrl(url: string): IllegalMatch | null;
  /** Proves the tier is live: every canary must match. */
  selfCheck(): IllegalSelfCheck;
}

/** A host under the reserved .test TLD (RFC 6761): it never resolves, so blocking it harms nobody. */
export const DEFAULT_ILLEGAL_CANARY = 'iwf-canary.haven.test';

/** Bounds on work per lookup: hosts have at most 127 labels; deeper paths match at their first segments. */
const MAX_PATH_SEGMENTS = 32;
const MAX_HOST_LENGTH = 253;
const MAX_URL_LENGTH = 8192;

export interface NormalisedIllegalUrl {
  host: string;
  /** "" or "/a/b" (no trailing slash). */
  path: string;
  /** "" or "?…". */
  query: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

const normaliseIllegalHost = (raw: string): string | null => {
  let host = raw.trim();
  if (host.startsWith('[')) return host.length > 2 && host.endsWith(']') ? host.toLowerCase() : null; // IPv6 literal, kept as written
  const colon = host.lastIndexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  host = host.replace(/^\.+|\.+$/g, '');
  if (host === '') return null;
  if (/[^\x00-\x7f]/.test(host)) {
    host = domainToASCII(host);
    if (host === '') return null;
  }
  host = host.toLowerCase();
  if (host.length > MAX_HOST_LENGTH || !/^[a-z0-9_.-]+$/.test(host) || host.includes('..')) return null;
  if (host.startsWith('www.') && host.length > 4) host = host.slice(4);
  return host;
};

/** Normalises a URL or host as described at the top of this file; null when it is not one. */
export const normaliseIllegalUrl = (raw: string): NormalisedIllegalUrl | null => {
  let s = raw.trim();
  if (s === '' || s.length > MAX_URL_LENGTH || /\s/.test(s)) return null;
  s = s.replace(SCHEME, '');
  const hash = s.indexOf('#');
  if (hash !== -1) s = s.slice(0, hash);
  const end = s.search(/[/?]/);
  let authority = end === -1 ? s : s.slice(0, end);
  let rest = end === -1 ? '' : s.slice(end);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  const host = normaliseIllegalHost(authority);
  if (!host) return null;
  const q = rest.indexOf('?');
  let query = q === -1 ? '' : rest.slice(q);
  rest = q === -1 ? rest : rest.slice(0, q);
  if (query === '?') query = '';
  let path = rest.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
  while (path.endsWith('/')) path = path.slice(0, -1);
  return { host, path, query };
};

export const illegalUrlKey = (u: NormalisedIllegalUrl): string => u.host + u.path + u.query;

/** Candidate keys, most specific first: full URL, path prefixes, then the host and its parents. */
const urlCandidates = (u: NormalisedIllegalUrl): string[] => {
  const keys: string[] = [];
  if (u.query) keys.push(u.host + u.path + u.query);
  if (u.path) {
    const segments = u.path.split('/').slice(1, MAX_PATH_SEGMENTS + 1);
    for (let n = segments.length; n >= 1; n--) keys.push(`${u.host}/${segments.slice(0, n).join('/')}`);
  }
  keys.push(...hostCandidates(u.host));
  return keys;
};

const hostCandidates = (host: string): string[] => {
  const keys = [host];
  if (host.startsWith('[')) return keys;
  for (let i = host.indexOf('.'); i !== -1 && i < host.length - 1; i = host.indexOf('.', i + 1)) {
    const parent = host.slice(i + 1);
    if (parent.includes('.')) keys.push(parent);
  }
  return keys;
};

const hexOf = (algorithm: 'sha256' | 'md5', text: string): string => createHash(algorithm).update(text, 'utf8').digest('hex');

/** Digest of a URL as a hashed IWF list carries it (of the normalised form); null for non-URLs. */
export const illegalUrlDigest = (algorithm: 'sha256' | 'md5', url: string): string | null => {
  const n = normaliseIllegalUrl(url);
  return n ? hexOf(algorithm, illegalUrlKey(n)) : null;
};

/**
 * Canary entries from HAVEN_ILLEGAL_CANARIES (comma-separated URLs or hosts). Empty or unset gives
 * the default canary: the tier always has at least one, so the self-check can always prove it.
 */
export const parseIllegalCanaries = (raw: string | undefined): string[] => {
  const entries = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !normaliseIllegalUrl(e));
  if (bad.length) throw new Error(`HAVEN_ILLEGAL_CANARIES holds entries that are not hosts or URLs: ${bad.join(', ')}`);
  return entries.length ? entries : [DEFAULT_ILLEGAL_CANARY];
};

export const createIllegalTier = (lists: readonly IllegalListEntries[], options: { canaries: readonly string[] }): IllegalTier => {
  // Copies, so nobody holding the arrays passed in can change what the tier blocks.
  const plain = new Map<string, IllegalSource>();
  const sha256 = new Map<string, IllegalSource>();
  const md5 = new Map<string, IllegalSource>();
  const entries: Record<IllegalSource, number> = { iwf: 0, ctiru: 0, canary: 0 };
  const add = (map: Map<string, IllegalSource>, key: string, source: IllegalSource) => {
    if (!map.has(key)) map.set(key, source);
  };
  for (const list of lists) {
    for (const e of list.plain) add(plain, e, list.source);
    for (const e of list.sha256) add(sha256, e.toLowerCase(), list.source);
    for (const e of list.md5) add(md5, e.toLowerCase(), list.source);
    entries[list.source] += list.plain.length + list.sha256.length + list.md5.length;
  }
  const canaries = options.canaries.length ? [...options.canaries] : [DEFAULT_ILLEGAL_CANARY];
  for (const c of canaries) {
    const n = normaliseIllegalUrl(c);
    if (!n) throw new Error(`illegal-tier canary "${c}" is not a host or URL`);
    add(plain, illegalUrlKey(n), 'canary');
    entries.canary++;
  }

  const lookup = (keys: readonly string[]): IllegalMatch | null => {
    for (const k of keys) {
      const source = plain.get(k);
      if (source) return { source, kind: 'plain' };
    }
    if (sha256.size) {
      for (const k of keys) {
        const source = sha256.get(hexOf('sha256', k));
        if (source) return { source, kind: 'sha256' };
      }
    }
    if (md5.size) {
      for (const k of keys) {
        const source = md5.get(hexOf('md5', k));
        if (source) return { source, kind: 'md5' };
      }
    }
    return null;
  };

  const matchHost = (host: string): IllegalMatch | null => {
    const h = normaliseIllegalHost(host);
    return h ? lookup(hostCandidates(h)) : null;
  };
  const matchUrl = (url: string): IllegalMatch | null => {
    const n = normaliseIllegalUrl(url);
    return n ? lookup(urlCandidates(n)) : null;
  };

  const tier: IllegalTier = {
    entries: Object.freeze({ ...entries }),
    canaries: Object.freeze(canaries),
    matchHost,
    matchUrl,
    selfCheck: () => {
      const results = canaries.map((entry) => ({ entry, blocked: matchUrl(entry) !== null }));
      return { ok: results.length > 0 && results.every((r) => r.blocked), canaries: results, entries: { ...entries } };
    },
  };
  return Object.freeze(tier);
};
