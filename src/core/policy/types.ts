/**
 * The filtering policy model. A trust writes a TrustPolicy; each school inherits it and changes
 * what it needs in a SchoolPolicy; `resolvePolicy` merges the two into the FilterPolicy that is
 * compiled and asked for decisions. Everything here is plain JSON-shaped data, so it can be
 * stored, diffed and validated at the edge.
 */
import type { CategoryId, ConfigurableCategoryId } from './categories.ts';

/** allow; block; warn = a notice the person may continue past (logged); allow-and-flag = allowed and flagged for monitoring. */
export const FILTER_ACTIONS = ['allow', 'block', 'warn', 'allow-and-flag'] as const;
export type FilterAction = (typeof FILTER_ACTIONS)[number];

export const YOUTUBE_MODES = ['off', 'moderate', 'strict'] as const;
export type YoutubeMode = (typeof YOUTUBE_MODES)[number];

export const KEY_STAGES = ['EYFS', 'KS1', 'KS2', 'KS3', 'KS4', 'KS5'] as const;
export type KeyStage = (typeof KEY_STAGES)[number];

/** Kinds of people a policy tells apart. `guest` also covers anyone the filter cannot identify. */
export const AUDIENCE_KINDS = ['pupil', 'staff', 'guest', 'parent', 'governor', 'visitor'] as const;
export type AudienceKind = (typeof AUDIENCE_KINDS)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Key for sites no list knows. */
export const UNCATEGORISED = 'uncategorised';

/** Actions per category. `uncategorised` covers hosts no list knows (for walled-garden profiles). */
export type ActionMap = Partial<Record<ConfigurableCategoryId | typeof UNCATEGORISED, FilterAction>>;

/**
 * Who a profile, rule, list entry or override applies to. Every field that is present must
 * match (AND); within a field any value matches (OR). An empty audience means everyone.
 */
export interface Audience {
  kinds?: AudienceKind[];
  keyStages?: KeyStage[];
  /** National curriculum year groups: 'N', 'R', '1' … '13'. */
  yearGroups?: string[];
  /** Vulnerability or need flags set on a person ('send', 'eal', 'at-risk' …). */
  flags?: string[];
  /** Group ids (classes, sets, clubs, custom groups). */
  groups?: string[];
}

/** Local dates, inclusive, YYYY-MM-DD. */
export interface DateRange {
  from: string;
  to: string;
}

export interface Term extends DateRange {
  name: string;
}

/**
 * When a rule applies, in the policy's time zone. A window whose `to` is before its `from`
 * crosses midnight and belongs to the day it starts on (Friday 22:00–06:00 covers early Saturday).
 */
export interface Schedule {
  days?: Weekday[];
  /** HH:MM, inclusive. */
  from?: string;
  /** HH:MM, exclusive; '24:00' is the end of the day. */
  to?: string;
  /** Only in term time, or only outside it (holidays, weekends count as term when inside a term's dates). */
  termTime?: 'term' | 'holiday';
  /** Only on these dates. */
  dates?: DateRange[];
}

/** A network or site: the data plane knows which site a request came through, or its client address. */
export interface Place {
  id: string;
  label: string;
  /** IPv4/IPv6 CIDRs (a bare address is a /32 or /128). */
  cidrs: string[];
}

/** A group's defaults: what each category does for the people it covers, SafeSearch and YouTube. */
export interface PolicyProfile {
  id: string;
  /** Plain-English name of who it covers, used in reasons: "Key Stage 2 pupils". */
  label: string;
  audience: Audience;
  actions: ActionMap;
  safeSearch: boolean;
  youtube: YoutubeMode;
}

/** A school's change to an inherited profile (same id), or a new profile of its own. */
export interface ProfilePatch {
  id: string;
  label?: string;
  audience?: Audience;
  actions?: ActionMap;
  safeSearch?: boolean;
  youtube?: YoutubeMode;
}

/** An exception to the defaults: for these people, at this time and place, these categories do this. */
export interface PolicyRule {
  id: string;
  /** Plain English, shown in logs and reasons: "Years 7–8: social networks (minimum age 13)". */
  description: string;
  audience: Audience;
  when?: Schedule;
  /** Place ids from the policy's `places`, or CIDR literals. The rule applies at any of them. */
  places?: string[];
  actions: ActionMap;
  safeSearch?: boolean;
  youtube?: YoutubeMode;
  /** Off switch that keeps the rule for later. */
  disabled?: boolean;
  /** Trust rules only: schools cannot disable it and it is checked before school rules. */
  enforced?: boolean;
}

/**
 * A host ("example.com", covering its subdomains) or URL prefix ("example.com/path") on the
 * school's allow or block list.
 */
export interface PolicyListEntry {
  pattern: string;
  note?: string;
  /** Only for these people (default everyone). */
  audience?: Audience;
  /** Trust entries only: schools cannot remove it. */
  enforced?: boolean;
}

