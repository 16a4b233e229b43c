import { useState, type SyntheticEvent } from 'react';
import { api, fieldErrorsOf, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { GROUP_KIND_LABELS, number } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { Group, GroupKind, School } from '../types.ts';
import { useApi } from '../use-api.ts';

const KIND_ORDER: Record<GroupKind, number> = { year_group: 0, key_stage: 1, staff: 2, custom: 3 };

export function GroupsPage() {
  const { current } = useCurrentSchool();
  return (
    <Page title="Groups" lead={current ? <p>Groups of people at {current.name}. Policies and reports will use them.</p> : null}>
      <SchoolRequired ability="group:read">{(school) => <GroupList key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

function GroupList({ school }: { school: School }) {
  const { can } = useSession();
  const { data, error, loading, reload } = useApi<{ items: Group[] }>(`/api/v1/schools/${seg(school.id)}/groups`);
  const [status, setStatus] = useState('');
  const groups = [...(data?.items ?? [])].sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name, 'en-GB', { numeric: true }),
  );

  return (
    <>
      <Status>{status}</Status>
      <ErrorMessage error={error} />
      {loading && !data ? <Loading label="Loading groups…" /> : null}
      {data ? (
        groups.length === 0 ? (
          <p className="empty">
            No groups yet. Year groups, key stages and an all-staff group appear by themselves when people are imported.
          </p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
            <table className="table">
              <caption className="visually-hidden">Groups</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Members
                  </th>
                  <th scope="col">Kept up to date</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">
                      <Link to={`/groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>
                    </th>
                    <td>{GROUP_KIND_LABELS[g.kind]}</td>
                    <td className="num">{g.memberCount === undefined ? '' : number(g.memberCount)}</td>
                    <td>
                      {g.managed ? (
                        <span className="badge badge--info">Kept in step with imports</span>
                      ) : (
                        <span className="muted">By hand</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      {can('group:create', school.id) ? (
        <CreateGroup
          school={school}
          onCreated={(g) => {
            setStatus(`Created the group ${g.name}.`);
            reload();
          }}
        />
      ) : null}
    </>
  );
}

function CreateGroup({ school, onCreated }: { school: School; onCreated: (g: Group) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setFieldError('Enter a name for the group');
      setError('Check the highlighted field.');
      return;
    }
    setFieldError(undefined);
    setError(null);
    setBusy(true);
    try {
      const { group } = await api.post<{ group: Group }>(`/api/v1/schools/${seg(school.id)}/groups`, { name: name.trim() });
      setName('');
      onCreated(group);
    } catch (err) {
      setError(err);
      setFieldError(fieldErrorsOf(err)['name']);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Create a group" id="create-group">
      <p className="muted">For clubs, classes, intervention groups and the like. You choose the members.</p>
      <form onSubmit={(e) => void submit(e)} noValidate className="inline-form">
        <ErrorMessage error={error} />
        <TextField label="Group name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError} maxLength={100} required />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            Create group
          </button>
        </div>
      </form>
    </Section>
  );
}
