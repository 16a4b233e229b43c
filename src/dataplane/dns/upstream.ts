/**
 * Forwarding to the configured upstream resolvers (`HAVEN_DNS_UPSTREAM`): plain DNS over UDP with
 * TCP fallback on truncation, DNS-over-TLS (RFC 7858) and DNS-over-HTTPS (RFC 8484 POST).
 *
 * Every query leaves with a fresh random id from a fresh socket (so a fresh OS-chosen random
 * source port) while the load allows; a response counts only when id, source and question all
 * match (RFC 5452), anything else is dropped and counted. Upstreams are ranked by smoothed
 * latency; a query fails over to the next on timeout, network error, SERVFAIL or REFUSED.
 * Consecutive hard failures (timeouts, network errors, garbage) mark an upstream down; background
 * probes bring it back. SERVFAIL/REFUSED only lower its rank: they are often about one name, and a
 * pupil asking for a broken domain in a loop must not take the school's resolvers out of service.
 *
 * Nothing waits forever: each attempt has a timeout, each forward a total budget, and when every
 * upstream is down `forward` rejects at once with an `UpstreamError` so the server can answer
 * SERVFAIL or a stale cache entry. In-flight forwards are bounded.
 */
import dgram from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { questionEnd, sameQuestion, type MillisecondClock } from './cache.ts';

// ---------------------------------------------------------------------------------------------
// Configuration: HAVEN_DNS_UPSTREAM

export type UpstreamSpec =
  /** Plain DNS: UDP, with TCP when an answer is truncated. */
  | { kind: 'dns'; host: string; port: number; label: string }
  /** DNS-over-TLS. `servername` is checked against the certificate (the IP itself when absent and host is an IP). */
  | { kind: 'tls'; host: string; port: number; servername?: string; label: string }
  /** DNS-over-HTTPS, RFC 8484 POST. */
  | { kind: 'https'; url: string; label: string };

export class UpstreamConfigError extends Error {
  readonly code = 'UPSTREAM_CONFIG_INVALID';
  readonly entry: string;
  constructor(entry: string, message: string) {
    super(message);
    this.name = 'UpstreamConfigError';
    this.entry = entry;
  }
}

const parsePort = (entry: string, text: string): number => {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UpstreamConfigError(entry, `upstream "${entry}": port "${text}" is not a number from 1 to 65535`);
  }
  return Number(text);
};

const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** host, [v6], host:port, [v6]:port → host and port (brackets removed). */
const splitHostPort = (entry: string, text: string, defaultPort: number): { host: string; port: number } => {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new UpstreamConfigError(entry, `upstream "${entry}": missing "]" after the IPv6 address`);
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!net.isIPv6(host)) throw new UpstreamConfigError(entry, `upstream "${entry}": "${host}" is not an IPv6 address`);
    if (rest === '') return { host, port: defaultPort };
    if (!rest.startsWith(':')) throw new UpstreamConfigError(entry, `upstream "${entry}": expected ":port" after "]"`);
    return { host, port: parsePort(entry, rest.slice(1)) };
  }
  if (net.isIPv6(text)) return { host: text, port: defaultPort }; // bare IPv6, no port possible
  const colons = text.split(':').length - 1;
  if (colons > 1) throw new UpstreamConfigError(entry, `upstream "${entry}": not an IPv6 address; write IPv6 with a port as [addr]:port`);
  const [host, port] = colons === 1 ? [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)] : [text, undefined];
  if (host === '') throw new UpstreamConfigError(entry, `upstream "${entry}": missing host`);
  return { host, port: port === undefined ? defaultPort : parsePort(entry, port) };
};

const bracket = (host: string): string => (net.isIPv6(host) ? `[${host}]` : host);

