/**
 * Allow/block-list and override patterns: "example.com" covers the host and its subdomains;
 * "example.com/path" covers URLs on those hosts whose path starts with /path at a segment
 * boundary. Patterns are normalised once when a policy is compiled or validated.
 */

export interface SitePattern {
  /** Lower-case ASCII (punycode) host without a trailing dot. */
  host: string;
  /** Lower-case path prefix without a trailing slash ("/bitesize"), or '' for the whole host. */
  path: string;
}

const LABEL_RE = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//;

const toAsciiHost = (host: string): string | null => {
  if (/^[\x00-\x7f]*$/.test(host)) return host;
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
};

/** Whether every label of a host is a valid DNS label (or it is an IPv4 literal). */
export const isValidHost = (host: string): boolean => {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => LABEL_RE.test(label));
};

/** Normalises "https://www.Example.com/Path/?q" → { host: 'www.example.com', path: '/path' }, or null. */
export const parseSitePattern = (raw: string): SitePattern | null => {
  let s = raw.trim().toLowerCase();
  s = s.replace(SCHEME_RE, '');
  if (s.startsWith('*.')) s = s.slice(2);
  else if (s.startsWith('.')) s = s.slice(1);
  const end = s.search(/[?#]/);
  if (end >= 0) s = s.slice(0, end);
  const slash = s.indexOf('/');
  let host = slash >= 0 ? s.slice(0, slash) : s;
  let path = slash >= 0 ? s.slice(slash) : '';
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!/^:\d{1,5}$/.test(host.slice(colon))) return null;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const ascii = toAsciiHost(host);
  if (ascii === null || !isValidHost(ascii)) return null;
  while (path.endsWith('/')) path = path.slice(0, -1);
  if (/\s/.test(path)) return null;
  return { host: ascii, path };
};

/** The canonical text of a pattern, used to compare entries ("example.com/path"). */
export const patternKey = (p: SitePattern): string => p.host + p.path;

/** Lower-cases a request host and drops a trailing dot, allocating only when needed. */
export const normaliseRequestHost = (host: string): string => {
  let h = host;
  if (h.endsWith('.')) h = h.slice(0, -1);
  for (let i = 0; i < h.length; i++) {
    const code = h.charCodeAt(i);
    if (code >= 65 && code <= 90) return h.toLowerCase();
  }
  return h;
};

/** The lower-case path of a URL (scheme optional), without query or fragment; '' when none. */
export const pathOfUrl = (url: string): string => {
  const scheme = url.indexOf('://');
  const start = scheme >= 0 ? scheme + 3 : 0;
  const slash = url.indexOf('/', start);
  if (slash < 0) return '';
  let end = url.length;
  const q = url.indexOf('?', slash);
  if (q >= 0) end = q;
  const hash = url.indexOf('#', slash);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(slash, end).toLowerCase();
};

/** Whether `path` is under `prefix` at a segment boundary (/bitesize covers /bitesize/maths, not /bitesizes). */
export const pathUnder = (path: string, prefix: string): boolean => {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47; /* '/' */
};

/** Number of labels in a host ("a.b.c" → 3). */
export const labelCount = (host: string): number => {
  let n = 1;
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 46) n++;
  return n;
};
