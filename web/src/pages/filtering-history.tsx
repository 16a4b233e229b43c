/** Every saved version of the school's filtering (and the trust's, for trust-wide roles): who, when, why, what. */
import { seg } from '../api.ts';
import { ErrorMessage, Loading } from '../components/alerts.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.tsx';
import type { PolicyVersionSummary } from '../types.ts';
import { useApi } from '../use-api.ts';

export function FilteringHistoryPage() {
  const { current } = useCurrentSchool();
  const { can } = useSession();
  return (
    <Page
      title="Filtering change history"
      back={{ to: '/filtering', label: 'Filtering' }}
      lead={<p>Every saved change, newest first, with who made it, when and why. Versions are never edited or deleted.</p>}
    >
      <SchoolRequired ability="filtering:read">
        {(school) => (
          <Section title={`${current?.name ?? school.name}’s changes`} id="school-history">
            <History key={school.id} path={`/api/v1/schools/${seg(school.id)}/filtering-policy/history`} what="this school" />
          </Section>
        )}
      </SchoolRequired>
      {can('trust_filtering:read') ? (
        <Section title="Trust policy changes" id="trust-history">
          <p className="muted small">The policy every school inherits.</p>
          <History path="/api/v1/trust/filtering-policy/history" what="the trust" />
        </Section>
      ) : null}
    </Page>
  );
}

function History({ path, what }: { path: string; what: string }) {
  const { data, error, loading } = useApi<{ items: PolicyVersionSummary[] }>(path);
  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading label="Loading the history…" />;
  const items = [...(data?.items ?? [])].sort((a, b) => b.version - a.version);
  if (items.length === 0) {
    return <p className="empty">No changes have been saved for {what} yet: Haven’s defaults apply.</p>;
  }
  return (
    <ol className="history-list">
      {items.map((v) => (
        <li key={v.version} className="history-item">
          <h3 className="history-title">
            Version {v.version}
            <span className="history-when">
              <time dateTime={v.savedAt}>{formatDateTime(v.savedAt)}</time> by {v.savedBy}
            </span>
          </h3>
          <p className="history-reason">
            <strong>Why:</strong> {v.reason}
          </p>
          <ul className="history-changes" aria-label={`Changes in version ${v.version}`}>
            {v.changes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}
