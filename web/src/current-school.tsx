/**
 * The school the user is working in. People and groups belong to a school; the header offers a
 * switcher when the user can see several, and the choice is remembered per user in localStorage.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from './api.ts';
import { useActiveSession } from './session.tsx';
import type { School } from './types.ts';

interface CurrentSchoolValue {
  schools: School[];
  current: School | null;
  loading: boolean;
  error: unknown;
  setCurrent: (schoolId: string) => void;
  reload: () => Promise<void>;
}

const CurrentSchoolContext = createContext<CurrentSchoolValue | null>(null);

export const useCurrentSchool = (): CurrentSchoolValue => {
  const value = useContext(CurrentSchoolContext);
  if (!value) throw new Error('useCurrentSchool outside CurrentSchoolProvider');
  return value;
};

const storageKey = (userId: string) => `haven.currentSchool.${userId}`;

const readStored = (userId: string): string | null => {
  try {
    return window.localStorage.getItem(storageKey(userId));
  } catch {
    return null;
  }
};

const writeStored = (userId: string, schoolId: string) => {
  try {
    window.localStorage.setItem(storageKey(userId), schoolId);
  } catch {
    // Private browsing may refuse storage; the choice then lasts for this visit only.
  }
};

export function CurrentSchoolProvider({ children }: { children: ReactNode }) {
  const session = useActiveSession();
  const userId = session.user.id;
  const [schools, setSchools] = useState<School[]>([]);
  const [currentId, setCurrentId] = useState<string | null>(() => readStored(userId));
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      const { items } = await api.get<{ items: School[] }>('/api/v1/schools');
      const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
      setSchools(sorted);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const setCurrent = useCallback(
    (schoolId: string) => {
      setCurrentId(schoolId);
      writeStored(userId, schoolId);
    },
    [userId],
  );

  const current = useMemo(() => schools.find((s) => s.id === currentId) ?? schools[0] ?? null, [schools, currentId]);

  const value = useMemo<CurrentSchoolValue>(
    () => ({ schools, current, loading, error, setCurrent, reload }),
    [schools, current, loading, error, setCurrent, reload],
  );
  return <CurrentSchoolContext.Provider value={value}>{children}</CurrentSchoolContext.Provider>;
}
