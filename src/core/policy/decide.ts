/**
 * The decision function the DNS filter and the proxy both ask, per request.
 *
 * `compilePolicy` does the work once per policy version: category actions become arrays indexed
 * by category, reasons are written in advance, schedules become minute/day numbers, CIDRs become
 * words, list patterns become a host table. `decide` then walks the layers in a fixed order:
 *
 *   1. illegal tier: always block; nothing below can change it
 *   2. school block and allow lists (the most specific entry wins; a tie blocks)
 *   3. active teacher overrides for the person's groups (never a locked category)
 *   4. rules, in order: the first that matches the person, time and place and sets the category
 *   5. the person's profile (first matching profile)
 *   6. the trust baseline
 *   7. built-in fallback: locked categories block, everything else is allowed
 *
 * It allocates the returned Decision and little else; it never throws on odd input.
 */
import { audienceMatches, describeAudience, personView, type PersonView } from './audience.ts';
import { categoryById, HAVEN_CATEGORIES } from './categories.ts';
import { cidrContains, parseCidr, parseIpInto, type Cidr } from './cidr.ts';
import { dayNumber, minuteOfDay, WEEKDAY_INDEX, weekdayOfDay, ZoneClock, type LocalTime } from './clock.ts';
import { labelCount, normaliseRequestHost, parseSitePattern, pathOfUrl, pathUnder, patternKey } from './hosts.ts';
import {
  UNCATEGORISED,
  type ActionMap,
  type Audience,
  type ClassificationResult,
  type Decision,
  type DecisionLayer,
  type DecisionRequest,
  type DecisionRule,
  type FilterAction,
  type FilterPolicy,
  type PolicyRule,
  type Schedule,
  type TeacherOverride,
  type YoutubeMode,
} from './types.ts';

/** A precomputed answer: what happens, who decided, and the sentence to show. */
interface Outcome {
  readonly action: FilterAction;
  readonly rule: DecisionRule | null;
  readonly layer: DecisionLayer;
  readonly reason: string;
  readonly flagged: boolean;
}

type Outcomes = readonly (Outcome | undefined)[];

interface CompiledSchedule {
  readonly dayMask: number;
  readonly from: number;
  readonly to: number;
  readonly hasHours: boolean;
  /** Pairs of inclusive day numbers. */
  readonly dates: Int32Array | null;
  readonly termTime: 'term' | 'holiday' | null;
  /** A malformed schedule never matches. */
  readonly valid: boolean;
}

interface CompiledRule {
  readonly audience: Audience;
  readonly schedule: CompiledSchedule | null;
  readonly placeIds: readonly string[] | null;
  readonly cidrs: readonly Cidr[];
  readonly outcomes: Outcomes;
  readonly safeSearch: boolean | undefined;
  readonly youtube: YoutubeMode | undefined;
}

interface CompiledProfile {
  readonly audience: Audience;
  readonly outcomes: Outcomes;
  readonly safeSearch: boolean;
  readonly youtube: YoutubeMode;
}

interface ListItem {
  readonly path: string;
  readonly specificity: number;
  readonly block: boolean;
  readonly audience: Audience | undefined;
  readonly outcome: Outcome;
}

interface CompiledOverride {
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly audience: Audience;
  /** By category index. */
  readonly categories: readonly boolean[];
  readonly sites: ReadonlyMap<string, readonly string[]>;
  readonly outcome: Outcome;
}

export interface CompiledPolicy {
  readonly source: FilterPolicy;
  readonly clock: ZoneClock;
  readonly profiles: readonly CompiledProfile[];
  readonly rules: readonly CompiledRule[];
  /** Rules that set SafeSearch or YouTube mode, in order. */
  readonly searchRules: readonly CompiledRule[];
  readonly baseline: Outcomes;
  readonly fallback: Outcomes;
  readonly lists: ReadonlyMap<string, readonly ListItem[]>;
  readonly overrides: readonly CompiledOverride[];
  /** Pairs of inclusive day numbers. */
  readonly terms: Int32Array;
}

// ---------------------------------------------------------------------------------------------
// Categories as indexes

const CATEGORY_INDEX = new Map<string, number>(HAVEN_CATEGORIES.map((c, i) => [c.id, i]));
const UNCATEGORISED_INDEX = HAVEN_CATEGORIES.length;
const SLOTS = HAVEN_CATEGORIES.length + 1;
const ILLEGAL_INDEX = CATEGORY_INDEX.get('illegal')!;

