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
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ClassifiedInput, ClientHint, ClientIdentity, Decision, EventSink, FilterEvent, RequestPerson } from '../../core/index.ts';
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
  upstreamErrors: number;
  /** Connections turned away by the connection limits. */
  rejectedConnections: number;
}

/** The host the warn page's continue link goes to (RFC 6761 .invalid: never a real site; the proxy answers it). */
export const CONTINUE_HOST = 'haven-continue.invalid';
const CONTINUE_TTL_MS = 3_600_000;
const MAX_CONTINUES = 50_000;

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

const reasonOf = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the name does not resolve';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (err instanceof ProxyError) return err.message;
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return 'its certificate is not valid';
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
  const continueKey = randomBytes(32);
  /** "ip host" → when the warning the person clicked through expires. */
  const continued = new Map<string, number>();
  const stats: ProxyStats = {
    connections: 0,
    requests: 0,
    tunnels: 0,
    upgrades: 0,
    blocked: 0,
    clientErrors: 0,
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

  const continueKeyOf = (clientIp: string, host: string) => `${clientIp} ${host}`;
  const hasContinued = (clientIp: string, host: string): boolean => {
    const key = continueKeyOf(clientIp, host);
    const until = continued.get(key);
    if (until === undefined) return false;
    if (until > now()) return true;
    continued.delete(key);
    return false;
  };

  /** block, warn (not yet clicked through) or pass. */
  const verdict = (d: ProxyDecision, identity: ClientIdentity, clientIp: string): 'block' | 'warn' | 'pass' => {
    const action = d.decision?.action ?? 'allow';
    if (action === 'block') return 'block';
    if (action !== 'warn') return 'pass';
    const host = d.classification.host;
    if (host === null) return 'warn';
    return hasContinued(clientIp, host) || deps.warnContinued?.(identity, clientIp, host) === true ? 'pass' : 'warn';
  };

  const sign = (parts: string) => createHmac('sha256', continueKey).update(parts).digest('base64url');
  const continueUrlFor = (clientIp: string, host: string, to: string): string => {
    const expires = String(now() + 10 * 60_000);
    const q = new URLSearchParams({ to, host, e: expires, s: sign(`${clientIp}\n${host}\n${expires}\n${to}`) });
    return `http://${CONTINUE_HOST}/continue?${q.toString()}`;
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
  }) => {
    const decision = e.d?.decision ?? null;
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
      latencyUs: Math.round((performance.now() - e.started) * 1000),
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
      continueUrl: action === 'warn' && url !== null ? continueUrlFor(clientIp, d.classification.host ?? host, url) : null,
    };
    try {
      return render(info);
    } catch {
      return defaultBlockPage(info);
    }
  };

  const blockHeaderValue = (d: ProxyDecision, kind: 'block' | 'warn') =>
    `${kind}; category=${d.classification.category ?? 'uncategorised'}`;

  // ---- direct requests: PAC, WPAD, the warn page's continue link ---------------------------

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

  const serveContinue = (res: http.ServerResponse, url: URL, clientIp: string, started: number) => {
    const q = url.searchParams;
    const to = q.get('to') ?? '';
    const host = q.get('host') ?? '';
    const expires = q.get('e') ?? '';
    const given = Buffer.from(q.get('s') ?? '');
    const want = Buffer.from(sign(`${clientIp}\n${host}\n${expires}\n${to}`));
    const valid =
      url.pathname === '/continue' &&
      given.length === want.length &&
      timingSafeEqual(given, want) &&
      Number(expires) > now() &&
      /^https?:\/\//i.test(to);
    if (!valid) {
      plain(res, 400, 'This link has expired. Go back and try again.\n');
      return;
    }
    if (continued.size >= MAX_CONTINUES) continued.delete(continued.keys().next().value!);
    continued.set(continueKeyOf(clientIp, host), now() + CONTINUE_TTL_MS);
    const identity = deps.identify({ ip: clientIp });
    writeEvent({
      identity,
      clientIp,
      host,
      url: to,
      d: null,
      started,
      at: now(),
      action: 'warn',
      layer: 'fallback',
      ruleId: 'haven:warn-continued',
    });
    res.writeHead(302, { location: to, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
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

  // ---- plain HTTP -------------------------------------------------------------------------

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
    if (url.hostname === CONTINUE_HOST) {
      serveContinue(res, url, clientIp, started);
      return;
    }
    if ((rawHeader(req.rawHeaders, 'via') ?? '').includes(viaToken)) {
      plain(res, 508, 'This request came back to the proxy that sent it.\n');
      return;
    }
    const identity = deps.identify({ ip: clientIp });
    if (identity === null) {
      plain(res, 503, 'Haven has no school set up yet.\n');
      return;
    }
    const at = now();
    decideThen(identity, target, clientIp, new Date(at), (d) => {
      if (d === null) {
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, layer: 'error', action: 'block' });
        plain(res, 503, 'Haven cannot check this site right now. Try again in a moment.\n');
        return;
      }
      const v = verdict(d, identity, clientIp);
      if (v !== 'pass') {
        stats.blocked++;
        const page = pageFor(d, identity, clientIp, url.hostname, target);
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at });
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
      forward(
        req,
        res,
        url,
        () => writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at }),
        () => writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, layer: 'error' }),
      );
    });
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, onResponse: () => void, onFailure: () => void) => {
    const secure = url.protocol === 'https:';
    const headers = forwardHeaders(req.rawHeaders, { via, host: url.host });
    const cl = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const hasBody = chunked || (cl !== undefined && cl !== '0');
    // Transfer-Encoding is hop-by-hop, but the body still needs framing: node chunks it only when
    // told to for GET, DELETE and the like (without this, "hello" would reach the site unframed,
    // as the start of a next request — smuggling by way of the proxy).
    if (chunked) headers.push('Transfer-Encoding', 'chunked');
    const options: https.RequestOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
      agent: secure ? httpsAgent : httpAgent,
      ...(deps.lookup && { lookup: deps.lookup }),
      ...(secure && deps.upstreamTls),
    };
    const total = setTimeout(() => {
      res.destroy();
    }, limits.requestTimeoutMs);
    total.unref();
    res.once('close', () => clearTimeout(total));
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
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', forwardHeaders(upRes.rawHeaders, { via }));
        onResponse();
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
        onFailure();
        plain(res, statusOf(err), `Haven could not reach ${url.host}: ${reasonOf(err)}.\n`);
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

  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const started = performance.now();
    stats.requests++;
    socket.on('error', noop);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    const target = req.url ?? '';
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
    const clientIp = clientIpOf(socket);
    const identity = deps.identify({ ip: clientIp });
    if (identity === null) {
      endRaw(socket, 503, 'Haven has no school set up yet.\n');
      return;
    }
    const at = now();
    decideThen(identity, target, clientIp, new Date(at), (d) => {
      if (d === null) {
        endRaw(socket, 503, 'Haven cannot check this site right now.\n');
        return;
      }
      const v = verdict(d, identity, clientIp);
      if (v !== 'pass') {
        stats.blocked++;
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at });
        const page = pageFor(d, identity, clientIp, url.hostname, target);
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
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        headers: forwardHeaders(req.rawHeaders, { via, host: url.host, upgrade: true }),
        setHost: false,
        agent: false,
        ...(deps.lookup && { lookup: deps.lookup }),
        ...(secure && deps.upstreamTls),
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
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at });
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
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at });
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
        writeEvent({ identity, clientIp, host: url.hostname, url: target, d, started, at, layer: 'error' });
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
    const clientIp = clientIpOf(socket);
    const identity = deps.identify({ ip: clientIp });
    if (identity === null) {
      endRaw(socket, 503, 'Haven has no school set up yet.\n');
      return;
    }
    const at = now();
    const event = (host: string, d: ProxyDecision | null, layer?: FilterEvent['layer']) =>
      writeEvent({ identity, clientIp, host, url: null, d, started, at, ...(layer && { layer }) });

    const blockedPage = (d: ProxyDecision, host: string) => (path: string) =>
      pageFor(d, identity, clientIp, host, `https://${host}${path.startsWith('/') ? path : '/'}`);

    decideThen(identity, connectHost.replace(/^\[|\]$/g, ''), clientIp, new Date(at), (d1) => {
      if (d1 === null) {
        event(connectHost, null, 'error');
        endRaw(socket, 503, 'Haven cannot check this site right now.\n');
        return;
      }
      const v1 = verdict(d1, identity, clientIp);
      if (v1 !== 'pass' && !deps.intercept) {
        stats.blocked++;
        event(connectHost, d1);
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
              event(host, v1 !== 'pass' ? d1 : d);
              blockInsideTls(socket, bytes, host, blockedPage(v1 !== 'pass' ? d1 : d, host), blockHeaderValue(v1 !== 'pass' ? d1 : d, v));
              return;
            }
            event(host, d);
            if (!upstream) return;
            if (bytes.length > 0) upstream.write(bytes);
            pipeTunnel(socket, upstream);
            socket.resume();
          };
          if (sni !== null && !sameHost(sni, connectHost)) {
            decideThen(identity, sni, clientIp, new Date(at), (d2) => {
              if (d2 === null) {
                upstream?.destroy();
                event(sni, null, 'error');
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
      if (v1 !== 'pass') {
        established(null); // intercepting: the block page is served from here, no upstream needed
        return;
      }
      const upstream = net.connect({
        host: connectHost.replace(/^\[|\]$/g, ''),
        port,
        ...(deps.lookup && { lookup: deps.lookup }),
      });
      track(upstream);
      upstream.setNoDelay(true);
      const timer = setTimeout(
        () => upstream.destroy(new ProxyError(504, 'the site did not accept a connection in time')),
        limits.connectTimeoutMs,
      );
      const onCloseEarly = () => upstream.destroy();
      socket.once('close', onCloseEarly);
      upstream.once('error', (err) => {
        clearTimeout(timer);
        stats.upstreamErrors++;
        event(connectHost, d1, 'error');
        endRaw(socket, statusOf(err), `Haven could not reach ${connectHost}: ${reasonOf(err)}.\n`);
      });
      upstream.once('connect', () => {
        clearTimeout(timer);
        upstream.removeAllListeners('error');
        upstream.on('error', noop);
        socket.off('close', onCloseEarly);
        const closeClient = () => socket.destroy();
        upstream.once('close', closeClient);
        detach.set(upstream, () => upstream.off('close', closeClient));
        established(upstream);
      });
    });
  };

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
    /** How many warnings are currently clicked through (bounded by MAX_CONTINUES). */
    continuedCount: () => continued.size,
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
