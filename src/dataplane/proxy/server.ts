/**
 * Haven's forward proxy: HTTP/1.1 over node:http (llhttp parses requests strictly: conflicting
 * Content-Length, Content-Length with Transfer-Encoding, obs-fold and bad chunking are errors),
 * upstreams over node:http/https with keep-alive agents, CONNECT tunnels over node:net.
 *
 *   request → identify the client → decide (full URL for HTTP, host then SNI for CONNECT)
 *   → block page | forward, streaming both ways | tunnel → one event on the sink.
 *
 * Identity, decisions, the event sink, the block page and (later) TLS interception are
 * functions the composition root hands in. Nothing here waits for the database, nothing buffers
 * a body, and nothing a client sends can throw out of a handler.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type {
  ClassifiedInput,
  ClientHint,
  ClientIdentity,
  Decision,
  EventSink,
  FilterEvent,
  RequestPerson,
  SafeSearchResult,
  SafeSearchSettings,
  SearchTerm,
} from '../../core/index.ts';
import { defaultBlockPage, type BlockPageInfo, type BlockPageRenderer, type BlockPageResponse } from './block-page.ts';
import { MAX_HELLO_BYTES, parseClientHello, type ClientHelloResult } from './client-hello.ts';
import { forwardHeaders, rawHeader, rawResponseHead } from './headers.ts';
import { generatePac, PAC_CONTENT_TYPE } from './pac.ts';

export interface ProxyDecideRequest {
  /** The full URL for plain HTTP; the host (CONNECT host or SNI) for tunnels. */
  site: string;
  at: Date;
  person: RequestPerson | null;
  clientIp?: string;
  place?: string;
}

export interface ProxyDecision {
  classification: ClassifiedInput;
  decision: Decision | null;
}

/** TLS interception: a certificate for any host, from the school's CA (see ./intercept/). */
export interface ProxyIntercept {
  contextFor(host: string): Promise<tls.SecureContext>;
  /**
   * Full inspection of allowed tunnels: whether `host` (in Haven category `category`) may be
   * decrypted. Absent: only blocked sites are terminated (to show the block page).
   */
  shouldInspect?(host: string, category: string | null): boolean;
  /** Verified TLS to the real site for inspected tunnels (required with `shouldInspect`). */
  upstream?: { connectOptions(host: string, port: number, extra?: tls.ConnectionOptions): tls.ConnectionOptions };
}

/** An allowed tunnel being inspected: who opened it, and the site its requests go to. */
interface InspectedTunnel {
  identity: ClientIdentity;
  clientIp: string;
  host: string;
  port: number;
  upstream: NonNullable<ProxyIntercept['upstream']>;
}

/** Search terms and SafeSearch on full URLs (data/search-engines.json). */
export interface ProxySearch {
  extractSearchTerm(url: string): SearchTerm | null;
  enforceSafeSearch(url: string, settings: SafeSearchSettings): SafeSearchResult;
}

/**
 * Proxy authentication. `ok` (the client is now known: `identify` finds who signed in), `denied`
 * (no, or wrong, credentials: 407) or `unavailable` (the directory cannot be asked: 503).
 */
export type ProxyAuthResult = 'ok' | 'denied' | 'unavailable';
export interface ProxyAuth {
  realm: string;
  check(proxyAuthorization: string | undefined, clientIp: string): ProxyAuthResult | Promise<ProxyAuthResult>;
}

export interface ProxyLimits {
  /** Request line and headers together; more is 431. */
  maxHeaderBytes: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Whole request head must arrive within this (slow clients get 408). */
  headersTimeoutMs: number;
  /** No bytes either way on a client, upstream or tunnel socket for this long: closed. */
  idleTimeoutMs: number;
  /** A kept-alive client connection waiting for its next request. */
  keepAliveTimeoutMs: number;
  /** One HTTP exchange (request and response) at most. */
  requestTimeoutMs: number;
  /** One CONNECT tunnel or WebSocket at most. */
  tunnelTimeoutMs: number;
  /** Connecting to the upstream; then 504. */
  connectTimeoutMs: number;
  /** From sending the request to the upstream's response head; then 504. */
  responseTimeoutMs: number;
  /** Waiting for the ClientHello in a tunnel before deciding on the CONNECT host alone. */
  helloTimeoutMs: number;
}

export const DEFAULT_PROXY_LIMITS: Readonly<ProxyLimits> = {
  maxHeaderBytes: 16 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerClient: 512,
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 60_000,
  requestTimeoutMs: 3_600_000,
  tunnelTimeoutMs: 12 * 3_600_000,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 60_000,
  helloTimeoutMs: 10_000,
};

export interface ProxyDeps {
  identify(hint: ClientHint): ClientIdentity | null;
  /** Without waiting: null until the school's policy has first compiled. */
  decideNow(schoolId: string, request: ProxyDecideRequest): ProxyDecision | null;
  decide(schoolId: string, request: ProxyDecideRequest): Promise<ProxyDecision>;
  events: EventSink;
  /** Renders block and warn pages (default: a plain, safe page). */
  blockPage?: BlockPageRenderer;
  /** With the school's CA: blocked HTTPS sites get the block page inside the tunnel. */
  intercept?: ProxyIntercept;
  /** PAC/WPAD: the address to name (default: the Host the PAC was fetched from) and extra direct domains. */
  pac?: { proxy?: string | undefined; bypassDomains?: readonly string[] };
  limits?: Partial<ProxyLimits>;
  /** Ports CONNECT may reach (default 443 only); 'any' for tests and unusual networks. */
  connectPorts?: readonly number[] | 'any';
  /** Name resolution for upstreams (tests point names at loopback). */
  lookup?: net.LookupFunction;
  /** TLS options for https:// absolute-form requests (tests trust their own CA). */
  upstreamTls?: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
  /**
   * Whether this person (or guest address) chose to go on past a warning for `host` (a service that
   * remembers choices across processes). The proxy's own signed continue link is honoured as well.
   */
  warnContinued?: (identity: ClientIdentity, clientIp: string, host: string) => boolean;
  /** Search terms for events and SafeSearch rewriting, wherever the full URL is known. */
  search?: ProxySearch;
  /** Proxy-Authorization required (407 without it); PAC files stay open. */
  auth?: ProxyAuth;
  /** Milliseconds, for event times (default Date.now). */
  now?: () => number;
}

