// One workflow per livestream (id `livestream/{livestreamId}`). It owns the hosts and their camera
// and microphone state, pins the livestream to one media worker, and keeps the right recordings
// running: one composite child for the whole livestream, and per host one individual child per
// camera-on period (MP4) or microphone-only period (MP3).
//
// Signal handlers only record intent; the body compares what should run with what runs and acts.
// Children are started with ParentClosePolicy.ABANDON and report back with a `recordingFinished`
// signal, so the workflow can continue as new while they run.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  allHandlersFinished,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import type { ControlActivities, MediaActivities } from '../activities/contracts';
import type { HostMedia, Layout } from '../pipelines/config';
import { livestreamCores } from './capacity';
import {
  cameraSignal,
  compositeChangedSignal,
  hostJoinedUpdate,
  hostLeftSignal,
  layoutSignal,
  microphoneSignal,
  outputsSignal,
  readyUpdate,
  recordingFinishedSignal,
  statusQuery,
  stopRecordingSignal,
  stopSignal,
} from './contract';
import {
  compositeWorkflowId,
  DEFAULT_AUDIO,
  DEFAULT_VIDEO,
  hostRecordingId,
  individualWorkflowId,
  type HostJoinedResult,
  type HostSpec,
  type HostState,
  type LivestreamInput,
  type LivestreamState,
  type LivestreamSummary,
  type Placement,
  type RecordingRef,
  type RecordingWorkflowInput,
} from './livestream.types';
import { controlActivity, MAX_NOTICES, mediaCall, reserveCall } from './policies';
import { compositeRecording, individualRecording } from './recording.workflow';
import { validateHostSpec, validateLayout } from './validation';
import { normaliseOutputs } from '../pipelines/outputs/outputs';

const control = proxyActivities<ControlActivities>(controlActivity);
const media = (taskQueue: string) => proxyActivities<MediaActivities>({ ...mediaCall, taskQueue });

export function hostMediaFromSpec(spec: HostSpec): HostMedia {
  return {
    hostId: spec.hostId,
    displayName: spec.displayName ?? spec.hostId,
    video: spec.video ?? { ...DEFAULT_VIDEO },
    audio: spec.audio ?? { ...DEFAULT_AUDIO },
    camera: spec.camera ?? true,
    microphone: spec.microphone ?? true,
  };
}

function initialState(input: LivestreamInput): LivestreamState {
  const now = new Date().toISOString();
  const hosts: Record<string, HostState> = {};
  for (const spec of input.hosts) {
    hosts[spec.hostId] = { media: hostMediaFromSpec(spec), ingest: null, present: true, joinedAt: now, nextSequence: 0, periods: 0 };
  }
  return {
    livestreamId: input.livestreamId,
    phase: 'placing',
    placement: null,
    hosts,
    layout: input.composite.layout,
    composite: input.composite,
    individual: input.individual,
    snippetSeconds: input.snippetSeconds,
    recordings: [],
    compositeVersion: 0,
    startedAt: now,
    notices: [],
  };
}

/** A composite that failed this many times in a row is not restarted again. */
const MAX_COMPOSITE_ATTEMPTS = 3;
/** Picks the media worker: candidates by free capacity, each asked on its own queue to reserve
 *  (a worker that is gone never picks the task up, and the next candidate is tried). */
async function place(s: LivestreamState): Promise<Placement> {
  const request = { livestreamId: s.livestreamId, estimatedCores: livestreamCores(Object.values(s.hosts).map((h) => h.media), s.individual) };
  const candidates = await control.listMediaCandidates(request);
  for (const c of candidates) {
    const worker = proxyActivities<MediaActivities>({ ...reserveCall, taskQueue: c.taskQueue });
    const reserved = await worker.reserveCapacity(request).catch(() => false);
    if (reserved) return { workerId: c.workerId, taskQueue: c.taskQueue };
  }
  throw ApplicationFailure.create({
    type: 'CapacityExhausted',
    message: `no media worker could take ${request.estimatedCores} cores (${candidates.length} candidates refused or did not answer)`,
    nonRetryable: true,
  });
}

