/**
 * A demo school for first starts, so a new user sees real screens with real-looking data:
 * pupils from Reception to Year 6 with valid UPNs, their parents, staff and a custom group.
 * Names are invented; the UPNs use LA 999 (not a real authority).
 */
import { upnCheckLetter, type Person, type YearGroup } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, systemContext, type ServiceDeps } from './context.ts';
import { syncManagedGroups } from './managed-groups.ts';
import { createTenancyService } from './tenancy-service.ts';

const FIRST = [
  'Amara',
  'Oliver',
  'Isla',
  'Mohammed',
  'Freya',
  'Jacob',
  'Zofia',
  'Noah',
  'Aisha',
  'Harry',
  'Mia',
  'Leo',
  'Priya',
  'George',
  'Ella',
  'Kacper',
  'Grace',
  'Yusuf',
  'Lily',
  'Arthur',
  'Sienna',
  'Theo',
  'Maryam',
  'Alfie',
];
const LAST = [
  'Adeyemi',
  'Brown',
  'Chowdhury',
  'Davies',
  'Evans',
  'Fraser',
  'Green',
  'Hussain',
  'Iqbal',
  'Jones',
  'Kowalski',
  'Lewis',
  'Mensah',
  'Nowak',
  'Okafor',
  'Patel',
  'Quinn',
  'Roberts',
  'Smith',
  'Taylor',
  'Usman',
  'Walker',
  'Williams',
  'Young',
];
const YEARS: YearGroup[] = ['R', '1', '2', '3', '4', '5', '6'];
const STAFF: [string, string, string][] = [
  ['Helen', 'Marsh', 'Headteacher'],
  ['Daniel', 'Okoro', 'Designated Safeguarding Lead'],
  ['Sarah', 'Whitfield', 'Deputy DSL, Year 6 teacher'],
  ['Tom', 'Reeve', 'IT and network manager'],
  ['Grace', 'Lindqvist', 'School business manager'],
  ['Imran', 'Sheikh', 'Year 3 teacher'],
  ['Lucy', 'Barnes', 'Reception teacher'],
  ['Martin', 'Cole', 'Teaching assistant'],
];

const upnFor = (serial: number): string => {
  // LA 999, establishment 2000, issued in 2019, then the serial.
  const rest = `999200019${String(serial).padStart(3, '0')}`;
  return `${upnCheckLetter(rest)}${rest}`;
};

export const seedDemoSchool = async (deps: ServiceDeps): Promise<{ schoolId: string; created: boolean }> => {
  const existing = await deps.store.tenancy.listSchools('all');
  if (existing.length > 0) return { schoolId: existing[0]!.id, created: false };
  const ctx = systemContext('demo-seed');
  const school = await createTenancyService(deps).createSchool(ctx, { name: 'Oakfield Primary School', urn: '999001' });
  const at = nowIso(deps);
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    const add = async (p: Omit<Person, 'id' | 'schoolId' | 'leftAt' | 'createdAt' | 'updatedAt'>) => {
      const person: Person = { ...p, id: deps.newId(), schoolId: school.id, leftAt: null, createdAt: at, updatedAt: at };
      await tx.people.create(person);
      await syncManagedGroups(tx, person, at, deps.newId);
      return person;
    };
    let serial = 1;
    const pupils: Person[] = [];
    for (const [y, year] of YEARS.entries()) {
      for (let i = 0; i < 6; i++) {
        const n = y * 6 + i;
        // Born in the right academic year for their year group (Reception: turning 5 this year).
        const birthYear = now.getUTCFullYear() - 5 - y - (now.getUTCMonth() >= 8 ? 0 : 1);
        const dob = `${birthYear}-${String(((n * 5) % 12) + 1).padStart(2, '0')}-${String(((n * 7) % 27) + 1).padStart(2, '0')}`;
        pupils.push(
          await add({
            kind: 'pupil',
            upn: upnFor(serial++),
            firstName: FIRST[n % FIRST.length]!,
            lastName: LAST[(n * 7) % LAST.length]!,
            yearGroup: year,
            dateOfBirth: dob,
            email: null,
            staffRole: null,
          }),
        );
      }
    }
    for (const [i, pupil] of pupils.entries()) {
      if (i % 3 === 2) continue; // not every family gives an email to the school
      const parent = await add({
        kind: 'parent',
        upn: null,
        firstName: FIRST[(i + 11) % FIRST.length]!,
        lastName: pupil.lastName,
        yearGroup: null,
        dateOfBirth: null,
        email: `parent${i + 1}@example.org`,
        staffRole: null,
      });
      await tx.people.link(parent.id, pupil.id, at);
    }
    for (const [i, [first, last, role]] of STAFF.entries()) {
      await add({
        kind: 'staff',
        upn: null,
        firstName: first,
        lastName: last,
        yearGroup: null,
        dateOfBirth: null,
        email: `staff${i + 1}@oakfield.example.org`,
        staffRole: role,
      });
    }
    await add({
      kind: 'governor',
      upn: null,
      firstName: 'Ruth',
      lastName: 'Ellison',
      yearGroup: null,
      dateOfBirth: null,
      email: 'chair@oakfield.example.org',
      staffRole: 'Chair of governors',
    });
    const club = deps.newId();
    await tx.groups.create({ id: club, schoolId: school.id, name: 'Eco Club', kind: 'custom', managed: false, createdAt: at });
    for (const p of pupils.filter((_, i) => i % 4 === 0)) await tx.groups.addMember(club, p.id);
    await recordAudit(tx, ctx, at, {
      action: 'demo.seeded',
      resourceType: 'school',
      resourceId: school.id,
      schoolId: school.id,
      detail: { pupils: pupils.length },
    });
  });
  return { schoolId: school.id, created: true };
};