/** One upstream: `1.2.3.4`, `1.2.3.4:5300`, `::1`, `[::1]:53`, `https://host/dns-query`, `tls://host[:853][#servername]`. */
export const parseUpstream = (raw: string): UpstreamSpec => {
  const entry = raw.trim();
  if (entry === '') throw new UpstreamConfigError(raw, 'empty upstream entry');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(entry)?.[1]?.toLowerCase();
  if (scheme === 'https') {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new UpstreamConfigError(entry, `upstream "${entry}": not a valid URL`);
    }
    if (url.username || url.password)
      throw new UpstreamConfigError(entry, `upstream "${entry}": credentials in a DoH URL are not supported`);
    if (url.hash) throw new UpstreamConfigError(entry, `upstream "${entry}": a DoH URL has no #fragment`);
    return { kind: 'https', url: url.href, label: url.href };
  }
  if (scheme === 'tls') {
    const rest = entry.slice('tls://'.length);
    const hashAt = rest.indexOf('#');
    const hostPart = hashAt < 0 ? rest : rest.slice(0, hashAt);
    const servername = hashAt < 0 ? undefined : rest.slice(hashAt + 1);
    if (hostPart.includes('/')) throw new UpstreamConfigError(entry, `upstream "${entry}": a tls:// upstream is host[:port] with no path`);
    const { host, port } = splitHostPort(entry, hostPart, 853);
    if (!net.isIP(host) && !HOSTNAME_RE.test(host))
      throw new UpstreamConfigError(entry, `upstream "${entry}": "${host}" is not a host name or IP address`);
    if (servername !== undefined && (servername === '' || !HOSTNAME_RE.test(servername))) {
      throw new UpstreamConfigError(entry, `upstream "${entry}": "#${servername}" is not a valid TLS server name`);
    }
    const label = `tls://${bracket(host)}:${port}${servername ? `#${servername}` : ''}`;
    return servername ? { kind: 'tls', host, port, servername, label } : { kind: 'tls', host, port, label };
  }
  if (scheme === 'http') {
    throw new UpstreamConfigError(entry, `upstream "${entry}": DNS-over-HTTPS needs https://; plain http would expose every query`);
  }
  if (scheme !== undefined) {
    throw new UpstreamConfigError(
      entry,
      `upstream "${entry}": unsupported scheme "${scheme}://" (use an IP address, https:// for DoH or tls:// for DoT)`,
    );
  }
  const { host, port } = splitHostPort(entry, entry, 53);
  if (!net.isIP(host)) {
    throw new UpstreamConfigError(
      entry,
      `upstream "${entry}": plain DNS upstreams must be IP addresses (looking up a name would need DNS); use https:// or tls:// for a named server`,
    );
  }
  return { kind: 'dns', host, port, label: `${bracket(host)}:${port}` };
};

/** `HAVEN_DNS_UPSTREAM`: comma-separated upstreams, tried in order of health and speed. */
export const parseUpstreams = (text: string): UpstreamSpec[] => {
  if (text.trim() === '') throw new UpstreamConfigError(text, 'no DNS upstreams configured');
  const specs = text.split(',').map((part, i) => {
    if (part.trim() === '') throw new UpstreamConfigError(text, `upstream list "${text}": entry ${i + 1} is empty`);
    return parseUpstream(part);
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.label)) throw new UpstreamConfigError(s.label, `upstream "${s.label}" is listed twice`);
    seen.add(s.label);
  }
  return specs;
};

// ---------------------------------------------------------------------------------------------
// Errors

export type UpstreamErrorCode = 'ALL_UPSTREAMS_DOWN' | 'UPSTREAMS_FAILED' | 'OVERLOADED' | 'BAD_QUERY' | 'CLOSED';

export type AttemptOutcome = 'timeout' | 'error' | 'servfail' | 'refused';

export interface UpstreamAttempt {
  upstream: string;
  outcome: AttemptOutcome;
  detail: string;
  ms: number;
}

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly attempts: readonly UpstreamAttempt[];
  /** The last SERVFAIL/REFUSED answer, with the client's id, when every attempt ended in one. */
  readonly response: Buffer | undefined;
  constructor(code: UpstreamErrorCode, message: string, attempts: readonly UpstreamAttempt[] = [], response?: Buffer) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.attempts = attempts;
    this.response = response;
  }
}

/** Why one exchange failed; `hard` failures count towards marking the upstream down. */
class ExchangeError extends Error {
  readonly outcome: 'timeout' | 'error';
  constructor(outcome: 'timeout' | 'error', message: string) {
    super(message);
    this.outcome = outcome;
  }
}

// ---------------------------------------------------------------------------------------------
// Ids and small helpers

const idBytes = Buffer.alloc(1024);
let idPos = idBytes.length;
/** A random 16-bit id, from the CSPRNG in batches. */
const randomId = (): number => {
  if (idPos >= idBytes.length) {
    randomFillSync(idBytes);
    idPos = 0;
  }
  const id = idBytes.readUInt16BE(idPos);
  idPos += 2;
  return id;
};

/** A random id not in `taken` (after a few tries, null: the socket is full). */
const freeId = (taken: ReadonlyMap<number, unknown>): number | null => {
  for (let i = 0; i < 32; i++) {
    const id = randomId();
    if (!taken.has(id)) return id;
  }
  return null;
};

const RCODE_FORMERR = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NOTIMP = 4;
const RCODE_REFUSED = 5;
const MAX_MESSAGE = 0xffff;

/**
 * Whether `res` answers `query` (same id already checked): a response, same question. A response
 * without a question is accepted only as an error the server could not tie to a question.
 */
const answersQuery = (res: Buffer, query: Buffer, qEnd: number): boolean => {
  if (res.length < 12 || (res[2]! & 0x80) === 0) return false;
  const qd = res.readUInt16BE(4);
  if (qd === 0) {
    const rcode = res[3]! & 0x0f;
    return rcode === RCODE_FORMERR || rcode === RCODE_NOTIMP || rcode === RCODE_REFUSED || rcode === RCODE_SERVFAIL;
  }
  return qd === 1 && sameQuestion(res, questionEnd(res), query, qEnd);
};

