/**
 * The proxy benchmark's bare Node reference (`node bench/proxy-node-baseline.ts PORT`): a plain
 * HTTP forward proxy in node:http with a keep-alive agent set up as Haven's, no filtering, no
 * identity, no events, no limits. What Node's own HTTP machinery costs per request, beside which
 * Haven's figures show what its filtering adds (as the peer baselines' bare Node DNS responder did
 * for the DNS filter).
 */
import http from 'node:http';

const port = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 30_000, scheduling: 'lifo' });
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
]);

const server = http.createServer((req, res) => {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  headers.host = url.host;
  const up = http.request(
    { host: url.hostname, port: Number(url.port || 80), path: `${url.pathname}${url.search}`, method: req.method, headers, agent },
    (upRes) => {
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
      res.writeHead(upRes.statusCode ?? 502, back);
      upRes.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
