/**
 * Groups of people: year groups, key stages and all staff are kept in step with people by Haven
 * (managed); custom groups are made and filled by staff.
 */
import { DomainError, invalid, notFound, type Group } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

const cleanGroupName = (name: string): string => {
  const n = name.trim().replace(/\s+/g, ' ');
  if (!n) throw invalid('Group name is required');
  if (n.length > 80) throw invalid('Group name is longer than 80 characters');
  if (/[\p{Cc}]/u.test(n)) throw invalid('Group name contains control characters');
  return n;
};

export const createGroupService = (deps: ServiceDeps) => {
  const { store } = deps;

  const requireGroup = async (schoolId: string, groupId: string): Promise<Group> => {
    const g = await store.groups.get(groupId);
    if (!g || g.schoolId !== schoolId) throw notFound('GROUP_NOT_FOUND', 'Group');
    return g;
  };
  const requireCustom = (g: Group) => {
    if (g.managed)
      throw new DomainError('CONFLICT', `"${g.name}" is kept in step with people's records and cannot be changed by hand`, 409);
  };
  const assertFreeName = async (schoolId: string, name: string, selfId?: string) => {
    const other = await store.groups.findByName(schoolId, name);
    if (other && other.id !== selfId) throw new DomainError('CONFLICT', `There is already a group called "${name}"`, 409);
  };

  return {
    list: (schoolId: string) => store.groups.list(schoolId),

    async detail(schoolId: string, groupId: string) {
      const group = await requireGroup(schoolId, groupId);
      return { group, members: await store.groups.members(groupId) };
    },

    async create(ctx: RequestContext, schoolId: string, name: string) {
      const clean = cleanGroupName(name);
      await assertFreeName(schoolId, clean);
      const at = nowIso(deps);
      const group: Group = { id: deps.newId(), schoolId, name: clean, kind: 'custom', managed: false, memberCount: 0 };
      await store.transaction(async (tx) => {
        await tx.groups.create({ ...group, createdAt: at });
        await recordAudit(tx, ctx, at, { action: 'group.created', resourceType: 'group', resourceId: group.id, schoolId });
      });
      return group;
    },

    async rename(ctx: RequestContext, schoolId: string, groupId: string, name: string) {
      const group = await requireGroup(schoolId, groupId);
      requireCustom(group);
      const clean = cleanGroupName(name);
      await assertFreeName(schoolId, clean, groupId);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.groups.rename(groupId, clean);
        await recordAudit(tx, ctx, at, {
          action: 'group.updated',
          resourceType: 'group',
          resourceId: groupId,
          schoolId,
          detail: { fields: ['name'] },
        });
      });
      return { ...group, name: clean };
    },

    async addMember(ctx: RequestContext, schoolId: string, groupId: string, personId: string) {
      const group = await requireGroup(schoolId, groupId);
      requireCustom(group);
      const person = await store.people.get(personId);
      if (!person || person.schoolId !== schoolId) throw notFound('PERSON_NOT_FOUND', 'Person');
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        if (await tx.groups.addMember(groupId, personId)) {
          await recordAudit(tx, ctx, at, {
            action: 'group.member_added',
            resourceType: 'group',
            resourceId: groupId,
            schoolId,
            detail: { personId },
          });
        }
      });
      return requireGroup(schoolId, groupId);
    },

    async removeMember(ctx: RequestContext, schoolId: string, groupId: string, personId: string) {
      const group = await requireGroup(schoolId, groupId);
      requireCustom(group);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        if (await tx.groups.removeMember(groupId, personId)) {
          await recordAudit(tx, ctx, at, {
            action: 'group.member_removed',
            resourceType: 'group',
            resourceId: groupId,
            schoolId,
            detail: { personId },
          });
        }
      });
      return requireGroup(schoolId, groupId);
    },
  };
};

export type GroupService = ReturnType<typeof createGroupService>;
