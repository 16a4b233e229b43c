/**
 * The DNS log: every question the school's DNS filter answered, newest first, with filters,
 * paging back in time and a Live mode that adds new entries every 5 seconds without moving what
 * the reader is looking at. IT and administrators see safeguarding entries with the person
 * hidden (docs/decisions/0009-dns-filter.md); every search is in the audit log.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type SyntheticEvent } from 'react';
import { api, isAbort, query, seg } from '../api.ts';
import { ErrorMessage, Loading, Notice, Status } from '../components/alerts.tsx';
import { CheckboxField, SelectField, TextField } from '../components/field.tsx';
import { ActionBadge, ACTION_LABELS, humanise, useCategoryNames } from '../components/filtering-common.tsx';
import { Page } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { number } from '../format.ts';
import { Link } from '../router.tsx';
import { FILTER_ACTIONS, type FilterLogItem, type FilterLogPage, type School } from '../types.ts';

const PAGE_SIZE = 100;
const LIVE_EVERY_MS = 5000;

interface Filters {
  host: string;
  action: string;
  category: string;
  source: string;
  clientIp: string;
  /** datetime-local values, in the browser's time zone. */
  from: string;
  to: string;
}

const EMPTY: Filters = { host: '', action: '', category: '', source: '', clientIp: '', from: '', to: '' };

const SOURCE_LABELS: Record<string, string> = { dns: 'DNS', doh: 'DNS over HTTPS', proxy: 'Proxy' };
const SOURCE_SHORT: Record<string, string> = { dns: 'DNS', doh: 'DoH', proxy: 'Proxy' };

/** What decided, in words (src/core/policy/types.ts DecisionLayer and the DNS filter's own layers). */
const LAYER_LABELS: Record<string, string> = {
  illegal: 'Illegal-content list',
  'block-list': 'Block list',
  'allow-list': 'Allow list',
  override: 'Teacher override',
  rule: 'Rule',
  profile: 'Group setting',
  baseline: 'Baseline',
  fallback: 'Default',
  circumvention: 'Circumvention control',
  safesearch: 'SafeSearch',
  error: 'Upstream failed',
};

const timeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const formatTime = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFormat.format(d);
};

