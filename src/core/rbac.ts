/**
 * The one permission table. Every API route names an (action, resource) pair from it and the
 * API refuses the request unless `can(actor, action, resource)` says yes; a test walks every
 * route with every role against this table.
 */
import { ROLES, type Role, type RoleGrant } from './roles.ts';

export type Action = 'read' | 'create' | 'update' | 'import' | 'reset_password' | 'verify';

export type ResourceType =
  | 'account'
  | 'trust'
  | 'school'
  | 'person'
  | 'group'
  | 'user'
  | 'audit'
  | 'dashboard'
  | 'filtering'
  | 'trust_filtering'
  | 'filter_override'
  | 'filter_log'
  | 'device'
  | 'integration_key'
  | 'unblock_request';

/**
 * Resources only trust-wide grants reach: a role held at one school never changes what every
 * school inherits.
 */
export const TRUST_SCOPED_RESOURCES: ReadonlySet<ResourceType> = new Set<ResourceType>(['trust_filtering']);

const everyone: readonly Role[] = ROLES;
/** Everyone who works at the school and may need to find a pupil or colleague by name. */
const schoolStaff: readonly Role[] = [
  'admin',
  'dsl',
  'deputy_dsl',
  'headteacher',
  'online_safety_lead',
  'dpo',
  'it_manager',
  'office',
  'pastoral',
  'staff',
];
/** Roles that keep the school's people and groups in step with its MIS. */
const peopleManagers: readonly Role[] = ['admin', 'office', 'it_manager', 'dsl', 'deputy_dsl', 'headteacher'];
/**
 * Roles that decide what the school filters: IT runs it, the DSL and online safety lead own what
 * it should do, the head answers for it (docs/decisions/0008-filtering-change-control.md).
 */
const filteringManagers: readonly Role[] = ['admin', 'it_manager', 'online_safety_lead', 'dsl', 'deputy_dsl', 'headteacher'];
/** Who may see the filtering policy and test sites against it (governors see reports, not settings). */
const filteringReaders: readonly Role[] = [...filteringManagers, 'trust_lead', 'dpo'];
/** Who may open sites for a class for a lesson, within what the policy lets teachers open. */
const overrideMakers: readonly Role[] = [...filteringManagers, 'pastoral', 'staff'];

export const PERMISSIONS: Readonly<Record<ResourceType, Partial<Record<Action, readonly Role[]>>>> = {
  account: { read: everyone, update: everyone },
  trust: { read: everyone, update: ['admin'] },
  school: { read: everyone, create: ['admin'], update: ['admin', 'headteacher'] },
  person: { read: schoolStaff, create: peopleManagers, update: peopleManagers, import: peopleManagers },
  group: { read: schoolStaff, create: peopleManagers, update: peopleManagers },
  user: { read: ['admin'], create: ['admin'], update: ['admin'], reset_password: ['admin'] },
  // Audit entries name actions and record ids, never safeguarding content.
  audit: { read: ['admin', 'dpo'], verify: ['admin', 'dpo'] },
  dashboard: { read: everyone },
  filtering: { read: filteringReaders, update: filteringManagers },
  trust_filtering: { read: filteringReaders, update: ['admin', 'it_manager'] },
  // Revoking ('update') someone else's override also needs filtering:update (checked by the service).
  filter_override: { read: [...overrideMakers, 'trust_lead', 'dpo'], create: overrideMakers, update: overrideMakers },
  // The DNS and proxy log: IT and admins see it with people hidden on safeguarding entries (decision 0009).
  filter_log: { read: ['admin', 'it_manager', 'online_safety_lead', 'dsl', 'deputy_dsl', 'headteacher'] },
  // School devices and their DoH tokens: registered and revoked by IT.
  device: {
    read: ['admin', 'it_manager', 'online_safety_lead', 'dsl', 'deputy_dsl'],
    create: ['admin', 'it_manager'],
    update: ['admin', 'it_manager'],
  },
  // Keys the school's own systems (logon script, RADIUS) use to send the login feed.
  integration_key: { read: ['admin', 'it_manager'], create: ['admin', 'it_manager'], update: ['admin', 'it_manager'] },
  // What block pages send. "Tell a trusted adult" messages are further limited to dsl and deputy_dsl (unblock-service.ts).
  unblock_request: {
    read: ['admin', 'it_manager', 'online_safety_lead', 'dsl', 'deputy_dsl', 'headteacher'],
    update: ['admin', 'it_manager', 'online_safety_lead', 'dsl', 'deputy_dsl'],
  },
};

export interface Actor {
  userId: string;
  grants: readonly RoleGrant[];
}

export interface Resource {
  type: ResourceType;
  /** The school the record belongs to; omitted for trust-level resources. */
  schoolId?: string | null | undefined;
}

export const rolesAllowed = (action: Action, type: ResourceType): readonly Role[] => PERMISSIONS[type][action] ?? [];

/** The roles an actor holds that apply to a resource: grants for its school and trust-wide grants. */
export const rolesFor = (actor: Actor, resource: Resource): Role[] =>
  actor.grants
    .filter((g) =>
      TRUST_SCOPED_RESOURCES.has(resource.type)
        ? g.schoolId === null
        : resource.schoolId == null || g.schoolId === null || g.schoolId === resource.schoolId,
    )
    .map((g) => g.role);

export const can = (actor: Actor, action: Action, resource: Resource): boolean => {
  const allowed = rolesAllowed(action, resource.type);
  return rolesFor(actor, resource).some((r) => allowed.includes(r));
};

/** Schools an actor may see records of for an action; 'all' when a trust-wide grant allows it. */
export const schoolsFor = (actor: Actor, action: Action, type: ResourceType): 'all' | string[] => {
  const allowed = rolesAllowed(action, type);
  const grants = actor.grants.filter((g) => allowed.includes(g.role) && (g.schoolId === null || !TRUST_SCOPED_RESOURCES.has(type)));
  if (grants.some((g) => g.schoolId === null)) return 'all';
  return [...new Set(grants.map((g) => g.schoolId).filter((s): s is string => s !== null))];
};

/**
 * Everything an actor may do, as "resource:action" → 'all' or school ids; the web app uses it to
 * decide what to show (the API still checks every request).
 */
export const abilitiesOf = (actor: Actor): Record<string, 'all' | string[]> => {
  const out: Record<string, 'all' | string[]> = {};
  for (const [type, actions] of Object.entries(PERMISSIONS) as [ResourceType, Partial<Record<Action, readonly Role[]>>][]) {
    for (const action of Object.keys(actions) as Action[]) {
      const scope = schoolsFor(actor, action, type);
      if (scope === 'all' || scope.length > 0) out[`${type}:${action}`] = scope;
    }
  }
  return out;
};
