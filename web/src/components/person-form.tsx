/** Adding or editing a person. Which fields show depends on the kind of person. */
import { useState, type SyntheticEvent } from 'react';
import { api, fieldErrorsOf, seg } from '../api.ts';
import { KIND_LABELS, yearLabel } from '../format.ts';
import { PERSON_KINDS, YEAR_GROUPS, type Person, type PersonKind } from '../types.ts';
import { ErrorMessage } from './alerts.tsx';
import { SelectField, TextField } from './field.tsx';

interface PersonFormProps {
  schoolId: string;
  /** Editing this person; adding a new one when absent. */
  person?: Person;
  onSaved: (person: Person) => void;
  onCancel?: () => void;
}

interface Values {
  kind: PersonKind;
  firstName: string;
  lastName: string;
  upn: string;
  yearGroup: string;
  dateOfBirth: string;
  email: string;
  staffRole: string;
}

const valuesOf = (p: Person | undefined): Values => ({
  kind: p?.kind ?? 'pupil',
  firstName: p?.firstName ?? '',
  lastName: p?.lastName ?? '',
  upn: p?.upn ?? '',
  yearGroup: p?.yearGroup ?? '',
  dateOfBirth: p?.dateOfBirth ?? '',
  email: p?.email ?? '',
  staffRole: p?.staffRole ?? '',
});

const OPTIONAL_FIELDS = ['upn', 'yearGroup', 'dateOfBirth', 'email', 'staffRole'] as const;

/** Kinds of people Haven needs an email address for (to reach them about consent, training …). */
const EMAIL_REQUIRED: ReadonlySet<PersonKind> = new Set<PersonKind>(['staff', 'parent', 'governor']);

/** The same rules the API applies, checked first so the user hears about them at once. */
const check = (v: Values): Record<string, string> => {
  const problems: Record<string, string> = {};
  if (!v.firstName.trim()) problems['firstName'] = 'Enter a first name';
  if (!v.lastName.trim()) problems['lastName'] = 'Enter a last name';
  if (v.kind === 'pupil') {
    if (!v.upn.trim()) problems['upn'] = 'Enter the pupil’s UPN';
    if (!v.yearGroup) problems['yearGroup'] = 'Choose the pupil’s year group';
    if (!v.dateOfBirth) problems['dateOfBirth'] = 'Enter the pupil’s date of birth';
  }
  if (EMAIL_REQUIRED.has(v.kind) && !v.email.trim()) problems['email'] = 'Enter an email address';
  if (v.upn.trim() && !/^[A-Za-z]\d{11}[0-9A-Za-z]$/.test(v.upn.trim())) {
    problems['upn'] = 'A UPN is 13 characters: a letter, 11 digits, then a digit or letter';
  }
  if (v.email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email.trim()))
    problems['email'] = 'Enter an email address like name@school.org.uk';
  if (v.dateOfBirth && !/^\d{4}-\d{2}-\d{2}$/.test(v.dateOfBirth)) problems['dateOfBirth'] = 'Enter a date such as 2015-03-09';
  return problems;
};

export function PersonForm({ schoolId, person, onSaved, onCancel }: PersonFormProps) {
  const [values, setValues] = useState<Values>(() => valuesOf(person));
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const editing = person !== undefined;
  const kind = values.kind;
  const set = (key: keyof Values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [key]: e.target.value }));

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const problems = check(values);
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) {
      setError('Check the highlighted fields.');
      return;
    }
    setError(null);
    const clean: Record<string, string> = {
      firstName: values.firstName.trim(),
      lastName: values.lastName.trim(),
      upn: kind === 'pupil' ? values.upn.trim().toUpperCase() : '',
      yearGroup: kind === 'pupil' ? values.yearGroup : '',
      dateOfBirth: values.dateOfBirth,
      email: values.email.trim(),
      staffRole: kind === 'staff' ? values.staffRole.trim() : '',
    };
    setBusy(true);
    try {
      let saved: Person;
      if (!editing) {
        const body: Record<string, string> = { kind };
        for (const [k, v] of Object.entries(clean)) if (v) body[k] = v;
        ({ person: saved } = await api.post<{ person: Person }>(`/api/v1/schools/${seg(schoolId)}/people`, body));
      } else {
        // Send only what changed; a cleared optional field is sent as null.
        const before = valuesOf(person);
        const body: Record<string, string | null> = {};
        if (kind !== before.kind) body['kind'] = kind;
        if (clean['firstName'] !== before.firstName) body['firstName'] = clean['firstName'] ?? '';
        if (clean['lastName'] !== before.lastName) body['lastName'] = clean['lastName'] ?? '';
        for (const k of OPTIONAL_FIELDS) {
          const now = clean[k] ?? '';
          if (now !== before[k]) body[k] = now === '' ? null : now;
        }
        if (Object.keys(body).length === 0) {
          onSaved(person);
          return;
        }
        ({ person: saved } = await api.patch<{ person: Person }>(`/api/v1/schools/${seg(schoolId)}/people/${seg(person.id)}`, body));
      }
      onSaved(saved);
    } catch (err) {
      setError(err);
      setFieldErrors(fieldErrorsOf(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="form-grid">
      <ErrorMessage error={error} />
      <SelectField
        label="Kind"
        value={kind}
        onChange={(e) => setValues((v) => ({ ...v, kind: e.target.value as PersonKind }))}
        options={PERSON_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
      />
      <div className="form-row">
        <TextField
          label="First name"
          autoComplete="off"
          value={values.firstName}
          onChange={set('firstName')}
          error={fieldErrors['firstName']}
          maxLength={100}
          required
        />
        <TextField
          label="Last name"
          autoComplete="off"
          value={values.lastName}
          onChange={set('lastName')}
          error={fieldErrors['lastName']}
          maxLength={100}
          required
        />
      </div>
      {kind === 'pupil' ? (
        <div className="form-row">
          <TextField
            label="UPN"
            hint="Unique pupil number: 13 characters, from your MIS."
            autoComplete="off"
            spellCheck={false}
            value={values.upn}
            onChange={set('upn')}
            error={fieldErrors['upn']}
            maxLength={13}
          />
          <SelectField
            label="Year group"
            value={values.yearGroup}
            onChange={set('yearGroup')}
            error={fieldErrors['yearGroup']}
            options={[{ value: '', label: 'Choose…' }, ...YEAR_GROUPS.map((y) => ({ value: y, label: yearLabel(y) }))]}
          />
        </div>
      ) : null}
      <div className="form-row">
        <TextField
          label="Date of birth"
          optional={kind !== 'pupil'}
          type="date"
          value={values.dateOfBirth}
          onChange={set('dateOfBirth')}
          error={fieldErrors['dateOfBirth']}
        />
        <TextField
          label="Email"
          optional={!EMAIL_REQUIRED.has(kind)}
          type="email"
          autoComplete="off"
          spellCheck={false}
          value={values.email}
          onChange={set('email')}
          error={fieldErrors['email']}
          maxLength={254}
        />
      </div>
      {kind === 'staff' ? (
        <TextField
          label="Staff role"
          optional
          hint="For example: Class teacher, Teaching assistant, Business manager."
          value={values.staffRole}
          onChange={set('staffRole')}
          error={fieldErrors['staffRole']}
          maxLength={100}
        />
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Add person'}
        </button>
        {onCancel ? (
          <button type="button" className="button button--secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
