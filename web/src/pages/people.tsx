import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { query, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { CheckboxField, SelectField, TextField } from '../components/field.tsx';
import { Page } from '../components/page.tsx';
import { Pager } from '../components/pager.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { KIND_LABELS, personSortName, plural, yearLabel } from '../format.ts';
import { href, Link, navigate, useRoute } from '../router.tsx';
import { useSession } from '../session.tsx';
import { PERSON_KINDS, YEAR_GROUPS, type Person, type School } from '../types.ts';
import { useApi } from '../use-api.ts';

const PAGE_SIZE = 50;

export function PeoplePage() {
  const { can } = useSession();
  const { current } = useCurrentSchool();
  const schoolId = current?.id;
  return (
    <Page
      title="People"
      lead={current ? <p>Pupils, staff, parents, governors and visitors at {current.name}.</p> : null}
      actions={
        <>
          {schoolId && can('person:import', schoolId) ? (
            <Link className="button button--secondary" to="/people/import">
              Import from CSV
            </Link>
          ) : null}
          {schoolId && can('person:create', schoolId) ? (
            <Link className="button" to="/people/new">
              Add person
            </Link>
          ) : null}
        </>
      }
    >
      <SchoolRequired ability="person:read">{(school) => <PeopleList key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

interface Filters {
  search: string;
  kind: string;
  year: string;
  left: boolean;
  offset: number;
}

const filtersFrom = (params: URLSearchParams): Filters => {
  const offset = Number(params.get('offset') ?? '0');
  return {
    search: params.get('search') ?? '',
    kind: params.get('kind') ?? '',
    year: params.get('year') ?? '',
    left: params.get('left') === '1',
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
};

/** Filters live in the address, so Back, bookmarks and the lock screen keep them. */
const go = (f: Filters) =>
  navigate(href('/people', { search: f.search.trim(), kind: f.kind, year: f.year, left: f.left ? '1' : '', offset: f.offset || '' }), {
    replace: true,
  });

function PeopleList({ school }: { school: School }) {
  const route = useRoute();
  const filters = filtersFrom(route.params);
  const [searchText, setSearchText] = useState(filters.search);
  const latest = useRef(filters);
  latest.current = filters;

  // Search as the user types, after a short pause.
  useEffect(() => {
    const t = setTimeout(() => {
      if (searchText.trim() !== latest.current.search) go({ ...latest.current, search: searchText, offset: 0 });
    }, 350);
    return () => clearTimeout(t);
  }, [searchText]);

  const path = `/api/v1/schools/${seg(school.id)}/people${query({
    search: filters.search,
    kind: filters.kind,
    yearGroup: filters.year,
    includeLeft: filters.left ? 'true' : '',
    limit: PAGE_SIZE,
    offset: filters.offset,
  })}`;
  const { data, error, loading } = useApi<{ items: Person[]; total: number }>(path, { keepPrevious: true });

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    go({ ...filters, search: searchText, offset: 0 });
  };
  const filtered = Boolean(filters.search || filters.kind || filters.year);

  return (
    <>
      <form role="search" aria-label="Find people" className="filters" onSubmit={submit}>
        <TextField
          label="Search"
          type="search"
          hint="Name, UPN or email"
          value={searchText}
          onChange={(e) => setSearchText(e.target.value)}
          className="filters-search"
        />
        <SelectField
          label="Kind"
          value={filters.kind}
          onChange={(e) => go({ ...filters, search: searchText, kind: e.target.value, offset: 0 })}
          options={[{ value: '', label: 'All kinds' }, ...PERSON_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))]}
        />
        <SelectField
          label="Year group"
          value={filters.year}
          onChange={(e) => go({ ...filters, search: searchText, year: e.target.value, offset: 0 })}
          options={[{ value: '', label: 'All years' }, ...YEAR_GROUPS.map((y) => ({ value: y, label: yearLabel(y) }))]}
        />
        <CheckboxField
          label="Include people who have left"
          checked={filters.left}
          onChange={(e) => go({ ...filters, search: searchText, left: e.target.checked, offset: 0 })}
          className="filters-check"
        />
        <div className="filters-submit">
          <button type="submit" className="button button--secondary">
            Search
          </button>
        </div>
      </form>

      <ErrorMessage error={error} />
      <Status quiet>{data && !loading ? `${plural(data.total, 'person', 'people')} found.` : ''}</Status>
      {loading && !data ? <Loading label="Loading people…" /> : null}

      {data ? (
        <div
          className={`table-wrap${loading ? ' is-loading' : ''}`}
          aria-busy={loading}
          tabIndex={0}
          role="region"
          aria-label="Scrollable table"
        >
          <table className="table">
            <caption className="visually-hidden">People</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Year group</th>
                <th scope="col">UPN</th>
                <th scope="col">Email</th>
              </tr>
            </thead>
            <tbody>
              {data.items.length === 0 ? (
                <tr>
                  <td colSpan={5} className="empty-cell">
                    {filtered ? 'Nobody matches these filters.' : 'There is nobody here yet. Add people one by one or import a CSV file.'}
                  </td>
                </tr>
              ) : (
                data.items.map((p) => (
                  <tr key={p.id}>
                    <td className="cell-name">
                      <Link to={`/people/${encodeURIComponent(p.id)}`}>{personSortName(p)}</Link>
                      {p.leftAt ? <span className="badge">Left</span> : null}
                    </td>
                    <td>{KIND_LABELS[p.kind]}</td>
                    <td>{yearLabel(p.yearGroup)}</td>
                    <td className="mono">{p.upn ?? ''}</td>
                    <td className="break">{p.email ?? ''}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      {data && data.total > 0 ? (
        <Pager
          label="People"
          offset={filters.offset}
          limit={PAGE_SIZE}
          total={data.total}
          onChange={(offset) => go({ ...filters, offset })}
        />
      ) : null}
    </>
  );
}
