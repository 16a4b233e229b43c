/**
 * TypeBox shapes of filtering policies (src/core/policy/types.ts) for the API's bodies. They
 * check shape and bounds only; what the values mean (known categories, locked categories,
 * illegal sites, rule references) is checked by core's validatePolicy, which names the path.
 */
import { Type } from 'typebox';
import { AUDIENCE_KINDS, FILTER_ACTIONS, KEY_STAGES, MAX_BLOCK_PAGE_MESSAGE, WEEKDAYS, YOUTUBE_MODES } from '../core/index.ts';
import { literals } from './schemas.ts';

const strict = { additionalProperties: false } as const;
const Text = (maxLength: number) => Type.String({ maxLength });
const Key = Type.String({ minLength: 1, maxLength: 64 });
const List = <T extends Parameters<typeof Type.Array>[0]>(item: T, maxItems: number) => Type.Array(item, { maxItems });
const Opt = Type.Optional;

const Action = literals(FILTER_ACTIONS);
const Youtube = literals(YOUTUBE_MODES);
/** Category id → action; unknown ids are reported by validation with their path. */
const Actions = Type.Record(Type.String({ minLength: 1, maxLength: 40 }), Action);
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Time = Type.String({ pattern: '^\\d{2}:\\d{2}$' });

export const AudienceSchema = Type.Object(
  {
    kinds: Opt(List(literals(AUDIENCE_KINDS), AUDIENCE_KINDS.length)),
    keyStages: Opt(List(literals(KEY_STAGES), KEY_STAGES.length)),
    yearGroups: Opt(List(Type.String({ maxLength: 3 }), 20)),
    flags: Opt(List(Type.String({ minLength: 1, maxLength: 40 }), 20)),
    groups: Opt(List(Key, 200)),
  },
  strict,
);

const DateRange = Type.Object({ from: Day, to: Day }, strict);
const Term = Type.Object({ name: Type.String({ minLength: 1, maxLength: 80 }), from: Day, to: Day }, strict);
const Schedule = Type.Object(
  {
    days: Opt(List(literals(WEEKDAYS), 7)),
    from: Opt(Time),
    to: Opt(Time),
    termTime: Opt(literals(['term', 'holiday'] as const)),
    dates: Opt(List(DateRange, 100)),
  },
  strict,
);
const Place = Type.Object(
  { id: Key, label: Type.String({ minLength: 1, maxLength: 80 }), cidrs: List(Type.String({ minLength: 1, maxLength: 50 }), 100) },
  strict,
);

const Profile = Type.Object(
  {
    id: Key,
    label: Type.String({ minLength: 1, maxLength: 80 }),
    audience: AudienceSchema,
    actions: Actions,
    safeSearch: Type.Boolean(),
    youtube: Youtube,
  },
  strict,
);
const ProfilePatch = Type.Object(
  {
    id: Key,
    label: Opt(Type.String({ minLength: 1, maxLength: 80 })),
    audience: Opt(AudienceSchema),
    actions: Opt(Actions),
    safeSearch: Opt(Type.Boolean()),
    youtube: Opt(Youtube),
  },
  strict,
);
const Rule = Type.Object(
  {
    id: Key,
    description: Type.String({ minLength: 1, maxLength: 200 }),
    audience: AudienceSchema,
    when: Opt(Schedule),
    places: Opt(List(Type.String({ minLength: 1, maxLength: 64 }), 50)),
    actions: Actions,
    safeSearch: Opt(Type.Boolean()),
    youtube: Opt(Youtube),
    disabled: Opt(Type.Boolean()),
    enforced: Opt(Type.Boolean()),
  },
  strict,
);
const ListEntry = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 2048 }),
    note: Opt(Text(200)),
    audience: Opt(AudienceSchema),
    enforced: Opt(Type.Boolean()),
  },
  strict,
);
const OverrideSettings = Type.Object(
  {
    categories: List(Type.String({ minLength: 1, maxLength: 40 }), 60),
    sites: Type.Boolean(),
    maxMinutes: Type.Integer({ minimum: 0, maximum: 100_000 }),
  },
  strict,
);

const MAX_LIST_ENTRIES = 10_000;

export const TrustPolicySchema = Type.Object(
  {
    trustId: Opt(Type.String({ maxLength: 64 })),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    baseline: Actions,
    profiles: List(Profile, 50),
    rules: List(Rule, 500),
    allowList: List(ListEntry, MAX_LIST_ENTRIES),
    blockList: List(ListEntry, MAX_LIST_ENTRIES),
    teacherOverrides: OverrideSettings,
    terms: List(Term, 50),
    places: List(Place, 200),
  },
  strict,
);

