/**
 * Trust → school inheritance. The school's policy is the trust's with the school's changes:
 *
 * - baseline and profiles: per-category actions merge (the school's win); a school profile with a
 *   new id is checked before the trust's profiles, so "SEND pupils" can come before "KS2".
 * - rules: the trust's enforced rules first (schools cannot undercut them), then the school's,
 *   then the trust's other rules minus those the school disabled.
 * - allow/block lists: union, minus trust entries the school removed (not enforced ones).
 * - terms replace the trust's when the school gives its own; places merge by id.
 * - teacher override settings merge field by field; overrides belong to the school.
 */
import { parseSitePattern, patternKey } from './hosts.ts';
import type { ActionMap, FilterPolicy, Place, PolicyListEntry, PolicyProfile, SchoolPolicy, TrustPolicy } from './types.ts';

const mergeActions = (base: ActionMap, over: ActionMap | undefined): ActionMap => (over ? { ...base, ...over } : { ...base });

const entryKey = (e: PolicyListEntry): string => {
  const p = parseSitePattern(e.pattern);
  return p ? patternKey(p) : e.pattern.trim().toLowerCase();
};

const keepTrustEntries = (entries: readonly PolicyListEntry[], removed: readonly string[] | undefined): PolicyListEntry[] => {
  if (!removed || removed.length === 0) return [...entries];
  const gone = new Set(removed.map((r) => entryKey({ pattern: r })));
  return entries.filter((e) => e.enforced === true || !gone.has(entryKey(e)));
};

export const resolvePolicy = (trust: TrustPolicy, school: SchoolPolicy): FilterPolicy => {
  const patches = new Map((school.profiles ?? []).map((p) => [p.id, p]));
  const trustIds = new Set(trust.profiles.map((p) => p.id));

  const ownProfiles: PolicyProfile[] = (school.profiles ?? [])
    .filter((p) => !trustIds.has(p.id))
    .map((p) => ({
      id: p.id,
      label: p.label ?? p.id,
      // A new profile without an audience would catch everyone; validation reports it, and it matches nobody here.
      audience: p.audience ?? { kinds: [] },
      actions: { ...(p.actions ?? {}) },
      safeSearch: p.safeSearch ?? true,
      youtube: p.youtube ?? 'strict',
    }));
  const inherited: PolicyProfile[] = trust.profiles.map((p) => {
    const patch = patches.get(p.id);
    if (!patch) return { ...p, actions: { ...p.actions } };
    return {
      id: p.id,
      label: patch.label ?? p.label,
      audience: patch.audience ?? p.audience,
      actions: mergeActions(p.actions, patch.actions),
      safeSearch: patch.safeSearch ?? p.safeSearch,
      youtube: patch.youtube ?? p.youtube,
    };
  });

  const disabled = new Set(school.disabledTrustRules ?? []);
  const rules = [
    ...trust.rules.filter((r) => r.enforced === true),
    ...(school.rules ?? []).map((r) => ({ ...r, enforced: false })),
    ...trust.rules.filter((r) => r.enforced !== true && !disabled.has(r.id)),
  ];

  const places = new Map<string, Place>(trust.places.map((p) => [p.id, p]));
  for (const p of school.places ?? []) places.set(p.id, p);

  return {
    id: school.schoolId,
    name: school.name ?? trust.name,
    timeZone: school.timeZone ?? trust.timeZone,
    baseline: mergeActions(trust.baseline, school.baseline),
    profiles: [...ownProfiles, ...inherited],
    rules,
    allowList: [...keepTrustEntries(trust.allowList, school.removedTrustEntries), ...(school.allowList ?? [])],
    blockList: [...keepTrustEntries(trust.blockList, school.removedTrustEntries), ...(school.blockList ?? [])],
    teacherOverrides: {
      categories: [...(school.teacherOverrides?.categories ?? trust.teacherOverrides.categories)],
      sites: school.teacherOverrides?.sites ?? trust.teacherOverrides.sites,
      maxMinutes: school.teacherOverrides?.maxMinutes ?? trust.teacherOverrides.maxMinutes,
    },
    overrides: [...(school.overrides ?? [])],
    terms: school.terms ? [...school.terms] : [...trust.terms],
    places: [...places.values()],
  };
};
