import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageOn, normaliseUpn, validatePerson, type PersonInput } from './person-validation.ts';

const NOW = new Date('2026-03-02T09:00:00.000Z');
/** A real-looking UPN (LA 801, known valid example from the DfE guidance). */
const UPN = 'B801200005001';

const pupil = (over: Partial<PersonInput> = {}): PersonInput => ({
  kind: 'pupil',
  firstName: 'Amara',
  lastName: 'Adeyemi',
  upn: UPN,
  yearGroup: '5',
  dateOfBirth: '2015-06-01',
  ...over,
});
const staff = (over: Partial<PersonInput> = {}): PersonInput => ({
  kind: 'staff',
  firstName: 'Theo',
  lastName: 'Roberts',
  email: 'troberts@example-school.sch.uk',
  staffRole: 'Class teacher',
  ...over,
});
const fieldsWithErrors = (input: PersonInput) => validatePerson(input, NOW).errors.map((e) => e.field);
const messageFor = (input: PersonInput, field: string) => validatePerson(input, NOW).errors.find((e) => e.field === field)?.message;

describe('validatePerson', () => {
  it('normalises a pupil: trimmed names, UPN upper-cased without spaces, year group and ISO date', () => {
    const r = validatePerson(
      pupil({ firstName: '  Amara ', lastName: '\tAdeyemi ', upn: ' b801 2000 05001 ', yearGroup: 'Year 5', dateOfBirth: '01/06/2015' }),
      NOW,
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.person, {
      kind: 'pupil',
      firstName: 'Amara',
      lastName: 'Adeyemi',
      upn: UPN,
      yearGroup: '5',
      dateOfBirth: '2015-06-01',
      email: null,
      staffRole: null,
    });
  });

  it('accepts a pupil email, lower-cased, and the midnight time Excel adds to dates', () => {
    const r = validatePerson(pupil({ email: ' Amara.A@Pupils.Example.sch.uk ', dateOfBirth: '01/06/2015 00:00:00' }), NOW);
    assert.equal(r.person?.email, 'amara.a@pupils.example.sch.uk');
    assert.equal(r.person?.dateOfBirth, '2015-06-01');
  });

  it('accepts the kind in any case', () => {
    assert.equal(validatePerson(pupil({ kind: ' Pupil ' }), NOW).person?.kind, 'pupil');
  });

  it('requires both names, at most 100 characters, with no control characters', () => {
    assert.deepEqual(fieldsWithErrors(pupil({ firstName: '   ', lastName: null })), ['firstName', 'lastName']);
    assert.equal(messageFor(pupil({ firstName: '' }), 'firstName'), 'First name is required');
    assert.equal(messageFor(pupil({ lastName: 'x'.repeat(101) }), 'lastName'), 'Last name is longer than 100 characters');
    assert.equal(validatePerson(pupil({ lastName: 'x'.repeat(100) }), NOW).errors.length, 0);
    assert.match(messageFor(pupil({ firstName: 'Ama\u0007ra' }), 'firstName') ?? '', /control/);
    assert.match(messageFor(pupil({ firstName: 'Ama\uFFFDra' }), 'firstName') ?? '', /unreadable/);
  });

  it('keeps names that look like SQL or script verbatim', () => {
    const names = ["Robert'); DROP TABLE person;--", "<script>alert('x')</script>", "O'Brien-Ní Bhriain", '李'];
    for (const n of names) assert.equal(validatePerson(pupil({ firstName: n }), NOW).person?.firstName, n);
  });

  it('checks a pupil UPN: required, shape and check letter', () => {
    assert.equal(messageFor(pupil({ upn: '' }), 'upn'), 'UPN is required for pupils');
    assert.match(messageFor(pupil({ upn: 'B80120000500' }), 'upn') ?? '', /13 characters/);
    assert.equal(messageFor(pupil({ upn: 'C801200005001' }), 'upn'), 'UPN check letter should be B, not C');
  });

  it('refuses a UPN on someone who is not a pupil, since the type is probably wrong', () => {
    assert.match(messageFor(staff({ upn: UPN }), 'upn') ?? '', /Only pupils have a UPN/);
  });

  it('requires a known year group for pupils', () => {
    assert.equal(messageFor(pupil({ yearGroup: undefined }), 'yearGroup'), 'Year group is required for pupils');
    assert.equal(messageFor(pupil({ yearGroup: 'Year 15' }), 'yearGroup'), 'Year group "Year 15" is not recognised (use N, R or 1 to 13)');
    assert.equal(validatePerson(pupil({ yearGroup: 'Reception', dateOfBirth: '2021-01-01' }), NOW).person?.yearGroup, 'R');
  });

  it('requires a real date of birth, not in the future, for a pupil aged 2 to 21', () => {
    assert.equal(messageFor(pupil({ dateOfBirth: '' }), 'dateOfBirth'), 'Date of birth is required for pupils');
    assert.match(messageFor(pupil({ dateOfBirth: '31/02/2015' }), 'dateOfBirth') ?? '', /not a real date/);
    assert.match(messageFor(pupil({ dateOfBirth: 'last Tuesday' }), 'dateOfBirth') ?? '', /not a real date/);
    assert.equal(messageFor(pupil({ dateOfBirth: '2026-03-03' }), 'dateOfBirth'), 'Date of birth is in the future');
    assert.equal(
      messageFor(pupil({ dateOfBirth: '1990-01-01' }), 'dateOfBirth'),
      'Date of birth makes this pupil 36 years old; a pupil must be aged 2 to 21',
    );
    assert.equal(
      messageFor(pupil({ dateOfBirth: '2025-01-01' }), 'dateOfBirth'),
      'Date of birth makes this pupil 1 year old; a pupil must be aged 2 to 21',
    );
    // The edges: two today, and 21 until the day before the 22nd birthday.
    assert.equal(validatePerson(pupil({ dateOfBirth: '2024-03-02' }), NOW).errors.length, 0);
    assert.equal(validatePerson(pupil({ dateOfBirth: '2004-03-03' }), NOW).errors.length, 0);
    assert.equal(fieldsWithErrors(pupil({ dateOfBirth: '2004-03-02' })).length, 1);
    assert.equal(fieldsWithErrors(pupil({ dateOfBirth: '2024-03-03' })).length, 1);
  });

  it('never repeats a date of birth, email or UPN in its messages', () => {
    const r = validatePerson(pupil({ upn: 'C801200005001', dateOfBirth: '1990-01-01', email: 'not-an@email' }), NOW);
    const text = r.errors.map((e) => e.message).join(' ');
    assert.equal(r.errors.length, 3);
    for (const secret of ['1990', '801200005001', 'not-an']) assert.ok(!text.includes(secret), `${secret} leaked into: ${text}`);
  });

  it('requires a valid email for staff, parents and governors, lower-cased', () => {
    for (const kind of ['staff', 'parent', 'governor']) {
      assert.match(messageFor(staff({ kind, email: '' }), 'email') ?? '', /^Email is required for/);
      assert.equal(validatePerson(staff({ kind, email: 'A.Person@Example.ORG' }), NOW).person?.email, 'a.person@example.org');
    }
    assert.equal(messageFor(staff({ email: 'not an email' }), 'email'), 'Email address is not valid');
    assert.equal(messageFor(staff({ email: 'a@b' }), 'email'), 'Email address is not valid');
    assert.equal(messageFor(staff({ email: `${'a'.repeat(250)}@x.uk` }), 'email'), 'Email is longer than 254 characters');
  });

  it('lets visitors come with or without an email', () => {
    assert.equal(validatePerson(staff({ kind: 'visitor', email: null }), NOW).person?.email, null);
    assert.equal(validatePerson(staff({ kind: 'visitor', email: 'v@example.com' }), NOW).person?.email, 'v@example.com');
    assert.equal(messageFor(staff({ kind: 'visitor', email: 'nope' }), 'email'), 'Email address is not valid');
  });

  it('keeps a role of at most 100 characters for people other than pupils', () => {
    assert.equal(
      validatePerson(staff({ staffRole: '  Designated Safeguarding Lead ' }), NOW).person?.staffRole,
      'Designated Safeguarding Lead',
    );
    assert.equal(validatePerson(staff({ staffRole: '' }), NOW).person?.staffRole, null);
    assert.equal(messageFor(staff({ staffRole: 'r'.repeat(101) }), 'staffRole'), 'Role is longer than 100 characters');
  });

  it('drops fields a kind does not use rather than storing them', () => {
    const s = validatePerson(staff({ yearGroup: '7', dateOfBirth: '1980-01-01' }), NOW).person;
    assert.equal(s?.yearGroup, null);
    assert.equal(s?.dateOfBirth, null);
    assert.equal(validatePerson(pupil({ staffRole: 'Digital leader' }), NOW).person?.staffRole, null);
  });

  it('refuses an unknown or missing kind, and still checks the names', () => {
    const r = validatePerson({ kind: 'alien', firstName: '', lastName: 'X' }, NOW);
    assert.equal(r.person, undefined);
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['kind', 'firstName'],
    );
    assert.equal(r.errors[0]?.message, 'Kind "alien" is not one of pupil, staff, parent, governor or visitor');
    assert.match(validatePerson({ kind: undefined, firstName: 'A', lastName: 'B' }, NOW).errors[0]?.message ?? '', /^Kind is required/);
  });

  it('returns no person whenever there is an error', () => {
    const r = validatePerson(pupil({ yearGroup: 'Z' }), NOW);
    assert.equal(r.person, undefined);
    assert.equal(r.errors.length, 1);
  });
});

describe('ageOn and normaliseUpn', () => {
  it('counts whole years, a leap-day birthday arriving on 1 March', () => {
    assert.equal(ageOn('2016-02-29', '2026-02-28'), 9);
    assert.equal(ageOn('2016-02-29', '2026-03-01'), 10);
    assert.equal(ageOn('2015-06-01', '2026-06-01'), 11);
    assert.equal(ageOn('2015-06-02', '2026-06-01'), 10);
  });

  it('upper-cases and removes every kind of space', () => {
    assert.equal(normaliseUpn(' b801\u00a02000 05001\t'), UPN);
  });
});
