/**
 * Helpers for proxy tests: a local HTTP origin (plain, chunked, echo, slow, reset and WebSocket
 * echo routes), a TLS origin that reports the SNI it saw, a throwaway self-signed certificate made
 * with the openssl CLI, a lookup that sends *.test names to loopback, raw-socket requests and a
 * minimal WebSocket client. Everything listens on 127.0.0.1 and is closed by the caller.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
}

/** A self-signed certificate for the given names (and 127.0.0.1), from the openssl CLI. */
export const makeCert = (names: readonly string[]): TestCert => {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-proxy-cert-'));
  try {
    const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${names[0] ?? 'localhost'}`,
        '-addext',
        `subjectAltName=${san}`,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Names under .test go to 127.0.0.1; names under .invalid do not resolve; anything else too (tests stay on loopback). */
export const loopbackLookup = (
  hostname: string,
  options: { all?: boolean },
  cb: (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void,
) => {
  if (hostname.endsWith('.invalid') || !(hostname.endsWith('.test') || hostname === 'localhost')) {
    const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    err.code = 'ENOTFOUND';
    cb(err, options.all ? [] : '');
    return;
  }
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

const acceptKey = (key: string) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** One unmasked (server) or masked (client) WebSocket text frame, payload under 126 bytes. */
export const wsFrame = (text: string, mask: boolean): Buffer => {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short frames only');
  if (!mask) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
};

/** The text of one short frame (masked or not), or null when incomplete. */
export const readWsFrame = (buf: Buffer): string | null => {
  if (buf.length < 2) return null;
  const len = buf[1]! & 0x7f;
  const masked = (buf[1]! & 0x80) !== 0;
  const start = 2 + (masked ? 4 : 0);
  if (buf.length < start + len) return null;
  const payload = Buffer.from(buf.subarray(start, start + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[2 + (i % 4)]!;
  return payload.toString();
};

export interface TestOrigin {
  port: number;
  /** Raw headers of the last request each path got. */
  seen: Map<string, string[]>;
  close(): Promise<void>;
}

/**
 * Routes: /hello (Content-Length), /chunked (streamed in pieces), /echo (request body back, streamed),
 * /headers (the request's raw headers as JSON), /big?n= (n bytes), /slow (never answers),
 * /reset (drops the connection), /cookies (two Set-Cookie); Upgrade: websocket on any path echoes frames.
 */
export const startHttpOrigin = async (): Promise<TestOrigin> => {
  const seen = new Map<string, string[]>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    seen.set(url.pathname, req.rawHeaders);
    switch (url.pathname) {
      case '/hello':
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': 5,
          'x-origin': 'yes',
          connection: 'keep-alive, X-Hop',
          'x-hop': 'no',
        });
        res.end('hello');
        return;
      case '/chunked':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one ');
        setTimeout(() => res.end('two'), 20);
        return;
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
        return;
      case '/headers':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.rawHeaders));
        return;
      case '/big': {
        const n = Number(url.searchParams.get('n') ?? '1000000');
        res.writeHead(200, { 'content-length': n });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = n;
        const pump = () => {
          while (left > 0) {
            const part = chunk.subarray(0, Math.min(left, chunk.length));
            left -= part.length;
            if (!res.write(part)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      case '/slow':
        return; // never answers
      case '/reset':
        req.socket.destroy();
        return;
      case '/cookies':
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.end('ok');
        return;
      default:
        res.writeHead(404);
        res.end('not found');
    }
  });
  // Idle keep-alive connections (and so tunnels to this origin) stay up while a test holds them.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: net.Socket) => {
    seen.set('upgrade', req.rawHeaders);
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const text = readWsFrame(buf);
      if (text !== null) {
        buf = Buffer.alloc(0);
        socket.write(wsFrame(`echo: ${text}`, false));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
};

/** An HTTPS origin answering "secure <servername>" (the SNI it was asked for). */
export const startTlsOrigin = async (cert: TestCert): Promise<{ port: number; close(): Promise<void> }> => {
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const sni = (req.socket as unknown as { servername?: string | false }).servername;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`secure ${typeof sni === 'string' ? sni : '-'} ${req.url ?? ''}`);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
};

/** Sends raw bytes to the proxy and resolves with everything it answers until it closes (or `ms` pass). */
export const rawExchange = (port: number, data: string | Buffer, ms = 3000): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('close', done);
    s.on('error', done);
    s.write(data);
  });

/** Status code of the first response in a raw answer (0 when none). */
export const statusOf = (raw: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
