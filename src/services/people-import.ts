/**
 * Imports a school's people from a MIS export (SIMS, Arbor, Bromcom, ScholarPack… or a
 * spreadsheet), validated row by row, all-or-nothing, and safe to run again: pupils are matched
 * by UPN, everyone else by (kind, email), so re-importing the same file changes nothing. People
 * missing from the file are never deleted; a person who had left and appears again returns.
 *
 * Flow: decode bytes (UTF-8, or UTF-16 with a BOM) → parse (csv-parse, streaming, yielding to
 * the event loop so the DNS filter and proxy in the same process keep answering) → map the
 * header → check every row (validatePerson, duplicates in the file, parent links, conflicts with
 * the database) → report, or apply every valid row in one transaction with an audit entry per
 * changed person and one for the import.
 */
import { parse } from 'csv-parse';
import {
  DomainError,
  invalid,
  normaliseUpn,
  notFound,
  quoteValue,
  upnProblem,
  validatePerson,
  type NormalisedPerson,
  type Person,
  type PersonFields,
  type PersonInput,
  type PersonKind,
  type Store,
} from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import type { RequestContext, ServiceDeps } from './context.ts';
import { syncManagedGroups, type ManagedGroupCache } from './managed-groups.ts';

export interface ImportError {
  /** Physical line in the file where the row starts (the header is line 1). */
  line: number;
  /** The column the problem is in, by its canonical name (first_name, upn, …); null for the whole row. */
  field: string | null;
  message: string;
}

export interface ImportReport {
  totalRows: number;
  validRows: number;
  invalidRows: number;
  created: number;
  updated: number;
  unchanged: number;
  /** True when valid rows were written; false for a dry run. */
  applied: boolean;
  /** Header names, as written in the file, that Haven does not use. */
  ignoredColumns: string[];
  /** Sorted by line; at most MAX_REPORTED_ERRORS, then one entry saying how many more there are. */
  errors: ImportError[];
}

export interface ImportPeopleInput {
  schoolId: string;
  csv: Buffer | string;
  /** Check everything and count what would change, but write nothing. */
  dryRun: boolean;
  /** Import the valid rows even if some rows have errors (they are listed in the report). */
  skipInvalid: boolean;
  /** Called at least every PROGRESS_EVERY rows and at the end: checking rows, then applying them. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export const MAX_IMPORT_ROWS = 200_000;
export const MAX_REPORTED_ERRORS = 1_000;
export const PROGRESS_EVERY = 500;

export type ImportColumn =
  'upn' | 'first_name' | 'last_name' | 'year_group' | 'date_of_birth' | 'email' | 'type' | 'staff_role' | 'parent_of';

/**
 * The columns Haven reads, with the names MIS exports give them. Headers match ignoring case,
 * spaces, underscores, hyphens and full stops. Shown to users as the accepted column names.
 */
export const IMPORT_COLUMNS: Readonly<Record<ImportColumn, { label: string; names: readonly string[] }>> = {
  upn: { label: 'UPN', names: ['upn', 'Unique Pupil Number'] },
  first_name: { label: 'first name', names: ['first_name', 'Forename', 'Legal Forename', 'First Name', 'Given Name'] },
  last_name: { label: 'last name', names: ['last_name', 'Surname', 'Legal Surname', 'Family Name'] },
  year_group: { label: 'year group', names: ['year_group', 'Year', 'NC Year', 'Year Group', 'Curriculum Year'] },
  date_of_birth: { label: 'date of birth', names: ['date_of_birth', 'DOB', 'Birth Date'] },
  email: { label: 'email', names: ['email', 'Email Address'] },
  type: { label: 'type', names: ['type', 'Person Type', 'Kind'] },
  staff_role: { label: 'role', names: ['staff_role', 'Job Title', 'Role'] },
  parent_of: { label: 'children', names: ['parent_of', 'Children', 'Child UPNs'] },
};

/** Values of the type column, lower-cased. */
const TYPE_VALUES: Readonly<Record<string, PersonKind>> = {
  pupil: 'pupil',
  student: 'pupil',
  staff: 'staff',
  teacher: 'staff',
  employee: 'staff',
  parent: 'parent',
  carer: 'parent',
  contact: 'parent',
  governor: 'governor',
  trustee: 'governor',
  visitor: 'visitor',
};

/** Which column each validatePerson field comes from. */
const FIELD_COLUMN: Readonly<Record<keyof PersonInput, ImportColumn>> = {
  kind: 'type',
  firstName: 'first_name',
  lastName: 'last_name',
  upn: 'upn',
  yearGroup: 'year_group',
  dateOfBirth: 'date_of_birth',
  email: 'email',
  staffRole: 'staff_role',
};

type StoredField = keyof NormalisedPerson;
const COLUMN_FIELD: Readonly<Partial<Record<ImportColumn, StoredField>>> = {
  upn: 'upn',
  first_name: 'firstName',
  last_name: 'lastName',
  year_group: 'yearGroup',
  date_of_birth: 'dateOfBirth',
  email: 'email',
  staff_role: 'staffRole',
};
const FIELD_ORDER: readonly StoredField[] = ['kind', 'upn', 'firstName', 'lastName', 'yearGroup', 'dateOfBirth', 'email', 'staffRole'];
const COLUMN_ORDER = Object.keys(IMPORT_COLUMNS) as ImportColumn[];

const normaliseHeader = (name: string): string => name.toLowerCase().replace(/[\s_.-]+/g, '');
const COLUMN_BY_HEADER = new Map<string, ImportColumn>(
  COLUMN_ORDER.flatMap((key) => IMPORT_COLUMNS[key].names.map((n) => [normaliseHeader(n), key] as const)),
);

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Longest the import runs before letting the event loop answer DNS, proxy and web requests. */
const SLICE_MS = 15;

/** Call between units of work; yields to the event loop once a time slice is used up. */
const timeSlicer = () => {
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  };
};

