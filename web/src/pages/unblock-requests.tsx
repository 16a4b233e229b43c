/**
 * What block pages sent: pupils' and staff's requests to unblock a site (for IT and the filtering
 * managers: allow it — which adds it to the school's allow list as a new policy version — or
 * decline it with a reason), and, for the DSL team only, "tell a trusted adult" messages to mark
 * as seen. Open ones first; answered ones keep who answered, when and why.
 */
import { useState, type SyntheticEvent } from 'react';
import { api, query, seg } from '../api.ts';
import { PanelBox } from '../components/action-panel.tsx';
import { ErrorMessage, Loading, Notice, Status } from '../components/alerts.tsx';
import { SelectField, TextAreaField } from '../components/field.tsx';
import { useCategoryNames } from '../components/filtering-common.tsx';
import { Page } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.tsx';
import type { School, UnblockRequest } from '../types.ts';
import { useApi } from '../use-api.ts';
import { useSubmission } from '../use-submission.ts';

type Outcome = 'allowed' | 'declined' | 'seen';
const STATUS_NAMES: Record<UnblockRequest['status'], string> = { open: 'Waiting', allowed: 'Allowed', declined: 'Declined', seen: 'Seen' };

export function UnblockRequestsPage() {
  return (
    <Page
      title="Requests from block pages"
      lead={
        <p>
          When a site is blocked, the page lets the person ask for it to be unblocked, or tell a trusted adult. Requests land here; messages
          for a trusted adult are shown to the designated safeguarding lead and deputies only.
        </p>
      }
    >
      <SchoolRequired ability="unblock_request:read">{(school) => <Queue key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

function Queue({ school }: { school: School }) {
  const { can } = useSession();
  const [status, setStatus] = useState<'open' | ''>('open');
  const { data, error, loading, reload } = useApi<{ items: UnblockRequest[]; trustedAdultVisible: boolean }>(
    `/api/v1/schools/${seg(school.id)}/unblock-requests${query({ status: status || undefined })}`,
    { keepPrevious: true },
  );
  const names = useCategoryNames(school.id);
  const [answering, setAnswering] = useState<{ request: UnblockRequest; outcome: Outcome } | null>(null);
  const [said, setSaid] = useState('');
  const mayAnswer = can('unblock_request:update', school.id);
  const mayAllow = can('filtering:update', school.id);
  const items = data?.items ?? [];

  return (
    <>
      <Status>{said}</Status>
      <SelectField
        label="Show"
        value={status}
        onChange={(e) => setStatus(e.target.value as 'open' | '')}
        options={[
          { value: 'open', label: 'Waiting for an answer' },
          { value: '', label: 'Everything' },
        ]}
      />
      {data && !data.trustedAdultVisible ? (
        <p className="muted">Messages for a trusted adult are not shown to your role: they go to the safeguarding team.</p>
      ) : null}
      {answering ? (
        <PanelBox
          title={
            answering.outcome === 'allowed' ? 'Allow this site' : answering.outcome === 'declined' ? 'Decline this request' : 'Mark as seen'
          }
        >
          <AnswerForm
            school={school}
            request={answering.request}
            outcome={answering.outcome}
            onCancel={() => setAnswering(null)}
            onDone={(r) => {
              setAnswering(null);
              setSaid(`${STATUS_NAMES[r.status]}: ${r.host ?? 'message'}${r.personName ? ` from ${r.personName}` : ''}.`);
              reload();
            }}
          />
        </PanelBox>
      ) : null}
      <ErrorMessage error={error} />
      {loading && !data ? <Loading label="Loading requests…" /> : null}
      {data ? (
        items.length === 0 ? (
          <p className="empty">
            {status === 'open' ? 'Nothing is waiting for an answer.' : 'Nothing has been sent from a block page yet.'}
          </p>
        ) : (
          <ul className="plain-list request-list">
            {items.map((r) => (
              <li key={r.id} className="panel">
                <h2 className="request-title">
                  {r.kind === 'trusted_adult' ? 'Message for a trusted adult' : `Unblock ${r.host ?? ''}`}
                  <span className={`badge ${r.status === 'open' ? 'badge--warning' : 'badge--info'}`}>{STATUS_NAMES[r.status]}</span>
                </h2>
                <dl className="facts">
                  <dt>From</dt>
                  <dd>{r.personName ?? `Someone not signed in${r.clientIp ? ` at ${r.clientIp}` : ''}`}</dd>
                  <dt>Blocked</dt>
                  <dd>
                    {formatDateTime(r.blockedAt)}
                    {r.category ? ` · ${names.label(r.category)}` : ''}
                    {r.url ? (
                      <>
                        {' · '}
                        <code className="break">{r.url}</code>
                      </>
                    ) : null}
                  </dd>
                  <dt>{r.kind === 'trusted_adult' ? 'Message' : 'Reason given'}</dt>
                  <dd className="pre-line">{r.message || <span className="muted">Nothing written</span>}</dd>
                  {r.answeredAt ? (
                    <>
                      <dt>Answer</dt>
                      <dd>
                        {STATUS_NAMES[r.status]} by {r.answeredBy} on {formatDateTime(r.answeredAt)}
                        {r.answerNote ? `: ${r.answerNote}` : ''}
                      </dd>
                    </>
                  ) : null}
                </dl>
                {mayAnswer && r.status === 'open' ? (
                  <p className="actions">
                    {r.kind === 'unblock' ? (
                      <>
                        {mayAllow ? (
                          <button
                            type="button"
                            className="button button--small"
                            onClick={() => setAnswering({ request: r, outcome: 'allowed' })}
                          >
                            Allow<span className="visually-hidden"> {r.host}</span>
                          </button>
                        ) : null}
                        <button
                          type="button"
                          className="button button--secondary button--small"
                          onClick={() => setAnswering({ request: r, outcome: 'declined' })}
                        >
                          Decline<span className="visually-hidden"> {r.host}</span>
                        </button>
                      </>
                    ) : (
                      <button type="button" className="button button--small" onClick={() => setAnswering({ request: r, outcome: 'seen' })}>
                        Mark as seen
                      </button>
                    )}
                  </p>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </>
  );
}

function AnswerForm({
  school,
  request,
  outcome,
  onCancel,
  onDone,
}: {
  school: School;
  request: UnblockRequest;
  outcome: Outcome;
  onCancel: () => void;
  onDone: (r: UnblockRequest) => void;
}) {
  const [note, setNote] = useState('');
  const { busy, error, fields, run } = useSubmission();
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    await run(
      () =>
        api.post<{ request: UnblockRequest }>(`/api/v1/schools/${seg(school.id)}/unblock-requests/${seg(request.id)}/answer`, {
          outcome,
          note: note.trim(),
        }),
      (res) => onDone(res.request),
    );
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      {outcome === 'allowed' ? (
        <Notice tone="info">
          <p>
            {request.host} is added to the school’s allow list for everyone, as a new version of the filtering policy with this request as
            the reason. To allow it for some groups only, decline here and change the policy instead.
          </p>
        </Notice>
      ) : null}
      <ErrorMessage error={error} />
      <TextAreaField
        label={outcome === 'declined' ? 'Why not' : 'Note'}
        optional={outcome !== 'declined'}
        hint={outcome === 'declined' ? 'The pupil’s teacher may be asked; say it plainly.' : undefined}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        error={fields['note']}
        maxLength={1000}
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {outcome === 'allowed' ? 'Allow site' : outcome === 'declined' ? 'Decline' : 'Mark as seen'}
        </button>
        <button type="button" className="button button--secondary" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
