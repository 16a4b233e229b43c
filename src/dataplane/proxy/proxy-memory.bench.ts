/**
 * Memory of the proxy under many concurrent connections (loopback, bounded): the proxy runs in a
 * child process (every site allowed: the decision is a constant, the memory measured is the
 * proxy's own); this process holds N CONNECT tunnels and N kept-alive
 * HTTP clients through it to a local origin, asking the child for its memory (after a GC) before,
 * while held, and after they close. Prints one JSON line. Not a test: numbers, not assertions.
 *
 *   node --import tsx src/dataplane/proxy/proxy-memory.bench.ts [N=2000]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ProxyDecision } from './server.ts';

const ALLOW: ProxyDecision = {
  classification: { host: 'allowed.test', url: null, category: null, source: null, illegal: false },
  decision: {
    action: 'allow',
    category: null,
    source: null,
    rule: null,
    layer: 'fallback',
    reason: '',
    safeSearch: false,
    youtube: 'off',
    flagged: false,
  },
};

/** "hello" on every path, connections kept alive for a minute. */
const startOrigin = async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': 5 });
    res.end('hello');
  });
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<net.Socket>();
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

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  connections: number;
}

if (process.argv[2] === 'child') {
  // The proxy side: listen, report the port, answer "mem" with memory after a full GC.
  const { startProxyServer } = await import('./server.ts');
  const proxy = await startProxyServer(
    {
      identify: () => ({ schoolId: 's', person: null, personId: null, deviceId: null, place: null, via: 'default' }),
      decideNow: () => ALLOW,
      decide: () => Promise.resolve(ALLOW),
      events: {
        write: () => undefined,
        flush: () => Promise.resolve(),
        close: () => Promise.resolve(),
        stats: () => ({ queued: 0, written: 0, spooled: 0, dropped: 0 }),
      },
      connectPorts: 'any',
      lookup: ((_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
        o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as net.LookupFunction,
      limits: { maxConnectionsPerClient: 100_000, maxConnections: 100_000 },
    },
    { host: '127.0.0.1', port: 0 },
  );
  process.stdout.write(`port ${proxy.port}\n`);
  process.stdin.on('data', (d: Buffer) => {
    if (d.toString().includes('mem')) {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      process.stdout.write(
        `${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, connections: proxy.stats().connections })}\n`,
      );
    }
    if (d.toString().includes('quit')) void proxy.close().then(() => process.exit(0));
  });
} else {
  const n = Number(process.argv[2] ?? '2000');
  const origin = await startOrigin();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'child'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const nextLine = () => new Promise<string>((r) => (lines.length > 0 ? r(lines.shift()!) : waiters.push(r)));
  const port = Number((await nextLine()).split(' ')[1]);
  const mem = async (): Promise<Mem> => {
    child.stdin.write('mem\n');
    return JSON.parse(await nextLine()) as Mem;
  };
  const exchange = (data: string) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.on('error', reject);
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.endsWith('hello')) resolve(s);
      });
      s.write(data);
    });
  // Warm up (JIT, agent, first decisions), then measure.
  for (const s of await Promise.all(
    Array.from({ length: 100 }, () => exchange(`GET http://allowed.test:${origin.port}/hello HTTP/1.1\r\nHost: a\r\n\r\n`)),
  ))
    s.destroy();
  await new Promise((r) => setTimeout(r, 500));
  const before = await mem();
  const held: net.Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    held.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, () =>
          exchange(`CONNECT allowed.test:${origin.port} HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n`),
        ),
      )),
    );
    held.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, () => exchange(`GET http://allowed.test:${origin.port}/hello HTTP/1.1\r\nHost: a\r\n\r\n`)),
      )),
    );
  }
  const during = await mem();
  for (const s of held) s.destroy();
  let afterClose = await mem();
  for (let waited = 0; afterClose.connections > 0 && waited < 15_000; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    afterClose = await mem();
  }
  child.stdin.write('quit\n');
  await new Promise((r) => child.once('exit', r));
  await origin.close();
  const perConnection = (k: keyof Mem) => Math.round((during[k] - before[k]) / held.length);
  process.stdout.write(
    `${JSON.stringify({
      tunnels: n,
      keptAlive: n,
      held: during.connections,
      rssMiB: {
        before: +(before.rss / 2 ** 20).toFixed(1),
        during: +(during.rss / 2 ** 20).toFixed(1),
        after: +(afterClose.rss / 2 ** 20).toFixed(1),
      },
      heapMiB: {
        before: +(before.heapUsed / 2 ** 20).toFixed(1),
        during: +(during.heapUsed / 2 ** 20).toFixed(1),
        after: +(afterClose.heapUsed / 2 ** 20).toFixed(1),
      },
      bytesPerClientConnection: { rss: perConnection('rss'), heap: perConnection('heapUsed') },
      connectionsAfterClose: afterClose.connections,
    })}\n`,
  );
}
