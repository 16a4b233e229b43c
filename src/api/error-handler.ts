/**
 * One error format for the whole API: {"error": {"code", "message", "details"?}} with stable
 * codes (docs/errors.md). Unexpected errors are logged and answered without internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode } from '../core/index.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

const body = (code: ErrorCode, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

const fastifyCodes: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', 'The request body is too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_REQUEST', 'The request body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'BAD_REQUEST', 'The request body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'Content-Length does not match the body'],
};

export const errorHandler = (error: FastifyError | DomainError | Error, request: FastifyRequest, reply: FastifyReply) => {
  if (error instanceof DomainError) {
    if (error.status >= 500) request.log.error({ err: error }, 'domain error');
    return reply.status(error.status).send(body(error.code, error.message, error.details));
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const details = fe.validation.map((v) => ({
      path: v.instancePath || (v.params && 'additionalProperty' in v.params ? `/${String(v.params.additionalProperty)}` : ''),
      message:
        v.keyword === 'additionalProperties'
          ? `unknown field "${String((v.params as { additionalProperty?: string }).additionalProperty)}"`
          : (v.message ?? 'is invalid'),
    }));
    const where = fe.validationContext ?? 'request';
    return reply
      .status(400)
      .send(
        body(
          'VALIDATION_FAILED',
          `The ${where} is not valid: ${details.map((d) => `${d.path || where} ${d.message}`).join('; ')}`,
          details,
        ),
      );
  }
  if (fe.code && fastifyCodes[fe.code]) {
    const [status, code, message] = fastifyCodes[fe.code]!;
    return reply.status(status).send(body(code, message));
  }
  if (fe.statusCode === 429) return reply.status(429).send(body('RATE_LIMITED', 'Too many requests: wait a minute and try again'));
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.status(fe.statusCode).send(body('BAD_REQUEST', fe.message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send(body('INTERNAL', 'Something went wrong on the server. It has been logged.'));
};
