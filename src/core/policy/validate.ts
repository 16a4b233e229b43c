/**
 * Semantic checks on a policy before it is saved (shape is checked at the edge by TypeBox).
 * Errors must be fixed; warnings are shown and may be accepted with the change's reason.
 * `decide` defends against the same mistakes on its own (illegal, locked categories), so a
 * policy that slips past validation still cannot open what must stay shut.
 */
import { YEAR_GROUPS } from '../people.ts';
import { audienceIsGroupScoped, audienceOnlyStaff, describeAudience } from './audience.ts';
import { categoryById, isCategoryId } from './categories.ts';
import { parseCidr } from './cidr.ts';
import { dayNumber, isTimeZone, minuteOfDay } from './clock.ts';
import { parseSitePattern, patternKey } from './hosts.ts';
import {
  AUDIENCE_KINDS,
  FILTER_ACTIONS,
  KEY_STAGES,
  MAX_BLOCK_PAGE_MESSAGE,
  UNCATEGORISED,
  WEEKDAYS,
  YOUTUBE_MODES,
  type ActionMap,
  type Audience,
  type DateRange,
  type FilterPolicy,
  type Place,
  type PolicyListEntry,
  type PolicyRule,
  type ProfilePatch,
  type SchoolPolicy,
  type TeacherOverride,
  type TeacherOverrideSettings,
  type Term,
  type TrustPolicy,
} from './types.ts';

