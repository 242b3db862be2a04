// Temporal's transport errors as the API's domain errors, shared by the Temporal adapters: a
// deadline is a 504, an unreachable or refusing frontend a 503 with its reason. Anything else
// (workflow-level errors) is left to the adapter that knows what it asked.
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcDeadlineError, isGrpcServiceError } from '@temporalio/client';
import { BackendTimeout, BackendUnavailable } from './errors';

/** gRPC status UNAVAILABLE: the frontend cannot be reached. */
const GRPC_UNAVAILABLE = 14;

export function temporalBackendError(e: unknown, what: string, timeoutMs: number): BackendTimeout | BackendUnavailable | undefined {
  if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(e)) return new BackendTimeout('temporal', `${what} within ${timeoutMs} ms`);
  const grpc = isGrpcServiceError(e) ? e : e instanceof ServiceError && isGrpcServiceError(e.cause) ? e.cause : undefined;
  if (grpc?.code === GRPC_UNAVAILABLE) return new BackendUnavailable('temporal', grpc.details || grpc.message);
  // Any other refusal by the service is ours to look into, but still an answer with a reason.
  if (e instanceof ServiceError) return new BackendUnavailable('temporal', `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
  return undefined;
}
