import { useState } from 'react';
import { Status } from '../components/alerts.tsx';
import { Page, Section } from '../components/page.tsx';
import { PasswordChangeForm } from '../components/password-change-form.tsx';
import { TotpEnrolment } from '../components/totp-enrolment.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime, roleLabel } from '../format.ts';
import { useActiveSession, useSession } from '../session.tsx';
import type { RoleInfo } from '../types.ts';
import { useApi } from '../use-api.ts';

export function MyAccountPage() {
  const session = useActiveSession();
  const { setSession } = useSession();
  const { schools } = useCurrentSchool();
  const roles = useApi<{ items: RoleInfo[] }>('/api/v1/meta/roles');
  const [status, setStatus] = useState('');
  const [enrolling, setEnrolling] = useState(false);
  const { user } = session;

  return (
    <Page title="My account">
      <Status>{status}</Status>
      <Section title="About you" id="account-about">
        <dl className="summary">
          <div>
            <dt>Name</dt>
            <dd>{user.displayName}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{user.email}</dd>
          </div>
          <div>
            <dt>Roles</dt>
            <dd>
              {user.grants.length === 0 ? (
                <span className="muted">None</span>
              ) : (
                <ul className="plain-list">
                  {user.grants.map((g, i) => (
                    <li key={i}>
                      {roleLabel(g.role, roles.data?.items)}
                      <span className="muted">
                        {' · '}
                        {g.schoolId === null ? 'All schools' : (schools.find((s) => s.id === g.schoolId)?.name ?? 'Another school')}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
          <div>
            <dt>Session ends</dt>
            <dd>
              {formatDateTime(session.expiresAt)}; it locks after {session.idleLockMinutes} minutes without activity
            </dd>
          </div>
        </dl>
      </Section>

      <Section title="Two-factor authentication" id="account-2fa">
        {user.totpEnabled ? (
          <p>
            <span className="badge badge--success">On</span> You enter a code from your authenticator app when you log in. If you lose your
            phone and your recovery codes, ask your Haven administrator to reset it.
          </p>
        ) : enrolling ? (
          <TotpEnrolment
            autoStart
            level={3}
            onCancel={() => setEnrolling(false)}
            onComplete={(s) => {
              setEnrolling(false);
              setSession(s);
              setStatus('Two-factor authentication is on.');
            }}
          />
        ) : (
          <>
            <p>
              <span className="badge">Off</span> A code from an app on your phone keeps your account safe even if someone learns your
              password.
            </p>
            <div className="form-actions">
              <button type="button" className="button" onClick={() => setEnrolling(true)}>
                Set up two-factor authentication
              </button>
            </div>
          </>
        )}
      </Section>

      <Section title="Change your password" id="account-password">
        <PasswordChangeForm
          onChanged={(s) => {
            setSession(s);
            setStatus('Your password has been changed.');
          }}
        />
      </Section>
    </Page>
  );
}
