/**
 * Turning on TOTP two-factor authentication: a QR code and key for the app, a first code to prove
 * it works, then ten recovery codes shown once.
 */
import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import type { SessionView, TotpSetup } from '../types.ts';
import { ErrorMessage } from './alerts.tsx';
import { TextField } from './field.tsx';

interface TotpEnrolmentProps {
  /** Start at once (when 2FA is required) rather than waiting for the button. */
  autoStart: boolean;
  /** Called after the user has seen the recovery codes and pressed Continue. */
  onComplete: (session: SessionView) => void;
  onCancel?: () => void;
  /** Heading level for the steps: 2 on its own screen, 3 inside My account. */
  level?: 2 | 3;
}

type Step =
  { kind: 'idle' } | { kind: 'starting' } | { kind: 'scan'; setup: TotpSetup } | { kind: 'codes'; codes: string[]; session: SessionView };

export function TotpEnrolment({ autoStart, onComplete, onCancel, level = 2 }: TotpEnrolmentProps) {
  const [step, setStep] = useState<Step>({ kind: autoStart ? 'starting' : 'idle' });
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const started = useRef(false);
  const H = level === 2 ? 'h2' : 'h3';

  const start = async () => {
    setError(null);
    setStep({ kind: 'starting' });
    try {
      const setup = await api.post<TotpSetup>('/api/v1/auth/mfa/setup', {});
      setStep({ kind: 'scan', setup });
    } catch (err) {
      setError(err);
      setStep({ kind: 'idle' });
    }
  };

  useEffect(() => {
    // Each set-up call makes a new key, so start only once even if the effect runs twice.
    if (autoStart && !started.current) {
      started.current = true;
      void start();
    }
  }, [autoStart]);

  const enable = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    const clean = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(clean)) {
      setError('Enter the 6-digit code your app shows for Haven.');
      return;
    }
    setBusy(true);
    try {
      const result = await api.post<{ recoveryCodes: string[]; session: SessionView }>('/api/v1/auth/mfa/enable', { code: clean });
      setStep({ kind: 'codes', codes: result.recoveryCodes, session: result.session });
    } catch (err) {
      setError(err);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  if (step.kind === 'idle' || step.kind === 'starting') {
    return (
      <div className="enrol">
        <ErrorMessage error={error} />
        {step.kind === 'starting' ? (
          <p className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            Preparing your QR code…
          </p>
        ) : (
          <div className="form-actions">
            <button type="button" className="button" onClick={() => void start()}>
              Set up two-factor authentication
            </button>
            {onCancel ? (
              <button type="button" className="button button--secondary" onClick={onCancel}>
                Cancel
              </button>
            ) : null}
          </div>
        )}
      </div>
    );
  }

  if (step.kind === 'scan') {
    const { setup } = step;
    return (
      <div className="enrol">
        <ol className="steps">
          <li>
            <H>Get an authenticator app</H>
            <p>Use any authenticator app on your phone, such as Microsoft Authenticator, Google Authenticator or 2FAS.</p>
          </li>
          <li>
            <H>Add Haven to the app</H>
            <p>In the app, choose to add an account and scan this QR code.</p>
            <img
              className="qr"
              src={setup.qrSvgDataUrl}
              width={200}
              height={200}
              alt="QR code for adding Haven to your authenticator app. If you cannot scan it, use the key written below."
            />
            <p>If you cannot scan the code, choose to enter a key instead and type this key:</p>
            <p className="secret">
              <code data-testid="totp-secret">{setup.secret}</code>
            </p>
          </li>
          <li>
            <H>Enter the code the app shows</H>
            <ErrorMessage error={error} />
            <form onSubmit={(e) => void enable(e)} noValidate>
              <TextField
                label="Code from your app"
                name="totp-code"
                hint="6 digits. The code changes every 30 seconds."
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(e) => setCode(e.target.value)}
                className="field--code"
                required
              />
              <div className="form-actions">
                <button type="submit" className="button" disabled={busy}>
                  {busy ? 'Checking…' : 'Turn on two-factor authentication'}
                </button>
                {onCancel ? (
                  <button type="button" className="button button--secondary" onClick={onCancel}>
                    Cancel
                  </button>
                ) : null}
              </div>
            </form>
          </li>
        </ol>
      </div>
    );
  }

  return <RecoveryCodes codes={step.codes} onContinue={() => onComplete(step.session)} level={level} />;
}

function RecoveryCodes({ codes, onContinue, level }: { codes: string[]; onContinue: () => void; level: 2 | 3 }) {
  const [copied, setCopied] = useState<string>('');
  const heading = useRef<HTMLHeadingElement>(null);
  const H = level === 2 ? 'h2' : 'h3';
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const text = `Haven recovery codes\nEach code works once.\n\n${codes.join('\n')}\n`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Recovery codes copied.');
    } catch {
      setCopied('Could not copy: select the codes and copy them yourself.');
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'haven-recovery-codes.txt';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="enrol">
      <div className="alert alert--success">
        <p>Two-factor authentication is now on.</p>
      </div>
      <H ref={heading} tabIndex={-1}>
        Save your recovery codes
      </H>
      <div className="alert alert--warning">
        <p>
          <strong>Save these codes now. Haven will not show them again.</strong> If you lose your phone, each code lets you log in once.
          Keep them somewhere safe and private, such as a password manager.
        </p>
      </div>
      <ol className="recovery-codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="form-actions">
        <button type="button" className="button button--secondary" onClick={() => void copy()}>
          Copy codes
        </button>
        <button type="button" className="button button--secondary" onClick={download}>
          Download codes
        </button>
      </div>
      <p role="status" className="small">
        {copied}
      </p>
      <div className="form-actions">
        <button type="button" className="button" onClick={onContinue}>
          Continue
        </button>
      </div>
    </div>
  );
}
