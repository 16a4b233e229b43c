/**
 * One person's fields, checked and normalised the same way wherever they come from: the MIS
 * import, and the API's add/correct person forms. Pure: the caller supplies `now`.
 *
 * Haven keeps only what each kind of person needs: pupils have a UPN, year group and date of
 * birth (and may have an email); staff, parents and governors have an email; visitors may have
 * one; everyone but pupils may have a role. A year group, date of birth or role given for a kind
 * that does not use it is dropped (set to null), but a UPN on anyone but a pupil is an error,
 * since it usually means the row's type is wrong.
 *
 * Messages never repeat personal values (a date of birth, an email, a UPN): they end up in
 * import reports that get pasted into support tickets.
 */
import {
  isEmail,
  MAX_EMAIL_LENGTH,
  nameProblem,
  parseUkDate,
  parseYearGroup,
  PERSON_KINDS,
  upnProblem,
  type PersonKind,
} from './people.ts';
import type { PersonFields } from './ports.ts';

/** Raw strings as a form or a CSV row holds them; blank and missing mean "not given". */
export interface PersonInput {
  kind: string | null | undefined;
  firstName: string | null | undefined;
  lastName: string | null | undefined;
  upn?: string | null | undefined;
  yearGroup?: string | null | undefined;
  dateOfBirth?: string | null | undefined;
  email?: string | null | undefined;
  staffRole?: string | null | undefined;
}

/** A person's fields ready to store: trimmed, upper-cased UPN, lower-cased email, ISO date. */
export type NormalisedPerson = Omit<PersonFields, 'leftAt'>;

export interface PersonFieldError {
  /** The PersonInput key the problem is in (kind, firstName, upn, …). */
  field: string;
  message: string;
}

export interface PersonValidation {
  /** Present only when there are no errors. */
  person?: NormalisedPerson;
  errors: PersonFieldError[];
}

export const MAX_STAFF_ROLE_LENGTH = 100;
export const MIN_PUPIL_AGE = 2;
export const MAX_PUPIL_AGE = 21;

const KIND_LABELS: Record<PersonKind, string> = {
  pupil: 'pupils',
  staff: 'staff',
  parent: 'parents and carers',
  governor: 'governors',
  visitor: 'visitors',
};

const KIND_LIST = 'pupil, staff, parent, governor or visitor';

/** A short, printable echo of a non-personal value (a type or year group) for a message. */
export const quoteValue = (value: string): string => {
  const short = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(short);
};

/** UPNs as people type them: "b801 2000 05001" → "B801200005001". */
export const normaliseUpn = (raw: string): string => raw.replace(/\s+/g, '').toUpperCase();

/** Whole years between an ISO date of birth and an ISO date (a leap-day birthday counts from 1 March). */
export const ageOn = (dateOfBirth: string, today: string): number => {
  const years = Number(today.slice(0, 4)) - Number(dateOfBirth.slice(0, 4));
  return today.slice(5, 10) < dateOfBirth.slice(5, 10) ? years - 1 : years;
};

const text = (v: string | null | undefined): string => (v ?? '').trim();

/** MIS exports opened in Excel often carry a midnight time on dates: "09/03/2014 00:00:00". */
const stripMidnight = (raw: string): string => raw.replace(/(?:[ T]00:00(?::00(?:\.0+)?)?Z?)$/, '');

export const validatePerson = (input: PersonInput, now: Date): PersonValidation => {
  const errors: PersonFieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });

  const kindRaw = text(input.kind);
  const kindLower = kindRaw.toLowerCase();
  const kind = (PERSON_KINDS as readonly string[]).includes(kindLower) ? (kindLower as PersonKind) : null;
  if (!kind) {
    fail('kind', kindRaw ? `Kind ${quoteValue(kindRaw)} is not one of ${KIND_LIST}` : `Kind is required (${KIND_LIST})`);
  }

  const firstName = text(input.firstName);
  const firstProblem = nameProblem(firstName, 'First name');
  if (firstProblem) fail('firstName', firstProblem);
  const lastName = text(input.lastName);
  const lastProblem = nameProblem(lastName, 'Last name');
  if (lastProblem) fail('lastName', lastProblem);

  const upnRaw = normaliseUpn(input.upn ?? '');
  const yearRaw = text(input.yearGroup);
  const dobRaw = stripMidnight(text(input.dateOfBirth));
  const emailRaw = text(input.email).toLowerCase();
  const roleRaw = text(input.staffRole);

  let upn: string | null = null;
  let yearGroup: NormalisedPerson['yearGroup'] = null;
  let dateOfBirth: string | null = null;
  let email: string | null = null;
  let staffRole: string | null = null;

  if (kind === 'pupil') {
    if (!upnRaw) fail('upn', 'UPN is required for pupils');
    else {
      const problem = upnProblem(upnRaw);
      if (problem) fail('upn', problem);
      else upn = upnRaw;
    }

    if (!yearRaw) fail('yearGroup', 'Year group is required for pupils');
    else {
      yearGroup = parseYearGroup(yearRaw);
      if (!yearGroup) fail('yearGroup', `Year group ${quoteValue(yearRaw)} is not recognised (use N, R or 1 to 13)`);
    }

    if (!dobRaw) fail('dateOfBirth', 'Date of birth is required for pupils');
    else {
      const dob = parseUkDate(dobRaw);
      const today = now.toISOString().slice(0, 10);
      if (!dob) fail('dateOfBirth', 'Date of birth is not a real date (use DD/MM/YYYY or YYYY-MM-DD)');
      else if (dob > today) fail('dateOfBirth', 'Date of birth is in the future');
      else {
        const age = ageOn(dob, today);
        if (age < MIN_PUPIL_AGE || age > MAX_PUPIL_AGE) {
          fail(
            'dateOfBirth',
            `Date of birth makes this pupil ${age} year${age === 1 ? '' : 's'} old; a pupil must be aged ${MIN_PUPIL_AGE} to ${MAX_PUPIL_AGE}`,
          );
        } else dateOfBirth = dob;
      }
    }
  } else if (kind && upnRaw) {
    fail('upn', `Only pupils have a UPN (this row is a ${kind}; is its type right?)`);
  }

  if (kind) {
    const emailRequired = kind === 'staff' || kind === 'parent' || kind === 'governor';
    if (!emailRaw) {
      if (emailRequired) fail('email', `Email is required for ${KIND_LABELS[kind]}`);
    } else if (emailRaw.length > MAX_EMAIL_LENGTH) {
      fail('email', `Email is longer than ${MAX_EMAIL_LENGTH} characters`);
    } else if (!isEmail(emailRaw)) {
      fail('email', 'Email address is not valid');
    } else email = emailRaw;

    if (kind !== 'pupil' && roleRaw) {
      if (roleRaw.length > MAX_STAFF_ROLE_LENGTH) fail('staffRole', `Role is longer than ${MAX_STAFF_ROLE_LENGTH} characters`);
      else if (/[\p{Cc}\p{Cs}\uFFFD]/u.test(roleRaw)) fail('staffRole', 'Role contains control or unreadable characters');
      else staffRole = roleRaw;
    }
  }

  if (errors.length > 0 || !kind) return { errors };
  return { person: { kind, upn, firstName, lastName, yearGroup, dateOfBirth, email, staffRole }, errors };
};
