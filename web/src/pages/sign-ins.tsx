/**
 * The sign-in feed: who is using which computer, as the school's own systems report it (a logon
 * script on shared computers, RADIUS accounting from the wireless network, an agent). IT makes a
 * key for each system (shown once), revokes keys, and sees the newest sign-ins and sign-outs, so
 * they can tell the feed is working and why an address is filtered as a certain person.
 */
import { useState, type SyntheticEvent } from 'react';
import { api, seg } from '../api.ts';
import { Confirm, PanelBox } from '../components/action-panel.tsx';
import { ErrorMessage, Loading, Notice, Status } from '../components/alerts.tsx';
import { TextField } from '../components/field.tsx';
import { OneTimeSecret } from '../components/one-time-secret.tsx';
import { Page } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.tsx';
import type { IntegrationKey, LoginRow, LoginSource, School } from '../types.ts';
import { useApi } from '../use-api.ts';
import { useSubmission } from '../use-submission.ts';

const SOURCE_NAMES: Record<LoginSource, string> = {
  'logon-script': 'Logon script',
  radius: 'RADIUS',
  agent: 'Agent',
  proxy: 'Proxy sign-in',
  other: 'Other',
};

export function SignInsPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="Sign-ins"
      lead={
        <p>
          Who is using which computer{current ? ` at ${current.name}` : ''}, as your own systems tell Haven: a logon script on shared
          computers, RADIUS accounting from the wireless network, or an agent. The DNS filter and the proxy then filter that address by the
          person’s policy until they sign out or the sign-in lapses (10 hours unless the system says otherwise).
        </p>
      }
    >
      <SchoolRequired ability="device:read">
        {(school) => (
          <>
            <KeysPanel key={`keys-${school.id}`} school={school} />
            <RecentPanel key={`recent-${school.id}`} school={school} />
          </>
        )}
      </SchoolRequired>
    </Page>
  );
}

type Panel =
  { kind: 'none' } | { kind: 'make' } | { kind: 'secret'; key: IntegrationKey; secret: string } | { kind: 'revoke'; key: IntegrationKey };

