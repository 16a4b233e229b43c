/**
 * Teachers' overrides: open sites or categories for a class for a while (within what the policy
 * lets teachers open), see every override with its state, and end one early with a reason.
 */
import { useEffect, useId, useRef, useState, type SyntheticEvent } from 'react';
import { api, fieldErrorsOf, seg } from '../api.ts';
import { Loading, Status } from '../components/alerts.tsx';
import { CheckboxField, TextAreaField, TextField } from '../components/field.tsx';
import { FilteringError, formatMinutes, useCategoryNames } from '../components/filtering-common.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime, yearLabel } from '../format.ts';
import { useActiveSession, useSession } from '../session.tsx';
import { YEAR_GROUPS, type FilterOverride, type Group, type OverrideState, type OverridesView, type School } from '../types.ts';
import { useApi } from '../use-api.ts';

export function FilteringOverridesPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="Overrides"
      lead={
        <p>
          Open blocked sites or categories for a class for a lesson{current ? ` at ${current.name}` : ''}. Every override is recorded with
          its reason and ends by itself.
        </p>
      }
    >
      <SchoolRequired ability="filter_override:read">{(school) => <OverridesPanel key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

const STATE_BADGES: Record<OverrideState, { label: string; tone: string }> = {
  active: { label: 'Active', tone: 'badge--success' },
  scheduled: { label: 'Starts later', tone: 'badge--info' },
  expired: { label: 'Ended', tone: '' },
  revoked: { label: 'Ended early', tone: 'badge--warning' },
};

function OverridesPanel({ school }: { school: School }) {
  const { can } = useSession();
  const session = useActiveSession();
  const { data, error, loading, reload } = useApi<OverridesView>(`/api/v1/schools/${seg(school.id)}/overrides`);
  const names = useCategoryNames(school.id);
  const [status, setStatus] = useState('');
  const [ending, setEnding] = useState<FilterOverride | null>(null);
  const manager = can('filtering:update', school.id);

  const opens = (o: FilterOverride) => [...o.categories.map((c) => names.label(c)), ...o.sites].join(', ');

  return (
    <>
      <Status>{status}</Status>
      {error && !data ? <FilteringError error={error} /> : null}
      {loading && !data ? <Loading label="Loading overrides…" /> : null}
      {data && can('filter_override:create', school.id) ? (
        <NewOverride
          school={school}
          settings={data.settings}
          onCreated={(o) => {
            setStatus(`Opened ${opens(o)} for ${o.audienceLabel} until ${formatDateTime(o.expiresAt)}.`);
            reload();
          }}
        />
      ) : null}
      {data ? (
        <Section title="Overrides" id="override-list">
          {data.items.length === 0 ? (
            <p className="empty">There are no overrides yet.</p>
          ) : (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: overrides">
              <table className="table table--compact">
                <caption className="visually-hidden">Overrides, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">For</th>
                    <th scope="col">Opens</th>
                    <th scope="col">State</th>
                    <th scope="col">When</th>
                    <th scope="col">Made by</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((o) => {
                    const badge = STATE_BADGES[o.state];
                    const live = o.state === 'active' || o.state === 'scheduled';
                    return (
                      <tr key={o.id} className={live ? undefined : 'row--muted'}>
                        <th scope="row">{o.audienceLabel}</th>
                        <td>
                          {opens(o)}
                          {o.action === 'allow-and-flag' ? <span className="cell-sub">Visits flagged for the DSL</span> : null}
                        </td>
                        <td>
                          <span className={`badge ${badge.tone}`}>{badge.label}</span>
                          {o.revokedByLabel ? <span className="cell-sub">by {o.revokedByLabel}</span> : null}
                        </td>
                        <td className="nowrap">
                          <time dateTime={o.startsAt}>{formatDateTime(o.startsAt)}</time>
                          <span className="cell-sub">
                            until <time dateTime={o.expiresAt}>{formatDateTime(o.expiresAt)}</time>
                          </span>
                        </td>
                        <td className="break">
                          {o.createdByLabel}
                          <span className="cell-sub">{o.reason}</span>
                        </td>
                        <td className="actions">
                          {live && (manager || o.createdByLabel === session.user.email) ? (
                            <button type="button" className="button button--secondary button--small" onClick={() => setEnding(o)}>
                              End now<span className="visually-hidden"> the override for {o.audienceLabel}</span>
                            </button>
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      ) : null}
      {ending ? (
        <EndOverride
          key={ending.id}
          school={school}
          override={ending}
          opens={opens(ending)}
          onDone={(ended) => {
            setEnding(null);
            if (ended) {
              setStatus(`Ended the override for ${ended.audienceLabel}.`);
              reload();
            }
          }}
        />
      ) : null}
    </>
  );
}

/* ---------- Making an override ---------- */

interface NewOverrideProps {
  school: School;
  settings: OverridesView['settings'];
  onCreated: (o: FilterOverride) => void;
}

const toggle = (list: string[], value: string, on: boolean) => (on ? [...list, value] : list.filter((v) => v !== value));

function NewOverride({ school, settings, onCreated }: NewOverrideProps) {
  const { can } = useSession();
  const id = useId();
  const groupsApi = useApi<{ items: Group[] }>(can('group:read', school.id) ? `/api/v1/schools/${seg(school.id)}/groups` : null);
  const groups = (groupsApi.data?.items ?? [])
    .filter((g) => g.kind === 'key_stage' || g.kind === 'custom')
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, 'en-GB', { numeric: true }) : a.kind === 'key_stage' ? -1 : 1));
  const maxMinutes = settings.maxMinutes;
  const [years, setYears] = useState<string[]>([]);
  const [groupIds, setGroupIds] = useState<string[]>([]);
  const [categories, setCategories] = useState<string[]>([]);
  const [sites, setSites] = useState('');
  const [minutes, setMinutes] = useState(String(Math.min(60, maxMinutes)));
  const [flag, setFlag] = useState(false);
  const [reason, setReason] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const nothingToOpen = settings.categories.length === 0 && !settings.sites;

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const siteList = sites
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const mins = Number(minutes);
    const problems: Record<string, string> = {};
    if (years.length === 0 && groupIds.length === 0) problems['audience'] = 'Choose at least one year group or group';
    if (categories.length === 0 && siteList.length === 0) problems['open'] = 'Choose a category or enter a site to open';
    if (!Number.isInteger(mins) || mins < 1 || mins > maxMinutes)
      problems['minutes'] = `Enter a whole number of minutes from 1 to ${maxMinutes}`;
    if (!reason.trim()) problems['reason'] = 'Say why you are opening it: it is recorded with your name';
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) {
      setError('Check the highlighted fields.');
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const { override } = await api.post<{ override: FilterOverride }>(`/api/v1/schools/${seg(school.id)}/overrides`, {
        audience: { ...(years.length > 0 ? { yearGroups: years } : {}), ...(groupIds.length > 0 ? { groups: groupIds } : {}) },
        ...(categories.length > 0 ? { categories } : {}),
        ...(siteList.length > 0 ? { sites: siteList } : {}),
        minutes: mins,
        reason: reason.trim(),
        action: flag ? 'allow-and-flag' : 'allow',
      });
      setYears([]);
      setGroupIds([]);
      setCategories([]);
      setSites('');
      setReason('');
      setFlag(false);
      onCreated(override);
    } catch (err) {
      setError(err);
      setFieldErrors(fieldErrorsOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (nothingToOpen) {
    return (
      <Section title="Open something for a class" id="new-override">
        <p className="empty">The school’s policy does not let teachers open anything. A filtering manager can change that.</p>
      </Section>
    );
  }

  return (
    <Section title="Open something for a class" id="new-override">
      <form onSubmit={(e) => void submit(e)} noValidate className="form-grid">
        <FilteringError error={error} />
        <fieldset className="choice-group" aria-describedby={fieldErrors['audience'] ? `${id}-audience-error` : `${id}-audience-hint`}>
          <legend>Who for</legend>
          <p id={`${id}-audience-hint`} className="field-hint">
            An override is always for a class or group, never for everyone.
          </p>
          {fieldErrors['audience'] ? (
            <p id={`${id}-audience-error`} className="field-error">
              <span className="visually-hidden">Error: </span>
              {fieldErrors['audience']}
            </p>
          ) : null}
          <h3 className="choice-heading">Year groups</h3>
          <div className="choices">
            {YEAR_GROUPS.map((y) => (
              <CheckboxField
                key={y}
                label={yearLabel(y)}
                checked={years.includes(y)}
                onChange={(e) => setYears((list) => toggle(list, y, e.target.checked))}
              />
            ))}
          </div>
          {groups.length > 0 ? (
            <>
              <h3 className="choice-heading">Groups</h3>
              <div className="choices">
                {groups.map((g) => (
                  <CheckboxField
                    key={g.id}
                    label={g.name}
                    checked={groupIds.includes(g.id)}
                    onChange={(e) => setGroupIds((list) => toggle(list, g.id, e.target.checked))}
                  />
                ))}
              </div>
            </>
          ) : null}
        </fieldset>
        <fieldset className="choice-group" aria-describedby={fieldErrors['open'] ? `${id}-open-error` : undefined}>
          <legend>What to open</legend>
          {fieldErrors['open'] ? (
            <p id={`${id}-open-error`} className="field-error">
              <span className="visually-hidden">Error: </span>
              {fieldErrors['open']}
            </p>
          ) : null}
          {settings.categories.length > 0 ? (
            <div className="choices choices--wide">
              {settings.categories.map((c) => (
                <CheckboxField
                  key={c.id}
                  label={c.label}
                  checked={categories.includes(c.id)}
                  onChange={(e) => setCategories((list) => toggle(list, c.id, e.target.checked))}
                />
              ))}
            </div>
          ) : (
            <p className="muted small">The policy does not let teachers open whole categories.</p>
          )}
          {settings.sites ? (
            <TextAreaField
              label="Sites"
              optional
              hint="One per line, such as example.com or example.com/page. Never a site in a locked category."
              value={sites}
              onChange={(e) => setSites(e.target.value)}
              error={fieldErrors['sites']}
              rows={3}
              spellCheck={false}
            />
          ) : null}
        </fieldset>
        <TextField
          label="Minutes"
          hint={`Up to ${formatMinutes(maxMinutes)}. It ends by itself.`}
          type="number"
          inputMode="numeric"
          min={1}
          max={maxMinutes}
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          error={fieldErrors['minutes']}
          className="field--short"
          required
        />
        <CheckboxField
          label="Flag visits for the DSL"
          hint="The sites open as usual, and every visit shows in safeguarding monitoring."
          checked={flag}
          onChange={(e) => setFlag(e.target.checked)}
        />
        <TextField
          label="Reason"
          hint="Recorded with your name. For example: Year 9 history research on wartime propaganda."
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          error={fieldErrors['reason']}
          maxLength={1000}
          autoComplete="off"
          required
        />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Opening…' : 'Make override'}
          </button>
        </div>
      </form>
    </Section>
  );
}

/* ---------- Ending one early ---------- */

interface EndOverrideProps {
  school: School;
  override: FilterOverride;
  /** What it opens, in words. */
  opens: string;
  onDone: (ended: FilterOverride | null) => void;
}

function EndOverride({ school, override, opens, onDone }: EndOverrideProps) {
  const [reason, setReason] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
  }, []);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!reason.trim()) {
      setFieldError('Say why you are ending it');
      setError('Check the highlighted field.');
      return;
    }
    setFieldError(undefined);
    setError(null);
    setBusy(true);
    try {
      const { override: ended } = await api.post<{ override: FilterOverride }>(
        `/api/v1/schools/${seg(school.id)}/overrides/${seg(override.id)}/revoke`,
        { reason: reason.trim() },
      );
      onDone(ended);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Section title={`End the override for ${override.audienceLabel}`} id="end-override">
      <p>
        It opens {opens} until {formatDateTime(override.expiresAt)}. Ending it puts the usual filtering back at once.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate className="form-narrow">
        <FilteringError error={error} />
        <TextField
          ref={input}
          label="Why are you ending it?"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          error={fieldError}
          maxLength={1000}
          autoComplete="off"
          required
        />
        <div className="form-actions">
          <button type="submit" className="button button--danger" disabled={busy}>
            {busy ? 'Ending…' : 'End override'}
          </button>
          <button type="button" className="button button--secondary" disabled={busy} onClick={() => onDone(null)}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}
