/** Error and status messages that screen readers announce. */
import type { ReactNode } from 'react';
import { ApiError, messageOf } from '../api.ts';

interface Problem {
  path?: unknown;
  message?: unknown;
}

const problemsOf = (error: unknown): string[] => {
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_FAILED' || !Array.isArray(error.details)) return [];
  return (error.details as Problem[])
    .filter((d) => d && typeof d.message === 'string')
    .map((d) => {
      const path = typeof d.path === 'string' ? d.path.replace(/^\//, '').replace(/\//g, '.') : '';
      return path ? `${path}: ${String(d.message)}` : String(d.message);
    });
};

/** Shows an error from the API (or any thrown value); renders nothing when there is none. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problems = problemsOf(error);
  return (
    <div className="alert alert--error" role="alert">
      {title ? <p className="alert-title">{title}</p> : null}
      <p>{typeof error === 'string' ? error : messageOf(error)}</p>
      {problems.length > 0 ? (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/**
 * A polite live region that is always in the page, so changes to its text are announced.
 * Empty when there is nothing to say.
 */
export function Status({ children, quiet = false }: { children?: ReactNode; quiet?: boolean }) {
  const shown = children ? (quiet ? ' status--quiet' : ' status--shown') : '';
  return (
    <div role="status" aria-live="polite" className={`status${shown}`}>
      {children}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' | 'warning' }) {
  return <div className={`alert alert--${tone}`}>{children}</div>;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}