const categoryIndexOf = (category: string | null): number =>
  category === null ? UNCATEGORISED_INDEX : (CATEGORY_INDEX.get(category) ?? UNCATEGORISED_INDEX);

const labelOf = (index: number): string | null => (index === UNCATEGORISED_INDEX ? null : HAVEN_CATEGORIES[index]!.label);

const SAFEGUARDING: readonly boolean[] = [...HAVEN_CATEGORIES.map((c) => c.safeguarding), false];
const LOCKED: readonly boolean[] = [...HAVEN_CATEGORIES.map((c) => c.locked), false];

// ---------------------------------------------------------------------------------------------
// Reasons: one sentence a pupil can read on a block page

const ILLEGAL_RULE: DecisionRule = { id: 'illegal', description: 'Illegal content: always blocked' };
const ILLEGAL_REASON = 'This page is blocked for everyone because it is on a list of illegal content that UK schools must block.';

const reasonFor = (action: FilterAction, label: string | null, who: string | null, timed: boolean): string => {
  const forWho = who ? ` for ${who}` : '';
  const when = timed ? ' at this time' : '';
  const inCategory = label ? `in the ${label} category` : 'not yet checked and approved';
  switch (action) {
    case 'block':
      return label
        ? `This site is blocked${forWho}${when} because it is ${inCategory}.`
        : `This site is blocked${forWho}${when} because it has not been checked and approved yet.`;
    case 'warn':
      return `This site is ${inCategory}: you can continue, but your visit will be recorded.`;
    case 'allow-and-flag':
      return `This site is ${inCategory}: it is open${forWho}${when}, and visits are recorded.`;
    case 'allow':
      return `This site is open${forWho}${when}.`;
  }
};

const outcomesFrom = (actions: ActionMap, make: (action: FilterAction, index: number) => Outcome): Outcomes => {
  const out: (Outcome | undefined)[] = new Array<Outcome | undefined>(SLOTS).fill(undefined);
  for (const [key, action] of Object.entries(actions) as [string, FilterAction | undefined][]) {
    if (action === undefined) continue;
    const index = key === UNCATEGORISED ? UNCATEGORISED_INDEX : CATEGORY_INDEX.get(key);
    // The illegal tier is not configurable: an entry for it is ignored (validation reports it).
    if (index === undefined || index === ILLEGAL_INDEX) continue;
    out[index] = make(action, index);
  }
  return out;
};

const flaggedFor = (action: FilterAction, index: number): boolean => action === 'allow-and-flag' || SAFEGUARDING[index] === true;

// ---------------------------------------------------------------------------------------------
// Schedules

const NEVER: CompiledSchedule = { dayMask: 0, from: 0, to: 0, hasHours: false, dates: null, termTime: null, valid: false };

const rangesToDays = (ranges: readonly { from: string; to: string }[]): Int32Array | null => {
  const out = new Int32Array(ranges.length * 2);
  for (let i = 0; i < ranges.length; i++) {
    const from = dayNumber(ranges[i]!.from);
    const to = dayNumber(ranges[i]!.to);
    if (from === null || to === null) return null;
    out[2 * i] = from;
    out[2 * i + 1] = to;
  }
  return out;
};

const inRanges = (ranges: Int32Array, day: number): boolean => {
  for (let i = 0; i < ranges.length; i += 2) if (day >= ranges[i]! && day <= ranges[i + 1]!) return true;
  return false;
};

const compileSchedule = (s: Schedule): CompiledSchedule => {
  let dayMask = 0x7f;
  if (s.days) {
    dayMask = 0;
    for (const d of s.days) {
      const i = WEEKDAY_INDEX[d] as number | undefined;
      if (i === undefined) return NEVER;
      dayMask |= 1 << i;
    }
  }
  const hasHours = s.from !== undefined || s.to !== undefined;
  const from = s.from === undefined ? 0 : minuteOfDay(s.from);
  const to = s.to === undefined ? 1440 : minuteOfDay(s.to, true);
  if (from === null || to === null || (hasHours && from === to)) return NEVER;
  const dates = s.dates ? rangesToDays(s.dates) : null;
  if (s.dates && dates === null) return NEVER;
  return { dayMask, from, to, hasHours, dates, termTime: s.termTime ?? null, valid: true };
};

