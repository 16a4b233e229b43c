/** Request and response shapes of the Haven API (see the API contract). */

export type SessionState = 'active' | 'mfa_required' | 'mfa_enrolment_required' | 'password_change_required' | 'locked';

export interface Grant {
  role: string;
  /** null: the role applies in every school of the trust. */
  schoolId: string | null;
}

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  totpEnabled: boolean;
  grants: Grant[];
}

/** `'all'`: allowed in every school; a list: allowed in those schools only. Absent: not allowed. */
export type Ability = 'all' | string[];

export interface SessionView {
  state: SessionState;
  user: SessionUser;
  idleLockMinutes: number;
  expiresAt: string;
  abilities: Record<string, Ability>;
}

export interface RoleInfo {
  role: string;
  label: string;
  mfaRequired: boolean;
}

export interface Trust {
  id: string;
  name: string;
}

export interface School {
  id: string;
  trustId: string;
  name: string;
  urn: string | null;
  createdAt: string;
  updatedAt: string;
}

export const PERSON_KINDS = ['pupil', 'staff', 'parent', 'governor', 'visitor'] as const;
export type PersonKind = (typeof PERSON_KINDS)[number];

export const YEAR_GROUPS = ['N', 'R', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'] as const;
export type YearGroup = (typeof YEAR_GROUPS)[number];

export interface Person {
  id: string;
  schoolId: string;
  kind: PersonKind;
  upn: string | null;
  firstName: string;
  lastName: string;
  yearGroup: YearGroup | null;
  dateOfBirth: string | null;
  email: string | null;
  staffRole: string | null;
  leftAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type GroupKind = 'year_group' | 'key_stage' | 'staff' | 'custom';

export interface Group {
  id: string;
  schoolId: string;
  name: string;
  kind: GroupKind;
  managed: boolean;
  memberCount?: number;
}

export interface Dashboard {
  trust: Trust | null;
  schoolCount: number;
  people: Partial<Record<PersonKind, number>>;
  groupCount: number;
  userCount: number | null;
  schools: { id: string; name: string }[];
}

export interface ImportError {
  line: number;
  field: string | null;
  message: string;
}

export interface ImportReport {
  totalRows: number;
  validRows: number;
  invalidRows: number;
  created: number;
  updated: number;
  unchanged: number;
  applied: boolean;
  /** Header names in the file that Haven does not use (newer APIs only). */
  ignoredColumns?: string[];
  errors: ImportError[];
}

export interface User {
  id: string;
  email: string;
  displayName: string;
  grants: Grant[];
  totpEnabled: boolean;
  disabled: boolean;
  lockedUntil: string | null;
  mustChangePassword: boolean;
  createdAt: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actorUserId: string | null;
  actorLabel: string | null;
  ip: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  schoolId: string | null;
  detail: unknown;
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  problem: null | { seq: number; kind: string; message: string };
}

export interface TotpSetup {
  secret: string;
  otpauthUri: string;
  qrSvgDataUrl: string;
}

/* ---------- Filtering (src/core/policy/types.ts, src/api/routes/filtering.ts) ---------- */

export const FILTER_ACTIONS = ['allow', 'block', 'warn', 'allow-and-flag'] as const;
export type FilterAction = (typeof FILTER_ACTIONS)[number];

export const YOUTUBE_MODES = ['off', 'moderate', 'strict'] as const;
export type YoutubeMode = (typeof YOUTUBE_MODES)[number];

/** Category id (or "uncategorised") → action. */
export type ActionMap = Partial<Record<string, FilterAction>>;

export interface Audience {
  kinds?: string[];
  keyStages?: string[];
  yearGroups?: string[];
  flags?: string[];
  groups?: string[];
}

export interface FilterCategory {
  id: string;
  label: string;
  description: string;
  kind: string;
  locked: boolean;
  safeguarding: boolean;
  uksic: boolean;
}

export interface PolicyProfile {
  id: string;
  label: string;
  audience: Audience;
  actions: ActionMap;
  safeSearch: boolean;
  youtube: YoutubeMode;
}

export interface ProfilePatch {
  id: string;
  label?: string;
  audience?: Audience;
  actions?: ActionMap;
  safeSearch?: boolean;
  youtube?: YoutubeMode;
}

export interface PolicySchedule {
  days?: string[];
  from?: string;
  to?: string;
  termTime?: 'term' | 'holiday';
  dates?: { from: string; to: string }[];
}

export interface PolicyRule {
  id: string;
  description: string;
  audience: Audience;
  when?: PolicySchedule;
  places?: string[];
  actions: ActionMap;
  safeSearch?: boolean;
  youtube?: YoutubeMode;
  disabled?: boolean;
  enforced?: boolean;
}

export interface PolicyListEntry {
  pattern: string;
  note?: string;
  audience?: Audience;
  enforced?: boolean;
}

export interface TeacherOverrideSettings {
  categories: string[];
  sites: boolean;
  maxMinutes: number;
}

/** The merged policy a school's requests are decided by. */
export interface FilterPolicy {
  id: string;
  name: string;
  timeZone: string;
  baseline: ActionMap;
  profiles: PolicyProfile[];
  rules: PolicyRule[];
  allowList: PolicyListEntry[];
  blockList: PolicyListEntry[];
  teacherOverrides: TeacherOverrideSettings;
  terms: { name: string; from: string; to: string }[];
  places: { id: string; label: string; cidrs: string[] }[];
}

export interface TrustPolicy {
  trustId: string;
  name: string;
  timeZone: string;
  baseline: ActionMap;
  profiles: PolicyProfile[];
  rules: PolicyRule[];
  allowList: PolicyListEntry[];
  blockList: PolicyListEntry[];
  teacherOverrides: TeacherOverrideSettings;
  terms: { name: string; from: string; to: string }[];
  places: { id: string; label: string; cidrs: string[] }[];
}

/** A school's changes to the trust policy; everything absent is inherited. */
export interface SchoolPolicy {
  schoolId?: string;
  name?: string;
  timeZone?: string;
  baseline?: ActionMap;
  profiles?: ProfilePatch[];
  rules?: PolicyRule[];
  disabledTrustRules?: string[];
  allowList?: PolicyListEntry[];
  blockList?: PolicyListEntry[];
  removedTrustEntries?: string[];
  teacherOverrides?: Partial<TeacherOverrideSettings>;
  terms?: { name: string; from: string; to: string }[];
  places?: { id: string; label: string; cidrs: string[] }[];
  /** The school's own words on its block pages. */
  blockPageMessage?: string;
}

/** A saved policy; version 0 means nothing has been saved yet (Haven's defaults). */
export interface PolicyView<T> {
  version: number;
  savedAt: string | null;
  savedBy: string | null;
  reason: string | null;
  policy: T;
}

export interface SchoolPolicyView extends PolicyView<SchoolPolicy> {
  trust: PolicyView<TrustPolicy>;
  effective: FilterPolicy;
}

export interface PolicyProblem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface PolicySaveResult {
  version: number;
  changes: string[];
  warnings: PolicyProblem[];
}

export interface PolicyVersionSummary {
  version: number;
  reason: string;
  changes: string[];
  savedBy: string;
  savedAt: string;
}

export interface FilterDecision {
  action: FilterAction;
  category: string | null;
  source: string | null;
  rule: { id: string; description: string } | null;
  layer: string;
  reason: string;
  safeSearch: boolean;
  youtube: YoutubeMode;
  flagged: boolean;
  overrideId?: string;
}

export interface SiteCheckResult {
  host: string | null;
  category: string | null;
  source: string | null;
  decision: FilterDecision | null;
}

export type OverrideState = 'scheduled' | 'active' | 'expired' | 'revoked';

export interface FilterOverride {
  id: string;
  schoolId: string;
  audience: Audience;
  audienceLabel: string;
  categories: string[];
  sites: string[];
  action: 'allow' | 'allow-and-flag';
  startsAt: string;
  expiresAt: string;
  reason: string;
  createdByLabel: string;
  createdAt: string;
  revokedAt: string | null;
  revokedByLabel: string | null;
  state: OverrideState;
}

export interface OverridesView {
  items: FilterOverride[];
  settings: { categories: { id: string; label: string }[]; sites: boolean; maxMinutes: number };
}

export interface ManifestList {
  name: string;
  category: string;
  domains: number;
  urls: number;
  expressions: number;
  malformed?: number;
  excluded?: number;
}

export interface ListsManifest {
  source: string;
  sourceName?: string;
  importedAt: string;
  totals: {
    lists: number;
    domains: number;
    urls: number;
    expressions: number;
    malformed?: number;
    excluded?: number;
    distinctDomains: number;
  };
  lists: ManifestList[];
  ignored: { name: string; reason: string }[];
  unmapped: string[];
  warnings: string[];
}

export interface ListsStatus {
  manifest: ListsManifest | null;
  illegal: { ok: boolean; canaries: { entry: string; blocked: boolean }[]; entries: Record<string, number> };
}

/* ---------- DNS log (src/api/routes/filter-log.ts) ---------- */

export const EVENT_SOURCES = ['dns', 'doh', 'proxy'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export interface FilterLogItem {
  id: number;
  at: string;
  source: EventSource;
  host: string;
  url: string | null;
  qtype: string | null;
  category: string | null;
  list: string | null;
  action: FilterAction;
  /** Which part of the policy decided: 'illegal', 'block-list', 'profile', 'circumvention', 'error' … */
  layer: string;
  ruleId: string | null;
  flagged: boolean;
  profile: string | null;
  latencyUs: number;
  personId: string | null;
  person: { id: string; name: string } | null;
  clientIp: string | null;
  deviceId: string | null;
  /** Who asked is hidden from this viewer (a safeguarding entry seen by IT or an administrator). */
  identityHidden: boolean;
}

export interface FilterLogPage {
  items: FilterLogItem[];
  nextBeforeId: number | null;
  /** A live poll found more new entries than one answer holds. */
  truncated: boolean;
  /** This viewer sees safeguarding entries with people hidden. */
  restricted: boolean;
}

/* ---------- Devices (src/services/device-service.ts, src/api/routes/devices.ts) ---------- */

export const DEVICE_KINDS = ['laptop', 'desktop', 'tablet', 'phone', 'other'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** A school device; its DoH token is never listed. */
export interface Device {
  id: string;
  schoolId: string;
  label: string;
  kind: DeviceKind;
  personId: string | null;
  personName: string | null;
  ip: string | null;
  mac: string | null;
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
}

/** The answer to registering a device or rotating its token: the only time the token is shown. */
export interface DeviceWithToken {
  device: Device;
  token: string;
  /** `/dns-query/<token>`, after the server's origin. */
  dohPath: string;
}

/* ---------- Sign-in feed (src/services/integration-key-service.ts, login-feed-service.ts, src/api/routes/integrations.ts) ---------- */

/** A key a school system uses to send sign-ins; the key itself is never listed. */
export interface IntegrationKey {
  id: string;
  schoolId: string;
  name: string;
  scopes: 'identity'[];
  /** The key's first characters, to tell keys apart. */
  hint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export const LOGIN_SOURCES = ['logon-script', 'radius', 'agent', 'proxy', 'other'] as const;
export type LoginSource = (typeof LOGIN_SOURCES)[number];

/** One row of the sign-in feed. */
export interface LoginRow {
  seq: number;
  kind: 'login' | 'logout';
  ip: string;
  username: string;
  personId: string | null;
  personName: string | null;
  source: LoginSource;
  at: string;
  expiresAt: string | null;
  receivedAt: string;
}

/* ---------- Block-page requests (src/services/unblock-service.ts, src/api/routes/unblock.ts) ---------- */

export interface UnblockRequest {
  id: string;
  schoolId: string;
  kind: 'unblock' | 'trusted_adult';
  host: string | null;
  url: string | null;
  category: string | null;
  action: 'block' | 'warn';
  personId: string | null;
  personName: string | null;
  deviceId: string | null;
  clientIp: string | null;
  blockedAt: string;
  message: string;
  createdAt: string;
  status: 'open' | 'allowed' | 'declined' | 'seen';
  answeredBy: string | null;
  answeredAt: string | null;
  answerNote: string | null;
}
