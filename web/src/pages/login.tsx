import { useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { ErrorMessage, Status } from '../components/alerts.tsx';
import { AuthLayout } from '../components/auth-layout.tsx';
import { TextField } from '../components/field.tsx';
import { useSession } from '../session.tsx';
import type { SessionView } from '../types.ts';

export function LoginPage() {
  const { setSession, notice } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    if (!email.trim() || !password) {
      setError('Enter your email address and password.');
      return;
    }
    setBusy(true);
    try {
      const { session } = await api.post<{ session: SessionView }>('/api/v1/auth/login', { email: email.trim(), password });
      setSession(session);
    } catch (err) {
      setError(err);
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Log in to Haven">
      <Status>{notice}</Status>
      <ErrorMessage error={error} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          spellCheck={false}
          autoCapitalize="none"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          autoFocus
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </div>
      </form>
      <p className="muted small">Forgotten your password? Ask your Haven administrator to reset it.</p>
    </AuthLayout>
  );
}
