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
