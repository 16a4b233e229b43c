/**
 * The DNS filter's sockets: UDP and TCP (RFC 7766 two-byte length framing, pipelined queries,
 * idle timeouts) on one port, for IPv4 or IPv6 by the address given. Every packet goes to the
 * handler; limits are enforced here: packet size, queries a second per client, TCP connections
 * per client, and a deadline on every answer, so nothing a client sends can hang the server.
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

export const startDnsServer = async (handler: DnsHandler, options: DnsServerOptions): Promise<DnsServer> => {
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

  /** The handler's answer, or SERVFAIL at the deadline; never throws. */
  const answer = async (packet: Buffer, ip: string, transport: 'udp' | 'tcp'): Promise<Buffer | null> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), answerTimeoutMs);
    });
    try {
      const result = await Promise.race([handler.handle(packet, { ip, transport }), deadline]);
      if (result !== 'timeout') return result;
      stats.timeouts++;
      const q = parseQuery(packet);
      return q.ok ? servfailResponse(q, { code: EdeCode.NO_REACHABLE_AUTHORITY, text: 'timed out' }) : null;
    } catch {
      stats.errors++;
      const q = parseQuery(packet);
      return q.ok ? servfailResponse(q) : null;
    } finally {
      clearTimeout(timer);
    }
  };

  // UDP
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
    void answer(msg, rinfo.address, 'udp').then((reply) => {
      if (reply === null) {
        stats.dropped.noAnswer++;
        return;
      }
      udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) stats.errors++;
      });
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
        void answer(packet, ip, 'tcp').then((reply) => {
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
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
};
