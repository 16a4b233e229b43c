/**
 * Domain errors carry a stable code and an HTTP status hint. The API maps them in one place
 * (src/api/error-handler.ts); codes are catalogued in docs/errors.md.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'ACCOUNT_LOCKED'
  | 'ACCOUNT_DISABLED'
  | 'MFA_REQUIRED'
  | 'MFA_ENROLMENT_REQUIRED'
  | 'MFA_INVALID_CODE'
  | 'MFA_ALREADY_ENABLED'
  | 'PASSWORD_CHANGE_REQUIRED'
  | 'PASSWORD_TOO_WEAK'
  | 'SESSION_LOCKED'
  | 'SESSION_EXPIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'SCHOOL_NOT_FOUND'
  | 'PERSON_NOT_FOUND'
  | 'GROUP_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'CONFLICT'
  | 'EMAIL_TAKEN'
  | 'UPN_TAKEN'
  | 'IMPORT_HAS_ERRORS'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL';

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, status = 400, details?: unknown) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export const notFound = (code: ErrorCode, what: string): DomainError => new DomainError(code, `${what} was not found`, 404);

export const forbidden = (message = 'You do not have permission to do that'): DomainError => new DomainError('FORBIDDEN', message, 403);

export const conflict = (code: ErrorCode, message: string): DomainError => new DomainError(code, message, 409);

export const invalid = (message: string, details?: unknown): DomainError => new DomainError('VALIDATION_FAILED', message, 400, details);