const scheduleMatches = (s: CompiledSchedule, t: LocalTime, terms: Int32Array): boolean => {
  if (!s.valid) return false;
  // A window crossing midnight belongs to the day it started on.
  let anchor = t.day;
  if (s.hasHours) {
    if (s.from < s.to) {
      if (t.minute < s.from || t.minute >= s.to) return false;
    } else if (t.minute < s.to) {
      anchor = t.day - 1;
    } else if (t.minute < s.from) {
      return false;
    }
  }
  if ((s.dayMask & (1 << weekdayOfDay(anchor))) === 0) return false;
  if (s.dates && !inRanges(s.dates, anchor)) return false;
  if (s.termTime !== null && inRanges(terms, anchor) !== (s.termTime === 'term')) return false;
  return true;
};

// ---------------------------------------------------------------------------------------------
// Compiling

const compileRule = (rule: PolicyRule, placeCidrs: ReadonlyMap<string, readonly Cidr[]>): CompiledRule => {
  const who = describeAudience(rule.audience);
  const ruleRef: DecisionRule = { id: rule.id, description: rule.description };
  const timed = rule.when !== undefined;
  const outcomes = outcomesFrom(rule.actions, (action, index) => ({
    action,
    rule: ruleRef,
    layer: 'rule',
    reason: reasonFor(action, labelOf(index), who === 'everyone' ? null : who, timed),
    flagged: flaggedFor(action, index),
  }));
  let placeIds: string[] | null = null;
  const cidrs: Cidr[] = [];
  if (rule.places) {
    placeIds = [];
    for (const p of rule.places) {
      const known = placeCidrs.get(p);
      if (known) {
        placeIds.push(p);
        cidrs.push(...known);
        continue;
      }
      const literal = parseCidr(p);
      if (literal) cidrs.push(literal);
      else placeIds.push(p);
    }
  }
  return {
    audience: rule.audience,
    schedule: rule.when ? compileSchedule(rule.when) : null,
    placeIds,
    cidrs,
    outcomes,
    safeSearch: rule.safeSearch,
    youtube: rule.youtube,
  };
};

const compileOverride = (o: TeacherOverride, clock: ZoneClock): CompiledOverride | null => {
  const startMs = Date.parse(o.startsAt);
  const endMs = Date.parse(o.expiresAt);
  if (o.revoked === true || Number.isNaN(startMs) || Number.isNaN(endMs) || endMs <= startMs) return null;
  const categories = new Array<boolean>(SLOTS).fill(false);
  let scoped = false;
  for (const id of o.categories ?? []) {
    const index = CATEGORY_INDEX.get(id);
    // Never a locked category, never the illegal tier, whatever was stored.
    if (index === undefined || LOCKED[index] === true) continue;
    categories[index] = true;
    scoped = true;
  }
  const sites = new Map<string, string[]>();
  for (const raw of o.sites ?? []) {
    const p = parseSitePattern(raw);
    if (!p) continue;
    const paths = sites.get(p.host) ?? [];
    paths.push(p.path);
    sites.set(p.host, paths);
    scoped = true;
  }
  // An override must be for particular groups; one that would reach everyone is dropped.
  const a = o.audience;
  const groupScoped = (a.groups?.length ?? 0) > 0 || (a.yearGroups?.length ?? 0) > 0 || (a.keyStages?.length ?? 0) > 0;
  if (!scoped || !groupScoped) return null;
  const sameDay = clock.isoDate(startMs) === clock.isoDate(endMs);
  const until = sameDay ? clock.hhmm(endMs) : `${clock.hhmm(endMs)} on ${clock.isoDate(endMs)}`;
  const action = o.action ?? 'allow';
  return {
    id: o.id,
    startMs,
    endMs,
    audience: a,
    categories,
    sites,
    outcome: {
      action,
      rule: { id: o.id, description: `Opened by a teacher for ${describeAudience(a)} until ${until}: ${o.reason}` },
      layer: 'override',
      reason: `A teacher has opened this for ${describeAudience(a)} until ${until}.`,
      flagged: action === 'allow-and-flag',
    },
  };
};

