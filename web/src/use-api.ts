/** Loading data for a screen: one GET, cancelled when the screen leaves or the path changes. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, isAbort } from './api.ts';

export interface ApiState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replace the loaded data (after a change the API answered with). */
  setData: (update: T | ((prev: T | undefined) => T | undefined)) => void;
}

/**
 * GETs `path` (nothing when null). With `keepPrevious`, the last answer stays on screen while the
 * next loads, which keeps paged tables from flashing empty.
 */
export const useApi = <T>(path: string | null, options: { keepPrevious?: boolean } = {}): ApiState<T> => {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState<boolean>(path !== null);
  const [tick, setTick] = useState(0);
  const keepPrevious = options.keepPrevious ?? false;
  const loadedPath = useRef<string | null>(null);

  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    // A reload of the same thing keeps what is on screen; another thing starts empty.
    if (!keepPrevious && loadedPath.current !== path) setDataState(undefined);
    loadedPath.current = path;
    api.get<T>(path, { signal: controller.signal }).then(
      (result) => {
        setDataState(result);
        setLoading(false);
      },
      (e: unknown) => {
        if (isAbort(e)) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [path, tick, keepPrevious]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: T | ((prev: T | undefined) => T | undefined)) => {
    setDataState((prev) => (typeof update === 'function' ? (update as (p: T | undefined) => T | undefined)(prev) : update));
  }, []);
  return { data, error, loading, reload, setData };
};
