/**
 * DNS-over-HTTPS (RFC 8484): GET with `?dns=` (base64url) and POST with an
 * application/dns-message body, at /dns-query and at /dns-query/<device-token>, so a school
 * laptop at home is recognised by its token without a VPN. The answer comes from the same DNS
 * filter pipeline as UDP and TCP. Not under /api/v1: devices have no session, and the token (or
 * the network the request comes from) is their identity.
 */
import { Type } from 'typebox';
import { DomainError } from '../../core/index.ts';
import type { Api } from './types.ts';

export type DohHandler = (packet: Buffer, client: { ip: string; deviceToken: string | null }) => Promise<Buffer | null>;

const MEDIA_TYPE = 'application/dns-message';
/** Device tokens are long random strings; anything else is refused before it reaches the filter. */
const TOKEN = Type.String({ pattern: '^[A-Za-z0-9_-]{16,128}$' });
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const MAX_MESSAGE = 65_535;

export const dohRoutes = (app: Api, handler: DohHandler) => {
  app.addContentTypeParser(MEDIA_TYPE, { parseAs: 'buffer', bodyLimit: MAX_MESSAGE }, (_req, body, done) => done(null, body));

  const reply = async (packet: Buffer, ip: string, deviceToken: string | null) => {
    const answer = await handler(packet, { ip, deviceToken });
    if (answer === null) throw new DomainError('BAD_REQUEST', 'That is not a DNS query Haven can answer', 400);
    return answer;
  };
  const send = (
    r: { header: (k: string, v: string) => unknown; type: (t: string) => { send: (b: Buffer) => unknown } },
    answer: Buffer,
  ) => {
    // Answers depend on who asks (their group's policy): no shared cache may keep them.
    r.header('Cache-Control', 'private, no-store');
    return r.type(MEDIA_TYPE).send(answer);
  };
  const config = { access: { public: true as const }, rateLimit: { max: 6000, timeWindow: '1 minute' } };

  for (const url of ['/dns-query', '/dns-query/:token']) {
    const params = url.endsWith(':token') ? Type.Object({ token: TOKEN }, { additionalProperties: false }) : undefined;
    app.get(
      url,
      {
        config,
        schema: {
          tags: ['dns'],
          summary: 'DNS-over-HTTPS query (RFC 8484 GET)',
          ...(params && { params }),
          querystring: Type.Object({ dns: Type.String({ minLength: 1, maxLength: 87_400 }) }, { additionalProperties: true }),
        },
      },
      async (request, r) => {
        const text = request.query.dns;
        if (!BASE64URL.test(text)) throw new DomainError('BAD_REQUEST', 'dns must be a base64url-encoded DNS message', 400);
        const packet = Buffer.from(text, 'base64url');
        if (packet.length < 12 || packet.length > MAX_MESSAGE) throw new DomainError('BAD_REQUEST', 'dns is not a DNS message', 400);
        const token = (request.params as { token?: string }).token ?? null;
        return send(r, await reply(packet, request.ip, token));
      },
    );
    app.post(
      url,
      {
        config,
        schema: { tags: ['dns'], summary: 'DNS-over-HTTPS query (RFC 8484 POST, application/dns-message)', ...(params && { params }) },
      },
      async (request, r) => {
        if (!Buffer.isBuffer(request.body)) {
          throw new DomainError('UNSUPPORTED_MEDIA_TYPE', `Send the DNS message with Content-Type: ${MEDIA_TYPE}`, 415);
        }
        const token = (request.params as { token?: string }).token ?? null;
        return send(r, await reply(request.body, request.ip, token));
      },
    );
  }
};
