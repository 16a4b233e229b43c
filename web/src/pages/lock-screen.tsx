import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { ErrorMessage } from '../components/alerts.tsx';
import { AuthLayout } from '../components/auth-layout.tsx';
import { TextField } from '../components/field.tsx';
import { useSession } from '../session.tsx';
import type { SessionView } from '../types.ts';

/**
 * Shown when the session locked after a spell without activity. The rest of the app is taken off
 * the page while locked; the address keeps the user's place so unlocking returns them there.
 */
export function LockScreen() {
  const { session, setSession, logout } = useSession();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const needsCode = session?.user.totpEnabled ?? false;
  const minutes = session?.idleLockMinutes ?? 0;

  useEffect(() => {
    passwordRef.current?.focus();
  }, []);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    if (!password || (needsCode && !code.trim())) {
      setError(needsCode ? 'Enter your password and a code from your app.' : 'Enter your password.');
      return;
    }
    setBusy(true);
    try {
      const body: { password: string; code?: string } = { password };
      if (needsCode) body.code = code.trim();
      const result = await api.post<{ session: SessionView }>('/api/v1/auth/unlock', body);
      setSession(result.session);
    } catch (err) {
      setError(err);
      setPassword('');
      setCode('');
      setBusy(false);
      passwordRef.current?.focus();
    }
  };

  return (
    <AuthLayout title="Your session is locked">
      <p>
        Your session was locked after {minutes} {minutes === 1 ? 'minute' : 'minutes'} without activity, to keep information about children
        safe on an unattended screen.
      </p>
      {session ? (
        <p>
          Logged in as <strong>{session.user.displayName || session.user.email}</strong>
          {session.user.displayName ? ` (${session.user.email})` : ''}. Enter your password to carry on where you left off.
        </p>
      ) : null}
      <ErrorMessage error={error} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          ref={passwordRef}
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {needsCode ? (
          <TextField
            label="Code"
            hint="The 6-digit code from your authenticator app, or a recovery code."
            autoComplete="one-time-code"
            spellCheck={false}
            autoCapitalize="none"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            className="field--code"
            required
          />
        ) : null}
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Unlocking…' : 'Unlock'}
          </button>
          <button type="button" className="button button--secondary" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}
