import { ErrorMessage, Loading } from '../components/alerts.tsx';
import { Page } from '../components/page.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { KIND_PLURALS, number } from '../format.ts';
import { useActiveSession } from '../session.tsx';
import { PERSON_KINDS, type Dashboard } from '../types.ts';
import { useApi } from '../use-api.ts';

/** Home: what Haven holds so far. Real numbers only; what is not set up yet says so. */
export function DashboardPage() {
  const session = useActiveSession();
  const { current, schools } = useCurrentSchool();
  const { data, error, loading } = useApi<Dashboard>('/api/v1/dashboard');
  const firstName = session.user.displayName.split(' ')[0] || session.user.displayName;
  const where = current ? (schools.length > 1 ? ` You are working in ${current.name}.` : ` ${current.name}.`) : '';

  return (
    <Page
      title="Dashboard"
      lead={
        <p>
          Welcome{firstName ? `, ${firstName}` : ''}.{where}
        </p>
      }
    >
      <ErrorMessage error={error} />
      {loading && !data ? <Loading label="Loading the dashboard…" /> : null}
      {data ? <DashboardCards data={data} /> : null}
    </Page>
  );
}

function DashboardCards({ data }: { data: Dashboard }) {
  const peopleTotal = PERSON_KINDS.reduce((sum, k) => sum + (data.people[k] ?? 0), 0);
  const kindsShown = PERSON_KINDS.filter((k) => data.people[k] !== undefined);
  return (
    <>
      <div className="cards">
        <section className="card" aria-labelledby="card-trust">
          <h2 id="card-trust">{data.trust ? 'Trust' : 'Organisation'}</h2>
          <p className="card-title">{data.trust?.name ?? 'Not named yet'}</p>
          <p className="card-figure">
            <span className="figure">{number(data.schoolCount)}</span> {data.schoolCount === 1 ? 'school' : 'schools'}
          </p>
          {data.schools.length > 0 ? (
            <ul className="card-list">
              {data.schools.map((s) => (
                <li key={s.id}>{s.name}</li>
              ))}
            </ul>
          ) : null}
        </section>

        <section className="card" aria-labelledby="card-people">
          <h2 id="card-people">People</h2>
          {kindsShown.length === 0 ? (
            <p className="muted">No people yet. Import them from your MIS to get started.</p>
          ) : (
            <>
              <p className="card-figure">
                <span className="figure">{number(peopleTotal)}</span> in total
              </p>
              <dl className="stat-list">
                {kindsShown.map((k) => (
                  <div key={k}>
                    <dt>{KIND_PLURALS[k]}</dt>
                    <dd>{number(data.people[k] ?? 0)}</dd>
                  </div>
                ))}
              </dl>
            </>
          )}
        </section>

        <section className="card" aria-labelledby="card-groups">
          <h2 id="card-groups">Groups</h2>
          <p className="card-figure">
            <span className="figure">{number(data.groupCount)}</span> {data.groupCount === 1 ? 'group' : 'groups'}
          </p>
          <p className="muted small">Year groups, key stages and staff are kept in step with imports.</p>
        </section>

        {data.userCount !== null ? (
          <section className="card" aria-labelledby="card-users">
            <h2 id="card-users">Haven users</h2>
            <p className="card-figure">
              <span className="figure">{number(data.userCount)}</span> {data.userCount === 1 ? 'account' : 'accounts'}
            </p>
            <p className="muted small">Staff who can log in to Haven.</p>
          </section>
        ) : null}
      </div>

      <section className="card card--placeholder" aria-labelledby="card-coming">
        <h2 id="card-coming">Filtering, monitoring and incidents</h2>
        <p>Filtering, monitoring and incidents appear here when they are set up.</p>
        <p className="muted small">Until then Haven shows no figures for them: nothing here is an estimate or an example.</p>
      </section>
    </>
  );
}
