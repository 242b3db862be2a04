// Every timeout and retry policy of Tapedeck's workflows, in one place.
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

/** Errors that retrying cannot fix; activities throw ApplicationFailure with these types. */
export const NON_RETRYABLE = ['InvalidRecordingConfig', 'CapacityExhausted', 'IngestPortsExhausted', 'SnippetConflict'];

/** Short control-plane calls (placement, registry reads). */
export const controlActivity: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Short calls on a media worker's own queue (ingest, live pipeline changes). If the worker is
 *  gone the task waits in its queue: scheduleToStart bounds that wait. */
export const mediaCall: ActivityOptions = {
  scheduleToStartTimeout: '30 seconds',
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Asking one candidate media worker to reserve capacity: one try, quickly, then the next. */
export const reserveCall: ActivityOptions = {
  scheduleToStartTimeout: '5 seconds',
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 1 },
};

/** The long-running recording and shipping activities: they heartbeat; a worker that dies is
 *  noticed within the heartbeat timeout and the activity is retried on the same media queue,
 *  where a restarted worker with the same id continues the recording. */
export const longRunning: ActivityOptions = {
  startToCloseTimeout: '48 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
};

/** How long a recording child waits for shipping to drain after the recording stopped. */
export const SHIPPING_DRAIN_TIMEOUT = '10 minutes';

/** Most notices kept in workflow state (status shows them; history stays small). */
export const MAX_NOTICES = 20;

/** Clip calls on the shared clips queue: listing the bucket, publishing, one webhook POST. */
export const clipCall: ActivityOptions = {
  scheduleToStartTimeout: '5 minutes',
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Download, merge, upload: minutes for a 2-hour clip; heartbeats while ffmpeg runs. A merge
 *  that fails for its input (ClipMergeFailed) is not retried. */
export const clipMerge: ActivityOptions = {
  scheduleToStartTimeout: '10 minutes',
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE, 'ClipMergeFailed'] },
};

/** The moderation webhook: each POST is one activity attempt, the workflow retries with this
 *  backoff so every attempt is recorded in the clip's status. */
export const WEBHOOK_RETRY = { maxAttempts: 6, initialMs: 1000, factor: 2, maxMs: 60_000 };
