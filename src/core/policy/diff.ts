/**
 * A readable account of what changed between two versions of a policy, one line per change, for
 * the change log (the API records it with who, when and the required reason). Works on trust,
 * school and resolved policies alike; compare like with like.
 */
import { describeAudience } from './audience.ts';
import { categoryById } from './categories.ts';
import { parseSitePattern, patternKey } from './hosts.ts';
import {
  UNCATEGORISED,
  WEEKDAYS,
  type ActionMap,
  type Audience,
  type FilterAction,
  type FilterPolicy,
  type Place,
  type PolicyListEntry,
  type PolicyRule,
  type ProfilePatch,
  type Schedule,
  type SchoolPolicy,
  type TeacherOverride,
  type TeacherOverrideSettings,
  type Term,
  type TrustPolicy,
} from './types.ts';

type AnyPolicy = FilterPolicy | TrustPolicy | SchoolPolicy;

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
/** "Gambling" → "gambling", but "AI chat and image tools" stays as it is. */
const lowerFirst = (s: string): string =>
  s.length > 1 && s.charAt(1) === s.charAt(1).toLowerCase() ? s.charAt(0).toLowerCase() + s.slice(1) : s;
const catName = (id: string): string => (id === UNCATEGORISED ? 'uncategorised sites' : lowerFirst(categoryById(id)?.label ?? id));
const quote = (s: string): string => `“${s}”`;

