/** "Check a site": what the filter does with a site for a group, now or at a given time, and why. */
import { useState, type SyntheticEvent } from 'react';
import { api, seg } from '../api.ts';
import type { FilterAction, PolicyProfile, SiteCheckResult } from '../types.ts';
import { ErrorMessage } from './alerts.tsx';
import { SelectField, TextField } from './field.tsx';
import { YOUTUBE_LABELS, capitalise } from './filtering-common.tsx';

const VERDICTS: Record<FilterAction, { label: string; tone: string }> = {
  allow: { label: 'Allowed', tone: 'badge--success' },
  block: { label: 'Blocked', tone: 'badge--danger' },
  warn: { label: 'Warning shown', tone: 'badge--warning' },
  'allow-and-flag': { label: 'Allowed and flagged', tone: 'badge--info' },
};

const LAYER_LABELS: Record<string, string> = {
  illegal: 'The illegal-content tier (IWF and police lists)',
  'block-list': 'The block list',
  'allow-list': 'The allow list',
  override: 'A teacher’s override',
  rule: 'A rule',
  profile: 'The group’s settings',
  baseline: 'The trust default',
  fallback: 'Haven’s built-in default',
};

/** The profile a check starts with: the first one for pupils, as they are who filtering protects. */
const firstPupilProfile = (profiles: readonly PolicyProfile[]): string =>
  (profiles.find((p) => p.audience.kinds?.includes('pupil')) ?? profiles[0])?.id ?? '';

interface CheckSiteProps {
  schoolId: string;
  profiles: readonly PolicyProfile[];
  categoryLabel: (id: string | null) => string;
}

export function CheckSite({ schoolId, profiles, categoryLabel }: CheckSiteProps) {
  const [site, setSite] = useState('');
  const [profile, setProfile] = useState(() => firstPupilProfile(profiles));
  const [at, setAt] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ site: string; profileLabel: string; when: string; answer: SiteCheckResult } | null>(null);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const s = site.trim();
    if (!s) {
      setFieldError('Enter a site, such as example.com');
      setError('Check the highlighted field.');
      return;
    }
    let when: Date | null = null;
    if (at) {
      when = new Date(at);
      if (Number.isNaN(when.getTime())) {
        setError('Enter the date and time in full, or leave it empty for now.');
        return;
      }
    }
    setFieldError(undefined);
    setError(null);
    setBusy(true);
    try {
      const answer = await api.post<SiteCheckResult>(`/api/v1/schools/${seg(schoolId)}/filtering/check`, {
        site: s,
        ...(profile ? { profile } : {}),
        ...(when ? { at: when.toISOString() } : {}),
      });
      const p = profiles.find((x) => x.id === profile);
      setResult({
        site: s,
        profileLabel: p ? p.label : 'someone the filter cannot identify',
        when: when ? when.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : 'now',
        answer,
      });
    } catch (err) {
      setError(err);
      setResult(null);
    } finally {
      setBusy(false);
    }
  };

  const d = result?.answer.decision ?? null;
  return (
    <>
      <form onSubmit={(e) => void submit(e)} noValidate className="inline-form check-form">
        <ErrorMessage error={error} />
        <TextField
          label="Site"
          hint="A host such as example.com, or a web address."
          value={site}
          onChange={(e) => setSite(e.target.value)}
          error={fieldError}
          spellCheck={false}
          autoComplete="off"
          inputMode="url"
          maxLength={4096}
          required
        />
        <SelectField
          label="For"
          hint="A typical member of this group."
          value={profile}
          onChange={(e) => setProfile(e.target.value)}
          options={profiles.map((p) => ({ value: p.id, label: capitalise(p.label) }))}
        />
        <TextField
          label="When"
          optional
          hint="Leave empty for now. Rules can depend on the time."
          type="datetime-local"
          value={at}
          onChange={(e) => setAt(e.target.value)}
        />
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Checking…' : 'Check'}
          </button>
        </div>
      </form>
      <div role="status" aria-live="polite" data-testid="check-result">
        {result ? (
          d === null ? (
            <div className="alert alert--warning">
              <p>“{result.site}” is not a site Haven can check. Enter a host name such as example.com, or a web address.</p>
            </div>
          ) : (
            <div className="check-result">
              <p className="check-verdict">
                <span className={`badge action-badge ${VERDICTS[d.action].tone}`}>{VERDICTS[d.action].label}</span>{' '}
                <span className="mono">{result.answer.host}</span> for {result.profileLabel}, {result.when}
              </p>
              <p className="check-reason">{d.reason}</p>
              <dl className="summary">
                <div>
                  <dt>Category</dt>
                  <dd>{result.answer.category ? categoryLabel(result.answer.category) : 'None: no list knows this site'}</dd>
                </div>
                <div>
                  <dt>List</dt>
                  <dd className={result.answer.source ? 'mono' : undefined}>{result.answer.source ?? 'None'}</dd>
                </div>
                <div>
                  <dt>Decided by</dt>
                  <dd>
                    {LAYER_LABELS[d.layer] ?? d.layer}
                    {d.rule ? `: ${d.rule.description}` : ''}
                  </dd>
                </div>
                <div>
                  <dt>SafeSearch</dt>
                  <dd>{d.safeSearch ? 'On' : 'Off'}</dd>
                </div>
                <div>
                  <dt>YouTube</dt>
                  <dd>{YOUTUBE_LABELS[d.youtube]}</dd>
                </div>
                <div>
                  <dt>Flagged for the DSL</dt>
                  <dd>{d.flagged ? 'Yes: the visit is shown in monitoring' : 'No'}</dd>
                </div>
              </dl>
            </div>
          )
        ) : null}
      </div>
    </>
  );
}
