/**
 * Circumvention controls (data/circumvention.json, documented in docs/safesearch.md): names the
 * DNS filter answers specially so devices cannot step around it.
 *
 * - canary: Firefox asks for use-application-dns.net before switching on DNS-over-HTTPS by
 *   itself; NXDOMAIN tells it the network filters and it keeps using the network's DNS.
 * - private-relay: iCloud Private Relay's entry points (mask.icloud.com, mask-h2.icloud.com);
 *   NXDOMAIN makes Apple devices fall back to the network's DNS and tell the user why.
 * - doh-resolver: well-known DNS-over-HTTPS/TLS resolvers; blocked, so browsers and apps that
 *   look them up cannot send their questions past Haven.
 *
 * Each entry covers the name and its subdomains: `check` walks the queried name's suffixes
 * through one Map, most specific first, so a label-aligned suffix matches and
 * "notdns.google.com.example" does not match "dns.google".
 */
import { invalid } from './errors.ts';

export const CIRCUMVENTION_KINDS = ['canary', 'private-relay', 'doh-resolver'] as const;
export type CircumventionKind = (typeof CIRCUMVENTION_KINDS)[number];
/** The kinds by name, for callers: `CIRCUMVENTION_KIND.privateRelay`. */
export const CIRCUMVENTION_KIND = {
  canary: 'canary',
  privateRelay: 'private-relay',
  dohResolver: 'doh-resolver',
} as const satisfies Record<string, CircumventionKind>;

/** What the DNS filter answers for each kind when the policy turns the control on (docs/safesearch.md). */
export const CIRCUMVENTION_ANSWER: Readonly<Record<CircumventionKind, 'nxdomain' | 'block'>> = {
  canary: 'nxdomain',
  'private-relay': 'nxdomain',
  'doh-resolver': 'block',
};

export interface CircumventionData {
  readonly canaryDomains: readonly string[];
  readonly privateRelay: readonly string[];
  readonly dohResolvers: readonly string[];
  /** Why HTTPS/SVCB answers that carry ECH configs are treated specially (shown in docs and the UI). */
  readonly echNote: string;
}

export interface CircumventionMatch {
  readonly kind: CircumventionKind;
  /** The data-file entry that matched: "dns.google" for "dns64.dns.google". */
  readonly matched: string;
}

export interface CircumventionIndex {
  /** The most specific entry covering the name (itself or a parent domain), or null. Case and a trailing dot do not matter. */
  check(host: string): CircumventionMatch | null;
  readonly data: CircumventionData;
}

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const HOST_HINT = 'must be a lower-case domain without a trailing dot, such as "dns.google"';

const LISTS = [
  ['canaryDomains', 'canary'],
  ['privateRelay', 'private-relay'],
  ['dohResolvers', 'doh-resolver'],
] as const satisfies readonly (readonly [keyof CircumventionData, CircumventionKind])[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const hostKey = (host: string): string => {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  return /[A-Z]/.test(h) ? h.toLowerCase() : h;
};

/** Validates the parsed JSON of data/circumvention.json. Throws VALIDATION_FAILED naming every problem. */
export const parseCircumventionData = (json: unknown): CircumventionData => {
  if (!isRecord(json))
    throw invalid('The circumvention data must be an object with "canaryDomains", "privateRelay" and "dohResolvers" lists');
  const problems: { path: string; message: string }[] = [];
  const fail = (path: string, message: string) => void problems.push({ path, message });
  for (const key of Object.keys(json)) {
    if (!['description', 'echNote', ...LISTS.map(([k]) => k)].includes(key)) fail(key, 'unknown field');
  }
  const seen = new Map<string, string>();
  const lists: Record<string, string[]> = {};
  for (const [key] of LISTS) {
    const raw = json[key];
    lists[key] = [];
    if (!Array.isArray(raw) || raw.length === 0) {
      fail(key, 'must be a non-empty list of domains');
      continue;
    }
    raw.forEach((d: unknown, i) => {
      const at = `${key}[${i}]`;
      if (typeof d !== 'string' || !HOST.test(d)) return fail(at, `${JSON.stringify(d)} ${HOST_HINT}`);
      const first = seen.get(d);
      if (first !== undefined) return fail(at, `"${d}" is already listed at ${first}`);
      seen.set(d, at);
      lists[key]!.push(d);
    });
  }
  const { echNote } = json;
  if (typeof echNote !== 'string' || echNote.trim() === '') fail('echNote', 'must be text explaining how ECH is handled');
  if (problems.length) {
    const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
    throw invalid(`The circumvention data is not valid: ${shown.join('; ')}${more}`, problems);
  }
  return {
    canaryDomains: lists.canaryDomains!,
    privateRelay: lists.privateRelay!,
    dohResolvers: lists.dohResolvers!,
    echNote: echNote as string,
  };
};

/** The last two labels of a name ("dns.google" for "dns64.dns.google"), or the name itself. */
const lastTwoLabels = (name: string): string => {
  const last = name.lastIndexOf('.');
  if (last <= 0) return name;
  const prev = name.lastIndexOf('.', last - 1);
  return prev < 0 ? name : name.slice(prev + 1);
};

/**
 * Suffix lookup over the three lists. Results are shared frozen objects. Most names share no
 * last two labels with any entry ("bbc.co.uk"), and are answered after one lookup.
 */
export const createCircumventionIndex = (data: CircumventionData): CircumventionIndex => {
  const byDomain = new Map<string, CircumventionMatch>();
  const tails = new Set<string>();
  for (const [key, kind] of LISTS) {
    for (const domain of data[key]) {
      if (!byDomain.has(domain)) byDomain.set(domain, Object.freeze({ kind, matched: domain }));
      tails.add(lastTwoLabels(domain));
    }
  }
  return {
    data,
    check(host) {
      let name = hostKey(host);
      const tail = lastTwoLabels(name);
      if (!tails.has(tail)) return null;
      for (;;) {
        const hit = byDomain.get(name);
        if (hit !== undefined) return hit;
        if (name.length <= tail.length) return null;
        name = name.slice(name.indexOf('.') + 1);
      }
    },
  };
};
