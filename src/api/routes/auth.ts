/**
 * Log in, second factor, 2FA enrolment, unlock after idling, password change, log out.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { Type } from 'typebox';
import { abilitiesOf } from '../../core/index.ts';
import type { SessionView } from '../../services/index.ts';
import { SESSION_COOKIE } from '../access.ts';
import { Code, Password, SessionResponse } from '../schemas.ts';
import type { Api, RouteDeps } from './types.ts';

const strict = { additionalProperties: false } as const;
const tags = ['auth'];
const ANY_STATE = ['active', 'mfa_required', 'mfa_enrolment_required', 'password_change_required', 'locked'] as const;

export const withAbilities = (view: SessionView) => ({
  ...view,
  abilities: view.state === 'active' ? abilitiesOf({ userId: view.user.id, grants: view.user.grants }) : {},
});

export const authRoutes = (app: Api, { services, secureCookies }: RouteDeps) => {
  const setCookie = (request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: string) => {
    void reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookies === 'auto' ? request.protocol === 'https' : secureCookies,
      path: '/',
      expires: new Date(expiresAt),
    });
  };

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { public: true }, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        tags,
        summary: 'Log in with email and password',
        body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }), password: Password }, strict),
        response: { 200: SessionResponse },
      },
    },
    async (request, reply) => {
      const { token, session } = await services.auth.login(
        request.body.email,
        request.body.password,
        request.ip,
        request.headers['user-agent'] ?? null,
      );
      setCookie(request, reply, token, session.expiresAt);
      return { session: withAbilities(session) };
    },
  );

  app.get(
    '/api/v1/auth/session',
    {
      // Polled by the web app to notice an idle lock: it must not count as activity.
      config: { access: { action: 'read', resource: 'account', states: ANY_STATE, touch: false } },
      schema: { tags, summary: 'The current session and what its user may do', response: { 200: SessionResponse } },
    },
    (request) => Promise.resolve({ session: withAbilities(services.auth.view(request.auth.user, request.auth.session)) }),
  );

  app.post(
    '/api/v1/auth/activity',
    {
      // The web app reports typing and clicking (at most once a minute) so a DSL writing a long
      // record is not locked out mid-sentence; the idle lock counts from the last of these.
      config: { access: { action: 'read', resource: 'account', touch: true } },
      schema: { tags, summary: 'Report user activity (keeps an active session from idling out)' },
    },
    async (_request, reply) => reply.status(204).send(),
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: { action: 'read', resource: 'account', states: ANY_STATE, touch: false } }, schema: { tags, summary: 'Log out' } },
    async (request, reply) => {
      await services.auth.logout(request.cookies[SESSION_COOKIE], request.ip);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/v1/auth/mfa/verify',
    {
      config: {
        access: { action: 'update', resource: 'account', states: ['mfa_required'] },
        rateLimit: { max: 10, timeWindow: '1 minute' },
      },
      schema: {
        tags,
        summary: 'Second step of login: a TOTP or recovery code',
        body: Type.Object({ code: Code }, strict),
        response: { 200: SessionResponse },
      },
    },
    async (request) => ({ session: withAbilities(await services.auth.verifySecondFactor(request.auth, request.body.code, request.ip)) }),
  );

  app.post(
    '/api/v1/auth/mfa/setup',
    {
      config: { access: { action: 'update', resource: 'account', states: ['active', 'mfa_enrolment_required'] } },
      schema: {
        tags,
        summary: 'Start two-factor enrolment: a new secret and its QR code',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String(), qrSvgDataUrl: Type.String() }) },
      },
    },
    async (request) => {
      const { secret, otpauthUri } = await services.auth.beginTotpEnrolment(request.auth);
      const svg = await QRCode.toString(otpauthUri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
      return { secret, otpauthUri, qrSvgDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },
  );

  app.post(
    '/api/v1/auth/mfa/enable',
    {
      config: {
        access: { action: 'update', resource: 'account', states: ['active', 'mfa_enrolment_required'] },
        rateLimit: { max: 10, timeWindow: '1 minute' },
      },
      schema: {
        tags,
        summary: 'Confirm two-factor enrolment with a first code; returns recovery codes once',
        body: Type.Object({ code: Code }, strict),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()), session: SessionResponse.properties.session }) },
      },
    },
    async (request) => {
      const { recoveryCodes } = await services.auth.completeTotpEnrolment(request.auth, request.body.code, request.ip);
      const refreshed = await services.auth.authenticate(request.cookies[SESSION_COOKIE], true);
      return { recoveryCodes, session: withAbilities(services.auth.view(refreshed.user, refreshed.session)) };
    },
  );

  app.post(
    '/api/v1/auth/unlock',
    {
      config: {
        access: { action: 'update', resource: 'account', states: ['locked'], touch: false },
        rateLimit: { max: 10, timeWindow: '1 minute' },
      },
      schema: {
        tags,
        summary: 'Unlock a session locked after idling',
        body: Type.Object({ password: Password, code: Type.Optional(Code) }, strict),
        response: { 200: SessionResponse },
      },
    },
    async (request) => ({
      session: withAbilities(await services.auth.unlock(request.auth, request.body.password, request.body.code, request.ip)),
    }),
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: {
        access: { action: 'update', resource: 'account', states: ['active', 'password_change_required'] },
        rateLimit: { max: 10, timeWindow: '1 minute' },
      },
      schema: {
        tags,
        summary: 'Change your own password',
        body: Type.Object({ currentPassword: Password, newPassword: Password }, strict),
        response: { 200: SessionResponse },
      },
    },
    async (request) => ({
      session: withAbilities(
        await services.auth.changePassword(request.auth, request.body.currentPassword, request.body.newPassword, request.ip),
      ),
    }),
  );
};
