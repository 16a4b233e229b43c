/**
 * Haven's roles, after research/safeguarding-compliance.md §7(c). A user holds roles per school
 * (or trust-wide when schoolId is null).
 */
export const ROLES = [
  'admin',
  'dsl',
  'deputy_dsl',
  'headteacher',
  'online_safety_lead',
  'dpo',
  'trust_lead',
  'it_manager',
  'office',
  'pastoral',
  'staff',
  'chair_of_governors',
  'governor',
  'visitor',
  'parent',
  'pupil',
] as const;

export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'System administrator',
  dsl: 'Designated Safeguarding Lead',
  deputy_dsl: 'Deputy DSL',
  headteacher: 'Headteacher',
  online_safety_lead: 'Online safety lead',
  dpo: 'Data Protection Officer',
  trust_lead: 'Trust safeguarding lead',
  it_manager: 'IT / network manager',
  office: 'Office / HR',
  pastoral: 'Pastoral staff (Head of Year, SENCo)',
  staff: 'Staff (teacher, TA, volunteer)',
  chair_of_governors: 'Chair of governors',
  governor: 'Governor / trustee',
  visitor: 'Visitor / contractor / supply',
  parent: 'Parent / carer',
  pupil: 'Pupil',
};

/**
 * Roles that must use TOTP 2FA before they can do anything. The issue names DSL, deputy DSL,
 * headteacher and admin; DPO and trust lead are added because they reach the audit log and
 * cross-school data (docs/decisions/0003-mfa-roles.md).
 */
export const MFA_REQUIRED_ROLES: ReadonlySet<Role> = new Set<Role>(['admin', 'dsl', 'deputy_dsl', 'headteacher', 'dpo', 'trust_lead']);

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

export interface RoleGrant {
  role: Role;
  /** null: the role applies trust-wide, in every school. */
  schoolId: string | null;
}

export const requiresMfa = (grants: readonly RoleGrant[]): boolean => grants.some((g) => MFA_REQUIRED_ROLES.has(g.role));
