/**
 * The pieces of a page that acts on a row: a boxed panel that takes focus when it opens (so
 * keyboard and screen-reader users land in it), and a confirmation with the action's consequences,
 * a busy label and the error if it fails.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ErrorMessage } from './alerts.tsx';

/** A boxed panel that takes focus when it opens, so keyboard users land in it. */
export function PanelBox({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();
  useEffect(() => heading.current?.focus(), [title]);
  return (
    <section className="panel panel--raised" aria-labelledby={id}>
      <h2 id={id} ref={heading} tabIndex={-1}>
        {title}
      </h2>
      {children}
    </section>
  );
}

export function Confirm<T>({
  action,
  busyLabel,
  danger,
  run,
  onCancel,
  onDone,
  children,
}: {
  action: string;
  busyLabel: string;
  danger?: boolean;
  run: () => Promise<T>;
  onCancel: () => void;
  onDone: (result: T) => void;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      onDone(await run());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <>
      {children}
      <ErrorMessage error={error} />
      <div className="form-actions">
        <button type="button" className={danger ? 'button button--danger' : 'button'} disabled={busy} onClick={() => void go()}>
          {busy ? busyLabel : action}
        </button>
        <button type="button" className="button button--secondary" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
