/** Form fields with a real label, an optional hint and an error tied to the input for screen readers. */
import { useId, type InputHTMLAttributes, type ReactNode, type Ref, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

interface FieldProps {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null | undefined;
  /** Adds "(optional)" to the label. */
  optional?: boolean;
  className?: string;
}

const describedBy = (...ids: (string | undefined)[]) => ids.filter(Boolean).join(' ') || undefined;

function FieldShell({ id, label, hint, error, optional, className, children }: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' field--error' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional ? <span className="field-optional"> (optional)</span> : null}
      </label>
      {hint ? (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          <span className="visually-hidden">Error: </span>
          {error}
        </p>
      ) : null}
      {children}
    </div>
  );
}

export function TextField({
  label,
  hint,
  error,
  optional,
  className,
  id,
  ...input
}: FieldProps & Omit<InputHTMLAttributes<HTMLInputElement>, 'className'> & { ref?: Ref<HTMLInputElement> }) {
  const autoId = useId();
  const fid = id ?? autoId;
  return (
    <FieldShell id={fid} label={label} hint={hint} error={error} optional={optional} className={className}>
      <input
        id={fid}
        type="text"
        aria-describedby={describedBy(hint ? `${fid}-hint` : undefined, error ? `${fid}-error` : undefined)}
        aria-invalid={error ? true : undefined}
        {...input}
      />
    </FieldShell>
  );
}

export function TextAreaField({
  label,
  hint,
  error,
  optional,
  className,
  id,
  ...input
}: FieldProps & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'className'>) {
  const autoId = useId();
  const fid = id ?? autoId;
  return (
    <FieldShell id={fid} label={label} hint={hint} error={error} optional={optional} className={className}>
      <textarea
        id={fid}
        aria-describedby={describedBy(hint ? `${fid}-hint` : undefined, error ? `${fid}-error` : undefined)}
        aria-invalid={error ? true : undefined}
        {...input}
      />
    </FieldShell>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField({
  label,
  hint,
  error,
  optional,
  className,
  id,
  options,
  ...select
}: FieldProps & { options: readonly Option[] } & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'className'>) {
  const autoId = useId();
  const fid = id ?? autoId;
  return (
    <FieldShell id={fid} label={label} hint={hint} error={error} optional={optional} className={className}>
      <select
        id={fid}
        aria-describedby={describedBy(hint ? `${fid}-hint` : undefined, error ? `${fid}-error` : undefined)}
        aria-invalid={error ? true : undefined}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

export function CheckboxField({
  label,
  hint,
  className,
  id,
  ...input
}: { label: ReactNode; hint?: ReactNode; className?: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'className' | 'type'>) {
  const autoId = useId();
  const fid = id ?? autoId;
  return (
    <div className={`checkbox${className ? ` ${className}` : ''}`}>
      <input id={fid} type="checkbox" aria-describedby={hint ? `${fid}-hint` : undefined} {...input} />
      <label htmlFor={fid}>{label}</label>
      {hint ? (
        <p id={`${fid}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
