/**
 * Host and URL normalising for the classification index. Everything that reaches the index goes
 * through here first, so list entries and requests are compared in one canonical form:
 * lower-case ASCII (IDN as punycode), no trailing dot, port, userinfo or IPv6 brackets.
 */
import { domainToASCII } from 'node:url';

const MAX_HOST = 253;
const MAX_LABEL = 63;

/** a-z 0-9 - _ : the characters a normalised DNS label may hold (underscore is common in real lists). */
const isLabelChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Canonical dotted-quad IPv4 ("10.0.0.1": four decimal octets 0–255, no leading zeros). Such
 * hosts and entries match each other exactly and never as domain suffixes. A character scan, not
 * a RegExp, because the index calls it on the hot path.
 */
export const isIpv4Literal = (s: string): boolean => {
  const len = s.length;
  if (len < 7 || len > 15) return false;
  let dots = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return false;
      dots++;
      octet = 0;
      digits = 0;
    } else if (isDigit(c)) {
      if (digits > 0 && octet === 0) return false; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
};

/**
 * The common case, decided without calling domainToASCII: already lower-case LDH labels of legal
 * length, no punycode labels to validate and a last label the URL standard would not read as a
 * number (numeric forms such as "1.2.3" or "0x7f.1" are IPv4 and need the full parser).
 * Returns the host without its trailing dot, or null when the slow path must decide.
 */
const plainHost = (raw: string): string | null => {
  let len = raw.length;
  if (len > 0 && raw.charCodeAt(len - 1) === 46) len--;
  if (len === 0 || len > MAX_HOST) return null;
  let labelStart = 0;
  let allDigits = true;
  for (let i = 0; i <= len; i++) {
    const c = i === len ? 46 : raw.charCodeAt(i);
    if (c === 46) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > MAX_LABEL) return null;
      if (labelLen >= 4 && raw.startsWith('xn--', labelStart)) return null;
      if (i === len && (allDigits || raw.startsWith('0x', labelStart))) return null;
      labelStart = i + 1;
      allDigits = true;
    } else if (isLabelChar(c)) {
      if (!isDigit(c)) allDigits = false;
    } else {
      return null;
    }
  }
  return len === raw.length ? raw : raw.slice(0, len);
};

/** Checks the output of domainToASCII: legal lengths, no empty labels, only label characters. */
const checkedAscii = (host: string): string | null => {
  if (host.length === 0 || host.length > MAX_HOST) return null;
  let labelStart = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i === host.length ? 46 : host.charCodeAt(i);
    if (c === 46) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > MAX_LABEL) return null;
      labelStart = i + 1;
    } else if (!isLabelChar(c)) {
      return null;
    }
  }
  return host;
};

