/**
 * CONNECT load for the proxy benchmark (wrk cannot open tunnels): a child process, pinned like
 * wrk, that holds `--connections` connections for `--seconds` and prints one `BENCH {json}` line
 * in wrk's script's shape (bench/proxy-wrk.ts).
 *
 * Modes: `kept` opens one CONNECT tunnel per connection to an allowed host and sends keep-alive
 * GETs through it (plain HTTP inside, so the proxy's part is the byte pipe and the client stays
 * cheap); `new` opens a new tunnel for every request (connect, CONNECT, one GET, close: the
 * decision and set-up cost); `direct` sends the same keep-alive GETs straight to nginx (the limit
 * for this client). Latency is per request (for `new`, from the connect).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'origin-port': { type: 'string' },
    hosts: { type: 'string' },
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'kept' },
    path: { type: 'string', default: '/index.html' },
  },
});
const port = Number(values.port);
const originPort = Number(values['origin-port']);
const mode = values.mode as 'kept' | 'new' | 'direct';
const hosts = readFileSync(values.hosts!, 'utf8').split('\n').filter(Boolean);
const connections = Number(values.connections);
const deadline = performance.now() + Number(values.seconds) * 1000;
const HEAD_END = Buffer.from('\r\n\r\n');

let requests = 0;
let bytes = 0;
let errors = 0;
let refused = 0;
let latencies = new Float64Array(1 << 16);
const record = (ms: number) => {
  if (requests === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[requests++] = ms;
};

/** Reads HTTP responses (or a CONNECT reply) off a socket, one at a time. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private want: (() => void) | null = null;
  private failed: Error | null = null;
  readonly socket: net.Socket;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (b: Buffer) => {
      this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
      bytes += b.length;
      this.want?.();
    });
    const fail = (e: Error) => {
      this.failed = e;
      this.want?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed')));
  }
  /** The status of the next response (its body, by Content-Length, consumed too). */
  next(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.want = () => {
        const end = this.buf.indexOf(HEAD_END);
        if (end >= 0) {
          const head = this.buf.toString('latin1', 0, end);
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          const total = end + 4 + (m ? Number(m[1]) : 0);
          if (this.buf.length >= total) {
            this.buf = this.buf.subarray(total);
            this.want = null;
            resolve(Number(head.slice(9, 12)));
            return;
          }
        }
        if (this.failed) {
          this.want = null;
          reject(this.failed);
        }
      };
      this.want();
    });
  }
}

const connect = (): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });

const get = (host: string) => Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: ${host}:${originPort}\r\n\r\n`);
const connectLine = (host: string) => Buffer.from(`CONNECT ${host}:${originPort} HTTP/1.1\r\nHost: ${host}:${originPort}\r\n\r\n`);

/** Opens a connection (a tunnel unless direct); null when the proxy refused the CONNECT. */
const open = async (host: string): Promise<Reader | null> => {
  const s = await connect();
  const r = new Reader(s);
  if (mode === 'direct') return r;
  s.write(connectLine(host));
  const status = await r.next();
  if (status !== 200) {
    refused++;
    s.destroy();
    return null;
  }
  return r;
};

const worker = async (index: number) => {
  let at = (index * 397) % hosts.length;
  const nextHost = () => hosts[(at = (at + 1) % hosts.length)]!;
  while (performance.now() < deadline) {
    try {
      if (mode === 'new') {
        const t0 = performance.now();
        const host = nextHost();
        const r = await open(host);
        if (!r) continue;
        r.socket.write(get(host));
        const status = await r.next();
        r.socket.destroy();
        if (status !== 200) errors++;
        else record(performance.now() - t0);
        continue;
      }
      const host = nextHost();
      const r = await open(host);
      if (!r) continue;
      const request = get(host);
      while (performance.now() < deadline) {
        const t0 = performance.now();
        r.socket.write(request);
        const status = await r.next();
        if (status !== 200) errors++;
        else record(performance.now() - t0);
      }
      r.socket.destroy();
    } catch {
      errors++;
    }
  }
};

const started = performance.now();
await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
const durationUs = Math.round((performance.now() - started) * 1000);
const sorted = latencies.subarray(0, requests).sort();
const at = (p: number) =>
  sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 1000);
const mean = sorted.length === 0 ? 0 : (sorted.reduce((s, v) => s + v, 0) / sorted.length) * 1000;
process.stdout.write(
  `BENCH ${JSON.stringify({
    requests,
    durationUs,
    bytes,
    p50Us: at(0.5),
    p90Us: at(0.9),
    p99Us: at(0.99),
    maxUs: sorted.length === 0 ? 0 : Math.round(sorted[sorted.length - 1]! * 1000),
    meanUs: mean,
    connectErrors: 0,
    readErrors: errors,
    writeErrors: 0,
    statusErrors: refused,
    timeouts: 0,
  })}\n`,
);
process.exit(0);
