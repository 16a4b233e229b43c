/**
 * The proxy auto-config file (served as /proxy.pac and /wpad.dat): everything through Haven's
 * proxy except local addresses (RFC 1918, loopback, link-local, IPv6 ULA), plain host names and
 * the school's own bypass domains. IP ranges are tested only on address literals, so the browser
 * never does a DNS lookup to decide. No "DIRECT" fallback: if the proxy is down, browsing stops
 * rather than going round the filter (unless `failOpen`).
 */

export interface PacSettings {
  /** host:port the clients reach the proxy at. */
  proxy: string;
  /** Domains (and their subdomains) that go direct: the school's intranet, Haven's own web app. */
  bypassDomains?: readonly string[];
  /** Let browsers go direct when the proxy does not answer (off: a filter must not fail open). */
  failOpen?: boolean;
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const PROXY = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\]):[0-9]{1,5}$/;

/** Lower-cased, leading "*." or "." dropped; null when it is not a domain. */
export const normaliseBypassDomain = (raw: string): string | null => {
  const d = raw
    .trim()
    .toLowerCase()
    .replace(/^\*?\./, '')
    .replace(/\.$/, '');
  return DOMAIN.test(d) ? d : null;
};

/** The PAC file's JavaScript. Throws on a proxy address that is not host:port (a setting error). */
export const generatePac = (settings: PacSettings): string => {
  const proxy = settings.proxy.trim().toLowerCase();
  if (!PROXY.test(proxy)) throw new Error(`proxy address must be host:port (got "${settings.proxy}")`);
  const domains = [...new Set((settings.bypassDomains ?? []).map(normaliseBypassDomain).filter((d): d is string => d !== null))];
  const domainLines = domains.map(
    (d) => `  if (host === ${JSON.stringify(d)} || dnsDomainIs(host, ${JSON.stringify(`.${d}`)})) return "DIRECT";`,
  );
  const via = settings.failOpen ? `PROXY ${proxy}; DIRECT` : `PROXY ${proxy}`;
  return [
    '// Haven proxy auto-config (generated). Local addresses and listed domains go direct.',
    'function FindProxyForURL(url, host) {',
    '  host = host.toLowerCase();',
    '  if (host.indexOf(":") >= 0) {',
    '    var h = host.replace(/^\\[|\\]$/g, "");',
    `    return h === "::1" || /^fe[89ab][0-9a-f]:/.test(h) || /^f[cd][0-9a-f]{2}:/.test(h) ? "DIRECT" : ${JSON.stringify(via)};`,
    '  }',
    '  if (isPlainHostName(host) || host === "localhost" || dnsDomainIs(host, ".localhost") || dnsDomainIs(host, ".local")) return "DIRECT";',
    '  if (/^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$/.test(host)) {',
    '    if (isInNet(host, "10.0.0.0", "255.0.0.0") || isInNet(host, "172.16.0.0", "255.240.0.0") ||',
    '        isInNet(host, "192.168.0.0", "255.255.0.0") || isInNet(host, "127.0.0.0", "255.0.0.0") ||',
    '        isInNet(host, "169.254.0.0", "255.255.0.0")) return "DIRECT";',
    '  }',
    ...domainLines,
    `  return ${JSON.stringify(via)};`,
    '}',
    '',
  ].join('\n');
};

export const PAC_CONTENT_TYPE = 'application/x-ns-proxy-autoconfig';