// ---------------------------------------------------------------------------------------------
// Bytes to text

const lineOfByte = (bytes: Uint8Array, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
};

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
const firstInvalidUtf8 = (b: Uint8Array): number => {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
};

const SAVE_AS_UTF8 = 'In Excel choose File → Save As → "CSV UTF-8 (Comma delimited)" and import that file';

/** Text of the upload: UTF-8 (BOM optional), or UTF-16LE/BE with a BOM as Excel's "Unicode text". */
export const decodeCsv = (csv: Buffer | string): string => {
  const text = typeof csv === 'string' ? (csv.charCodeAt(0) === 0xfeff ? csv.slice(1) : csv) : decodeBytes(csv);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw invalid(
      `Line ${line} contains NUL characters: this is not a text CSV file (or it is UTF-16 without a byte-order mark). ${SAVE_AS_UTF8}.`,
      {
        line,
      },
    );
  }
  return text;
};

const decodeBytes = (csv: Buffer): string => {
  if (csv[0] === 0x50 && csv[1] === 0x4b && csv[2] === 0x03 && csv[3] === 0x04) {
    throw invalid(`This is a spreadsheet workbook (.xlsx), not a CSV file. ${SAVE_AS_UTF8}.`);
  }
  const utf16 = csv[0] === 0xff && csv[1] === 0xfe ? 'utf-16le' : csv[0] === 0xfe && csv[1] === 0xff ? 'utf-16be' : null;
  if (utf16) {
    try {
      return new TextDecoder(utf16, { fatal: true }).decode(csv);
    } catch {
      throw invalid(`The file says it is ${utf16.toUpperCase()} text but is damaged (a character is cut in half). ${SAVE_AS_UTF8}.`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(csv);
  } catch {
    const line = lineOfByte(csv, Math.max(firstInvalidUtf8(csv), 0));
    throw invalid(
      `Line ${line} contains characters that are not UTF-8 (the file was probably saved as "ANSI" or Windows-1252, which garbles names such as Zoë). ${SAVE_AS_UTF8}.`,
      { line },
    );
  }
};

// ---------------------------------------------------------------------------------------------
// Text to rows

interface CsvRow {
  line: number;
  cells: string[];
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** Comma, or whatever the header line uses more: tabs (Excel "Unicode text") or semicolons. */
const sniffDelimiter = (text: string): string => {
  const firstLine = /[^\n]*\S[^\n]*/.exec(text)?.[0] ?? '';
  const count = (ch: string) => firstLine.split(ch).length - 1;
  const [commas, tabs, semis] = [count(','), count('\t'), count(';')];
  if (tabs > commas && tabs >= semis) return '\t';
  if (semis > commas && semis > tabs) return ';';
  return ',';
};

/** The first line after `afterLine` that is not blank: where an unparseable record starts. */
const nextNonBlankLine = (text: string, afterLine: number): number => {
  const lines = text.split('\n');
  for (let i = afterLine; i < lines.length; i++) if (lines[i]!.trim()) return i + 1;
  return afterLine + 1;
};

const parseCsv = async (text: string, delimiter: string): Promise<{ header: CsvRow | null; rows: CsvRow[] }> => {
  const parser = parse({
    delimiter,
    record_delimiter: '\n',
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    raw: true,
  });
  let header: CsvRow | null = null;
  const rows: CsvRow[] = [];
  let lastEndLine = 0;
  let failure: unknown = null;
  parser.on('readable', () => {
    let rec: ParsedRecord | null;
    while ((rec = parser.read() as ParsedRecord | null) !== null) {
      lastEndLine = rec.info.lines;
      if (rec.record.every((c) => c.trim() === '')) continue;
      // info.lines is where the record ends; count back over newlines inside quoted fields.
      const body = rec.raw.replace(/^\n+/, '').replace(/\n$/, '');
      let inner = 0;
      for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) inner++;
      const row = { line: rec.info.lines - inner, cells: rec.record };
      if (header) rows.push(row);
      else header = row;
    }
  });
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', (e) => {
      failure = e;
      reject(e);
    });
  });
  finished.catch(() => {}); // awaited below; this only stops an early rejection counting as unhandled

  const CHUNK = 64 * 1024;
  try {
    for (let at = 0; at < text.length && !failure;) {
      let end = Math.min(at + CHUNK, text.length);
      // Never split a surrogate pair between two writes.
      if (end < text.length && /[\uDC00-\uDFFF]/.test(text.charAt(end))) end++;
      parser.write(text.slice(at, end));
      at = end;
      await yieldToEventLoop();
      if (rows.length > MAX_IMPORT_ROWS) {
        throw invalid(`The file has more than ${MAX_IMPORT_ROWS.toLocaleString('en-GB')} rows; split it into smaller files`);
      }
    }
    if (!failure) parser.end();
    await finished;
  } catch (e) {
    parser.destroy();
    if (e instanceof DomainError) throw e;
    const err = e as { code?: string; lines?: number; message?: string };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      const line = nextNonBlankLine(text, lastEndLine);
      throw invalid(`Line ${line} opens a quoted field that is never closed: check for a stray " character`, { line });
    }
    const line = err.lines ?? lastEndLine + 1;
    throw invalid(`Line ${line} could not be read as CSV: ${err.message ?? 'unknown error'}`, { line });
  }
  if (rows.length > MAX_IMPORT_ROWS) {
    throw invalid(`The file has more than ${MAX_IMPORT_ROWS.toLocaleString('en-GB')} rows; split it into smaller files`);
  }
  return { header, rows };
};

