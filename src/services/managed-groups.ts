/**
 * The groups Haven derives from people — a pupil's year group and key stage, and "All staff" —
 * kept in step whenever a person is added, corrected, imported or marked as left. Filtering
 * policies hang off these groups, so a pupil in the wrong year group gets the wrong rules.
 * Custom groups are never touched here.
 */
import { DomainError, keyStageOf, yearGroupName, type GroupKind, type Person, type Store } from '../core/index.ts';

export const ALL_STAFF_GROUP = 'All staff';

export interface ManagedGroupSpec {
  name: string;
  kind: GroupKind;
}

/** The managed groups a person belongs in: none once they have left. */
export const managedGroupsFor = (person: Pick<Person, 'kind' | 'yearGroup' | 'leftAt'>): ManagedGroupSpec[] => {
  if (person.leftAt) return [];
  if (person.kind === 'pupil' && person.yearGroup) {
    return [
      { name: yearGroupName(person.yearGroup), kind: 'year_group' },
      { name: keyStageOf(person.yearGroup), kind: 'key_stage' },
    ];
  }
  if (person.kind === 'staff') return [{ name: ALL_STAFF_GROUP, kind: 'staff' }];
  return [];
};

/**
 * Ids of managed groups already looked up, by school and name. Only valid inside one
 * transaction: an importer passes one in so 5,000 pupils do not look up "Year 7" 5,000 times.
 */
export type ManagedGroupCache = Map<string, string>;

const findOrCreate = async (
  store: Store,
  schoolId: string,
  spec: ManagedGroupSpec,
  at: string,
  newId: () => string,
  cache: ManagedGroupCache | undefined,
): Promise<string> => {
  const key = `${schoolId}\u0000${spec.name}`;
  const cached = cache?.get(key);
  if (cached) return cached;
  const group = await store.groups.findByName(schoolId, spec.name);
  if (group && (!group.managed || group.kind !== spec.kind)) {
    // Names are unique per school. Quietly skipping would leave pupils outside their year
    // group's filtering policy, so say what to do instead.
    throw new DomainError(
      'CONFLICT',
      `There is already a custom group called "${spec.name}"; rename it so Haven can keep the ${spec.name} group in step with people's records`,
      409,
    );
  }
  let id = group?.id;
  if (!id) {
    id = newId();
    await store.groups.create({ id, schoolId, name: spec.name, kind: spec.kind, managed: true, createdAt: at });
  }
  cache?.set(key, id);
  return id;
};

/**
 * Puts the person in exactly the managed groups that apply to them now, creating groups on first
 * need, and takes them out of managed groups that no longer apply (a new year group, or left).
 * Call it in the same transaction as the change to the person.
 */
export const syncManagedGroups = async (
  store: Store,
  person: Person,
  at: string,
  newId: () => string,
  cache?: ManagedGroupCache,
): Promise<void> => {
  const wanted: string[] = [];
  for (const spec of managedGroupsFor(person)) {
    wanted.push(await findOrCreate(store, person.schoolId, spec, at, newId, cache));
  }
  const current = await store.groups.managedGroupIdsOf(person.id);
  for (const id of current) {
    if (!wanted.includes(id)) await store.groups.removeMember(id, person.id);
  }
  for (const id of wanted) {
    if (!current.includes(id)) await store.groups.addMember(id, person.id);
  }
};
