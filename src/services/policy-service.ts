/**
 * Filtering policies under change control. The trust's policy and each school's changes are
 * saved as numbered versions (never edited); every save needs a reason, must be made against the
 * version the editor started from, is validated (errors refuse it, warnings are returned), and is
 * recorded in the audit log with who, when, why and a readable diff. Teachers' temporary
 * overrides are kept apart from the versioned policy and recorded the same way.
 */
import {
  audienceIsGroupScoped,
  can,
  categoryById,
  DomainError,
  defaultTrustPolicy,
  describeAudience,
  examplePerson,
  forbidden,
  invalid,
  notFound,
  policyDiff,
  resolvePolicy,
  validatePolicy,
  type Audience,
  type ConfigurableCategoryId,
  type DiffOptions,
  type FilterPolicy,
  type OverrideRecord,
  type PolicyProblem,
  type PolicyScope,
  type PolicyVersionRecord,
  type RequestPerson,
  type SchoolPolicy,
  type TeacherOverride,
  type TrustPolicy,
} from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';
import type { CheckResult, FilterRuntime } from './filter-runtime.ts';

/** A saved policy as the editor sees it; version 0 is the built-in default (nothing saved yet). */
export interface PolicyView<T> {
  version: number;
  policy: T;
  savedAt: string | null;
  savedBy: string | null;
  reason: string | null;
}

export interface PolicySaveInput<T> {
  policy: T;
  reason: string;
  /** The version the change was made against; a save over a newer version is refused. */
  baseVersion: number;
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

export interface OverrideInput {
  audience: Audience;
  categories?: string[];
  sites?: string[];
  minutes: number;
  /** Default: now. */
  startsAt?: string;
  reason: string;
  action?: 'allow' | 'allow-and-flag';
}

export interface OverrideView extends OverrideRecord {
  /** "Year 7", "Chess Club", in plain English. */
  audienceLabel: string;
  state: 'scheduled' | 'active' | 'expired' | 'revoked';
}

export interface CheckInput {
  site: string;
  /** A default or school profile id ("ks2"): decide for a typical member. */
  profile?: string;
  /** Or describe the person. */
  person?: RequestPerson;
  /** Or a real person at the school. */
  personId?: string;
  at?: string;
  clientIp?: string;
  place?: string;
}

/** Audit entries carry at most this many diff lines; the version row keeps them all. */
const MAX_AUDITED_CHANGES = 200;
const MAX_REASON = 1000;

export const cleanReason = (reason: string | undefined): string => {
  const r = (reason ?? '').trim().replace(/\s+/g, ' ');
  if (r.length < 3) throw invalid('Say why: a reason is required for every change to filtering');
  if (r.length > MAX_REASON) throw invalid(`The reason is longer than ${MAX_REASON} characters`);
  if (/[\p{Cc}]/u.test(r)) throw invalid('The reason contains control characters');
  return r;
};

const auditedChanges = (changes: string[]): string[] =>
  changes.length <= MAX_AUDITED_CHANGES
    ? changes
    : [...changes.slice(0, MAX_AUDITED_CHANGES), `… and ${changes.length - MAX_AUDITED_CHANGES} more (see the policy history)`];

const refuseProblems = (problems: PolicyProblem[], what: string): PolicyProblem[] => {
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw invalid(`The ${what} was not saved: ${first.path ? `${first.path}: ` : ''}${first.message}${more}`, { problems: errors });
  }
  return problems;
};

const toSummary = (v: PolicyVersionRecord): PolicyVersionSummary => ({
  version: v.version,
  reason: v.reason,
  changes: v.changes,
  savedBy: v.changedByLabel,
  savedAt: v.createdAt,
});

const toTeacherOverride = (o: OverrideRecord): TeacherOverride => ({
  id: o.id,
  audience: o.audience as Audience,
  categories: o.categories as ConfigurableCategoryId[],
  sites: o.sites,
  startsAt: o.startsAt,
  expiresAt: o.expiresAt,
  createdBy: o.createdByLabel,
  reason: o.reason,
  action: o.action,
  ...(o.revokedAt !== null && { revoked: true }),
});

