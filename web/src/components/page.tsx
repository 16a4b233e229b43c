/** The frame of every signed-in screen: a title, a focusable heading and optional actions. */
import { useEffect, useRef, type ReactNode } from 'react';
import { Link } from '../router.tsx';

interface PageProps {
  title: string;
  /** Shown above the heading, e.g. a link back to the list. */
  back?: { to: string; label: string };
  /** Buttons or links beside the heading. */
  actions?: ReactNode;
  /** Shown under the heading. */
  lead?: ReactNode;
  children: ReactNode;
}

export function Page({ title, back, actions, lead, children }: PageProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} – Haven`;
  }, [title]);
  // Moving focus to the heading tells screen-reader users that the screen changed.
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, []);
  return (
    <div className="page">
      {back ? (
        <p className="page-back">
          <Link to={back.to}>
            <span aria-hidden="true">← </span>
            {back.label}
          </Link>
        </p>
      ) : null}
      <div className="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {lead ? <div className="page-lead">{lead}</div> : null}
      {children}
    </div>
  );
}

/** A titled section of a page. */
export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <section className="panel" aria-labelledby={id ? `${id}-title` : undefined}>
      <div className="panel-head">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
