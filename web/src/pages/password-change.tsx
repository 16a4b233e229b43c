import { AuthLayout } from '../components/auth-layout.tsx';
import { PasswordChangeForm } from '../components/password-change-form.tsx';
import { useSession } from '../session.tsx';

/** Shown after logging in with a temporary password set by an administrator. */
export function PasswordChangePage() {
  const { setSession, logout } = useSession();
  return (
    <AuthLayout title="Choose a new password">
      <p>You are using a temporary password. Choose your own password before you carry on.</p>
      <PasswordChangeForm onChanged={setSession} />
      <p className="auth-aside">
        <button type="button" className="button-link" onClick={() => void logout()}>
          Log out
        </button>
      </p>
    </AuthLayout>
  );
}