export const createPolicyService = (
  deps: ServiceDeps,
  runtime: () => FilterRuntime,
  /** Told after a saved change (schoolId absent: the trust policy, so every school). */
  onSaved: (schoolId?: string) => void = () => undefined,
) => {
  const { store } = deps;

  const requireTrust = async () => {
    const trust = await store.tenancy.getTrust();
    if (!trust) throw notFound('NOT_FOUND', 'The trust');
    return trust;
  };
  const requireSchool = async (schoolId: string) => {
    const school = await store.tenancy.getSchool(schoolId);
    if (!school) throw notFound('SCHOOL_NOT_FOUND', 'School');
    return school;
  };

  const view = <T>(record: PolicyVersionRecord | null, fallback: T): PolicyView<T> =>
    record
      ? {
          version: record.version,
          policy: record.document as T,
          savedAt: record.createdAt,
          savedBy: record.changedByLabel,
          reason: record.reason,
        }
      : { version: 0, policy: fallback, savedAt: null, savedBy: null, reason: null };

  const trustPolicy = async (): Promise<PolicyView<TrustPolicy>> => {
    const trust = await requireTrust();
    return view(await store.policies.current('trust', trust.id), defaultTrustPolicy(trust.id));
  };

  const schoolPolicy = async (schoolId: string): Promise<PolicyView<SchoolPolicy>> => {
    await requireSchool(schoolId);
    return view(await store.policies.current('school', schoolId), { schoolId });
  };

  const activeOverrides = async (schoolId: string): Promise<TeacherOverride[]> =>
    (await store.policies.listOverrides(schoolId, nowIso(deps))).map(toTeacherOverride);

  /** The policy a school's requests are decided by: the trust's, the school's changes, and live overrides. */
  const effectivePolicy = async (schoolId: string): Promise<FilterPolicy> => {
    const [trust, school, overrides] = await Promise.all([trustPolicy(), schoolPolicy(schoolId), activeOverrides(schoolId)]);
    return resolvePolicy(trust.policy, { ...school.policy, overrides });
  };

  const isIllegal = async () => {
    const { illegal } = await runtime().classification();
    return (site: string) => (site.includes('/') ? illegal.matchUrl(site) : illegal.matchHost(site)) !== null;
  };

  const saveVersion = async <T extends TrustPolicy | SchoolPolicy>(
    ctx: RequestContext,
    scope: PolicyScope,
    scopeId: string,
    before: T,
    after: T,
    input: { reason: string; baseVersion: number },
    audit: { action: string; schoolId: string | null },
    diffOptions: DiffOptions = {},
  ): Promise<{ version: number; changes: string[] }> => {
    const at = nowIso(deps);
    return store.transaction(async (tx) => {
      const current = await tx.policies.current(scope, scopeId);
      const currentVersion = current?.version ?? 0;
      if (input.baseVersion !== currentVersion) {
        throw new DomainError(
          'CONFLICT',
          `This policy has changed since you opened it (now version ${currentVersion}, saved by ${current?.changedByLabel ?? 'Haven'}): reload it and make your change again`,
          409,
        );
      }
      const changes = policyDiff((current?.document as T | undefined) ?? before, after, diffOptions);
      if (changes.length === 0) throw invalid(`Nothing changed: this is the same as version ${currentVersion}`);
      const version = currentVersion + 1;
      await tx.policies.append({
        scope,
        scopeId,
        version,
        document: after,
        reason: input.reason,
        changes,
        changedByUserId: ctx.actor.userId || null,
        changedByLabel: ctx.actorLabel,
        createdAt: at,
      });
      await recordAudit(tx, ctx, at, {
        action: audit.action,
        resourceType: 'filtering_policy',
        resourceId: scopeId,
        schoolId: audit.schoolId,
        detail: { version, reason: input.reason, changes: auditedChanges(changes) },
      });
      return { version, changes };
    });
  };

  const overrideState = (o: OverrideRecord, now: string): OverrideView['state'] =>
    o.revokedAt !== null ? 'revoked' : o.expiresAt <= now ? 'expired' : o.startsAt > now ? 'scheduled' : 'active';

  const overrideView = (o: OverrideRecord, now: string): OverrideView => ({
    ...o,
    audienceLabel: describeAudience(o.audience as Audience),
    state: overrideState(o, now),
  });

  const groupNames = async (schoolId: string): Promise<Map<string, string>> =>
    new Map((await store.groups.list(schoolId)).map((g) => [g.id, g.name]));

  /** Group ids in an audience read as names in plain-English labels. */
  const labelAudience = (audience: Audience, names: Map<string, string>): Audience =>
    audience.groups ? { ...audience, groups: audience.groups.map((id) => names.get(id) ?? id) } : audience;

  return {
    trustPolicy,
    schoolPolicy,
    effectivePolicy,

    async saveTrustPolicy(ctx: RequestContext, input: PolicySaveInput<TrustPolicy>): Promise<PolicySaveResult> {
      const reason = cleanReason(input.reason);
      const trust = await requireTrust();
      const policy: TrustPolicy = { ...input.policy, trustId: trust.id };
      const warnings = refuseProblems(validatePolicy(policy, { isIllegal: await isIllegal() }), 'trust policy');
      const saved = await saveVersion(
        ctx,
        'trust',
        trust.id,
        defaultTrustPolicy(trust.id),
        policy,
        { reason, baseVersion: input.baseVersion },
        { action: 'filtering.trust_policy_changed', schoolId: null },
      );
      runtime().invalidate();
      onSaved();
      return { ...saved, warnings };
    },

    async saveSchoolPolicy(ctx: RequestContext, schoolId: string, input: PolicySaveInput<SchoolPolicy>): Promise<PolicySaveResult> {
      const reason = cleanReason(input.reason);
      await requireSchool(schoolId);
      if (input.policy.overrides !== undefined && input.policy.overrides.length > 0) {
        throw invalid('Teacher overrides are made and ended on their own page, not saved with the policy');
      }
      const policy: SchoolPolicy = { ...input.policy, schoolId };
      delete policy.overrides;
      const trust = await trustPolicy();
      const warnings = refuseProblems(validatePolicy(policy, { trust: trust.policy, isIllegal: await isIllegal() }), 'school policy');
      const saved = await saveVersion(
        ctx,
        'school',
        schoolId,
        { schoolId },
        policy,
        { reason, baseVersion: input.baseVersion },
        { action: 'filtering.school_policy_changed', schoolId },
        { profileLabels: new Map(trust.policy.profiles.map((p) => [p.id, p.label])) },
      );
      runtime().invalidate(schoolId);
      onSaved(schoolId);
      return { ...saved, warnings };
    },

    async history(scope: PolicyScope, scopeId: string, limit = 50): Promise<PolicyVersionSummary[]> {
      return (await store.policies.history(scope, scopeId, Math.min(Math.max(limit, 1), 500))).map(toSummary);
    },

    async version(scope: PolicyScope, scopeId: string, version: number) {
      const v = await store.policies.get(scope, scopeId, version);
      if (!v) throw notFound('NOT_FOUND', `Version ${version}`);
      return { ...toSummary(v), policy: v.document };
    },

    async overrides(schoolId: string, options: { limit?: number } = {}) {
      await requireSchool(schoolId);
      const now = nowIso(deps);
      const [records, effective, names] = await Promise.all([
        store.policies.listOverrides(schoolId, undefined, Math.min(Math.max(options.limit ?? 100, 1), 500)),
        effectivePolicy(schoolId),
        groupNames(schoolId),
      ]);
      const settings = effective.teacherOverrides;
      return {
        items: records.map((o) => {
          const v = overrideView(o, now);
          return { ...v, audienceLabel: describeAudience(labelAudience(o.audience as Audience, names)) };
        }),
        settings: {
          categories: settings.categories.map((id) => ({ id, label: categoryById(id)?.label ?? id })),
          sites: settings.sites,
          maxMinutes: settings.maxMinutes,
        },
      };
    },

    async createOverride(ctx: RequestContext, schoolId: string, input: OverrideInput): Promise<OverrideView> {
      const reason = cleanReason(input.reason);
      await requireSchool(schoolId);
      const names = await groupNames(schoolId);
      for (const id of input.audience.groups ?? []) if (!names.has(id)) throw notFound('GROUP_NOT_FOUND', 'Group');
      if (!audienceIsGroupScoped(input.audience)) {
        throw invalid('An override is for a class or group: choose groups, year groups or key stages');
      }
      const nowMs = deps.clock.now().getTime();
      const startMs = input.startsAt === undefined ? nowMs : Date.parse(input.startsAt);
      if (Number.isNaN(startMs)) throw invalid(`"${input.startsAt ?? ''}" is not a date and time`);
      if (startMs < nowMs - 5 * 60_000) throw invalid('An override cannot start in the past');
      if (!Number.isInteger(input.minutes) || input.minutes < 1) throw invalid('An override lasts a whole number of minutes, at least 1');
      const override: TeacherOverride = {
        id: deps.newId(),
        audience: input.audience,
        categories: (input.categories ?? []) as ConfigurableCategoryId[],
        sites: (input.sites ?? []).map((s) => s.trim()),
        startsAt: new Date(startMs).toISOString(),
        expiresAt: new Date(startMs + input.minutes * 60_000).toISOString(),
        createdBy: ctx.actorLabel,
        reason,
        action: input.action ?? 'allow',
      };
      // Checked as part of the school's resolved policy, so the policy's teacher settings apply.
      const effective = await effectivePolicy(schoolId);
      const problems = validatePolicy({ ...effective, overrides: [override] }, { isIllegal: await isIllegal() }).filter((p) =>
        p.path.startsWith('overrides[0]'),
      );
      refuseProblems(problems, 'override');
      const at = nowIso(deps);
      const record: OverrideRecord = {
        id: override.id,
        schoolId,
        audience: override.audience,
        categories: override.categories ?? [],
        sites: override.sites ?? [],
        action: override.action ?? 'allow',
        startsAt: override.startsAt,
        expiresAt: override.expiresAt,
        reason,
        createdByUserId: ctx.actor.userId || null,
        createdByLabel: ctx.actorLabel,
        createdAt: at,
        revokedAt: null,
        revokedByLabel: null,
      };
      const audienceLabel = describeAudience(labelAudience(override.audience, names));
      await store.transaction(async (tx) => {
        await tx.policies.createOverride(record);
        await recordAudit(tx, ctx, at, {
          action: 'filtering.override_created',
          resourceType: 'filter_override',
          resourceId: record.id,
          schoolId,
          detail: {
            reason,
            changes: [
              `Opened ${[...record.categories.map((c) => categoryById(c)?.label ?? c), ...record.sites].join(', ')} for ${audienceLabel} from ${record.startsAt} until ${record.expiresAt}${record.action === 'allow-and-flag' ? ' (visits flagged)' : ''}`,
            ],
          },
        });
      });
      runtime().invalidate(schoolId);
      return { ...overrideView(record, at), audienceLabel };
    },

    async revokeOverride(ctx: RequestContext, schoolId: string, overrideId: string, rawReason: string): Promise<OverrideView> {
      const reason = cleanReason(rawReason);
      const o = await store.policies.getOverride(overrideId);
      if (!o || o.schoolId !== schoolId) throw notFound('NOT_FOUND', 'Override');
      const at = nowIso(deps);
      if (o.revokedAt !== null || o.expiresAt <= at) throw new DomainError('CONFLICT', 'This override has already ended', 409);
      const mayManage = can(ctx.actor, 'update', { type: 'filtering', schoolId });
      if (!mayManage && o.createdByUserId !== ctx.actor.userId) {
        throw forbidden('Only whoever made an override, or a filtering manager, can end it');
      }
      await store.transaction(async (tx) => {
        if (!(await tx.policies.revokeOverride(overrideId, at, ctx.actorLabel))) {
          throw new DomainError('CONFLICT', 'This override has already ended', 409);
        }
        await recordAudit(tx, ctx, at, {
          action: 'filtering.override_revoked',
          resourceType: 'filter_override',
          resourceId: overrideId,
          schoolId,
          detail: { reason, changes: [`Ended the override made by ${o.createdByLabel} early`] },
        });
      });
      runtime().invalidate(schoolId);
      return overrideView({ ...o, revokedAt: at, revokedByLabel: ctx.actorLabel }, at);
    },

    /** What the filter would do for this site, person, time and place, with its reason. */
    async check(schoolId: string, input: CheckInput): Promise<CheckResult & { person: RequestPerson | null }> {
      await requireSchool(schoolId);
      const at = input.at === undefined ? deps.clock.now() : new Date(input.at);
      if (Number.isNaN(at.getTime())) throw invalid(`"${input.at ?? ''}" is not a date and time`);
      let person: RequestPerson | null = input.person ?? null;
      if (input.profile !== undefined) {
        const effective = await effectivePolicy(schoolId);
        const profile = effective.profiles.find((p) => p.id === input.profile);
        if (!profile) throw invalid(`Unknown group "${input.profile}"; known: ${effective.profiles.map((p) => p.id).join(', ')}`);
        person = examplePerson(profile.audience);
      } else if (input.personId !== undefined) {
        const p = await store.people.get(input.personId);
        if (!p || p.schoolId !== schoolId) throw notFound('PERSON_NOT_FOUND', 'Person');
        const groups = await store.groups.groupsOf(p.id);
        person = { kind: p.kind, groups: groups.map((g) => g.id), ...(p.yearGroup !== null && { yearGroup: p.yearGroup }) };
      }
      const result = await runtime().check(schoolId, {
        site: input.site,
        at,
        person,
        ...(input.clientIp !== undefined && { clientIp: input.clientIp }),
        ...(input.place !== undefined && { place: input.place }),
      });
      return { ...result, person };
    },
  };
};

export type PolicyService = ReturnType<typeof createPolicyService>;
