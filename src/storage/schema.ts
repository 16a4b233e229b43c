/**
 * The one database schema, for SQLite and PostgreSQL alike. Portable choices: ids are text
 * (UUIDs), timestamps are ISO-8601 UTC text, booleans are 0/1 integers, JSON is text.
 */
import type { Generated } from 'kysely';

export interface TrustTable {
  id: string;
  name: string;
  created_at: string;
}

export interface SchoolTable {
  id: string;
  trust_id: string;
  name: string;
  urn: string | null;
  created_at: string;
  updated_at: string;
}

export interface PersonTable {
  id: string;
  school_id: string;
  kind: string;
  upn: string | null;
  first_name: string;
  last_name: string;
  year_group: string | null;
  date_of_birth: string | null;
  email: string | null;
  staff_role: string | null;
  left_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ParentLinkTable {
  parent_id: string;
  pupil_id: string;
  created_at: string;
}

export interface GroupTable {
  id: string;
  school_id: string;
  name: string;
  kind: string;
  managed: number;
  created_at: string;
}

export interface GroupMemberTable {
  group_id: string;
  person_id: string;
}

export interface UserTable {
  id: string;
  email: string;
  display_name: string;
  person_id: string | null;
  password_hash: string;
  must_change_password: number;
  totp_secret: string | null;
  totp_enabled: number;
  totp_last_step: number | null;
  failed_logins: number;
  locked_until: string | null;
  disabled: number;
  created_at: string;
  updated_at: string;
}

export interface UserRoleTable {
  user_id: string;
  role: string;
  /** '' means trust-wide: an empty string keeps the primary key portable (no NULLs in keys). */
  school_id: string;
}

export interface RecoveryCodeTable {
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface SessionTable {
  id_hash: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  mfa_ok: number;
  locked: number;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  seq: number;
  at: string;
  actor_user_id: string | null;
  actor_label: string;
  ip: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  school_id: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** One row (id = 1) holding the chain's newest seq and hash: serialises appends and catches a cut tail. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

/** Saved trust and school filtering policies; append-only (a change is a new version). */
export interface PolicyVersionTable {
  scope: string;
  scope_id: string;
  version: number;
  document: string;
  reason: string;
  changes: string;
  changed_by_user_id: string | null;
  changed_by_label: string;
  created_at: string;
}

export interface TeacherOverrideTable {
  id: string;
  school_id: string;
  audience: string;
  categories: string;
  sites: string;
  action: string;
  starts_at: string;
  expires_at: string;
  reason: string;
  created_by_user_id: string | null;
  created_by_label: string;
  created_at: string;
  revoked_at: string | null;
  revoked_by_label: string | null;
}

export interface FilterEventTable {
  id: Generated<number>;
  at: string;
  source: string;
  school_id: string | null;
  client_ip: string | null;
  person_id: string | null;
  device_id: string | null;
  profile: string | null;
  host: string;
  url: string | null;
  qtype: string | null;
  category: string | null;
  list: string | null;
  action: string;
  layer: string;
  rule_id: string | null;
  flagged: number;
  latency_us: number;
  method: string | null;
  status: number | null;
  /** bigint: PostgreSQL returns it as text. */
  bytes_in: number | string | null;
  bytes_out: number | string | null;
  search_term: string | null;
  warn_continued: number;
}

/** School devices; the DoH token is held only as its SHA-256. */
export interface DeviceTable {
  id: string;
  school_id: string;
  label: string;
  kind: string;
  person_id: string | null;
  ip: string | null;
  mac: string | null;
  token_hash: string;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
}

/** Keys a school's own systems use to send the login feed; only the SHA-256 is kept. */
export interface IntegrationKeyTable {
  id: string;
  school_id: string;
  name: string;
  /** JSON array of scopes, e.g. ["identity"]. */
  scopes: string;
  key_hash: string;
  key_prefix: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The login feed: who logged in or out at which address, in arrival order. */
export interface IdentityLoginTable {
  seq: Generated<number>;
  school_id: string;
  kind: string;
  ip: string;
  username: string;
  person_id: string | null;
  source: string;
  key_id: string | null;
  at: string;
  expires_at: string | null;
  received_at: string;
}

/** From block pages: unblock requests and "tell a trusted adult" messages. */
export interface UnblockRequestTable {
  id: string;
  school_id: string;
  kind: string;
  ticket_nonce: string;
  host: string | null;
  url: string | null;
  category: string | null;
  action: string;
  person_id: string | null;
  device_id: string | null;
  client_ip: string | null;
  blocked_at: string;
  message: string;
  created_at: string;
  status: string;
  answered_by: string | null;
  answered_at: string | null;
  answer_note: string | null;
}

/** Choices to go on past a warning page. */
export interface WarnContinueTable {
  seq: Generated<number>;
  school_id: string;
  host: string;
  category: string | null;
  person_id: string | null;
  client_ip: string | null;
  at: string;
  until: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface DB {
  trust: TrustTable;
  school: SchoolTable;
  person: PersonTable;
  parent_link: ParentLinkTable;
  person_group: GroupTable;
  group_member: GroupMemberTable;
  app_user: UserTable;
  user_role: UserRoleTable;
  recovery_code: RecoveryCodeTable;
  session: SessionTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  meta: MetaTable;
  policy_version: PolicyVersionTable;
  teacher_override: TeacherOverrideTable;
  filter_event: FilterEventTable;
  device: DeviceTable;
  integration_key: IntegrationKeyTable;
  identity_login: IdentityLoginTable;
  unblock_request: UnblockRequestTable;
  warn_continue: WarnContinueTable;
}
