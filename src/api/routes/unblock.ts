/**
 * What a block page's buttons lead to, and the queue it fills.
 *
 * - `GET /unblock?kind=unblock|trusted_adult&t=<ticket>`: a plain form (no script, no sign-in).
 * - `POST /unblock` (an HTML form: kind, t, message): stores the request or the message and says
 *   so; a bad or used ticket gets a page that says what happened. Form bodies are accepted on
 *   this path only; the signed ticket, not a session, is what makes a post valid.
 * - `GET /continue?t=<ticket>` (from a warning page): records the choice to go on, for an hour.
 * - `GET /api/v1/schools/:schoolId/unblock-requests` and `POST …/:requestId/answer`: the queue
 *   for IT and filtering managers; "tell a trusted adult" messages appear only for the DSL team.
 */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { DomainError, UNBLOCK_REQUEST_KINDS, UNBLOCK_REQUEST_STATUSES, type UnblockRequestKind } from '../../core/index.ts';
import { MAX_ANSWER_NOTE, MAX_UNBLOCK_MESSAGE, type TicketView } from '../../services/index.ts';
import { CHILDLINE, clip, escapeHtml, page, PAGE_HEADERS } from '../block-pages/html.ts';
import { Id, literals, Nullable, SchoolParams } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;

const sendPage = (reply: FastifyReply, status: number, title: string, body: string) =>
  reply.status(status).headers(PAGE_HEADERS).send(page(title, body));

const formPage = (ticket: string, kind: UnblockRequestKind, t: TicketView, error?: string, message = '') => {
  const unblock = kind === 'unblock';
  const title = unblock ? 'Ask for a site to be unblocked' : 'Tell a trusted adult';
  const intro = unblock
    ? `<p>You asked for <span class="site">${escapeHtml(clip(t.host ?? ''))}</span> (${escapeHtml(t.categoryLabel)}). Say what you need it for. Someone at school will look at it.</p>`
    : '<p>Write what happened or what you saw. Only the school’s safeguarding team can read it, and they will make sure you are OK.</p>';
  return page(
    title,
    `<h1>${title}</h1>
${intro}
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/unblock">
<input type="hidden" name="t" value="${escapeHtml(ticket)}"><input type="hidden" name="kind" value="${kind}">
<label for="message">${unblock ? 'Why do you need this site?' : 'What do you want to tell us? (you can leave this empty)'}</label>
<textarea id="message" name="message" maxlength="${MAX_UNBLOCK_MESSAGE}">${escapeHtml(message)}</textarea>
<div class="actions"><button class="button" type="submit">Send</button></div>
</form>
${CHILDLINE}`,
  );
};

const Request = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  kind: literals(UNBLOCK_REQUEST_KINDS),
  host: Nullable(Type.String()),
  url: Nullable(Type.String()),
  category: Nullable(Type.String()),
  action: literals(['block', 'warn'] as const),
  personId: Nullable(Type.String()),
  personName: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  clientIp: Nullable(Type.String()),
  blockedAt: Type.String(),
  message: Type.String(),
  createdAt: Type.String(),
  status: literals(UNBLOCK_REQUEST_STATUSES),
  answeredBy: Nullable(Type.String()),
  answeredAt: Nullable(Type.String()),
  answerNote: Nullable(Type.String()),
});