/** The probe: `<name> NS IN`, RD set. */
const probeQuery = (name: string): { wire: Buffer; qEnd: number } => {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length === 0 || b.length > 63) throw new RangeError(`health check name "${name}" has an invalid label`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, 0, 2, 0, 1]));
  const wire = Buffer.concat(parts);
  return { wire, qEnd: wire.length };
};

// ---------------------------------------------------------------------------------------------
// Transports. Each takes the client's query, sends a copy under its own id and resolves with the
// matching response (upstream's id still in it) or rejects with an ExchangeError.

interface Transport {
  exchange(query: Buffer, qEnd: number, timeoutMs: number): Promise<Buffer>;
  close(): void;
}

interface Counters {
  mismatched: number;
}

interface Pending {
  id: number;
  wire: Buffer;
  qEnd: number;
  resolve: (res: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  retried: boolean;
  /** performance.now() when last written to a stream. */
  sentAt: number;
}

const withId = (query: Buffer, id: number): Buffer => {
  const wire = Buffer.allocUnsafe(query.length);
  query.copy(wire);
  wire.writeUInt16BE(id, 0);
  return wire;
};

interface UdpSocketState {
  socket: dgram.Socket;
  pending: Map<number, Pending>;
  uses: number;
  connected: boolean;
  queue: Buffer[];
  closed: boolean;
  /** Takes no new queries (used up or too old); closes once its answers are in. */
  retired: boolean;
  /** Retires it after UDP_SOCKET_MAX_AGE_MS even if it is never used up. */
  ageTimer: NodeJS.Timeout | undefined;
}

/**
 * A small pool of sockets, each on its own random source port (the kernel picks it), each retired
 * after UDP_SOCKET_USES queries or UDP_SOCKET_MAX_AGE_MS: a spoofed answer must still guess the
 * port as well as the id, while a forward costs a send instead of a socket's create, bind, connect
 * and close (decision 0010).
 */
const UDP_SOCKET_USES = 64;
const UDP_SOCKET_MAX_AGE_MS = 10_000;
/** Sockets taking queries at once; queries spread over them at random. */
const UDP_POOL_SIZE = 4;

class UdpTransport implements Transport {
  readonly #host: string;
  readonly #port: number;
  readonly #type: 'udp4' | 'udp6';
  readonly #maxSockets: number;
  readonly #counters: Counters;
  readonly #sockets = new Set<UdpSocketState>();
  /** Open sockets still taking queries (at most UDP_POOL_SIZE). */
  readonly #active: UdpSocketState[] = [];

  constructor(host: string, port: number, maxSockets: number, counters: Counters) {
    this.#host = host;
    this.#port = port;
    this.#type = net.isIPv6(host) ? 'udp6' : 'udp4';
    this.#maxSockets = maxSockets;
    this.#counters = counters;
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  #open(): UdpSocketState {
    const socket = dgram.createSocket({ type: this.#type });
    const state: UdpSocketState = {
      socket,
      pending: new Map(),
      uses: 0,
      connected: false,
      queue: [],
      closed: false,
      retired: false,
      ageTimer: undefined,
    };
    // An idle pool socket must not keep the process alive; a query's own timer does while it waits.
    socket.unref();
    state.ageTimer = setTimeout(() => this.#retire(state), UDP_SOCKET_MAX_AGE_MS);
    state.ageTimer.unref();
    this.#sockets.add(state);
    this.#active.push(state);
    socket.on('message', (msg, rinfo) => this.#onMessage(state, msg, rinfo));
    // Connected UDP: the kernel drops datagrams from other addresses and reports ICMP
    // unreachable as ECONNREFUSED, so a closed port fails fast instead of timing out.
    socket.on('error', (err) => this.#fail(state, new ExchangeError('error', `udp ${this.#host}:${this.#port}: ${err.message}`)));
    socket.connect(this.#port, this.#host, (...args: unknown[]) => {
      if (args[0] instanceof Error) {
        this.#fail(state, new ExchangeError('error', `udp ${this.#host}:${this.#port}: ${args[0].message}`));
        return;
      }
      state.connected = true;
      for (const wire of state.queue.splice(0)) this.#send(state, wire);
    });
    return state;
  }

  #send(state: UdpSocketState, wire: Buffer): void {
    if (state.closed) return;
    try {
      state.socket.send(wire, (err) => {
        if (err) this.#fail(state, new ExchangeError('error', `udp send to ${this.#host}:${this.#port}: ${err.message}`));
      });
    } catch (err) {
      this.#fail(state, new ExchangeError('error', `udp send to ${this.#host}:${this.#port}: ${(err as Error).message}`));
    }
  }

  /** No new queries on it; it closes now if idle, else when its last answer is in. */
  #retire(state: UdpSocketState): void {
    if (state.retired) return;
    state.retired = true;
    clearTimeout(state.ageTimer);
    const i = this.#active.indexOf(state);
    if (i >= 0) this.#active.splice(i, 1);
    if (state.pending.size === 0) this.#closeSocket(state);
  }

  #acquire(): UdpSocketState {
    if (this.#active.length < UDP_POOL_SIZE && this.#sockets.size < this.#maxSockets) return this.#open();
    if (this.#active.length > 0) {
      const s = this.#active[Math.floor(Math.random() * this.#active.length)]!;
      if (s.pending.size <= 60_000) return s;
    }
    // At the socket bound: share the least busy open socket.
    let fallback: UdpSocketState | undefined;
    for (const s of this.#sockets) {
      if (s.closed || s.pending.size > 60_000) continue;
      if (!fallback || s.pending.size < fallback.pending.size) fallback = s;
    }
    return fallback ?? this.#open();
  }

  #closeSocket(state: UdpSocketState): void {
    if (state.closed) return;
    state.closed = true;
    state.retired = true;
    clearTimeout(state.ageTimer);
    const i = this.#active.indexOf(state);
    if (i >= 0) this.#active.splice(i, 1);
    this.#sockets.delete(state);
    try {
      state.socket.close();
    } catch {
      // already closed
    }
  }

  #settle(state: UdpSocketState, p: Pending): void {
    clearTimeout(p.timer);
    state.pending.delete(p.id);
    if (state.pending.size === 0 && state.retired) this.#closeSocket(state);
  }

