// The API's errors, in one module. Adapters translate what their backend says (Temporal, Cloud
// Storage) into these domain errors; the exception filter turns them into HTTP. Each carries a
// stable `code` that clients branch on, and a message meant for a human.
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'capacity_exhausted' | 'unavailable' | 'timeout';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The caller's mistake in one field: 400 naming it. */
export class InvalidField extends DomainError {
  constructor(field: string, problem: string) {
    super('invalid', 'invalid_request', `${field} ${problem}`, { fields: [{ field, problem }] });
  }
}

export class LivestreamNotFound extends DomainError {
  constructor(livestreamId: string) {
    super('not_found', 'livestream_not_found', `livestream "${livestreamId}" does not exist`, { livestreamId });
  }
}

export class HostNotFound extends DomainError {
  constructor(livestreamId: string, hostId: string) {
    super('not_found', 'host_not_found', `host "${hostId}" is not in livestream "${livestreamId}"`, { livestreamId, hostId });
  }
}

/** The request is well formed but the livestream is in a state that does not allow it. */
export class LivestreamConflict extends DomainError {
  constructor(livestreamId: string, message: string, phase?: string) {
    super('conflict', 'livestream_conflict', message, { livestreamId, ...(phase ? { phase } : {}) });
  }
}

/** No media worker could take the livestream: the caller may retry later. */
export class CapacityExhausted extends DomainError {
  constructor(livestreamId: string, reason: string) {
    super('capacity_exhausted', 'capacity_exhausted', `no media capacity for livestream "${livestreamId}"`, { livestreamId, reason });
  }
}

/** A backend (Temporal, Cloud Storage) did not answer: ours, not the caller's. */
export class BackendUnavailable extends DomainError {
  constructor(backend: 'temporal' | 'storage', reason: string) {
    super('unavailable', `${backend}_unavailable`, `${backend} is unavailable`, { backend, reason });
  }
}

export class BackendTimeout extends DomainError {
  constructor(backend: 'temporal' | 'storage', what: string) {
    super('timeout', `${backend}_timeout`, `${backend} did not answer in time (${what})`, { backend });
  }
}

export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  capacity_exhausted: 503,
  unavailable: 503,
  timeout: 504,
};

/** The one error body of the API (contract): `{error: {code, message, details?}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}