/** What teachers may open for their classes. */
export interface TeacherOverrideSettings {
  /** Categories teachers may open (never a locked category). */
  categories: ConfigurableCategoryId[];
  /** Whether teachers may open single sites (never in a locked category). */
  sites: boolean;
  /** Longest override, in minutes. */
  maxMinutes: number;
}

/** A teacher opens sites or categories for a class or group until an expiry. */
export interface TeacherOverride {
  id: string;
  /** Group scope: must name groups, year groups or key stages (a class, never "everyone"). */
  audience: Audience;
  categories?: ConfigurableCategoryId[];
  /** Hosts or URL prefixes, as on the allow list. */
  sites?: string[];
  /** ISO instants. */
  startsAt: string;
  expiresAt: string;
  createdBy: string;
  reason: string;
  revoked?: boolean;
  /** 'allow' (default) or 'allow-and-flag' so the DSL sees the visits. */
  action?: 'allow' | 'allow-and-flag';
}

/** A school's effective policy: the trust's defaults with the school's changes applied. */
export interface FilterPolicy {
  id: string;
  name: string;
  /** IANA zone for schedules; Europe/London for UK schools. */
  timeZone: string;
  /** The trust default for every category, used when a person's profile does not set one. */
  baseline: ActionMap;
  /** Group defaults, first matching profile wins. */
  profiles: PolicyProfile[];
  /** Exceptions, first matching rule that sets the category wins. */
  rules: PolicyRule[];
  allowList: PolicyListEntry[];
  blockList: PolicyListEntry[];
  teacherOverrides: TeacherOverrideSettings;
  overrides: TeacherOverride[];
  terms: Term[];
  places: Place[];
}

export interface TrustPolicy {
  trustId: string;
  name: string;
  timeZone: string;
  baseline: ActionMap;
  profiles: PolicyProfile[];
  rules: PolicyRule[];
  allowList: PolicyListEntry[];
  blockList: PolicyListEntry[];
  teacherOverrides: TeacherOverrideSettings;
  terms: Term[];
  places: Place[];
}

/** What a school changes; everything absent is inherited. */
export interface SchoolPolicy {
  schoolId: string;
  name?: string;
  timeZone?: string;
  baseline?: ActionMap;
  /** Same id as a trust profile: merged over it. New id: a school profile, checked before the trust's. */
  profiles?: ProfilePatch[];
  /** School rules, checked after the trust's enforced rules and before its other rules. */
  rules?: PolicyRule[];
  /** Ids of trust rules the school switches off (enforced ones cannot be). */
  disabledTrustRules?: string[];
  allowList?: PolicyListEntry[];
  blockList?: PolicyListEntry[];
  /** Patterns of trust list entries the school removes (enforced ones cannot be). */
  removedTrustEntries?: string[];
  teacherOverrides?: Partial<TeacherOverrideSettings>;
  overrides?: TeacherOverride[];
  /** Replaces the trust's term dates when given. */
  terms?: Term[];
  /** Added to the trust's places (same id replaces). */
  places?: Place[];
  /** The school's own words on its block pages ("Ask Mr Patel in the library if you need this site"). */
  blockPageMessage?: string;
}

/** The most a school's block-page message may hold. */
export const MAX_BLOCK_PAGE_MESSAGE = 400;

/** The person behind a request, as identity resolution knows them. */
export interface RequestPerson {
  kind: AudienceKind;
  groups: readonly string[];
  yearGroup?: string;
  keyStage?: KeyStage;
  flags?: readonly string[];
}

export interface DecisionRequest {
  /** Normalised host (lower case, no trailing dot, punycode). */
  host: string;
  url?: string;
  at: Date;
  clientIp?: string;
  /** null or absent: nobody identified, treated as a guest. */
  person?: RequestPerson | null;
  /** Site or network id the request came through. */
  site?: string;
}

/** What the classifier found; decide does not classify. */
export interface ClassificationResult {
  category: string | null;
  /** The list that matched, for logs ("ut1/adult"); never shown on a block page. */
  source: string | null;
  /** On an illegal-content list (IWF, CTIRU): blocked, whatever anything else says. */
  illegal: boolean;
}

/** Which layer of the policy made the decision. */
export type DecisionLayer = 'illegal' | 'block-list' | 'allow-list' | 'override' | 'rule' | 'profile' | 'baseline' | 'fallback';

export interface DecisionRule {
  readonly id: string;
  readonly description: string;
}

export interface Decision {
  action: FilterAction;
  category: string | null;
  source: string | null;
  /** The rule, profile, list entry or override that decided; null for the built-in fallback. */
  rule: DecisionRule | null;
  layer: DecisionLayer;
  /** One plain-English sentence a block page can show. */
  reason: string;
  safeSearch: boolean;
  youtube: YoutubeMode;
  /** The monitoring pipeline should look at this event (allow-and-flag, safeguarding categories, illegal). */
  flagged: boolean;
  overrideId?: string;
}

export type { CategoryId, ConfigurableCategoryId };