const sameAudience = (a: Audience | undefined, b: Audience | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const DAY_NAMES: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** "weekdays 12:00–13:00 in term time", "Fri 22:00–06:00", "any time". */
export const describeSchedule = (w: Schedule | undefined): string => {
  if (!w) return 'any time';
  const parts: string[] = [];
  if (w.days) {
    const set = new Set(w.days);
    const weekdays = WEEKDAYS.slice(0, 5).every((d) => set.has(d)) && !set.has('sat') && !set.has('sun');
    parts.push(
      weekdays
        ? 'weekdays'
        : WEEKDAYS.filter((d) => set.has(d))
            .map((d) => DAY_NAMES[d])
            .join(', ') || 'no days',
    );
  }
  if (w.from !== undefined || w.to !== undefined) parts.push(`${w.from ?? '00:00'}–${w.to ?? '24:00'}`);
  if (w.dates) parts.push(`on ${w.dates.map((d) => (d.from === d.to ? d.from : `${d.from} to ${d.to}`)).join(', ')}`);
  if (w.termTime === 'term') parts.push('in term time');
  if (w.termTime === 'holiday') parts.push('outside term time');
  return parts.length ? parts.join(' ') : 'any time';
};

const describeActions = (actions: ActionMap | undefined): string => {
  const entries = Object.entries<FilterAction | undefined>(actions ?? {}).filter((e): e is [string, FilterAction] => e[1] !== undefined);
  return entries.length ? entries.map(([c, a]) => `${catName(c)} ${a}`).join(', ') : 'no category actions';
};

const diffActions = (out: string[], prefix: string, before: ActionMap | undefined, after: ActionMap | undefined): void => {
  const b = (before ?? {}) as Record<string, FilterAction | undefined>;
  const a = (after ?? {}) as Record<string, FilterAction | undefined>;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  for (const key of keys) {
    const from = b[key];
    const to = a[key];
    if (from === to) continue;
    if (from === undefined) out.push(`${prefix}: ${catName(key)} set to ${to!}`);
    else if (to === undefined) out.push(`${prefix}: ${catName(key)} no longer set (was ${from})`);
    else out.push(`${prefix}: ${catName(key)} changed from ${from} to ${to}`);
  }
};

const byId = <T extends { id: string }>(items: readonly T[] | undefined): Map<string, T> => new Map((items ?? []).map((i) => [i.id, i]));

const orderChanged = (before: readonly string[], after: readonly string[]): boolean => {
  const common = new Set(before.filter((id) => after.includes(id)));
  const b = before.filter((id) => common.has(id));
  const a = after.filter((id) => common.has(id));
  return b.some((id, i) => a[i] !== id);
};

const diffProfiles = (
  out: string[],
  before: readonly ProfilePatch[] | undefined,
  after: readonly ProfilePatch[] | undefined,
  labels: ReadonlyMap<string, string>,
): void => {
  const b = byId(before);
  const a = byId(after);
  // A school's patch usually carries only the id: name it as the trust's profile is named.
  const profileName = (p: ProfilePatch): string => capitalise(p.label ?? labels.get(p.id) ?? p.id);
  for (const [id, pa] of a) {
    // A school's patch of an inherited profile has no audience of its own: show its settings as changes.
    const pb = b.get(id) ?? (pa.audience === undefined ? { id, label: pa.label } : undefined);
    const name = profileName(pa);
    if (!pb) {
      out.push(`Added profile ${quote(pa.label ?? id)} for ${describeAudience(pa.audience)}: ${describeActions(pa.actions)}`);
      continue;
    }
    if ((pb.label ?? id) !== (pa.label ?? id)) out.push(`Profile ${quote(pb.label ?? id)} renamed to ${quote(pa.label ?? id)}`);
    if (!sameAudience(pb.audience, pa.audience)) out.push(`${name}: now applies to ${describeAudience(pa.audience)}`);
    diffActions(out, name, pb.actions, pa.actions);
    if (pb.safeSearch !== pa.safeSearch) {
      out.push(
        pa.safeSearch === undefined
          ? `${name}: SafeSearch setting removed (inherited)`
          : `${name}: SafeSearch turned ${pa.safeSearch ? 'on' : 'off'}`,
      );
    }
    if (pb.youtube !== pa.youtube) {
      out.push(
        pa.youtube === undefined
          ? `${name}: YouTube restricted mode setting removed (inherited)`
          : `${name}: YouTube restricted mode changed from ${pb.youtube ?? 'inherited'} to ${pa.youtube}`,
      );
    }
  }
  for (const [id, pb] of b) if (!a.has(id)) out.push(`Removed profile ${quote(pb.label ?? id)}`);
  const ids = (list: readonly ProfilePatch[] | undefined) => (list ?? []).map((p) => p.id);
  if (orderChanged(ids(before), ids(after))) out.push(`Profile order changed: ${(after ?? []).map((p) => p.label ?? p.id).join(', ')}`);
};

const describeRule = (r: PolicyRule): string => {
  const bits = [`for ${describeAudience(r.audience)}`];
  if (r.when) bits.push(describeSchedule(r.when));
  if (r.places) bits.push(`at ${r.places.join(', ')}`);
  return `${bits.join(', ')}: ${describeActions(r.actions)}`;
};

const diffRules = (out: string[], before: readonly PolicyRule[] | undefined, after: readonly PolicyRule[] | undefined): void => {
  const b = byId(before);
  const a = byId(after);
  for (const [id, ra] of a) {
    const rb = b.get(id);
    if (!rb) {
      out.push(`Added rule ${quote(ra.description)} ${describeRule(ra)}${ra.disabled ? ' (switched off)' : ''}`);
      continue;
    }
    const name = `Rule ${quote(ra.description)}`;
    if (rb.description !== ra.description) out.push(`Rule ${quote(rb.description)} renamed to ${quote(ra.description)}`);
    if (!sameAudience(rb.audience, ra.audience)) out.push(`${name}: now applies to ${describeAudience(ra.audience)}`);
    if (JSON.stringify(rb.when ?? null) !== JSON.stringify(ra.when ?? null))
      out.push(`${name}: time changed from ${describeSchedule(rb.when)} to ${describeSchedule(ra.when)}`);
    if (JSON.stringify(rb.places ?? null) !== JSON.stringify(ra.places ?? null)) {
      out.push(`${name}: places changed from ${rb.places?.join(', ') ?? 'anywhere'} to ${ra.places?.join(', ') ?? 'anywhere'}`);
    }
    diffActions(out, name, rb.actions, ra.actions);
    if (rb.safeSearch !== ra.safeSearch)
      out.push(`${name}: SafeSearch ${ra.safeSearch === undefined ? 'no longer set' : `turned ${ra.safeSearch ? 'on' : 'off'}`}`);
    if (rb.youtube !== ra.youtube)
      out.push(`${name}: YouTube restricted mode ${ra.youtube === undefined ? 'no longer set' : `set to ${ra.youtube}`}`);
    if ((rb.disabled ?? false) !== (ra.disabled ?? false)) out.push(`${name} switched ${ra.disabled ? 'off' : 'on'}`);
    if ((rb.enforced ?? false) !== (ra.enforced ?? false))
      out.push(`${name} ${ra.enforced ? 'now enforced for every school' : 'no longer enforced'}`);
  }
  for (const [id, rb] of b) if (!a.has(id)) out.push(`Removed rule ${quote(rb.description)}`);
  const ids = (list: readonly PolicyRule[] | undefined) => (list ?? []).map((r) => r.id);
  if (orderChanged(ids(before), ids(after))) out.push(`Rule order changed: ${(after ?? []).map((r) => quote(r.description)).join(', ')}`);
};

const entryKey = (e: PolicyListEntry): string => {
  const p = parseSitePattern(e.pattern);
  return p ? patternKey(p) : e.pattern;
};

const diffList = (
  out: string[],
  what: string,
  before: readonly PolicyListEntry[] | undefined,
  after: readonly PolicyListEntry[] | undefined,
): void => {
  const b = new Map((before ?? []).map((e) => [entryKey(e), e]));
  const a = new Map((after ?? []).map((e) => [entryKey(e), e]));
  for (const [key, ea] of a) {
    const eb = b.get(key);
    const scope = ea.audience ? ` for ${describeAudience(ea.audience)}` : '';
    if (!eb) out.push(`Added ${what} entry ${key}${scope}${ea.note ? ` (${ea.note})` : ''}`);
    else {
      if (!sameAudience(eb.audience, ea.audience)) out.push(`${capitalise(what)} entry ${key}: now for ${describeAudience(ea.audience)}`);
      if ((eb.note ?? '') !== (ea.note ?? '')) out.push(`${capitalise(what)} entry ${key}: note changed to ${quote(ea.note ?? '')}`);
      if ((eb.enforced ?? false) !== (ea.enforced ?? false))
        out.push(`${capitalise(what)} entry ${key} ${ea.enforced ? 'now enforced for every school' : 'no longer enforced'}`);
    }
  }
  for (const key of b.keys()) if (!a.has(key)) out.push(`Removed ${what} entry ${key}`);
};

const diffSettings = (
  out: string[],
  before: Partial<TeacherOverrideSettings> | undefined,
  after: Partial<TeacherOverrideSettings> | undefined,
): void => {
  const b = new Set<string>(before?.categories ?? []);
  const a = new Set<string>(after?.categories ?? []);
  for (const c of a) if (!b.has(c)) out.push(`Teachers may now open ${catName(c)}`);
  for (const c of b) if (!a.has(c)) out.push(`Teachers may no longer open ${catName(c)}`);
  if ((before?.sites ?? null) !== (after?.sites ?? null) && after?.sites !== undefined) {
    out.push(after.sites ? 'Teachers may now open single sites' : 'Teachers may no longer open single sites');
  }
  if (before?.maxMinutes !== after?.maxMinutes && after?.maxMinutes !== undefined) {
    out.push(`Longest teacher override changed from ${before?.maxMinutes ?? 'inherited'} to ${after.maxMinutes} minutes`);
  }
};

const describeOverride = (o: TeacherOverride): string => {
  const what = [...(o.categories ?? []).map(catName), ...(o.sites ?? [])].join(', ');
  return `${what} for ${describeAudience(o.audience)} from ${o.startsAt} until ${o.expiresAt} (${o.reason})`;
};

const diffOverrides = (out: string[], before: readonly TeacherOverride[], after: readonly TeacherOverride[]): void => {
  const b = byId(before);
  const a = byId(after);
  for (const [id, oa] of a) {
    const ob = b.get(id);
    if (!ob) out.push(`Teacher override added by ${oa.createdBy}: ${describeOverride(oa)}`);
    else if ((ob.revoked ?? false) !== (oa.revoked ?? false))
      out.push(`Teacher override by ${oa.createdBy} ${oa.revoked ? 'revoked' : 'restored'}: ${describeOverride(oa)}`);
    else if (JSON.stringify(ob) !== JSON.stringify(oa)) out.push(`Teacher override by ${oa.createdBy} changed: ${describeOverride(oa)}`);
  }
  for (const [id, ob] of b) if (!a.has(id)) out.push(`Teacher override by ${ob.createdBy} removed: ${describeOverride(ob)}`);
};

const diffTerms = (out: string[], before: readonly Term[] | undefined, after: readonly Term[] | undefined): void => {
  const b = new Map((before ?? []).map((t) => [t.name, t]));
  const a = new Map((after ?? []).map((t) => [t.name, t]));
  for (const [name, ta] of a) {
    const tb = b.get(name);
    if (!tb) out.push(`Added term ${name} (${ta.from} to ${ta.to})`);
    else if (tb.from !== ta.from || tb.to !== ta.to) out.push(`Term ${name} changed from ${tb.from} to ${tb.to} to ${ta.from} to ${ta.to}`);
  }
  for (const name of b.keys()) if (!a.has(name)) out.push(`Removed term ${name}`);
};

const diffPlaces = (out: string[], before: readonly Place[] | undefined, after: readonly Place[] | undefined): void => {
  const b = byId(before);
  const a = byId(after);
  for (const [id, pa] of a) {
    const pb = b.get(id);
    if (!pb) out.push(`Added place ${pa.label} (${pa.cidrs.join(', ') || 'no IP ranges'})`);
    else if (pb.label !== pa.label || pb.cidrs.join(',') !== pa.cidrs.join(',')) {
      out.push(`Place ${pa.label} changed from ${pb.cidrs.join(', ') || 'no IP ranges'} to ${pa.cidrs.join(', ') || 'no IP ranges'}`);
    }
  }
  for (const [id, pb] of b) if (!a.has(id)) out.push(`Removed place ${pb.label}`);
};

const diffStrings = (
  out: string[],
  before: readonly string[] | undefined,
  after: readonly string[] | undefined,
  added: string,
  removed: string,
): void => {
  const b = new Set(before ?? []);
  const a = new Set(after ?? []);
  for (const s of a) if (!b.has(s)) out.push(`${added} ${s}`);
  for (const s of b) if (!a.has(s)) out.push(`${removed} ${s}`);
};

export interface DiffOptions {
  /** Labels of profiles a school policy patches by id (the trust's), for readable lines. */
  profileLabels?: ReadonlyMap<string, string>;
}

/** One readable line per change, in a stable order. Empty when nothing changed. */
export const policyDiff = (before: AnyPolicy, after: AnyPolicy, options: DiffOptions = {}): string[] => {
  const out: string[] = [];
  if ((before.name ?? '') !== (after.name ?? '') && after.name !== undefined)
    out.push(`Renamed from ${quote(before.name ?? '')} to ${quote(after.name)}`);
  if (before.timeZone !== after.timeZone)
    out.push(`Time zone changed from ${before.timeZone ?? 'inherited'} to ${after.timeZone ?? 'inherited'}`);
  diffActions(out, 'Default for everyone', before.baseline, after.baseline);
  diffProfiles(out, before.profiles, after.profiles, options.profileLabels ?? new Map());
  diffRules(out, before.rules, after.rules);
  diffStrings(
    out,
    'disabledTrustRules' in before ? before.disabledTrustRules : undefined,
    'disabledTrustRules' in after ? after.disabledTrustRules : undefined,
    'Switched off trust rule',
    'Switched back on trust rule',
  );
  diffList(out, 'block-list', before.blockList, after.blockList);
  diffList(out, 'allow-list', before.allowList, after.allowList);
  diffStrings(
    out,
    'removedTrustEntries' in before ? before.removedTrustEntries : undefined,
    'removedTrustEntries' in after ? after.removedTrustEntries : undefined,
    'Removed trust list entry',
    'Restored trust list entry',
  );
  diffSettings(out, before.teacherOverrides, after.teacherOverrides);
  diffOverrides(out, 'overrides' in before ? (before.overrides ?? []) : [], 'overrides' in after ? (after.overrides ?? []) : []);
  diffTerms(out, before.terms, after.terms);
  diffPlaces(out, before.places, after.places);
  const messageBefore = 'blockPageMessage' in before ? (before.blockPageMessage ?? '') : '';
  const messageAfter = 'blockPageMessage' in after ? (after.blockPageMessage ?? '') : '';
  if (messageBefore !== messageAfter) out.push(messageAfter ? `Block-page message set to "${messageAfter}"` : 'Block-page message removed');
  return out;
};
