/**
 * People of a school as Haven holds them: pupils, staff, parents, governors and visitors, and
 * the groups they belong to. Pure types and validation; storage lives in src/storage.
 */
export const PERSON_KINDS = ['pupil', 'staff', 'parent', 'governor', 'visitor'] as const;
export type PersonKind = (typeof PERSON_KINDS)[number];

export const GROUP_KINDS = ['year_group', 'key_stage', 'staff', 'custom'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** National curriculum year groups: N (nursery), R (reception), 1–13. */
export const YEAR_GROUPS = ['N', 'R', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'] as const;
export type YearGroup = (typeof YEAR_GROUPS)[number];

export interface Person {
  id: string;
  schoolId: string;
  kind: PersonKind;
  upn: string | null;
  firstName: string;
  lastName: string;
  yearGroup: YearGroup | null;
  dateOfBirth: string | null;
  email: string | null;
  staffRole: string | null;
  leftAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Group {
  id: string;
  schoolId: string;
  name: string;
  kind: GroupKind;
  /** Groups Haven derives from people (year groups, key stages, all staff) are kept in step on import. */
  managed: boolean;
  memberCount: number;
}

export const MAX_NAME_LENGTH = 100;
export const MAX_EMAIL_LENGTH = 254;

/** Key stage of a year group, as schools and the DfE name them. */
export const keyStageOf = (year: YearGroup): string => {
  if (year === 'N' || year === 'R') return 'EYFS';
  const n = Number(year);
  if (n <= 2) return 'KS1';
  if (n <= 6) return 'KS2';
  if (n <= 9) return 'KS3';
  if (n <= 11) return 'KS4';
  return 'KS5';
};

export const yearGroupName = (year: YearGroup): string => (year === 'N' ? 'Nursery' : year === 'R' ? 'Reception' : `Year ${year}`);

/** Accepts "7", "Y7", "Year 7", "yr7", "R", "Reception", "N", "Nursery". */
export const parseYearGroup = (raw: string): YearGroup | null => {
  const s = raw.trim().toUpperCase().replace(/\s+/g, '');
  if (s === 'RECEPTION' || s === 'R' || s === 'YR' || s === 'YEARR') return 'R';
  if (s === 'NURSERY' || s === 'N' || s === 'N1' || s === 'N2') return 'N';
  const m = /^(?:YEAR|YR|Y)?(\d{1,2})$/.exec(s);
  if (!m) return null;
  const n = String(Number(m[1]));
  return (YEAR_GROUPS as readonly string[]).includes(n) ? (n as YearGroup) : null;
};

const UPN_ALPHABET = 'ABCDEFGHJKLMNPQRTUVWXYZ';

/**
 * The check letter of a DfE Unique Pupil Number from its last 12 characters: the weighted sum of
 * those characters (weights 2–13; digits by value, a final letter by its place in the alphabet)
 * modulo 23. Returns null if a character cannot appear in a UPN.
 */
export const upnCheckLetter = (rest: string): string | null => {
  let sum = 0;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest.charAt(i);
    const value = ch >= '0' && ch <= '9' ? Number(ch) : UPN_ALPHABET.indexOf(ch);
    if (value < 0) return null;
    sum += value * (i + 2);
  }
  return UPN_ALPHABET.charAt(sum % 23);
};

/**
 * DfE Unique Pupil Number: check letter, 3-digit LA, 4-digit establishment, 2-digit year, 3-digit
 * serial (or 2 digits and a letter for a temporary UPN).
 */
export const upnProblem = (upn: string): string | null => {
  if (!/^[A-Z]\d{11}[0-9A-Z]$/.test(upn)) {
    return 'UPN must be 13 characters: a letter, 11 digits, then a digit or letter';
  }
  const expected = upnCheckLetter(upn.slice(1));
  if (expected === null) return `UPN ends with a letter not used in UPNs (${upn.charAt(12)})`;
  return expected === upn.charAt(0) ? null : `UPN check letter should be ${expected}, not ${upn.charAt(0)}`;
};

/** A real calendar date in YYYY-MM-DD form, or the reason it is not one. */
export const dateProblem = (value: string): string | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return 'date must be YYYY-MM-DD';
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) return 'date does not exist';
  return null;
};

/** Reads dates as MIS exports write them: 2014-03-09, 09/03/2014 (UK order) or 9-3-2014. */
export const parseUkDate = (raw: string): string | null => {
  const s = raw.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return dateProblem(s) ? null : s;
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  if (!m) return null;
  const iso = `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
  return dateProblem(iso) ? null : iso;
};

const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
export const isEmail = (value: string): boolean => value.length <= MAX_EMAIL_LENGTH && EMAIL_RE.test(value);

/** Names may hold letters of any script, spaces, hyphens, apostrophes and full stops. */
export const nameProblem = (value: string, field: string): string | null => {
  if (value.length === 0) return `${field} is required`;
  if (value.length > MAX_NAME_LENGTH) return `${field} is longer than ${MAX_NAME_LENGTH} characters`;
  if (/[\p{Cc}\p{Cs}\uFFFD]/u.test(value)) return `${field} contains control or unreadable characters`;
  return null;
};
