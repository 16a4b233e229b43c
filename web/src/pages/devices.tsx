/**
 * School devices: laptops, tablets and desktops the DNS filter recognises by their DoH address
 * (off site too) or their registered address, with the policy of the pupil or member of staff
 * they are given to. Register one (its DoH address is shown once), change it, give it a new
 * token, or revoke it.
 */
import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, query, seg } from '../api.ts';
import { ErrorMessage, Loading, Notice, Status } from '../components/alerts.tsx';
import { Confirm, PanelBox } from '../components/action-panel.tsx';
import { CheckboxField, SelectField, TextField } from '../components/field.tsx';
import { OneTimeSecret } from '../components/one-time-secret.tsx';
import { Page } from '../components/page.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { formatDateTime, personName, yearLabel } from '../format.ts';
import { useSession } from '../session.tsx';
import { DEVICE_KINDS, type Device, type DeviceKind, type DeviceWithToken, type Person, type School } from '../types.ts';
import { useApi } from '../use-api.ts';
import { useSubmission } from '../use-submission.ts';

const KIND_NAMES: Record<DeviceKind, string> = {
  laptop: 'Laptop',
  desktop: 'Desktop',
  tablet: 'Tablet',
  phone: 'Phone',
  other: 'Other',
};

export function DevicesPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="Devices"
      lead={
        <p>
          School laptops, tablets and computers{current ? ` at ${current.name}` : ''} that the DNS filter recognises: at home by their own
          DNS-over-HTTPS address, in school by a fixed IP address. A device given to a pupil or member of staff is filtered by their policy.
        </p>
      }
    >
      <SchoolRequired ability="device:read">{(school) => <DevicesPanel key={school.id} school={school} />}</SchoolRequired>
    </Page>
  );
}

type Panel =
  | { kind: 'none' }
  | { kind: 'register' }
  | { kind: 'token'; result: DeviceWithToken; fresh: boolean }
  | { kind: 'edit'; device: Device }
  | { kind: 'rotate'; device: Device }
  | { kind: 'revoke'; device: Device };

