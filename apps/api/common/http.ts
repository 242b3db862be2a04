// Express-level plumbing that runs before Nest's routing: request ids, request logs and
// metrics, the JSON-only rule and the body size limit. Errors raised here are answered in the
// API's error shape directly, because Nest's exception filter never sees them.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../common/logger';
import type { MetricsService } from '../metrics/metrics.service';
import type { AuthedRequest } from './auth';
import { errorBody } from './errors';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** x-request-id in (when well formed) or a fresh UUID; echoed on the response; one log line per
 *  request with the route pattern (ids stay out of metric labels), status, time and role. */
export function requestContext(logger: Logger, metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const r = req as AuthedRequest;
    const given = req.header('x-request-id');
    r.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', r.requestId);
    const started = performance.now();
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      metrics.observeRequest(req.method, route, res.statusCode, seconds);
      const line = {
        requestId: r.requestId,
        method: req.method,
        route,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        ...(r.caller ? { role: r.caller.role } : {}),
      };
      if (res.statusCode >= 500) logger.warn(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

/** Bodies are JSON objects, at most `limitBytes`; anything else is refused before routing. */
export function jsonBody(limitBytes: number) {
  const parse = express.json({ limit: limitBytes, strict: true, type: 'application/json' });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!BODY_METHODS.has(req.method)) return next();
    if (!req.is('application/json')) {
      res.status(415).json(errorBody('unsupported_media_type', `${req.method} needs Content-Type: application/json`, { contentType: req.header('content-type') ?? null }));
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err) {
        const e = err as { type?: string; status?: number };
        if (e.type === 'entity.too.large') {
          res.status(413).json(errorBody('payload_too_large', `body larger than ${limitBytes} bytes`, { limitBytes }));
        } else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
          res.status(415).json(errorBody('unsupported_media_type', 'body must be UTF-8 JSON'));
        } else {
          res.status(400).json(errorBody('invalid_json', 'body is not valid JSON'));
        }
        return;
      }
      if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
        res.status(400).json(errorBody('invalid_request', 'body must be a JSON object', { fields: [{ field: '(body)', in: 'body', problem: 'must be a JSON object' }] }));
        return;
      }
      next();
    });
  };
}
