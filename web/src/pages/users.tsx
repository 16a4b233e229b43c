import { useEffect, useRef, useState, type SyntheticEvent, type ReactNode } from 'react';
import { api, fieldErrorsOf, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { CheckboxField, TextField } from '../components/field.tsx';
import { GrantsEditor, uniqueGrants } from '../components/grants-editor.tsx';
import { OneTimeSecret } from '../components/one-time-secret.tsx';
import { Page } from '../components/page.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime, roleLabel } from '../format.ts';
import { useActiveSession, useSession } from '../session.tsx';
import type { Grant, RoleInfo, School, User } from '../types.ts';
import { useApi } from '../use-api.ts';

type Panel =
  | { kind: 'none' }
  | { kind: 'add' }
  | { kind: 'added'; user: User; password: string }
  | { kind: 'edit'; user: User }
  | { kind: 'reset'; user: User }
  | { kind: 'was-reset'; user: User; password: string; twoFactor: boolean };

export function UsersPage() {
  const session = useActiveSession();
  const { can } = useSession();
  const { schools } = useCurrentSchool();
  const users = useApi<{ items: User[] }>('/api/v1/users');
  const roles = useApi<{ items: RoleInfo[] }>('/api/v1/meta/roles');
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [status, setStatus] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const roleList = roles.data?.items ?? [];
  const sorted = [...(users.data?.items ?? [])].sort((a, b) => (a.displayName || a.email).localeCompare(b.displayName || b.email, 'en-GB'));

  const replaceUser = (u: User) => users.setData((prev) => (prev ? { items: prev.items.map((x) => (x.id === u.id ? u : x)) } : prev));

  const setDisabled = async (user: User, disabled: boolean) => {
    setActionError(null);
    setBusyId(user.id);
    try {
      const { user: updated } = await api.patch<{ user: User }>(`/api/v1/users/${seg(user.id)}`, { disabled });
      replaceUser(updated);
      setStatus(disabled ? `${nameOf(user)} can no longer log in.` : `${nameOf(user)} can log in again.`);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusyId(null);
    }
  };

  return (
    <Page
      title="Users and roles"
      lead={<p>Staff who can log in to Haven, and what each may see and do.</p>}
      actions={
        can('user:create') && panel.kind !== 'add' ? (
          <button type="button" className="button" onClick={() => setPanel({ kind: 'add' })}>
            Add user
          </button>
        ) : null
      }
    >
      <Status>{status}</Status>
      <ErrorMessage error={actionError} />
      <ErrorMessage error={roles.error} />

      {panel.kind === 'add' ? (
        <PanelBox title="Add a user">
          <UserForm
            roles={roleList}
            schools={schools}
            onCancel={() => setPanel({ kind: 'none' })}
            onSaved={(user, password) => {
              users.setData((prev) => (prev ? { items: [...prev.items, user] } : prev));
              setPanel({ kind: 'added', user, password: password ?? '' });
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'added' ? (
        <PanelBox title={`${nameOf(panel.user)} has been added`}>
          <OneTimeSecret label="Temporary password" value={panel.password} testId="temporary-password">
            <p>
              Give this password to {nameOf(panel.user)} privately, not by email. They will choose their own password when they first log
              in. <strong>Haven will not show it again.</strong>
            </p>
          </OneTimeSecret>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setPanel({ kind: 'none' })}>
              Done
            </button>
          </div>
        </PanelBox>
      ) : null}
      {panel.kind === 'edit' ? (
        <PanelBox title={`Edit ${nameOf(panel.user)}`}>
          <UserForm
            key={panel.user.id}
            user={panel.user}
            roles={roleList}
            schools={schools}
            onCancel={() => setPanel({ kind: 'none' })}
            onSaved={(user) => {
              replaceUser(user);
              setPanel({ kind: 'none' });
              setStatus(`Saved changes to ${nameOf(user)}.`);
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'reset' ? (
        <PanelBox title={`Reset the password of ${nameOf(panel.user)}`}>
          <ResetPassword
            user={panel.user}
            onCancel={() => setPanel({ kind: 'none' })}
            onDone={(password, twoFactor) => {
              setPanel({ kind: 'was-reset', user: panel.user, password, twoFactor });
              users.reload();
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'was-reset' ? (
        <PanelBox title={`New password for ${nameOf(panel.user)}`}>
          <OneTimeSecret label="Temporary password" value={panel.password} testId="temporary-password">
            <p>
              Give this password to {nameOf(panel.user)} privately. They will choose their own password when they next log in
              {panel.twoFactor ? ' and set up two-factor authentication again' : ''}. Any sessions they had are ended.{' '}
              <strong>Haven will not show it again.</strong>
            </p>
          </OneTimeSecret>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setPanel({ kind: 'none' })}>
              Done
            </button>
          </div>
        </PanelBox>
      ) : null}

      <ErrorMessage error={users.error} />
      {users.loading && !users.data ? <Loading label="Loading users…" /> : null}
      {users.data ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
          <table className="table">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Roles</th>
                <th scope="col">Two-factor</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((u) => (
                <tr key={u.id} className={u.disabled ? 'row--muted' : undefined}>
                  <th scope="row">
                    <span className="cell-title">{u.displayName || u.email}</span>
                    <span className="cell-sub break">{u.email}</span>
                  </th>
                  <td>
                    <GrantList grants={u.grants} roles={roleList} schools={schools} />
                  </td>
                  <td>{u.totpEnabled ? <span className="badge badge--success">On</span> : <span className="badge">Off</span>}</td>
                  <td>
                    <UserStatus user={u} />
                  </td>
                  <td className="actions">
                    {can('user:update') ? (
                      <button
                        type="button"
                        className="button button--secondary button--small"
                        onClick={() => setPanel({ kind: 'edit', user: u })}
                      >
                        Edit<span className="visually-hidden"> {u.email}</span>
                      </button>
                    ) : null}
                    {can('user:update') && u.id !== session.user.id ? (
                      <button
                        type="button"
                        className="button button--secondary button--small"
                        disabled={busyId === u.id}
                        onClick={() => void setDisabled(u, !u.disabled)}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                        <span className="visually-hidden"> {u.email}</span>
                      </button>
                    ) : null}
                    {can('user:reset_password') ? (
                      <button
                        type="button"
                        className="button button--secondary button--small"
                        onClick={() => setPanel({ kind: 'reset', user: u })}
                      >
                        Reset password<span className="visually-hidden"> for {u.email}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}

const nameOf = (u: User) => u.displayName || u.email;

/** A boxed panel that takes focus when it opens, so keyboard users land in it. */
function PanelBox({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [title]);
  return (
    <section className="panel panel--raised" aria-labelledby="user-panel-title">
      <h2 id="user-panel-title" ref={heading} tabIndex={-1}>
        {title}
      </h2>
      {children}
    </section>
  );
}

function GrantList({ grants, roles, schools }: { grants: Grant[]; roles: RoleInfo[]; schools: School[] }) {
  if (grants.length === 0) return <span className="muted">No roles</span>;
  return (
    <ul className="plain-list">
      {grants.map((g, i) => (
        <li key={i}>
          {roleLabel(g.role, roles)}
          <span className="muted">
            {' '}
            · {g.schoolId === null ? 'All schools' : (schools.find((s) => s.id === g.schoolId)?.name ?? 'Another school')}
          </span>
        </li>
      ))}
    </ul>
  );
}

function UserStatus({ user }: { user: User }) {
  const parts: ReactNode[] = [];
  if (user.disabled)
    parts.push(
      <span key="d" className="badge badge--danger">
        Disabled
      </span>,
    );
  if (user.lockedUntil && Date.parse(user.lockedUntil) > Date.now()) {
    parts.push(
      <span key="l" className="badge badge--warning" title={`Locked until ${formatDateTime(user.lockedUntil)}`}>
        Locked until {formatDateTime(user.lockedUntil)}
      </span>,
    );
  }
  if (user.mustChangePassword && !user.disabled)
    parts.push(
      <span key="p" className="badge">
        Must change password
      </span>,
    );
  if (parts.length === 0)
    parts.push(
      <span key="a" className="badge badge--success">
        Active
      </span>,
    );
  return <div className="badges">{parts}</div>;
}

interface UserFormProps {
  user?: User;
  roles: RoleInfo[];
  schools: School[];
  onSaved: (user: User, temporaryPassword?: string) => void;
  onCancel: () => void;
}

function UserForm({ user, roles, schools, onSaved, onCancel }: UserFormProps) {
  const editing = user !== undefined;
  const [email, setEmail] = useState(user?.email ?? '');
  const [displayName, setDisplayName] = useState(user?.displayName ?? '');
  const [grants, setGrants] = useState<Grant[]>(
    () => user?.grants ?? [{ role: 'staff', schoolId: schools.length === 1 ? (schools[0]?.id ?? null) : null }],
  );
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!editing && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) problems['email'] = 'Enter an email address like name@school.org.uk';
    if (!displayName.trim()) problems['displayName'] = 'Enter the person’s name';
    if (grants.length === 0) problems['grants'] = 'Give the user at least one role';
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) {
      setError('Check the highlighted fields.');
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const clean = uniqueGrants(grants);
      if (editing) {
        const { user: updated } = await api.patch<{ user: User }>(`/api/v1/users/${seg(user.id)}`, {
          displayName: displayName.trim(),
          grants: clean,
        });
        onSaved(updated);
      } else {
        const result = await api.post<{ user: User; temporaryPassword: string }>('/api/v1/users', {
          email: email.trim(),
          displayName: displayName.trim(),
          grants: clean,
        });
        onSaved(result.user, result.temporaryPassword);
      }
    } catch (err) {
      setError(err);
      setFieldErrors(fieldErrorsOf(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form-grid">
      <ErrorMessage error={error} />
      <div className="form-row">
        {editing ? (
          <div className="field">
            <span className="field-label">Email</span>
            <p className="field-static">{user.email}</p>
          </div>
        ) : (
          <TextField
            label="Email"
            type="email"
            autoComplete="off"
            spellCheck={false}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={fieldErrors['email']}
            maxLength={254}
            required
          />
        )}
        <TextField
          label="Name"
          autoComplete="off"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={fieldErrors['displayName']}
          maxLength={100}
          required
        />
      </div>
      <GrantsEditor grants={grants} onChange={setGrants} roles={roles} schools={schools} error={fieldErrors['grants']} />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Add user'}
        </button>
        <button type="button" className="button button--secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ResetPassword({
  user,
  onDone,
  onCancel,
}: {
  user: User;
  onDone: (password: string, twoFactor: boolean) => void;
  onCancel: () => void;
}) {
  const [resetTwoFactor, setResetTwoFactor] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const { temporaryPassword } = await api.post<{ temporaryPassword: string }>(`/api/v1/users/${seg(user.id)}/reset-password`, {
        resetTwoFactor,
      });
      onDone(temporaryPassword, resetTwoFactor);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <ErrorMessage error={error} />
      <p>
        Haven will make a temporary password for {user.email}. Their current password stops working at once, and they must choose a new one
        when they next log in.
      </p>
      <CheckboxField
        label="Also reset two-factor authentication"
        hint="Use this if they have lost their phone and their recovery codes. They will set up two-factor authentication again."
        checked={resetTwoFactor}
        onChange={(e) => setResetTwoFactor(e.target.checked)}
        disabled={!user.totpEnabled}
      />
      <div className="form-actions">
        <button type="submit" className="button button--danger" disabled={busy}>
          Reset password
        </button>
        <button type="button" className="button button--secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