export const compilePolicy = (policy: FilterPolicy): CompiledPolicy => {
  const clock = new ZoneClock(policy.timeZone);

  const placeCidrs = new Map<string, Cidr[]>();
  for (const place of policy.places) {
    placeCidrs.set(
      place.id,
      place.cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null),
    );
  }

  const profiles = policy.profiles.map((p): CompiledProfile => {
    const ref: DecisionRule = { id: `profile:${p.id}`, description: `Default for ${p.label}` };
    return {
      audience: p.audience,
      safeSearch: p.safeSearch,
      youtube: p.youtube,
      outcomes: outcomesFrom(p.actions, (action, index) => ({
        action,
        rule: ref,
        layer: 'profile',
        reason: reasonFor(action, labelOf(index), p.label, false),
        flagged: flaggedFor(action, index),
      })),
    };
  });

  const rules = policy.rules.filter((r) => r.disabled !== true).map((r) => compileRule(r, placeCidrs));

  const baselineRef: DecisionRule = { id: 'baseline', description: 'Trust default' };
  const baseline = outcomesFrom(policy.baseline, (action, index) => ({
    action,
    rule: baselineRef,
    layer: 'baseline',
    reason: reasonFor(action, labelOf(index), null, false),
    flagged: flaggedFor(action, index),
  }));

  const fallback: Outcome[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const action: FilterAction = LOCKED[i] === true ? 'block' : 'allow';
    fallback.push({
      action,
      rule: null,
      layer: 'fallback',
      reason: reasonFor(action, labelOf(i), null, false),
      flagged: flaggedFor(action, i),
    });
  }

  const lists = new Map<string, ListItem[]>();
  const addEntries = (entries: FilterPolicy['allowList'], block: boolean) => {
    for (const e of entries) {
      const p = parseSitePattern(e.pattern);
      if (!p) continue;
      const key = patternKey(p);
      const item: ListItem = {
        path: p.path,
        // More labels first, then a URL prefix over the bare host, then a longer prefix.
        specificity: labelCount(p.host) * 100_000 + (p.path ? 50_000 + p.path.length : 0),
        block,
        audience: e.audience,
        outcome: {
          action: block ? 'block' : 'allow',
          rule: { id: `${block ? 'block-list' : 'allow-list'}:${key}`, description: `School ${block ? 'block' : 'allow'} list: ${key}` },
          layer: block ? 'block-list' : 'allow-list',
          reason: block ? "This site is on the school's block list." : "This site is on the school's allow list.",
          flagged: false,
        },
      };
      const bucket = lists.get(p.host) ?? [];
      bucket.push(item);
      lists.set(p.host, bucket);
    }
  };
  addEntries(policy.blockList, true);
  addEntries(policy.allowList, false);

  const overrides = policy.overrides.map((o) => compileOverride(o, clock)).filter((o): o is CompiledOverride => o !== null);

  return {
    source: policy,
    clock,
    profiles,
    rules,
    searchRules: rules.filter((r) => r.safeSearch !== undefined || r.youtube !== undefined),
    baseline,
    fallback,
    lists,
    overrides,
    terms: rangesToDays(policy.terms) ?? new Int32Array(0),
  };
};

// ---------------------------------------------------------------------------------------------
// Deciding

/** Per-request lazy state: local time and the parsed client address are worked out only if a rule needs them. */
interface Lazy {
  local: LocalTime | null;
  ipFamily: -1 | 0 | 4 | 6;
}

const ipScratch = new Uint32Array(4);

const ruleApplies = (
  policy: CompiledPolicy,
  rule: CompiledRule,
  person: PersonView,
  request: DecisionRequest,
  ms: number,
  lazy: Lazy,
): boolean => {
  if (!audienceMatches(rule.audience, person)) return false;
  if (rule.schedule) {
    // An invalid time matches no schedule (and must not reach Intl, which would throw).
    if (!Number.isFinite(ms)) return false;
    lazy.local ??= policy.clock.local(ms);
    if (!scheduleMatches(rule.schedule, lazy.local, policy.terms)) return false;
  }
  if (rule.placeIds) {
    if (request.site !== undefined && rule.placeIds.includes(request.site)) return true;
    if (rule.cidrs.length === 0 || request.clientIp === undefined) return false;
    if (lazy.ipFamily === -1) lazy.ipFamily = parseIpInto(request.clientIp, ipScratch);
    if (lazy.ipFamily === 0) return false;
    for (const c of rule.cidrs) if (cidrContains(c, ipScratch)) return true;
    return false;
  }
  return true;
};

/** The most specific list entry for the host (and URL path) that applies to the person; a tie blocks. */
const listMatch = (policy: CompiledPolicy, host: string, url: string | undefined, person: PersonView): Outcome | null => {
  if (policy.lists.size === 0) return null;
  let best: ListItem | null = null;
  let path: string | null = null;
  let h = host;
  for (;;) {
    const bucket = policy.lists.get(h);
    if (bucket) {
      for (const item of bucket) {
        if (item.path !== '') {
          if (url === undefined) continue;
          path ??= pathOfUrl(url);
          if (!pathUnder(path, item.path)) continue;
        }
        if (item.audience && !audienceMatches(item.audience, person)) continue;
        if (!best || item.specificity > best.specificity || (item.specificity === best.specificity && item.block && !best.block))
          best = item;
      }
    }
    const dot = h.indexOf('.');
    if (dot < 0) break;
    h = h.slice(dot + 1);
  }
  return best ? best.outcome : null;
};