  #fail(state: UdpSocketState, err: Error): void {
    const pending = [...state.pending.values()];
    state.pending.clear();
    this.#closeSocket(state);
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  #onMessage(state: UdpSocketState, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || rinfo.port !== this.#port) {
      this.#counters.mismatched++;
      return;
    }
    const p = state.pending.get(msg.readUInt16BE(0));
    if (!p || !answersQuery(msg, p.wire, p.qEnd)) {
      this.#counters.mismatched++;
      return;
    }
    this.#settle(state, p);
    p.resolve(msg);
  }

  exchange(query: Buffer, qEnd: number, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const state = this.#acquire();
      const id = freeId(state.pending);
      if (id === null) {
        reject(new ExchangeError('error', 'no free query id on the shared socket'));
        return;
      }
      const wire = withId(query, id);
      const p: Pending = { id, wire, qEnd, resolve, reject, timer: undefined, retried: false, sentAt: 0 };
      p.timer = setTimeout(() => {
        this.#settle(state, p);
        reject(new ExchangeError('timeout', `no answer from ${this.#host}:${this.#port} in ${timeoutMs} ms`));
      }, timeoutMs);
      state.pending.set(id, p);
      if (++state.uses >= UDP_SOCKET_USES) this.#retire(state);
      if (state.connected) this.#send(state, wire);
      else state.queue.push(wire);
    });
  }

  close(): void {
    for (const s of [...this.#sockets]) this.#fail(s, new ExchangeError('error', 'upstreams closed'));
  }
}

/** One TCP or TLS connection carrying length-framed messages (RFC 1035 §4.2.2, RFC 7766), matched by id. */
class StreamConnection {
  readonly socket: net.Socket;
  readonly pending = new Map<number, Pending>();
  answered = 0;
  /** performance.now() of the last matching response. */
  lastAnswerAt = 0;
  closed = false;
  #buf: Buffer = Buffer.alloc(0);
  readonly #counters: Counters;
  readonly #onResponse: (conn: StreamConnection) => void;
  readonly #onClose: (conn: StreamConnection, err: Error) => void;

  constructor(
    socket: net.Socket,
    counters: Counters,
    onResponse: (conn: StreamConnection) => void,
    onClose: (conn: StreamConnection, err: Error) => void,
  ) {
    this.socket = socket;
    this.#counters = counters;
    this.#onResponse = onResponse;
    this.#onClose = onClose;
    socket.setNoDelay(true);
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => (lastError = err));
    socket.on('close', () => {
      this.closed = true;
      this.#onClose(this, lastError ?? new Error('connection closed'));
    });
  }

  send(p: Pending): void {
    const frame = Buffer.allocUnsafe(p.wire.length + 2);
    frame.writeUInt16BE(p.wire.length, 0);
    p.wire.copy(frame, 2);
    this.pending.set(p.id, p);
    p.sentAt = performance.now();
    this.socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 2) {
      const len = this.#buf.readUInt16BE(0);
      if (this.#buf.length < len + 2) return;
      const msg = Buffer.from(this.#buf.subarray(2, len + 2));
      this.#buf = this.#buf.subarray(len + 2);
      const p = msg.length >= 12 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      if (!p || !answersQuery(msg, p.wire, p.qEnd)) {
        this.#counters.mismatched++;
        continue;
      }
      this.pending.delete(p.id);
      clearTimeout(p.timer);
      this.answered++;
      this.lastAnswerAt = performance.now();
      p.resolve(msg);
      this.#onResponse(this);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Queries over TCP or TLS. `persistent` keeps one connection open (pipelined, closed when idle) —
 * right for DoT, where a handshake per query would cost more than the query. Plain TCP is only the
 * fallback for truncated answers, so it opens a connection per query.
 */
class StreamTransport implements Transport {
  readonly #connect: () => net.Socket;
  readonly #persistent: boolean;
  readonly #idleMs: number;
  readonly #label: string;
  readonly #counters: Counters;
  #conn: StreamConnection | null = null;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #all = new Set<StreamConnection>();

  constructor(label: string, connect: () => net.Socket, persistent: boolean, idleMs: number, counters: Counters) {
    this.#label = label;
    this.#connect = connect;
    this.#persistent = persistent;
    this.#idleMs = idleMs;
    this.#counters = counters;
  }

  #open(): StreamConnection {
    const conn = new StreamConnection(
      this.#connect(),
      this.#counters,
      (c) => {
        if (c.pending.size > 0) return;
        if (!this.#persistent) c.destroy();
        else if (c === this.#conn) this.#armIdle();
      },
      (c, err) => this.#onClose(c, err),
    );
    this.#all.add(conn);
    return conn;
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#conn && this.#conn.pending.size === 0) {
        this.#conn.destroy();
        this.#conn = null;
      }
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  #onClose(conn: StreamConnection, err: Error): void {
    this.#all.delete(conn);
    if (conn === this.#conn) this.#conn = null;
    const pending = [...conn.pending.values()];
    conn.pending.clear();
    for (const p of pending) {
      // A server may close a connection it has already used (RFC 7766 §6.2.3): try once more on a new one.
      if (this.#persistent && conn.answered > 0 && !p.retried) {
        p.retried = true;
        this.#dispatch(p);
      } else {
        clearTimeout(p.timer);
        p.reject(new ExchangeError('error', `${this.#label}: ${err.message}`));
      }
    }
  }

  #dispatch(p: Pending): void {
    clearTimeout(this.#idleTimer);
    let conn: StreamConnection;
    if (this.#persistent) {
      if (!this.#conn || this.#conn.closed) this.#conn = this.#open();
      conn = this.#conn;
    } else {
      conn = this.#open();
    }
    if (conn.pending.has(p.id)) {
      const id = freeId(conn.pending);
      if (id === null) {
        clearTimeout(p.timer);
        p.reject(new ExchangeError('error', `${this.#label}: no free query id on the connection`));
        return;
      }
      p.id = id;
      p.wire.writeUInt16BE(id, 0);
    }
    conn.send(p);
  }

  exchange(query: Buffer, qEnd: number, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const id = randomId();
      const p: Pending = { id, wire: withId(query, id), qEnd, resolve, reject, timer: undefined, retried: false, sentAt: 0 };
      p.timer = setTimeout(() => {
        for (const c of this.#all) {
          if (c.pending.get(p.id) === p) {
            c.pending.delete(p.id);
            // One-shot: done with it. Persistent: silent ever since this query went out, so it is
            // stuck (handshake, dead peer); drop it so the next query and the probes start afresh.
            if (this.#persistent ? c.lastAnswerAt < p.sentAt : c.pending.size === 0) c.destroy();
          }
        }
        reject(new ExchangeError('timeout', `no answer from ${this.#label} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#dispatch(p);
    });
  }

  close(): void {
    clearTimeout(this.#idleTimer);
    for (const c of [...this.#all]) {
      for (const p of c.pending.values()) p.retried = true;
      c.destroy();
    }
  }
}

/** RFC 8484 POST over node:https with keep-alive; id 0 as the RFC recommends. */
class HttpsTransport implements Transport {
  readonly #url: URL;
  readonly #agent: https.Agent;
  readonly #counters: Counters;

  constructor(url: string, tlsOptions: UpstreamTlsOptions, counters: Counters) {
    this.#url = new URL(url);
    this.#counters = counters;
    this.#agent = new https.Agent({
      keepAlive: true,
      maxSockets: 32,
      ...(tlsOptions.ca !== undefined ? { ca: tlsOptions.ca } : {}),
      rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
    });
  }

  exchange(query: Buffer, qEnd: number, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const body = withId(query, 0);
      let done = false;
      const finish = (err: Error | null, res?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res!);
      };
      const req = https.request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message', 'content-length': body.length },
        },
        (res) => {
          const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (res.statusCode !== 200 || type !== 'application/dns-message') {
            res.resume();
            finish(new ExchangeError('error', `${this.#url.href}: HTTP ${res.statusCode} ${type || '(no content-type)'}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_MESSAGE) {
              req.destroy();
              finish(new ExchangeError('error', `${this.#url.href}: response larger than a DNS message`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            const msg = Buffer.concat(chunks);
            if (msg.length < 12 || !answersQuery(msg, body, qEnd)) {
              this.#counters.mismatched++;
              finish(new ExchangeError('error', `${this.#url.href}: the response does not answer the query`));
              return;
            }
            finish(null, msg);
          });
          res.on('error', (err) => finish(new ExchangeError('error', `${this.#url.href}: ${err.message}`)));
        },
      );
      const timer = setTimeout(() => {
        finish(new ExchangeError('timeout', `no answer from ${this.#url.href} in ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => finish(new ExchangeError('error', `${this.#url.href}: ${err.message}`)));
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The upstream set

export interface UpstreamTlsOptions {
  /** Extra trust anchors for DoT/DoH upstreams (PEM), e.g. a school's internal resolver. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Default true. Only for tests. */
  rejectUnauthorized?: boolean;
}

export interface UpstreamsOptions {
  servers: readonly (string | UpstreamSpec)[];
  /** Per-attempt timeout. Default 1500 ms. */
  timeoutMs?: number;
  /** Budget for one `forward` across all attempts. Default 2 × timeoutMs. */
  totalTimeoutMs?: number;
  /** Attempts per forward (failover and retries together). Default 3. */
  maxAttempts?: number;
  /** Consecutive hard failures that mark an upstream down. Default 3. */
  failThreshold?: number;
  /** How often down upstreams are probed. Default 2000 ms. */
  healthIntervalMs?: number;
  /** The probe asks `<name> NS`. Default "." (the root). */
  healthCheckName?: string;
  /** Bound on concurrent forwards; more are rejected with OVERLOADED. Default 10,000. */
  maxInFlight?: number;
  /** UDP sockets per upstream before queries start sharing them. Default 256. */
  maxUdpSocketsPerUpstream?: number;
  /** Idle time before a DoT connection is closed. Default 10,000 ms. */
  streamIdleMs?: number;
  /** `fastest` (default): lowest smoothed latency first. `ordered`: the configured order. */
  strategy?: 'fastest' | 'ordered';
  tls?: UpstreamTlsOptions;
  /** For latency and health bookkeeping; default `performance.now`. */
  clock?: MillisecondClock;
  /** Health changes, for logs. */
  onHealthChange?: (upstream: string, healthy: boolean, reason: string) => void;
}

export interface ForwardOptions {
  /** Overrides the total budget for this forward. */
  timeoutMs?: number;
}

export interface UpstreamStats {
  upstream: string;
  kind: UpstreamSpec['kind'];
  healthy: boolean;
  sent: number;
  answered: number;
  failed: number;
  timeouts: number;
  servfails: number;
  refused: number;
  tcpFallbacks: number;
  mismatched: number;
  probes: number;
  avgLatencyMs: number;
  srttMs: number;
  consecutiveFailures: number;
  lastError: string | null;
}

export interface UpstreamsStats {
  inFlight: number;
  overloaded: number;
  allDown: number;
  upstreams: UpstreamStats[];
}

export interface Upstreams {
  /**
   * Forwards a query and resolves with the response under the query's own id. Rejects with an
   * `UpstreamError`: BAD_QUERY, OVERLOADED, ALL_UPSTREAMS_DOWN (at once), UPSTREAMS_FAILED, CLOSED.
   */
  forward(query: Buffer, options?: ForwardOptions): Promise<Buffer>;
  stats(): UpstreamsStats;
  /** Probes every down upstream now (the background timer does this every healthIntervalMs). */
  probeNow(): Promise<void>;
  close(): void;
}

interface UpstreamState {
  spec: UpstreamSpec;
  transport: Transport;
  tcp: Transport | null;
  order: number;
  healthy: boolean;
  consecutiveFailures: number;
  srtt: number;
  latencyTotal: number;
  probing: boolean;
  stats: Omit<UpstreamStats, 'upstream' | 'kind' | 'healthy' | 'avgLatencyMs' | 'srttMs' | 'consecutiveFailures' | 'mismatched'>;
  counters: Counters;
}

const positiveInt = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return v;
};

export const createUpstreams = (options: UpstreamsOptions): Upstreams => {
  if (options.servers.length === 0) throw new UpstreamConfigError('', 'no DNS upstreams configured');
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs, 1500);
  const totalTimeoutMs = positiveInt('totalTimeoutMs', options.totalTimeoutMs, timeoutMs * 2);
  const maxAttempts = Math.floor(positiveInt('maxAttempts', options.maxAttempts, 3));
  const failThreshold = Math.floor(positiveInt('failThreshold', options.failThreshold, 3));
  const healthIntervalMs = positiveInt('healthIntervalMs', options.healthIntervalMs, 2000);
  const maxInFlight = Math.floor(positiveInt('maxInFlight', options.maxInFlight, 10_000));
  const maxSockets = Math.floor(positiveInt('maxUdpSocketsPerUpstream', options.maxUdpSocketsPerUpstream, 256));
  const streamIdleMs = positiveInt('streamIdleMs', options.streamIdleMs, 10_000);
  const strategy = options.strategy ?? 'fastest';
  const tlsOptions = options.tls ?? {};
  const clock = options.clock ?? (() => performance.now());
  const probe = probeQuery(options.healthCheckName ?? '.');

  const upstreams: UpstreamState[] = options.servers.map((s, order) => {
    const spec = typeof s === 'string' ? parseUpstream(s) : s;
    const counters: Counters = { mismatched: 0 };
    let transport: Transport;
    let tcp: Transport | null = null;
    switch (spec.kind) {
      case 'dns':
        transport = new UdpTransport(spec.host, spec.port, maxSockets, counters);
        tcp = new StreamTransport(
          `tcp ${spec.label}`,
          () => net.connect({ host: spec.host, port: spec.port }),
          false,
          streamIdleMs,
          counters,
        );
        break;
      case 'tls': {
        const servername = spec.servername ?? (net.isIP(spec.host) ? undefined : spec.host);
        transport = new StreamTransport(
          spec.label,
          () =>
            tls.connect({
              host: spec.host,
              port: spec.port,
              ...(servername !== undefined ? { servername } : {}),
              ...(tlsOptions.ca !== undefined ? { ca: tlsOptions.ca } : {}),
              rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
              ALPNProtocols: ['dot'],
            }),
          true,
          streamIdleMs,
          counters,
        );
        break;
      }
      case 'https':
        transport = new HttpsTransport(spec.url, tlsOptions, counters);
        break;
    }
    return {
      spec,
      transport,
      tcp,
      order,
      healthy: true,
      consecutiveFailures: 0,
      srtt: 0,
      latencyTotal: 0,
      probing: false,
      counters,
      stats: { sent: 0, answered: 0, failed: 0, timeouts: 0, servfails: 0, refused: 0, tcpFallbacks: 0, probes: 0, lastError: null },
    };
  });

  let inFlight = 0;
  let overloaded = 0;
  let allDown = 0;
  let closed = false;
  let probeTimer: NodeJS.Timeout | undefined;

  const markSuccess = (u: UpstreamState, latency: number): void => {
    u.srtt = u.srtt === 0 ? latency : 0.7 * u.srtt + 0.3 * latency;
    u.consecutiveFailures = 0;
    if (!u.healthy) {
      u.healthy = true;
      options.onHealthChange?.(u.spec.label, true, 'answered again');
    }
  };

  const markHardFailure = (u: UpstreamState, detail: string): void => {
    u.consecutiveFailures++;
    u.stats.lastError = detail;
    u.srtt = Math.max(u.srtt, timeoutMs); // rank it last until it proves itself again
    if (u.healthy && u.consecutiveFailures >= failThreshold) {
      u.healthy = false;
      options.onHealthChange?.(u.spec.label, false, detail);
      scheduleProbes();
    }
  };

  const ranked = (): UpstreamState[] => {
    const healthy = upstreams.filter((u) => u.healthy);
    if (strategy === 'fastest') healthy.sort((a, b) => a.srtt - b.srtt || a.order - b.order);
    else healthy.sort((a, b) => a.order - b.order);
    return healthy;
  };

  /** Slower upstreams' estimates drift down while unused, so they are measured again now and then. */
  const decayOthers = (chosen: UpstreamState): void => {
    for (const u of upstreams) if (u !== chosen && u.healthy && u.srtt > chosen.srtt) u.srtt *= 0.98;
  };

  const probeOne = async (u: UpstreamState): Promise<void> => {
    if (u.probing || closed) return;
    u.probing = true;
    u.stats.probes++;
    const started = clock();
    try {
      const res = await u.transport.exchange(probe.wire, probe.qEnd, timeoutMs);
      if ((res[3]! & 0x0f) === RCODE_SERVFAIL) u.stats.lastError = 'health probe: SERVFAIL';
      else {
        u.srtt = 0; // measure it afresh on real queries
        markSuccess(u, clock() - started);
      }
    } catch (err) {
      u.stats.lastError = `health probe: ${(err as Error).message}`;
    } finally {
      u.probing = false;
    }
  };

  const probeNow = async (): Promise<void> => {
    await Promise.all(upstreams.filter((u) => !u.healthy).map(probeOne));
    if (upstreams.every((u) => u.healthy) && probeTimer) {
      clearInterval(probeTimer);
      probeTimer = undefined;
    }
  };

  function scheduleProbes(): void {
    if (probeTimer || closed) return;
    probeTimer = setInterval(() => void probeNow(), healthIntervalMs);
    probeTimer.unref();
  }

  const restoreId = (res: Buffer, query: Buffer): Buffer => {
    res[0] = query[0]!;
    res[1] = query[1]!;
    return res;
  };

  const forward = async (query: Buffer, forwardOptions: ForwardOptions = {}): Promise<Buffer> => {
    if (closed) throw new UpstreamError('CLOSED', 'the upstream client is closed');
    const qEnd = questionEnd(query);
    if (query.length > MAX_MESSAGE || qEnd < 0 || (query[2]! & 0x80) !== 0 || query.readUInt16BE(4) !== 1) {
      throw new UpstreamError('BAD_QUERY', 'not a one-question DNS query');
    }
    if (inFlight >= maxInFlight) {
      overloaded++;
      throw new UpstreamError('OVERLOADED', `${maxInFlight} queries already in flight to the upstreams`);
    }
    const candidates = ranked();
    if (candidates.length === 0) {
      allDown++;
      throw new UpstreamError('ALL_UPSTREAMS_DOWN', 'every DNS upstream is down');
    }
    inFlight++;
    try {
      const deadline = clock() + (forwardOptions.timeoutMs ?? totalTimeoutMs);
      const attempts: UpstreamAttempt[] = [];
      const rcodeFailed = new Set<UpstreamState>();
      let lastErrorResponse: Buffer | undefined;
      decayOthers(candidates[0]!);
      for (let i = 0; i < maxAttempts; i++) {
        // Go round the healthy upstreams; one that answered SERVFAIL/REFUSED is not asked again.
        const u =
          candidates.find((c, j) => j >= i % candidates.length && c.healthy && !rcodeFailed.has(c)) ??
          candidates.find((c) => c.healthy && !rcodeFailed.has(c));
        if (!u) break;
        const started = clock();
        const budget = Math.min(timeoutMs, deadline - started);
        if (budget <= 0) break;
        u.stats.sent++;
        try {
          let res = await u.transport.exchange(query, qEnd, budget);
          if (u.tcp && (res[2]! & 0x02) !== 0) {
            u.stats.tcpFallbacks++;
            const left = Math.min(timeoutMs, deadline - clock());
            if (left <= 0) throw new ExchangeError('timeout', `no time left for TCP to ${u.spec.label}`);
            res = await u.tcp.exchange(query, qEnd, left);
          }
          const latency = clock() - started;
          const rcode = res[3]! & 0x0f;
          if (rcode === RCODE_SERVFAIL || rcode === RCODE_REFUSED) {
            const outcome = rcode === RCODE_SERVFAIL ? 'servfail' : 'refused';
            u.stats[outcome === 'servfail' ? 'servfails' : 'refused']++;
            u.stats.failed++;
            u.srtt = (u.srtt === 0 ? latency : u.srtt) + timeoutMs / 4; // lower its rank, do not mark it down
            rcodeFailed.add(u);
            attempts.push({ upstream: u.spec.label, outcome, detail: outcome.toUpperCase(), ms: latency });
            lastErrorResponse = restoreId(res, query);
            continue;
          }
          u.stats.answered++;
          u.latencyTotal += latency;
          markSuccess(u, latency);
          return restoreId(res, query);
        } catch (err) {
          const e = err instanceof ExchangeError ? err : new ExchangeError('error', (err as Error).message);
          u.stats.failed++;
          if (e.outcome === 'timeout') u.stats.timeouts++;
          attempts.push({ upstream: u.spec.label, outcome: e.outcome, detail: e.message, ms: clock() - started });
          if (!closed) markHardFailure(u, e.message);
        }
        if (closed) throw new UpstreamError('CLOSED', 'the upstream client is closed', attempts);
      }
      const summary = attempts.map((a) => `${a.upstream}: ${a.detail}`).join('; ') || 'no time left';
      throw new UpstreamError('UPSTREAMS_FAILED', `no upstream answered (${summary})`, attempts, lastErrorResponse);
    } finally {
      inFlight--;
    }
  };

  return {
    forward,
    probeNow,
    stats: () => ({
      inFlight,
      overloaded,
      allDown,
      upstreams: upstreams.map((u) => ({
        upstream: u.spec.label,
        kind: u.spec.kind,
        healthy: u.healthy,
        ...u.stats,
        mismatched: u.counters.mismatched,
        avgLatencyMs: u.stats.answered === 0 ? 0 : u.latencyTotal / u.stats.answered,
        srttMs: u.srtt,
        consecutiveFailures: u.consecutiveFailures,
      })),
    }),
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(probeTimer);
      probeTimer = undefined;
      for (const u of upstreams) {
        u.transport.close();
        u.tcp?.close();
      }
    },
  };
};
