/**
 * The DNS filter's sockets: UDP and TCP (RFC 7766 two-byte length framing, pipelined queries,
 * idle timeouts) on one port, for IPv4 or IPv6 by the address given. Every packet goes to the
 * handler; limits are enforced here: packet size, queries a second per client, TCP connections
 * per client, and a deadline on every answer, so nothing a client sends can hang the server.
 *
 * Most answers are ready at once (`handleNow` returns a Buffer: a block or a cache hit) and are
 * sent in the same turn, with no timer and no Promise. The rest wait in a set that one coarse
 * sweep walks every 100 ms (less for short deadlines): whatever has not been answered by its
 * deadline gets SERVFAIL then, and its late answer is dropped (decision 0010).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import type { DnsHandler } from './handler.ts';
import { createRateLimiter } from './rate-limit.ts';
import { servfailResponse, parseQuery, EdeCode } from './wire/index.ts';

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port (tests). UDP and TCP share it. */
  port: number;
  /** Queries a second per client address (0: no limit) and the burst allowed. */
  ratePerSecond?: number;
  rateBurst?: number;
  /** Longest wait for an answer before SERVFAIL, in ms. */
  answerTimeoutMs?: number;
  tcpIdleMs?: number;
  maxTcpPerClient?: number;
  maxTcpTotal?: number;
}

export interface DnsServerStats {
  udpIn: number;
  tcpIn: number;
  dropped: { rateLimited: number; oversized: number; tcpLimit: number; noAnswer: number };
  timeouts: number;
  errors: number;
  tcpOpen: number;
}

export interface DnsServer {
  readonly port: number;
  stats(): DnsServerStats;
  close(): Promise<void>;
}

/** Largest query accepted over UDP; real queries are well under 512 bytes. */
const MAX_UDP_QUERY = 4096;
/** Largest TCP message accepted (a query; responses may be up to 65,535). */
const MAX_TCP_QUERY = 16_384;

/** A question still waiting for its answer. */
interface Waiting {
  /** performance.now() by which it must be answered (SERVFAIL if the handler has not). */
  deadline: number;
  packet: Buffer;
  respond: (reply: Buffer | null) => void;
  done: boolean;
}

const servfailFor = (packet: Buffer, timedOut: boolean): Buffer | null => {
  const q = parseQuery(packet);
  if (!q.ok) return null;
  return timedOut ? servfailResponse(q, { code: EdeCode.NO_REACHABLE_AUTHORITY, text: 'timed out' }) : servfailResponse(q);
};

