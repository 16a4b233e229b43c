import { useEffect, useRef, useState, type DragEvent, type SyntheticEvent } from 'react';
import { ApiError, isAbort, query, seg, uploadBody, type Upload, type UploadProgress } from '../api.ts';
import { ErrorMessage, Status } from '../components/alerts.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { number, plural } from '../format.ts';
import { Link } from '../router.tsx';
import type { ImportReport, School } from '../types.ts';

const MAX_BYTES = 20 * 1024 * 1024;
const ERRORS_SHOWN = 500;

export function PeopleImportPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="Import people"
      back={{ to: '/people', label: 'Back to the list' }}
      lead={
        <p>
          Bring pupils, staff, parents and governors in from a CSV file exported from your MIS
          {current ? ` into ${current.name}` : ''}. Haven checks the whole file first and changes nothing until you confirm.
        </p>
      }
    >
      <SchoolRequired ability="person:import">{(school) => <Importer key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

type Phase =
  | { kind: 'choose' }
  | { kind: 'checking'; progress: UploadProgress }
  | { kind: 'checked'; report: ImportReport }
  | { kind: 'confirm-skip'; report: ImportReport }
  | { kind: 'importing'; report: ImportReport; progress: UploadProgress }
  | { kind: 'done'; report: ImportReport };

function Importer({ school }: { school: School }) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'choose' });
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const upload = useRef<Upload<{ report: ImportReport }> | null>(null);
  const resultRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => () => upload.current?.abort(), []);
  useEffect(() => {
    if (phase.kind === 'checked' || phase.kind === 'done') resultRef.current?.focus();
  }, [phase.kind]);

  const choose = (f: File | null) => {
    setError(null);
    setPhase({ kind: 'choose' });
    if (f && f.size > MAX_BYTES) {
      setFile(null);
      setError(`That file is ${(f.size / 1024 / 1024).toFixed(1)} MB. Haven accepts CSV files up to 20 MB.`);
      return;
    }
    if (f && !/\.(csv|txt)$/i.test(f.name) && f.type !== 'text/csv') {
      setError('That does not look like a CSV file. Export a CSV file (comma-separated values) from your MIS.');
    }
    setFile(f);
  };

  const send = async (dryRun: boolean, skipInvalid: boolean, previous: ImportReport | null) => {
    if (!file) return;
    setError(null);
    const progressPhase = (progress: UploadProgress): Phase =>
      dryRun ? { kind: 'checking', progress } : { kind: 'importing', report: previous as ImportReport, progress };
    setPhase(progressPhase({ phase: 'uploading', percent: 0 }));
    try {
      const job = uploadBody<{ report: ImportReport }>(
        `/api/v1/schools/${seg(school.id)}/people/import${query({ dryRun: String(dryRun), skipInvalid: String(skipInvalid) })}`,
        file,
        'text/csv',
        (p) => setPhase(progressPhase(p)),
      );
      upload.current = job;
      const { report } = await job.promise;
      setPhase(dryRun ? { kind: 'checked', report } : { kind: 'done', report });
    } catch (err) {
      if (isAbort(err)) {
        setPhase(previous ? { kind: 'checked', report: previous } : { kind: 'choose' });
        return;
      }
      if (err instanceof ApiError && err.code === 'IMPORT_HAS_ERRORS' && isReport(err.details)) {
        // The file changed between check and import, or the check was skipped: show what is wrong.
        setError('Nothing was imported because the file has errors. Check the report below.');
        setPhase({ kind: 'checked', report: err.details });
        return;
      }
      setError(err);
      setPhase(previous ? { kind: 'checked', report: previous } : { kind: 'choose' });
    } finally {
      upload.current = null;
    }
  };

  const check = (e: SyntheticEvent) => {
    e.preventDefault();
    if (!file) {
      setError('Choose a CSV file first.');
      inputRef.current?.focus();
      return;
    }
    void send(true, false, null);
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f) {
      choose(f);
      // Keep the file input in step, so it names the dropped file.
      try {
        if (inputRef.current) inputRef.current.files = e.dataTransfer.files;
      } catch {
        if (inputRef.current) inputRef.current.value = '';
      }
    }
  };

  const busy = phase.kind === 'checking' || phase.kind === 'importing';
  const report = phase.kind === 'choose' || phase.kind === 'checking' ? null : phase.report;

  return (
    <>
      <Section title="1. Choose the file" id="import-file">
        <form onSubmit={check} noValidate>
          <div
            className={`dropzone${dragging ? ' dropzone--active' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              e.dataTransfer.dropEffect = 'copy';
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <div className="field">
              <label htmlFor="import-file-input">CSV file</label>
              <p id="import-file-hint" className="field-hint">
                Choose a file or drag it here: a CSV file, or Excel’s “Unicode text”. The first row must name the columns.
              </p>
              <input
                ref={inputRef}
                id="import-file-input"
                type="file"
                accept=".csv,text/csv,.txt"
                aria-describedby="import-file-hint"
                disabled={busy}
                onChange={(e) => choose(e.target.files?.[0] ?? null)}
              />
            </div>
            {file ? (
              <p className="dropzone-file">
                Chosen: <strong>{file.name}</strong> ({formatBytes(file.size)})
              </p>
            ) : null}
          </div>
          <ColumnHelp />
          <ErrorMessage error={error} />
          <div className="form-actions">
            <button type="submit" className="button" disabled={busy || !file}>
              Check file
            </button>
            {busy ? (
              <button type="button" className="button button--secondary" onClick={() => upload.current?.abort()}>
                Cancel
              </button>
            ) : null}
          </div>
        </form>
        <ProgressView phase={phase} />
      </Section>

      {report ? (
        <Section title={phase.kind === 'done' ? '3. Imported' : '2. Check the report'} id="import-report">
          <h3 ref={resultRef} tabIndex={-1} className="report-heading">
            {reportHeadline(report, phase.kind === 'done')}
          </h3>
          <ReportCounts report={report} />
          {report.ignoredColumns && report.ignoredColumns.length > 0 ? (
            <p className="muted">Columns Haven does not use, left out: {report.ignoredColumns.join(', ')}.</p>
          ) : null}
          {report.errors.length > 0 ? <ErrorTable report={report} /> : null}
          {phase.kind === 'checked' || phase.kind === 'confirm-skip' || phase.kind === 'importing' ? (
            <ImportActions
              report={report}
              confirming={phase.kind === 'confirm-skip'}
              busy={busy}
              onImport={() => {
                if (report.invalidRows > 0) {
                  if (phase.kind === 'confirm-skip') void send(false, true, report);
                  else setPhase({ kind: 'confirm-skip', report });
                } else {
                  void send(false, false, report);
                }
              }}
              onCancelConfirm={() => setPhase({ kind: 'checked', report })}
            />
          ) : null}
          {phase.kind === 'done' ? (
            <div className="form-actions">
              <Link className="button" to="/people">
                See the list
              </Link>
              <button
                type="button"
                className="button button--secondary"
                onClick={() => {
                  setFile(null);
                  setPhase({ kind: 'choose' });
                  if (inputRef.current) inputRef.current.value = '';
                  inputRef.current?.focus();
                }}
              >
                Import another file
              </button>
            </div>
          ) : null}
        </Section>
      ) : null}
    </>
  );
}

const COLUMNS: readonly [string, string][] = [
  ['UPN', 'UPN, Unique Pupil Number'],
  ['First name', 'Forename, Legal Forename, First Name, Given Name'],
  ['Last name', 'Surname, Legal Surname, Family Name'],
  ['Year group', 'Year, NC Year, Year Group, Curriculum Year (R, N, 1–13, “Year 7”)'],
  ['Date of birth', 'DOB, Birth Date (2015-03-09 or 09/03/2015)'],
  ['Email', 'Email, Email Address'],
  ['Type', 'Type, Person Type, Kind (pupil, student, staff, parent, carer, governor …); without it every row is a pupil'],
  ['Staff role', 'Job Title, Role'],
  ['Children', 'Children, Child UPNs (for parents: the UPNs of their children)'],
];

function ColumnHelp() {
  return (
    <details className="help">
      <summary>Which columns does Haven read?</summary>
      <p>
        Haven recognises the column names that SIMS, Arbor, Bromcom and other MIS exports use, ignoring capitals and spaces. Other columns
        are left out. Pupils are matched by UPN and everyone else by email, so importing the same file again changes nothing, and nobody is
        deleted because they are missing from a file.
      </p>
      <dl className="summary">
        {COLUMNS.map(([what, names]) => (
          <div key={what}>
            <dt>{what}</dt>
            <dd>{names}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

const isReport = (v: unknown): v is ImportReport =>
  typeof v === 'object' && v !== null && 'totalRows' in v && Array.isArray((v as { errors?: unknown }).errors);

const formatBytes = (n: number) =>
  n < 1024 ? `${n} bytes` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;

const reportHeadline = (r: ImportReport, done: boolean): string => {
  if (done) {
    return r.applied
      ? `Import finished: ${number(r.created)} created, ${number(r.updated)} updated, ${number(r.unchanged)} unchanged.`
      : 'Nothing was imported.';
  }
  if (r.totalRows === 0) return 'The file has no rows to import.';
  if (r.invalidRows === 0) return `All ${plural(r.totalRows, 'row')} are ready to import.`;
  if (r.validRows === 0) return `None of the ${plural(r.totalRows, 'row')} can be imported.`;
  return `${number(r.validRows)} of ${plural(r.totalRows, 'row')} can be imported; ${plural(r.invalidRows, 'row has', 'rows have')} errors.`;
};

function ProgressView({ phase }: { phase: Phase }) {
  const progress = phase.kind === 'checking' || phase.kind === 'importing' ? phase.progress : null;
  let label = '';
  if (progress) {
    if (progress.phase === 'uploading') label = progress.percent === null ? 'Uploading…' : `Uploading ${progress.percent}%`;
    else label = phase.kind === 'checking' ? 'Checking the file…' : 'Importing…';
  }
  return (
    <div className="progress-area">
      {progress ? (
        <>
          <progress
            className="progress"
            aria-label={label}
            {...(progress.phase === 'uploading' && progress.percent !== null ? { value: progress.percent, max: 100 } : {})}
          />
          <p className="progress-label" aria-hidden="true">
            {label}
          </p>
        </>
      ) : null}
      {/* Announce phases, not every percent. */}
      <Status>{progress ? (progress.phase === 'uploading' ? 'Uploading the file.' : label) : ''}</Status>
    </div>
  );
}

function ReportCounts({ report }: { report: ImportReport }) {
  const done = report.applied;
  return (
    <dl className="stats">
      <div>
        <dt>Rows in file</dt>
        <dd>{number(report.totalRows)}</dd>
      </div>
      <div>
        <dt>Valid</dt>
        <dd>{number(report.validRows)}</dd>
      </div>
      <div className={report.invalidRows > 0 ? 'stat--bad' : undefined}>
        <dt>With errors</dt>
        <dd>{number(report.invalidRows)}</dd>
      </div>
      <div>
        <dt>{done ? 'Created' : 'Would create'}</dt>
        <dd>{number(report.created)}</dd>
      </div>
      <div>
        <dt>{done ? 'Updated' : 'Would update'}</dt>
        <dd>{number(report.updated)}</dd>
      </div>
      <div>
        <dt>Unchanged</dt>
        <dd>{number(report.unchanged)}</dd>
      </div>
    </dl>
  );
}

function ErrorTable({ report }: { report: ImportReport }) {
  const shown = report.errors.slice(0, ERRORS_SHOWN);
  return (
    <div className="table-wrap table-wrap--tall" tabIndex={0} role="region" aria-label="Scrollable table">
      <table className="table table--compact">
        <caption>
          Errors{report.applied ? ' (these rows were skipped)' : ''}
          {report.errors.length > ERRORS_SHOWN ? ` — the first ${ERRORS_SHOWN} of ${number(report.errors.length)}` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Field</th>
            <th scope="col">Problem</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e, i) => (
            <tr key={`${e.line}-${e.field ?? ''}-${i}`}>
              <td className="num">{e.line}</td>
              <td>{e.field ?? <span className="muted">Whole row</span>}</td>
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface ImportActionsProps {
  report: ImportReport;
  confirming: boolean;
  busy: boolean;
  onImport: () => void;
  onCancelConfirm: () => void;
}

function ImportActions({ report, confirming, busy, onImport, onCancelConfirm }: ImportActionsProps) {
  const confirmRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  if (report.validRows === 0) {
    return (
      <p className="alert alert--warning">There is nothing to import. Correct the file in your MIS or spreadsheet and check it again.</p>
    );
  }
  if (report.invalidRows === 0) {
    return (
      <div className="form-actions">
        <button type="button" className="button" disabled={busy} onClick={onImport}>
          Import
        </button>
      </div>
    );
  }
  if (confirming) {
    return (
      <div className="confirm" ref={confirmRef} tabIndex={-1} role="group" aria-labelledby="confirm-skip-text">
        <p id="confirm-skip-text">
          <strong>{plural(report.invalidRows, 'row', 'rows')} with errors will be skipped and not imported.</strong> The other{' '}
          {plural(report.validRows, 'row')} will be imported. You can correct the skipped rows and import the file again later.
        </p>
        <div className="form-actions">
          <button type="button" className="button" disabled={busy} onClick={onImport}>
            Yes, import {plural(report.validRows, 'valid row')}
          </button>
          <button type="button" className="button button--secondary" disabled={busy} onClick={onCancelConfirm}>
            Cancel
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="form-actions">
      <button type="button" className="button" disabled={busy} onClick={onImport}>
        Import {plural(report.validRows, 'valid row')}
      </button>
      <p className="muted small">Rows with errors will be skipped. Or correct the file and check it again.</p>
    </div>
  );
}
