import { AuthLayout } from '../components/auth-layout.tsx';
import { TotpEnrolment } from '../components/totp-enrolment.tsx';
import { useSession } from '../session.tsx';

/** Shown when the user's role needs two-factor authentication and they have not set it up. */
export function MfaEnrolPage() {
  const { setSession, logout } = useSession();
  return (
    <AuthLayout title="Set up two-factor authentication" wide>
      <p>
        Your role in Haven gives you access to sensitive information about children, so you need a second step when you log in: a code from
        an app on your phone.
      </p>
      <TotpEnrolment autoStart onComplete={setSession} />
      <p className="auth-aside">
        <button type="button" className="button-link" onClick={() => void logout()}>
          Log out and do this later
        </button>
      </p>
    </AuthLayout>
  );
}