/** "::ffff:102:304" (how the URL parser writes an IPv4-mapped address) → "1.2.3.4", so IP entries still match. */
const unmapIpv4 = (ipv6: string): string | null => {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`;
};

/** Whitespace, control characters and URL delimiters never belong in a host. */
const FORBIDDEN = /[\u0000-\u0020\u007f/\\?#]/;

/**
 * Canonical form of a host as typed, logged or seen on the wire, or null when it is not a usable
 * host name. Lower-cases, converts IDN to punycode and canonicalises IPv4 written in other
 * notations (as browsers do, so "0x7f.1" cannot dodge an entry for 127.0.0.1), strips one trailing
 * dot, a port, userinfo and IPv6 brackets. Rejects empty, over-long (> 253 characters, labels
 * > 63) and malformed hosts (spaces, control characters, empty labels such as "a..b").
 */
export const normaliseHost = (raw: string): string | null => {
  const plain = plainHost(raw);
  if (plain !== null) return plain;
  if (FORBIDDEN.test(raw)) return null;

  let host = raw.slice(raw.lastIndexOf('@') + 1);
  let ipv6 = false;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0 || !/^(:\d*)?$/.test(host.slice(end + 1))) return null;
    host = host.slice(0, end + 1);
    ipv6 = true;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      if (host.indexOf(':', colon + 1) >= 0) {
        host = `[${host}]`; // bare IPv6 literal
        ipv6 = true;
      } else {
        if (!/^\d*$/.test(host.slice(colon + 1))) return null;
        host = host.slice(0, colon);
      }
    }
  }
  if (host.length === 0 || host.length > 4 * MAX_HOST) return null;

  const ascii = domainToASCII(host);
  if (ascii === '') return null;
  if (ipv6) {
    if (!ascii.startsWith('[')) return null;
    const inner = ascii.slice(1, -1);
    return unmapIpv4(inner) ?? inner;
  }
  return checkedAscii(ascii.endsWith('.') ? ascii.slice(0, -1) : ascii);
};

export interface SplitUrl {
  /** Normalised host, or null when the URL has no usable host. */
  host: string | null;
  /** Path and query as given (never empty: at least "/"), without the fragment. */
  path: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Splits "https://user@Host:443/a/b?q#frag", "host/a?q" or "//host" into the normalised host and
 * the path with its query. Tolerant of a missing scheme, query strings and fragments; backslashes
 * in the path become slashes, as browsers send them.
 */
export const splitUrl = (raw: string): SplitUrl => {
  let s = raw.trim();
  const scheme = SCHEME.exec(s);
  if (scheme) s = s.slice(scheme[0].length);
  else if (s.startsWith('//')) s = s.slice(2);
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(0, hash);
  let end = 0;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 47 || c === 63 || c === 92) break; // / ? \
    end++;
  }
  let path = s.slice(end).replaceAll('\\', '/');
  if (path === '') path = '/';
  else if (path.startsWith('?')) path = `/${path}`;
  return { host: normaliseHost(s.slice(0, end)), path };
};

const UNRESERVED = /[a-z0-9._~-]/i;

/** Removes "." and ".." segments (RFC 3986 §5.2.4), as a server would before serving the path. */
const removeDotSegments = (path: string): string => {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length > 1) out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return out.join('/');
};

/**
 * The form in which URL entries and request paths are compared: lower case (squidGuard compares
 * case-insensitively, and a case change must not dodge an entry), percent-escapes of unreserved
 * characters decoded ("%41" is "a"), dot segments resolved. The query is kept.
 */
export const canonicalPath = (path: string): string => {
  const q = path.indexOf('?');
  let p = q >= 0 ? path.slice(0, q) : path;
  const query = q >= 0 ? path.slice(q) : '';
  if (p.includes('%')) {
    p = p.replace(/%([0-9a-f]{2})/gi, (escape, hex: string) => {
      const ch = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(ch) ? ch : escape;
    });
  }
  if (p.includes('/.')) p = removeDotSegments(p);
  return (p + query).toLowerCase();
};

/**
 * A domain-list line as an entry: blank lines and "#" comments give undefined, a leading "*." or
 * "." (wildcard spellings found in some lists; a domain entry covers its subdomains anyway) is
 * dropped, and anything normaliseHost rejects gives null.
 */
export const normaliseDomainEntry = (line: string): string | null | undefined => {
  let s = line.trim();
  if (s === '' || s.startsWith('#')) return undefined;
  if (s.startsWith('*.')) s = s.slice(2);
  else if (s.startsWith('.')) s = s.slice(1);
  return normaliseHost(s);
};

/** Characters at which a URL entry's path may end in the requested path: segment, query and parameter starts. */
export const isPathBoundary = (c: number): boolean => c === 47 || c === 63 || c === 38; // / ? &

/** Strips one leading "www." as squidGuard does for URL entries and the URLs checked against them. */
export const stripWww = (host: string): string => (host.startsWith('www.') && host.length > 4 ? host.slice(4) : host);

/**
 * A urls-list line ("host/path", no scheme) as the key the index stores: host without a leading
 * "www.", canonical path without trailing slashes (so "a.com/dir/" covers "/dir" itself; a
 * trailing "?" or "&" goes too) and without a fragment (browsers never send it). Undefined for blanks and comments, null if invalid.
 */
export const normaliseUrlEntry = (line: string): { host: string; path: string } | null | undefined => {
  const s = line.trim();
  if (s === '' || s.startsWith('#')) return undefined;
  const { host, path } = splitUrl(s);
  if (host === null) return null;
  let p = canonicalPath(path);
  let end = p.length;
  while (end > 0 && isPathBoundary(p.charCodeAt(end - 1))) end--;
  p = p.slice(0, end);
  return { host: stripWww(host), path: p };
};
