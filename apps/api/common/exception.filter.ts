// The one place errors become HTTP: domain errors by kind, Nest's own HTTP exceptions (unknown
// routes, ...) by status, anything else a 500 with the request id and no internals. The full
// error goes to the log, never to the caller.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '../../common/logger';
import type { AuthedRequest } from './auth';
import { DomainError, HTTP_STATUS, errorBody } from './errors';

/** How long a caller refused for capacity should wait before trying again. */
const CAPACITY_RETRY_AFTER_S = 30;

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<AuthedRequest>();
    if (res.headersSent) return;
    if (exception instanceof DomainError) {
      const status = HTTP_STATUS[exception.kind];
      if (exception.kind === 'capacity_exhausted') res.setHeader('Retry-After', String(CAPACITY_RETRY_AFTER_S));
      if (status >= 500) this.logger.warn({ requestId: req.requestId, code: exception.code, details: exception.details }, exception.message);
      res.status(status).json(errorBody(exception.code, exception.message, exception.details));
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'http_error');
      const message = status === 404 ? `no route ${req.method} ${req.path}` : exception.message;
      res.status(status).json(errorBody(code, message));
      return;
    }
    const err = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error({ requestId: req.requestId, err }, 'unhandled error');
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json(errorBody('internal_error', `internal error; quote request id ${req.requestId ?? 'unknown'} when reporting it`));
  }
}
