/**
 * What every service needs: the store, a clock, id generation and the security adapters, plus
 * who is asking (for the audit log and for what they may see).
 */
import type { Actor, Clock, PasswordHasher, SecretBox, Store, TotpProvider } from '../core/index.ts';
import type { ClassificationBundle } from './filter-runtime.ts';

export interface AuthSettings {
  /** Minutes without activity before a session locks (default 10). */
  idleLockMinutes: number;
  /** Hours a session lives at most, active or not (default 12). */
  sessionMaxHours: number;
  /** Failed logins in a row before the account is locked for `lockoutMinutes`. */
  maxFailedLogins: number;
  lockoutMinutes: number;
  issuer: string;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  idleLockMinutes: 10,
  sessionMaxHours: 12,
  maxFailedLogins: 5,
  lockoutMinutes: 15,
  issuer: 'Haven',
};

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  newId: () => string;
  hasher: PasswordHasher;
  totp: TotpProvider;
  secretBox: SecretBox;
  auth: AuthSettings;
  /** Loads the category index and illegal tier; without it nothing is categorised (tests, first start). */
  loadClassification?: () => Promise<ClassificationBundle>;
  /** Signs block-page tickets (derived from the secret key; random per process when absent, as in tests). */
  ticketKey?: Buffer;
  /** HAVEN_DNS_DEFAULT_SCHOOL: the school (id, URN or name) addresses no school claims belong to. */
  defaultSchool?: string | undefined;
}

export interface RequestContext {
  actor: Actor;
  /** Shown in the audit log: the user's email at the time, or "system"/"cli". */
  actorLabel: string;
  ip: string | null;
}

export const systemContext = (label = 'system'): RequestContext => ({
  actor: { userId: '', grants: [{ role: 'admin', schoolId: null }] },
  actorLabel: label,
  ip: null,
});

export const nowIso = (deps: Pick<ServiceDeps, 'clock'>): string => deps.clock.now().toISOString();