/** A datetime-local value (browser time) as an instant the API understands; '' when empty, null when not a time. */
const toInstant = (local: string): string | null => {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

const searchParams = (f: Filters) => ({
  host: f.host,
  action: f.action,
  category: f.category,
  source: f.source,
  clientIp: f.clientIp,
  since: toInstant(f.from),
  until: toInstant(f.to),
});

export function FilterLogPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="DNS log"
      lead={
        <p>
          Every question the DNS filter answered{current ? ` for ${current.name}` : ''}, newest first: who asked, for which site, and what
          the filter did. Your searches are recorded in the audit log.
        </p>
      }
    >
      <SchoolRequired ability="filter_log:read">{(school) => <FilterLogPanel key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

function FilterLogPanel({ school }: { school: School }) {
  const names = useCategoryNames(school.id);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<keyof Filters, string>>>({});
  const [items, setItems] = useState<FilterLogItem[]>([]);
  const [nextBeforeId, setNextBeforeId] = useState<number | null>(null);
  const [restricted, setRestricted] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [liveError, setLiveError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const [live, setLive] = useState(false);

  const base = `/api/v1/schools/${seg(school.id)}/filter-log`;
  // Bumped by every fresh search, so a poll that set out before it is thrown away.
  const generation = useRef(0);
  const newestId = useRef(0);
  newestId.current = items[0]?.id ?? 0;
  const tableBody = useRef<HTMLTableSectionElement>(null);
  const anchor = useRef<{ id: number; top: number } | null>(null);

  const load = useCallback(
    async (f: Filters, beforeId: number | null, signal?: AbortSignal) => {
      const gen = beforeId === null ? ++generation.current : generation.current;
      setLoading(true);
      setError(null);
      try {
        const page = await api.get<FilterLogPage>(
          `${base}${query({ ...searchParams(f), beforeId, limit: PAGE_SIZE })}`,
          signal ? { signal } : {},
        );
        if (gen !== generation.current) return;
        setItems((prev) => (beforeId === null ? page.items : [...prev, ...page.items]));
        setNextBeforeId(page.nextBeforeId);
        setRestricted(page.restricted);
        const n = page.items.length;
        setStatus(
          beforeId === null
            ? `${number(n)} ${n === 1 ? 'entry' : 'entries'} shown${page.nextBeforeId !== null ? '; older entries can be loaded' : ''}.`
            : `${number(n)} older ${n === 1 ? 'entry' : 'entries'} added.`,
        );
      } catch (err) {
        if (isAbort(err)) return;
        setError(err);
      }
      setLoading(false);
    },
    [base],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(filters, null, controller.signal);
    return () => controller.abort();
  }, [filters, load]);

  /** Before new rows go in above: note where the first row the reader can see sits, if they have scrolled past the top. */
  const rememberAnchor = () => {
    anchor.current = null;
    const rows = tableBody.current?.rows;
    if (!rows) return;
    for (const row of Array.from(rows)) {
      const rect = row.getBoundingClientRect();
      if (rect.bottom <= 0) continue;
      // The first row still (partly) on screen; if it is the very first row and fully visible, new rows may push it down.
      if (row === rows[0] && rect.top >= 0) return;
      anchor.current = { id: Number(row.dataset.id), top: rect.top };
      return;
    }
  };

  // Live: every 5 seconds, entries newer than the newest shown, with the same filters.
  useEffect(() => {
    if (!live) return;
    const controller = new AbortController();
    let busy = false;
    const poll = async () => {
      if (busy || document.hidden) return;
      busy = true;
      const gen = generation.current;
      try {
        const page = await api.get<FilterLogPage>(
          `${base}/live${query({ ...searchParams(filters), afterId: newestId.current, limit: 200 })}`,
          { signal: controller.signal },
        );
        setLiveError(null);
        if (gen !== generation.current || page.items.length === 0) return;
        rememberAnchor();
        if (page.truncated) {
          // More arrived than one answer holds: start again from the newest, so the list has no hole.
          setItems(page.items);
          setNextBeforeId(page.nextBeforeId);
          setStatus(`Many new entries arrived: showing the newest ${number(page.items.length)}.`);
        } else {
          setItems((prev) => {
            const seen = new Set(prev.map((i) => i.id));
            return [...page.items.filter((i) => !seen.has(i.id)), ...prev];
          });
          const n = page.items.length;
          setStatus(`${number(n)} new ${n === 1 ? 'entry' : 'entries'}.`);
        }
      } catch (err) {
        if (!isAbort(err)) setLiveError(err);
      } finally {
        busy = false;
      }
    };
    const timer = window.setInterval(() => void poll(), LIVE_EVERY_MS);
    void poll();
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
    // rememberAnchor reads only refs, so it need not restart the timer.
  }, [live, filters, base]);

  // …and after they are in, scroll by however far that row moved, so what the reader was looking at stays put.
  useLayoutEffect(() => {
    const a = anchor.current;
    if (!a) return;
    anchor.current = null;
    const row = tableBody.current?.querySelector<HTMLTableRowElement>(`tr[data-id="${a.id}"]`);
    if (!row) return;
    const moved = row.getBoundingClientRect().top - a.top;
    if (moved !== 0) window.scrollBy(0, moved);
  }, [items]);

  const apply = (e: SyntheticEvent) => {
    e.preventDefault();
    const next: Filters = {
      host: draft.host.trim(),
      action: draft.action,
      category: draft.category,
      source: draft.source,
      clientIp: draft.clientIp.trim(),
      from: draft.from,
      to: draft.to,
    };
    const problems: Partial<Record<keyof Filters, string>> = {};
    if (toInstant(next.from) === null) problems.from = 'Enter a date and time';
    if (toInstant(next.to) === null) problems.to = 'Enter a date and time';
    if (next.from && next.to && !problems.from && !problems.to && toInstant(next.from)! >= toInstant(next.to)!) {
      problems.to = 'To must be later than From';
    }
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) return;
    setFilters(next);
  };
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  const filtered = Object.values(filters).some(Boolean);

  const categoryOptions = [
    { value: '', label: 'Any category' },
    ...names.categories.map((c) => ({ value: c.id, label: c.label })).sort((x, y) => x.label.localeCompare(y.label, 'en-GB')),
  ];

  return (
    <>
      {restricted ? (
        <Notice>
          <p>
            <strong>Some entries hide who asked.</strong> On safeguarding entries (a category the DSL monitors, such as self-harm or
            pornography, the illegal-content tier, or anything flagged) your role sees the site, category and action but not the person,
            address or device. Your DSL can see them.
          </p>
        </Notice>
      ) : null}

      <form className="filters" aria-label="Search the DNS log" onSubmit={apply} noValidate>
        <TextField
          className="filters-search"
          label="Host contains"
          type="search"
          value={draft.host}
          onChange={set('host')}
          spellCheck={false}
          autoCapitalize="off"
          maxLength={253}
        />
        <SelectField
          label="Action"
          value={draft.action}
          onChange={set('action')}
          options={[{ value: '', label: 'Any action' }, ...FILTER_ACTIONS.map((a) => ({ value: a, label: ACTION_LABELS[a] }))]}
        />
        <SelectField label="Category" value={draft.category} onChange={set('category')} options={categoryOptions} />
        <SelectField
          label="Source"
          value={draft.source}
          onChange={set('source')}
          options={[{ value: '', label: 'Any source' }, ...Object.entries(SOURCE_LABELS).map(([value, label]) => ({ value, label }))]}
        />
        <TextField
          label="IP address"
          value={draft.clientIp}
          onChange={set('clientIp')}
          spellCheck={false}
          autoCapitalize="off"
          inputMode="decimal"
          maxLength={45}
        />
        <TextField
          label="From"
          hint="Your local time"
          type="datetime-local"
          step={1}
          value={draft.from}
          onChange={set('from')}
          error={fieldErrors.from}
        />
        <TextField
          label="To"
          hint="Your local time"
          type="datetime-local"
          step={1}
          value={draft.to}
          onChange={set('to')}
          error={fieldErrors.to}
        />
        <div className="filters-submit">
          <button type="submit" className="button button--secondary">
            Search
          </button>
          {filtered ? (
            <button
              type="button"
              className="button button--secondary"
              onClick={() => {
                setDraft(EMPTY);
                setFieldErrors({});
                setFilters(EMPTY);
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>

      <CheckboxField
        label="Live"
        hint="Adds new entries at the top every 5 seconds. Scrolled down, what you are reading stays where it is."
        checked={live}
        onChange={(e) => {
          setLiveError(null);
          setLive(e.target.checked);
        }}
      />

      <Status quiet>{loading ? '' : status}</Status>
      <ErrorMessage error={error} />
      <ErrorMessage error={liveError} title="Live updates could not be fetched; Haven keeps trying." />
      {loading && items.length === 0 ? <Loading label="Loading the DNS log…" /> : null}
      {!loading && items.length === 0 && !error ? (
        <p className="empty">
          {filtered ? 'No entries match these filters.' : 'The DNS log is empty: nothing has asked the DNS filter for this school yet.'}
        </p>
      ) : null}
      {items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: DNS log">
          <table className="table table--compact audit-table">
            <caption className="visually-hidden">DNS log entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">Host</th>
                <th scope="col">Type</th>
                <th scope="col">Category</th>
                <th scope="col">Action</th>
                <th scope="col">Decided by</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody ref={tableBody}>
              {items.map((item) => (
                <tr key={item.id} data-id={item.id}>
                  <td className="nowrap">
                    <time dateTime={item.at}>{formatTime(item.at)}</time>
                  </td>
                  <td className="break">
                    <Who item={item} />
                  </td>
                  <td className="break mono">
                    {item.host}
                    {item.url ? <span className="cell-sub">{item.url}</span> : null}
                  </td>
                  <td className="mono">{item.qtype ?? <span className="muted">–</span>}</td>
                  <td>
                    {item.category ? names.label(item.category) : <span className="muted">Uncategorised</span>}
                    {item.flagged ? (
                      <>
                        {' '}
                        <span className="badge badge--info">Flagged</span>
                      </>
                    ) : null}
                  </td>
                  <td>
                    <ActionBadge action={item.action} />
                  </td>
                  <td>
                    {LAYER_LABELS[item.layer] ?? humanise(item.layer)}
                    {item.ruleId || item.list ? (
                      <span className="cell-sub mono">{[item.ruleId, item.list].filter(Boolean).join(' · ')}</span>
                    ) : null}
                  </td>
                  <td>
                    <abbr title={SOURCE_LABELS[item.source] ?? item.source}>{SOURCE_SHORT[item.source] ?? item.source}</abbr>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {nextBeforeId !== null && items.length > 0 ? (
        <div className="form-actions">
          <button type="button" className="button button--secondary" disabled={loading} onClick={() => void load(filters, nextBeforeId)}>
            {loading ? (
              'Loading…'
            ) : (
              <>
                Older<span className="visually-hidden"> entries</span>
              </>
            )}
          </button>
        </div>
      ) : null}
    </>
  );
}

/** Who asked: the person (linked), else the address and device; or that it is hidden from this viewer. */
function Who({ item }: { item: FilterLogItem }) {
  if (item.identityHidden) return <span className="badge badge--warning">Hidden — safeguarding</span>;
  const where = [item.clientIp, item.deviceId ? `device ${item.deviceId}` : null].filter(Boolean).join(' · ');
  const sub = where ? <span className="cell-sub mono">{where}</span> : null;
  if (item.person) {
    return (
      <>
        <Link to={`/people/${seg(item.person.id)}`}>{item.person.name}</Link>
        {sub}
      </>
    );
  }
  if (item.personId) {
    return (
      <>
        <span className="muted">Unknown person</span>
        {sub}
      </>
    );
  }
  return where ? <span className="mono">{where}</span> : <span className="muted">Unknown</span>;
}
