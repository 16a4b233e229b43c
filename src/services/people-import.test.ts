import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { aesSecretBox, argon2PasswordHasher, otplibTotp } from '../adapters/index.ts';
import type { AuditEntry, Person, Store } from '../core/index.ts';
import { createStore, migrateToLatest, openDatabase, type Database } from '../storage/index.ts';
import { DEFAULT_AUTH_SETTINGS, systemContext, type ServiceDeps } from './context.ts';
import { importPeople, MAX_IMPORT_ROWS, MAX_REPORTED_ERRORS, type ImportPeopleInput, type ImportReport } from './people-import.ts';

const NOW = '2026-03-02T09:00:00.000Z';
const fixture = (name: string) => readFileSync(new URL(`../../test-fixtures/people/${name}`, import.meta.url));

/** A valid UPN for LA 999 (not a real authority): check letter from weights 2–13 on the other 12 characters, mod 23. */
const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';
const makeUpn = (establishment: number, serial: number): string => {
  const rest = `999${String(establishment).padStart(4, '0')}24${String(serial).padStart(3, '0')}`;
  let sum = 0;
  for (let i = 0; i < rest.length; i++) sum += Number(rest[i]) * (i + 2);
  return `${UPN_LETTERS[sum % 23]}${rest}`;
};