function DevicesPanel({ school }: { school: School }) {
  const { can } = useSession();
  const [showRevoked, setShowRevoked] = useState(false);
  const { data, error, loading, reload } = useApi<{ items: Device[] }>(
    `/api/v1/schools/${seg(school.id)}/devices${query({ includeRevoked: showRevoked || undefined })}`,
    { keepPrevious: true },
  );
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [status, setStatus] = useState('');
  const mayCreate = can('device:create', school.id);
  const mayUpdate = can('device:update', school.id);
  const devices = [...(data?.items ?? [])].sort(
    (a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null) || a.label.localeCompare(b.label, 'en-GB', { numeric: true }),
  );
  const close = () => setPanel({ kind: 'none' });

  return (
    <>
      <Status>{status}</Status>
      {mayCreate && panel.kind === 'none' ? (
        <p>
          <button type="button" className="button" onClick={() => setPanel({ kind: 'register' })}>
            Register a device
          </button>
        </p>
      ) : null}

      {panel.kind === 'register' ? (
        <PanelBox title="Register a device">
          <DeviceForm
            school={school}
            onCancel={close}
            onSaved={(result) => {
              setPanel({ kind: 'token', result: result as DeviceWithToken, fresh: true });
              setStatus(`Registered ${result.device.label}.`);
              reload();
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'token' ? (
        <PanelBox title={panel.fresh ? `${panel.result.device.label} is registered` : `New DoH address for ${panel.result.device.label}`}>
          <TokenShown result={panel.result} onDone={close} />
        </PanelBox>
      ) : null}
      {panel.kind === 'edit' ? (
        <PanelBox title={`Change ${panel.device.label}`}>
          <DeviceForm
            key={panel.device.id}
            school={school}
            device={panel.device}
            onCancel={close}
            onSaved={(result) => {
              close();
              setStatus(`Saved changes to ${result.device.label}.`);
              reload();
            }}
          />
        </PanelBox>
      ) : null}
      {panel.kind === 'rotate' ? (
        <PanelBox title={`New DoH address for ${panel.device.label}`}>
          <Confirm
            action="Give it a new address"
            busyLabel="Making a new address…"
            run={() => api.post<DeviceWithToken>(`/api/v1/schools/${seg(school.id)}/devices/${seg(panel.device.id)}/rotate-token`, {})}
            onCancel={close}
            onDone={(result) => {
              setPanel({ kind: 'token', result, fresh: false });
              setStatus(`${panel.device.label} has a new DoH address; the old one no longer works.`);
            }}
          >
            <p>
              The address {panel.device.label} uses now stops working straight away: until the new one is set on the device, Haven treats it
              as a guest when it is away from school. Use this when the address may have been seen by someone else.
            </p>
          </Confirm>
        </PanelBox>
      ) : null}
      {panel.kind === 'revoke' ? (
        <PanelBox title={`Revoke ${panel.device.label}`}>
          <Confirm
            action="Revoke device"
            busyLabel="Revoking…"
            danger
            run={() => api.post<{ device: Device }>(`/api/v1/schools/${seg(school.id)}/devices/${seg(panel.device.id)}/revoke`, {})}
            onCancel={close}
            onDone={() => {
              close();
              setStatus(`Revoked ${panel.device.label}. Haven no longer recognises it.`);
              reload();
            }}
          >
            <p>
              Haven stops recognising {panel.device.label} by its DoH address{panel.device.ip ? ` and by ${panel.device.ip}` : ''}: it is
              filtered as a guest from now on. The device stays in the list of revoked devices, so the DNS log still names it. This cannot
              be undone; register it again to use it with Haven.
            </p>
          </Confirm>
        </PanelBox>
      ) : null}

      <ErrorMessage error={error} />
      <CheckboxField label="Show revoked devices" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} />
      {loading && !data ? <Loading label="Loading devices…" /> : null}
      {data ? (
        devices.length === 0 ? (
          <p className="empty">{showRevoked ? 'No devices have been registered yet.' : 'No devices are registered yet.'}</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table">
            <table className="table">
              <caption className="visually-hidden">Devices</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Given to</th>
                  <th scope="col">IP address</th>
                  <th scope="col">MAC address</th>
                  <th scope="col">Registered</th>
                  {mayUpdate ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {devices.map((d) => (
                  <tr key={d.id} className={d.revokedAt ? 'row--muted' : undefined}>
                    <th scope="row">
                      <span className="cell-title">{d.label}</span>
                      <span className="cell-sub">
                        {KIND_NAMES[d.kind]}
                        {d.revokedAt ? (
                          <>
                            {' '}
                            <span className="badge badge--warning">Revoked {formatDateTime(d.revokedAt)}</span>
                          </>
                        ) : null}
                      </span>
                    </th>
                    <td>{d.personName ?? <span className="muted">Nobody</span>}</td>
                    <td>{d.ip ? <code>{d.ip}</code> : <span className="muted">None</span>}</td>
                    <td>{d.mac ? <code>{d.mac}</code> : <span className="muted">None</span>}</td>
                    <td>{formatDateTime(d.createdAt)}</td>
                    {mayUpdate ? (
                      <td className="actions">
                        {d.revokedAt === null ? (
                          <>
                            <button
                              type="button"
                              className="button button--secondary button--small"
                              onClick={() => setPanel({ kind: 'edit', device: d })}
                            >
                              Edit<span className="visually-hidden"> {d.label}</span>
                            </button>
                            <button
                              type="button"
                              className="button button--secondary button--small"
                              onClick={() => setPanel({ kind: 'rotate', device: d })}
                            >
                              New DoH address<span className="visually-hidden"> for {d.label}</span>
                            </button>
                            <button
                              type="button"
                              className="button button--secondary button--small"
                              onClick={() => setPanel({ kind: 'revoke', device: d })}
                            >
                              Revoke<span className="visually-hidden"> {d.label}</span>
                            </button>
                          </>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </>
  );
}

/** The DoH address and token, shown this once. */
function TokenShown({ result, onDone }: { result: DeviceWithToken; onDone: () => void }) {
  const url = `${window.location.origin}${result.dohPath}`;
  return (
    <>
      <Notice tone="warning">
        <p>
          <strong>Haven will not show this address again.</strong> Copy it now and set it as the device’s DNS-over-HTTPS server (for example
          in a Chrome or Edge policy, a Windows or macOS profile, or your device management). Anyone who has it is filtered as this device,
          so keep it out of email and shared documents. If it is lost or seen, give the device a new address.
        </p>
      </Notice>
      <OneTimeSecret label="DoH address" value={url} testId="doh-url" />
      <OneTimeSecret label="Device token" value={result.token} testId="device-token">
        <p className="muted">The last part of the address, for tools that ask for it on its own.</p>
      </OneTimeSecret>
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
    </>
  );
}

interface Chosen {
  id: string;
  name: string;
}

function DeviceForm({
  school,
  device,
  onCancel,
  onSaved,
}: {
  school: School;
  device?: Device;
  onCancel: () => void;
  onSaved: (result: { device: Device; token?: string; dohPath?: string }) => void;
}) {
  const [label, setLabel] = useState(device?.label ?? '');
  const [kind, setKind] = useState<DeviceKind>(device?.kind ?? 'laptop');
  const [person, setPerson] = useState<Chosen | null>(
    device?.personId ? { id: device.personId, name: device.personName ?? 'Someone no longer listed' } : null,
  );
  const [ip, setIp] = useState(device?.ip ?? '');
  const [mac, setMac] = useState(device?.mac ?? '');
  const { busy, error, fields, run, refuse } = useSubmission();

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!label.trim()) return refuse({ label: 'Give the device a name' });
    const body = { label: label.trim(), kind, personId: person?.id ?? null, ip: ip.trim() || null, mac: mac.trim() || null };
    await run(
      () =>
        device
          ? api.patch<{ device: Device }>(`/api/v1/schools/${seg(school.id)}/devices/${seg(device.id)}`, body)
          : api.post<DeviceWithToken>(`/api/v1/schools/${seg(school.id)}/devices`, body),
      onSaved,
    );
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <ErrorMessage error={error} />
      <TextField
        label="Name"
        hint="What is written on it, such as “Library laptop 4” or “Y6 iPad 12”."
        value={label}
        onChange={(e) => setLabel(e.target.value)}
        error={fields['label']}
        maxLength={80}
        required
      />
      <SelectField
        label="Kind"
        value={kind}
        onChange={(e) => setKind(e.target.value as DeviceKind)}
        options={DEVICE_KINDS.map((k) => ({ value: k, label: KIND_NAMES[k] }))}
        error={fields['kind']}
      />
      <PersonPicker school={school} chosen={person} onChoose={setPerson} error={fields['personId']} />
      <TextField
        label="IP address"
        optional
        hint="Only for a device with a fixed address on the school network (10.0.0.5 or 2001:db8::5). Haven then knows it without its DoH address."
        value={ip}
        onChange={(e) => setIp(e.target.value)}
        error={fields['ip']}
        maxLength={64}
        inputMode="decimal"
        autoComplete="off"
        spellCheck={false}
      />
      <TextField
        label="MAC address"
        optional
        hint="aa:bb:cc:dd:ee:ff, for your records and DHCP leases."
        value={mac}
        onChange={(e) => setMac(e.target.value)}
        error={fields['mac']}
        maxLength={32}
        autoComplete="off"
        spellCheck={false}
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {device ? 'Save changes' : 'Register device'}
        </button>
        <button type="button" className="button button--secondary" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Finds a pupil or member of staff by name; the device is filtered by their policy. */
function PersonPicker({
  school,
  chosen,
  onChoose,
  error,
}: {
  school: School;
  chosen: Chosen | null;
  onChoose: (p: Chosen | null) => void;
  error: string | undefined;
}) {
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setTerm(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);
  const path =
    term.length >= 2 && can('person:read', school.id)
      ? `/api/v1/schools/${seg(school.id)}/people${query({ search: term, limit: 20 })}`
      : null;
  const found = useApi<{ items: Person[]; total: number }>(path);
  const people = (found.data?.items ?? []).filter((p) => p.kind === 'pupil' || p.kind === 'staff');

  return (
    <fieldset className="choice-group">
      <legend>Given to</legend>
      {error ? (
        <p className="field-error">
          <span className="visually-hidden">Error: </span>
          {error}
        </p>
      ) : null}
      <p>
        {chosen ? (
          <>
            <strong>{chosen.name}</strong>{' '}
            <button type="button" className="button button--secondary button--small" onClick={() => onChoose(null)}>
              Give to nobody
            </button>
          </>
        ) : (
          <span className="muted">Nobody: a shared device, filtered as a guest.</span>
        )}
      </p>
      <TextField
        label="Find a pupil or member of staff"
        type="search"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        maxLength={100}
        autoComplete="off"
      />
      {path !== null && found.loading ? <Loading label="Searching…" /> : null}
      <ErrorMessage error={found.error} />
      {path !== null && found.data ? (
        people.length === 0 ? (
          <p className="muted">No pupils or staff match “{term}”.</p>
        ) : (
          <ul className="plain-list">
            {people.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className="button button--secondary button--small"
                  onClick={() => {
                    onChoose({ id: p.id, name: personName(p) });
                    setSearch('');
                  }}
                >
                  Choose<span className="visually-hidden"> {personName(p)}</span>
                </button>{' '}
                {personName(p)}
                <span className="muted"> · {p.kind === 'pupil' ? yearLabel(p.yearGroup) : 'Staff'}</span>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </fieldset>
  );
}
