/**
 * Filtering for the current school: what each group can reach (the trust's policy with the
 * school's changes), the allow and block lists, rules and what teachers may open, a "check a site"
 * box, and for filtering managers, changing it with a reason.
 */
import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { api, seg } from '../api.ts';
import { ErrorMessage, Loading, Status } from '../components/alerts.tsx';
import { TextAreaField, TextField } from '../components/field.tsx';
import { CheckSite } from '../components/filtering-check.tsx';
import { PlacesSection, type PlaceView } from '../components/filtering-places.tsx';
import {
  ACTION_HINTS,
  ACTION_LABELS,
  ActionBadge,
  FilteringError,
  UNCATEGORISED,
  WarningList,
  YOUTUBE_LABELS,
  capitalise,
  formatMinutes,
  useCategoryNames,
  type CategoryNames,
} from '../components/filtering-common.tsx';
import { Page, Section } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import {
  FILTER_ACTIONS,
  YOUTUBE_MODES,
  type ActionMap,
  type FilterAction,
  type PolicyListEntry,
  type PolicyProfile,
  type PolicyRule,
  type PolicySaveResult,
  type ProfilePatch,
  type School,
  type SchoolPolicy,
  type SchoolPolicyView,
  type TrustPolicy,
  type YoutubeMode,
} from '../types.ts';
import { useApi } from '../use-api.ts';