export interface PolicyProblem {
  /** Where, as a property path: "rules[2].actions.gambling". */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface ValidateOptions {
  /** For a school policy: the trust policy it inherits (checks references to trust rules, places, terms and settings). */
  trust?: TrustPolicy;
  /**
   * The illegal-content tier's lookup ("host/path" or "host"), so an allow-list entry or a teacher's
   * site override that the tier blocks is refused. decide blocks it regardless; this stops the
   * change being saved at all. The message does not say which list matched.
   */
  isIllegal?: (site: string) => boolean;
}

/** The most a teacher override may last, whatever the policy says: a week. */
export const MAX_OVERRIDE_MINUTES_CEILING = 7 * 24 * 60;

type AnyPolicy = FilterPolicy | TrustPolicy | SchoolPolicy;

class Problems {
  readonly list: PolicyProblem[] = [];
  error(path: string, message: string): void {
    this.list.push({ path, message, severity: 'error' });
  }
  warn(path: string, message: string): void {
    this.list.push({ path, message, severity: 'warning' });
  }
}

const nonEmpty = (s: unknown): s is string => typeof s === 'string' && s.trim().length > 0;
const catLabel = (id: string): string => categoryById(id)?.label ?? id;

const checkAudience = (p: Problems, path: string, a: Audience | undefined): void => {
  if (a === undefined || a === null) return;
  const each = <T extends string>(field: keyof Audience, allowed: readonly T[] | null, what: string) => {
    const values = a[field] as readonly string[] | undefined;
    if (values === undefined) return;
    if (values.length === 0) p.warn(`${path}.${field}`, `No ${what} chosen: this matches nobody`);
    values.forEach((v, i) => {
      if (allowed ? !(allowed as readonly string[]).includes(v) : !nonEmpty(v)) p.error(`${path}.${field}[${i}]`, `Unknown ${what} "${v}"`);
    });
  };
  each('kinds', AUDIENCE_KINDS, 'kind of person');
  each('keyStages', KEY_STAGES, 'key stage');
  each('yearGroups', YEAR_GROUPS, 'year group');
  each('flags', null, 'flag');
  each('groups', null, 'group');
};

/** `who` is the audience the actions apply to (undefined = everyone). */
const checkActions = (p: Problems, path: string, actions: ActionMap | undefined, who: Audience | undefined): void => {
  if (!actions) return;
  for (const [key, action] of Object.entries(actions) as [string, unknown][]) {
    const at = `${path}.${key}`;
    if (action === undefined) continue;
    if (!(FILTER_ACTIONS as readonly unknown[]).includes(action)) {
      p.error(at, `Unknown action ${JSON.stringify(action)}: use allow, block, warn or allow-and-flag`);
      continue;
    }
    if (key === UNCATEGORISED) continue;
    if (key === 'illegal') {
      if (action !== 'block') p.error(at, 'The illegal-content tier is always blocked: no policy, rule or role can allow it');
      continue;
    }
    if (!isCategoryId(key)) {
      p.error(at, `Unknown category "${key}"`);
      continue;
    }
    const cat = categoryById(key)!;
    if (cat.locked && action !== 'block') {
      if (audienceOnlyStaff(who))
        p.warn(at, `${cat.label} is a locked category: opening it for staff must be a deliberate, recorded decision`);
      else p.error(at, `${cat.label} is a locked category: it can only be opened for staff, not for ${describeAudience(who)}`);
    }
    if (cat.kind === 'allow-list' && action === 'block') {
      p.warn(at, `${cat.label} is kept open so it is never mis-blocked: blocking it for ${describeAudience(who)} is over-blocking`);
    }
  }
};

const checkRange = (p: Problems, path: string, r: DateRange): void => {
  const from = dayNumber(r.from);
  const to = dayNumber(r.to);
  if (from === null) p.error(`${path}.from`, `"${r.from}" is not a date (YYYY-MM-DD)`);
  if (to === null) p.error(`${path}.to`, `"${r.to}" is not a date (YYYY-MM-DD)`);
  if (from !== null && to !== null && to < from) p.error(path, `Ends (${r.to}) before it starts (${r.from})`);
};

const checkRule = (p: Problems, path: string, rule: PolicyRule, ctx: { places: Set<string>; hasTerms: boolean; school: boolean }): void => {
  if (!nonEmpty(rule.id)) p.error(`${path}.id`, 'A rule needs an id');
  if (!nonEmpty(rule.description)) p.error(`${path}.description`, 'A rule needs a description');
  checkAudience(p, `${path}.audience`, rule.audience);
  checkActions(p, `${path}.actions`, rule.actions, rule.audience);
  if (Object.keys(rule.actions ?? {}).length === 0 && rule.safeSearch === undefined && rule.youtube === undefined) {
    p.warn(path, 'The rule sets no action, SafeSearch or YouTube mode: it does nothing');
  }
  if (rule.youtube !== undefined && !(YOUTUBE_MODES as readonly string[]).includes(rule.youtube)) {
    p.error(`${path}.youtube`, `Unknown YouTube mode "${rule.youtube}"`);
  }
  if (ctx.school && rule.enforced === true) p.warn(`${path}.enforced`, 'Only trust rules can be enforced; ignored for a school rule');
  const w = rule.when;
  if (w) {
    (w.days ?? []).forEach((d, i) => {
      if (!(WEEKDAYS as readonly string[]).includes(d)) p.error(`${path}.when.days[${i}]`, `Unknown day "${d}": use mon … sun`);
    });
    if (w.days && w.days.length === 0) p.warn(`${path}.when.days`, 'No days chosen: the rule never applies');
    const from = w.from === undefined ? 0 : minuteOfDay(w.from);
    const to = w.to === undefined ? 1440 : minuteOfDay(w.to, true);
    if (from === null) p.error(`${path}.when.from`, `"${String(w.from)}" is not a time (HH:MM, 00:00–23:59)`);
    if (to === null) p.error(`${path}.when.to`, `"${String(w.to)}" is not a time (HH:MM, 00:00–24:00)`);
    if (from !== null && to !== null && from === to && (w.from !== undefined || w.to !== undefined)) {
      p.error(`${path}.when`, 'Starts and ends at the same time: leave the hours out for all day');
    }
    (w.dates ?? []).forEach((r, i) => checkRange(p, `${path}.when.dates[${i}]`, r));
    if (w.termTime !== undefined && w.termTime !== 'term' && w.termTime !== 'holiday') {
      p.error(`${path}.when.termTime`, `Unknown term setting "${String(w.termTime)}": use term or holiday`);
    }
    if (w.termTime !== undefined && !ctx.hasTerms)
      p.error(`${path}.when.termTime`, 'The rule depends on term time but the policy has no term dates');
  }
  (rule.places ?? []).forEach((place, i) => {
    if (!ctx.places.has(place) && parseCidr(place) === null) {
      p.error(`${path}.places[${i}]`, `"${place}" is neither a place of this policy nor an IP range (CIDR)`);
    }
  });
  if (rule.places && rule.places.length === 0) p.warn(`${path}.places`, 'No places chosen: the rule never applies');
};

const ILLEGAL_SITE = 'This site is blocked for everyone as illegal content: nothing can allow it';

const checkList = (
  p: Problems,
  path: string,
  entries: readonly PolicyListEntry[],
  school: boolean,
  isIllegal: ((site: string) => boolean) | undefined,
): Map<string, number> => {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `${path}[${i}]`;
    const pattern = parseSitePattern(e.pattern ?? '');
    if (!pattern) {
      p.error(`${at}.pattern`, `"${e.pattern}" is not a host name or URL`);
      return;
    }
    if (!pattern.host.includes('.')) p.warn(`${at}.pattern`, `"${pattern.host}" covers a whole top-level domain`);
    const key = patternKey(pattern);
    if (isIllegal?.(key)) p.error(`${at}.pattern`, ILLEGAL_SITE);
    if (seen.has(key)) p.warn(`${at}.pattern`, `${key} is already on this list`);
    else seen.set(key, i);
    checkAudience(p, `${at}.audience`, e.audience);
    if (school && e.enforced === true) p.warn(`${at}.enforced`, 'Only trust entries can be enforced; ignored for a school entry');
  });
  return seen;
};