function KeysPanel({ school }: { school: School }) {
  const { can } = useSession();
  const mayRead = can('integration_key:read', school.id);
  const mayCreate = can('integration_key:create', school.id);
  const mayUpdate = can('integration_key:update', school.id);
  const { data, error, loading, reload } = useApi<{ items: IntegrationKey[] }>(
    mayRead ? `/api/v1/schools/${seg(school.id)}/integration-keys` : null,
  );
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [status, setStatus] = useState('');
  if (!mayRead) return null;
  const close = () => setPanel({ kind: 'none' });
  const keys = data?.items ?? [];

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">Keys for school systems</h2>
      <Status>{status}</Status>
      {mayCreate && panel.kind === 'none' ? (
        <p>
          <button type="button" className="button" onClick={() => setPanel({ kind: 'make' })}>
            Make a key
          </button>
        </p>
      ) : null}
      {panel.kind === 'make' ? (
        <PanelBox title="Make a key">
          <KeyForm
            school={school}
            onCancel={close}
            onMade={(key, secret) => {
              setPanel({ kind: 'secret', key, secret });
              setStatus(`Made the key ${key.name}.`);
              reload();
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'secret' ? (
        <PanelBox title={`${panel.key.name}: the key`}>
          <SecretShown secret={panel.secret} onDone={close} />
        </PanelBox>
      ) : null}
      {panel.kind === 'revoke' ? (
        <PanelBox title={`Revoke ${panel.key.name}`}>
          <Confirm
            action="Revoke key"
            busyLabel="Revoking…"
            danger
            run={() =>
              api.post<{ key: IntegrationKey }>(`/api/v1/schools/${seg(school.id)}/integration-keys/${seg(panel.key.id)}/revoke`, {})
            }
            onCancel={close}
            onDone={() => {
              close();
              setStatus(`Revoked ${panel.key.name}. Haven refuses it from now on.`);
              reload();
            }}
          >
            <p>
              Whatever uses {panel.key.name} can no longer send sign-ins: its next call is refused. Sign-ins it already sent last until
              their sign-out or their time is up. This cannot be undone; make a new key to replace it.
            </p>
          </Confirm>
        </PanelBox>
      ) : null}
      <ErrorMessage error={error} />
      {loading && !data ? <Loading label="Loading keys…" /> : null}
      {data ? (
        keys.length === 0 ? (
          <p className="empty">No keys yet. Make one for each system that will send sign-ins.</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table of keys">
            <table className="table">
              <caption className="visually-hidden">Keys for school systems</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key begins</th>
                  <th scope="col">Made</th>
                  <th scope="col">Last used</th>
                  {mayUpdate ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} className={k.revokedAt ? 'row--muted' : undefined}>
                    <th scope="row">
                      <span className="cell-title">{k.name}</span>
                      {k.revokedAt ? <span className="badge badge--warning">Revoked {formatDateTime(k.revokedAt)}</span> : null}
                    </th>
                    <td>
                      <code>{k.hint}</code>
                    </td>
                    <td>{formatDateTime(k.createdAt)}</td>
                    <td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : <span className="muted">Never</span>}</td>
                    {mayUpdate ? (
                      <td className="actions">
                        {k.revokedAt === null ? (
                          <button
                            type="button"
                            className="button button--secondary button--small"
                            onClick={() => setPanel({ kind: 'revoke', key: k })}
                          >
                            Revoke<span className="visually-hidden"> {k.name}</span>
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}

function KeyForm({
  school,
  onCancel,
  onMade,
}: {
  school: School;
  onCancel: () => void;
  onMade: (key: IntegrationKey, secret: string) => void;
}) {
  const [name, setName] = useState('');
  const { busy, error, fields, run, refuse } = useSubmission();
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!name.trim()) return refuse({ name: 'Name the key after what will use it' });
    await run(
      () => api.post<{ key: IntegrationKey; secret: string }>(`/api/v1/schools/${seg(school.id)}/integration-keys`, { name: name.trim() }),
      (made) => onMade(made.key, made.secret),
    );
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <ErrorMessage error={error} />
      <TextField
        label="Name"
        hint="What will use it, such as “Logon script” or “RADIUS server”."
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={fields['name']}
        maxLength={80}
        required
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          Make key
        </button>
        <button type="button" className="button button--secondary" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function SecretShown({ secret, onDone }: { secret: string; onDone: () => void }) {
  const origin = window.location.origin;
  return (
    <>
      <Notice tone="warning">
        <p>
          <strong>Haven will not show this key again.</strong> Put it in the system that sends sign-ins and nowhere else: anyone who has it
          can tell Haven who is using a computer. If it is lost or seen, revoke it and make a new one.
        </p>
      </Notice>
      <OneTimeSecret label="Key" value={secret} testId="integration-key" />
      <p>The system sends sign-ins and sign-outs like this (several at once in one list, up to 1,000):</p>
      <pre className="code-block">
        {`curl -X POST ${origin}/api/v1/identity/events \\
  -H "Authorization: Bearer <key>" -H "Content-Type: application/json" \\
  -d '{"events":[{"type":"login","ip":"10.0.4.17","user":"jsmith@school.example","source":"logon-script"}]}'`}
      </pre>
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
    </>
  );
}

function RecentPanel({ school }: { school: School }) {
  const { data, error, loading, reload } = useApi<{ items: LoginRow[] }>(`/api/v1/schools/${seg(school.id)}/logins?limit=200`, {
    keepPrevious: true,
  });
  const rows = data?.items ?? [];
  return (
    <section aria-labelledby="recent-heading">
      <h2 id="recent-heading">Newest sign-ins and sign-outs</h2>
      <p>
        <button type="button" className="button button--secondary button--small" onClick={reload}>
          Refresh
        </button>
      </p>
      <ErrorMessage error={error} />
      {loading && !data ? <Loading label="Loading sign-ins…" /> : null}
      {data ? (
        rows.length === 0 ? (
          <p className="empty">No sign-ins have arrived yet.</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table of sign-ins">
            <table className="table">
              <caption className="visually-hidden">Newest sign-ins and sign-outs</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">Address</th>
                  <th scope="col">Name sent</th>
                  <th scope="col">Person</th>
                  <th scope="col">From</th>
                  <th scope="col">Lasts until</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.seq}>
                    <td>{formatDateTime(r.at)}</td>
                    <td>{r.kind === 'login' ? 'Sign-in' : 'Sign-out'}</td>
                    <td>
                      <code>{r.ip}</code>
                    </td>
                    <td>{r.username}</td>
                    <td>{r.personName ?? <span className="muted">Not matched: filtered as a guest</span>}</td>
                    <td>{SOURCE_NAMES[r.source]}</td>
                    <td>{r.expiresAt ? formatDateTime(r.expiresAt) : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}