export interface ProxyStats {
  connections: number;
  requests: number;
  tunnels: number;
  upgrades: number;
  blocked: number;
  /** Requests node:http refused to parse (400/408/431). */
  clientErrors: number;
  /** Tunnels decrypted for inspection. */
  inspected: number;
  /** Requests answered 407 (no or wrong proxy credentials). */
  authChallenges: number;
  upstreamErrors: number;
  /** Connections turned away by the connection limits. */
  rejectedConnections: number;
}

const TLS_ACCESS_DENIED = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31]);
const AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/@?#]+):([0-9]{1,5})$/;
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

type Timeout = NodeJS.Timeout;
const noop = () => undefined;

class ProxyError extends Error {
  readonly status: 502 | 504;
  constructor(status: 502 | 504, message: string) {
    super(message);
    this.status = status;
  }
}

const clientIpOf = (socket: net.Socket): string => {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
};

const sameHost = (a: string, b: string): boolean =>
  a
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '') ===
  b
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '');

const CERT_REASON = 'its certificate is not valid';

const reasonOf = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the name does not resolve';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (err instanceof ProxyError) return err.message;
  if (code !== undefined && /^ERR_TLS_CERT|CERT|SIGNATURE|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED/.test(code)) return CERT_REASON;
  if (code?.startsWith('ERR_TLS') || code?.startsWith('ERR_SSL')) return 'the secure connection failed';
  return 'the connection failed';
};
const statusOf = (err: unknown): 502 | 504 => (err instanceof ProxyError ? err.status : 502);

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  508: 'Loop Detected',
};

/** A complete short response written straight to a socket, which is then closed. */
const endRaw = (socket: Duplex, status: number, body: string, extra: readonly string[] = []) => {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = rawResponseHead(status, STATUS_TEXT[status] ?? 'Error', [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Connection',
    'close',
    ...extra,
  ]);
  socket.end(head + body);
};

/** Replays bytes already read (the ClientHello) and then the socket, as one stream for a TLS server. */
const replayed = (socket: net.Socket, first: Buffer): Duplex => {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  if (first.length > 0) d.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  return d;
};

