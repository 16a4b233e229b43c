import { useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { ErrorMessage } from '../components/alerts.tsx';
import { AuthLayout } from '../components/auth-layout.tsx';
import { TextField } from '../components/field.tsx';
import { useSession } from '../session.tsx';
import type { SessionView } from '../types.ts';

/** The second step of logging in: a code from the authenticator app or a recovery code. */
export function MfaVerifyPage() {
  const { session, setSession, logout } = useSession();
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    if (!code.trim()) {
      setError('Enter the code from your authenticator app, or a recovery code.');
      return;
    }
    setBusy(true);
    try {
      const result = await api.post<{ session: SessionView }>('/api/v1/auth/mfa/verify', { code: code.trim() });
      setSession(result.session);
    } catch (err) {
      setError(err);
      setCode('');
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Two-factor authentication">
      <p>
        Open the authenticator app on your phone and enter the 6-digit code it shows for Haven
        {session ? ` (${session.user.email})` : ''}.
      </p>
      <ErrorMessage error={error} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="Code"
          name="code"
          hint="The 6-digit code from your app. Lost your phone? Enter one of your recovery codes instead."
          autoComplete="one-time-code"
          spellCheck={false}
          autoCapitalize="none"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          className="field--code"
          required
          autoFocus
        />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Checking…' : 'Verify'}
          </button>
          <button type="button" className="button button--secondary" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}
