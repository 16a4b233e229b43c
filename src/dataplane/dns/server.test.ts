/**
 * The sockets: UDP and TCP on one port, RFC 7766 framing with pipelined queries answered as they
 * finish, per-client rate limits, size limits, and a deadline when the pipeline stalls.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { startDnsServer, type DnsServer } from './server.ts';
import { buildQuery, buildResponse, readResponse } from './test-upstream.ts';

type ServerHandler = Parameters<typeof startDnsServer>[0];

/** Answers every query with NOERROR after `delayMs` (per name: "slow." names wait longer). */
const echoHandler = (delayMs = 0): ServerHandler => ({
  handle: async (packet: Buffer) => {
    if (packet.length < 12) return null;
    const slow = packet.includes(Buffer.from('slow'));
    if (slow || delayMs) await new Promise((r) => setTimeout(r, slow ? 10_000 : delayMs));
    return buildResponse(packet);
  },
});

const udpAsk = (port: number, packet: Buffer, waitMs = 1000): Promise<Buffer | null> =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, waitMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(packet, port, '127.0.0.1');
  });

const frame = (packet: Buffer) => Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet]);

/** Sends `data` on one TCP connection and collects framed replies until `count` or the socket closes. */
const tcpExchange = (port: number, data: Buffer[], count: number, waitMs = 3000): Promise<{ replies: Buffer[]; closed: boolean }> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('connect', () => {
      for (const d of data) socket.write(d);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= count) done();
    });
    socket.on('close', () => {
      closed = true;
      done();
    });
    socket.on('error', () => undefined);
  });

describe('DNS server sockets', () => {
  const servers: DnsServer[] = [];
  const start = async (handler: ServerHandler, options: Partial<Parameters<typeof startDnsServer>[1]> = {}) => {
    const s = await startDnsServer(handler, { host: '127.0.0.1', port: 0, ...options });
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('answers over UDP and TCP on the same port', async () => {
    const s = await start(echoHandler());
    const udp = await udpAsk(s.port, buildQuery('a.example', 1, { id: 0x1111 }));
    assert.equal(udp?.readUInt16BE(0), 0x1111);
    const { replies } = await tcpExchange(s.port, [frame(buildQuery('a.example', 1, { id: 0x2222 }))], 1);
    assert.equal(replies[0]?.readUInt16BE(0), 0x2222);
  });

  it('takes pipelined TCP queries split across packets and answers each', async () => {
    const s = await start(echoHandler(5));
    const all = Buffer.concat([1, 2, 3, 4, 5].map((id) => frame(buildQuery(`q${id}.example`, 1, { id }))));
    // Split at awkward places: inside a length prefix and inside a message.
    const parts = [all.subarray(0, 1), all.subarray(1, 20), all.subarray(20, 61), all.subarray(61)];
    const { replies } = await tcpExchange(s.port, parts, 5);
    assert.deepEqual(replies.map((r) => r.readUInt16BE(0)).sort(), [1, 2, 3, 4, 5]);
  });

  it('drops a client over its rate and keeps serving others', async () => {
    const s = await start(echoHandler(), { ratePerSecond: 5, rateBurst: 5 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => udpAsk(s.port, buildQuery(`r${i}.example`, 1, { id: i }), 500)));
    const got = answers.filter(Boolean).length;
    assert.ok(got <= 6 && got >= 4, `${got} answered`);
    assert.ok(s.stats().dropped.rateLimited >= 14);
  });

  it('refuses oversized messages and closes a TCP stream with a bad length', async () => {
    const s = await start(echoHandler());
    assert.equal(await udpAsk(s.port, Buffer.alloc(5000, 1), 300), null);
    assert.equal(s.stats().dropped.oversized, 1);
    const { closed } = await tcpExchange(s.port, [Buffer.from([0xff, 0xff, 1, 2, 3])], 1);
    assert.equal(closed, true);
    // Still serving.
    assert.ok(await udpAsk(s.port, buildQuery('after.example')));
  });

  it('answers SERVFAIL at the deadline when the pipeline stalls', async () => {
    const s = await start(echoHandler(), { answerTimeoutMs: 200 });
    const started = Date.now();
    const reply = await udpAsk(s.port, buildQuery('slow.example'), 2000);
    assert.ok(reply);
    assert.equal(readResponse(reply).rcode, 2);
    assert.ok(Date.now() - started < 1500);
    assert.equal(s.stats().timeouts, 1);
  });

  it('sends answers that are ready at once, and SERVFAIL from the sweep to a question that never gets one', async () => {
    let calls = 0;
    const never = new Promise<Buffer | null>(() => undefined);
    const handler: ServerHandler = {
      handle: () => Promise.reject(new Error('handleNow is used when there is one')),
      handleNow: (packet: Buffer) => {
        calls++;
        // "never." waits for an upstream that never replies; everything else is ready now.
        return packet.includes(Buffer.from('never')) ? never : buildResponse(packet);
      },
    };
    const s = await start(handler, { answerTimeoutMs: 400 });
    const ready = await udpAsk(s.port, buildQuery('ready.example', 1, { id: 7 }));
    assert.equal(ready?.readUInt16BE(0), 7);
    assert.equal(readResponse(ready).rcode, 0);
    const started = Date.now();
    const [a, b] = await Promise.all([
      udpAsk(s.port, buildQuery('never.example', 1, { id: 8 }), 2000),
      tcpExchange(s.port, [frame(buildQuery('never.example', 1, { id: 9 }))], 1, 2000),
    ]);
    const waited = Date.now() - started;
    assert.ok(a && b.replies[0]);
    assert.equal(readResponse(a).rcode, 2);
    assert.equal(readResponse(b.replies[0]).rcode, 2);
    // Within the deadline (and not long before it: the sweep runs every 100 ms here).
    assert.ok(waited >= 250 && waited < 1000, `answered after ${waited} ms`);
    assert.equal(s.stats().timeouts, 2);
    assert.equal(calls, 3);
  });

  it('answers SERVFAIL when the handler throws or its answer fails', async () => {
    const handler: ServerHandler = {
      handle: () => Promise.reject(new Error('unused')),
      handleNow: (packet: Buffer) => {
        if (packet.includes(Buffer.from('throws'))) throw new Error('bug');
        return Promise.reject(new Error('failed later'));
      },
    };
    const s = await start(handler);
    const thrown = await udpAsk(s.port, buildQuery('throws.example', 1, { id: 1 }));
    const rejected = await udpAsk(s.port, buildQuery('rejects.example', 1, { id: 2 }));
    assert.equal(readResponse(thrown!).rcode, 2);
    assert.equal(readResponse(rejected!).rcode, 2);
    assert.equal(s.stats().errors, 2);
    assert.equal(s.stats().timeouts, 0);
  });
});
