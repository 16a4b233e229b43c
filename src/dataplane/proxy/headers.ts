/**
 * Header rewriting between the two hops (RFC 9110 §7.6): hop-by-hop fields and anything named in
 * Connection are dropped, Via is added. Works on raw header arrays ([name, value, name, value…])
 * so case, order and repeated fields (Set-Cookie) survive.
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardOptions {
  /** Our Via entry ("1.1 haven-…"). */
  via: string;
  /** Replaces Host (requests: the authority from the absolute URL). */
  host?: string;
  /** Keep Upgrade and say Connection: Upgrade (a WebSocket handshake). */
  upgrade?: boolean;
}

/** Lower-cased tokens of every Connection (and Proxy-Connection) field. */
const connectionTokens = (raw: readonly string[]): Set<string> => {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const token = t.trim().toLowerCase();
      if (token) tokens.add(token);
    }
  }
  return tokens;
};

export const forwardHeaders = (raw: readonly string[], options: ForwardOptions): string[] => {
  const named = connectionTokens(raw);
  const out: string[] = [];
  if (options.host !== undefined) out.push('Host', options.host);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host' && options.host !== undefined) continue;
    if (options.upgrade && lower === 'upgrade') {
      out.push(name, raw[i + 1]!);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (options.upgrade) out.push('Connection', 'Upgrade');
  out.push('Via', options.via);
  return out;
};

/** The value of a header in a raw array (first occurrence), or undefined. */
export const rawHeader = (raw: readonly string[], name: string): string | undefined => {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
};

/** A response head written straight to a socket (CONNECT replies, upgrades, errors outside node:http). */
export const rawResponseHead = (status: number, message: string, headers: readonly string[]): string => {
  let head = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
};