// ---------------------------------------------------------------------------------------------
// Header

interface ColumnMap {
  width: number;
  index: Partial<Record<ImportColumn, number>>;
  ignored: string[];
}

const mapHeader = (header: CsvRow): ColumnMap => {
  const index: Partial<Record<ImportColumn, number>> = {};
  const ignored: string[] = [];
  header.cells.forEach((cell, i) => {
    const name = cell.trim();
    if (!name) return;
    const key = COLUMN_BY_HEADER.get(normaliseHeader(name));
    if (!key) {
      ignored.push(name);
      return;
    }
    const before = index[key];
    if (before !== undefined) {
      throw invalid(
        `Columns "${header.cells[before]!.trim()}" and "${name}" both hold the ${IMPORT_COLUMNS[key].label}; keep one of them`,
        { column: key },
      );
    }
    index[key] = i;
  });
  return { width: header.cells.length, index, ignored };
};

const cell = (row: CsvRow, columns: ColumnMap, key: ImportColumn): string | undefined => {
  const i = columns.index[key];
  return i === undefined ? undefined : (row.cells[i] ?? '');
};

const kindOf = (row: CsvRow, columns: ColumnMap): PersonKind | null => {
  const raw = cell(row, columns, 'type');
  if (raw === undefined) return 'pupil';
  return TYPE_VALUES[raw.trim().toLowerCase()] ?? null;
};

