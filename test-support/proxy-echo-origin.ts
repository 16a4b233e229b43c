/**
 * A stand-in site for proxy tests (a local "www.google.com"): HTTPS, or plain HTTP, answering every
 * request with what it received (the SNI, method, path and query, headers) as JSON, plus a small HTML
 * page at /page; a WebSocket upgrade on any path echoes text frames. It records each request,
 * listens on 127.0.0.1 and is closed by the caller.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { readWsFrame, wsFrame, type TestCert } from './proxy-origins.ts';

export interface EchoSeen {
  sni: string | null;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface EchoOrigin {
  port: number;
  seen: EchoSeen[];
  close(): Promise<void>;
}

/** With a certificate: HTTPS; without: plain HTTP. */
export const startEchoOrigin = async (cert?: TestCert): Promise<EchoOrigin> => {
  const seen: EchoSeen[] = [];
  const sockets = new Set<net.Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sni = (req.socket as unknown as { servername?: string | false }).servername;
    const entry: EchoSeen = {
      sni: typeof sni === 'string' ? sni : null,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
    };
    seen.push(entry);
    req.resume();
    req.on('end', () => {
      if ((req.url ?? '').startsWith('/page')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html lang="en"><head><title>Stand-in site</title></head><body><h1>An allowed page</h1></body></html>');
        return;
      }
      const body = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const server = cert ? https.createServer({ key: cert.key, cert: cert.cert }, handler) : http.createServer(handler);
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const key = req.headers['sec-websocket-key'];
    socket.on('error', () => undefined);
    if (typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
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
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
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

/** Every name to 127.0.0.1 except .invalid (tests never leave loopback). */
export const everythingLoopback = (
  hostname: string,
  options: { all?: boolean },
  cb: (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void,
) => {
  if (hostname.endsWith('.invalid')) {
    const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    err.code = 'ENOTFOUND';
    cb(err, options.all ? [] : '');
    return;
  }
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};