export function FilteringPolicyPage() {
  const { current } = useCurrentSchool();
  const { can } = useSession();
  const schoolId = current?.id ?? null;
  return (
    <Page
      title="Filtering"
      lead={current ? <p>What Haven’s filter lets people at {current.name} reach, and why.</p> : null}
      actions={
        schoolId && can('filtering:read', schoolId) ? (
          <>
            <Link className="button button--secondary" to="/filtering/history">
              Change history
            </Link>
            <Link className="button button--secondary" to="/filtering/lists">
              Lists
            </Link>
          </>
        ) : null
      }
    >
      <SchoolRequired ability="filtering:read">{(school) => <FilteringView key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

/* ---------- Working out what a draft means (as src/core/policy/resolve.ts does) ---------- */

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );

const resolveProfiles = (trust: TrustPolicy, school: SchoolPolicy): PolicyProfile[] => {
  const patches = new Map((school.profiles ?? []).map((p) => [p.id, p]));
  const trustIds = new Set(trust.profiles.map((p) => p.id));
  const own = (school.profiles ?? [])
    .filter((p) => !trustIds.has(p.id))
    .map((p) => ({
      id: p.id,
      label: p.label ?? p.id,
      audience: p.audience ?? { kinds: [] },
      actions: { ...(p.actions ?? {}) },
      safeSearch: p.safeSearch ?? true,
      youtube: p.youtube ?? ('strict' as const),
    }));
  const inherited = trust.profiles.map((p) => {
    const patch = patches.get(p.id);
    if (!patch) return p;
    return {
      id: p.id,
      label: patch.label ?? p.label,
      audience: patch.audience ?? p.audience,
      actions: { ...p.actions, ...(patch.actions ?? {}) },
      safeSearch: patch.safeSearch ?? p.safeSearch,
      youtube: patch.youtube ?? p.youtube,
    };
  });
  return [...own, ...inherited];
};

const entryKey = (pattern: string): string =>
  pattern
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/^www\./, '')
    .replace(/\/+$/, '');

interface ShownEntry {
  entry: PolicyListEntry;
  from: 'trust' | 'school';
  /** Index in the school's own list (school entries only). */
  index: number;
}

const shownEntries = (trustList: readonly PolicyListEntry[], school: SchoolPolicy, which: 'allowList' | 'blockList'): ShownEntry[] => {
  const removed = new Set((school.removedTrustEntries ?? []).map(entryKey));
  return [
    ...trustList
      .filter((e) => e.enforced === true || !removed.has(entryKey(e.pattern)))
      .map((entry) => ({ entry, from: 'trust' as const, index: -1 })),
    ...(school[which] ?? []).map((entry, index) => ({ entry, from: 'school' as const, index })),
  ];
};

/** Drops a patch's empty parts, and the patch itself when it changes nothing of a trust profile. */
const tidyPatches = (patches: ProfilePatch[], trust: TrustPolicy): ProfilePatch[] | undefined => {
  const trustIds = new Set(trust.profiles.map((p) => p.id));
  const out = patches
    .map((p) => {
      const next: ProfilePatch = { ...p };
      if (next.actions && Object.keys(next.actions).length === 0) delete next.actions;
      return next;
    })
    .filter((p) => !trustIds.has(p.id) || Object.keys(p).length > 1);
  return out.length > 0 ? out : undefined;
};

const withPatch = (draft: SchoolPolicy, trust: TrustPolicy, id: string, change: (patch: ProfilePatch) => ProfilePatch): SchoolPolicy => {
  const patches = [...(draft.profiles ?? [])];
  const i = patches.findIndex((p) => p.id === id);
  const before = i === -1 ? { id } : patches[i]!;
  const after = change({ ...before, ...(before.actions ? { actions: { ...before.actions } } : {}) });
  if (i === -1) patches.push(after);
  else patches[i] = after;
  const next: SchoolPolicy = { ...draft };
  const tidy = tidyPatches(patches, trust);
  if (tidy) next.profiles = tidy;
  else delete next.profiles;
  return next;
};

const without = <T,>(list: readonly T[] | undefined, keep: (item: T, i: number) => boolean): T[] | undefined => {
  const out = (list ?? []).filter(keep);
  return out.length > 0 ? out : undefined;
};

const setList = <K extends keyof SchoolPolicy>(draft: SchoolPolicy, key: K, value: SchoolPolicy[K] | undefined): SchoolPolicy => {
  const rest = Object.fromEntries(Object.entries(draft).filter(([k]) => k !== key)) as SchoolPolicy;
  return value === undefined ? rest : { ...rest, [key]: value };
};

/** The draft with the school's own places replaced (dropped when there are none). */
const setPlaces = (draft: SchoolPolicy, places: PlaceView[]): SchoolPolicy => {
  const rest = Object.fromEntries(Object.entries(draft).filter(([k]) => k !== 'places')) as SchoolPolicy;
  return places.length > 0 ? { ...rest, places } : rest;
};

/* ---------- The page ---------- */

function FilteringView({ school }: { school: School }) {
  const { can } = useSession();
  const { data, error, loading, reload } = useApi<SchoolPolicyView>(`/api/v1/schools/${seg(school.id)}/filtering-policy`);
  const names = useCategoryNames(school.id);
  const [draft, setDraft] = useState<SchoolPolicy | null>(null);
  /** The version the draft was started from: a save over a newer one is refused (409). */
  const [baseVersion, setBaseVersion] = useState(0);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>(undefined);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState<PolicySaveResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const editingNote = useRef<HTMLDivElement>(null);
  const savedNote = useRef<HTMLDivElement>(null);
  const reasonInput = useRef<HTMLInputElement>(null);
  const mayEdit = can('filtering:update', school.id);
  const editing = draft !== null;

  useEffect(() => {
    if (editing) editingNote.current?.focus();
  }, [editing]);
  useEffect(() => {
    if (saved) savedNote.current?.focus();
  }, [saved]);

  if (error && !data) return <ErrorMessage error={error} />;
  if (!data) return loading ? <Loading label="Loading the filtering policy…" /> : null;

  const trust = data.trust.policy;
  const policy = draft ?? data.policy;
  const profiles = editing ? resolveProfiles(trust, policy) : data.effective.profiles;
  const baseline: ActionMap = editing ? { ...trust.baseline, ...(policy.baseline ?? {}) } : data.effective.baseline;
  const changed = editing && stable(draft) !== stable(data.policy);
  const savedProfiles = data.effective.profiles;

  const fallback = (category: string): FilterAction => (names.byId.get(category)?.locked ? 'block' : 'allow');
  const actionOf = (p: PolicyProfile, category: string, base: ActionMap = baseline): FilterAction =>
    p.actions[category] ?? base[category] ?? fallback(category);
  const savedActionOf = (profileId: string, category: string): FilterAction | undefined => {
    const p = savedProfiles.find((x) => x.id === profileId);
    return p ? actionOf(p, category, data.effective.baseline) : undefined;
  };

  const start = () => {
    setSaved(null);
    setSaveError(null);
    setReason('');
    setReasonError(undefined);
    setBaseVersion(data.version);
    setDraft(structuredClone(data.policy));
  };
  const discard = () => {
    setDraft(null);
    setSaveError(null);
    setReasonError(undefined);
    setStatus('Your changes were discarded.');
  };
  const reloadPolicy = () => {
    setDraft(null);
    setSaveError(null);
    reload();
    setStatus('Loaded the latest policy.');
  };

  const setAction = (profileId: string, category: string, action: FilterAction) => {
    if (!draft) return;
    const trustProfile = trust.profiles.find((p) => p.id === profileId);
    const schoolBaseline = { ...trust.baseline, ...(draft.baseline ?? {}) };
    const inherited = trustProfile ? actionOf(trustProfile, category, schoolBaseline) : undefined;
    setDraft(
      withPatch(draft, trust, profileId, (patch) => {
        const actions = Object.fromEntries(Object.entries(patch.actions ?? {}).filter(([k]) => k !== category)) as ActionMap;
        if (action !== inherited) actions[category] = action;
        return { ...patch, actions };
      }),
    );
  };
  const setSearch = (profileId: string, change: { safeSearch: boolean } | { youtube: YoutubeMode }) => {
    if (!draft) return;
    const trustProfile = trust.profiles.find((p) => p.id === profileId);
    setDraft(
      withPatch(draft, trust, profileId, (patch) => {
        const next = { ...patch };
        if ('safeSearch' in change) {
          if (trustProfile && trustProfile.safeSearch === change.safeSearch) delete next.safeSearch;
          else next.safeSearch = change.safeSearch;
        } else if (trustProfile && trustProfile.youtube === change.youtube) delete next.youtube;
        else next.youtube = change.youtube;
        return next;
      }),
    );
  };

  const addEntry = (which: 'allowList' | 'blockList', entry: PolicyListEntry) => {
    if (!draft) return;
    setDraft(setList(draft, which, [...(draft[which] ?? []), entry]));
  };
  const removeEntry = (which: 'allowList' | 'blockList', shown: ShownEntry) => {
    if (!draft) return;
    if (shown.from === 'school')
      setDraft(
        setList(
          draft,
          which,
          without(draft[which], (_e, i) => i !== shown.index),
        ),
      );
    else setDraft(setList(draft, 'removedTrustEntries', [...(draft.removedTrustEntries ?? []), shown.entry.pattern]));
    setStatus(`Removed ${shown.entry.pattern}. Save with a reason to make it count.`);
  };
  const restoreEntry = (pattern: string) => {
    if (!draft) return;
    setDraft(
      setList(
        draft,
        'removedTrustEntries',
        without(draft.removedTrustEntries, (p) => entryKey(p) !== entryKey(pattern)),
      ),
    );
    setStatus(`Put ${pattern} back.`);
  };

  const save = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!draft) return;
    if (!reason.trim()) {
      setReasonError('Say why you are making this change: it is kept in the change history');
      setSaveError('Enter a reason for the change.');
      reasonInput.current?.focus();
      return;
    }
    setReasonError(undefined);
    setSaveError(null);
    setBusy(true);
    try {
      const result = await api.put<PolicySaveResult>(`/api/v1/schools/${seg(school.id)}/filtering-policy`, {
        policy: draft,
        reason: reason.trim(),
        baseVersion,
      });
      setDraft(null);
      setReason('');
      setSaved(result);
      setStatus('');
      reload();
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };

  const removedTrust = (draft?.removedTrustEntries ?? data.policy.removedTrustEntries ?? []).filter((p) =>
    [...trust.allowList, ...trust.blockList].some((e) => entryKey(e.pattern) === entryKey(p)),
  );

  return (
    <>
      <Status>{status}</Status>
      <ErrorMessage error={error} />
      <div className="policy-meta">
        <p>
          {data.version === 0 ? (
            <>This school has made no changes to the trust’s policy.</>
          ) : (
            <>
              This school’s changes: version {data.version}, saved {formatDateTime(data.savedAt)} by {data.savedBy}
              {data.reason ? <> (“{data.reason}”)</> : null}.
            </>
          )}{' '}
          {data.trust.version === 0 ? (
            <>The trust uses Haven’s default policy.</>
          ) : (
            <>
              The trust’s policy (“{trust.name}”): version {data.trust.version}, saved {formatDateTime(data.trust.savedAt)}.
            </>
          )}
        </p>
        {mayEdit && !editing ? (
          <div className="form-actions">
            <button type="button" className="button" onClick={start}>
              Make changes
            </button>
          </div>
        ) : null}
        {!mayEdit ? (
          <p className="muted small">You can read this policy. Filtering managers (IT, the DSL, the head) can change it.</p>
        ) : null}
      </div>

      {saved ? (
        <div className="alert alert--success saved-result" ref={savedNote} tabIndex={-1} data-testid="policy-saved">
          <p className="alert-title">Saved version {saved.version}. The filter uses it now.</p>
          <ul>
            {saved.changes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {saved ? <WarningList warnings={saved.warnings} /> : null}

      {editing ? (
        <div className="alert alert--info editing-note" ref={editingNote} tabIndex={-1}>
          <p>
            <strong>You are changing the policy.</strong> Nothing changes for anyone until you save with a reason at the foot of the page.
          </p>
          <p>
            <button type="button" className="button button--secondary button--small" onClick={() => reasonInput.current?.focus()}>
              Go to Save
            </button>
          </p>
        </div>
      ) : null}

      <Section title="Check a site" id="check-site">
        <p className="muted small">What the filter does with a site, for whom, and why. Uses the saved policy.</p>
        <CheckSite schoolId={school.id} profiles={data.effective.profiles} categoryLabel={names.label} />
      </Section>

      <Section title="What each group can reach" id="category-table">
        <ActionsTable
          names={names}
          profiles={profiles}
          editing={editing}
          actionOf={actionOf}
          savedActionOf={savedActionOf}
          onChange={setAction}
          extraCategories={Object.keys(baseline)}
        />
        <SearchTable profiles={profiles} editing={editing} saved={savedProfiles} onChange={setSearch} />
      </Section>

      <ListSection
        which="blockList"
        title="Block list"
        entries={shownEntries(trust.blockList, policy, 'blockList')}
        editing={editing}
        onAdd={(entry) => addEntry('blockList', entry)}
        onRemove={(shown) => removeEntry('blockList', shown)}
      />
      <ListSection
        which="allowList"
        title="Allow list"
        entries={shownEntries(trust.allowList, policy, 'allowList')}
        editing={editing}
        onAdd={(entry) => addEntry('allowList', entry)}
        onRemove={(shown) => removeEntry('allowList', shown)}
      />
      {removedTrust.length > 0 ? (
        <Section title="Trust entries this school removed" id="removed-entries">
          <ul className="result-list">
            {removedTrust.map((p) => (
              <li key={p}>
                <span className="mono">{p}</span>
                {editing ? (
                  <button type="button" className="button button--secondary button--small" onClick={() => restoreEntry(p)}>
                    Put back<span className="visually-hidden"> {p}</span>
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </Section>
      ) : null}

      <PlacesSection
        effective={data.effective.places}
        own={policy.places ?? []}
        editing={editing}
        onChange={(places) => draft && setDraft(setPlaces(draft, places))}
      />

      <RulesSection rules={data.effective.rules} schoolRuleIds={new Set((data.policy.rules ?? []).map((r) => r.id))} names={names} />

      <Section title="Block page message" id="block-page-message">
        {editing ? (
          <TextAreaField
            label="Your school’s words on every block page"
            optional
            hint="Who to ask, or what to do, such as “Ask Mrs Khan in the library if you need a site for your work.” Up to 400 characters."
            value={policy.blockPageMessage ?? ''}
            maxLength={400}
            onChange={(e) => {
              if (!draft) return;
              const next = { ...draft };
              if (e.target.value.trim()) next.blockPageMessage = e.target.value;
              else delete next.blockPageMessage;
              setDraft(next);
            }}
          />
        ) : policy.blockPageMessage ? (
          <blockquote className="quote">{policy.blockPageMessage}</blockquote>
        ) : (
          <p className="muted">None: block pages show Haven’s words only.</p>
        )}
      </Section>

      <Section title="What teachers may open" id="teacher-overrides">
        <dl className="summary">
          <div>
            <dt>Categories</dt>
            <dd>
              {data.effective.teacherOverrides.categories.length === 0
                ? 'None'
                : data.effective.teacherOverrides.categories.map((c) => names.label(c)).join(', ')}
            </dd>
          </div>
          <div>
            <dt>Single sites</dt>
            <dd>{data.effective.teacherOverrides.sites ? 'Yes' : 'No'}</dd>
          </div>
          <div>
            <dt>Longest override</dt>
            <dd>{formatMinutes(data.effective.teacherOverrides.maxMinutes)}</dd>
          </div>
        </dl>
        <p className="muted small">Locked categories can never be opened by a teacher. Teachers make overrides on the Overrides page.</p>
      </Section>

      {editing ? (
        <Section title="Save your changes" id="save-policy">
          <form onSubmit={(e) => void save(e)} noValidate className="form-grid">
            <FilteringError error={saveError} onReload={reloadPolicy} />
            <p className={changed ? undefined : 'muted'}>{changed ? 'You have unsaved changes.' : 'You have not changed anything yet.'}</p>
            <TextField
              ref={reasonInput}
              label="Reason for the change"
              hint="Kept in the change history and the audit log with your name. For example: Year 6 asked for it during SATs revision."
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              error={reasonError}
              maxLength={1000}
              autoComplete="off"
              required
            />
            <div className="form-actions">
              <button type="submit" className="button" disabled={busy}>
                {busy ? 'Saving…' : 'Save changes'}
              </button>
              <button type="button" className="button button--secondary" disabled={busy} onClick={discard}>
                Discard changes
              </button>
            </div>
          </form>
        </Section>
      ) : null}
    </>
  );
}

/* ---------- Categories × groups ---------- */

interface ActionsTableProps {
  names: CategoryNames;
  profiles: readonly PolicyProfile[];
  editing: boolean;
  actionOf: (p: PolicyProfile, category: string) => FilterAction;
  savedActionOf: (profileId: string, category: string) => FilterAction | undefined;
  onChange: (profileId: string, category: string, action: FilterAction) => void;
  /** Category ids the policy names, for when Haven's category list is not readable. */
  extraCategories: readonly string[];
}

function ActionsTable({ names, profiles, editing, actionOf, savedActionOf, onChange, extraCategories }: ActionsTableProps) {
  const known = names.categories.filter((c) => c.id !== 'illegal').map((c) => c.id);
  const rows = [...known, ...extraCategories.filter((id) => id !== UNCATEGORISED && !known.includes(id)), UNCATEGORISED];
  const unique = [...new Set(rows)];
  return (
    <>
      <p className="muted small">
        {FILTER_ACTIONS.map((a) => `${ACTION_LABELS[a]}: ${ACTION_HINTS[a]}`).join('. ')}. Illegal content (IWF and police lists) is always
        blocked, for everyone. Locked categories can only be opened for staff.
      </p>
      <div className="table-wrap table-wrap--policy" tabIndex={0} role="region" aria-label="Scrollable table: actions for each group">
        <table className="table table--compact policy-table">
          <caption className="visually-hidden">What each category does for each group</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              {profiles.map((p) => (
                <th scope="col" key={p.id}>
                  {capitalise(p.label)}
                  <span className="cell-sub mono">{p.id}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {unique.map((id) => {
              const cat = names.byId.get(id);
              const label = names.label(id);
              return (
                <tr key={id}>
                  <th scope="row">
                    {label}
                    {cat?.locked ? <span className="badge badge--warning">Locked</span> : null}
                    {cat?.safeguarding ? <span className="badge badge--info">Safeguarding</span> : null}
                    {cat ? <span className="cell-sub">{cat.description}</span> : null}
                    {id === UNCATEGORISED ? <span className="cell-sub">Sites that are on none of the lists.</span> : null}
                  </th>
                  {profiles.map((p) => {
                    const action = actionOf(p, id);
                    const isChanged = editing && savedActionOf(p.id, id) !== action;
                    return (
                      <td key={p.id} className={isChanged ? 'cell--changed' : undefined}>
                        {editing ? (
                          <>
                            <select
                              className="cell-select"
                              aria-label={`${label} for ${p.label}`}
                              value={action}
                              onChange={(e) => onChange(p.id, id, e.target.value as FilterAction)}
                            >
                              {FILTER_ACTIONS.map((a) => (
                                <option key={a} value={a}>
                                  {ACTION_LABELS[a]}
                                </option>
                              ))}
                            </select>
                            {isChanged ? <span className="changed-mark">Changed</span> : null}
                          </>
                        ) : (
                          <ActionBadge action={action} />
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface SearchTableProps {
  profiles: readonly PolicyProfile[];
  saved: readonly PolicyProfile[];
  editing: boolean;
  onChange: (profileId: string, change: { safeSearch: boolean } | { youtube: YoutubeMode }) => void;
}

function SearchTable({ profiles, saved, editing, onChange }: SearchTableProps) {
  const before = (id: string) => saved.find((p) => p.id === id);
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: SafeSearch and YouTube for each group">
      <table className="table table--compact policy-table">
        <caption>SafeSearch and YouTube restricted mode</caption>
        <thead>
          <tr>
            <th scope="col">Setting</th>
            {profiles.map((p) => (
              <th scope="col" key={p.id}>
                {capitalise(p.label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">SafeSearch</th>
            {profiles.map((p) => {
              const isChanged = editing && before(p.id)?.safeSearch !== p.safeSearch;
              return (
                <td key={p.id} className={isChanged ? 'cell--changed' : undefined}>
                  {editing ? (
                    <>
                      <select
                        className="cell-select"
                        aria-label={`SafeSearch for ${p.label}`}
                        value={p.safeSearch ? 'on' : 'off'}
                        onChange={(e) => onChange(p.id, { safeSearch: e.target.value === 'on' })}
                      >
                        <option value="on">On</option>
                        <option value="off">Off</option>
                      </select>
                      {isChanged ? <span className="changed-mark">Changed</span> : null}
                    </>
                  ) : p.safeSearch ? (
                    'On'
                  ) : (
                    'Off'
                  )}
                </td>
              );
            })}
          </tr>
          <tr>
            <th scope="row">YouTube</th>
            {profiles.map((p) => {
              const isChanged = editing && before(p.id)?.youtube !== p.youtube;
              return (
                <td key={p.id} className={isChanged ? 'cell--changed' : undefined}>
                  {editing ? (
                    <>
                      <select
                        className="cell-select"
                        aria-label={`YouTube for ${p.label}`}
                        value={p.youtube}
                        onChange={(e) => onChange(p.id, { youtube: e.target.value as YoutubeMode })}
                      >
                        {YOUTUBE_MODES.map((m) => (
                          <option key={m} value={m}>
                            {YOUTUBE_LABELS[m]}
                          </option>
                        ))}
                      </select>
                      {isChanged ? <span className="changed-mark">Changed</span> : null}
                    </>
                  ) : (
                    YOUTUBE_LABELS[p.youtube]
                  )}
                </td>
              );
            })}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/* ---------- Allow and block lists ---------- */

interface ListSectionProps {
  which: 'allowList' | 'blockList';
  title: string;
  entries: ShownEntry[];
  editing: boolean;
  onAdd: (entry: PolicyListEntry) => void;
  onRemove: (shown: ShownEntry) => void;
}

function ListSection({ which, title, entries, editing, onAdd, onRemove }: ListSectionProps) {
  const block = which === 'blockList';
  const id = block ? 'block-list' : 'allow-list';
  return (
    <Section title={title} id={id}>
      <p className="muted small">
        {block
          ? 'Blocked for everyone it applies to, whatever its category. The block list wins over the allow list.'
          : 'Open for everyone it applies to, whatever its category (never the illegal-content tier).'}{' '}
        A host such as example.com covers its subdomains; example.com/path covers addresses that start with it.
      </p>
      {entries.length === 0 ? (
        <p className="empty">{block ? 'Nothing is on the block list.' : 'Nothing is on the allow list.'}</p>
      ) : (
        <div className="table-wrap table-wrap--tall" tabIndex={0} role="region" aria-label={`Scrollable table: ${title.toLowerCase()}`}>
          <table className="table table--compact">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Note</th>
                <th scope="col">From</th>
                {editing ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {entries.map((shown) => (
                <tr key={`${shown.from}-${shown.index}-${shown.entry.pattern}`}>
                  <th scope="row" className="mono break">
                    {shown.entry.pattern}
                  </th>
                  <td>{shown.entry.note ?? ''}</td>
                  <td>
                    {shown.from === 'trust' ? 'Trust' : 'This school'}
                    {shown.entry.enforced ? <span className="badge badge--warning">Enforced</span> : null}
                    {shown.entry.audience ? <span className="cell-sub">Only for some people</span> : null}
                  </td>
                  {editing ? (
                    <td className="actions">
                      {shown.from === 'trust' && shown.entry.enforced ? (
                        <span className="muted small">The trust enforces it</span>
                      ) : (
                        <button type="button" className="button button--secondary button--small" onClick={() => onRemove(shown)}>
                          Remove<span className="visually-hidden"> {shown.entry.pattern}</span>
                        </button>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing ? <AddEntry block={block} onAdd={onAdd} /> : null}
    </Section>
  );
}

function AddEntry({ block, onAdd }: { block: boolean; onAdd: (entry: PolicyListEntry) => void }) {
  const [pattern, setPattern] = useState('');
  const [note, setNote] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState('');
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    const p = pattern.trim();
    if (!p) {
      setFieldError('Enter a site, such as example.com');
      return;
    }
    setFieldError(undefined);
    onAdd(note.trim() ? { pattern: p, note: note.trim() } : { pattern: p });
    setPattern('');
    setNote('');
    setStatus(`Added ${p}. Save with a reason to make it count.`);
  };
  const list = block ? 'block list' : 'allow list';
  return (
    <form onSubmit={submit} noValidate className="inline-form" aria-label={`Add to the ${list}`}>
      <TextField
        label={block ? 'Site to block' : 'Site to allow'}
        value={pattern}
        onChange={(e) => setPattern(e.target.value)}
        error={fieldError}
        spellCheck={false}
        autoComplete="off"
        maxLength={2048}
        required
      />
      <TextField label="Note" optional value={note} onChange={(e) => setNote(e.target.value)} maxLength={200} autoComplete="off" />
      <div className="form-actions">
        <button type="submit" className="button button--secondary">
          Add to {list}
        </button>
      </div>
      <p role="status" className="visually-hidden">
        {status}
      </p>
    </form>
  );
}

/* ---------- Rules ---------- */

const DAY_NAMES: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

const describeWhen = (r: PolicyRule): string => {
  const w = r.when;
  const bits: string[] = [];
  if (w?.days) bits.push(w.days.map((d) => DAY_NAMES[d] ?? d).join(', '));
  if (w?.from !== undefined || w?.to !== undefined) bits.push(`${w.from ?? '00:00'}–${w.to ?? '24:00'}`);
  if (w?.termTime) bits.push(w.termTime === 'term' ? 'in term time' : 'in the holidays');
  if (w?.dates) bits.push(`on ${w.dates.map((d) => (d.from === d.to ? d.from : `${d.from} to ${d.to}`)).join(', ')}`);
  if (r.places) bits.push(`at ${r.places.join(', ')}`);
  return bits.length > 0 ? bits.join(', ') : 'Always';
};

function RulesSection({ rules, schoolRuleIds, names }: { rules: readonly PolicyRule[]; schoolRuleIds: Set<string>; names: CategoryNames }) {
  return (
    <Section title="Rules" id="rules">
      <p className="muted small">Exceptions to each group’s settings, checked in this order. The first rule that sets a category wins.</p>
      {rules.length === 0 ? (
        <p className="empty">There are no rules.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: rules">
          <table className="table table--compact">
            <caption className="visually-hidden">Rules</caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">When</th>
                <th scope="col">What it does</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id} className={r.disabled ? 'row--muted' : undefined}>
                  <th scope="row">
                    {r.description}
                    {r.disabled ? <span className="badge">Switched off</span> : null}
                  </th>
                  <td>{describeWhen(r)}</td>
                  <td>
                    <ul className="plain-list">
                      {Object.entries(r.actions).map(([cat, action]) => (
                        <li key={cat}>
                          {names.label(cat)}: {action ? ACTION_LABELS[action] : ''}
                        </li>
                      ))}
                      {r.safeSearch !== undefined ? <li>SafeSearch {r.safeSearch ? 'on' : 'off'}</li> : null}
                      {r.youtube !== undefined ? <li>YouTube {YOUTUBE_LABELS[r.youtube].toLowerCase()}</li> : null}
                    </ul>
                  </td>
                  <td>
                    {schoolRuleIds.has(r.id) ? 'This school' : 'Trust'}
                    {r.enforced ? <span className="badge badge--warning">Enforced</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
