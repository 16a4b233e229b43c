/**
 * Keeping a process's picture of who is where in step with what other processes took: processes
 * that answer clients (web for DoH, dns, proxy) apply new login-feed rows and choices to go on
 * past a warning every two seconds, re-read schools, sites and devices every minute and notice a
 * saved policy or override within five seconds; the worker removes login rows past
 * HAVEN_LOGIN_RETENTION_DAYS once a day.
 */
import type { Services } from '../services/index.ts';

const DAY_MS = 86_400_000;

export interface Stoppable {
  stop(): void;
}

export const followFeeds = (
  services: Pick<Services, 'identity' | 'warnContinues'>,
  report: (message: string) => void,
  everyMs = 2000,
): Stoppable & { poll: () => Promise<void> } => {
  let warned = false;
  const poll = async () => {
    try {
      await services.identity.pollLogins();
      await services.warnContinues.poll();
      warned = false;
    } catch (e) {
      // One message per outage, not one every two seconds.
      if (!warned)
        report(`cannot read the login feed (addresses keep their last known people): ${e instanceof Error ? e.message : String(e)}`);
      warned = true;
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), everyMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
};

export const scheduleLoginRetention = (
  logins: Services['logins'],
  days: number,
  report: (message: string) => void,
  everyMs = DAY_MS,
): Stoppable => {
  const purge = async () => {
    try {
      const removed = await logins.purge(days);
      if (removed > 0) report(`removed ${removed} login-feed rows older than ${days} days (HAVEN_LOGIN_RETENTION_DAYS)`);
    } catch (e) {
      report(`could not remove old login-feed rows: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  void purge();
  const timer = setInterval(() => void purge(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};

/**
 * Loads the identity directory now, then keeps it and the compiled policies fresh: schools,
 * places and devices changed by other processes within a minute, a policy or override saved
 * elsewhere (the policy stamp, polled every five seconds) within seconds.
 */
export const keepDecisionsFresh = async (services: Pick<Services, 'identity' | 'filter' | 'deps'>): Promise<Stoppable> => {
  await services.identity.refresh();
  const identityTimer = setInterval(() => void services.identity.refresh().catch(() => undefined), 60_000);
  let policyStamp = await services.deps.store.policies.stamp();
  const policyTimer = setInterval(() => {
    void services.deps.store.policies
      .stamp()
      .then((stamp) => {
        if (stamp === policyStamp) return;
        policyStamp = stamp;
        services.filter.invalidate();
        return services.identity.refresh();
      })
      .catch(() => undefined);
  }, 5_000);
  identityTimer.unref();
  policyTimer.unref();
  return {
    stop: () => {
      clearInterval(identityTimer);
      clearInterval(policyTimer);
    },
  };
};