export const createProxy = (deps: ProxyDeps) => {
  const limits: ProxyLimits = { ...DEFAULT_PROXY_LIMITS, ...deps.limits };
  const now = deps.now ?? Date.now;
  const render = deps.blockPage ?? defaultBlockPage;
  const connectPorts = deps.connectPorts ?? [443];
  const viaToken = `haven-${randomBytes(4).toString('hex')}`;
  const via = `1.1 ${viaToken}`;
  const stats: ProxyStats = {
    connections: 0,
    requests: 0,
    tunnels: 0,
    upgrades: 0,
    blocked: 0,
    clientErrors: 0,
    inspected: 0,
    authChallenges: 0,
    upstreamErrors: 0,
    rejectedConnections: 0,
  };
  const perClient = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  // Idle upstream sockets are kept for at most 30 s (the agent closes free sockets on their timeout): bounded by time, not count.
  const agentOptions = {
    keepAlive: true,
    maxSockets: 256,
    maxFreeSockets: 64,
    timeout: Math.min(limits.idleTimeoutMs, 30_000),
    scheduling: 'lifo' as const,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({ ...agentOptions, ...deps.upstreamTls });
  // Inspected tunnels' requests: verified by the interception's own trust (never the test override).
  const inspectAgent = new https.Agent(agentOptions);
  let listening: { host: string; port: number } | null = null;

  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  // ---- decisions and events ---------------------------------------------------------------

  const request = (identity: ClientIdentity, site: string, clientIp: string, at: Date): ProxyDecideRequest => ({
    site,
    at,
    person: identity.person,
    clientIp,
    ...(identity.place !== null && { place: identity.place }),
  });

  /** Calls `then` with the decision, synchronously when the policy is ready; a failure to decide is `null`. */
  const decideThen = (identity: ClientIdentity, site: string, clientIp: string, at: Date, then: (d: ProxyDecision | null) => void) => {
    const r = request(identity, site, clientIp, at);
    let ready: ProxyDecision | null;
    try {
      ready = deps.decideNow(identity.schoolId, r);
    } catch {
      then(null);
      return;
    }
    if (ready) then(ready);
    else
      deps.decide(identity.schoolId, r).then(
        (d) => then(d),
        () => then(null),
      );
  };

  /** block, warn (not yet clicked through) or pass. */
  const verdict = (d: ProxyDecision, identity: ClientIdentity, clientIp: string): 'block' | 'warn' | 'pass' => {
    const action = d.decision?.action ?? 'allow';
    if (action === 'block') return 'block';
    if (action !== 'warn') return 'pass';
    const host = d.classification.host;
    if (host === null) return 'warn';
    let went = false;
    try {
      went = deps.warnContinued?.(identity, clientIp, host) === true;
    } catch {
      went = false;
    }
    return went ? 'pass' : 'warn';
  };

  const writeEvent = (e: {
    identity: ClientIdentity | null;
    clientIp: string;
    host: string;
    url: string | null;
    d: ProxyDecision | null;
    started: number;
    at: number;
    layer?: FilterEvent['layer'];
    action?: FilterEvent['action'];
    ruleId?: string;
    method?: string | null;
    status?: number | null;
    bytesIn?: number | null;
    bytesOut?: number | null;
    searchTerm?: string | null;
    /** The request went to the site (a warned one: because the person chose to go on). */
    passed?: boolean;
    /** Time to the response head, when the event is written later (at the end of the exchange). */
    latencyUs?: number;
  }) => {
    const decision = e.d?.decision ?? null;
    const warnContinued = e.passed === true && decision?.action === 'warn';
    deps.events.write({
      at: new Date(e.at).toISOString(),
      source: 'proxy',
      schoolId: e.identity?.schoolId ?? null,
      clientIp: e.clientIp,
      personId: e.identity?.personId ?? null,
      deviceId: e.identity?.deviceId ?? null,
      profile: decision?.rule?.id.startsWith('profile:') ? decision.rule.id.slice(8) : null,
      host: e.d?.classification.host ?? e.host,
      url: e.url,
      qtype: null,
      category: e.d?.classification.category ?? null,
      list: e.d?.classification.source ?? null,
      action: e.action ?? decision?.action ?? 'allow',
      layer: e.layer ?? decision?.layer ?? 'fallback',
      ruleId: e.ruleId ?? decision?.rule?.id ?? null,
      flagged: decision?.flagged ?? false,
      latencyUs: e.latencyUs ?? Math.round((performance.now() - e.started) * 1000),
      method: e.method ?? null,
      status: e.status ?? null,
      bytesIn: e.bytesIn ?? null,
      bytesOut: e.bytesOut ?? null,
      searchTerm: e.searchTerm ?? null,
      ...(warnContinued && { warnContinued: true }),
    });
  };

  const pageFor = (d: ProxyDecision, identity: ClientIdentity, clientIp: string, host: string, url: string | null): BlockPageResponse => {
    const action = verdict(d, identity, clientIp) === 'warn' ? 'warn' : 'block';
    const info: BlockPageInfo = {
      host: d.classification.host ?? host,
      url,
      category: d.classification.category,
      action,
      identity,
      reason: d.decision?.reason ?? 'This site is blocked.',
      illegal: d.classification.illegal,
      clientIp,
      // The renderer makes the link (Haven's /continue, recorded in the database and shared with DNS).
      continueUrl: null,
    };
    try {
      return render(info);
    } catch {
      return defaultBlockPage(info);
    }
  };

  const blockHeaderValue = (d: ProxyDecision, kind: 'block' | 'warn') =>
    `${kind}; category=${d.classification.category ?? 'uncategorised'}`;

  // ---- direct requests: PAC and WPAD --------------------------------------------------------

  const serveDirect = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => {
    if (pathname === '/proxy.pac' || pathname === '/wpad.dat') {
      const hostHeader = req.headers.host?.toLowerCase() ?? '';
      const fromHost = /:[0-9]+$/.test(hostHeader) ? hostHeader : `${hostHeader}:${listening?.port ?? 3128}`;
      let body: string;
      try {
        body = generatePac({ proxy: deps.pac?.proxy ?? fromHost, bypassDomains: deps.pac?.bypassDomains ?? [] });
      } catch {
        body = generatePac({
          proxy: `${listening?.host ?? '127.0.0.1'}:${listening?.port ?? 3128}`,
          bypassDomains: deps.pac?.bypassDomains ?? [],
        });
      }
      res.writeHead(200, { 'content-type': PAC_CONTENT_TYPE, 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    plain(res, 404, 'This is Haven’s web filter. Set it as your proxy, or use /proxy.pac.\n');
  };

  const plain = (res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      via,
      ...extra,
    });
    res.end(body);
  };

  const isSelf = (url: URL): boolean => {
    if (listening === null) return false;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (port !== listening.port) return false;
    const h = url.hostname.toLowerCase();
    return LOOPBACK_NAMES.has(h) || h === listening.host;
  };

  // ---- authentication -----------------------------------------------------------------------

  const challengeHeader = () => `Basic realm="${(deps.auth?.realm ?? 'Haven').replace(/["\\]/g, '')}", charset="UTF-8"`;
  const AUTH_REQUIRED = 'Sign in to use the web filter (your school username and password).\n';
  const AUTH_UNAVAILABLE = 'Haven cannot check your sign-in right now. Try again in a moment.\n';

  /** Calls `then` once the client may go on; answers 407 or 503 itself otherwise. */
  const authorise = (
    headers: http.IncomingHttpHeaders,
    clientIp: string,
    refuse: (status: 407 | 503, body: string, extra: Record<string, string>) => void,
    then: () => void,
  ) => {
    const auth = deps.auth;
    if (!auth) {
      then();
      return;
    }
    const header = headers['proxy-authorization'];
    const settle = (r: ProxyAuthResult) => {
      if (r === 'ok') then();
      else if (r === 'unavailable') refuse(503, AUTH_UNAVAILABLE, {});
      else {
        stats.authChallenges++;
        refuse(407, AUTH_REQUIRED, { 'proxy-authenticate': challengeHeader() });
      }
    };
    let result: ProxyAuthResult | Promise<ProxyAuthResult>;
    try {
      result = auth.check(header, clientIp);
    } catch {
      settle('unavailable');
      return;
    }
    if (typeof result === 'string') settle(result);
    else result.then(settle, () => settle('unavailable'));
  };

  const rawExtra = (extra: Record<string, string>) => Object.entries(extra).flatMap(([k, v]) => [k, v]);

  /** For CONNECT and upgrades (a raw socket, no response object): sign-in when asked for, then who is asking, then `go`. */
  const onRawIdentity = (req: http.IncomingMessage, socket: net.Socket, go: (identity: ClientIdentity, clientIp: string) => void) => {
    const clientIp = clientIpOf(socket);
    authorise(
      req.headers,
      clientIp,
      (status, body, extra) => endRaw(socket, status, body, rawExtra(extra)),
      () => {
        const identity = deps.identify({ ip: clientIp });
        if (identity === null) endRaw(socket, 503, 'Haven has no school set up yet.\n');
        else go(identity, clientIp);
      },
    );
  };

  // ---- plain HTTP and requests inside inspected tunnels ---------------------------------------

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    stats.requests++;
    req.on('error', noop);
    res.on('error', noop);
    const target = req.url ?? '';
    if (target.startsWith('/')) {
      serveDirect(req, res, target.split('?')[0] ?? '/');
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      plain(res, 400, 'Bad request: the request target is not a URL.\n');
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      plain(res, 400, 'Bad request: only http:// and https:// URLs can go through this proxy.\n');
      return;
    }
    if (isSelf(url)) {
      serveDirect(req, res, url.pathname);
      return;
    }
    const clientIp = clientIpOf(req.socket);
    if ((rawHeader(req.rawHeaders, 'via') ?? '').includes(viaToken)) {
      plain(res, 508, 'This request came back to the proxy that sent it.\n');
      return;
    }
    authorise(
      req.headers,
      clientIp,
      (status, body, extra) => plain(res, status, body, extra),
      () => {
        const identity = deps.identify({ ip: clientIp });
        if (identity === null) {
          plain(res, 503, 'Haven has no school set up yet.\n');
          return;
        }
        handle(req, res, url, target, identity, clientIp, started, null);
      },
    );
  };

  /** Decides on the full URL and answers: the block or warn page, or the site (SafeSearch enforced). */
  const handle = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    target: string,
    identity: ClientIdentity,
    clientIp: string,
    started: number,
    inspected: InspectedTunnel | null,
  ) => {
    const at = now();
    const method = req.method ?? 'GET';
    let searchTerm: string | null = null;
    try {
      searchTerm = deps.search?.extractSearchTerm(target)?.term ?? null;
    } catch {
      searchTerm = null;
    }
    const base = { identity, clientIp, host: url.hostname, url: target, started, at, method, searchTerm };
    decideThen(identity, target, clientIp, new Date(at), (d) => {
      if (d === null) {
        writeEvent({ ...base, d, layer: 'error', action: 'block', status: 503 });
        plain(res, 503, 'Haven cannot check this site right now. Try again in a moment.\n');
        return;
      }
      const v = verdict(d, identity, clientIp);
      if (v !== 'pass') {
        stats.blocked++;
        const page = pageFor(d, identity, clientIp, url.hostname, target);
        writeEvent({ ...base, d, status: page.status, bytesOut: Buffer.byteLength(page.body) });
        if (res.headersSent || res.destroyed) return;
        res.writeHead(page.status, {
          ...page.headers,
          'content-length': Buffer.byteLength(page.body),
          via,
          'x-haven-block': blockHeaderValue(d, v),
        });
        res.end(req.method === 'HEAD' ? undefined : page.body);
        return;
      }
      // SafeSearch: the address the site gets is rewritten (not redirected), and headers added.
      let upstreamUrl = url;
      let extraHeaders: Readonly<Record<string, string>> = {};
      if (deps.search && d.decision) {
        try {
          const r = deps.search.enforceSafeSearch(target, { safeSearch: d.decision.safeSearch, youtube: d.decision.youtube });
          if (r.changed) upstreamUrl = new URL(r.url);
          extraHeaders = r.headers;
        } catch {
          // the URL is forwarded as it is; the event still records it
        }
      }
      forward(req, res, upstreamUrl, extraHeaders, inspected, (r) =>
        writeEvent({
          ...base,
          d,
          passed: !r.failed,
          status: r.status,
          bytesIn: r.bytesIn,
          bytesOut: r.bytesOut,
          ...(r.failed && { layer: 'error' as const }),
          ...(r.latencyUs !== null && { latencyUs: r.latencyUs }),
        }),
      );
    });
  };

  interface ExchangeResult {
    status: number | null;
    bytesIn: number;
    bytesOut: number;
    failed: boolean;
    latencyUs: number | null;
  }

  /** Request options for the site: verified TLS through the interception's trust for inspected tunnels. */
  const upstreamOptions = (url: URL, inspected: InspectedTunnel | null): https.RequestOptions => {
    const secure = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (secure ? 443 : 80));
    if (inspected) {
      // connectOptions carries the verification (trust context, host check, rejectUnauthorized: true); host and port come from the URL.
      const o: tls.ConnectionOptions = inspected.upstream.connectOptions(host, port, { ALPNProtocols: ['http/1.1'] });
      return { ...(o as https.RequestOptions), host, port, agent: inspectAgent, ...(deps.lookup && { lookup: deps.lookup }) };
    }
    return {
      host,
      port,
      agent: secure ? httpsAgent : httpAgent,
      ...(deps.lookup && { lookup: deps.lookup }),
      ...(secure && deps.upstreamTls),
    };
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    extraHeaders: Readonly<Record<string, string>>,
    inspected: InspectedTunnel | null,
    done: (r: ExchangeResult) => void,
  ) => {
    const secure = url.protocol === 'https:';
    let headers = forwardHeaders(req.rawHeaders, { via, host: url.host });
    const extraNames = Object.keys(extraHeaders).map((k) => k.toLowerCase());
    if (extraNames.length > 0) {
      // Set, replacing whatever the client sent under the same name.
      const kept: string[] = [];
      for (let i = 0; i + 1 < headers.length; i += 2)
        if (!extraNames.includes(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
      headers = [...kept, ...Object.entries(extraHeaders).flat()];
    }
    const cl = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const hasBody = chunked || (cl !== undefined && cl !== '0');
    // Transfer-Encoding is hop-by-hop, but the body still needs framing: node chunks it only when
    // told to for GET, DELETE and the like (without this, "hello" would reach the site unframed,
    // as the start of a next request — smuggling by way of the proxy).
    if (chunked) headers.push('Transfer-Encoding', 'chunked');
    const options: https.RequestOptions = {
      ...upstreamOptions(url, inspected),
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
    };
    const result: ExchangeResult = { status: null, bytesIn: 0, bytesOut: 0, failed: false, latencyUs: null };
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      done(result);
    };
    const started = performance.now();
    const total = setTimeout(() => {
      res.destroy();
    }, limits.requestTimeoutMs);
    total.unref();
    res.once('finish', report);
    res.once('close', () => {
      clearTimeout(total);
      report();
    });
    if (hasBody) req.on('data', (chunk: Buffer) => (result.bytesIn += chunk.length));
    let retried = false;

    const send = () => {
      const up = (secure ? https : http).request(options);
      let headTimer: Timeout | null = setTimeout(
        () => up.destroy(new ProxyError(504, 'the site took too long to answer')),
        limits.responseTimeoutMs,
      );
      let connectTimer: Timeout | null = null;
      const clearTimers = () => {
        if (headTimer) clearTimeout(headTimer);
        if (connectTimer) clearTimeout(connectTimer);
        headTimer = connectTimer = null;
      };
      up.on('socket', (s: net.Socket) => {
        if (s.connecting) {
          connectTimer = setTimeout(
            () => up.destroy(new ProxyError(504, 'the site did not accept a connection in time')),
            limits.connectTimeoutMs,
          );
          s.once('connect', () => connectTimer && clearTimeout(connectTimer));
        }
      });
      let upDone = false;
      up.on('response', (upRes) => {
        clearTimers();
        upRes.on('error', () => res.destroy());
        upRes.on('aborted', () => res.destroy());
        upRes.once('end', () => (upDone = true));
        if (res.destroyed || res.headersSent) {
          // The client's request failed meanwhile (a bad body got its 400) or the client left.
          up.destroy();
          return;
        }
        result.status = upRes.statusCode ?? 502;
        result.latencyUs = Math.round((performance.now() - started) * 1000);
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', forwardHeaders(upRes.rawHeaders, { via }));
        upRes.on('data', (chunk: Buffer) => (result.bytesOut += chunk.length));
        upRes.pipe(res);
        upRes.setTimeout(limits.idleTimeoutMs, () => upRes.destroy());
      });
      up.on('error', (err) => {
        clearTimers();
        // A kept-alive upstream socket closed as we reused it: try once more on a new one.
        if (!retried && !hasBody && up.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !res.headersSent) {
          retried = true;
          send();
          return;
        }
        stats.upstreamErrors++;
        if (res.headersSent) {
          res.destroy();
          return;
        }
        result.failed = true;
        result.status = statusOf(err);
        const reason = reasonOf(err);
        const body =
          reason === CERT_REASON
            ? `Haven did not open ${url.host}: ${reason}. Someone may be pretending to be this site, or it is set up wrongly; Haven will not send your details to it. Tell your IT team if this keeps happening.\n`
            : `Haven could not reach ${url.host}: ${reason}.\n`;
        plain(res, result.status, body);
      });
      res.once('close', () => {
        clearTimers();
        if (!upDone) up.destroy();
      });
      if (hasBody) req.pipe(up);
      else up.end();
    };
    send();
  };

  // ---- WebSockets (and other upgrades) over plain HTTP -------------------------------------

  const pipeTunnel = (a: net.Socket, b: net.Socket) => {
    const destroyBoth = () => {
      a.destroy();
      b.destroy();
    };
    a.setTimeout(limits.idleTimeoutMs, destroyBoth);
    b.setTimeout(limits.idleTimeoutMs, destroyBoth);
    const total = setTimeout(destroyBoth, limits.tunnelTimeoutMs);
    total.unref();
    a.once('close', () => {
      clearTimeout(total);
      b.destroy();
    });
    b.once('close', () => {
      clearTimeout(total);
      a.destroy();
    });
    a.on('error', noop);
    b.on('error', noop);
    a.pipe(b);
    b.pipe(a);
  };

  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => upgrade(req, socket, head, req.url ?? '', null);

  /** An upgrade (WebSocket) to `target`; inside an inspected tunnel the tunnel's identity and trust are used. */
  const upgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer, target: string, inspected: InspectedTunnel | null) => {
    const started = performance.now();
    stats.requests++;
    socket.on('error', noop);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      endRaw(socket, 400, 'Bad request: upgrades go through the proxy with an absolute URL.\n');
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      endRaw(socket, 400, 'Bad request: only http:// and https:// URLs can go through this proxy.\n');
      return;
    }
    const cl = req.headers['content-length'];
    if (req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')) {
      // An upgrade carries no body; one that claims to would leave the site waiting for bytes that never come.
      endRaw(socket, 400, 'Bad request: an upgrade request has no body.\n');
      return;
    }
    if (inspected) {
      decideUpgrade(req, socket, head, target, url, inspected.identity, inspected.clientIp, started, inspected);
      return;
    }
    onRawIdentity(req, socket, (identity, clientIp) => decideUpgrade(req, socket, head, target, url, identity, clientIp, started, null));
  };

  const decideUpgrade = (
    req: http.IncomingMessage,
    socket: net.Socket,
    head: Buffer,
    target: string,
    url: URL,
    identity: ClientIdentity,
    clientIp: string,
    started: number,
    inspected: InspectedTunnel | null,
  ) => {
    const at = now();
    const method = req.method ?? 'GET';
    decideThen(identity, target, clientIp, new Date(at), (d) => {
      if (d === null) {
        endRaw(socket, 503, 'Haven cannot check this site right now.\n');
        return;
      }
      const v = verdict(d, identity, clientIp);
      if (v !== 'pass') {
        stats.blocked++;
        const page = pageFor(d, identity, clientIp, url.hostname, target);
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, method, status: page.status });
        const headers = Object.entries(page.headers).flat();
        if (!socket.writable) return;
        socket.end(
          rawResponseHead(page.status, STATUS_TEXT[page.status] ?? 'Blocked', [
            ...headers,
            'Content-Length',
            String(Buffer.byteLength(page.body)),
            'Connection',
            'close',
            'X-Haven-Block',
            blockHeaderValue(d, v),
          ]) + page.body,
        );
        return;
      }
      stats.upgrades++;
      const secure = url.protocol === 'https:';
      const up = (secure ? https : http).request({
        ...upstreamOptions(url, inspected),
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        headers: forwardHeaders(req.rawHeaders, { via, host: url.host, upgrade: true }),
        setHost: false,
        agent: false,
      });
      const timer = setTimeout(
        () => up.destroy(new ProxyError(504, 'the site took too long to answer')),
        limits.connectTimeoutMs + limits.responseTimeoutMs,
      );
      socket.once('close', () => {
        clearTimeout(timer);
        up.destroy();
      });
      up.on('upgrade', (upRes, upSocket, upHead) => {
        clearTimeout(timer);
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, method, status: 101, passed: true });
        if (!socket.writable) {
          upSocket.destroy();
          return;
        }
        socket.write(
          rawResponseHead(101, upRes.statusMessage ?? 'Switching Protocols', forwardHeaders(upRes.rawHeaders, { via, upgrade: true })),
        );
        if (upHead.length > 0) socket.write(upHead);
        if (head.length > 0) upSocket.write(head);
        track(upSocket);
        pipeTunnel(socket, upSocket);
      });
      up.on('response', (upRes) => {
        // The site said no to the upgrade: pass its answer on and close.
        clearTimeout(timer);
        writeEvent({
          identity,
          clientIp,
          host: url.hostname,
          url: target,
          d,
          started,
          at,
          method,
          status: upRes.statusCode ?? null,
          passed: true,
        });
        if (!socket.writable) {
          upRes.destroy();
          return;
        }
        const headers = forwardHeaders(upRes.rawHeaders, { via }).filter((_, i, a) => !(i % 2 === 0 && /^content-length$/i.test(a[i]!)));
        socket.write(rawResponseHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', [...headers, 'Connection', 'close']));
        upRes.pipe(socket);
        upRes.on('error', () => socket.destroy());
      });
      up.on('error', (err) => {
        clearTimeout(timer);
        stats.upstreamErrors++;
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, method, status: statusOf(err), layer: 'error' });
        endRaw(socket, statusOf(err), `Haven could not reach ${url.host}: ${reasonOf(err)}.\n`);
      });
      up.end();
    });
  };

  // ---- CONNECT ------------------------------------------------------------------------------

  /** The ClientHello's verdict once it is complete (or the wait is over); the bytes read so far come back too. */
  const readHello = (socket: net.Socket, head: Buffer, done: (bytes: Buffer, hello: ClientHelloResult) => void) => {
    let buf = head;
    let finished = false;
    const finish = (r: ClientHelloResult) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      done(buf, r);
    };
    const check = () => {
      const r = parseClientHello(buf);
      if (r.kind !== 'incomplete') finish(r);
      else if (buf.length > MAX_HELLO_BYTES + 1024) finish({ kind: 'invalid' });
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      check();
    };
    const onEnd = () => finish({ kind: 'incomplete' });
    const timer = setTimeout(() => finish({ kind: 'incomplete' }), limits.helloTimeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    if (buf.length > 0) check();
  };

  /** Terminates TLS with the interception certificate and answers every request inside with the block page. */
  const blockInsideTls = (socket: net.Socket, bytes: Buffer, host: string, page: (path: string) => BlockPageResponse, header: string) => {
    const intercept = deps.intercept;
    if (!intercept) {
      socket.end(TLS_ACCESS_DENIED);
      return;
    }
    intercept.contextFor(host).then(
      (secureContext) => {
        if (socket.destroyed) return;
        const tlsSocket = new tls.TLSSocket(replayed(socket, bytes), { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
        tlsSocket.on('error', () => socket.destroy());
        tlsSocket.setTimeout(limits.idleTimeoutMs, () => tlsSocket.destroy());
        blockPages.set(tlsSocket, { page, header });
        blockServer.emit('connection', tlsSocket);
      },
      () => socket.end(TLS_ACCESS_DENIED),
    );
  };

  const blockPages = new WeakMap<object, { page: (path: string) => BlockPageResponse; header: string }>();
  const blockServer = http.createServer({ maxHeaderSize: limits.maxHeaderBytes }, (req, res) => {
    const entry = blockPages.get(req.socket);
    if (!entry) {
      res.destroy();
      return;
    }
    const page = entry.page(req.url ?? '/');
    res.writeHead(page.status, {
      ...page.headers,
      'content-length': Buffer.byteLength(page.body),
      connection: 'close',
      'x-haven-block': entry.header,
    });
    res.end(req.method === 'HEAD' ? undefined : page.body);
  });
  blockServer.on('clientError', (_e, s) => s.destroy());

  /** Unhooks an upstream from its client, so closing it (the SNI was blocked) leaves the client for the block page. */
  const detach = new WeakMap<net.Socket, () => void>();

  const onConnect = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const started = performance.now();
    stats.requests++;
    socket.on('error', noop);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    const m = AUTHORITY.exec(req.url ?? '');
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      endRaw(socket, 400, 'Bad request: CONNECT needs host:port.\n');
      return;
    }
    const connectHost = m[1]!;
    if (connectPorts !== 'any' && !connectPorts.includes(port)) {
      endRaw(socket, 403, `Haven does not open tunnels to port ${port}.\n`);
      return;
    }
    onRawIdentity(req, socket, (identity, clientIp) => tunnel(socket, head, connectHost, port, identity, clientIp, started));
  };

  /** Connects to the site for a raw tunnel; `failed` gets the error before anything was sent to the client. */
  const connectUpstream = (host: string, port: number, failed: (err: Error) => void, connected: (upstream: net.Socket) => void) => {
    const upstream = net.connect({ host: host.replace(/^\[|\]$/g, ''), port, ...(deps.lookup && { lookup: deps.lookup }) });
    track(upstream);
    upstream.setNoDelay(true);
    const timer = setTimeout(
      () => upstream.destroy(new ProxyError(504, 'the site did not accept a connection in time')),
      limits.connectTimeoutMs,
    );
    upstream.once('error', (err) => {
      clearTimeout(timer);
      stats.upstreamErrors++;
      failed(err);
    });
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.removeAllListeners('error');
      upstream.on('error', noop);
      connected(upstream);
    });
    return upstream;
  };

  const tunnel = (
    socket: net.Socket,
    head: Buffer,
    connectHost: string,
    port: number,
    identity: ClientIdentity,
    clientIp: string,
    started: number,
  ) => {
    const at = now();
    const event = (host: string, d: ProxyDecision | null, status: number, layer?: FilterEvent['layer']) =>
      writeEvent({
        identity,
        clientIp,
        host,
        url: null,
        d,
        started,
        at,
        method: 'CONNECT',
        status,
        passed: status === 200,
        ...(layer && { layer }),
      });

    const blockedPage = (d: ProxyDecision, host: string) => (path: string) =>
      pageFor(d, identity, clientIp, host, `https://${host}${path.startsWith('/') ? path : '/'}`);

    decideThen(identity, connectHost.replace(/^\[|\]$/g, ''), clientIp, new Date(at), (d1) => {
      if (d1 === null) {
        event(connectHost, null, 503, 'error');
        endRaw(socket, 503, 'Haven cannot check this site right now.\n');
        return;
      }
      const v1 = verdict(d1, identity, clientIp);
      if (v1 !== 'pass' && !deps.intercept) {
        stats.blocked++;
        event(connectHost, d1, 403);
        endRaw(socket, 403, `Blocked by your school's web filter (${d1.classification.category ?? 'uncategorised'}).\n`, [
          'X-Haven-Block',
          blockHeaderValue(d1, v1),
          'Via',
          via,
        ]);
        return;
      }
      const established = (upstream: net.Socket | null) => {
        if (!socket.writable) {
          upstream?.destroy();
          return;
        }
        stats.tunnels++;
        socket.write(rawResponseHead(200, 'Connection Established', ['Via', via]));
        readHello(socket, head, (bytes, hello) => {
          const sni = hello.kind === 'sni' ? hello.host : null;
          const finish = (d2: ProxyDecision | null, host: string) => {
            const d = d2 ?? d1;
            const v = v1 !== 'pass' ? v1 : d2 === null ? 'pass' : verdict(d2, identity, clientIp);
            if (v !== 'pass') {
              stats.blocked++;
              if (upstream) {
                detach.get(upstream)?.();
                upstream.destroy();
              }
              event(host, v1 !== 'pass' ? d1 : d, 403);
              blockInsideTls(socket, bytes, host, blockedPage(v1 !== 'pass' ? d1 : d, host), blockHeaderValue(v1 !== 'pass' ? d1 : d, v));
              return;
            }
            const pipeTo = (up: net.Socket) => {
              if (bytes.length > 0) up.write(bytes);
              pipeTunnel(socket, up);
              socket.resume();
            };
            if (upstream) {
              event(host, d, 200);
              pipeTo(upstream);
              return;
            }
            // Only a TLS ClientHello can be decrypted; anything else goes through as a tunnel, decided on the CONNECT host as without interception.
            if ((hello.kind === 'sni' || hello.kind === 'no-sni') && inspectable(host, d)) {
              // Each request inside is decided and logged on its own full URL.
              inspect(socket, bytes, { identity, clientIp, host: host.replace(/^\[|\]$/g, ''), port, upstream: deps.intercept!.upstream! });
              return;
            }
            // Exempt (by its SNI) after all: tunnelled untouched, to the CONNECT host as always.
            const onEarlyClose = () => late.destroy();
            const late = connectUpstream(
              connectHost,
              port,
              () => {
                socket.off('close', onEarlyClose);
                event(host, d, 502, 'error');
                socket.destroy();
              },
              (up) => {
                socket.off('close', onEarlyClose);
                event(host, d, 200);
                up.once('close', () => socket.destroy());
                pipeTo(up);
              },
            );
            socket.once('close', onEarlyClose);
          };
          if (sni !== null && !sameHost(sni, connectHost)) {
            decideThen(identity, sni, clientIp, new Date(at), (d2) => {
              if (d2 === null) {
                upstream?.destroy();
                event(sni, null, 503, 'error');
                socket.destroy();
                return;
              }
              finish(d2, sni);
            });
          } else {
            finish(null, sni ?? connectHost);
          }
        });
      };
      if (v1 !== 'pass' || inspectable(connectHost, d1)) {
        // The block page, or inspection: served from here, the site is reached per request.
        established(null);
        return;
      }
      const onCloseEarly = () => upstream.destroy();
      const upstream = connectUpstream(
        connectHost,
        port,
        (err) => {
          event(connectHost, d1, statusOf(err), 'error');
          endRaw(socket, statusOf(err), `Haven could not reach ${connectHost}: ${reasonOf(err)}.\n`);
        },
        () => {
          socket.off('close', onCloseEarly);
          const closeClient = () => socket.destroy();
          upstream.once('close', closeClient);
          detach.set(upstream, () => upstream.off('close', closeClient));
          established(upstream);
        },
      );
      socket.once('close', onCloseEarly);
    });
  };

  // ---- inspection of allowed tunnels ----------------------------------------------------------

  const inspectable = (host: string, d: ProxyDecision): boolean => {
    const i = deps.intercept;
    if (!i?.shouldInspect || !i.upstream) return false;
    try {
      return i.shouldInspect(host.replace(/^\[|\]$/g, '').toLowerCase(), d.classification.category);
    } catch {
      return false;
    }
  };

  /** Terminates TLS with the host's leaf certificate and serves the requests inside (HTTP/1.1, keep-alive). */
  const inspect = (socket: net.Socket, bytes: Buffer, t: InspectedTunnel) => {
    deps.intercept!.contextFor(t.host).then(
      (secureContext) => {
        if (socket.destroyed) return;
        stats.inspected++;
        const tlsSocket = new tls.TLSSocket(replayed(socket, bytes), { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
        tlsSocket.on('error', () => socket.destroy());
        tlsSocket.once('close', () => socket.destroy());
        const total = setTimeout(() => tlsSocket.destroy(), limits.tunnelTimeoutMs);
        total.unref();
        tlsSocket.once('close', () => clearTimeout(total));
        inspectedTunnels.set(tlsSocket, t);
        inspectServer.emit('connection', tlsSocket);
      },
      () => socket.end(TLS_ACCESS_DENIED),
    );
  };

  const authorityOf = (t: InspectedTunnel) => `${t.host.includes(':') ? `[${t.host}]` : t.host}${t.port === 443 ? '' : `:${t.port}`}`;

  const inspectedTunnels = new WeakMap<object, InspectedTunnel>();
  const inspectServer = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    },
    (req, res) => {
      const started = performance.now();
      stats.requests++;
      req.on('error', noop);
      res.on('error', noop);
      const t = inspectedTunnels.get(req.socket);
      if (!t) {
        res.destroy();
        return;
      }
      const path = req.url ?? '';
      let url: URL | null = null;
      try {
        url = path.startsWith('/') ? new URL(`https://${authorityOf(t)}${path}`) : null;
      } catch {
        url = null;
      }
      if (url === null) {
        plain(res, 400, 'Bad request.\n');
        return;
      }
      // The site is the one the tunnel was decided for; a different Host header (domain fronting) is not followed.
      handle(req, res, url, url.href, t.identity, t.clientIp, started, t);
    },
  );
  inspectServer.timeout = limits.idleTimeoutMs;
  inspectServer.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const t = inspectedTunnels.get(socket);
    if (!t || !(req.url ?? '').startsWith('/')) {
      socket.destroy();
      return;
    }
    upgrade(req, socket, head, `https://${authorityOf(t)}${req.url ?? '/'}`, t);
  });
  inspectServer.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    stats.clientErrors++;
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    endRaw(socket, err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, 'Bad request.\n');
  });

  // ---- the server, its limits and client errors ----------------------------------------------

  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      noDelay: true,
    },
    onRequest,
  );
  server.timeout = limits.idleTimeoutMs;
  server.on('connect', onConnect);
  server.on('upgrade', onUpgrade);

  server.on('connection', (socket: net.Socket) => {
    stats.connections++;
    track(socket);
    const ip = clientIpOf(socket);
    const mine = (perClient.get(ip) ?? 0) + 1;
    perClient.set(ip, mine);
    socket.once('close', () => {
      stats.connections--;
      const left = (perClient.get(ip) ?? 1) - 1;
      if (left <= 0) perClient.delete(ip);
      else perClient.set(ip, left);
    });
    if (stats.connections > limits.maxConnections || mine > limits.maxConnectionsPerClient) {
      stats.rejectedConnections++;
      const perClientLimit = mine > limits.maxConnectionsPerClient;
      socket.on('error', noop);
      endRaw(socket, perClientLimit ? 429 : 503, perClientLimit ? 'Too many connections from your device.\n' : 'The web filter is busy.\n');
      socket.destroySoon?.();
    }
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    stats.clientErrors++;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = status === 431 ? 'Request headers too large.\n' : status === 408 ? 'Request timed out.\n' : 'Bad request.\n';
    // A response in progress on this connection, which we must not write across.
    const busy = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (!busy) {
      endRaw(socket, status, body);
      return;
    }
    if (!busy.req.complete) {
      // The error is in this request's own body (bad chunking): answer 400 if we still can, and stop.
      if (busy.headersSent) socket.destroy();
      else {
        busy.shouldKeepAlive = false;
        plain(busy, status, body, { connection: 'close' });
        busy.once('finish', () => socket.destroy());
      }
      return;
    }
    // A pipelined next request is bad: finish the current response, then answer 400 and close.
    busy.once('finish', () => endRaw(socket, status, body));
    busy.once('close', () => socket.destroy());
  });
  server.on('error', noop);

  return {
    server,
    stats: (): ProxyStats => ({ ...stats }),
    setListening(address: { host: string; port: number }) {
      listening = address;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      httpAgent.destroy();
      httpsAgent.destroy();
      inspectAgent.destroy();
    },
  };
};

export type Proxy = ReturnType<typeof createProxy>;

export interface ProxyServer {
  proxy: Proxy;
  host: string;
  port: number;
  stats(): ProxyStats;
  close(): Promise<void>;
}

/** Creates the proxy and listens; port 0 picks a free one. */
export const startProxyServer = async (deps: ProxyDeps, options: { host: string; port: number }): Promise<ProxyServer> => {
  const proxy = createProxy(deps);
  await new Promise<void>((resolve, reject) => {
    proxy.server.once('error', reject);
    proxy.server.listen(options.port, options.host, () => {
      proxy.server.off('error', reject);
      resolve();
    });
  });
  const port = (proxy.server.address() as net.AddressInfo).port;
  proxy.setListening({ host: options.host, port });
  return { proxy, host: options.host, port, stats: () => proxy.stats(), close: () => proxy.close() };
};