const live = (r: RecordingRef) => r.state === 'running' || r.state === 'stopping';

export async function livestream(input: LivestreamInput): Promise<LivestreamSummary> {
  const s = input.carried ?? initialState(input);
  const wfId = workflowInfo().workflowId;
  let dirty = true;
  let placementError: string | undefined;
  let lastCompositeFingerprint = s.carriedFingerprint ?? '';

  const notice = (message: string) => {
    s.notices.push(`${new Date().toISOString()} ${message}`);
    if (s.notices.length > MAX_NOTICES) s.notices.splice(0, s.notices.length - MAX_NOTICES);
    log.warn(message, { livestreamId: s.livestreamId });
  };
  const presentHost = (hostId: string, what: string): HostState | undefined => {
    const h = s.hosts[hostId];
    if (!h || !h.present) {
      notice(`${what} for unknown or absent host "${hostId}" ignored`);
      return undefined;
    }
    return h;
  };

  setHandler(statusQuery, () => s);

  setHandler(
    readyUpdate,
    async () => {
      await condition(() => s.phase !== 'placing' || placementError !== undefined);
      if (placementError !== undefined) throw ApplicationFailure.create({ type: 'CapacityExhausted', message: placementError, nonRetryable: true });
      await condition(() => Object.values(s.hosts).every((h) => !h.present || h.ingest !== null) || s.phase !== 'recording');
      return {
        placement: s.placement!,
        hosts: Object.values(s.hosts)
          .filter((h) => h.present && h.ingest)
          .map((h) => ({ hostId: h.media.hostId, ingest: h.ingest! })),
      };
    },
  );

  setHandler(
    hostJoinedUpdate,
    async (spec): Promise<HostJoinedResult> => {
      await condition(() => s.placement !== null);
      const existing = s.hosts[spec.hostId];
      if (existing?.present && existing.ingest) return { hostId: spec.hostId, ingest: existing.ingest };
      const host: HostState = existing ?? { media: hostMediaFromSpec(spec), ingest: null, present: true, joinedAt: new Date().toISOString(), nextSequence: 0, periods: 0 };
      if (existing) {
        // A host that left and comes back keeps its recording numbering.
        host.media = hostMediaFromSpec(spec);
        host.present = true;
        host.joinedAt = new Date().toISOString();
        delete host.leftAt;
      }
      s.hosts[spec.hostId] = host;
      host.ingest ??= await media(s.placement!.taskQueue).openIngest({ livestreamId: s.livestreamId, host: host.media, previous: null });
      dirty = true;
      return { hostId: spec.hostId, ingest: host.ingest };
    },
    { validator: (spec) => validateHostSpec(spec, s) },
  );

  setHandler(hostLeftSignal, ({ hostId }) => {
    const h = presentHost(hostId, 'hostLeft');
    if (!h) return;
    h.present = false;
    h.leftAt = new Date().toISOString();
    dirty = true;
  });
  setHandler(cameraSignal, ({ hostId, on }) => {
    const h = presentHost(hostId, 'cameraChanged');
    if (h && h.media.camera !== on) {
      h.media.camera = on;
      dirty = true;
    }
  });
  setHandler(microphoneSignal, ({ hostId, on }) => {
    const h = presentHost(hostId, 'microphoneChanged');
    if (h && h.media.microphone !== on) {
      h.media.microphone = on;
      dirty = true;
    }
  });
  setHandler(layoutSignal, ({ layout }) => {
    const problem = validateLayout(layout, s);
    if (problem) return notice(`layoutChanged rejected: ${problem}`);
    s.layout = layout;
    dirty = true;
  });
  setHandler(outputsSignal, ({ rtmp }) => {
    try {
      // Stream keys stay in the workflow's state and history: the pipeline needs them. The status
      // the API serves redacts them (apps/api/livestreams/livestreams.service.ts).
      s.composite = { ...s.composite, rtmp: normaliseOutputs({ rtmp }).rtmp };
      dirty = true;
    } catch (e) {
      notice(`outputsChanged rejected: ${(e as Error).message}`);
    }
  });
  setHandler(stopSignal, ({ reason }) => {
    if (s.phase === 'stopping' || s.phase === 'stopped') return;
    s.stopReason = reason ?? 'requested';
    s.phase = 'stopping';
    dirty = true;
  });
  setHandler(recordingFinishedSignal, (f) => {
    const r = s.recordings.find((x) => x.workflowId === f.workflowId);
    if (!r || !live(r)) return;
    r.state = f.error ? 'failed' : 'finished';
    r.finishedAt = new Date().toISOString();
    if (f.summary) r.summary = f.summary;
    if (f.error) notice(`recording ${r.recordingId} (${r.workflowId}) failed: ${f.error}`);
    if (r.hostId && f.summary) {
      const h = s.hosts[r.hostId];
      if (h) h.nextSequence = Math.max(h.nextSequence, f.summary.nextSequence);
    }
    dirty = true;
  });

  // ---- placement and ingest -----------------------------------------------------------------
  if (s.placement === null) {
    try {
      s.placement = await place(s);
    } catch (e) {
      placementError = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      s.phase = 'stopped';
      s.stopReason = `placement failed: ${placementError}`;
      await condition(allHandlersFinished);
      throw ApplicationFailure.create({ type: 'CapacityExhausted', message: placementError, nonRetryable: true });
    }
    if (s.phase === 'placing') s.phase = 'recording';
  }
  const mediaActivities = media(s.placement.taskQueue);
  for (const h of Object.values(s.hosts)) {
    if (h.present && h.ingest === null) {
      h.ingest = await mediaActivities.openIngest({ livestreamId: s.livestreamId, host: h.media, previous: null });
    }
  }

  // ---- reconcile loop -----------------------------------------------------------------------
  const signalChild = async (r: RecordingRef, reason: string) => {
    r.state = 'stopping';
    await getExternalWorkflowHandle(r.workflowId).signal(stopRecordingSignal, { reason });
  };

  const reconcile = async () => {
    const stopping = s.phase === 'stopping';
    const placement = s.placement!;
    const present = Object.values(s.hosts).filter((h) => h.present);

    // Composite: one per livestream, restarted under a new child id if it failed.
    const composite = s.recordings.find((r) => r.kind === 'composite' && live(r));
    const desiredHosts = present.map((h) => h.media);
    // RTMP destinations count only when there are some: histories from before outputs replay unchanged.
    const fingerprint = JSON.stringify(s.composite.rtmp.length > 0 ? { hosts: desiredHosts, layout: s.layout, rtmp: s.composite.rtmp } : { hosts: desiredHosts, layout: s.layout });
    const compositeAttempts = s.recordings.filter((r) => r.kind === 'composite').length;
    const compositeGaveUp = compositeAttempts >= MAX_COMPOSITE_ATTEMPTS && s.recordings.filter((r) => r.kind === 'composite').every((r) => r.state === 'failed');
    if (!composite && !stopping && !compositeGaveUp) {
      const attempt = compositeAttempts;
      const workflowId = attempt === 0 ? compositeWorkflowId(s.livestreamId) : `${compositeWorkflowId(s.livestreamId)}/${attempt + 1}`;
      s.compositeVersion += 1;
      lastCompositeFingerprint = fingerprint;
      await startRecording({
        workflowId,
        kind: 'composite',
        recordingId: 'composite',
        variant: 'av',
        startSequence: Math.max(0, ...s.recordings.filter((r) => r.kind === 'composite').map((r) => r.summary?.nextSequence ?? 0)),
        composite: { version: s.compositeVersion, hosts: desiredHosts, layout: s.layout, rtmp: s.composite.rtmp, hls: s.composite.hls },
      });
    } else if (composite && composite.state === 'running') {
      if (stopping) await signalChild(composite, s.stopReason ?? 'livestream stopping');
      else if (fingerprint !== lastCompositeFingerprint) {
        s.compositeVersion += 1;
        lastCompositeFingerprint = fingerprint;
        await getExternalWorkflowHandle(composite.workflowId).signal(compositeChangedSignal, {
          version: s.compositeVersion,
          hosts: desiredHosts,
          layout: s.layout,
          rtmp: s.composite.rtmp,
        });
      }
    }

    // Individual recordings: per host, the variant the camera and microphone call for.
    for (const h of Object.values(s.hosts)) {
      const want = stopping || !s.individual || !h.present ? null : h.media.camera ? 'av' : h.media.microphone ? 'audio' : null;
      const current = s.recordings.find((r) => r.kind === 'individual' && r.hostId === h.media.hostId && live(r));
      if (current) {
        if (current.state === 'running' && current.variant !== want) await signalChild(current, want === null ? 'camera and microphone off' : `switching to ${want}`);
        continue; // the next period starts once this one has finished (it hands over the sequence)
      }
      if (want) {
        h.periods += 1;
        await startRecording({
          workflowId: individualWorkflowId(s.livestreamId, h.media.hostId, h.periods),
          kind: 'individual',
          recordingId: hostRecordingId(h.media.hostId),
          hostId: h.media.hostId,
          variant: want,
          startSequence: h.nextSequence,
          host: { ...h.media },
        });
      }
    }

    // Ingest of hosts that left, once nothing records them any more.
    for (const h of Object.values(s.hosts)) {
      if ((!h.present || stopping) && h.ingest && !s.recordings.some((r) => live(r) && r.hostId === h.media.hostId)) {
        await media(placement.taskQueue).closeIngest({ livestreamId: s.livestreamId, hostId: h.media.hostId });
        h.ingest = null;
      }
    }
  };

  const startRecording = async (
    r: Pick<RecordingWorkflowInput, 'kind' | 'recordingId' | 'variant' | 'startSequence' | 'composite' | 'host' | 'hostId'> & { workflowId: string },
  ) => {
    const childInput: RecordingWorkflowInput = {
      livestreamId: s.livestreamId,
      recordingId: r.recordingId,
      kind: r.kind,
      variant: r.variant,
      ...(r.hostId ? { hostId: r.hostId } : {}),
      mediaTaskQueue: s.placement!.taskQueue,
      parentWorkflowId: wfId,
      startSequence: r.startSequence,
      snippetSeconds: s.snippetSeconds,
      ...(r.composite ? { composite: r.composite } : {}),
      ...(r.host ? { host: r.host } : {}),
    };
    s.recordings.push({
      workflowId: r.workflowId,
      recordingId: r.recordingId,
      kind: r.kind,
      ...(r.hostId ? { hostId: r.hostId } : {}),
      variant: r.variant,
      state: 'running',
      startedAt: new Date().toISOString(),
    });
    await startChild(r.kind === 'composite' ? compositeRecording : individualRecording, {
      workflowId: r.workflowId,
      args: [childInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  };

  for (;;) {
    await condition(() => dirty);
    dirty = false;
    await reconcile();
    if (s.phase === 'stopping' && !s.recordings.some(live) && Object.values(s.hosts).every((h) => h.ingest === null)) break;
    if (workflowInfo().continueAsNewSuggested && !dirty) {
      await condition(allHandlersFinished);
      s.carriedFingerprint = lastCompositeFingerprint;
      await continueAsNew<typeof livestream>({ ...input, hosts: [], carried: s });
    }
  }

  await mediaActivities.releaseLivestream({ livestreamId: s.livestreamId });
  s.phase = 'stopped';
  await condition(allHandlersFinished);
  return {
    livestreamId: s.livestreamId,
    startedAt: s.startedAt,
    stoppedAt: new Date().toISOString(),
    stopReason: s.stopReason ?? 'requested',
    recordings: s.recordings,
  };
}

export type { Layout };
