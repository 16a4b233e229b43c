import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { downloadToFile, DownloadError } from './http-download.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'haven-dl-'));
const body = Buffer.alloc(200_000, '0123456789abcdef');
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    const sock = req.socket;
    switch (req.url ?? '') {
      case '/ok':
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/gzip' });
        res.end(body);
        return;
      case '/short':
        // Promises 200 000 bytes, sends half, closes cleanly.
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
        sock.end(body.subarray(0, 100_000));
        return;
      case '/dies':
        res.writeHead(200, { 'content-type': 'application/gzip' });
        res.write(body.subarray(0, 50_000), () => setTimeout(() => sock.destroy(), 20));
        return;
      case '/missing':
        res.writeHead(404).end('not here');
        return;
      case '/huge':
        res.writeHead(200, { 'content-length': 5_000_000 });
        res.end();
        return;
      case '/endless':
        res.writeHead(200);
        for (let i = 0; i < 40; i++) res.write(body.subarray(0, 10_000));
        res.end();
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 1000));
        return; // never ends
      case '/encoded':
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gzipSync(body).length });
        res.end(gzipSync(body));
        return;
      default:
        res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

const options = { maxBytes: 1_000_000, timeoutMs: 10_000, idleTimeoutMs: 5_000 };
let n = 0;
const dest = () => path.join(tmp, `f${n++}`);

describe('downloadToFile', () => {
  it('downloads a whole file with progress', async () => {
    const file = dest();
    const seen: [number, number | null][] = [];
    const result = await downloadToFile(`${base}/ok`, file, { ...options, onProgress: (b, t) => seen.push([b, t]) });
    assert.equal(result.bytes, body.length);
    assert.ok(readFileSync(file).equals(body));
    assert.deepEqual(seen.at(-1), [body.length, body.length]);
  });

  const fails = async (url: string, message: RegExp, extra: Partial<typeof options> = {}) => {
    const file = dest();
    await assert.rejects(
      downloadToFile(url, file, { ...options, ...extra }),
      (e: Error) => e instanceof DownloadError && message.test(e.message),
    );
    assert.equal(existsSync(file), false, 'no partial file is left behind');
  };

  it('fails on a body shorter than its Content-Length', () => fails(`${base}/short`, /incomplete|cut off/));
  it('fails when the server dies mid-transfer', () => fails(`${base}/dies`, /cut off after \d+ bytes/));
  it('fails on HTTP errors', () => fails(`${base}/missing`, /HTTP 404/));
  it('refuses a file announced over the limit, before reading it', () =>
    fails(`${base}/huge`, /5000000 bytes, over the 1000000-byte limit/));
  it('stops a body that grows past the limit', () => fails(`${base}/endless`, /passed the 100000-byte limit/, { maxBytes: 100_000 }));
  it('gives up on a stalled transfer', () => fails(`${base}/stall`, /no data for/, { idleTimeoutMs: 300 }));
  it('gives up after the overall timeout', () => fails(`${base}/stall`, /took longer than/, { timeoutMs: 300 }));
  it('refuses what is not an http(s) URL, and unreachable servers', async () => {
    await fails('ftp://127.0.0.1/x', /only http and https/);
    await fails('not a url', /is not a URL/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await fails(`http://127.0.0.1:${port}/x`, /could not connect/);
  });

  it('accepts a server that compresses anyway (the length then is not the body’s)', async () => {
    const file = dest();
    await downloadToFile(`${base}/encoded`, file, options);
    assert.ok(readFileSync(file).equals(body));
  });
});
