/**
 * @module services — Haven's use cases over core's ports. `createServices` builds them all from
 * one set of dependencies (the composition root in src/app supplies them).
 */
import { randomBytes } from 'node:crypto';
import { createAuditService } from './audit-service.ts';
import { createAuthService } from './auth-service.ts';
import type { ServiceDeps } from './context.ts';
import { createDashboardService } from './dashboard-service.ts';
import { createDeviceService } from './device-service.ts';
import { createFilterLogService } from './filter-log-service.ts';
import { createFilterRuntime, emptyClassification, type FilterRuntime } from './filter-runtime.ts';
import { createGroupService } from './group-service.ts';
import { createIdentityDirectory, type IdentityDirectory } from './identity-directory.ts';
import { createIntegrationKeyService } from './integration-key-service.ts';
import { createLoginFeedService } from './login-feed-service.ts';
import { createUnblockService } from './unblock-service.ts';
import { createWarnContinueService } from './warn-continue-service.ts';
import { createPeopleService } from './people-service.ts';
import { importPeople } from './people-import.ts';
import { createPolicyService } from './policy-service.ts';
import { createProxyAuthService } from './proxy-auth-service.ts';
import { createTenancyService } from './tenancy-service.ts';
import { createUserService } from './user-service.ts';

export const createServices = (deps: ServiceDeps) => {
  // The runtime and the policy service need each other: policies are compiled from what the service loads.
  let runtime: FilterRuntime | null = null;
  let identityRef: IdentityDirectory | null = null;
  const policies = createPolicyService(
    deps,
    () => runtime!,
    // A failed refresh keeps the last directory; the data plane's timer tries again.
    () => void identityRef?.refresh().catch(() => undefined),
  );
  const identity = createIdentityDirectory(deps, policies, { defaultSchool: deps.defaultSchool });
  identityRef = identity;
  runtime = createFilterRuntime({
    loadClassification: deps.loadClassification ?? (() => Promise.resolve(emptyClassification())),
    effectivePolicy: policies.effectivePolicy,
  });
  const ticketKey = deps.ticketKey ?? randomBytes(32);
  return {
    deps,
    filter: runtime,
    identity,
    policies,
    auth: createAuthService(deps),
    tenancy: createTenancyService(deps),
    people: createPeopleService(deps),
    groups: createGroupService(deps),
    users: createUserService(deps),
    audit: createAuditService(deps),
    dashboard: createDashboardService(deps),
    // The directory learns of a new, changed or revoked device before the request returns.
    devices: createDeviceService(deps, { onChange: () => identity.refresh() }),
    filterLog: createFilterLogService(deps),
    integrationKeys: createIntegrationKeyService(deps),
    // Logins sent to this process apply here before the sender is answered.
    unblock: createUnblockService(deps, policies, ticketKey),
    warnContinues: createWarnContinueService(deps, ticketKey),
    proxyAuth: createProxyAuthService(deps),
    logins: createLoginFeedService(deps, { onAppend: () => identity.pollLogins().then(() => undefined) }),
    importPeople: (ctx: Parameters<typeof importPeople>[1], input: Parameters<typeof importPeople>[2]) => importPeople(deps, ctx, input),
  };
};

export type Services = ReturnType<typeof createServices>;

export { DEFAULT_AUTH_SETTINGS, systemContext, type AuthSettings, type RequestContext, type ServiceDeps } from './context.ts';
export { hashSessionToken, passwordProblem, type AuthenticatedSession, type SessionState, type SessionView } from './auth-service.ts';
export { bootstrap, type BootstrapResult } from './bootstrap.ts';
export { seedDemoSchool } from './demo-seed.ts';
export type { ChainReport } from './audit-service.ts';
export type { ImportReport } from './people-import.ts';
export type { UserSummary } from './user-service.ts';
export * from './list-service.ts';
export * from './filter-runtime.ts';
export type { IdentityDirectory } from './identity-directory.ts';
export { MAX_ANSWER_NOTE, MAX_UNBLOCK_MESSAGE, type BlockPageFacts, type TicketView, type UnblockRequestView } from './unblock-service.ts';
export {
  INTEGRATION_SCOPES,
  MAX_KEY_NAME,
  hashIntegrationKey,
  type IntegrationScope,
  type IntegrationKeyView,
  type IntegrationKeyWithSecret,
} from './integration-key-service.ts';
export {
  DEFAULT_LOGIN_TTL_SECONDS,
  MAX_LOGIN_EVENTS,
  MAX_LOGIN_TTL_SECONDS,
  MAX_USERNAME,
  MIN_LOGIN_TTL_SECONDS,
  type LoginEventInput,
  type LoginEventResult,
} from './login-feed-service.ts';
export { hashDeviceToken } from './identity-directory.ts';
export {
  DEVICE_KINDS,
  MAX_DEVICE_LABEL,
  type DeviceInput,
  type DeviceKind,
  type DeviceUpdate,
  type DeviceView,
  type DeviceWithToken,
} from './device-service.ts';
export type { PolicyView, PolicySaveResult, PolicyVersionSummary, OverrideView, OverrideInput, CheckInput } from './policy-service.ts';
export { listsDiff, recordListsImport, recordIllegalImport } from './list-change.ts';
export { cleanReason } from './policy-service.ts';
