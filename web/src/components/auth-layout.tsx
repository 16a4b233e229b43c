/** The calm, single-card frame of the screens before the app: login, second step, lock. */
import { useEffect, useRef, type ReactNode } from 'react';

export function AuthLayout({ title, children, wide = false }: { title: string; children: ReactNode; wide?: boolean }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} – Haven`;
  }, [title]);
  return (
    <div className="auth">
      <header className="auth-header">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Haven
        </p>
      </header>
      <main id="main" className="auth-main">
        <div className={`auth-card${wide ? ' auth-card--wide' : ''}`}>
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {children}
        </div>
      </main>
      <footer className="auth-footer">
        <p>Haven keeps an audit record of every sign-in.</p>
      </footer>
    </div>
  );
}
