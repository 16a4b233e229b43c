/**
 * Block pages from a running Haven: the renderer the proxy uses, and the block-page server the
 * DNS filter points blocked names at (HAVEN_DNS_BLOCK_IPV4/IPV6 should be this machine's address,
 * HAVEN_BLOCK_PAGE_PORT 80 there). That server answers any Host: it recognises the client like the
 * filters do, decides the name again for them, and shows the page for their age with the
 * school's message and the buttons' signed ticket; a name no longer blocked says so.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { audienceOf, renderBlockPage, type BlockAudience } from '../api/index.ts';
import type { ClientIdentity } from '../core/index.ts';
import type { Haven } from './compose.ts';

export interface BlockPageRequest {
  host: string;
  url: string | null;
  category: string | null;
  action: 'block' | 'warn';
  identity: ClientIdentity;
  clientIp: string | null;
  illegal: boolean;
  continueUrl: string | null;
}

const MESSAGE_TTL_MS = 30_000;

export const createBlockPages = (haven: Haven) => {
  const { services, config } = haven;
  const publicUrl = config.publicUrl.replace(/\/+$/, '');
  // The school's message, from its policy, refreshed in the background: rendering never waits.
  const messages = new Map<string, { text: string | null; at: number }>();
  const messageFor = (schoolId: string): string | null => {
    const cached = messages.get(schoolId);
    if (!cached || Date.now() - cached.at > MESSAGE_TTL_MS) {
      messages.set(schoolId, { text: cached?.text ?? null, at: Date.now() });
      void services.policies
        .schoolPolicy(schoolId)
        .then(({ policy }) => messages.set(schoolId, { text: policy.blockPageMessage?.trim() || null, at: Date.now() }))
        .catch(() => undefined);
    }
    return cached?.text ?? null;
  };

  const render = (r: BlockPageRequest, audience: BlockAudience = audienceOf(r.identity)) =>
    renderBlockPage({
      host: r.host,
      url: r.url,
      category: r.illegal ? 'illegal' : r.category,
      action: r.action,
      illegal: r.illegal,
      publicUrl,
      ticket: services.unblock.ticketFor({
        schoolId: r.identity.schoolId,
        host: r.host,
        url: r.url,
        category: r.illegal ? 'illegal' : r.category,
        action: r.action,
        personId: r.identity.personId,
        deviceId: r.identity.deviceId,
        clientIp: r.clientIp,
        illegal: r.illegal,
        at: new Date(),
      }),
      schoolMessage: messageFor(r.identity.schoolId),
      continueUrl: r.continueUrl,
      audience,
    });

  /** The page for whoever is at `clientIp` asking for `host` + `path`; null when nothing blocks it now. */
  const pageFor = async (clientIp: string, host: string, path: string) => {
    const identity = services.identity.identify({ ip: clientIp });
    if (!identity) return null;
    const url = `http://${host}${path.startsWith('/') ? path : '/'}`;
    const { classification, decision } = await services.filter.check(identity.schoolId, {
      site: url,
      at: new Date(),
      person: identity.person,
      clientIp,
      ...(identity.place !== null && { place: identity.place }),
    });
    if (!decision || (decision.action !== 'block' && decision.action !== 'warn')) return null;
    return render({
      host: classification.host ?? host,
      url,
      category: classification.category,
      action: decision.action,
      identity,
      clientIp,
      illegal: classification.category === 'illegal',
      continueUrl: null,
    });
  };

  return { render, pageFor, publicUrl };
};

export type BlockPages = ReturnType<typeof createBlockPages>;

const NOT_BLOCKED = (host: string) =>
  `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Not blocked</title></head><body><main><h1>This site is not blocked now</h1><p>Try again in a minute: your device may still remember that ${host.replace(/[^a-z0-9.-]/gi, '')} was blocked.</p></main></body></html>`;

/** The HTTP server blocked DNS names point at. Addresses from a reverse proxy are not trusted: the socket's is used. */
export const startBlockPageServer = async (pages: BlockPages, options: { host: string; port: number }) => {
  const server = http.createServer({ maxHeaderSize: 16_384, requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const clientIp = req.socket.remoteAddress ?? '';
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase().slice(0, 253);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Only pages can be shown here.\n');
      return;
    }
    pages
      .pageFor(clientIp, host, (req.url ?? '/').slice(0, 2048))
      .then((page) => {
        if (!page) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(NOT_BLOCKED(host));
          return;
        }
        res.writeHead(page.status, page.headers).end(req.method === 'HEAD' ? undefined : page.body);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Haven could not show this page.\n');
      });
  });
  server.keepAliveTimeout = 5000;
  server.maxConnections = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
