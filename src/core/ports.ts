/**
 * Ports: what the services need from the outside world. Storage and adapters implement them;
 * the composition root (src/app) wires them together.
 */
import type { AuditEntry, AuditInput } from './audit.ts';
import type { EventRepository } from './events.ts';
import type { Group, GroupKind, Person, PersonKind, YearGroup } from './people.ts';
import type { RoleGrant } from './roles.ts';

export interface Clock {
  now(): Date;
}

export interface Trust {
  id: string;
  name: string;
  createdAt: string;
}

export interface School {
  id: string;
  trustId: string;
  name: string;
  urn: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface TenancyRepository {
  getTrust(): Promise<Trust | null>;
  createTrust(trust: Trust): Promise<void>;
  renameTrust(id: string, name: string, at: string): Promise<void>;
  listSchools(ids: 'all' | readonly string[]): Promise<School[]>;
  getSchool(id: string): Promise<School | null>;
  createSchool(school: School): Promise<void>;
  updateSchool(id: string, changes: { name?: string; urn?: string | null }, at: string): Promise<void>;
}

export interface PersonQuery {
  schoolId: string;
  search?: string | undefined;
  kind?: PersonKind | undefined;
  yearGroup?: YearGroup | undefined;
  groupId?: string | undefined;
  includeLeft?: boolean | undefined;
  limit: number;
  offset: number;
}

export type PersonFields = Omit<Person, 'id' | 'schoolId' | 'createdAt' | 'updatedAt'>;

export interface PeopleRepository {
  list(query: PersonQuery): Promise<Page<Person>>;
  get(id: string): Promise<Person | null>;
  findByUpn(schoolId: string, upn: string): Promise<Person | null>;
  findByEmail(schoolId: string, kind: PersonKind, email: string): Promise<Person | null>;
  create(person: Person): Promise<void>;
  update(id: string, fields: Partial<PersonFields>, at: string): Promise<void>;
  /** Pupils linked to a parent, and parents linked to a pupil. */
  childrenOf(parentId: string): Promise<Person[]>;
  parentsOf(pupilId: string): Promise<Person[]>;
  link(parentId: string, pupilId: string, at: string): Promise<boolean>;
  countByKind(schoolIds: 'all' | readonly string[]): Promise<Partial<Record<PersonKind, number>>>;
}

export interface GroupRepository {
  list(schoolId: string): Promise<Group[]>;
  get(id: string): Promise<Group | null>;
  findByName(schoolId: string, name: string): Promise<Group | null>;
  create(group: Omit<Group, 'memberCount'> & { createdAt: string }): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  members(groupId: string): Promise<Person[]>;
  groupsOf(personId: string): Promise<Group[]>;
  addMember(groupId: string, personId: string): Promise<boolean>;
  removeMember(groupId: string, personId: string): Promise<boolean>;
  /** Managed groups a person belongs to, by kind; used to keep year groups in step on import. */
  managedGroupIdsOf(personId: string): Promise<string[]>;
  count(schoolIds: 'all' | readonly string[]): Promise<number>;
}

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  personId: string | null;
  passwordHash: string;
  mustChangePassword: boolean;
  /** Sealed with the secret box, never the raw secret. */
  totpSecret: string | null;
  totpEnabled: boolean;
  /** RFC 6238 time step of the last accepted code: a code is never accepted twice. */
  totpLastStep?: number | null;
  failedLogins: number;
  lockedUntil: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  grants: RoleGrant[];
}

export type UserChanges = Partial<
  Pick<
    UserRecord,
    | 'displayName'
    | 'personId'
    | 'passwordHash'
    | 'mustChangePassword'
    | 'totpSecret'
    | 'totpEnabled'
    | 'totpLastStep'
    | 'failedLogins'
    | 'lockedUntil'
    | 'disabled'
  >
>;