const checkPlaces = (p: Problems, places: readonly Place[]): void => {
  const ids = new Set<string>();
  places.forEach((place, i) => {
    const at = `places[${i}]`;
    if (!nonEmpty(place.id)) p.error(`${at}.id`, 'A place needs an id');
    else if (ids.has(place.id)) p.error(`${at}.id`, `Place id "${place.id}" is used twice`);
    ids.add(place.id);
    if (!nonEmpty(place.label)) p.error(`${at}.label`, 'A place needs a name');
    if ((place.cidrs ?? []).length === 0) p.warn(`${at}.cidrs`, 'No IP ranges: only requests tagged with this site id will match');
    (place.cidrs ?? []).forEach((c, j) => {
      if (parseCidr(c) === null) p.error(`${at}.cidrs[${j}]`, `"${c}" is not an IP address or range (CIDR)`);
    });
  });
};

const checkTerms = (p: Problems, terms: readonly Term[]): void => {
  terms.forEach((t, i) => {
    if (!nonEmpty(t.name)) p.error(`terms[${i}].name`, 'A term needs a name');
    checkRange(p, `terms[${i}]`, t);
  });
  const sorted = terms
    .map((t, i) => ({ i, from: dayNumber(t.from), to: dayNumber(t.to), name: t.name }))
    .filter((t) => t.from !== null && t.to !== null)
    .sort((a, b) => a.from! - b.from!);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.from! <= sorted[k - 1]!.to!) p.warn(`terms[${sorted[k]!.i}]`, `Overlaps ${sorted[k - 1]!.name}`);
  }
};

const checkOverrideSettings = (p: Problems, path: string, s: Partial<TeacherOverrideSettings> | undefined): void => {
  if (!s) return;
  (s.categories ?? []).forEach((id, i) => {
    const at = `${path}.categories[${i}]`;
    if ((id as string) === 'illegal') p.error(at, 'The illegal-content tier can never be opened');
    else if (!isCategoryId(id)) p.error(at, `Unknown category "${String(id)}"`);
    else if (categoryById(id)!.locked) p.error(at, `${catLabel(id)} is a locked category: teachers can never open it`);
  });
  if (s.maxMinutes !== undefined) {
    if (!Number.isInteger(s.maxMinutes) || s.maxMinutes <= 0) p.error(`${path}.maxMinutes`, 'Must be a whole number of minutes above zero');
    else if (s.maxMinutes > MAX_OVERRIDE_MINUTES_CEILING) p.error(`${path}.maxMinutes`, 'Teacher overrides are temporary: at most a week');
  }
};

