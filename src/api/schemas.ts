/**
 * TypeBox schemas for the API's bodies, queries and responses. Bodies reject unknown fields
 * (additionalProperties: false) and bound every string, so bad input gets a clear 400.
 */
import { Type, type TSchema } from 'typebox';
import { GROUP_KINDS, PERSON_KINDS, ROLES, YEAR_GROUPS } from '../core/index.ts';

const strict = { additionalProperties: false } as const;
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });

export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const SchoolParams = Type.Object({ schoolId: Id }, strict);
export const PersonParams = Type.Object({ schoolId: Id, personId: Id }, strict);
export const GroupParams = Type.Object({ schoolId: Id, groupId: Id }, strict);
export const MemberParams = Type.Object({ schoolId: Id, groupId: Id, personId: Id }, strict);
export const UserParams = Type.Object({ userId: Id }, strict);

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

export const Grant = Type.Object({ role: literals(ROLES), schoolId: Nullable(Id) }, strict);

export const SessionViewSchema = Type.Object({
  state: literals(['active', 'mfa_required', 'mfa_enrolment_required', 'password_change_required', 'locked']),
  user: Type.Object({
    id: Type.String(),
    email: Type.String(),
    displayName: Type.String(),
    totpEnabled: Type.Boolean(),
    grants: Type.Array(Grant),
  }),
  idleLockMinutes: Type.Number(),
  expiresAt: Type.String(),
  abilities: Type.Record(Type.String(), Type.Union([Type.Literal('all'), Type.Array(Type.String())])),
});
export const SessionResponse = Type.Object({ session: SessionViewSchema });

export const Trust = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
export const School = Type.Object({
  id: Type.String(),
  trustId: Type.String(),
  name: Type.String(),
  urn: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const Person = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  kind: literals(PERSON_KINDS),
  upn: Nullable(Type.String()),
  firstName: Type.String(),
  lastName: Type.String(),
  yearGroup: Nullable(Type.String()),
  dateOfBirth: Nullable(Type.String()),
  email: Nullable(Type.String()),
  staffRole: Nullable(Type.String()),
  leftAt: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const Group = Type.Object({
  id: Type.String(),
  schoolId: Type.String(),
  name: Type.String(),
  kind: literals(GROUP_KINDS),
  managed: Type.Boolean(),
  memberCount: Type.Number(),
});

const NameText = Type.String({ minLength: 1, maxLength: 100 });
const OptionalText = (max: number) => Type.Optional(Nullable(Type.String({ maxLength: max })));

export const PersonCreateBody = Type.Object(
  {
    kind: literals(PERSON_KINDS),
    firstName: NameText,
    lastName: NameText,
    upn: OptionalText(20),
    yearGroup: Type.Optional(Nullable(literals(YEAR_GROUPS))),
    dateOfBirth: OptionalText(10),
    email: OptionalText(254),
    staffRole: OptionalText(100),
  },
  strict,
);

export const PersonUpdateBody = Type.Object(
  {
    kind: Type.Optional(literals(PERSON_KINDS)),
    firstName: Type.Optional(NameText),
    lastName: Type.Optional(NameText),
    upn: OptionalText(20),
    yearGroup: Type.Optional(Nullable(literals(YEAR_GROUPS))),
    dateOfBirth: OptionalText(10),
    email: OptionalText(254),
    staffRole: OptionalText(100),
    left: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const PeopleQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 100 })),
    kind: Type.Optional(literals(PERSON_KINDS)),
    yearGroup: Type.Optional(literals(YEAR_GROUPS)),
    groupId: Type.Optional(Id),
    includeLeft: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
  },
  strict,
);

export const ImportQuery = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean({ default: false })),
    skipInvalid: Type.Optional(Type.Boolean({ default: false })),
  },
  strict,
);

export const ImportReport = Type.Object({
  totalRows: Type.Number(),
  validRows: Type.Number(),
  invalidRows: Type.Number(),
  created: Type.Number(),
  updated: Type.Number(),
  unchanged: Type.Number(),
  applied: Type.Boolean(),
  ignoredColumns: Type.Array(Type.String()),
  errors: Type.Array(Type.Object({ line: Type.Number(), field: Nullable(Type.String()), message: Type.String() })),
});

export const UserSummary = Type.Object({
  id: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  grants: Type.Array(Grant),
  totpEnabled: Type.Boolean(),
  disabled: Type.Boolean(),
  lockedUntil: Nullable(Type.String()),
  mustChangePassword: Type.Boolean(),
  createdAt: Type.String(),
});

export const AuditEntry = Type.Object({
  seq: Type.Number(),
  at: Type.String(),
  actorUserId: Nullable(Type.String()),
  actorLabel: Type.String(),
  ip: Nullable(Type.String()),
  action: Type.String(),
  resourceType: Type.String(),
  resourceId: Nullable(Type.String()),
  schoolId: Nullable(Type.String()),
  detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
  prevHash: Type.String(),
  hash: Type.String(),
});

export const Code = Type.String({ minLength: 6, maxLength: 20 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