const requireColumns = (rows: CsvRow[], columns: ColumnMap) => {
  const kinds = new Set<PersonKind>();
  for (const row of rows) {
    if (row.cells.length !== columns.width) continue;
    const kind = kindOf(row, columns);
    if (kind) kinds.add(kind);
  }
  const needed: { key: ImportColumn; why: string }[] = [
    { key: 'first_name', why: '' },
    { key: 'last_name', why: '' },
  ];
  if (kinds.has('pupil')) {
    const why = columns.index.type === undefined ? ' (with no type column every row is a pupil)' : ' (the file has pupils)';
    needed.push({ key: 'upn', why }, { key: 'year_group', why }, { key: 'date_of_birth', why });
  }
  const emailKinds = (['staff', 'parent', 'governor'] as const).filter((k) => kinds.has(k));
  if (emailKinds.length) needed.push({ key: 'email', why: ` (the file has ${emailKinds.join(', ')} rows)` });
  const missing = needed.filter((n) => columns.index[n.key] === undefined);
  if (missing.length === 0) return;
  const describe = (n: (typeof missing)[number]) => {
    const names = IMPORT_COLUMNS[n.key].names.map((x) => `"${x}"`);
    const choices = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
    return `${IMPORT_COLUMNS[n.key].label}${n.why}: call it ${choices}`;
  };
  throw invalid(`The file has no ${missing.length === 1 ? 'column' : 'columns'} for ${missing.map(describe).join('; ')}`, {
    missingColumns: missing.map((n) => n.key),
  });
};

// ---------------------------------------------------------------------------------------------
// Rows

interface CheckedRow {
  line: number;
  errors: ImportError[];
  kind: PersonKind | null;
  person: NormalisedPerson | null;
  /** Normalised UPN and email as written, valid or not, for finding duplicates in the file. */
  upnKey: string;
  emailKey: string;
  childUpns: string[];
  // Filled in against the database:
  existing: Person | null;
  changed: string[];
  children: ({ row: CheckedRow } | { id: string })[];
  action: 'create' | 'update' | 'unchanged' | null;
  id: string | null;
}

const ordinal = (i: number, n: number) => (n === 1 ? 'The child UPN' : `Child UPN ${i + 1} of ${n}`);

const checkRow = (row: CsvRow, columns: ColumnMap, now: Date): CheckedRow => {
  const checked: CheckedRow = {
    line: row.line,
    errors: [],
    kind: null,
    person: null,
    upnKey: '',
    emailKey: '',
    childUpns: [],
    existing: null,
    changed: [],
    children: [],
    action: null,
    id: null,
  };
  const fail = (field: string | null, message: string) => checked.errors.push({ line: row.line, field, message });
  if (row.cells.length !== columns.width) {
    fail(
      null,
      `This row has ${plural(row.cells.length, 'field', 'fields')} but the header has ${columns.width}: check for a separator inside an unquoted value`,
    );
    return checked;
  }
  const get = (key: ImportColumn) => cell(row, columns, key);
  const kind = kindOf(row, columns);
  checked.kind = kind;
  if (!kind) {
    const raw = (get('type') ?? '').trim();
    fail(
      'type',
      raw
        ? `Type ${quoteValue(raw)} is not recognised (use pupil, staff, parent, governor or visitor)`
        : 'Type is blank (use pupil, staff, parent, governor or visitor)',
    );
  }
  const result = validatePerson(
    {
      kind: kind ?? '',
      firstName: get('first_name'),
      lastName: get('last_name'),
      upn: get('upn'),
      yearGroup: get('year_group'),
      dateOfBirth: get('date_of_birth'),
      email: get('email'),
      staffRole: get('staff_role'),
    },
    now,
  );
  for (const e of result.errors) {
    if (e.field === 'kind') continue; // reported above in the file's own terms
    fail(FIELD_COLUMN[e.field as keyof PersonInput] ?? null, e.message);
  }
  checked.person = result.person ?? null;
  checked.upnKey = normaliseUpn(get('upn') ?? '');
  checked.emailKey = (get('email') ?? '').trim().toLowerCase();

  const parentOf = (get('parent_of') ?? '').trim();
  if (parentOf && kind && kind !== 'parent') {
    fail('parent_of', `Only parent rows can list children (this row is a ${kind})`);
  } else if (parentOf && kind === 'parent') {
    const upns = [
      ...new Set(
        parentOf
          .split(/[;|,\s]+/)
          .filter(Boolean)
          .map(normaliseUpn),
      ),
    ];
    upns.forEach((u, i) => {
      const problem = upnProblem(u);
      if (problem) fail('parent_of', `${ordinal(i, upns.length)} is not valid: ${problem}`);
    });
    checked.childUpns = upns;
  }
  return checked;
};

