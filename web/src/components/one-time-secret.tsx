/** A password or code the API shows only once, with a copy button and a clear warning. */
import { useState, type ReactNode } from 'react';

interface OneTimeSecretProps {
  label: string;
  value: string;
  testId?: string;
  children?: ReactNode;
}

export function OneTimeSecret({ label, value, testId, children }: OneTimeSecretProps) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <div className="one-time">
      <p className="one-time-label">{label}</p>
      <p className="one-time-value">
        <code data-testid={testId}>{value}</code>
        <button type="button" className="button button--secondary button--small" onClick={() => void copy()}>
          Copy<span className="visually-hidden"> {label.toLowerCase()}</span>
        </button>
      </p>
      <p role="status" className="one-time-copied">
        {copied === 'yes' ? 'Copied.' : copied === 'no' ? 'Could not copy: select the text and copy it yourself.' : ''}
      </p>
      {children}
    </div>
  );
}