export const startDnsServer = async (
  handler: Pick<DnsHandler, 'handle'> & Partial<Pick<DnsHandler, 'handleNow'>>,
  options: DnsServerOptions,
): Promise<DnsServer> => {
  const limiter = createRateLimiter({ perSecond: options.ratePerSecond ?? 1000, burst: options.rateBurst ?? 2000 });
  const answerTimeoutMs = options.answerTimeoutMs ?? 4000;
  const tcpIdleMs = options.tcpIdleMs ?? 10_000;
  const maxTcpPerClient = options.maxTcpPerClient ?? 64;
  const maxTcpTotal = options.maxTcpTotal ?? 4096;
  const stats: DnsServerStats = {
    udpIn: 0,
    tcpIn: 0,
    dropped: { rateLimited: 0, oversized: 0, tcpLimit: 0, noAnswer: 0 },
    timeouts: 0,
    errors: 0,
    tcpOpen: 0,
  };

  // One sweep for every waiting question instead of a timer each; SERVFAIL goes out up to one
  // sweep before the deadline, never after it.
  const sweepMs = Math.max(5, Math.min(100, Math.floor(answerTimeoutMs / 4)));
  const waiting = new Set<Waiting>();
  let sweeper: NodeJS.Timeout | null = null;
  const sweep = () => {
    const now = performance.now();
    // Insertion order is deadline order (one timeout for all): stop at the first still in time.
    for (const w of waiting) {
      if (w.deadline - sweepMs > now) break;
      waiting.delete(w);
      w.done = true;
      stats.timeouts++;
      w.respond(servfailFor(w.packet, true));
    }
    if (waiting.size === 0 && sweeper !== null) {
      clearInterval(sweeper);
      sweeper = null;
    }
  };

  const handleNow = handler.handleNow ?? handler.handle;

  /** Calls `respond` once with the handler's answer, or SERVFAIL at the deadline; never throws. */
  const answer = (packet: Buffer, ip: string, transport: 'udp' | 'tcp', respond: (reply: Buffer | null) => void): void => {
    let result: Buffer | null | Promise<Buffer | null>;
    try {
      result = handleNow(packet, { ip, transport });
    } catch {
      stats.errors++;
      respond(servfailFor(packet, false));
      return;
    }
    if (!(result instanceof Promise)) {
      respond(result);
      return;
    }
    const w: Waiting = { deadline: performance.now() + answerTimeoutMs, packet, respond, done: false };
    waiting.add(w);
    if (sweeper === null) {
      sweeper = setInterval(sweep, sweepMs);
      sweeper.unref();
    }
    result.then(
      (reply) => {
        if (w.done) return;
        w.done = true;
        waiting.delete(w);
        respond(reply);
      },
      () => {
        if (w.done) return;
        w.done = true;
        waiting.delete(w);
        stats.errors++;
        respond(servfailFor(packet, false));
      },
    );
  };

  // UDP
  const onSent = (err: Error | null) => {
    if (err) stats.errors++;
  };
  const udp: UdpSocket = createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', reuseAddr: false });
  udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    stats.udpIn++;
    if (msg.length > MAX_UDP_QUERY) {
      stats.dropped.oversized++;
      return;
    }
    if (!limiter.allow(rinfo.address, performance.now())) {
      stats.dropped.rateLimited++;
      return;
    }
    answer(msg, rinfo.address, 'udp', (reply) => {
      if (reply === null) {
        stats.dropped.noAnswer++;
        return;
      }
      udp.send(reply, rinfo.port, rinfo.address, onSent);
    });
  });
  udp.on('error', () => {
    stats.errors++;
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.port, options.host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;

  // TCP
  const perClient = new Map<string, number>();
  const sockets = new Set<Socket>();
  const tcp: Server = createServer({ noDelay: true }, (socket) => {
    const ip = socket.remoteAddress ?? '';
    const open = perClient.get(ip) ?? 0;
    if (open >= maxTcpPerClient || sockets.size >= maxTcpTotal) {
      stats.dropped.tcpLimit++;
      socket.destroy();
      return;
    }
    perClient.set(ip, open + 1);
    sockets.add(socket);
    stats.tcpOpen = sockets.size;
    socket.setTimeout(tcpIdleMs, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (length === 0 || length > MAX_TCP_QUERY) {
          stats.dropped.oversized++;
          socket.destroy();
          return;
        }
        if (buffered.length < 2 + length) break;
        const packet = Buffer.from(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        stats.tcpIn++;
        if (!limiter.allow(ip, performance.now())) {
          stats.dropped.rateLimited++;
          continue;
        }
        pending++;
        answer(packet, ip, 'tcp', (reply) => {
          pending--;
          if (reply === null || socket.destroyed) return;
          const frame = Buffer.allocUnsafe(2 + reply.length);
          frame.writeUInt16BE(reply.length, 0);
          reply.copy(frame, 2);
          socket.write(frame);
        });
      }
      // A client that sends a length and never the rest is cut off by the idle timeout.
      if (buffered.length > MAX_TCP_QUERY + 2 || pending > 256) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      stats.tcpOpen = sockets.size;
      const n = (perClient.get(ip) ?? 1) - 1;
      if (n <= 0) perClient.delete(ip);
      else perClient.set(ip, n);
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, options.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });

  return {
    port,
    stats: () => ({ ...stats, dropped: { ...stats.dropped } }),
    async close() {
      if (sweeper !== null) clearInterval(sweeper);
      sweeper = null;
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
};
