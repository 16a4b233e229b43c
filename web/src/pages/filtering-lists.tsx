/** The category lists the filter uses (when, from where, how big) and the illegal-content tier's self-check. */
import { ErrorMessage, Loading } from '../components/alerts.tsx';
import { useCategoryNames } from '../components/filtering-common.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { formatDateTime, number, plural } from '../format.ts';
import type { ListsManifest, ListsStatus, School } from '../types.ts';
import { useApi } from '../use-api.ts';

const SOURCE_LABELS: Record<string, string> = {
  iwf: 'IWF (Internet Watch Foundation)',
  ctiru: 'CTIRU (Counter Terrorism Internet Referral Unit)',
  canary: 'Test entries (canaries)',
};

export function FilteringListsPage() {
  return (
    <Page
      title="Filtering lists"
      back={{ to: '/filtering', label: 'Filtering' }}
      lead={<p>The lists that sort sites into Haven’s categories, and the check that illegal content is always blocked.</p>}
    >
      <SchoolRequired ability="filtering:read">{(school) => <ListsView school={school} />}</SchoolRequired>
    </Page>
  );
}

function ListsView({ school }: { school: School }) {
  const { data, error, loading } = useApi<ListsStatus>('/api/v1/filtering/lists');
  const names = useCategoryNames(school.id);
  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading label="Loading the lists…" />;
  if (!data) return null;
  return (
    <>
      <IllegalTier illegal={data.illegal} />
      {data.manifest ? (
        <Manifest manifest={data.manifest} categoryLabel={names.label} />
      ) : (
        <Section title="Category lists" id="category-lists">
          <div className="empty">
            <p>
              <strong>No lists have been imported yet.</strong> Until they are, no site has a category: each group’s setting for “sites no
              list knows” applies to everything, and only the allow and block lists and the illegal-content tier pick sites out.
            </p>
            <p>Someone with access to the Haven server can import them:</p>
            <pre className="command">
              <code>haven lists import --from URL|DIR --reason "…"</code>
            </pre>
          </div>
        </Section>
      )}
    </>
  );
}

function IllegalTier({ illegal }: { illegal: ListsStatus['illegal'] }) {
  const entries = Object.entries(illegal.entries);
  return (
    <Section title="Illegal-content tier" id="illegal-tier">
      <div data-testid="illegal-self-check">
        {illegal.ok ? (
          <div className="alert alert--success">
            <p>
              <strong>Working.</strong> Every test entry is blocked, so the IWF and police lists are being applied.
            </p>
          </div>
        ) : (
          <div className="alert alert--error" role="alert">
            <p>
              <strong>Not working.</strong> At least one test entry is not blocked: the illegal-content lists may not be applied. Tell your
              IT manager now.
            </p>
          </div>
        )}
      </div>
      <div className="two-col">
        <div>
          <h3>Self-check</h3>
          {illegal.canaries.length === 0 ? (
            <p className="muted">No test entries are set.</p>
          ) : (
            <ul className="result-list">
              {illegal.canaries.map((c) => (
                <li key={c.entry}>
                  <span className="mono break">{c.entry}</span>
                  {c.blocked ? (
                    <span className="badge badge--success">Blocked</span>
                  ) : (
                    <span className="badge badge--danger">Not blocked</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>Entries</h3>
          {entries.length === 0 ? (
            <p className="muted">No entries.</p>
          ) : (
            <dl className="stat-list">
              {entries.map(([source, count]) => (
                <div key={source}>
                  <dt>{SOURCE_LABELS[source] ?? source}</dt>
                  <dd>{number(count)}</dd>
                </div>
              ))}
            </dl>
          )}
          <p className="muted small">The entries themselves are never shown.</p>
        </div>
      </div>
    </Section>
  );
}

function Manifest({ manifest, categoryLabel }: { manifest: ListsManifest; categoryLabel: (id: string) => string }) {
  const t = manifest.totals;
  const lists = [...manifest.lists].sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
  return (
    <>
      <Section title="Category lists" id="category-lists">
        <dl className="summary">
          <div>
            <dt>Imported</dt>
            <dd>
              <time dateTime={manifest.importedAt}>{formatDateTime(manifest.importedAt)}</time>
            </dd>
          </div>
          <div>
            <dt>From</dt>
            <dd className="mono break">{manifest.source}</dd>
          </div>
        </dl>
        <dl className="stats" aria-label="Totals">
          <div>
            <dt>Lists used</dt>
            <dd>{number(t.lists)}</dd>
          </div>
          <div>
            <dt>Distinct domains</dt>
            <dd>{number(t.distinctDomains)}</dd>
          </div>
          <div>
            <dt>Domains</dt>
            <dd>{number(t.domains)}</dd>
          </div>
          <div>
            <dt>Web addresses</dt>
            <dd>{number(t.urls)}</dd>
          </div>
          <div>
            <dt>Expressions</dt>
            <dd>{number(t.expressions)}</dd>
          </div>
          {t.malformed !== undefined ? (
            <div className={t.malformed > 0 ? 'stat--bad' : undefined}>
              <dt>Malformed lines</dt>
              <dd>{number(t.malformed)}</dd>
            </div>
          ) : null}
        </dl>
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: lists in use">
          <table className="table table--compact">
            <caption>Lists in use</caption>
            <thead>
              <tr>
                <th scope="col">List</th>
                <th scope="col">Haven category</th>
                <th scope="col" className="num">
                  Domains
                </th>
                <th scope="col" className="num">
                  Web addresses
                </th>
                <th scope="col" className="num">
                  Expressions
                </th>
                <th scope="col" className="num">
                  Malformed
                </th>
              </tr>
            </thead>
            <tbody>
              {lists.map((l) => (
                <tr key={l.name}>
                  <th scope="row" className="mono">
                    {l.name}
                  </th>
                  <td>{categoryLabel(l.category)}</td>
                  <td className="num">{number(l.domains)}</td>
                  <td className="num">{number(l.urls)}</td>
                  <td className="num">{number(l.expressions)}</td>
                  <td className="num">{l.malformed === undefined ? '' : number(l.malformed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title="Lists not used" id="lists-not-used">
        {manifest.ignored.length === 0 && manifest.unmapped.length === 0 ? (
          <p className="muted">Every list found is in use.</p>
        ) : (
          <div className="two-col">
            <div>
              <h3>Left out on purpose</h3>
              {manifest.ignored.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <ul className="result-list">
                  {manifest.ignored.map((l) => (
                    <li key={l.name}>
                      <span className="mono">{l.name}</span>
                      <span className="muted small">{l.reason}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h3>Not in the category map</h3>
              {manifest.unmapped.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <>
                  <p className="muted small">Haven does not know what these lists hold, so it does not use them. Worth a look.</p>
                  <ul className="result-list">
                    {manifest.unmapped.map((name) => (
                      <li key={name}>
                        <span className="mono">{name}</span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
          </div>
        )}
      </Section>
      <Section title="Import warnings" id="list-warnings">
        {manifest.warnings.length === 0 ? (
          <p className="muted">The import raised no warnings.</p>
        ) : (
          <>
            <p>The last import raised {plural(manifest.warnings.length, 'warning')}.</p>
            <ul className="warning-list">
              {manifest.warnings.map((w, i) => (
                <li key={i}>{w}</li>
              ))}
            </ul>
          </>
        )}
      </Section>
    </>
  );
}
