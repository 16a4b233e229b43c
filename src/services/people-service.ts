/**
 * People of a school: find, view (audited, since a pupil's record holds a date of birth and
 * family links), add, correct and mark as left. People are never deleted here: a pupil who
 * leaves is marked as left so what was recorded about them stays intact.
 */
import { DomainError, invalid, notFound, validatePerson, type Person, type PersonKind, type PersonQuery } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';
import { syncManagedGroups } from './managed-groups.ts';

export interface PersonInputDto {
  kind?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  upn?: string | null | undefined;
  yearGroup?: string | null | undefined;
  dateOfBirth?: string | null | undefined;
  email?: string | null | undefined;
  staffRole?: string | null | undefined;
}

const FIELDS = ['kind', 'upn', 'firstName', 'lastName', 'yearGroup', 'dateOfBirth', 'email', 'staffRole'] as const;

export const createPeopleService = (deps: ServiceDeps) => {
  const { store } = deps;

  const requirePerson = async (schoolId: string, personId: string): Promise<Person> => {
    const p = await store.people.get(personId);
    if (!p || p.schoolId !== schoolId) throw notFound('PERSON_NOT_FOUND', 'Person');
    return p;
  };

  const validated = (input: PersonInputDto) => {
    const result = validatePerson(
      {
        kind: input.kind ?? '',
        firstName: input.firstName ?? '',
        lastName: input.lastName ?? '',
        upn: input.upn ?? null,
        yearGroup: input.yearGroup ?? null,
        dateOfBirth: input.dateOfBirth ?? null,
        email: input.email ?? null,
        staffRole: input.staffRole ?? null,
      },
      deps.clock.now(),
    );
    if (!result.person || result.errors.length > 0) {
      throw invalid(
        result.errors.map((e) => e.message).join('; ') || 'Invalid person',
        result.errors.map((e) => ({ path: `/${e.field}`, message: e.message })),
      );
    }
    return result.person;
  };

  const assertUnique = async (
    schoolId: string,
    fields: { upn: string | null; email: string | null; kind: PersonKind },
    selfId?: string,
  ) => {
    if (fields.upn) {
      const other = await store.people.findByUpn(schoolId, fields.upn);
      if (other && other.id !== selfId)
        throw new DomainError('UPN_TAKEN', `UPN ${fields.upn} already belongs to ${other.firstName} ${other.lastName}`, 409);
    }
    if (fields.email) {
      const other = await store.people.findByEmail(schoolId, fields.kind, fields.email);
      if (other && other.id !== selfId)
        throw new DomainError('EMAIL_TAKEN', `Another ${fields.kind} at this school already uses ${fields.email}`, 409);
    }
  };

  return {
    requirePerson,

    async list(query: PersonQuery) {
      return store.people.list({ ...query, limit: Math.min(Math.max(query.limit, 1), 500), offset: Math.max(query.offset, 0) });
    },

    async detail(ctx: RequestContext, schoolId: string, personId: string) {
      const person = await requirePerson(schoolId, personId);
      const [parents, children, groups] = await Promise.all([
        store.people.parentsOf(person.id),
        store.people.childrenOf(person.id),
        store.groups.groupsOf(person.id),
      ]);
      await recordAudit(store, ctx, nowIso(deps), { action: 'person.viewed', resourceType: 'person', resourceId: person.id, schoolId });
      return { person, parents, children, groups };
    },

    async create(ctx: RequestContext, schoolId: string, input: PersonInputDto) {
      const fields = validated(input);
      await assertUnique(schoolId, fields);
      const at = nowIso(deps);
      const person: Person = { ...fields, id: deps.newId(), schoolId, leftAt: null, createdAt: at, updatedAt: at };
      await store.transaction(async (tx) => {
        await tx.people.create(person);
        await syncManagedGroups(tx, person, at, deps.newId);
        await recordAudit(tx, ctx, at, {
          action: 'person.created',
          resourceType: 'person',
          resourceId: person.id,
          schoolId,
          detail: { kind: person.kind },
        });
      });
      return person;
    },

    async update(ctx: RequestContext, schoolId: string, personId: string, patch: PersonInputDto & { left?: boolean | undefined }) {
      const current = await requirePerson(schoolId, personId);
      const merged = validated({
        kind: patch.kind ?? current.kind,
        firstName: patch.firstName ?? current.firstName,
        lastName: patch.lastName ?? current.lastName,
        upn: patch.upn !== undefined ? patch.upn : current.upn,
        yearGroup: patch.yearGroup !== undefined ? patch.yearGroup : current.yearGroup,
        dateOfBirth: patch.dateOfBirth !== undefined ? patch.dateOfBirth : current.dateOfBirth,
        email: patch.email !== undefined ? patch.email : current.email,
        staffRole: patch.staffRole !== undefined ? patch.staffRole : current.staffRole,
      });
      await assertUnique(schoolId, merged, current.id);
      const at = nowIso(deps);
      const changed = FIELDS.filter((f) => merged[f] !== current[f]);
      let leftAt = current.leftAt;
      if (patch.left === true && !current.leftAt) leftAt = at;
      if (patch.left === false) leftAt = null;
      if (changed.length === 0 && leftAt === current.leftAt) return current;
      const next: Person = { ...current, ...merged, leftAt, updatedAt: at };
      await store.transaction(async (tx) => {
        await tx.people.update(personId, { ...merged, leftAt }, at);
        await syncManagedGroups(tx, next, at, deps.newId);
        const action = leftAt !== current.leftAt ? (leftAt ? 'person.left' : 'person.returned') : 'person.updated';
        // Field names only: the values (a date of birth, say) stay out of the audit log.
        await recordAudit(tx, ctx, at, { action, resourceType: 'person', resourceId: personId, schoolId, detail: { fields: changed } });
      });
      return next;
    },
  };
};

export type PeopleService = ReturnType<typeof createPeopleService>;
