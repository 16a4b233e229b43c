/**
 * Test helpers for the cache and upstream tests: a tiny hand-rolled DNS message builder (no
 * compression, so every byte is where the test expects it) and fake upstream servers on
 * 127.0.0.1 that answer UDP and TCP on the same random port however the test says. Not used by
 * production code.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, OPT: 41 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface TestRecord {
  name: string;
  type: number;
  ttl: number;
  data: Buffer;
  class?: number;
}

export const encodeName = (name: string): Buffer => {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
};

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export const encodeRecord = (r: TestRecord): Buffer =>
  Buffer.concat([encodeName(r.name), u16(r.type), u16(r.class ?? 1), u32(r.ttl), u16(r.data.length), r.data]);

/** An OPT pseudo-record (EDNS0) with a UDP size and the DO bit. */
export const optRecord = (udpSize = 1232, dnssecOk = false): Buffer =>
  Buffer.concat([Buffer.from([0]), u16(TYPE.OPT), u16(udpSize), Buffer.from([0, 0, dnssecOk ? 0x80 : 0, 0]), u16(0)]);

export interface QueryOptions {
  id?: number;
  rd?: boolean;
  cd?: boolean;
  /** Add an OPT record (EDNS0). */
  edns?: { udpSize?: number; dnssecOk?: boolean };
}

export const buildQuery = (name: string, type: number = TYPE.A, options: QueryOptions = {}): Buffer => {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header[2] = options.rd === false ? 0 : 0x01;
  header[3] = options.cd ? 0x10 : 0;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(options.edns ? 1 : 0, 10);
  const parts = [header, encodeName(name), u16(type), u16(1)];
  if (options.edns) parts.push(optRecord(options.edns.udpSize, options.edns.dnssecOk));
  return Buffer.concat(parts);
};

export interface ResponseOptions {
  id?: number;
  rcode?: number;
  tc?: boolean;
  aa?: boolean;
  answers?: TestRecord[];
  authority?: TestRecord[];
  /** Whole additional records, already encoded (so an OPT can go in). */
  additional?: Buffer[];
  /** Leave the question out (qdcount 0). */
  noQuestion?: boolean;
}

/** A response to `query`: its id (unless overridden) and question, then the given sections. */
export const buildResponse = (query: Buffer, options: ResponseOptions = {}): Buffer => {
  const qEnd = questionEndOf(query);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? query.readUInt16BE(0), 0);
  header[2] = 0x80 | (options.aa ? 0x04 : 0) | (options.tc ? 0x02 : 0) | (query[2]! & 0x01);
  header[3] = 0x80 | ((options.rcode ?? 0) & 0x0f);
  const answers = options.answers ?? [];
  const authority = options.authority ?? [];
  const additional = options.additional ?? [];
  header.writeUInt16BE(options.noQuestion ? 0 : 1, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(additional.length, 10);
  return Buffer.concat([
    header,
    options.noQuestion ? Buffer.alloc(0) : query.subarray(12, qEnd),
    ...answers.map(encodeRecord),
    ...authority.map(encodeRecord),
    ...additional,
  ]);
};

const questionEndOf = (msg: Buffer): number => {
  let off = 12;
  while (msg[off] !== 0) off += msg[off]! + 1;
  return off + 5;
};

export const aRecord = (name: string, ip: string, ttl: number): TestRecord => ({
  name,
  type: TYPE.A,
  ttl,
  data: Buffer.from(ip.split('.').map(Number)),
});

export const cnameRecord = (name: string, target: string, ttl: number): TestRecord => ({
  name,
  type: TYPE.CNAME,
  ttl,
  data: encodeName(target),
});

export const soaRecord = (zone: string, ttl: number, minimum: number): TestRecord => ({
  name: zone,
  type: TYPE.SOA,
  ttl,
  data: Buffer.concat([
    encodeName(`ns1.${zone}`),
    encodeName(`hostmaster.${zone}`),
    u32(2026010101),
    u32(7200),
    u32(3600),
    u32(1209600),
    u32(minimum),
  ]),
});

export const txtRecord = (name: string, text: string, ttl: number): TestRecord => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += 255) {
    const part = Buffer.from(text.slice(i, i + 255), 'ascii');
    chunks.push(Buffer.from([part.length]), part);
  }
  return { name, type: TYPE.TXT, ttl, data: Buffer.concat(chunks) };
};

