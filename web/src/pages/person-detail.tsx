import { useState } from 'react';
import { api, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { Page, Section } from '../components/page.tsx';
import { PersonForm } from '../components/person-form.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { formatDate, formatDateTime, GROUP_KIND_LABELS, KIND_LABELS, personName, yearLabel } from '../format.ts';
import { Link, useRoute } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { Group, Person, School } from '../types.ts';
import { useApi } from '../use-api.ts';

interface PersonDetail {
  person: Person;
  parents: Person[];
  children: Person[];
  groups: Group[];
}

export function PersonDetailPage({ personId }: { personId: string }) {
  return (
    <SchoolRequired ability="person:read">
      {(school) => <PersonDetailView key={school.id} school={school} personId={personId} />}
    </SchoolRequired>
  );
}

function PersonDetailView({ school, personId }: { school: School; personId: string }) {
  const { can } = useSession();
  const route = useRoute();
  const { data, error, loading, setData, reload } = useApi<PersonDetail>(`/api/v1/schools/${seg(school.id)}/people/${seg(personId)}`);
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState(route.params.get('added') ? 'Person added.' : '');
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const mayEdit = can('person:update', school.id);

  if (!data) {
    return (
      <Page title={loading ? 'Person' : 'Person not found'} back={{ to: '/people', label: 'Back to the list' }}>
        {loading ? <Loading label="Loading…" /> : <ErrorMessage error={error} />}
      </Page>
    );
  }

  const { person, parents, children, groups } = data;
  const name = personName(person);

  const setLeft = async (left: boolean) => {
    setActionError(null);
    setBusy(true);
    try {
      const { person: updated } = await api.patch<{ person: Person }>(`/api/v1/schools/${seg(school.id)}/people/${seg(person.id)}`, {
        left,
      });
      setData((prev) => (prev ? { ...prev, person: updated } : prev));
      setStatus(left ? `${name} is marked as having left.` : `${name} is marked as back at ${school.name}.`);
      reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title={name}
      back={{ to: '/people', label: 'Back to the list' }}
      actions={
        mayEdit && !editing ? (
          <>
            <button type="button" className="button button--secondary" onClick={() => setEditing(true)}>
              Edit<span className="visually-hidden"> {name}</span>
            </button>
            {person.leftAt ? (
              <button type="button" className="button button--secondary" disabled={busy} onClick={() => void setLeft(false)}>
                Mark as returned
              </button>
            ) : (
              <button type="button" className="button button--secondary" disabled={busy} onClick={() => void setLeft(true)}>
                Mark as left
              </button>
            )}
          </>
        ) : null
      }
      lead={
        <p>
          <span className="badge badge--info">{KIND_LABELS[person.kind]}</span>
          {person.leftAt ? <span className="badge badge--warning">Left {formatDate(person.leftAt)}</span> : null}
        </p>
      }
    >
      <Status>{status}</Status>
      <ErrorMessage error={actionError} />
      {editing ? (
        <Section title="Edit details" id="edit-person">
          <PersonForm
            schoolId={school.id}
            person={person}
            onSaved={(updated) => {
              setData((prev) => (prev ? { ...prev, person: updated } : prev));
              setEditing(false);
              setStatus('Changes saved.');
            }}
            onCancel={() => setEditing(false)}
          />
        </Section>
      ) : (
        <Section title="Details" id="person-details">
          <dl className="summary">
            <Row label="Name" value={name} />
            <Row label="Kind" value={KIND_LABELS[person.kind]} />
            {person.kind === 'pupil' || person.upn ? <Row label="UPN" value={person.upn} mono /> : null}
            {person.kind === 'pupil' || person.yearGroup ? <Row label="Year group" value={yearLabel(person.yearGroup)} /> : null}
            <Row label="Date of birth" value={formatDate(person.dateOfBirth)} />
            <Row label="Email" value={person.email} />
            {person.kind === 'staff' || person.staffRole ? <Row label="Staff role" value={person.staffRole} /> : null}
            <Row label="School" value={school.name} />
            <Row label="Status" value={person.leftAt ? `Left on ${formatDate(person.leftAt)}` : 'Current'} />
            <Row label="Added to Haven" value={formatDateTime(person.createdAt)} />
            <Row label="Last changed" value={formatDateTime(person.updatedAt)} />
          </dl>
        </Section>
      )}

      <div className="two-col">
        {person.kind === 'pupil' || parents.length > 0 ? (
          <Section title="Parents and carers" id="person-parents">
            <PersonLinks people={parents} empty="No parents or carers are linked." />
          </Section>
        ) : null}
        {person.kind === 'parent' || children.length > 0 ? (
          <Section title="Children" id="person-children">
            <PersonLinks people={children} empty="No children are linked." />
          </Section>
        ) : null}
        <Section title="Groups" id="person-groups">
          {groups.length === 0 ? (
            <p className="muted">Not in any group.</p>
          ) : (
            <ul className="link-list">
              {groups.map((g) => (
                <li key={g.id}>
                  <Link to={`/groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>{' '}
                  <span className="muted small">{GROUP_KIND_LABELS[g.kind]}</span>
                </li>
              ))}
            </ul>
          )}
        </Section>
      </div>
    </Page>
  );
}

function Row({ label, value, mono = false }: { label: string; value: string | null | undefined; mono?: boolean }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{value ? value : <span className="muted">Not recorded</span>}</dd>
    </div>
  );
}

function PersonLinks({ people, empty }: { people: Person[]; empty: string }) {
  if (people.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="link-list">
      {people.map((p) => (
        <li key={p.id}>
          <Link to={`/people/${encodeURIComponent(p.id)}`}>{personName(p)}</Link>{' '}
          <span className="muted small">
            {KIND_LABELS[p.kind]}
            {p.yearGroup ? `, ${yearLabel(p.yearGroup)}` : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}