const overrideSiteMatches = (sites: ReadonlyMap<string, readonly string[]>, host: string, url: string | undefined): boolean => {
  if (sites.size === 0) return false;
  let h = host;
  for (;;) {
    const paths = sites.get(h);
    if (paths) {
      for (const p of paths) if (p === '' || (url !== undefined && pathUnder(pathOfUrl(url), p))) return true;
    }
    const dot = h.indexOf('.');
    if (dot < 0) return false;
    h = h.slice(dot + 1);
  }
};

const build = (
  o: Outcome,
  category: string | null,
  source: string | null,
  safeSearch: boolean,
  youtube: YoutubeMode,
  flagged: boolean,
  overrideId?: string,
): Decision => {
  const d: Decision = { action: o.action, category, source, rule: o.rule, layer: o.layer, reason: o.reason, safeSearch, youtube, flagged };
  if (overrideId !== undefined) d.overrideId = overrideId;
  return d;
};

/**
 * What happens to this request. `classification` comes from the classifier; an unknown category
 * id is treated as uncategorised (but reported as given).
 */
export const decide = (policy: CompiledPolicy, request: DecisionRequest, classification: ClassificationResult): Decision => {
  const person = personView(request.person);
  const ms = request.at.getTime();
  const lazy: Lazy = { local: null, ipFamily: -1 };

  let profile: CompiledProfile | undefined;
  for (const p of policy.profiles) {
    if (audienceMatches(p.audience, person)) {
      profile = p;
      break;
    }
  }
  // No profile: SafeSearch on and YouTube moderate, the safe middle.
  let safeSearch = profile ? profile.safeSearch : true;
  let youtube: YoutubeMode = profile ? profile.youtube : 'moderate';
  if (policy.searchRules.length > 0) {
    let ssSet = false;
    let ytSet = false;
    for (const r of policy.searchRules) {
      if (ssSet && ytSet) break;
      if (!ruleApplies(policy, r, person, request, ms, lazy)) continue;
      if (!ssSet && r.safeSearch !== undefined) {
        safeSearch = r.safeSearch;
        ssSet = true;
      }
      if (!ytSet && r.youtube !== undefined) {
        youtube = r.youtube;
        ytSet = true;
      }
    }
  }

  const source = classification.source;

  // 1. Illegal tier: first, unconditional, and the reason never names the list.
  if (classification.illegal || classification.category === 'illegal') {
    return {
      action: 'block',
      category: 'illegal',
      source,
      rule: ILLEGAL_RULE,
      layer: 'illegal',
      reason: ILLEGAL_REASON,
      safeSearch,
      youtube,
      flagged: true,
    };
  }

  const category = classification.category;
  const index = categoryIndexOf(category);
  const host = normaliseRequestHost(request.host);

  // 2. School block and allow lists. An allow-list entry is a person's judgement that the site is
  // fine (usually a mis-categorisation fixed), so its visits are not flagged.
  const listed = listMatch(policy, host, request.url, person);
  if (listed) return build(listed, category, source, safeSearch, youtube, listed.action === 'block' && SAFEGUARDING[index] === true);

  // 3. Teacher overrides: only when the category is not locked.
  if (LOCKED[index] !== true) {
    for (const o of policy.overrides) {
      // Written so an invalid time (NaN) matches no override.
      if (!(ms >= o.startMs && ms < o.endMs)) continue;
      if (!audienceMatches(o.audience, person)) continue;
      if (o.categories[index] === true || overrideSiteMatches(o.sites, host, request.url)) {
        return build(o.outcome, category, source, safeSearch, youtube, o.outcome.flagged || SAFEGUARDING[index] === true, o.id);
      }
    }
  }

  // 4. Rules, in order.
  for (const r of policy.rules) {
    const outcome = r.outcomes[index];
    if (outcome === undefined) continue;
    if (ruleApplies(policy, r, person, request, ms, lazy)) return build(outcome, category, source, safeSearch, youtube, outcome.flagged);
  }

  // 5–7. Profile, trust baseline, fallback.
  const outcome = profile?.outcomes[index] ?? policy.baseline[index] ?? policy.fallback[index]!;
  return build(outcome, category, source, safeSearch, youtube, outcome.flagged);
};

/** The label of a category id, or the id itself when unknown (for logs and pages). */
export const categoryLabel = (id: string | null): string => (id === null ? 'Uncategorised' : (categoryById(id)?.label ?? id));
