import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, isAbort, query } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime, number } from '../format.ts';
import { useSession } from '../session.tsx';
import type { AuditEntry, AuditVerifyResult } from '../types.ts';

const PAGE_SIZE = 100;

interface Filters {
  action: string;
  resourceType: string;
  resourceId: string;
  actorUserId: string;
}

const EMPTY: Filters = { action: '', resourceType: '', resourceId: '', actorUserId: '' };
const RESOURCE_TYPES = ['account', 'trust', 'school', 'person', 'group', 'user', 'audit', 'dashboard'];

export function AuditLogPage() {
  const { can } = useSession();
  const { schools } = useCurrentSchool();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [nextBeforeSeq, setNextBeforeSeq] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');

  const load = useCallback(async (f: Filters, beforeSeq: number | null, signal?: AbortSignal) => {
    setLoading(true);
    setError(null);
    try {
      const result = await api.get<{ items: AuditEntry[]; nextBeforeSeq: number | null }>(
        `/api/v1/audit${query({ ...f, beforeSeq, limit: PAGE_SIZE })}`,
        signal ? { signal } : {},
      );
      setEntries((prev) => (beforeSeq === null ? result.items : [...prev, ...result.items]));
      setNextBeforeSeq(result.nextBeforeSeq);
      setStatus(
        beforeSeq === null
          ? `${number(result.items.length)} ${result.items.length === 1 ? 'entry' : 'entries'} shown.`
          : `${number(result.items.length)} older ${result.items.length === 1 ? 'entry' : 'entries'} added.`,
      );
    } catch (err) {
      if (isAbort(err)) return;
      setError(err);
    }
    setLoading(false);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(filters, null, controller.signal);
    return () => controller.abort();
  }, [filters, load]);

  const apply = (e: SyntheticEvent) => {
    e.preventDefault();
    setFilters({
      action: draft.action.trim(),
      resourceType: draft.resourceType.trim(),
      resourceId: draft.resourceId.trim(),
      actorUserId: draft.actorUserId.trim(),
    });
  };
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  const schoolName = (id: string | null) => (id ? (schools.find((s) => s.id === id)?.name ?? id) : '');
  const filtered = Object.values(filters).some(Boolean);

  return (
    <Page
      title="Audit log"
      lead={
        <p>
          Every sign-in, change and export, in order. Entries are chained by hash, so any change to past entries can be detected. Entries
          name records by id and never hold safeguarding content.
        </p>
      }
    >
      {can('audit:verify') ? <VerifyChain /> : null}

      <form className="filters" aria-label="Filter the audit log" onSubmit={apply}>
        <TextField label="Action" hint="For example auth.login" value={draft.action} onChange={set('action')} spellCheck={false} />
        <TextField
          label="Resource type"
          value={draft.resourceType}
          onChange={set('resourceType')}
          list="audit-resource-types"
          spellCheck={false}
        />
        <datalist id="audit-resource-types">
          {RESOURCE_TYPES.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <TextField label="Resource id" value={draft.resourceId} onChange={set('resourceId')} spellCheck={false} />
        <TextField label="Actor user id" value={draft.actorUserId} onChange={set('actorUserId')} spellCheck={false} />
        <div className="filters-submit">
          <button type="submit" className="button button--secondary">
            Apply filters
          </button>
          {filtered ? (
            <button
              type="button"
              className="button button--secondary"
              onClick={() => {
                setDraft(EMPTY);
                setFilters(EMPTY);
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>

      <Status quiet>{loading ? '' : status}</Status>
      <ErrorMessage error={error} />
      {loading && entries.length === 0 ? <Loading label="Loading the audit log…" /> : null}
      {!loading && entries.length === 0 && !error ? (
        <p className="empty">{filtered ? 'No entries match these filters.' : 'The audit log is empty.'}</p>
      ) : null}
      {entries.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
          <table className="table table--compact audit-table">
            <caption className="visually-hidden">Audit log entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Seq
                </th>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">IP</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">School</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td className="num">{e.seq}</td>
                  <td className="nowrap">
                    <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                  </td>
                  <td className="break">
                    {e.actorLabel ?? <span className="muted">System</span>}
                    {e.actorUserId ? <span className="cell-sub mono">{e.actorUserId}</span> : null}
                  </td>
                  <td className="mono">{e.ip ?? ''}</td>
                  <td className="mono">{e.action}</td>
                  <td className="break">
                    {e.resourceType ?? ''}
                    {e.resourceId ? <span className="cell-sub mono">{e.resourceId}</span> : null}
                  </td>
                  <td>{schoolName(e.schoolId)}</td>
                  <td>{e.detail === null || e.detail === undefined ? '' : <code className="json">{compactJson(e.detail)}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {nextBeforeSeq !== null ? (
        <div className="form-actions">
          <button type="button" className="button button--secondary" disabled={loading} onClick={() => void load(filters, nextBeforeSeq)}>
            {loading ? 'Loading…' : 'Load older'}
          </button>
        </div>
      ) : null}
    </Page>
  );
}

const compactJson = (v: unknown): string => {
  try {
    const s = JSON.stringify(v);
    return s === '{}' ? '' : s;
  } catch {
    return String(v);
  }
};

function VerifyChain() {
  const [result, setResult] = useState<AuditVerifyResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.get<AuditVerifyResult>('/api/v1/audit/verify'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section
      title="Integrity"
      id="audit-verify"
      actions={
        <button type="button" className="button button--secondary" disabled={busy} onClick={() => void verify()}>
          {busy ? 'Verifying…' : 'Verify chain'}
        </button>
      }
    >
      <p className="muted small">Checks every entry’s hash against the one before it.</p>
      <ErrorMessage error={error} />
      <div role="status" aria-live="polite" data-testid="audit-verify-result">
        {result ? (
          result.ok ? (
            <div className="alert alert--success">
              <p>The chain is intact: {number(result.checked)} entries checked.</p>
            </div>
          ) : (
            <div className="alert alert--error">
              <p>
                <strong>The chain is broken.</strong> {number(result.checked)} entries checked.
                {result.problem ? ` Entry ${result.problem.seq} (${result.problem.kind}): ${result.problem.message}` : ''}
              </p>
            </div>
          )
        ) : null}
      </div>
    </Section>
  );
}
