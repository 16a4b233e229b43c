/** Editing a user's roles: each is a role plus the school it applies in, or every school. */
import { useId } from 'react';
import type { Grant, RoleInfo, School } from '../types.ts';

interface GrantsEditorProps {
  grants: Grant[];
  onChange: (grants: Grant[]) => void;
  roles: readonly RoleInfo[];
  schools: readonly School[];
  error?: string | undefined;
}

export function GrantsEditor({ grants, onChange, roles, schools, error }: GrantsEditorProps) {
  const id = useId();
  const update = (i: number, change: Partial<Grant>) => onChange(grants.map((g, j) => (j === i ? { ...g, ...change } : g)));
  const remove = (i: number) => onChange(grants.filter((_, j) => j !== i));
  const add = () =>
    onChange([...grants, { role: roles[0]?.role ?? 'staff', schoolId: schools.length === 1 ? (schools[0]?.id ?? null) : null }]);
  const needsMfa = grants.some((g) => roles.find((r) => r.role === g.role)?.mfaRequired);

  return (
    <fieldset className="grants" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Roles</legend>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          <span className="visually-hidden">Error: </span>
          {error}
        </p>
      ) : null}
      {grants.length === 0 ? <p className="muted">No roles yet. Without a role the user can log in but see nothing.</p> : null}
      <ul className="grant-rows">
        {grants.map((g, i) => {
          const n = i + 1;
          const suffix = grants.length > 1 ? ` ${n}` : '';
          return (
            <li key={i} className="grant-row">
              <div className="field">
                <label htmlFor={`${id}-role-${i}`}>
                  Role<span className="visually-hidden">{suffix}</span>
                </label>
                <select id={`${id}-role-${i}`} value={g.role} onChange={(e) => update(i, { role: e.target.value })}>
                  {roles.map((r) => (
                    <option key={r.role} value={r.role}>
                      {r.label}
                    </option>
                  ))}
                  {roles.some((r) => r.role === g.role) ? null : <option value={g.role}>{g.role}</option>}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${id}-school-${i}`}>
                  School<span className="visually-hidden">{suffix}</span>
                </label>
                <select
                  id={`${id}-school-${i}`}
                  value={g.schoolId ?? ''}
                  onChange={(e) => update(i, { schoolId: e.target.value === '' ? null : e.target.value })}
                >
                  <option value="">All schools</option>
                  {schools.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                  {g.schoolId && !schools.some((s) => s.id === g.schoolId) ? <option value={g.schoolId}>Another school</option> : null}
                </select>
              </div>
              <button type="button" className="button button--secondary button--small grant-remove" onClick={() => remove(i)}>
                Remove<span className="visually-hidden"> role{suffix}</span>
              </button>
            </li>
          );
        })}
      </ul>
      <button type="button" className="button button--secondary button--small" onClick={add}>
        Add {grants.length === 0 ? 'a' : 'another'} role
      </button>
      {needsMfa ? (
        <p className="field-hint">
          One or more of these roles needs two-factor authentication: the user will set it up when they next log in.
        </p>
      ) : null}
    </fieldset>
  );
}

/** Drops exact duplicates, keeping the first. */
export const uniqueGrants = (grants: Grant[]): Grant[] => {
  const seen = new Set<string>();
  return grants.filter((g) => {
    const key = `${g.role}|${g.schoolId ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};
