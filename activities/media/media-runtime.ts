// What one media worker process holds for the livestreams placed on it: each host's RTP ingest
// (the UDP endpoints the SFU sends to) and each running recording (a pipeline host process fed
// by those ingests). The media activities are thin wrappers over this; it lives as long as the
// worker process, which is why every activity of a livestream runs on that worker's own queue.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure, type Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from '../../apps/common/logger';
import type { CompositeRecordingConfig, HostMedia, IndividualRecordingConfig, RecordingConfig } from '../../pipelines/config';
import { COMPOSITE_DEFAULTS } from '../../pipelines/config';
import { HostIngest, setSyncCommand, type IngestEvent } from '../../pipelines/ingest/host-ingest';
import type { PortAllocator } from '../../pipelines/ingest/ports';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import { openRtmpDestinations } from '../../pipelines/outputs/stream-keys';
import type { FragmentInfo, HostEvent, InputPorts, PipelineStats } from '../../pipelines/protocol';
import { FINISHED_MARKER_FILE, RECORDING_STATE_FILE, type FinishedMarker, type RecordingState } from '../../pipelines/spool';
import { PipelineSupervisor } from '../../pipelines/supervisor';
import { compositeCores, individualCores } from '../../workflows/capacity';
import { compositeDesiredQuery, statusQuery } from '../../workflows/contract';
import type { CompositeDesired, IngestEndpoints, LivestreamState, RecordingSummary } from '../../workflows/livestream.types';
import type { RecordActivityInput } from '../contracts';
import type { MediaCapacity } from '../capacity';
import { MediaHealth, type HostMediaHealth, type HostSample } from './media-health';

export interface RecordingDefaults {
  noMediaWarningMs: number;
  /** Loss (percent of a host's packets over the last 30 s) alerted on the status. */
  lossWarningPercent?: number;
  stopTimeoutMs: number;
  compositeVideoKbps: number;
  individualVideoKbps: number;
  audioKbps: number;
  x264Preset: CompositeRecordingConfig['x264Preset'];
  /** Live HLS segment length and playlist length (default 4 s, 6 segments). */
  hlsSegmentSeconds?: number;
  hlsPlaylistLength?: number;
  /** RTMP destinations give up after this many consecutive failures (0, the default: never). */
  rtmpMaxRetries?: number;
  /** `rtmps://` destinations accept a certificate from an unknown CA (TAPEDECK_RTMPS_ALLOW_UNKNOWN_CA). */
  rtmpsAllowUnknownCa?: boolean;
}

export interface MediaRuntimeDeps {
  client: Client;
  allocator: PortAllocator;
  rtpAddress: string;
  spoolRoot: string;
  capacity: MediaCapacity;
  logger: Logger;
  defaults: RecordingDefaults;
  heartbeatMs: number;
  /** Environment of the pipeline host processes (default: inherited). */
  hostEnv?: Record<string, string>;
  /** Opens RTMP stream keys the API sealed (TAPEDECK_STREAM_KEY_SECRET; pipelines/outputs/stream-keys.ts). */
  streamKeyCipher?: Buffer;
  /** Told every pipeline stats report and outputs change of a recording (the worker's metrics). */
  onStats?: (recording: RecordingRef, report: { stats?: PipelineStats; outputs?: OutputStatus[] }) => void;
  /** Told when a recording's record activity ends on this worker. */
  onRecordingEnd?: (recording: RecordingRef) => void;
}

/** A recording running on this worker, as metrics name it (never by its ids in labels). */
export interface RecordingRef {
  key: string;
  kind: RecordingConfig['kind'];
}

/** What a running recording looks like right now, for metrics read when scraped. */
export interface LiveRecording {
  kind: RecordingConfig['kind'];
  /** Live outputs of a composite (and destinations refused here), as last reported. */
  outputs: OutputStatus[];
  /** The pipeline host's resident memory at its last stats report. */
  rssBytes?: number;
}

