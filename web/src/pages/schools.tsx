import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { api, fieldErrorsOf, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.tsx';
import type { School, Trust } from '../types.ts';
import { useApi } from '../use-api.ts';

const URN_RE = /^\d{6}$/;

export function SchoolsPage() {
  const { can } = useSession();
  const { schools, current, setCurrent, reload, loading, error } = useCurrentSchool();
  const [editing, setEditing] = useState<School | null>(null);
  const [status, setStatus] = useState('');

  return (
    <Page title="Schools">
      <Status>{status}</Status>
      <TrustSection onStatus={setStatus} />
      <Section title="Your schools" id="schools-list">
        <ErrorMessage error={error} />
        {loading ? <Loading label="Loading schools…" /> : null}
        {!loading && schools.length === 0 ? <p>There are no schools yet.</p> : null}
        {schools.length > 0 ? (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
            <table className="table">
              <caption className="visually-hidden">Schools</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">URN</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {schools.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">
                      {s.name}
                      {current?.id === s.id ? <span className="badge badge--info">Current</span> : null}
                    </th>
                    <td>{s.urn ?? <span className="muted">None</span>}</td>
                    <td>{formatDateTime(s.createdAt)}</td>
                    <td className="actions">
                      {current?.id !== s.id ? (
                        <button
                          type="button"
                          className="button button--secondary button--small"
                          onClick={() => {
                            setCurrent(s.id);
                            setStatus(`You are now working in ${s.name}.`);
                          }}
                        >
                          Work in this school<span className="visually-hidden">: {s.name}</span>
                        </button>
                      ) : null}
                      {can('school:update', s.id) ? (
                        <button type="button" className="button button--secondary button--small" onClick={() => setEditing(s)}>
                          Rename<span className="visually-hidden"> {s.name}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
      {editing ? (
        <EditSchool
          key={editing.id}
          school={editing}
          onDone={(updated) => {
            setEditing(null);
            if (updated) {
              setStatus(`Saved ${updated.name}.`);
              void reload();
            }
          }}
        />
      ) : null}
      {can('school:create') && !editing ? (
        <AddSchool
          onAdded={(school) => {
            setStatus(`Added ${school.name}.`);
            if (schools.length === 0) setCurrent(school.id);
            void reload();
          }}
        />
      ) : null}
    </Page>
  );
}

function TrustSection({ onStatus }: { onStatus: (s: string) => void }) {
  const { can } = useSession();
  const { data, error, setData } = useApi<{ trust: Trust | null }>('/api/v1/trust');
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const trust = data?.trust ?? null;

  const save = async (e: SyntheticEvent) => {
    e.preventDefault();
    setSaveError(null);
    if (!name.trim()) {
      setSaveError('Enter a name for the trust.');
      return;
    }
    setBusy(true);
    try {
      const result = await api.patch<{ trust: Trust }>('/api/v1/trust', { name: name.trim() });
      setData({ trust: result.trust });
      setRenaming(false);
      onStatus(`The trust is now called ${result.trust.name}.`);
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };

  if (error) return <ErrorMessage error={error} />;
  if (!trust) return null;
  return (
    <Section
      title="Trust"
      id="trust"
      actions={
        can('trust:update') && !renaming ? (
          <button
            type="button"
            className="button button--secondary button--small"
            onClick={() => {
              setName(trust.name);
              setRenaming(true);
            }}
          >
            Rename trust
          </button>
        ) : null
      }
    >
      {renaming ? (
        <form onSubmit={(e) => void save(e)} noValidate className="form-narrow">
          <ErrorMessage error={saveError} />
          <TextField label="Trust name" value={name} onChange={(e) => setName(e.target.value)} maxLength={120} required autoFocus />
          <div className="form-actions">
            <button type="submit" className="button" disabled={busy}>
              Save
            </button>
            <button type="button" className="button button--secondary" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="lead-name">{trust.name}</p>
      )}
    </Section>
  );
}

interface SchoolFormProps {
  initial: { name: string; urn: string };
  submitLabel: string;
  busyLabel: string;
  /** Saves the checked values; throws an API error to show on the form. */
  submit: (values: { name: string; urn: string }) => Promise<void>;
  onCancel?: () => void;
  focusFirst?: boolean;
}

/** Name and URN, checked here before the API checks them again. Used to add and to rename. */
function SchoolForm({ initial, submitLabel, busyLabel, submit, onCancel, focusFirst }: SchoolFormProps) {
  const [name, setName] = useState(initial.name);
  const [urn, setUrn] = useState(initial.urn);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focusFirst) first.current?.focus();
  }, [focusFirst]);

  const onSubmit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!name.trim()) problems['name'] = 'Enter the school’s name';
    if (urn.trim() && !URN_RE.test(urn.trim())) problems['urn'] = 'A URN is 6 digits';
    setFieldErrors(problems);
    setError(Object.keys(problems).length ? 'Check the highlighted fields.' : null);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      await submit({ name: name.trim(), urn: urn.trim() });
      setName(initial.name);
      setUrn(initial.urn);
    } catch (err) {
      setError(err);
      setFieldErrors(fieldErrorsOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate className="form-narrow">
      <ErrorMessage error={error} />
      <TextField
        ref={first}
        label="School name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={fieldErrors['name']}
        maxLength={120}
        required
      />
      <TextField
        label="URN"
        optional
        hint="The 6-digit unique reference number from Get Information about Schools."
        inputMode="numeric"
        value={urn}
        onChange={(e) => setUrn(e.target.value)}
        error={fieldErrors['urn']}
        maxLength={6}
        className="field--short"
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="button button--secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function EditSchool({ school, onDone }: { school: School; onDone: (updated: School | null) => void }) {
  return (
    <Section title={`Rename ${school.name}`} id="edit-school">
      <SchoolForm
        initial={{ name: school.name, urn: school.urn ?? '' }}
        submitLabel="Save changes"
        busyLabel="Saving…"
        focusFirst
        onCancel={() => onDone(null)}
        submit={async ({ name, urn }) => {
          const { school: updated } = await api.patch<{ school: School }>(`/api/v1/schools/${seg(school.id)}`, { name, urn: urn || null });
          onDone(updated);
        }}
      />
    </Section>
  );
}

function AddSchool({ onAdded }: { onAdded: (school: School) => void }) {
  return (
    <Section title="Add a school" id="add-school">
      <SchoolForm
        initial={{ name: '', urn: '' }}
        submitLabel="Add school"
        busyLabel="Adding…"
        submit={async ({ name, urn }) => {
          const { school } = await api.post<{ school: School }>('/api/v1/schools', urn ? { name, urn } : { name });
          onAdded(school);
        }}
      />
    </Section>
  );
}