/** Reads a response's rcode and its answer records' type/TTL/data (names skipped, compression allowed). */
export const readResponse = (
  msg: Buffer,
): { id: number; rcode: number; tc: boolean; answers: { type: number; ttl: number; data: Buffer }[] } => {
  const skipName = (off: number): number => {
    for (;;) {
      const b = msg[off]!;
      if (b === 0) return off + 1;
      if ((b & 0xc0) === 0xc0) return off + 2;
      off += b + 1;
    }
  };
  let off = 12;
  for (let i = 0; i < msg.readUInt16BE(4); i++) off = skipName(off) + 4;
  const answers = [];
  for (let i = 0; i < msg.readUInt16BE(6); i++) {
    off = skipName(off);
    const type = msg.readUInt16BE(off);
    const ttl = msg.readUInt32BE(off + 4);
    const len = msg.readUInt16BE(off + 8);
    answers.push({ type, ttl, data: msg.subarray(off + 10, off + 10 + len) });
    off += 10 + len;
  }
  return { id: msg.readUInt16BE(0), rcode: msg[3]! & 0x0f, tc: (msg[2]! & 0x02) !== 0, answers };
};

/** Dotted IPv4 / colon IPv6 of the A/AAAA answers. */
export const answerAddresses = (msg: Buffer): string[] =>
  readResponse(msg)
    .answers.filter((a) => a.type === TYPE.A || a.type === TYPE.AAAA)
    .map((a) =>
      a.type === TYPE.A ? [...a.data].join('.') : Array.from({ length: 8 }, (_, i) => a.data.readUInt16BE(i * 2).toString(16)).join(':'),
    );

// ---------------------------------------------------------------------------------------------
// Fake upstreams

/** What a fake upstream sends back for one query: nothing (drop), one message, or several in order. */
export type FakeReply = Buffer | Buffer[] | null;
/** `from` is the client's address and port for UDP queries. */
export type FakeHandler = (query: Buffer, via: 'udp' | 'tcp', from?: { address: string; port: number }) => FakeReply | Promise<FakeReply>;

export interface FakeUpstream {
  host: string;
  port: number;
  /** "127.0.0.1:port", as an upstream entry. */
  address: string;
  udpQueries: Buffer[];
  /** Source ports of the UDP queries, in order. */
  udpSourcePorts: number[];
  tcpQueries: Buffer[];
  /** TCP connections accepted. */
  tcpConnections: () => number;
  /** Replace the behaviour (e.g. a server that comes back). */
  setHandler(handler: FakeHandler): void;
  close(): Promise<void>;
}

const bindUdp = (socket: dgram.Socket): Promise<number> =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });

const listenTcp = (server: net.Server, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const onError = (): void => resolve(false);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(true);
    });
  });

/** A DNS server on 127.0.0.1, UDP and TCP on one random port, answering through `handler`. */
export const startFakeUpstream = async (initial: FakeHandler): Promise<FakeUpstream> => {
  let handler = initial;
  const udpQueries: Buffer[] = [];
  const udpSourcePorts: number[] = [];
  const tcpQueries: Buffer[] = [];
  let accepted = 0;
  const connections = new Set<net.Socket>();

  for (let tries = 0; tries < 20; tries++) {
    const udp = dgram.createSocket('udp4');
    const port = await bindUdp(udp);
    const tcp = net.createServer((conn) => {
      connections.add(conn);
      accepted++;
      conn.on('close', () => connections.delete(conn));
      conn.on('error', () => conn.destroy());
      let buf = Buffer.alloc(0);
      conn.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          const query = buf.subarray(2, buf.readUInt16BE(0) + 2);
          buf = buf.subarray(query.length + 2);
          tcpQueries.push(query);
          void Promise.resolve(handler(query, 'tcp')).then((reply) => {
            for (const msg of reply === null ? [] : Array.isArray(reply) ? reply : [reply]) {
              if (!conn.destroyed) conn.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]));
            }
          });
        }
      });
    });
    if (!(await listenTcp(tcp, port))) {
      udp.close();
      continue;
    }
    udp.on('message', (query, rinfo) => {
      udpQueries.push(query);
      udpSourcePorts.push(rinfo.port);
      void Promise.resolve(handler(query, 'udp', { address: rinfo.address, port: rinfo.port })).then((reply) => {
        for (const msg of reply === null ? [] : Array.isArray(reply) ? reply : [reply]) {
          try {
            udp.send(msg, rinfo.port, rinfo.address);
          } catch {
            // closed meanwhile
          }
        }
      });
    });
    return {
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
      udpQueries,
      udpSourcePorts,
      tcpQueries,
      tcpConnections: () => accepted,
      setHandler: (h) => (handler = h),
      close: () =>
        new Promise<void>((resolve) => {
          for (const c of connections) c.destroy();
          udp.close();
          tcp.close(() => resolve());
        }),
    };
  }
  throw new Error('could not find a port free for both UDP and TCP');
};
