// The `shipRecording` activity: runs the shipper for one recording's spool folder on the media
// worker that owns the disk, until the recording is finished (the recording activity writes
// finished.json) and the spool is drained. Heartbeats {lastShippedSequence, backlog, latency}
// and resumes counters from the last heartbeat; on cancellation it finishes the snippet in flight,
// leaves the rest in the spool and reports cancelled; on worker shutdown it does the same but fails
// retryably, so the same activity resumes on the restarted worker.
//
// Workflows should start it with a heartbeat timeout of ~30 s, a long start-to-close timeout
// (the recording's length plus drain time), and unlimited retries with backoff: every step is
// idempotent, so a retry only costs a rescan.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { Logger } from '../../apps/common/logger';
import { RecordingShipper, type Backlog, type ShipEvent, type ShipFaults, type ShipOptions, type ShipProgress, type ShipStatus } from './shipper';
import type { LatencySummary } from './stats';

export interface ShipRecordingInput {
  livestreamId: string;
  recordingId: string;
  /** The recording's spool folder (RecordingConfig.spoolDir). */
  spoolDir: string;
  hostId?: string;
}

export interface ShipHeartbeat extends ShipProgress {
  backlog: Backlog;
  latency: { endToAck: LatencySummary; closeToAck: LatencySummary };
  state: ShipStatus['state'];
  warnings?: ShipStatus['warnings'];
  lastError?: ShipStatus['lastError'];
}

export type ShipRecordingResult = Pick<ShipStatus, 'lastShippedSequence' | 'shipped' | 'quarantined' | 'duplicatesAvoided' | 'latency' | 'warnings'> & { partFilesLeft: number };

/** Live shippers of this worker, for status endpoints. */
export class ShipRegistry {
  private readonly active = new Map<string, RecordingShipper>();
  add(key: string, s: RecordingShipper): void {
    this.active.set(key, s);
  }
  remove(key: string, s: RecordingShipper): void {
    if (this.active.get(key) === s) this.active.delete(key);
  }
  statuses(): ShipStatus[] {
    return [...this.active.values()].map((s) => s.status());
  }
}

export interface ShipActivityDeps {
  storage: Storage;
  pubsub: PubSub;
  bucket: string;
  clock?: () => number;
  logger: Logger;
  options?: Partial<ShipOptions>;
  heartbeatMs?: number;
  registry?: ShipRegistry;
  faults?: ShipFaults;
  onEvent?: (event: ShipEvent) => void;
}

export function createShipActivities(deps: ShipActivityDeps) {
  const heartbeatMs = deps.heartbeatMs ?? 5000;
  return {
    async shipRecording(input: ShipRecordingInput): Promise<ShipRecordingResult> {
      const ctx = Context.current();
      const resumeFrom = isProgress(ctx.info.heartbeatDetails) ? ctx.info.heartbeatDetails : undefined;
      const shipper = new RecordingShipper(input, {
        storage: deps.storage,
        pubsub: deps.pubsub,
        bucket: deps.bucket,
        clock: deps.clock ?? Date.now,
        logger: deps.logger.child({ activity: 'shipRecording', attempt: ctx.info.attempt }),
        ...(deps.options ? { options: deps.options } : {}),
        ...(deps.faults ? { faults: deps.faults } : {}),
        ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
      });
      const key = `${input.livestreamId}/${input.recordingId}`;
      deps.registry?.add(key, shipper);
      const beat = () => {
        const s = shipper.status();
        const details: ShipHeartbeat = { ...shipper.progress(), backlog: s.backlog, latency: s.latency, state: s.state, warnings: s.warnings, lastError: s.lastError };
        ctx.heartbeat(details);
      };
      beat();
      const timer = setInterval(beat, heartbeatMs);
      try {
        const status = await shipper.run({ untilFinished: true, stop: ctx.cancellationSignal, ...(resumeFrom ? { resumeFrom } : {}) });
        beat();
        if (ctx.cancellationSignal.aborted) {
          const reason = ctx.cancellationSignal.reason as unknown;
          // A worker shutdown is not the workflow's cancellation: fail retryably so the same
          // activity resumes on the restarted worker instead of ending as cancelled.
          if (reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN') {
            throw ApplicationFailure.retryable('shipping paused: the media worker is shutting down', 'WorkerShutdown');
          }
          throw reason ?? new Error('cancelled');
        }
        return {
          lastShippedSequence: status.lastShippedSequence,
          shipped: status.shipped,
          quarantined: status.quarantined,
          duplicatesAvoided: status.duplicatesAvoided,
          latency: status.latency,
          warnings: status.warnings,
          partFilesLeft: status.backlog.partFiles,
        };
      } finally {
        clearInterval(timer);
        deps.registry?.remove(key, shipper);
      }
    },
  };
}

function isProgress(d: unknown): d is ShipProgress {
  const p = d as Partial<ShipProgress> | undefined;
  return !!p && typeof p === 'object' && typeof p.shipped === 'number' && Array.isArray(p.endToAckRecent) && Array.isArray(p.closeToAckRecent);
}
