/**
 * The school's sites and networks (policy `places`): the address ranges that tell the DNS filter
 * and the proxy which school a device is at, and that rules can name ("only at the sixth-form
 * centre"). Trust places are shown; the school adds and removes its own while editing.
 */
import { useState, type SyntheticEvent } from 'react';
import { TextField } from './field.tsx';
import { Section } from './page.tsx';

export interface PlaceView {
  id: string;
  label: string;
  cidrs: string[];
}

/** Loose check for the form; the server validates ranges exactly. */
const looksLikeRange = (s: string): boolean => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s);

const slug = (label: string, taken: ReadonlySet<string>): string => {
  const base =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'site';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
};

export function PlacesSection({
  effective,
  own,
  editing,
  onChange,
}: {
  effective: readonly PlaceView[];
  own: readonly PlaceView[];
  editing: boolean;
  onChange: (places: PlaceView[]) => void;
}) {
  const ownIds = new Set(own.map((p) => p.id));
  const shown = editing ? [...effective.filter((p) => !ownIds.has(p.id)), ...own] : effective;
  return (
    <Section title="Sites and networks" id="places">
      <p className="muted small">
        The address ranges of this school's sites. Devices asking from them are filtered by this school's policy; addresses no school claims
        are treated as guests of the default school.
      </p>
      {shown.length === 0 ? (
        <p className="empty">No sites or networks yet.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scrollable table: sites and networks">
          <table className="table table--compact">
            <caption className="visually-hidden">Sites and networks</caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Address ranges</th>
                <th scope="col">From</th>
                {editing ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => {
                const mine = ownIds.has(p.id);
                return (
                  <tr key={p.id}>
                    <th scope="row">{p.label}</th>
                    <td className="mono break">{p.cidrs.join(', ') || '—'}</td>
                    <td>{mine ? 'This school' : 'Trust'}</td>
                    {editing ? (
                      <td className="actions">
                        {mine ? (
                          <button
                            type="button"
                            className="button button--secondary button--small"
                            onClick={() => onChange(own.filter((x) => x.id !== p.id))}
                          >
                            Remove<span className="visually-hidden"> {p.label}</span>
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {editing ? <AddPlace taken={new Set(shown.map((p) => p.id))} onAdd={(place) => onChange([...own, place])} /> : null}
    </Section>
  );
}

function AddPlace({ taken, onAdd }: { taken: ReadonlySet<string>; onAdd: (place: PlaceView) => void }) {
  const [label, setLabel] = useState('');
  const [ranges, setRanges] = useState('');
  const [errors, setErrors] = useState<{ label?: string; ranges?: string }>({});
  const [status, setStatus] = useState('');
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    const name = label.trim();
    const cidrs = ranges
      .split(/[\s,]+/)
      .map((r) => r.trim())
      .filter(Boolean);
    const bad = cidrs.find((c) => !looksLikeRange(c));
    const next = {
      ...(name ? {} : { label: 'Give the site a name, such as Main building' }),
      ...(cidrs.length === 0
        ? { ranges: 'Enter at least one address range, such as 10.20.0.0/16' }
        : bad
          ? { ranges: `"${bad}" is not an address or range` }
          : {}),
    };
    setErrors(next);
    if (next.label || next.ranges) return;
    onAdd({ id: slug(name, taken), label: name, cidrs });
    setLabel('');
    setRanges('');
    setStatus(`Added ${name}. Save with a reason to make it count.`);
  };
  return (
    <form onSubmit={submit} noValidate className="inline-form" aria-label="Add a site or network">
      <TextField label="Site name" value={label} onChange={(e) => setLabel(e.target.value)} error={errors.label} maxLength={80} required />
      <TextField
        label="Address ranges"
        hint="Separate ranges with commas or spaces, e.g. 10.20.0.0/16, 2001:db8:20::/48"
        value={ranges}
        onChange={(e) => setRanges(e.target.value)}
        error={errors.ranges}
        spellCheck={false}
        autoComplete="off"
        maxLength={2000}
        required
      />
      <div className="form-actions">
        <button type="submit" className="button button--secondary">
          Add site
        </button>
      </div>
      <p role="status" className="visually-hidden">
        {status}
      </p>
    </form>
  );
}