export const SchoolPolicySchema = Type.Object(
  {
    schoolId: Opt(Type.String({ maxLength: 64 })),
    name: Opt(Type.String({ minLength: 1, maxLength: 120 })),
    timeZone: Opt(Type.String({ minLength: 1, maxLength: 64 })),
    baseline: Opt(Actions),
    profiles: Opt(List(ProfilePatch, 50)),
    rules: Opt(List(Rule, 500)),
    disabledTrustRules: Opt(List(Key, 500)),
    allowList: Opt(List(ListEntry, MAX_LIST_ENTRIES)),
    blockList: Opt(List(ListEntry, MAX_LIST_ENTRIES)),
    removedTrustEntries: Opt(List(Type.String({ minLength: 1, maxLength: 2048 }), MAX_LIST_ENTRIES)),
    teacherOverrides: Opt(Type.Partial(OverrideSettings)),
    terms: Opt(List(Term, 50)),
    places: Opt(List(Place, 200)),
    blockPageMessage: Opt(Type.String({ maxLength: MAX_BLOCK_PAGE_MESSAGE })),
  },
  strict,
);

const Reason = Type.String({ minLength: 1, maxLength: 1000, description: 'Why: required for every change' });
const BaseVersion = Type.Integer({ minimum: 0, description: 'The version this change was made against' });

export const TrustPolicySaveBody = Type.Object({ policy: TrustPolicySchema, reason: Reason, baseVersion: BaseVersion }, strict);
export const SchoolPolicySaveBody = Type.Object({ policy: SchoolPolicySchema, reason: Reason, baseVersion: BaseVersion }, strict);

export const PolicyMeta = {
  version: Type.Integer(),
  savedAt: Type.Union([Type.String(), Type.Null()]),
  savedBy: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
};

export const Problem = Type.Object({ path: Type.String(), message: Type.String(), severity: literals(['error', 'warning'] as const) });
export const SaveResult = Type.Object({ version: Type.Integer(), changes: Type.Array(Type.String()), warnings: Type.Array(Problem) });
export const VersionSummary = Type.Object({
  version: Type.Integer(),
  reason: Type.String(),
  changes: Type.Array(Type.String()),
  savedBy: Type.String(),
  savedAt: Type.String(),
});

export const OverrideCreateBody = Type.Object(
  {
    audience: AudienceSchema,
    categories: Opt(List(Type.String({ minLength: 1, maxLength: 40 }), 60)),
    sites: Opt(List(Type.String({ minLength: 1, maxLength: 2048 }), 50)),
    minutes: Type.Integer({ minimum: 1, maximum: 100_000 }),
    startsAt: Opt(Type.String({ maxLength: 40 })),
    reason: Reason,
    action: Opt(literals(['allow', 'allow-and-flag'] as const)),
  },
  strict,
);
export const OverrideRevokeBody = Type.Object({ reason: Reason }, strict);

export const OverrideSchema = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  audience: Type.Unknown(),
  audienceLabel: Type.String(),
  categories: Type.Array(Type.String()),
  sites: Type.Array(Type.String()),
  action: Type.String(),
  startsAt: Type.String(),
  expiresAt: Type.String(),
  reason: Type.String(),
  createdByLabel: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  revokedByLabel: Type.Union([Type.String(), Type.Null()]),
  state: literals(['scheduled', 'active', 'expired', 'revoked'] as const),
});

export const RequestPersonSchema = Type.Object(
  {
    kind: literals(AUDIENCE_KINDS),
    groups: Type.Array(Key, { maxItems: 200 }),
    yearGroup: Opt(Type.String({ maxLength: 3 })),
    keyStage: Opt(literals(KEY_STAGES)),
    flags: Opt(List(Type.String({ minLength: 1, maxLength: 40 }), 20)),
  },
  strict,
);

export const CheckBody = Type.Object(
  {
    site: Type.String({ minLength: 1, maxLength: 4096, description: 'A host name or URL' }),
    profile: Opt(Key),
    person: Opt(RequestPersonSchema),
    personId: Opt(Key),
    at: Opt(Type.String({ maxLength: 40 })),
    clientIp: Opt(Type.String({ maxLength: 45 })),
    place: Opt(Key),
  },
  strict,
);