const checkOverride = (
  p: Problems,
  path: string,
  o: TeacherOverride,
  settings: TeacherOverrideSettings | undefined,
  isIllegal: ((site: string) => boolean) | undefined,
): void => {
  if (!nonEmpty(o.id)) p.error(`${path}.id`, 'An override needs an id');
  if (!nonEmpty(o.createdBy)) p.error(`${path}.createdBy`, 'An override must say who made it');
  if (!nonEmpty(o.reason)) p.error(`${path}.reason`, 'An override needs a reason');
  checkAudience(p, `${path}.audience`, o.audience);
  if (!audienceIsGroupScoped(o.audience))
    p.error(`${path}.audience`, 'An override is for a class or group: choose groups, year groups or key stages');
  const start = Date.parse(o.startsAt);
  const end = Date.parse(o.expiresAt);
  if (Number.isNaN(start)) p.error(`${path}.startsAt`, `"${o.startsAt}" is not a date and time`);
  if (Number.isNaN(end)) p.error(`${path}.expiresAt`, `An override needs an expiry; "${o.expiresAt}" is not a date and time`);
  if (!Number.isNaN(start) && !Number.isNaN(end)) {
    if (end <= start) p.error(`${path}.expiresAt`, 'Expires before it starts');
    else if (settings && (end - start) / 60_000 > settings.maxMinutes) {
      p.error(`${path}.expiresAt`, `Lasts longer than the ${settings.maxMinutes} minutes teachers may open sites for`);
    }
  }
  const categories = o.categories ?? [];
  const sites = o.sites ?? [];
  if (categories.length === 0 && sites.length === 0) p.error(path, 'An override must open at least one category or site');
  categories.forEach((id, i) => {
    const at = `${path}.categories[${i}]`;
    if ((id as string) === 'illegal') p.error(at, 'The illegal-content tier can never be opened');
    else if (!isCategoryId(id)) p.error(at, `Unknown category "${String(id)}"`);
    else if (categoryById(id)!.locked) p.error(at, `${catLabel(id)} is a locked category: teachers can never open it`);
    else if (settings && !settings.categories.includes(id)) p.error(at, `The policy does not let teachers open ${catLabel(id)}`);
  });
  if (sites.length > 0 && settings && !settings.sites) p.error(`${path}.sites`, 'The policy does not let teachers open single sites');
  sites.forEach((s, i) => {
    const pattern = parseSitePattern(s);
    if (!pattern) p.error(`${path}.sites[${i}]`, `"${s}" is not a host name or URL`);
    else if (isIllegal?.(patternKey(pattern))) p.error(`${path}.sites[${i}]`, ILLEGAL_SITE);
  });
  if (o.action !== undefined && o.action !== 'allow' && o.action !== 'allow-and-flag') {
    p.error(`${path}.action`, 'An override can only allow, or allow and flag');
  }
};

const checkIds = (p: Problems, path: string, items: readonly { id: string }[]): void => {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) p.error(`${path}[${i}].id`, `Id "${item.id}" is used twice`);
    seen.add(item.id);
  });
};

/**
 * Problems with a trust, school or resolved policy. For a school policy pass `trust` so references
 * to trust rules, places, terms and teacher settings are checked too.
 */
