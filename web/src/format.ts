/** How Haven writes dates, names and codes for people in UK schools. */
import type { GroupKind, Person, PersonKind, RoleInfo, YearGroup } from './types.ts';

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

export const formatDateTime = (iso: string | null | undefined): string => {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
};

/** A calendar date (YYYY-MM-DD) such as a date of birth, with no time zone shift. */
export const formatDate = (ymd: string | null | undefined): string => {
  if (!ymd) return '';
  const d = new Date(`${ymd.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? ymd : dateOnly.format(d);
};

export const personName = (p: Pick<Person, 'firstName' | 'lastName'>): string => `${p.firstName} ${p.lastName}`.trim();

/** Surname first, as school registers list people. */
export const personSortName = (p: Pick<Person, 'firstName' | 'lastName'>): string => `${p.lastName}, ${p.firstName}`;

export const KIND_LABELS: Record<PersonKind, string> = {
  pupil: 'Pupil',
  staff: 'Staff',
  parent: 'Parent or carer',
  governor: 'Governor',
  visitor: 'Visitor',
};

export const KIND_PLURALS: Record<PersonKind, string> = {
  pupil: 'Pupils',
  staff: 'Staff',
  parent: 'Parents and carers',
  governor: 'Governors',
  visitor: 'Visitors',
};

export const yearLabel = (y: YearGroup | null | undefined): string => {
  if (!y) return '';
  if (y === 'N') return 'Nursery';
  if (y === 'R') return 'Reception';
  return `Year ${y}`;
};

export const GROUP_KIND_LABELS: Record<GroupKind, string> = {
  year_group: 'Year group',
  key_stage: 'Key stage',
  staff: 'Staff',
  custom: 'Custom',
};

export const roleLabel = (role: string, roles: readonly RoleInfo[] | undefined): string =>
  roles?.find((r) => r.role === role)?.label ?? role.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;

export const number = (n: number): string => n.toLocaleString('en-GB');
