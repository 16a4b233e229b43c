import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, query, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { GROUP_KIND_LABELS, KIND_LABELS, personName, personSortName, plural, yearLabel } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { Group, Person, School } from '../types.ts';
import { useApi } from '../use-api.ts';

interface GroupDetail {
  group: Group;
  members: Person[];
}

export function GroupDetailPage({ groupId }: { groupId: string }) {
  return (
    <SchoolRequired ability="group:read">{(school) => <GroupView key={school.id} school={school} groupId={groupId} />}</SchoolRequired>
  );
}

function GroupView({ school, groupId }: { school: School; groupId: string }) {
  const { can } = useSession();
  const path = `/api/v1/schools/${seg(school.id)}/groups/${seg(groupId)}`;
  const { data, error, loading, setData, reload } = useApi<GroupDetail>(path);
  const [status, setStatus] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [renaming, setRenaming] = useState(false);
  const [busyId, setBusyId] = useState<string | null>(null);

  if (!data) {
    return (
      <Page title={loading ? 'Group' : 'Group not found'} back={{ to: '/groups', label: 'Back to the list' }}>
        {loading ? <Loading label="Loading…" /> : <ErrorMessage error={error} />}
      </Page>
    );
  }

  const { group, members } = data;
  const mayEdit = can('group:update', school.id) && !group.managed;
  const sorted = [...members].sort((a, b) => personSortName(a).localeCompare(personSortName(b), 'en-GB'));

  const remove = async (p: Person) => {
    setActionError(null);
    setBusyId(p.id);
    try {
      const { group: updated } = await api.delete<{ group: Group }>(`${path}/members/${seg(p.id)}`);
      setData((prev) => (prev ? { group: updated ?? prev.group, members: prev.members.filter((m) => m.id !== p.id) } : prev));
      setStatus(`Removed ${personName(p)} from ${group.name}.`);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusyId(null);
    }
  };

  const add = async (p: Person) => {
    setActionError(null);
    setBusyId(p.id);
    try {
      await api.post<{ group: Group }>(`${path}/members`, { personId: p.id });
      setData((prev) => (prev ? { ...prev, members: [...prev.members, p] } : prev));
      setStatus(`Added ${personName(p)} to ${group.name}.`);
      reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusyId(null);
    }
  };

  return (
    <Page
      title={group.name}
      back={{ to: '/groups', label: 'Back to the list' }}
      actions={
        mayEdit && !renaming ? (
          <button type="button" className="button button--secondary" onClick={() => setRenaming(true)}>
            Rename<span className="visually-hidden"> {group.name}</span>
          </button>
        ) : null
      }
      lead={
        <p>
          <span className="badge badge--info">{GROUP_KIND_LABELS[group.kind]}</span> {plural(members.length, 'member')}
        </p>
      }
    >
      <Status>{status}</Status>
      <ErrorMessage error={actionError} />
      {group.managed ? (
        <div className="alert alert--info">
          <p>
            Kept in step with imports: Haven works out who belongs in this group from each person’s details, so it cannot be renamed and its
            members cannot be changed by hand.
          </p>
        </div>
      ) : null}
      {renaming ? (
        <RenameGroup
          path={path}
          group={group}
          onDone={(updated) => {
            setRenaming(false);
            if (updated) {
              setData((prev) => (prev ? { ...prev, group: updated } : prev));
              setStatus(`Renamed to ${updated.name}.`);
            }
          }}
        />
      ) : null}
      <Section title="Members" id="group-members">
        {sorted.length === 0 ? (
          <p className="muted">Nobody is in this group yet.</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
            <table className="table">
              <caption className="visually-hidden">Members of {group.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Year group</th>
                  {mayEdit ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {sorted.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">
                      <Link to={`/people/${encodeURIComponent(p.id)}`}>{personSortName(p)}</Link>
                    </th>
                    <td>{KIND_LABELS[p.kind]}</td>
                    <td>{yearLabel(p.yearGroup)}</td>
                    {mayEdit ? (
                      <td className="actions">
                        <button
                          type="button"
                          className="button button--secondary button--small"
                          disabled={busyId === p.id}
                          onClick={() => void remove(p)}
                        >
                          Remove<span className="visually-hidden"> {personName(p)}</span>
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {mayEdit && can('person:read', school.id) ? (
        <AddMember school={school} memberIds={new Set(members.map((m) => m.id))} busyId={busyId} onAdd={(p) => void add(p)} />
      ) : null}
    </Page>
  );
}

function RenameGroup({ path, group, onDone }: { path: string; group: Group; onDone: (g: Group | null) => void }) {
  const [name, setName] = useState(group.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setError('Enter a name for the group.');
      return;
    }
    setBusy(true);
    try {
      const { group: updated } = await api.patch<{ group: Group }>(path, { name: name.trim() });
      onDone(updated);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Section title="Rename the group" id="rename-group">
      <form onSubmit={(e) => void submit(e)} noValidate className="inline-form">
        <ErrorMessage error={error} />
        <TextField label="Group name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required autoFocus />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            Save
          </button>
          <button type="button" className="button button--secondary" onClick={() => onDone(null)}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}

function AddMember({
  school,
  memberIds,
  busyId,
  onAdd,
}: {
  school: School;
  memberIds: Set<string>;
  busyId: string | null;
  onAdd: (p: Person) => void;
}) {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setSearch(text.trim()), 300);
    return () => clearTimeout(t);
  }, [text]);
  const { data, error, loading } = useApi<{ items: Person[]; total: number }>(
    search ? `/api/v1/schools/${seg(school.id)}/people${query({ search, limit: 20, offset: 0 })}` : null,
    { keepPrevious: true },
  );
  const results = search ? (data?.items ?? []) : [];

  return (
    <Section title="Add a member" id="add-member">
      <form
        role="search"
        aria-label="Find someone to add"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(text.trim());
        }}
        className="inline-form"
      >
        <TextField
          label="Find a person"
          type="search"
          hint="Type part of a name, a UPN or an email address."
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <div className="form-actions">
          <button type="submit" className="button button--secondary">
            Find
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      <Status>
        {search && data && !loading
          ? `${plural(data.total, 'match', 'matches')}${data.total > results.length ? `, showing the first ${results.length}` : ''}.`
          : ''}
      </Status>
      {results.length > 0 ? (
        <ul className="result-list">
          {results.map((p) => (
            <li key={p.id}>
              <span>
                {personSortName(p)}{' '}
                <span className="muted small">
                  {KIND_LABELS[p.kind]}
                  {p.yearGroup ? `, ${yearLabel(p.yearGroup)}` : ''}
                </span>
              </span>
              {memberIds.has(p.id) ? (
                <span className="muted small">Already a member</span>
              ) : (
                <button type="button" className="button button--small" disabled={busyId === p.id} onClick={() => onAdd(p)}>
                  Add<span className="visually-hidden"> {personName(p)}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}
