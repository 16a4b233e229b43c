/**
 * How a route says who may call it. Every route under /api/v1 declares `config.access`: either
 * public (only logging in), an (action, resource) pair from core's permission table plus the
 * session states it accepts, or an integration scope (a school system presenting an integration
 * key as `Authorization: Bearer hvn_…`; sessions are not accepted there, and keys nowhere else).
 * `authorise` enforces it before any handler runs.
 */
import type { FastifyRequest } from 'fastify';
import { can, DomainError, type Action, type ResourceType } from '../core/index.ts';
import type { AuthenticatedSession, IntegrationScope, RequestContext, Services, SessionState } from '../services/index.ts';

export type RouteAccess =
  | { public: true }
  | { integration: IntegrationScope }
  | {
      action: Action;
      resource: ResourceType;
      /** Session states this route serves; default ['active']. */
      states?: readonly SessionState[];
      /** Whether the call counts as activity for the idle lock; default true. */
      touch?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    ctx: RequestContext;
    auth: AuthenticatedSession;
    /** On integration routes: the key's school and id. */
    integration: { schoolId: string; keyId: string };
  }
}

export const SESSION_COOKIE = 'haven_session';

const stateError = (state: SessionState): DomainError => {
  switch (state) {
    case 'locked':
      return new DomainError(
        'SESSION_LOCKED',
        'Your session is locked after a period without activity. Enter your password to carry on.',
        401,
      );
    case 'mfa_required':
      return new DomainError('MFA_REQUIRED', 'Enter the code from your authenticator app first', 403);
    case 'mfa_enrolment_required':
      return new DomainError('MFA_ENROLMENT_REQUIRED', 'Your role needs two-factor authentication: set it up first', 403);
    case 'password_change_required':
      return new DomainError('PASSWORD_CHANGE_REQUIRED', 'Choose a new password first', 403);
    case 'active':
      return new DomainError('CONFLICT', 'This step is not needed now', 409);
  }
};

export const makeAuthorise =
  (services: Services) =>
  async (request: FastifyRequest): Promise<void> => {
    const access = request.routeOptions.config.access;
    if (!access) throw new DomainError('INTERNAL', 'Route has no access rule', 500);
    if ('public' in access) return;
    if ('integration' in access) {
      const header = request.headers.authorization ?? '';
      const secret = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const key = await services.integrationKeys.authenticate(secret, access.integration);
      if (!key) {
        throw new DomainError('UNAUTHENTICATED', 'Send an active integration key of this school as "Authorization: Bearer hvn_…"', 401);
      }
      request.integration = { schoolId: key.schoolId, keyId: key.id };
      request.ctx = { actor: { userId: '', grants: [] }, actorLabel: `integration key "${key.name}"`, ip: request.ip };
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    const auth = await services.auth.authenticate(token, access.touch ?? true);
    const states = access.states ?? ['active'];
    if (!states.includes(auth.state)) throw stateError(auth.state);
    const actor = { userId: auth.user.id, grants: auth.user.grants };
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    if (!can(actor, access.action, { type: access.resource, schoolId: params.schoolId ?? null })) {
      throw new DomainError('FORBIDDEN', 'You do not have permission to do that', 403);
    }
    request.auth = auth;
    request.ctx = { actor, actorLabel: auth.user.email, ip: request.ip };
  };
