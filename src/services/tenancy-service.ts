/**
 * The trust and its schools. A Haven installation serves one trust (a single school is a trust
 * of one); schools are added by administrators.
 */
import { DomainError, invalid, notFound, schoolsFor, type School } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

const URN_RE = /^\d{6}$/;

const cleanName = (name: string, what: string): string => {
  const n = name.trim().replace(/\s+/g, ' ');
  if (!n) throw invalid(`${what} name is required`);
  if (n.length > 120) throw invalid(`${what} name is longer than 120 characters`);
  if (/[\p{Cc}]/u.test(n)) throw invalid(`${what} name contains control characters`);
  return n;
};

const cleanUrn = (urn: string | null | undefined): string | null => {
  if (urn === undefined || urn === null || urn.trim() === '') return null;
  if (!URN_RE.test(urn.trim())) throw invalid('URN must be the 6-digit DfE unique reference number');
  return urn.trim();
};

export const createTenancyService = (deps: ServiceDeps) => {
  const { store } = deps;
  const requireSchool = async (id: string): Promise<School> => {
    const s = await store.tenancy.getSchool(id);
    if (!s) throw notFound('SCHOOL_NOT_FOUND', 'School');
    return s;
  };
  return {
    requireSchool,
    async getTrust() {
      return store.tenancy.getTrust();
    },
    async ensureTrust(name: string) {
      const existing = await store.tenancy.getTrust();
      if (existing) return existing;
      const trust = { id: deps.newId(), name: cleanName(name, 'Trust'), createdAt: nowIso(deps) };
      await store.tenancy.createTrust(trust);
      return trust;
    },
    async renameTrust(ctx: RequestContext, name: string) {
      const trust = await store.tenancy.getTrust();
      if (!trust) throw notFound('NOT_FOUND', 'Trust');
      const clean = cleanName(name, 'Trust');
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.tenancy.renameTrust(trust.id, clean, at);
        await recordAudit(tx, ctx, at, {
          action: 'trust.updated',
          resourceType: 'trust',
          resourceId: trust.id,
          detail: { fields: ['name'] },
        });
      });
      return { ...trust, name: clean };
    },
    async listSchools(ctx: RequestContext) {
      return store.tenancy.listSchools(schoolsFor(ctx.actor, 'read', 'school'));
    },
    async createSchool(ctx: RequestContext, input: { name: string; urn?: string | null | undefined }) {
      const trust = await store.tenancy.getTrust();
      if (!trust) throw new DomainError('CONFLICT', 'Create the trust first (haven start does this)', 409);
      const name = cleanName(input.name, 'School');
      const existing = (await store.tenancy.listSchools('all')).find((s) => s.name.toLowerCase() === name.toLowerCase());
      if (existing) throw new DomainError('CONFLICT', `A school called "${existing.name}" already exists`, 409);
      const at = nowIso(deps);
      const school: School = { id: deps.newId(), trustId: trust.id, name, urn: cleanUrn(input.urn), createdAt: at, updatedAt: at };
      await store.transaction(async (tx) => {
        await tx.tenancy.createSchool(school);
        await recordAudit(tx, ctx, at, { action: 'school.created', resourceType: 'school', resourceId: school.id, schoolId: school.id });
      });
      return school;
    },
    async updateSchool(ctx: RequestContext, id: string, input: { name?: string | undefined; urn?: string | null | undefined }) {
      const school = await requireSchool(id);
      const changes: { name?: string; urn?: string | null } = {};
      if (input.name !== undefined) changes.name = cleanName(input.name, 'School');
      if (input.urn !== undefined) changes.urn = cleanUrn(input.urn);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.tenancy.updateSchool(id, changes, at);
        await recordAudit(tx, ctx, at, {
          action: 'school.updated',
          resourceType: 'school',
          resourceId: id,
          schoolId: id,
          detail: { fields: Object.keys(changes) },
        });
      });
      return { ...school, ...changes, updatedAt: at };
    },
  };
};

export type TenancyService = ReturnType<typeof createTenancyService>;
