/** Current, new and confirm: used when a change is required and from My account. */
import { useState, type SyntheticEvent } from 'react';
import { api, fieldErrorsOf } from '../api.ts';
import type { SessionView } from '../types.ts';
import { ErrorMessage } from './alerts.tsx';
import { TextField } from './field.tsx';

const MIN_LENGTH = 12;

export function PasswordChangeForm({
  onChanged,
  submitLabel = 'Change password',
}: {
  onChanged: (session: SessionView) => void;
  submitLabel?: string;
}) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    const problems: Record<string, string> = {};
    if (!current) problems['currentPassword'] = 'Enter your current password';
    if (next.length < MIN_LENGTH) problems['newPassword'] = `Use at least ${MIN_LENGTH} characters`;
    if (confirm !== next) problems['confirm'] = 'The two new passwords are not the same';
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) {
      setError('Check the password fields.');
      return;
    }
    setBusy(true);
    try {
      const { session } = await api.post<{ session: SessionView }>('/api/v1/auth/password', {
        currentPassword: current,
        newPassword: next,
      });
      setCurrent('');
      setNext('');
      setConfirm('');
      onChanged(session);
    } catch (err) {
      setError(err);
      setFieldErrors(fieldErrorsOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form-narrow">
      <ErrorMessage error={error} />
      <TextField
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={fieldErrors['currentPassword']}
        required
      />
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        hint={`At least ${MIN_LENGTH} characters. Three or four unrelated words make a strong password that is easy to remember.`}
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={fieldErrors['newPassword']}
        required
      />
      <TextField
        label="Confirm new password"
        type="password"
        autoComplete="new-password"
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        error={fieldErrors['confirm']}
        required
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
