/**
 * A small typed wrapper over the Haven API. Every failure becomes an ApiError carrying the API's
 * stable code, so screens can say what went wrong and the session layer can react to codes that
 * mean "log in again", "unlock" or "finish signing in".
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Codes that change what the whole app shows rather than one screen. */
export const SESSION_CODES: ReadonlySet<string> = new Set([
  'UNAUTHENTICATED',
  'SESSION_EXPIRED',
  'SESSION_LOCKED',
  'ACCOUNT_DISABLED',
  'MFA_REQUIRED',
  'MFA_ENROLMENT_REQUIRED',
  'PASSWORD_CHANGE_REQUIRED',
]);

type SessionProblemListener = (error: ApiError) => void;
let sessionProblemListener: SessionProblemListener | null = null;

/** The session layer registers here to hear about SESSION_LOCKED, UNAUTHENTICATED and friends. */
export const onSessionProblem = (listener: SessionProblemListener | null): void => {
  sessionProblemListener = listener;
};

const report = (error: ApiError): ApiError => {
  if (SESSION_CODES.has(error.code)) sessionProblemListener?.(error);
  return error;
};

// When the user last did something the server counts as activity. Polling the session does not
// count (the server does not refresh its idle clock for it), so it is left out here too.
let lastActivity = Date.now();
export const lastActivityAt = (): number => lastActivity;
const SESSION_POLL_PATH = '/api/v1/auth/session';

const NETWORK_MESSAGE = 'Haven could not be reached. Check your connection and try again.';

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

const errorFrom = (status: number, statusText: string, body: unknown): ApiError => {
  const e = (body as ErrorBody | null)?.error;
  if (e && typeof e.code === 'string') {
    const message = typeof e.message === 'string' && e.message ? e.message : `Something went wrong (${e.code})`;
    return new ApiError(status, e.code, message, e.details);
  }
  if (status === 429) return new ApiError(status, 'RATE_LIMITED', 'Too many requests. Wait a moment and try again.');
  if (status >= 500) return new ApiError(status, `HTTP_${status}`, 'Haven had a problem answering. Try again in a moment.');
  return new ApiError(status, `HTTP_${status}`, `The server answered ${status} ${statusText}`.trim());
};

const parseJson = (text: string): unknown => {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

export interface RequestOptions {
  signal?: AbortSignal;
}

const request = async <T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> => {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: string | undefined;
  if (method !== 'GET' && method !== 'DELETE') {
    // The API insists on a JSON content type for every change (CSRF defence), even without a body.
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body ?? {});
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: payload ?? null,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal ?? null,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'NETWORK', NETWORK_MESSAGE);
  }
  if (!(method === 'GET' && path === SESSION_POLL_PATH)) lastActivity = Date.now();
  const text = await response.text().catch(() => '');
  const data = parseJson(text);
  if (!response.ok) throw report(errorFrom(response.status, response.statusText, data));
  return data as T;
};

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, body, options),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PUT', path, body, options),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
};

/** Builds `?a=1&b=2` from the values that are set; empty strings, null and undefined are left out. */
export const query = (params: Record<string, string | number | boolean | null | undefined>): string => {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
};

/** Encodes one path segment (ids come from the API, but never trust them to be URL-safe). */
export const seg = (value: string): string => encodeURIComponent(value);

export type UploadPhase = 'uploading' | 'processing';

export interface UploadProgress {
  phase: UploadPhase;
  /** 0–100 while uploading when the browser knows the size; null otherwise. */
  percent: number | null;
}

export interface Upload<T> {
  promise: Promise<T>;
  abort: () => void;
}

/**
 * Sends a body (a CSV file as it is on disk) with XMLHttpRequest so the page can show upload
 * progress, which fetch cannot report. The bytes go unchanged: the API works out the encoding
 * (UTF-8, or UTF-16 from Excel's "Unicode text"), which the browser would get wrong.
 */
export const uploadBody = <T>(
  path: string,
  body: Blob | string,
  contentType: string,
  onProgress: (progress: UploadProgress) => void,
): Upload<T> => {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<T>((resolve, reject) => {
    xhr.open('POST', path);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      onProgress({ phase: 'uploading', percent: e.lengthComputable ? Math.round((e.loaded / e.total) * 100) : null });
    };
    xhr.upload.onload = () => onProgress({ phase: 'processing', percent: null });
    xhr.onload = () => {
      lastActivity = Date.now();
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
      else reject(report(errorFrom(xhr.status, xhr.statusText, data)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', NETWORK_MESSAGE));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    onProgress({ phase: 'uploading', percent: 0 });
    xhr.send(body);
  });
  return { promise, abort: () => xhr.abort() };
};

export const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';

/** A message fit to show for any thrown value. */
export const messageOf = (e: unknown): string => {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return e.message;
  return 'Something went wrong. Try again.';
};

/** Field-level messages from a VALIDATION_FAILED error, keyed by the last part of each path. */
export const fieldErrorsOf = (e: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!(e instanceof ApiError) || !Array.isArray(e.details)) return out;
  for (const item of e.details as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const { path, message } = item as { path?: unknown; message?: unknown };
    if (typeof message !== 'string') continue;
    const key = typeof path === 'string' ? (path.replace(/^\//, '').split(/[/.]/).filter(Boolean).pop() ?? '') : '';
    if (key && !out[key]) out[key] = message;
  }
  return out;
};
