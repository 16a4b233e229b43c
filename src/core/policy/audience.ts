/**
 * Matching people to audiences, and describing audiences in plain English for logs and diffs.
 * A field that is present must match; an empty list matches nobody (a deselected box in a form
 * must never widen a rule to everyone).
 */
import { keyStageOf, YEAR_GROUPS, type YearGroup } from '../people.ts';
import { KEY_STAGES, type Audience, type AudienceKind, type KeyStage, type RequestPerson } from './types.ts';

/** The request's person as matching needs it; built once per decision. */
export interface PersonView {
  kind: AudienceKind;
  groups: readonly string[];
  yearGroup: string | undefined;
  keyStage: KeyStage | undefined;
  flags: readonly string[];
}

const NO_STRINGS: readonly string[] = [];

export const GUEST_VIEW: PersonView = { kind: 'guest', groups: NO_STRINGS, yearGroup: undefined, keyStage: undefined, flags: NO_STRINGS };

const isYearGroup = (y: string): y is YearGroup => (YEAR_GROUPS as readonly string[]).includes(y);

export const personView = (person: RequestPerson | null | undefined): PersonView => {
  if (!person) return GUEST_VIEW;
  const year = person.yearGroup;
  let keyStage = person.keyStage;
  if (keyStage === undefined && year !== undefined && isYearGroup(year)) keyStage = keyStageOf(year) as KeyStage;
  return { kind: person.kind, groups: person.groups, yearGroup: year, keyStage, flags: person.flags ?? NO_STRINGS };
};

const anyIn = (wanted: readonly string[], have: readonly string[]): boolean => {
  for (const w of wanted) if (have.includes(w)) return true;
  return false;
};

export const audienceMatches = (a: Audience | undefined, p: PersonView): boolean => {
  if (!a) return true;
  if (a.kinds && !a.kinds.includes(p.kind)) return false;
  if (a.keyStages && (p.keyStage === undefined || !a.keyStages.includes(p.keyStage))) return false;
  if (a.yearGroups && (p.yearGroup === undefined || !a.yearGroups.includes(p.yearGroup))) return false;
  if (a.flags && !anyIn(a.flags, p.flags)) return false;
  if (a.groups && !anyIn(a.groups, p.groups)) return false;
  return true;
};

/** Whether an audience can only ever match staff (so opening a locked category is a staff-only choice). */
export const audienceOnlyStaff = (a: Audience | undefined): boolean =>
  !!a?.kinds && a.kinds.length > 0 && a.kinds.every((k) => k === 'staff');

/** Whether an audience is scoped to particular groups (a class, year group or key stage), as overrides must be. */
export const audienceIsGroupScoped = (a: Audience | undefined): boolean =>
  !!a && ((a.groups?.length ?? 0) > 0 || (a.yearGroups?.length ?? 0) > 0 || (a.keyStages?.length ?? 0) > 0);

const KIND_WORDS: Record<AudienceKind, string> = {
  pupil: 'pupils',
  staff: 'staff',
  guest: 'guests',
  parent: 'parents',
  governor: 'governors',
  visitor: 'visitors',
};

const yearOrder = (y: string): number => (y === 'N' ? -1 : y === 'R' ? 0 : Number(y));

const listWords = (words: string[]): string =>
  words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]!}`;

/** "Year 6", "Years 7–9", "Reception and Year 1", "Years 3, 5 and 7". */
export const describeYears = (years: readonly string[]): string => {
  const sorted = [...new Set(years)].sort((a, b) => yearOrder(a) - yearOrder(b));
  const named = (y: string) => (y === 'N' ? 'Nursery' : y === 'R' ? 'Reception' : y);
  const numeric = sorted.filter((y) => y !== 'N' && y !== 'R');
  const early = sorted.filter((y) => y === 'N' || y === 'R').map(named);
  const runs: string[] = [];
  let i = 0;
  while (i < numeric.length) {
    let j = i;
    while (j + 1 < numeric.length && Number(numeric[j + 1]) === Number(numeric[j]) + 1) j++;
    runs.push(j > i ? `${numeric[i]!}–${numeric[j]!}` : numeric[i]!);
    i = j + 1;
  }
  const parts = [...early];
  if (runs.length > 0) {
    const single = numeric.length === 1;
    parts.push(`${single ? 'Year' : 'Years'} ${listWords(runs)}`);
  }
  return listWords(parts);
};

const KEY_STAGE_WORDS: Record<KeyStage, string> = {
  EYFS: 'EYFS',
  KS1: 'Key Stage 1',
  KS2: 'Key Stage 2',
  KS3: 'Key Stage 3',
  KS4: 'Key Stage 4',
  KS5: 'Key Stage 5',
};

export const describeKeyStages = (stages: readonly KeyStage[]): string => {
  const sorted = [...new Set(stages)].sort((a, b) => KEY_STAGES.indexOf(a) - KEY_STAGES.indexOf(b));
  const numbered = sorted.filter((s) => s !== 'EYFS').map((s) => Number(s.slice(2)));
  const parts = sorted.includes('EYFS') ? ['EYFS'] : [];
  const contiguous = numbered.every((n, i) => i === 0 || n === numbered[i - 1]! + 1);
  if (numbered.length === 1) parts.push(KEY_STAGE_WORDS[sorted[sorted.length - 1]!]);
  else if (numbered.length > 1 && contiguous) parts.push(`Key Stages ${numbered[0]!}–${numbered[numbered.length - 1]!}`);
  else if (numbered.length > 1) parts.push(`Key Stages ${listWords(numbered.map(String))}`);
  return listWords(parts);
};

/** "Key Stage 2 pupils", "staff", "Years 7–8 flagged at-risk", "everyone". */
export const describeAudience = (a: Audience | undefined): string => {
  if (!a) return 'everyone';
  const parts: string[] = [];
  if (a.keyStages) parts.push(a.keyStages.length ? describeKeyStages(a.keyStages) : 'no key stage');
  if (a.yearGroups) parts.push(a.yearGroups.length ? describeYears(a.yearGroups) : 'no year group');
  if (a.kinds) parts.push(a.kinds.length ? listWords(a.kinds.map((k) => KIND_WORDS[k] ?? k)) : 'nobody');
  if (a.groups) parts.push(a.groups.length ? `${a.groups.length === 1 ? 'group' : 'groups'} ${listWords(a.groups)}` : 'no group');
  if (a.flags) parts.push(a.flags.length ? `flagged ${listWords(a.flags)}` : 'no flag');
  return parts.length === 0 ? 'everyone' : parts.join(' ');
};

/**
 * A representative person an audience matches (when it can match anyone): for `haven classify
 * --group`, policy previews and the filtering self-check, which ask "what does this group get?".
 */
export const examplePerson = (a: Audience): RequestPerson | null => {
  if ([a.kinds, a.keyStages, a.yearGroups, a.flags, a.groups].some((field) => field !== undefined && field.length === 0)) return null;
  const person: RequestPerson = { kind: a.kinds?.[0] ?? 'pupil', groups: a.groups ? [a.groups[0]!] : [] };
  if (a.yearGroups) person.yearGroup = a.yearGroups[0]!;
  if (a.keyStages) person.keyStage = a.keyStages[0]!;
  if (a.flags) person.flags = [a.flags[0]!];
  return person;
};