export interface UserRepository {
  count(): Promise<number>;
  get(id: string): Promise<UserRecord | null>;
  findByEmail(email: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  create(user: UserRecord): Promise<void>;
  update(id: string, changes: UserChanges, at: string): Promise<void>;
  setGrants(id: string, grants: readonly RoleGrant[]): Promise<void>;
  replaceRecoveryCodes(id: string, codeHashes: readonly string[]): Promise<void>;
  /** Marks a recovery code used; false when it does not exist or was used already. */
  useRecoveryCode(id: string, codeHash: string, at: string): Promise<boolean>;
  unusedRecoveryCodeCount(id: string): Promise<number>;
}

export interface SessionRecord {
  idHash: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  mfaOk: boolean;
  locked: boolean;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionRepository {
  create(session: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | null>;
  update(idHash: string, changes: Partial<Pick<SessionRecord, 'lastSeenAt' | 'mfaOk' | 'locked'>>): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteForUser(userId: string): Promise<number>;
  deleteExpired(now: string): Promise<number>;
}

export interface AuditQuery {
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  actorUserId?: string | undefined;
  schoolId?: string | undefined;
  beforeSeq?: number | undefined;
  limit: number;
}

export interface AuditRepository {
  /** Appends one entry to the chain atomically with the head; returns the stored entry. */
  append(input: AuditInput, at: string): Promise<AuditEntry>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** Entries with seq in (afterSeq, afterSeq + limit], in order. */
  range(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  head(): Promise<{ seq: number; hash: string } | null>;
}

/** Whose policy a version belongs to: the trust's defaults or one school's changes. */
export type PolicyScope = 'trust' | 'school';

/** One saved version of a trust or school policy. Versions are never edited; a change is a new one. */
export interface PolicyVersionRecord {
  scope: PolicyScope;
  /** Trust id or school id. */
  scopeId: string;
  /** 1, 2, 3 … per scope; 0 is never stored (it means the built-in defaults). */
  version: number;
  /** The TrustPolicy or SchoolPolicy as JSON-shaped data. */
  document: unknown;
  reason: string;
  /** The readable diff from the previous version, one line per change. */
  changes: string[];
  changedByUserId: string | null;
  changedByLabel: string;
  createdAt: string;
}

/** A teacher's temporary opening of sites or categories for a class, stored apart from versioned policy. */
export interface OverrideRecord {
  id: string;
  schoolId: string;
  /** The TeacherOverride (audience, categories, sites, action) as JSON-shaped data. */
  audience: unknown;
  categories: string[];
  sites: string[];
  action: 'allow' | 'allow-and-flag';
  startsAt: string;
  expiresAt: string;
  reason: string;
  createdByUserId: string | null;
  createdByLabel: string;
  createdAt: string;
  revokedAt: string | null;
  revokedByLabel: string | null;
}

export interface PolicyRepository {
  current(scope: PolicyScope, scopeId: string): Promise<PolicyVersionRecord | null>;
  get(scope: PolicyScope, scopeId: string, version: number): Promise<PolicyVersionRecord | null>;
  /** Newest first. */
  history(scope: PolicyScope, scopeId: string, limit: number): Promise<PolicyVersionRecord[]>;
  /** Stores a new version; throws a CONFLICT DomainError when that version number is taken (a concurrent edit). */
  append(version: PolicyVersionRecord): Promise<void>;
  /** Overrides of a school that have not expired or been revoked by `at`, or all of them (newest first) without `at`. */
  listOverrides(schoolId: string, activeAt?: string, limit?: number): Promise<OverrideRecord[]>;
  getOverride(id: string): Promise<OverrideRecord | null>;
  createOverride(o: OverrideRecord): Promise<void>;
  /** False when it was already revoked. */
  revokeOverride(id: string, at: string, byLabel: string): Promise<boolean>;
  /** Changes whenever any policy version or override is saved or revoked: processes poll it to recompile. */
  stamp(): Promise<string>;
}

/** A school device (laptop, tablet …) Haven recognises by its DoH token or its registered address. */
export interface DeviceRecord {
  id: string;
  schoolId: string;
  label: string;
  /** laptop, desktop, tablet, phone or other. */
  kind: string;
  /** The pupil or member of staff it is given to, if any. */
  personId: string | null;
  /** A registered static address, canonical text (10.0.0.5, 2001:db8::5). */
  ip: string | null;
  /** aa:bb:cc:dd:ee:ff. */
  mac: string | null;
  /** SHA-256 (hex) of the DoH token; the token itself is never stored. */
  tokenHash: string;
  createdAt: string;
  updatedAt: string;
  /** Revoked devices are kept (for the log and the audit trail) but no longer recognised. */
  revokedAt: string | null;
}

/** A device with the name of the person it is given to, for lists. */
export interface DeviceListItem extends DeviceRecord {
  personName: string | null;
}

/** An active device as the identity directory needs it: its person's record and group ids. */
export interface DeviceIdentityRow {
  id: string;
  schoolId: string;
  ip: string | null;
  /** aa:bb:cc:dd:ee:ff, recognised through the DHCP lease feed. */
  mac: string | null;
  tokenHash: string;
  person: { id: string; kind: PersonKind; yearGroup: YearGroup | null; leftAt: string | null; groupIds: string[] } | null;
}

export type DeviceChanges = Partial<Pick<DeviceRecord, 'label' | 'kind' | 'personId' | 'ip' | 'mac'>>;

export interface DeviceRepository {
  /** A school's devices, newest first; revoked ones only when asked. */
  list(schoolId: string, options?: { includeRevoked?: boolean }): Promise<DeviceListItem[]>;
  get(id: string): Promise<DeviceRecord | null>;
  /** The school's active device with this label (any case), address or MAC, if there is one. */
  findActive(schoolId: string, field: 'label' | 'ip' | 'mac', value: string): Promise<DeviceRecord | null>;
  /** Throws a CONFLICT DomainError when an active device of the school has the label, address or MAC. */
  create(device: DeviceRecord): Promise<void>;
  update(id: string, changes: DeviceChanges, at: string): Promise<void>;
  /** False when the device is revoked (or unknown). */
  setTokenHash(id: string, tokenHash: string, at: string): Promise<boolean>;
  /** False when it was already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Every active device of every school, with its person, for the identity directory. */
  identities(): Promise<DeviceIdentityRow[]>;
}

/** A key a school's own system (logon script, RADIUS server, agent) uses to call Haven. */
export interface IntegrationKeyRecord {
  id: string;
  schoolId: string;
  name: string;
  /** What the key may do; "identity": send the login feed. */
  scopes: string[];
  /** SHA-256 (hex) of the key; the key itself is never stored. */
  keyHash: string;
  /** The key's first characters, so people can tell keys apart ("hvn_3f9a…"). */
  keyPrefix: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface IntegrationKeyRepository {
  /** A school's keys, newest first, revoked ones included. */
  list(schoolId: string): Promise<IntegrationKeyRecord[]>;
  get(id: string): Promise<IntegrationKeyRecord | null>;
  /** The active key with this hash, if any. */
  findActiveByHash(keyHash: string): Promise<IntegrationKeyRecord | null>;
  /** Throws a CONFLICT DomainError when an active key of the school has the name (any case). */
  create(key: IntegrationKeyRecord): Promise<void>;
  /** False when it was already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  touch(id: string, at: string): Promise<void>;
}

export const LOGIN_KINDS = ['login', 'logout'] as const;
export type LoginKind = (typeof LOGIN_KINDS)[number];

/** Where a login came from: a logon script, RADIUS accounting, an agent, the proxy's own sign-in. */
export const LOGIN_SOURCES = ['logon-script', 'radius', 'agent', 'proxy', 'other'] as const;
export type LoginSource = (typeof LOGIN_SOURCES)[number];

/** One row of the login feed, as received. Rows are never changed. */
export interface LoginRecord {
  seq: number;
  schoolId: string;
  kind: LoginKind;
  /** Canonical address text (10.0.0.5, 2001:db8::5). */
  ip: string;
  /** The name the sender gave, trimmed. */
  username: string;
  /** The person it was matched to, or null when nobody matched. */
  personId: string | null;
  source: LoginSource;
  keyId: string | null;
  /** When it happened, by the sender's clock (or when received). */
  at: string;
  /** Logins only: when the mapping lapses without a logout. */
  expiresAt: string | null;
  receivedAt: string;
}

export type NewLoginRecord = Omit<LoginRecord, 'seq'>;

/** A feed row as the identity directory needs it: with its person's record and group ids. */
export interface LoginFeedRow extends LoginRecord {
  person: { kind: PersonKind; yearGroup: YearGroup | null; leftAt: string | null; groupIds: string[] } | null;
}

export interface LoginListItem extends LoginRecord {
  personName: string | null;
}

export interface LoginRepository {
  append(rows: readonly NewLoginRecord[]): Promise<void>;
  /** Rows after `seq` received at or after `receivedSince`, oldest first, at most `limit`. */
  feed(afterSeq: number, receivedSince: string, limit: number): Promise<LoginFeedRow[]>;
  /** A school's newest rows, newest first, for people who manage devices. */
  recent(schoolId: string, limit: number): Promise<LoginListItem[]>;
  /**
   * Active pupils and staff of the school the sender's name can mean: the email (any case), the
   * UPN, or the part of the email before the @ when the name has none.
   */
  matchPeople(schoolId: string, username: string): Promise<{ id: string }[]>;
  /** Deletes rows received before `before` (the retention schedule); returns how many. */
  deleteBefore(before: string, limit: number): Promise<number>;
}

export const UNBLOCK_REQUEST_KINDS = ['unblock', 'trusted_adult'] as const;
export type UnblockRequestKind = (typeof UNBLOCK_REQUEST_KINDS)[number];
export const UNBLOCK_REQUEST_STATUSES = ['open', 'allowed', 'declined', 'seen'] as const;
export type UnblockRequestStatus = (typeof UNBLOCK_REQUEST_STATUSES)[number];

/** Sent from a block page: a request to unblock a site, or a message for a trusted adult. */
export interface UnblockRequestRecord {
  id: string;
  schoolId: string;
  kind: UnblockRequestKind;
  /** The signed block-page ticket's nonce: one request per page shown. */
  ticketNonce: string;
  /** Null for the illegal tier: its addresses are never passed on. */
  host: string | null;
  url: string | null;
  category: string | null;
  action: 'block' | 'warn';
  personId: string | null;
  deviceId: string | null;
  clientIp: string | null;
  blockedAt: string;
  /** What the pupil or member of staff wrote. */
  message: string;
  createdAt: string;
  status: UnblockRequestStatus;
  answeredBy: string | null;
  answeredAt: string | null;
  answerNote: string | null;
}

export interface UnblockRequestListItem extends UnblockRequestRecord {
  personName: string | null;
}

export interface UnblockRequestRepository {
  /** Throws a CONFLICT DomainError when the ticket was used already. */
  create(r: UnblockRequestRecord): Promise<void>;
  get(id: string): Promise<UnblockRequestListItem | null>;
  /** Newest first. */
  list(q: {
    schoolId: string;
    kinds: readonly UnblockRequestKind[];
    status?: UnblockRequestStatus | undefined;
    limit: number;
  }): Promise<UnblockRequestListItem[]>;
  /** False when it was answered already. */
  answer(id: string, a: { status: Exclude<UnblockRequestStatus, 'open'>; by: string; at: string; note: string }): Promise<boolean>;
}

/** A choice to go on past a warning page, lasting until `until`. */
export interface WarnContinueRecord {
  seq: number;
  schoolId: string;
  host: string;
  category: string | null;
  /** The person, or null for a guest (then the address counts). */
  personId: string | null;
  clientIp: string | null;
  at: string;
  until: string;
}

export interface WarnContinueRepository {
  append(r: Omit<WarnContinueRecord, 'seq'>): Promise<void>;
  /** Rows after `seq` still lasting at `now`, oldest first. */
  since(afterSeq: number, now: string, limit: number): Promise<WarnContinueRecord[]>;
}

export interface Store {
  tenancy: TenancyRepository;
  people: PeopleRepository;
  groups: GroupRepository;
  users: UserRepository;
  sessions: SessionRepository;
  audit: AuditRepository;
  policies: PolicyRepository;
  devices: DeviceRepository;
  integrationKeys: IntegrationKeyRepository;
  logins: LoginRepository;
  unblockRequests: UnblockRequestRepository;
  warnContinues: WarnContinueRepository;
  events: EventRepository;
  /** Runs fn with repositories bound to one transaction; nested calls join the outer one. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export interface TotpProvider {
  generateSecret(): string;
  keyUri(secret: string, account: string, issuer: string): string;
  /**
   * The time step the code belongs to, or null when it is wrong. Codes from steps at or before
   * `afterStep` are refused, so a code seen once (over a shoulder, in a log) cannot be replayed.
   */
  verify(secret: string, code: string, afterStep?: number | null): Promise<number | null>;
  /** For tests: the code valid now. */
  generate(secret: string): Promise<string>;
}

/** Seals small secrets (TOTP seeds) with a key that is not in the database. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export type { GroupKind };