interface School {
  db: Database;
  deps: ServiceDeps;
  schoolId: string;
  run(csv: Buffer | string, options?: Partial<Omit<ImportPeopleInput, 'schoolId' | 'csv'>>): Promise<ImportReport>;
  people(): Promise<Person[]>;
  byUpn(upn: string): Promise<Person>;
  byEmail(kind: Person['kind'], email: string): Promise<Person>;
  groupMembers(name: string): Promise<string[]>;
  audit(): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

const openSchool = async (): Promise<School> => {
  const db = openDatabase({ dataDir: '', sqliteFile: ':memory:' });
  await migrateToLatest(db);
  const store = createStore(db.kysely, db.engine);
  await store.tenancy.createTrust({ id: 'trust', name: 'Test Trust', createdAt: NOW });
  const schoolId = randomUUID();
  await store.tenancy.createSchool({
    id: schoolId,
    trustId: 'trust',
    name: 'Alpha Primary',
    urn: '100001',
    createdAt: NOW,
    updatedAt: NOW,
  });
  const deps: ServiceDeps = {
    store,
    clock: { now: () => new Date(NOW) },
    newId: randomUUID,
    hasher: argon2PasswordHasher(),
    totp: otplibTotp(),
    secretBox: aesSecretBox(randomBytes(32)),
    auth: DEFAULT_AUTH_SETTINGS,
  };
  const ctx = { ...systemContext(), actorLabel: 'office@alpha.sch.uk' };
  return {
    db,
    deps,
    schoolId,
    run: (csv, options = {}) => importPeople(deps, ctx, { schoolId, csv, dryRun: false, skipInvalid: false, ...options }),
    people: async () => (await store.people.list({ schoolId, includeLeft: true, limit: 1_000_000, offset: 0 })).items,
    async byUpn(upn) {
      const p = await store.people.findByUpn(schoolId, upn);
      assert.ok(p, `pupil ${upn} exists`);
      return p;
    },
    async byEmail(kind, email) {
      const p = await store.people.findByEmail(schoolId, kind, email);
      assert.ok(p, `${kind} ${email} exists`);
      return p;
    },
    async groupMembers(name) {
      const g = await store.groups.findByName(schoolId, name);
      if (!g) return [];
      return (await store.groups.members(g.id)).map((p) => `${p.firstName} ${p.lastName}`).sort();
    },
    audit: async () => (await store.audit.list({ limit: 1_000_000 })).reverse(),
    close: () => db.close(),
  };
};

/** Runs fn against a fresh school and closes it afterwards. */
const withSchool = async (fn: (s: School) => Promise<void>) => {
  const s = await openSchool();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
};

const rejectsWith = async (promise: Promise<unknown>, code: string, status: number, message: RegExp | string) => {
  let caught: { code?: string; status?: number; message: string; details?: unknown } | undefined;
  try {
    await promise;
  } catch (e) {
    caught = e as typeof caught;
  }
  assert.ok(caught, `expected ${code}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
};

const nothingWritten = async (s: School) => {
  assert.equal((await s.people()).length, 0, 'no people');
  assert.equal((await s.deps.store.groups.list(s.schoolId)).length, 0, 'no groups');
  assert.equal((await s.audit()).length, 0, 'no audit entries');
};

describe('importPeople: a clean MIS export', () => {
  let s: School;
  before(async () => {
    s = await openSchool();
  });
  after(() => s.close());

  it('creates pupils, staff, parents, a governor and a visitor, listing the columns it ignored', async () => {
    const report = await s.run(fixture('clean-mis-export.csv'));
    assert.deepEqual(report, {
      totalRows: 29,
      validRows: 29,
      invalidRows: 0,
      created: 29,
      updated: 0,
      unchanged: 0,
      applied: true,
      ignoredColumns: ['Preferred Forename', 'Reg Group', 'Admission Date'],
      errors: [],
    });
    const people = await s.people();
    const count = (kind: string) => people.filter((p) => p.kind === kind).length;
    assert.deepEqual([count('pupil'), count('staff'), count('parent'), count('governor'), count('visitor')], [20, 4, 3, 1, 1]);
  });

  it('stores the fields normalised: UPN, year group, ISO dates, lower-case emails, names with accents and commas', async () => {
    const arthur = await s.byUpn('T999200119119');
    assert.equal(arthur.lastName, 'Smith, Jr');
    assert.equal(arthur.firstName, 'Arthur');
    assert.equal(arthur.yearGroup, '4');
    assert.equal(arthur.dateOfBirth, '2016-06-13');
    assert.equal((await s.byUpn('U999200119112')).yearGroup, '6'); // "Year 6"
    assert.equal((await s.byUpn('T999200118118')).yearGroup, 'R'); // "Reception"
    assert.equal((await s.byUpn('X999200114107')).firstName, 'Łukasz');
    assert.equal((await s.byUpn('T999200117117')).lastName, 'Ní Bhriain');
    const head = await s.byEmail('staff', 's.walker@example-school.sch.uk');
    assert.equal(head.staffRole, 'Headteacher');
    assert.equal((await s.byEmail('staff', 'troberts@example-school.sch.uk')).staffRole, 'Class teacher, Year 4');
    assert.equal((await s.byEmail('governor', 'b.usman@example.org')).staffRole, 'Chair of governors');
    const visitor = (await s.people()).find((p) => p.kind === 'visitor');
    assert.equal(visitor?.email, null);
  });

  it('links parents to their children from UPNs separated by ; and |', async () => {
    const children = async (email: string) =>
      (await s.deps.store.people.childrenOf((await s.byEmail('parent', email)).id)).map((c) => c.firstName).sort();
    assert.deepEqual(await children('tolu.adeyemi@example.com'), ['Amara']);
    assert.deepEqual(await children('anna.k@example.com'), ['Zofia', 'Łukasz']);
    assert.deepEqual(await children('dan.smith@example.com'), ['Arthur', 'Isla']);
  });

  it('fills the year-group, key-stage and all-staff groups', async () => {
    assert.deepEqual(await s.groupMembers('Reception'), ['Amara Adeyemi', 'Grace Quinn', 'Oliver Brown']);
    assert.equal((await s.groupMembers('EYFS')).length, 3);
    assert.equal((await s.groupMembers('KS1')).length, 6);
    assert.equal((await s.groupMembers('KS2')).length, 11);
    assert.deepEqual(await s.groupMembers('All staff'), ['Alfie Young', 'Maryam Taylor', 'Sienna Walker', 'Theo Roberts']);
    const groups = await s.deps.store.groups.list(s.schoolId);
    assert.ok(groups.every((g) => g.managed));
  });

  it('audits each person with field names only, and the import with its counts', async () => {
    const entries = await s.audit();
    const created = entries.filter((e) => e.action === 'person.created');
    assert.equal(created.length, 29);
    const amara = await s.byUpn('Y999200114100');
    const entry = created.find((e) => e.resourceId === amara.id);
    assert.deepEqual(entry?.detail, { via: 'import', fields: ['kind', 'upn', 'firstName', 'lastName', 'yearGroup', 'dateOfBirth'] });
    assert.equal(entry?.actorLabel, 'office@alpha.sch.uk');
    assert.equal(entry?.schoolId, s.schoolId);
    const summary = entries.filter((e) => e.action === 'people.imported');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]?.resourceType, 'school');
    assert.deepEqual(summary[0]?.detail, { totalRows: 29, validRows: 29, invalidRows: 0, created: 29, updated: 0, unchanged: 0 });
    // No values: a date of birth, name or email never reaches the audit log.
    const all = JSON.stringify(entries);
    for (const value of ['2020-11-14', '14/11/2020', 'Adeyemi', 'example.com', 'Y999200114100']) assert.ok(!all.includes(value), value);
  });

  it('is idempotent: the same file again creates nothing and counts every row as unchanged', async () => {
    const auditBefore = (await s.audit()).length;
    const report = await s.run(fixture('clean-mis-export.csv'));
    assert.equal(report.created, 0);
    assert.equal(report.updated, 0);
    assert.equal(report.unchanged, 29);
    assert.equal(report.applied, true);
    assert.equal((await s.people()).length, 29);
    const added = (await s.audit()).slice(auditBefore);
    assert.deepEqual(
      added.map((e) => e.action),
      ['people.imported'],
    );
  });

  it('a dry run against the database counts what would change and writes nothing', async () => {
    const auditBefore = (await s.audit()).length;
    const changed = fixture('clean-mis-export.csv')
      .toString('utf8')
      .replace('Y999200114100,Adeyemi,Amara,Amara,R,', 'Y999200114100,Adeyemi,Amara,Amara,1,')
      .concat(`${makeUpn(2001, 500)},New,Pupil,,3,01/01/2017,Student,,,,3P,\n`);
    const report = await s.run(changed, { dryRun: true });
    assert.deepEqual([report.created, report.updated, report.unchanged, report.applied], [1, 1, 28, false]);
    assert.equal((await s.people()).length, 29);
    assert.equal((await s.byUpn('Y999200114100')).yearGroup, 'R');
    assert.equal((await s.audit()).length, auditBefore);
  });

  it('updates changed fields, moving a pupil between year-group groups, and audits the field names', async () => {
    const changed = fixture('clean-mis-export.csv')
      .toString('utf8')
      .replace('Y999200114100,Adeyemi,Amara,Amara,R,', 'Y999200114100,Adeyemi,Amara,Amara,1,')
      .replace('"Class teacher, Year 4"', 'Deputy head');
    const report = await s.run(changed);
    assert.deepEqual([report.created, report.updated, report.unchanged], [0, 2, 27]);
    const amara = await s.byUpn('Y999200114100');
    assert.equal(amara.yearGroup, '1');
    assert.equal(amara.updatedAt, NOW);
    assert.ok(!(await s.groupMembers('Reception')).includes('Amara Adeyemi'));
    assert.ok((await s.groupMembers('Year 1')).includes('Amara Adeyemi'));
    assert.ok(!(await s.groupMembers('EYFS')).includes('Amara Adeyemi'));
    assert.ok((await s.groupMembers('KS1')).includes('Amara Adeyemi'));
    assert.equal((await s.byEmail('staff', 'troberts@example-school.sch.uk')).staffRole, 'Deputy head');
    const updates = (await s.audit()).filter((e) => e.action === 'person.updated');
    assert.deepEqual(updates.find((e) => e.resourceId === amara.id)?.detail, { via: 'import', fields: ['yearGroup'] });
    assert.equal(updates.length, 2);
  });

  it('re-activates a person who had left and appears again', async () => {
    const amara = await s.byUpn('Y999200114100');
    await s.deps.store.people.update(amara.id, { leftAt: '2026-01-01T00:00:00.000Z' }, NOW);
    const report = await s.run('UPN,Forename,Surname,Year,DOB\nY999200114100,Amara,Adeyemi,1,14/11/2020\n');
    assert.deepEqual([report.created, report.updated, report.unchanged], [0, 1, 0]);
    assert.equal((await s.byUpn('Y999200114100')).leftAt, null);
    const last = (await s.audit()).filter((e) => e.action === 'person.updated').at(-1);
    assert.deepEqual(last?.detail, { via: 'import', fields: ['leftAt'] });
  });

  it('never deletes or marks as left the people a file leaves out', async () => {
    await s.run('UPN,Forename,Surname,Year,DOB\nY999200114100,Amara,Adeyemi,1,14/11/2020\n');
    const people = await s.people();
    assert.equal(people.length, 29);
    assert.ok(people.every((p) => p.leftAt === null));
  });

  it('keeps fields the file has no column for (a pupil-only file does not wipe a staff role)', async () => {
    const report = await s.run('Type,Forename,Surname,Email\nstaff,Theo,Roberts,troberts@example-school.sch.uk\n');
    assert.equal(report.unchanged, 1);
    assert.equal((await s.byEmail('staff', 'troberts@example-school.sch.uk')).staffRole, 'Deputy head');
  });

  it('links a parent to a pupil already at the school, then finds nothing new', async () => {
    const csv = 'Type,Forename,Surname,Email,Children\nParent,Tolu,Adeyemi,tolu.adeyemi@example.com,Y999200114100 T999200115115\n';
    const first = await s.run(csv);
    assert.deepEqual([first.updated, first.unchanged], [1, 0]);
    const parent = await s.byEmail('parent', 'tolu.adeyemi@example.com');
    assert.deepEqual((await s.deps.store.people.childrenOf(parent.id)).map((c) => c.firstName).sort(), ['Amara', 'Ella']);
    const last = (await s.audit()).filter((e) => e.action === 'person.updated').at(-1);
    assert.deepEqual(last?.detail, { via: 'import', fields: ['children'] });
    const again = await s.run(csv);
    assert.deepEqual([again.updated, again.unchanged], [0, 1]);
  });

  it('refuses a new pupil whose email another pupil already has', async () => {
    const amara = await s.byUpn('Y999200114100');
    await s.deps.store.people.update(amara.id, { email: 'amara@pupils.example.sch.uk' }, NOW);
    const report = await s.run(
      `UPN,Forename,Surname,Year,DOB,Email\n${makeUpn(7, 1)},Copy,Cat,2,01/01/2018,Amara@pupils.example.sch.uk\n`,
      {
        dryRun: true,
      },
    );
    assert.deepEqual(report.errors, [{ line: 2, field: 'email', message: 'Another pupil at this school already uses this email' }]);
  });

  it('keeps a visitor without an email as one person across imports', async () => {
    const report = await s.run('Type,Forename,Surname\nvisitor,Ray,Williams\n');
    assert.equal(report.unchanged, 1);
    assert.equal((await s.people()).filter((p) => p.kind === 'visitor').length, 1);
  });
});

describe('importPeople: rows with errors', () => {
  const EXPECTED_ERRORS = [
    { line: 3, field: 'first_name', message: 'First name is required' },
    { line: 4, field: 'upn', message: 'UPN check letter should be X, not Y' },
    { line: 5, field: 'year_group', message: 'Year group "15" is not recognised (use N, R or 1 to 13)' },
    { line: 6, field: 'date_of_birth', message: 'Date of birth is in the future' },
    { line: 7, field: 'date_of_birth', message: 'Date of birth makes this pupil 36 years old; a pupil must be aged 2 to 21' },
    { line: 8, field: 'upn', message: 'This UPN is already on line 2' },
    { line: 9, field: 'email', message: 'Email is required for staff' },
    { line: 10, field: 'email', message: 'Email address is not valid' },
    { line: 11, field: 'type', message: 'Type "alien" is not recognised (use pupil, staff, parent, governor or visitor)' },
    { line: 12, field: null, message: 'This row has 4 fields but the header has 9: check for a separator inside an unquoted value' },
    { line: 13, field: 'parent_of', message: 'The child UPN matches no pupil in this file or at this school' },
    { line: 15, field: 'email', message: 'This email is already used by the staff row on line 14' },
    { line: 16, field: 'date_of_birth', message: 'Date of birth is not a real date (use DD/MM/YYYY or YYYY-MM-DD)' },
    { line: 17, field: 'upn', message: 'UPN is required for pupils' },
    { line: 19, field: 'parent_of', message: 'The child UPN belongs to the pupil on line 3, which has errors' },
  ];

  it('rejects the whole file, naming each line and column, and writes nothing', () =>
    withSchool(async (s) => {
      const e = await rejectsWith(s.run(fixture('row-errors.csv')), 'IMPORT_HAS_ERRORS', 422, '15 rows have errors; nothing was imported');
      const report = e.details as ImportReport;
      assert.deepEqual(report.errors, EXPECTED_ERRORS);
      assert.deepEqual([report.totalRows, report.validRows, report.invalidRows, report.applied], [19, 4, 15, false]);
      await nothingWritten(s);
    }));

  it('a dry run reports the same errors and what the valid rows would do', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('row-errors.csv'), { dryRun: true });
      assert.deepEqual(report.errors, EXPECTED_ERRORS);
      assert.deepEqual([report.created, report.updated, report.unchanged, report.applied], [4, 0, 0, false]);
      await nothingWritten(s);
    }));

  it('skipInvalid imports only the good rows, with their parent links', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('row-errors.csv'), { skipInvalid: true });
      assert.deepEqual([report.created, report.validRows, report.invalidRows, report.applied], [4, 4, 15, true]);
      assert.deepEqual(report.errors, EXPECTED_ERRORS);
      assert.deepEqual((await s.people()).map((p) => p.firstName).sort(), ['Amy', 'Max', 'Quin', 'Sam']);
      const sam = await s.byEmail('parent', 'sam@example.com');
      assert.deepEqual((await s.deps.store.people.childrenOf(sam.id)).map((c) => c.firstName).sort(), ['Amy', 'Quin']);
      const summary = (await s.audit()).find((e) => e.action === 'people.imported');
      assert.equal(summary?.detail?.invalidRows, 15);
    }));

  it('lists at most 1,000 errors and then says how many more there are', () =>
    withSchool(async (s) => {
      const rows = Array.from({ length: 1_200 }, (_, i) => `${makeUpn(3, i % 1000)},,Nameless,3,2016-01-01`);
      const report = await s.run(['upn,first_name,last_name,year_group,date_of_birth', ...rows].join('\n'), { dryRun: true });
      assert.equal(report.invalidRows, 1_200);
      assert.equal(report.errors.length, MAX_REPORTED_ERRORS + 1);
      // 1,200 missing names, and 200 repeated UPNs: 1,400 errors, 1,000 shown.
      assert.deepEqual(report.errors.at(-1), {
        line: 1002,
        field: null,
        message: '…and 400 more errors from this line on (fix these and check the file again to see them)',
      });
    }));
});

describe('importPeople: encodings, line endings and awkward CSV', () => {
  it('reads CRLF files and counts lines through a quoted field with a line break in it', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('crlf.csv'), { dryRun: true });
      const notADate = 'Date of birth is not a real date (use DD/MM/YYYY or YYYY-MM-DD)';
      assert.deepEqual(report.errors, [
        { line: 2, field: 'date_of_birth', message: notADate }, // a row on lines 2 and 3
        { line: 5, field: 'date_of_birth', message: notADate },
      ]);
      assert.deepEqual(report.ignoredColumns, ['Notes']);
      assert.equal(report.validRows, 1);
    }));

  it('gives physical line numbers after multi-line quoted fields and blank lines', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('multiline.csv'), { skipInvalid: true });
      assert.deepEqual(
        report.errors.map((e) => [e.line, e.field]),
        [
          [7, 'year_group'],
          [8, 'year_group'], // the row starts on line 8 and runs to line 10
          [11, 'year_group'],
        ],
      );
      assert.equal(report.totalRows, 5);
      assert.equal(report.created, 2);
      assert.deepEqual(report.ignoredColumns, ['notes']);
    }));

  it('skips a UTF-8 byte-order mark so the first column is still recognised', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('bom.csv'));
      assert.equal(report.created, 2);
      assert.deepEqual(report.ignoredColumns, []);
      assert.deepEqual((await s.people()).map((p) => `${p.firstName} ${p.lastName}`).sort(), ['Zoë Zielińska', 'Øyvind Ødegård']);
    }));

  it('reads Excel "Unicode text": UTF-16LE with a BOM, tab-separated', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('excel-unicode-text.txt'));
      assert.equal(report.created, 3);
      assert.deepEqual(report.ignoredColumns, ['Reg Group']);
      assert.deepEqual((await s.people()).map((p) => `${p.firstName} ${p.lastName}`).sort(), ['Aroha Ngā', 'Siobhán Ó Ceallaigh', '李 王']);
    }));

  it('reads UTF-16BE with a BOM', () =>
    withSchool(async (s) => {
      const le = fixture('excel-unicode-text.txt');
      const be = Buffer.from(le);
      be.swap16();
      assert.equal(be[0], 0xfe);
      assert.equal((await s.run(be, { dryRun: true })).created, 3);
    }));

  it('rejects bytes that are not UTF-8, naming the line, and writes nothing', () =>
    withSchool(async (s) => {
      const csv = Buffer.concat([
        Buffer.from(`UPN,Forename,Surname,Year,DOB\n${makeUpn(5, 1)},Amy,Able,3,2016-01-01\n${makeUpn(5, 2)},Zo`),
        Buffer.from([0xeb]), // "ë" as Windows-1252 writes it
        Buffer.from(`,Patel,3,2016-01-01\n`),
      ]);
      await rejectsWith(s.run(csv), 'VALIDATION_FAILED', 400, /^Line 3 contains characters that are not UTF-8/);
      await nothingWritten(s);
    }));

  it('reads semicolon-separated files as European Excel writes them', () =>
    withSchool(async (s) => {
      const report = await s.run(`UPN;Forename;Surname;Year;DOB\n${makeUpn(6, 1)};Anna;Nowak;2;03.04.2018\n`);
      assert.equal(report.created, 1);
      assert.equal((await s.people())[0]?.dateOfBirth, '2018-04-03');
    }));

  it('stores names that look like SQL or script exactly as written', () =>
    withSchool(async (s) => {
      const report = await s.run(fixture('injection-looking-names.csv'));
      assert.equal(report.created, 4);
      const names = (await s.people()).map((p) => [p.firstName, p.lastName]);
      assert.deepEqual(
        names.sort(),
        [
          ['%_\\', "'; --"],
          ["' OR '1'='1", '=HYPERLINK("http://example.invalid","click")'],
          ["<script>alert('x')</script>", '<img src=x onerror=alert(1)>'],
          ["Robert'); DROP TABLE person;--", 'Tables'],
        ].sort(),
      );
      const found = await s.deps.store.people.list({ schoolId: s.schoolId, search: 'DROP TABLE', limit: 10, offset: 0 });
      assert.equal(found.total, 1);
    }));

  it('matches headers ignoring case, spaces, underscores and hyphens, and type values ignoring case', () =>
    withSchool(async (s) => {
      const csv = [
        'u-p-n,FIRST_NAME,  last name ,Curriculum-Year,birth_date,E-Mail Address,PERSON TYPE,job_title,child upns',
        `${makeUpn(8, 1)},Amy,Able,3,2016-01-01,,STUDENT,,`,
        ',Ben,Baker,,,ben@example.com,Teacher,Caretaker,',
        `,Cat,Cole,,,cat@example.com,carer,,${makeUpn(8, 1)}`,
        ',Dot,Dunn,,,dot@example.com,Trustee,,',
      ].join('\n');
      const report = await s.run(csv);
      assert.deepEqual(report.errors, []);
      assert.equal(report.created, 4);
      assert.deepEqual((await s.people()).map((p) => p.kind).sort(), ['governor', 'parent', 'pupil', 'staff']);
    }));

  it('treats every row as a pupil when there is no type column, and skips blank and comma-only lines', () =>
    withSchool(async (s) => {
      const report = await s.run(`\nUPN,Forename,Surname,Year,DOB\n\n${makeUpn(9, 1)},Amy,Able,N,2022-09-01\n,,,,\n   \n`);
      assert.deepEqual([report.totalRows, report.created], [1, 1]);
      assert.equal((await s.people())[0]?.kind, 'pupil');
      assert.deepEqual(await s.groupMembers('Nursery'), ['Amy Able']);
    }));
});

describe('importPeople: files refused before anything is touched', () => {
  const refused = (name: string, csv: Buffer | string, message: RegExp | string) =>
    it(name, () =>
      withSchool(async (s) => {
        await rejectsWith(s.run(csv), 'VALIDATION_FAILED', 400, message);
        await rejectsWith(s.run(csv, { dryRun: true }), 'VALIDATION_FAILED', 400, message);
        await nothingWritten(s);
      }),
    );

  refused('an empty file', '', 'The file is empty');
  refused('a file of blank lines', Buffer.from('\r\n \r\n'), 'The file is empty');
  refused('a header with no rows', 'UPN,Forename,Surname,Year,DOB\n', 'The file has a header row but no people under it');
  refused(
    'no name columns',
    `UPN,Year,DOB\n${makeUpn(1, 1)},3,2016-01-01\n`,
    /^The file has no columns for first name: call it "first_name", "Forename", .* or "Given Name"; last name: call it "last_name", "Surname", /,
  );
  refused(
    'pupils but no UPN column',
    'Forename,Surname,Year,DOB\nAmy,Able,3,2016-01-01\n',
    /^The file has no column for UPN \(with no type column every row is a pupil\)/,
  );
  refused(
    'staff rows but no email column',
    'Type,Forename,Surname\nstaff,Ben,Baker\n',
    'The file has no column for email (the file has staff rows): call it "email" or "Email Address"',
  );
  refused(
    'two columns for the same thing',
    `UPN,Forename,First Name,Surname,Year,DOB\n${makeUpn(1, 1)},Amy,Amy,Able,3,2016-01-01\n`,
    'Columns "Forename" and "First Name" both hold the first name; keep one of them',
  );
  refused(
    'a quote that is never closed',
    `UPN,Forename,Surname,Year,DOB\n${makeUpn(1, 1)},Amy,Able,3,2016-01-01\n\n${makeUpn(1, 2)},"Ben,Baker,3,2016-01-01\n${makeUpn(1, 3)},Cat,Cole,3,2016-01-01\n`,
    'Line 4 opens a quoted field that is never closed: check for a stray " character',
  );
  refused('UTF-16 without a byte-order mark', Buffer.from('UPN,Forename,Surname\n', 'utf16le'), /^Line 1 contains NUL characters/);
  refused('an Excel workbook', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), /^This is a spreadsheet workbook \(\.xlsx\)/);

