/**
 * Hash routing (`#/people/123?search=smith`): the API serves index.html for any path, but the hash
 * keeps routes entirely in the browser and survives the lock screen and a fresh login.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type ReactNode } from 'react';

export interface Route {
  /** Always starts with "/"; no trailing slash except for the root. */
  path: string;
  segments: string[];
  params: URLSearchParams;
}

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
window.addEventListener('hashchange', notify);

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

const currentHash = () => window.location.hash;

export const parseHash = (hash: string): Route => {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const pathPart = q === -1 ? raw : raw.slice(0, q);
  const search = q === -1 ? '' : raw.slice(q + 1);
  const segments = pathPart
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path: `/${segments.join('/')}`, segments, params: new URLSearchParams(search) };
};

let cachedHash: string | null = null;
let cachedRoute: Route = parseHash('');
const snapshot = (): Route => {
  const h = currentHash();
  if (h !== cachedHash) {
    cachedHash = h;
    cachedRoute = parseHash(h);
  }
  return cachedRoute;
};

export const useRoute = (): Route => useSyncExternalStore(subscribe, snapshot);

/** Builds a hash href from a path and optional query values (empty values are left out). */
export const href = (path: string, params?: Record<string, string | number | boolean | null | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
};

export const navigate = (to: string, options: { replace?: boolean } = {}): void => {
  const target = to.startsWith('#') ? to : `#${to}`;
  if (target === window.location.hash) return;
  if (options.replace) {
    window.history.replaceState(window.history.state, '', target);
    notify();
  } else {
    window.location.hash = target;
  }
};

interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: string;
  children: ReactNode;
}

/** A real link (middle-click, copy address and screen readers all work) to a hash route. */
export function Link({ to, children, ...rest }: LinkProps) {
  const target = to.startsWith('#') ? to : `#${to}`;
  return (
    <a href={target} {...rest}>
      {children}
    </a>
  );
}