/** Duplicates inside the file: every later line is an error naming the first. */
const checkDuplicates = (rows: CheckedRow[]) => {
  const upnLine = new Map<string, number>();
  const emailLine = new Map<string, number>();
  const nameLine = new Map<string, number>();
  for (const r of rows) {
    if (r.kind === 'pupil' && r.upnKey) {
      const first = upnLine.get(r.upnKey);
      if (first === undefined) upnLine.set(r.upnKey, r.line);
      else r.errors.push({ line: r.line, field: 'upn', message: `This UPN is already on line ${first}` });
    }
    if (r.kind && r.emailKey) {
      const key = `${r.kind}\u0000${r.emailKey}`;
      const first = emailLine.get(key);
      if (first === undefined) emailLine.set(key, r.line);
      else r.errors.push({ line: r.line, field: 'email', message: `This email is already used by the ${r.kind} row on line ${first}` });
    }
    if (r.kind === 'visitor' && !r.emailKey && r.person) {
      // Visitors without an email are matched by name, so two of the same name would merge.
      const key = `${r.person.firstName}\u0000${r.person.lastName}`;
      const first = nameLine.get(key);
      if (first === undefined) nameLine.set(key, r.line);
      else {
        r.errors.push({
          line: r.line,
          field: 'email',
          message: `Another visitor with no email has the same name on line ${first}; give one of them an email`,
        });
      }
    }
  }
};

const findVisitorByName = async (store: Store, schoolId: string, p: NormalisedPerson): Promise<Person | null> => {
  const page = await store.people.list({
    schoolId,
    kind: 'visitor',
    search: `${p.firstName} ${p.lastName}`,
    includeLeft: true,
    limit: 50,
    offset: 0,
  });
  return page.items.find((x) => x.email === null && x.firstName === p.firstName && x.lastName === p.lastName) ?? null;
};

/** Columns present in the file say which stored fields it speaks for; the rest are left alone. */
const fieldsInFile = (columns: ColumnMap): StoredField[] => [
  'kind',
  ...COLUMN_ORDER.flatMap((c) => {
    const f = COLUMN_FIELD[c];
    return f && columns.index[c] !== undefined ? [f] : [];
  }),
];

interface Progress {
  step(): Promise<void>;
  finish(): void;
}

const progressOf = (onProgress: ImportPeopleInput['onProgress'], total: number): Progress => {
  let done = 0;
  let reported = -1;
  const pause = timeSlicer();
  return {
    async step() {
      done++;
      if (done % PROGRESS_EVERY === 0) {
        reported = done;
        onProgress?.(done, total);
      }
      await pause();
    },
    finish() {
      if (reported !== total) onProgress?.(total, total);
      reported = total;
    },
  };
};