export const unblockRoutes = (app: Api, { services }: RouteDeps) => {
  void app.register((forms, _options, registered) => {
    forms.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    const kindOf = (raw: unknown): UnblockRequestKind | null =>
      (UNBLOCK_REQUEST_KINDS as readonly unknown[]).includes(raw) ? (raw as UnblockRequestKind) : null;
    const expired = (reply: FastifyReply, e: unknown) =>
      sendPage(
        reply,
        400,
        'Link not valid',
        `<h1>This link does not work any more</h1><p>${escapeHtml(e instanceof Error ? e.message : 'It has expired.')}</p>${CHILDLINE}`,
      );

    forms.get(
      '/unblock',
      { schema: { hide: true }, config: { rateLimit: { max: 120, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const q = request.query as Record<string, unknown>;
        const kind = kindOf(q.kind) ?? 'unblock';
        try {
          const ticket = typeof q.t === 'string' ? q.t : '';
          const t = services.unblock.describeTicket(ticket);
          return await reply
            .status(200)
            .headers(PAGE_HEADERS)
            .send(formPage(ticket, t.mayAskToUnblock ? kind : 'trusted_adult', t));
        } catch (e) {
          return expired(reply, e);
        }
      },
    );

    forms.post(
      '/unblock',
      { schema: { hide: true }, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const ticket = typeof body.t === 'string' ? body.t : '';
        const kind = kindOf(body.kind);
        const message = typeof body.message === 'string' ? body.message : '';
        let t: TicketView;
        try {
          t = services.unblock.describeTicket(ticket);
          if (!kind) throw new DomainError('VALIDATION_FAILED', 'Choose what to send', 400);
        } catch (e) {
          return expired(reply, e);
        }
        try {
          await services.unblock.submit(ticket, kind, message, request.ip);
        } catch (e) {
          if (e instanceof DomainError && e.code === 'CONFLICT') {
            return sendPage(
              reply,
              409,
              'Already sent',
              `<h1>This has been sent already</h1><p>The school has it. You do not need to send it again.</p>${CHILDLINE}`,
            );
          }
          if (e instanceof DomainError && e.status === 400) {
            return reply
              .status(400)
              .headers(PAGE_HEADERS)
              .send(formPage(ticket, kind, t, e.message, message));
          }
          throw e;
        }
        const done =
          kind === 'unblock'
            ? '<h1>Your request has been sent</h1><p>Someone at school will look at it. If they agree, the site will open for you.</p>'
            : '<h1>Thank you for telling us</h1><p>The school’s safeguarding team will read this. If you are worried right now, talk to an adult you trust today.</p>';
        return sendPage(reply, 200, 'Sent', `${done}${CHILDLINE}`);
      },
    );
    forms.get(
      '/continue',
      { schema: { hide: true }, config: { rateLimit: { max: 60, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const q = request.query as Record<string, unknown>;
        let chosen: { host: string };
        try {
          chosen = await services.warnContinues.choose(typeof q.t === 'string' ? q.t : '');
        } catch (e) {
          if (e instanceof DomainError && e.status === 400) return expired(reply, e);
          throw e;
        }
        const site = `http://${chosen.host}/`;
        return sendPage(
          reply,
          200,
          'Go on',
          `<h1>You can go on</h1><p><span class="site">${escapeHtml(chosen.host)}</span> is open for you for the next hour. The school can see that you chose to go on.</p>
<p>Your device may take up to a minute to notice. <a href="${escapeHtml(site)}">Open ${escapeHtml(chosen.host)}</a></p>${CHILDLINE}`,
        );
      },
    );
    registered();
  });

  app.get(
    '/api/v1/schools/:schoolId/unblock-requests',
    {
      config: { access: { action: 'read', resource: 'unblock_request' } },
      schema: {
        tags: ['filtering'],
        summary: 'What block pages sent: unblock requests, and for the DSL team "tell a trusted adult" messages',
        params: SchoolParams,
        querystring: Type.Object(
          {
            kind: Type.Optional(literals(UNBLOCK_REQUEST_KINDS)),
            status: Type.Optional(literals(UNBLOCK_REQUEST_STATUSES)),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(Request), trustedAdultVisible: Type.Boolean() }) },
      },
    },
    async (request) => services.unblock.list(request.ctx, request.params.schoolId, request.query),
  );

  app.post(
    '/api/v1/schools/:schoolId/unblock-requests/:requestId/answer',
    {
      config: { access: { action: 'update', resource: 'unblock_request' } },
      schema: {
        tags: ['filtering'],
        summary: 'Answer: allowed (adds the site to the school allow list), declined (with a reason), or seen (messages)',
        params: Type.Object({ schoolId: Id, requestId: Id }, strict),
        body: Type.Object(
          { outcome: literals(['allowed', 'declined', 'seen'] as const), note: Type.String({ maxLength: MAX_ANSWER_NOTE }) },
          strict,
        ),
        response: { 200: Type.Object({ request: Request }) },
      },
    },
    async (request) => ({
      request: await services.unblock.answer(request.ctx, request.params.schoolId, request.params.requestId, request.body),
    }),
  );
};