  it(`more than ${MAX_IMPORT_ROWS.toLocaleString('en-GB')} rows`, () =>
    withSchool(async (s) => {
      const row = `${makeUpn(1, 1)},A,B,3,2016-01-01\n`;
      const csv = `UPN,Forename,Surname,Year,DOB\n${row.repeat(MAX_IMPORT_ROWS + 1)}`;
      await rejectsWith(
        s.run(csv, { dryRun: true }),
        'VALIDATION_FAILED',
        400,
        'The file has more than 200,000 rows; split it into smaller files',
      );
    }));

  it('a school that does not exist', () =>
    withSchool(async (s) => {
      await rejectsWith(
        importPeople(s.deps, systemContext(), {
          schoolId: 'nope',
          csv: fixture('clean-mis-export.csv'),
          dryRun: false,
          skipInvalid: false,
        }),
        'SCHOOL_NOT_FOUND',
        404,
        'School was not found',
      );
    }));
});

describe('importPeople: all or nothing, and progress', () => {
  it("writes nothing if applying fails part-way (a custom group holds a year group's name)", () =>
    withSchool(async (s) => {
      await s.deps.store.groups.create({
        id: randomUUID(),
        schoolId: s.schoolId,
        name: 'Year 4',
        kind: 'custom',
        managed: false,
        createdAt: NOW,
      });
      await rejectsWith(s.run(fixture('clean-mis-export.csv')), 'CONFLICT', 409, /custom group called "Year 4"/);
      assert.equal((await s.people()).length, 0);
      assert.equal((await s.deps.store.groups.list(s.schoolId)).length, 1);
      assert.equal((await s.audit()).length, 0);
    }));

  it('turns a UPN added by someone else mid-import into a conflict, and writes nothing', () =>
    withSchool(async (s) => {
      const real = s.deps.store;
      let raced = false;
      const racing: Store = {
        ...real,
        transaction: (fn) =>
          real.transaction((tx) =>
            fn({
              ...tx,
              people: {
                ...tx.people,
                async create(p) {
                  if (!raced) {
                    raced = true; // another request creates the same pupil first
                    await tx.people.create({ ...p, id: randomUUID() });
                  }
                  await tx.people.create(p);
                },
              },
            }),
          ),
      };
      const ctx = systemContext();
      const input = { schoolId: s.schoolId, csv: fixture('clean-mis-export.csv'), dryRun: false, skipInvalid: false };
      await rejectsWith(
        importPeople({ ...s.deps, store: racing }, ctx, input),
        'CONFLICT',
        409,
        /while the import ran; nothing was imported/,
      );
      assert.ok(raced);
      await nothingWritten(s);
    }));

  it('reports progress at least every 500 rows while checking and applying a 5,000-row file', () =>
    withSchool(async (s) => {
      const years = ['R', '1', '2', '3', '4', '5', '6'];
      const rows = Array.from({ length: 5_000 }, (_, i) => {
        const y = years[i % 7]!;
        const born = 2026 - 5 - (y === 'R' ? 0 : Number(y));
        return `${makeUpn(100 + Math.floor(i / 1000), i % 1000)},Pupil${i},Family${i % 97},${y},${born}-03-01`;
      });
      const csv = ['UPN,Forename,Surname,NC Year,DOB', ...rows].join('\r\n');

      const dry: [number, number][] = [];
      const planned = await s.run(csv, { dryRun: true, onProgress: (done, total) => dry.push([done, total]) });
      assert.equal(planned.created, 5_000);
      assert.ok(dry.every(([, total]) => total === 5_000));
      assert.deepEqual(dry.at(-1), [5_000, 5_000]);
      assert.ok(dry.length >= 10);

      const calls: [number, number][] = [];
      const report = await s.run(csv, { onProgress: (done, total) => calls.push([done, total]) });
      assert.equal(report.created, 5_000);
      // Checking the rows is the first half of the work, applying them the second.
      assert.ok(calls.every(([, total]) => total === 10_000));
      assert.deepEqual(calls.at(-1), [10_000, 10_000]);
      let previous = 0;
      for (const [done] of calls) {
        assert.ok(done > previous && done - previous <= 500, `progress went from ${previous} to ${done}`);
        previous = done;
      }
      assert.equal((await s.groupMembers('Year 3')).length, 714);
      assert.equal((await s.audit()).filter((e) => e.action === 'person.created').length, 5_000);

      const again = await s.run(csv);
      assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 5_000]);
    }));
});