/** Matches every valid row against the school's people and works out what would change. */
const planAgainstStore = async (store: Store, schoolId: string, rows: CheckedRow[], columns: ColumnMap, progress: Progress) => {
  const fields = fieldsInFile(columns);
  const emailColumn = columns.index.email !== undefined;
  for (const r of rows) {
    const p = r.person;
    if (p && r.errors.length === 0) {
      if (p.kind === 'pupil') r.existing = await store.people.findByUpn(schoolId, p.upn!);
      else if (p.email) r.existing = await store.people.findByEmail(schoolId, p.kind, p.email);
      else if (p.kind === 'visitor') r.existing = await findVisitorByName(store, schoolId, p);
      if (p.kind === 'pupil' && p.email && emailColumn) {
        const other = await store.people.findByEmail(schoolId, 'pupil', p.email);
        if (other && other.id !== r.existing?.id) {
          r.errors.push({ line: r.line, field: 'email', message: 'Another pupil at this school already uses this email' });
        }
      }
      if (r.existing) {
        const existing = r.existing;
        r.changed = fields.filter((f) => p[f] !== existing[f]);
        if (existing.leftAt) r.changed.push('leftAt');
      }
    }
    await progress.step();
  }

  // Parent links, once every pupil row's own checks are done.
  const pupilRows = new Map<string, CheckedRow>();
  for (const r of rows) if (r.kind === 'pupil' && r.upnKey && !pupilRows.has(r.upnKey)) pupilRows.set(r.upnKey, r);
  const pause = timeSlicer();
  for (const r of rows) {
    await pause();
    if (r.errors.length > 0 || r.childUpns.length === 0) continue;
    const linked = r.existing ? new Set((await store.people.childrenOf(r.existing.id)).map((c) => c.id)) : new Set<string>();
    let anyNew = false;
    for (const [i, upn] of r.childUpns.entries()) {
      const inFile = pupilRows.get(upn);
      if (inFile) {
        if (inFile.errors.length > 0) {
          r.errors.push({
            line: r.line,
            field: 'parent_of',
            message: `${ordinal(i, r.childUpns.length)} belongs to the pupil on line ${inFile.line}, which has errors`,
          });
          continue;
        }
        r.children.push({ row: inFile });
        if (!inFile.existing || !linked.has(inFile.existing.id)) anyNew = true;
        continue;
      }
      const pupil = await store.people.findByUpn(schoolId, upn);
      if (!pupil || pupil.kind !== 'pupil') {
        r.errors.push({
          line: r.line,
          field: 'parent_of',
          message: `${ordinal(i, r.childUpns.length)} matches no pupil in this file or at this school`,
        });
        continue;
      }
      r.children.push({ id: pupil.id });
      if (!linked.has(pupil.id)) anyNew = true;
    }
    if (anyNew && r.errors.length === 0) r.changed.push('children');
  }

  for (const r of rows) {
    if (r.errors.length > 0 || !r.person) r.action = null;
    else r.action = !r.existing ? 'create' : r.changed.length > 0 ? 'update' : 'unchanged';
  }
};

const buildReport = (rows: CheckedRow[], ignoredColumns: string[], applied: boolean): ImportReport => {
  const columnRank = (f: string | null) => (f === null ? -1 : COLUMN_ORDER.indexOf(f as ImportColumn));
  const all = rows.flatMap((r) => r.errors).sort((a, b) => a.line - b.line || columnRank(a.field) - columnRank(b.field));
  const errors = all.slice(0, MAX_REPORTED_ERRORS);
  if (all.length > MAX_REPORTED_ERRORS) {
    const more = all.length - MAX_REPORTED_ERRORS;
    errors.push({
      line: all[MAX_REPORTED_ERRORS]!.line,
      field: null,
      message: `…and ${plural(more, 'more error', 'more errors')} from this line on (fix these and check the file again to see them)`,
    });
  }
  const invalidRows = rows.filter((r) => r.errors.length > 0).length;
  return {
    totalRows: rows.length,
    validRows: rows.length - invalidRows,
    invalidRows,
    created: rows.filter((r) => r.action === 'create').length,
    updated: rows.filter((r) => r.action === 'update').length,
    unchanged: rows.filter((r) => r.action === 'unchanged').length,
    applied,
    ignoredColumns,
    errors,
  };
};