/** Heartbeat details of the record activity; a retry resumes its numbering from them. */
export interface RecordProgress {
  nextSequence: number;
  snippets: number;
  lastSnippet: { sequence: number; endTime: string } | null;
  framesOut: number;
  fpsOut: number;
  bitrateKbps: number;
  warnings: string[];
  restarts: number;
  /** Each host's media as the ingest sees it right now (packets, loss, silence). */
  media?: HostMediaHealth[];
  /** Problems true right now (no media from a host that should send, packet loss). */
  alerts?: string[];
  /** When these details were taken. */
  at?: string;
  /** Live outputs of a composite (stream keys redacted), as the pipeline last reported them. */
  outputs?: OutputStatus[];
}

interface ActiveRecording {
  input: RecordActivityInput;
  supervisor: PipelineSupervisor;
  hosts: Map<string, HostMedia>;
  layout: CompositeDesired['layout'];
  rtmp: string[];
  /** Destinations whose stream key does not open here: reported failed beside the pipeline's own outputs. */
  refused: OutputStatus[];
  subscribed: Set<string>;
  requestStop: (reason: string) => void;
  progress: RecordProgress;
  stats?: PipelineStats;
}

/** Packet loss on the status is measured over this much recent time. */
const LOSS_WINDOW_MS = 30_000;

const ingestKey = (livestreamId: string, hostId: string) => `${livestreamId}/${hostId}`;
const recordingKey = (livestreamId: string, recordingId: string) => `${livestreamId}/${recordingId}`;

/** One folder per recording run (a child workflow): periods of a host never share a folder. */
export function runFolder(spoolRoot: string, livestreamId: string, recordingId: string, workflowId: string): string {
  const run = workflowId.split('/').slice(-1)[0]!.replace(/[^A-Za-z0-9_-]/g, '_');
  return join(spoolRoot, livestreamId, recordingId, run);
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}

