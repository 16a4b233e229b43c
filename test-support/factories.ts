/**
 * Small builders for test rows: sensible defaults, overridable fields, fresh ids, so tests that
 * share a database never collide.
 */
import { randomUUID } from 'node:crypto';
import type { AuditInput, FilterEvent, Person, School, SessionRecord, Store, Trust, UserRecord } from '../src/core/index.ts';

export const AT = '2025-01-15T09:00:00.000Z';

export const newTrust = (over: Partial<Trust> = {}): Trust => ({ id: randomUUID(), name: 'Test Trust', createdAt: AT, ...over });

export const newSchool = (trustId: string, over: Partial<School> = {}): School => ({
  id: randomUUID(),
  trustId,
  name: `School ${randomUUID().slice(0, 8)}`,
  urn: null,
  createdAt: AT,
  updatedAt: AT,
  ...over,
});

/** A trust and one school in it, stored. */
export const seedSchool = async (store: Store, over: Partial<School> = {}): Promise<School> => {
  const trust = newTrust();
  await store.tenancy.createTrust(trust);
  const school = newSchool(trust.id, over);
  await store.tenancy.createSchool(school);
  return school;
};

export const newPerson = (schoolId: string, over: Partial<Person> = {}): Person => ({
  id: randomUUID(),
  schoolId,
  kind: 'pupil',
  upn: null,
  firstName: 'Alex',
  lastName: 'Example',
  yearGroup: null,
  dateOfBirth: null,
  email: null,
  staffRole: null,
  leftAt: null,
  createdAt: AT,
  updatedAt: AT,
  ...over,
});

export const newUser = (over: Partial<UserRecord> = {}): UserRecord => {
  const id = over.id ?? randomUUID();
  return {
    id,
    email: `user-${id}@school.example`,
    displayName: 'Test User',
    personId: null,
    passwordHash: '$argon2id$test',
    mustChangePassword: false,
    totpSecret: null,
    totpEnabled: false,
    totpLastStep: null,
    failedLogins: 0,
    lockedUntil: null,
    disabled: false,
    createdAt: AT,
    updatedAt: AT,
    grants: [],
    ...over,
  };
};

export const newSession = (userId: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash: randomUUID().replace(/-/g, ''),
  userId,
  createdAt: AT,
  lastSeenAt: AT,
  expiresAt: '2025-01-15T17:00:00.000Z',
  mfaOk: false,
  locked: false,
  ip: null,
  userAgent: null,
  ...over,
});

export const newAuditInput = (over: Partial<AuditInput> = {}): AuditInput => ({
  actorUserId: null,
  actorLabel: 'system',
  ip: null,
  action: 'test.event',
  resourceType: 'test',
  resourceId: null,
  schoolId: null,
  detail: null,
  ...over,
});

/** A DNS filter event with sensible defaults. */
export const newEvent = (over: Partial<FilterEvent> = {}): FilterEvent => ({
  at: '2026-03-02T09:00:00.000Z',
  source: 'dns',
  schoolId: null,
  clientIp: '10.0.0.5',
  personId: null,
  deviceId: null,
  profile: 'ks2',
  host: 'example.com',
  url: null,
  qtype: 'A',
  category: null,
  list: null,
  action: 'allow',
  layer: 'profile',
  ruleId: null,
  flagged: false,
  latencyUs: 120,
  method: null,
  status: null,
  bytesIn: null,
  bytesOut: null,
  searchTerm: null,
  warnContinued: false,
  ...over,
});