const apply = async (
  deps: ServiceDeps,
  ctx: RequestContext,
  tx: Store,
  schoolId: string,
  rows: CheckedRow[],
  at: string,
  progress: Progress,
) => {
  const groupCache: ManagedGroupCache = new Map();
  const audit = (action: string, id: string, fields: string[]) =>
    recordAudit(tx, ctx, at, { action, resourceType: 'person', resourceId: id, schoolId, detail: { via: 'import', fields } });

  for (const r of rows) {
    const p = r.person;
    if (p && r.action === 'unchanged') r.id = r.existing!.id;
    else if (p && r.action === 'create') {
      const person: Person = { ...p, id: deps.newId(), schoolId, leftAt: null, createdAt: at, updatedAt: at };
      r.id = person.id;
      await tx.people.create(person);
      await syncManagedGroups(tx, person, at, deps.newId, groupCache);
      const fields: string[] = FIELD_ORDER.filter((f) => p[f] !== null);
      if (r.children.length > 0) fields.push('children');
      await audit('person.created', person.id, fields);
    } else if (p && r.action === 'update') {
      const existing = r.existing!;
      r.id = existing.id;
      const changes: Partial<PersonFields> = {};
      for (const f of r.changed) {
        if (f === 'leftAt') changes.leftAt = null;
        else if (f !== 'children') Object.assign(changes, { [f]: p[f as StoredField] });
      }
      if (Object.keys(changes).length > 0) await tx.people.update(existing.id, changes, at);
      await syncManagedGroups(tx, { ...existing, ...changes, updatedAt: at }, at, deps.newId, groupCache);
      // Names of the fields only: values such as a date of birth stay out of the audit log.
      await audit('person.updated', existing.id, r.changed);
    }
    await progress.step();
  }
  const pause = timeSlicer();
  for (const r of rows) {
    await pause();
    if (!r.id || (r.action !== 'create' && !r.changed.includes('children'))) continue;
    for (const child of r.children) {
      const childId = 'id' in child ? child.id : child.row.id;
      if (childId) await tx.people.link(r.id, childId, at);
    }
  }
};

export const importPeople = async (deps: ServiceDeps, ctx: RequestContext, input: ImportPeopleInput): Promise<ImportReport> => {
  const { schoolId, dryRun, skipInvalid } = input;
  if (!(await deps.store.tenancy.getSchool(schoolId))) throw notFound('SCHOOL_NOT_FOUND', 'School');

  const text = decodeCsv(input.csv).replace(/\r\n?/g, '\n');
  if (!text.trim()) throw invalid('The file is empty');
  const { header, rows } = await parseCsv(text, sniffDelimiter(text));
  if (!header) throw invalid('The file is empty');
  const columns = mapHeader(header);
  if (rows.length === 0) throw invalid('The file has a header row but no people under it');
  requireColumns(rows, columns);

  const now = deps.clock.now();
  const at = now.toISOString();
  const checked: CheckedRow[] = [];
  const pause = timeSlicer();
  for (const row of rows) {
    checked.push(checkRow(row, columns, now));
    await pause();
  }
  rows.length = 0; // the raw cells of a 200,000-row file are no longer needed
  checkDuplicates(checked);

  const total = dryRun ? checked.length : checked.length * 2;
  const progress = progressOf(input.onProgress, total);

  const run = async (store: Store): Promise<ImportReport> => {
    await planAgainstStore(store, schoolId, checked, columns, progress);
    const report = buildReport(checked, columns.ignored, false);
    if (dryRun) {
      progress.finish();
      return report;
    }
    if (report.invalidRows > 0 && !skipInvalid) {
      const n = report.invalidRows;
      throw new DomainError('IMPORT_HAS_ERRORS', `${plural(n, 'row has', 'rows have')} errors; nothing was imported`, 422, report);
    }
    await apply(deps, ctx, store, schoolId, checked, at, progress);
    await recordAudit(store, ctx, at, {
      action: 'people.imported',
      resourceType: 'school',
      resourceId: schoolId,
      schoolId,
      detail: {
        totalRows: report.totalRows,
        validRows: report.validRows,
        invalidRows: report.invalidRows,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
      },
    });
    progress.finish();
    return { ...report, applied: true };
  };

  if (dryRun) return run(deps.store);
  try {
    return await deps.store.transaction(run);
  } catch (e) {
    // Planning and writing share one transaction, so a unique index can only trip if someone else
    // added the same UPN or email at the same moment (on PostgreSQL). Nothing was written.
    const code = (e as { code?: unknown }).code;
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new DomainError(
        'CONFLICT',
        'Someone else added or changed these people while the import ran; nothing was imported, so run it again',
        409,
      );
    }
    throw e;
  }
};