/** A query can fail while the control worker is (re)starting: a few tries before giving up. */
async function queryWithRetries<T>(run: () => Promise<T>, tries = 5, pauseMs = 2000): Promise<T | undefined> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch {
      if (i >= tries) return undefined;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export class MediaRuntime {
  private readonly ingests = new Map<string, Promise<HostIngest>>();
  private readonly recordings = new Map<string, ActiveRecording>();
  private draining = false;

  constructor(private readonly deps: MediaRuntimeDeps) {}

  // ---- ingest -------------------------------------------------------------------------------

  /** Opens a host's endpoints, or returns the open ones. `ports` re-binds given ports. */
  ensureIngest(livestreamId: string, host: HostMedia, ports?: { video: number; audio: number }): Promise<HostIngest> {
    const key = ingestKey(livestreamId, host.hostId);
    let opening = this.ingests.get(key);
    if (!opening) {
      opening = HostIngest.open({
        livestreamId,
        hostId: host.hostId,
        address: this.deps.rtpAddress,
        allocator: this.deps.allocator,
        video: host.video,
        audio: host.audio,
        logger: this.deps.logger,
        ...(ports ? { ports } : {}),
      });
      this.ingests.set(key, opening);
      opening.catch(() => this.ingests.delete(key));
    }
    return opening;
  }

  async openIngest(livestreamId: string, host: HostMedia, previous: IngestEndpoints | null): Promise<IngestEndpoints> {
    const ingest = await this.ensureIngest(livestreamId, host, previous ? { video: previous.video.port, audio: previous.audio.port } : undefined);
    const d = ingest.describe();
    return {
      address: d.address,
      video: { port: d.video.port, payloadType: d.video.payloadType, codec: d.video.codec },
      audio: { port: d.audio.port, payloadType: d.audio.payloadType, codec: d.audio.codec },
    };
  }

  async closeIngest(livestreamId: string, hostId: string): Promise<void> {
    const key = ingestKey(livestreamId, hostId);
    const opening = this.ingests.get(key);
    if (!opening) return;
    this.ingests.delete(key);
    const ingest = await opening.catch(() => undefined);
    await ingest?.close();
  }

  ingestStats(livestreamId: string) {
    return [...this.ingests.entries()].filter(([k]) => k.startsWith(`${livestreamId}/`));
  }

  async releaseLivestream(livestreamId: string): Promise<void> {
    for (const [key, rec] of this.recordings) if (key.startsWith(`${livestreamId}/`)) rec.requestStop('livestream released');
    for (const key of [...this.ingests.keys()]) if (key.startsWith(`${livestreamId}/`)) await this.closeIngest(livestreamId, key.slice(livestreamId.length + 1));
    this.deps.capacity.release(livestreamId);
  }

  /** The ingest of a host that this process has not opened (a restarted worker): re-open it on
   *  the ports the livestream workflow handed to the SFU. */
  private async ingestFor(input: RecordActivityInput, host: HostMedia, parent: () => Promise<LivestreamState | undefined>): Promise<HostIngest | undefined> {
    const key = ingestKey(input.livestreamId, host.hostId);
    if (this.ingests.has(key)) return this.ingests.get(key)!;
    const state = await parent();
    // Without the livestream's answer the SFU's ports are unknown: recording without them would
    // silently record nothing, so fail and let the activity retry.
    if (!state) throw ApplicationFailure.retryable(`cannot read livestream ${input.livestreamId} to re-open the ingest of ${host.hostId}`, 'IngestUnavailable');
    const endpoints = state.hosts[host.hostId]?.ingest;
    if (!endpoints) return undefined;
    return this.ensureIngest(input.livestreamId, host, { video: endpoints.video.port, audio: endpoints.audio.port });
  }

  // ---- recordings ---------------------------------------------------------------------------

  /** The recordings running on this worker, by kind (for metrics). */
  runningByKind(): Record<'composite' | 'individual', number> {
    const n = { composite: 0, individual: 0 };
    for (const rec of this.recordings.values()) n[rec.input.kind] += 1;
    return n;
  }

  /** Each running recording's outputs and memory as last reported (for metrics). */
  liveRecordings(): LiveRecording[] {
    return [...this.recordings.values()].map((rec) => ({
      kind: rec.input.kind,
      outputs: rec.progress.outputs ?? [],
      ...(rec.stats ? { rssBytes: rec.stats.rssBytes } : {}),
    }));
  }

  /** Hosts with an open ingest on this worker. */
  get openIngests(): number {
    return this.ingests.size;
  }

  isRecording(livestreamId: string, recordingId: string): boolean {
    return this.recordings.has(recordingKey(livestreamId, recordingId));
  }

  async record(input: RecordActivityInput, ctx: Context): Promise<RecordingSummary> {
    const { livestreamId, recordingId } = input;
    const workflowId = ctx.info.workflowExecution!.workflowId;
    const log = this.deps.logger.child({ livestreamId, recordingId, workflowId, attempt: ctx.info.attempt });
    if (this.draining) throw ApplicationFailure.retryable('this media worker is shutting down', 'WorkerShutdown');
    const folder = runFolder(this.deps.spoolRoot, livestreamId, recordingId, workflowId);
    await mkdir(folder, { recursive: true });
    // The recording (re)starts: whatever said it had finished is stale.
    await rm(join(folder, FINISHED_MARKER_FILE), { force: true });

    // Numbering continues from whatever got furthest: the input, the spool's own state (written
    // when each snippet opens), or the last heartbeat.
    const resumed = ctx.info.heartbeatDetails as RecordProgress | undefined;
    const spoolState = await readJson<RecordingState>(join(folder, RECORDING_STATE_FILE));
    const startSequence = Math.max(input.startSequence, spoolState?.nextSequence ?? 0, resumed?.nextSequence ?? 0);
    const progress: RecordProgress = {
      nextSequence: startSequence,
      snippets: resumed?.snippets ?? 0,
      lastSnippet: resumed?.lastSnippet ?? null,
      framesOut: 0,
      fpsOut: 0,
      bitrateKbps: 0,
      warnings: [],
      restarts: (resumed?.restarts ?? 0) + (ctx.info.attempt > 1 ? 1 : 0),
    };

    // The current desired composite state lives in the workflow (a retry must not use the hosts
    // it started with).
    let desired =
      input.desired ??
      (input.composite ? { version: input.composite.version, hosts: input.composite.hosts, layout: input.composite.layout, rtmp: input.composite.rtmp } : undefined);
    if (input.kind === 'composite' && ctx.info.attempt > 1) {
      const current = await queryWithRetries(() => this.deps.client.workflow.getHandle(workflowId).query(compositeDesiredQuery));
      // The hosts it started with may be stale, and the workflow will not send them again.
      if (!current) throw ApplicationFailure.retryable(`cannot read the desired composite of ${workflowId}`, 'DesiredStateUnavailable');
      desired = current;
    }
    let parentState: Promise<LivestreamState | undefined> | undefined;
    const parent = () => (parentState ??= queryWithRetries(() => this.deps.client.workflow.getHandle(input.parentWorkflowId).query(statusQuery)));

    // As the workflow has them (sealed): compared with its later desired states.
    const sealedRtmp = input.kind === 'composite' ? (desired?.rtmp ?? input.composite?.rtmp ?? []) : [];
    const rtmp = this.openRtmp(sealedRtmp);
    const config = this.config(input, folder, startSequence, desired, rtmp.opened);
    const hosts = new Map((config.kind === 'composite' ? config.hosts : [config.host]).map((h) => [h.hostId, h]));
    const supervisor = new PipelineSupervisor(this.deps.hostEnv ? { env: this.deps.hostEnv } : {});
    const key = recordingKey(livestreamId, recordingId);
    const ref: RecordingRef = { key, kind: input.kind };
    if (this.recordings.has(key)) throw ApplicationFailure.nonRetryable(`recording ${key} already runs on this worker`, 'InvalidRecordingConfig');

    let stopReason: string | undefined;
    let wake: () => void = () => {};
    const woken = new Promise<void>((r) => (wake = r));
    const active: ActiveRecording = {
      input,
      supervisor,
      hosts,
      layout: desired?.layout ?? { kind: 'grid' },
      rtmp: sealedRtmp,
      refused: rtmp.refused,
      subscribed: new Set(),
      progress,
      requestStop: (reason) => {
        stopReason ??= reason;
        wake();
      },
    };

    /** The pipeline's outputs and the destinations this worker could not start. */
    const outputsNow = (pipeline: OutputStatus[]) => [...pipeline, ...active.refused];
    if (active.refused.length > 0) progress.outputs = outputsNow([]);
    const fragments: FragmentInfo[] = [];
    /** Runs a metrics hook; one that throws is logged and never reaches the recording. */
    const hook = (call: () => void) => {
      try {
        call();
      } catch (err) {
        log.warn({ err }, 'media metrics hook failed');
      }
    };
    supervisor.on('event', (e: HostEvent) => {
      if (e.type === 'fragment-closed') {
        fragments.push(e);
        progress.snippets += 1;
        progress.nextSequence = Math.max(progress.nextSequence, e.sequence + 1);
        progress.lastSnippet = { sequence: e.sequence, endTime: e.endTime };
        log.info({ sequence: e.sequence, durationMs: e.durationMs, sizeBytes: e.sizeBytes }, 'snippet closed');
      } else if (e.type === 'fragment-opened') {
        progress.nextSequence = Math.max(progress.nextSequence, e.sequence + 1);
      } else if (e.type === 'stats') {
        active.stats = e.stats;
        progress.framesOut = e.stats.framesOut;
        progress.fpsOut = e.stats.fpsOut;
        progress.bitrateKbps = e.stats.bitrateKbps;
        if (e.stats.outputs) progress.outputs = outputsNow(e.stats.outputs);
        hook(() => this.deps.onStats?.(ref, { stats: e.stats, ...(e.stats.outputs ? { outputs: e.stats.outputs } : {}) }));
      } else if (e.type === 'outputs') {
        progress.outputs = outputsNow(e.outputs);
        hook(() => this.deps.onStats?.(ref, { outputs: e.outputs }));
        ctx.heartbeat(progress);
      } else if (e.type === 'warning' || (e.type === 'error' && !e.fatal)) {
        const w = `${e.code}${'hostId' in e && e.hostId ? ` (${e.hostId})` : ''}: ${e.message}`;
        progress.warnings = [...progress.warnings.filter((x) => x !== w), w].slice(-10);
        log.warn({ code: e.code }, e.message);
      }
    });
    let crashed: string | undefined;
    supervisor.on('exit', (x) => {
      if (!x.clean) crashed = x.reason;
      wake();
    });

    const onSync = (e: IngestEvent) => {
      if (e.type === 'sync') supervisor.send(setSyncCommand(e));
    };
    const attached: HostIngest[] = [];
    const attach = async (ports: InputPorts) => {
      const host = hosts.get(ports.hostId);
      if (!host) return;
      const ingest = await this.ingestFor(input, host, parent);
      if (!ingest) {
        progress.warnings.push(`no ingest for host ${ports.hostId}: it has no endpoints in the livestream`);
        return;
      }
      ingest.subscribe(key, { ...(ports.video ? { video: ports.video } : {}), ...(ports.audio ? { audio: ports.audio } : {}) });
      if (!attached.includes(ingest)) {
        ingest.on('event', onSync);
        attached.push(ingest);
      }
      active.subscribed.add(ports.hostId);
    };
    supervisor.on('event', (e) => {
      if (e.type === 'input-added') {
        attach(e.inputs).catch((err: Error) => {
          progress.warnings = [...progress.warnings, `host ${e.inputs.hostId} not attached: ${err.message}`].slice(-10);
          log.warn({ hostId: e.inputs.hostId, err }, 'could not attach a host ingest to the running recording');
        });
      }
      if (e.type === 'input-removed') {
        void this.ingests.get(ingestKey(livestreamId, e.hostId))?.then((i) => i.unsubscribe(key));
        active.subscribed.delete(e.hostId);
      }
    });

    const cores = config.kind === 'composite' ? compositeCores(config.hosts.length) : individualCores(config.host, config.variant);
    this.recordings.set(key, active);
    this.deps.capacity.recordingStarted(livestreamId, key, cores);
    const health = new MediaHealth({
      noMediaMs: this.deps.defaults.noMediaWarningMs,
      lossPercent: this.deps.defaults.lossWarningPercent ?? 5,
      windowMs: LOSS_WINDOW_MS,
    });
    const heartbeat = () => {
      const now = Date.now();
      const samples: HostSample[] = [];
      for (const ingest of attached) {
        const host = hosts.get(ingest.hostId);
        if (!host || !active.subscribed.has(ingest.hostId)) continue;
        samples.push({ hostId: ingest.hostId, expected: host.camera || host.microphone, stats: ingest.stats(), silentMs: ingest.silenceMs() });
      }
      const h = health.sample(samples, now);
      progress.media = h.hosts;
      progress.alerts = h.alerts;
      progress.at = new Date(now).toISOString();
      ctx.heartbeat(progress);
    };
    const beat = setInterval(heartbeat, this.deps.heartbeatMs);
    heartbeat();
    let cancelled: unknown;
    ctx.cancelled.catch((e) => {
      cancelled = e;
      active.requestStop('activity cancelled');
    });

    try {
      const ready = await supervisor.start(config);
      log.info({ pid: ready.pid, startSequence, folder }, 'recording started');
      for (const ports of ready.inputs) await attach(ports);
      await woken;
      if (crashed) throw ApplicationFailure.retryable(`recording ${key}: ${crashed}`, 'PipelineCrashed');
      // The pipeline ended although nobody asked it to (a SIGTERM to the whole process group,
      // which it answers by finalizing its snippet): that is not the end of the recording.
      if (stopReason === undefined) throw ApplicationFailure.retryable(`recording ${key}: the pipeline ended without a stop request`, 'PipelineCrashed');
      const exit = await supervisor.stop(stopReason ?? 'stopped', this.deps.defaults.stopTimeoutMs + 15_000);
      if (!exit.clean) throw ApplicationFailure.retryable(`recording ${key} did not stop cleanly: ${exit.reason}`, 'PipelineCrashed');
      // Only a cancellation the workflow asked for ends the recording. Any other (worker
      // shutdown, an attempt the server already timed out or lost) leaves the last snippet
      // finalized and the recording to go on in the next attempt: a retryable failure, never
      // "finished" (which would let shipping complete) or "cancelled".
      const requested = cancelled instanceof CancelledFailure && cancelled.message === 'CANCELLED';
      if (this.draining || (cancelled !== undefined && !requested)) {
        const why = this.draining ? 'the media worker is shutting down' : `attempt cancelled (${(cancelled as Error).message})`;
        throw ApplicationFailure.retryable(`recording ${key} paused: ${why}`, 'WorkerShutdown');
      }
      const marker: FinishedMarker = { finishedAt: new Date().toISOString(), ...(fragments.length ? { lastSequence: fragments.at(-1)!.sequence } : {}) };
      await writeJsonAtomic(join(folder, FINISHED_MARKER_FILE), marker);
      log.info({ snippets: fragments.length, reason: stopReason }, 'recording finished');
      if (cancelled) throw cancelled instanceof CancelledFailure ? cancelled : new CancelledFailure('cancelled');
      return summarize(recordingId, startSequence, progress, fragments, active.stats, config);
    } finally {
      clearInterval(beat);
      supervisor.kill('SIGKILL'); // no-op when it already exited
      for (const ingest of attached) {
        ingest.unsubscribe(key);
        ingest.off('event', onSync);
      }
      this.recordings.delete(key);
      hook(() => this.deps.onRecordingEnd?.(ref));
      this.deps.capacity.recordingStopped(key);
    }
  }

  /** Brings a running composite to the desired hosts and layout. */
  async applyComposite(livestreamId: string, recordingId: string, desired: CompositeDesired): Promise<boolean> {
    const rec = this.recordings.get(recordingKey(livestreamId, recordingId));
    if (!rec || !rec.supervisor.running) return false;
    const want = new Map(desired.hosts.map((h) => [h.hostId, h]));
    for (const [hostId] of rec.hosts) {
      if (!want.has(hostId)) {
        rec.supervisor.send({ type: 'remove-input', hostId });
        rec.hosts.delete(hostId);
      }
    }
    for (const [hostId, h] of want) {
      const had = rec.hosts.get(hostId);
      if (!had) rec.supervisor.send({ type: 'add-input', host: h });
      else {
        if (had.camera !== h.camera) rec.supervisor.send({ type: 'set-camera', hostId, on: h.camera });
        if (had.microphone !== h.microphone) rec.supervisor.send({ type: 'set-microphone', hostId, on: h.microphone });
      }
      rec.hosts.set(hostId, h);
    }
    if (desired.rtmp && JSON.stringify(rec.rtmp) !== JSON.stringify(desired.rtmp)) {
      const { opened, refused } = this.openRtmp(desired.rtmp);
      rec.refused = refused;
      // The pipeline answers with an outputs event, which carries these refusals to the status.
      rec.supervisor.send({ type: 'set-outputs', rtmp: opened });
      rec.rtmp = desired.rtmp;
    }
    if (JSON.stringify(rec.layout) !== JSON.stringify(desired.layout)) {
      rec.supervisor.send({ type: 'set-layout', layout: desired.layout });
      rec.layout = desired.layout;
    }
    return true;
  }

  /** Stops a running recording (true) or, with none running, marks the run finished so its
   *  shipping drains and completes (false). */
  async stopRecording(livestreamId: string, recordingId: string, workflowId: string, reason: string): Promise<boolean> {
    const rec = this.recordings.get(recordingKey(livestreamId, recordingId));
    if (rec) {
      rec.requestStop(reason);
      return true;
    }
    if (this.draining) throw ApplicationFailure.retryable('this media worker is shutting down', 'WorkerShutdown');
    const folder = runFolder(this.deps.spoolRoot, livestreamId, recordingId, workflowId);
    await mkdir(folder, { recursive: true });
    // The recording (re)starts: whatever said it had finished is stale.
    await rm(join(folder, FINISHED_MARKER_FILE), { force: true });
    await writeJsonAtomic(join(folder, FINISHED_MARKER_FILE), { finishedAt: new Date().toISOString() } satisfies FinishedMarker);
    return false;
  }

  /** Worker shutdown: every pipeline finalizes its open snippet and its activity fails
   *  retryably, so the recording continues (next sequence) when the worker is back. */
  async shutdown(): Promise<void> {
    this.draining = true;
    for (const rec of this.recordings.values()) rec.requestStop('worker shutting down');
    for (const [key] of this.ingests) {
      const [ls, hostId] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      await this.closeIngest(ls, hostId);
    }
  }

  /**
   * The RTMP destinations with their stream keys opened, for the pipeline host only. One that does
   * not open (no or another TAPEDECK_STREAM_KEY_SECRET here) is left out, logged (host and app
   * only) and reported failed on the status with the reason.
   */
  private openRtmp(urls: string[]): ReturnType<typeof openRtmpDestinations> {
    const result = openRtmpDestinations(urls, this.deps.streamKeyCipher);
    for (const r of result.refused) this.deps.logger.error({ target: r.target, err: r.lastError }, 'RTMP destination left out: its stream key does not open');
    return result;
  }

  private config(input: RecordActivityInput, spoolDir: string, startSequence: number, desired: CompositeDesired | undefined, rtmp: string[]): RecordingConfig {
    const d = this.deps.defaults;
    const common = {
      livestreamId: input.livestreamId,
      recordingId: input.recordingId,
      spoolDir,
      snippetSeconds: input.snippetSeconds,
      startSequence,
      audioBitrateKbps: d.audioKbps,
      noMediaWarningMs: d.noMediaWarningMs,
      stopTimeoutMs: d.stopTimeoutMs,
    };
    if (input.kind === 'composite') {
      const c: CompositeRecordingConfig = {
        ...common,
        kind: 'composite',
        width: COMPOSITE_DEFAULTS.width,
        height: COMPOSITE_DEFAULTS.height,
        fps: COMPOSITE_DEFAULTS.fps,
        videoBitrateKbps: d.compositeVideoKbps,
        x264Preset: d.x264Preset,
        layout: desired?.layout ?? { kind: 'grid' },
        hosts: desired?.hosts ?? [],
        outputs: {
          rtmp,
          ...(input.composite?.hls ? { hls: { segmentSeconds: d.hlsSegmentSeconds ?? 4, playlistLength: d.hlsPlaylistLength ?? 6 } } : {}),
          rtmpMaxRetries: d.rtmpMaxRetries ?? 0,
          ...(d.rtmpsAllowUnknownCa ? { rtmpsAllowUnknownCa: true } : {}),
        },
      };
      return c;
    }
    if (!input.host || !input.hostId) throw ApplicationFailure.nonRetryable('an individual recording needs its host', 'InvalidRecordingConfig');
    const c: IndividualRecordingConfig = {
      ...common,
      kind: 'individual',
      hostId: input.hostId,
      variant: input.variant,
      host: input.host,
      videoBitrateKbps: d.individualVideoKbps,
    };
    return c;
  }
}

function summarize(
  recordingId: string,
  startSequence: number,
  progress: RecordProgress,
  fragments: FragmentInfo[],
  _stats: PipelineStats | undefined,
  config: RecordingConfig,
): RecordingSummary {
  const frameMs = config.kind === 'composite' ? 1000 / config.fps : 1000 / 30;
  const gaps: RecordingSummary['gaps'] = [];
  for (let i = 1; i < fragments.length; i++) {
    const ms = Date.parse(fragments[i]!.startTime) - Date.parse(fragments[i - 1]!.endTime);
    if (ms > frameMs) gaps.push({ afterSequence: fragments[i - 1]!.sequence, ms });
  }
  return {
    recordingId,
    snippets: progress.snippets,
    firstSequence: fragments[0]?.sequence ?? (progress.snippets > 0 ? startSequence : null),
    lastSequence: fragments.at(-1)?.sequence ?? null,
    nextSequence: progress.nextSequence,
    durationMs: fragments.reduce((t, f) => t + f.durationMs, 0),
    gaps,
    shipped: 0,
    restarts: progress.restarts,
    warnings: progress.warnings,
  };
}
