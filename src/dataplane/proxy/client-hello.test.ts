/**
 * The SNI reader against real ClientHellos (Node's TLS client, captured on loopback), fed whole,
 * byte by byte and re-split into several records; and against truncation and random garbage.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { parseClientHello } from './client-hello.ts';

/** The first bytes a TLS client sends, captured by a plain TCP server. */
const captureHello = (servername: string | undefined): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      let got = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (parseClientHello(got).kind !== 'incomplete') {
          socket.destroy();
          server.close();
          resolve(got);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const client = connect({ host: '127.0.0.1', port, ...(servername !== undefined && { servername }), rejectUnauthorized: false });
      client.on('error', () => undefined);
    });
    server.on('error', reject);
  });

/** The same handshake message in records of at most `size` bytes. */
const resplit = (hello: Buffer, size: number): Buffer => {
  const len = hello.readUInt16BE(3);
  const payload = hello.subarray(5, 5 + len);
  const records: Buffer[] = [];
  for (let p = 0; p < payload.length; p += size) {
    const part = payload.subarray(p, p + size);
    const head = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    head.writeUInt16BE(part.length, 3);
    records.push(head, part);
  }
  return Buffer.concat(records);
};

describe('parseClientHello', () => {
  it('reads the server name from a real ClientHello, whole and byte by byte', async () => {
    const hello = await captureHello('www.Example.test');
    assert.deepEqual(parseClientHello(hello), { kind: 'sni', host: 'www.example.test' });
    for (let n = 1; n < hello.length; n++) {
      const r = parseClientHello(hello.subarray(0, n));
      assert.equal(r.kind, 'incomplete', `after ${n} bytes`);
    }
  });

  it('reassembles a hello split over several records', async () => {
    const hello = await captureHello('split.example.test');
    for (const size of [1, 7, 100]) assert.deepEqual(parseClientHello(resplit(hello, size)), { kind: 'sni', host: 'split.example.test' });
    const split = resplit(hello, 50);
    assert.equal(parseClientHello(split.subarray(0, split.length - 3)).kind, 'incomplete');
  });

  it('says when there is no server name (a client connecting to an address)', async () => {
    const hello = await captureHello(undefined);
    assert.deepEqual(parseClientHello(hello), { kind: 'no-sni' });
  });

  it('tells other protocols from TLS', () => {
    assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
    assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x02])), { kind: 'not-tls' });
    assert.deepEqual(parseClientHello(Buffer.alloc(0)), { kind: 'incomplete' });
    // A handshake record carrying a ServerHello (type 2), not a ClientHello.
    assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])), { kind: 'not-tls' });
  });

  it('refuses broken and oversized hellos', async () => {
    const hello = await captureHello('x.example.test');
    const badLen = Buffer.from(hello);
    badLen.writeUInt16BE(0, 3);
    assert.equal(parseClientHello(badLen).kind, 'invalid');
    const huge = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x10, 0x00, 0x00, 0, 0, 0, 0]);
    assert.equal(parseClientHello(huge).kind, 'invalid');
    // A bad server name is no server name.
    const name = Buffer.from('x.example.test');
    const at = hello.indexOf(name);
    const evil = Buffer.from(hello);
    evil.write('x.exa<ple.tes', at, 'latin1');
    assert.deepEqual(parseClientHello(evil), { kind: 'no-sni' });
  });

  it('never throws on random or mutated bytes', async () => {
    const hello = await captureHello('fuzz.example.test');
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20_000; i++) {
      const b = i % 2 === 0 ? Buffer.from(hello) : Buffer.alloc(Math.floor(rand() * 600));
      if (i % 2 === 1) for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      else for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      if (i % 4 === 1) b[0] = 0x16;
      const r = parseClientHello(b.subarray(0, Math.floor(rand() * (b.length + 1))));
      assert.ok(['incomplete', 'sni', 'no-sni', 'not-tls', 'invalid'].includes(r.kind));
      if (r.kind === 'sni') assert.match(r.host, /^[a-z0-9_.-]+$/);
    }
  });
});
