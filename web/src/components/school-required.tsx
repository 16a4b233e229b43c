/** Renders its children for the current school, or explains why there is none. */
import type { ReactNode } from 'react';
import { useCurrentSchool } from '../current-school.tsx';
import { useSession } from '../session.tsx';
import type { School } from '../types.ts';
import { ErrorMessage, Loading } from './alerts.tsx';

export function SchoolRequired({ ability, children }: { ability?: string; children: (school: School) => ReactNode }) {
  const { current, loading, error, schools } = useCurrentSchool();
  const { can } = useSession();
  if (loading) return <Loading label="Loading schools…" />;
  if (error) return <ErrorMessage error={error} />;
  if (!current) {
    return (
      <div className="empty">
        <p>There are no schools yet, so there is nothing to show here.</p>
        {can('school:create') ? <p>An administrator can add a school from the Schools page.</p> : null}
      </div>
    );
  }
  if (ability && !can(ability, current.id)) {
    return (
      <div className="empty">
        <p>Your role does not give you access to this in {current.name}.</p>
        {schools.length > 1 ? <p>Choose another school in the School menu at the top of the page.</p> : null}
      </div>
    );
  }
  return <>{children(current)}</>;
}