export const validatePolicy = (policy: AnyPolicy, options: ValidateOptions = {}): PolicyProblem[] => {
  const p = new Problems();
  const isSchool = 'schoolId' in policy;
  const trust = isSchool ? options.trust : undefined;
  const school = isSchool ? policy : undefined;

  if (policy.timeZone !== undefined && !isTimeZone(policy.timeZone)) p.error('timeZone', `Unknown time zone "${policy.timeZone}"`);

  // Baseline applies to everyone.
  checkActions(p, 'baseline', policy.baseline, undefined);
  if (!isSchool) {
    for (const cat of ['gambling', 'drugs', 'hacking', 'piracy', 'misinformation'] as const) {
      if (policy.baseline?.[cat] === undefined)
        p.warn(`baseline.${cat}`, `No trust default for ${catLabel(cat)}: it is allowed unless a profile sets it`);
    }
  }

  // Profiles.
  const profiles: readonly ProfilePatch[] = policy.profiles ?? [];
  checkIds(p, 'profiles', profiles);
  const trustProfileIds = new Set((trust?.profiles ?? []).map((pr) => pr.id));
  profiles.forEach((pr, i) => {
    const at = `profiles[${i}]`;
    if (!nonEmpty(pr.id)) p.error(`${at}.id`, 'A profile needs an id');
    const isNew = !isSchool || (trust !== undefined && !trustProfileIds.has(pr.id));
    if (isNew && (!nonEmpty(pr.label) || pr.audience === undefined)) p.error(at, 'A new profile needs a label and an audience');
    if (pr.youtube !== undefined && !(YOUTUBE_MODES as readonly string[]).includes(pr.youtube)) {
      p.error(`${at}.youtube`, `Unknown YouTube mode "${pr.youtube}"`);
    }
    checkAudience(p, `${at}.audience`, pr.audience);
    const audience = pr.audience ?? trust?.profiles.find((t) => t.id === pr.id)?.audience;
    checkActions(p, `${at}.actions`, pr.actions, audience);
    if (pr.audience && Object.keys(pr.audience).length === 0 && i < profiles.length - 1) {
      p.warn(`${at}.audience`, 'Matches everyone: the profiles after it are never used');
    }
  });

  if (school?.blockPageMessage !== undefined) {
    const m = school.blockPageMessage;
    if (m.length > MAX_BLOCK_PAGE_MESSAGE)
      p.error('blockPageMessage', `The block-page message is longer than ${MAX_BLOCK_PAGE_MESSAGE} characters`);
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(m)) p.error('blockPageMessage', 'The block-page message contains control characters');
  }

  // Places and terms (a school sees the trust's too).
  const places = [...(trust?.places ?? []), ...(policy.places ?? [])];
  checkPlaces(p, policy.places ?? []);
  const placeIds = new Set(places.map((pl) => pl.id));
  const terms = policy.terms ?? trust?.terms ?? [];
  checkTerms(p, policy.terms ?? []);

  // Rules.
  const rules = policy.rules ?? [];
  checkIds(p, 'rules', rules);
  const trustRuleIds = new Set((trust?.rules ?? []).map((r) => r.id));
  rules.forEach((r, i) => {
    checkRule(p, `rules[${i}]`, r, { places: placeIds, hasTerms: terms.length > 0, school: isSchool });
    if (isSchool && trustRuleIds.has(r.id)) p.error(`rules[${i}].id`, `Id "${r.id}" is already a trust rule`);
  });
  if (school?.disabledTrustRules && trust) {
    school.disabledTrustRules.forEach((id, i) => {
      const tr = trust.rules.find((r) => r.id === id);
      if (!tr) p.warn(`disabledTrustRules[${i}]`, `There is no trust rule "${id}"`);
      else if (tr.enforced === true)
        p.error(`disabledTrustRules[${i}]`, `The trust enforces "${tr.description}": a school cannot switch it off`);
    });
  }

  // Lists.
  const blocked = checkList(p, 'blockList', policy.blockList ?? [], isSchool, undefined);
  const allowed = checkList(p, 'allowList', policy.allowList ?? [], isSchool, options.isIllegal);
  for (const [key, i] of allowed) if (blocked.has(key)) p.warn(`allowList[${i}].pattern`, `${key} is on both lists: the block list wins`);
  if (school?.removedTrustEntries && trust) {
    const enforced = new Set(
      [...trust.allowList, ...trust.blockList]
        .filter((e) => e.enforced === true)
        .map((e) => {
          const pat = parseSitePattern(e.pattern);
          return pat ? patternKey(pat) : e.pattern;
        }),
    );
    school.removedTrustEntries.forEach((raw, i) => {
      const pat = parseSitePattern(raw);
      if (pat && enforced.has(patternKey(pat)))
        p.error(`removedTrustEntries[${i}]`, `The trust enforces ${raw}: a school cannot remove it`);
    });
  }

  // Teacher overrides.
  checkOverrideSettings(p, 'teacherOverrides', policy.teacherOverrides);
  const settings: TeacherOverrideSettings | undefined =
    trust || !isSchool
      ? {
          categories: policy.teacherOverrides?.categories ?? trust?.teacherOverrides.categories ?? [],
          sites: policy.teacherOverrides?.sites ?? trust?.teacherOverrides.sites ?? false,
          maxMinutes: policy.teacherOverrides?.maxMinutes ?? trust?.teacherOverrides.maxMinutes ?? 0,
        }
      : undefined;
  const overrides = 'overrides' in policy ? (policy.overrides ?? []) : [];
  checkIds(p, 'overrides', overrides);
  overrides.forEach((o, i) => checkOverride(p, `overrides[${i}]`, o, settings, options.isIllegal));

  return p.list;
};

/** Only the errors. */
export const policyErrors = (policy: AnyPolicy, options: ValidateOptions = {}): PolicyProblem[] =>
  validatePolicy(policy, options).filter((x) => x.severity === 'error');
