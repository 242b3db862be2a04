// The recording child workflows: `compositeRecording` (one per livestream) and
// `individualRecording` (one per host camera-on or microphone-only period). Both run a recording
// activity and a shipping activity side by side on the livestream's media worker, pass live
// changes to a running composite, and on `stopRecording` let the pipeline finish its last snippet,
// wait for every snippet to be shipped, and report to the livestream workflow.
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { MediaActivities } from '../activities/contracts';
import {
  compositeChangedSignal,
  compositeDesiredQuery,
  recordingFinishedSignal,
  recordingStatusQuery,
  stopRecordingSignal,
  type RecordingStatus,
} from './contract';
import type { CompositeDesired, RecordingSummary, RecordingWorkflowInput } from './livestream.types';
import { longRunning, mediaCall } from './policies';

export async function compositeRecording(input: RecordingWorkflowInput): Promise<RecordingSummary | null> {
  return runRecording(input);
}

export async function individualRecording(input: RecordingWorkflowInput): Promise<RecordingSummary | null> {
  return runRecording(input);
}

function failureText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e.message}${cause}`;
}

async function runRecording(input: RecordingWorkflowInput): Promise<RecordingSummary | null> {
  const calls = proxyActivities<MediaActivities>({ ...mediaCall, taskQueue: input.mediaTaskQueue });
  const long = proxyActivities<MediaActivities>({ ...longRunning, taskQueue: input.mediaTaskQueue });
  const ids = { livestreamId: input.livestreamId, recordingId: input.recordingId };

  let desired: CompositeDesired | undefined = input.composite
    ? { version: input.composite.version, hosts: input.composite.hosts, layout: input.composite.layout, rtmp: input.composite.rtmp }
    : undefined;
  let applied = desired?.version ?? 0;
  let stopReason: string | null = null;
  let phase: RecordingStatus['phase'] = 'starting';
  let summary: RecordingSummary | null = null;

  setHandler(compositeChangedSignal, (d) => {
    if (desired && d.version > desired.version) desired = d;
  });
  setHandler(stopRecordingSignal, ({ reason }) => {
    stopReason ??= reason;
  });
  setHandler(compositeDesiredQuery, () => desired ?? { version: 0, hosts: input.host ? [input.host] : [], layout: { kind: 'grid' } });
  setHandler(recordingStatusQuery, () => ({
    ref: { workflowId: workflowInfo().workflowId, recordingId: input.recordingId, kind: input.kind, hostId: input.hostId, variant: input.variant },
    phase,
    appliedCompositeVersion: applied,
    summary,
  }));

  // Shipping runs for the whole recording and finishes once the recording has ended and the
  // spool is drained. If it ends any other way (it should not: it retries on its own), it is
  // started again, so nothing written to the spool is left behind.
  let shipped = 0;
  let shippingError: string | undefined;
  let recordDone = false;
  const shipping = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await long.shipRecording(ids);
        shipped += r.shipped;
        shippingError = undefined;
        if (recordDone) return;
      } catch (e) {
        shippingError = failureText(e);
        if (recordDone && attempt >= 3) return;
      }
      await sleep('1 second');
    }
  })();

  const recordScope = new CancellationScope();
  let recordError: string | undefined;
  void recordScope
    .run(() => long.record({ ...input, ...(desired ? { desired } : {}) }))
    .then(
      (r) => {
        summary = r;
      },
      (e) => {
        if (!isCancellation(e)) recordError = failureText(e);
      },
    )
    .finally(() => {
      recordDone = true;
    });
  phase = 'recording';

  let stopAsked = false;
  while (!recordDone) {
    await condition(() => recordDone || (stopReason !== null && !stopAsked) || (desired !== undefined && desired.version > applied && stopReason === null));
    if (recordDone) break;
    if (stopReason !== null && !stopAsked) {
      stopAsked = true;
      phase = 'stopping';
      const stopped = await calls.stopRecording({ ...ids, reason: stopReason }).catch(() => false);
      if (!stopped) recordScope.cancel(); // not running right now (between retries): cancel it
      else {
        // Bounded: a pipeline that does not finish in time is cancelled (the activity then kills it).
        void sleep('2 minutes').then(() => {
          if (!recordDone) recordScope.cancel();
        });
      }
    } else if (desired && desired.version > applied) {
      const version = desired.version;
      const ok = await calls.applyComposite({ ...ids, desired }).catch(() => false);
      if (ok) applied = Math.max(applied, version);
      else await sleep('2 seconds'); // the recording is (re)starting; it reads the desired state itself
    }
  }

  if (!stopAsked || recordError !== undefined) {
    // Ended without our stop (a permanent failure): mark the recording finished so shipping
    // drains what was written and completes.
    await calls.stopRecording({ ...ids, reason: recordError ?? 'recording ended' }).catch(() => false);
  }
  phase = 'shipping';
  await shipping;
  const final: RecordingSummary | null = summary ? { ...(summary as RecordingSummary), shipped } : null;
  summary = final;
  phase = 'finished';
  const error = recordError ?? shippingError;
  await getExternalWorkflowHandle(input.parentWorkflowId)
    .signal(recordingFinishedSignal, { workflowId: workflowInfo().workflowId, summary: final, ...(error ? { error } : {}) })
    .catch(() => undefined); // the livestream may already be gone (terminated by an operator)
  return final;
}
