/**
 * The state of a form that sends something: busy while it goes, the error if it fails (with the
 * API's field errors, so each field can say what is wrong), and a way to refuse before sending.
 */
import { useState } from 'react';
import { fieldErrorsOf } from './api.ts';

export const useSubmission = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  /** Sends; on success hands the answer on (the form usually closes), on failure shows why. */
  const run = async <T>(work: () => Promise<T>, onDone: (result: T) => void): Promise<void> => {
    setBusy(true);
    setError(null);
    setFields({});
    try {
      onDone(await work());
    } catch (err) {
      setError(err);
      setFields(fieldErrorsOf(err));
      setBusy(false);
    }
  };
  /** Stops before sending, marking the fields at fault. */
  const refuse = (fieldErrors: Record<string, string>, message = 'Check the highlighted field.'): void => {
    setFields(fieldErrors);
    setError(message);
  };
  return { busy, error, fields, run, refuse };
};
