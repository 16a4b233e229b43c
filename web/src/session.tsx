/**
 * Who is logged in and what state their session is in. The provider loads the session once,
 * polls it every 30 seconds (a poll does not count as activity on the server, so an idle session
 * still locks) and listens for API errors that mean the session locked, ended or needs a step.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, api, lastActivityAt, onSessionProblem } from './api.ts';
import type { SessionView } from './types.ts';

const SESSION_PATH = '/api/v1/auth/session';
const POLL_MS = 30_000;
const ACTIVITY_REPORT_MS = 60_000;

export interface SessionContextValue {
  /** null: nobody is logged in. */
  session: SessionView | null;
  /** True until the first answer about the session has arrived. */
  loading: boolean;
  /** Why the user is looking at the login screen, when it was not their choice. */
  notice: string | null;
  /** Replaces the session with one the API returned (after login, unlock, 2FA …). */
  setSession: (session: SessionView | null) => void;
  refresh: () => Promise<void>;
  logout: () => Promise<void>;
  /** May the user do `key` ("person:read") in this school, or (no school given) anywhere? */
  can: (key: string, schoolId?: string | null) => boolean;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export const useSession = (): SessionContextValue => {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
};

/** The session when the app is past the sign-in steps (only call inside the signed-in shell). */
export const useActiveSession = (): SessionView => {
  const { session } = useSession();
  if (!session) throw new Error('useActiveSession without a session');
  return session;
};

const same = (a: SessionView | null, b: SessionView | null) => JSON.stringify(a) === JSON.stringify(b);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSessionState] = useState<SessionView | null>(null);
  const [loading, setLoading] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef<SessionView | null>(null);
  sessionRef.current = session;

  const setSession = useCallback((next: SessionView | null) => {
    // Keep the same object when nothing changed so screens do not re-fetch on every poll.
    setSessionState((prev) => (same(prev, next) ? prev : next));
    if (next) setNotice(null);
  }, []);

  const refresh = useCallback(async () => {
    try {
      const { session: s } = await api.get<{ session: SessionView }>(SESSION_PATH);
      setSession(s);
    } catch (e) {
      // 401s arrive through the session-problem listener; anything else (network) keeps what we have.
      if (e instanceof ApiError && e.status === 401) setSessionState(null);
    }
  }, [setSession]);

  // First load.
  useEffect(() => {
    let cancelled = false;
    api
      .get<{ session: SessionView }>(SESSION_PATH)
      .then(
        ({ session: s }) => {
          if (!cancelled) setSession(s);
        },
        () => {
          if (!cancelled) setSessionState(null);
        },
      )
      .finally(() => {
        if (!cancelled) setLoading(false);
      });
    return () => {
      cancelled = true;
    };
  }, [setSession]);

  // Errors from any screen that concern the whole session.
  useEffect(() => {
    onSessionProblem((error) => {
      switch (error.code) {
        case 'SESSION_LOCKED':
          setSessionState((prev) => (prev && prev.state !== 'locked' ? { ...prev, state: 'locked' } : prev));
          break;
        case 'MFA_REQUIRED':
        case 'MFA_ENROLMENT_REQUIRED':
        case 'PASSWORD_CHANGE_REQUIRED':
          void refresh();
          break;
        default:
          // UNAUTHENTICATED, SESSION_EXPIRED, ACCOUNT_DISABLED: back to the login screen.
          if (sessionRef.current) {
            setNotice(error.code === 'UNAUTHENTICATED' ? 'Your session has ended. Please log in again.' : error.message);
          }
          setSessionState(null);
      }
    });
    return () => onSessionProblem(null);
  }, [refresh]);

  // Poll while signed in. The server locks an idle session when it next sees it, so besides the
  // regular 30-second poll, check just after the moment the session would go idle.
  const signedIn = session !== null;
  const idleMs = (session?.idleLockMinutes ?? 15) * 60_000;
  useEffect(() => {
    if (!signedIn) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const schedule = () => {
      const untilIdle = lastActivityAt() + idleMs + 2_000 - Date.now();
      const wait = untilIdle > 0 && untilIdle < POLL_MS ? untilIdle : POLL_MS;
      timer = setTimeout(tick, wait);
    };
    const tick = () => {
      void refresh().finally(() => {
        if (!stopped) schedule();
      });
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void refresh();
    };
    schedule();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [signedIn, idleMs, refresh]);

  // Typing and clicking count as activity: tell the server at most once a minute, so a long
  // piece of writing does not end in a locked session. Only while the session is active.
  const active = session?.state === 'active';
  useEffect(() => {
    if (!active) return;
    const onActivity = () => {
      if (Date.now() - lastActivityAt() < ACTIVITY_REPORT_MS) return;
      void api.post('/api/v1/auth/activity', {}).catch(() => undefined);
    };
    const events = ['keydown', 'pointerdown', 'input'] as const;
    for (const e of events) document.addEventListener(e, onActivity, { passive: true });
    return () => {
      for (const e of events) document.removeEventListener(e, onActivity);
    };
  }, [active]);

  const logout = useCallback(async () => {
    try {
      await api.post('/api/v1/auth/logout', {});
    } catch {
      // Logged out either way as far as this browser is concerned.
    }
    setNotice('You have logged out.');
    setSessionState(null);
    window.history.replaceState(null, '', '#/');
  }, []);

  const can = useCallback(
    (key: string, schoolId?: string | null) => {
      const ability = session?.abilities?.[key];
      if (!ability) return false;
      if (ability === 'all') return true;
      if (schoolId === undefined) return ability.length > 0;
      if (schoolId === null) return false;
      return ability.includes(schoolId);
    },
    [session],
  );

  const value = useMemo<SessionContextValue>(
    () => ({ session, loading, notice, setSession, refresh, logout, can }),
    [session, loading, notice, setSession, refresh, logout, can],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
