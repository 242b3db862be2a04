// The livestream feature's rules between HTTP and the ports: what a request may ask in the
// livestream's current state (404 unknown host, 409 stopped), the checks that span fields, and
// the status shaped for people (hosts, recordings, snippets shipped from the bucket, warnings,
// one health word).
import { Inject, Injectable } from '@nestjs/common';
import type { Layout } from '../../../pipelines/config';
import { hostSpecProblem } from '../../../workflows/validation';
import type { HostJoinedResult, HostSpec, LivestreamInput, LivestreamState } from '../../../workflows/livestream.types';
import type { Logger } from '../../common/logger';
import { HostNotFound, InvalidField, LivestreamConflict, LivestreamNotFound } from '../common/errors';
import type { ApiConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { API_CONFIG, LOGGER } from '../tokens';
import type { HostSpecDto } from './dto/host-spec.dto';
import type { LayoutDto, SnippetsQuery } from './dto/requests.dto';
import { outputProblems } from './output-problems';
import type { BacklogDto, LivestreamStatusDto, OutputsStatusDto, RecordingLiveDto, RtmpOutputStatusDto, SnippetListDto, StartedLivestreamDto } from './dto/responses.dto';
import { HLS_OUTPUT_ID, hlsPlaylistUrl, redactRtmpUrl, rtmpOutputId, rtmpUrlProblem } from '../../../pipelines/outputs/outputs';
import { openRtmpUrl, sealRtmpUrl } from '../../../pipelines/outputs/stream-keys';
import type { StartLivestreamDto } from './dto/start-livestream.dto';
import { LivestreamsPort, SnippetStore, type RecordingLive, type StoredSnippet } from './livestreams.port';

/** Snippet length of every recording (contract: 15-second snippets). */
/** Notices younger than this count towards the health word; older ones are history. */
const RECENT_NOTICE_MS = 5 * 60_000;
/** A running recording with no snippet in the bucket for this many snippet lengths is stale. */
const STALE_SNIPPETS = 3;

const ended = new Set(['stopping', 'stopped']);

@Injectable()
export class LivestreamsService {
  constructor(
    private readonly livestreams: LivestreamsPort,
    private readonly snippets: SnippetStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    metrics: MetricsService,
  ) {
    metrics.countRunningWith(() => this.livestreams.countRunning());
  }

  async start(dto: StartLivestreamDto): Promise<StartedLivestreamDto> {
    const hosts = (dto.hosts ?? []).map(toHostSpec);
    const seen = new Map<string, number>();
    hosts.forEach((h, i) => {
      const problem = hostSpecProblem(h);
      if (problem) throw new InvalidField(`hosts[${i}]`, problem);
      if (seen.has(h.hostId)) throw new InvalidField(`hosts[${i}].hostId`, `"${h.hostId}" is listed twice (also hosts[${seen.get(h.hostId)}])`);
      seen.set(h.hostId, i);
    });
    const layout = toLayout(dto.composite?.layout ?? 'grid', dto.composite?.spotlightHostId, 'composite.');
    if (layout.kind === 'spotlight' && !seen.has(layout.spotlightHostId!)) {
      throw new InvalidField('composite.spotlightHostId', `"${layout.spotlightHostId}" is not one of the hosts`);
    }
    const input: LivestreamInput = {
      livestreamId: dto.livestreamId,
      hosts,
      composite: { layout, rtmp: this.sealed(checkRtmp(dto.composite?.rtmp ?? [], 'composite.rtmp')), hls: dto.composite?.hls ?? false },
      individual: dto.individual ?? true,
      snippetSeconds: this.config.snippetSeconds,
    };
    const started = await this.livestreams.start(input);
    this.logger.info({ livestreamId: dto.livestreamId, hosts: started.hosts.length }, 'livestream started or found running');
    return { livestreamId: dto.livestreamId, workflowId: started.workflowId, hosts: started.hosts };
  }

  async joinHost(livestreamId: string, dto: HostSpecDto): Promise<HostJoinedResult> {
    const spec = toHostSpec(dto);
    const problem = hostSpecProblem(spec);
    if (problem) throw new InvalidField(problem.split(' ')[0]!, problem.slice(problem.indexOf(' ') + 1));
    this.notEnded(await this.livestreams.status(livestreamId));
    const joined = await this.livestreams.joinHost(livestreamId, spec);
    this.logger.info({ livestreamId, hostId: spec.hostId }, 'host joined');
    return joined;
  }

  /** Leaving twice is harmless; a host never seen is a 404. */
  async leaveHost(livestreamId: string, hostId: string): Promise<void> {
    const s = this.notEnded(await this.livestreams.status(livestreamId));
    const h = s.hosts[hostId];
    if (!h) throw new HostNotFound(livestreamId, hostId);
    if (h.present) await this.livestreams.leaveHost(livestreamId, hostId);
  }

  async setCamera(livestreamId: string, hostId: string, on: boolean): Promise<void> {
    this.presentHost(await this.livestreams.status(livestreamId), hostId);
    await this.livestreams.setCamera(livestreamId, hostId, on);
  }

  async setMicrophone(livestreamId: string, hostId: string, on: boolean): Promise<void> {
    this.presentHost(await this.livestreams.status(livestreamId), hostId);
    await this.livestreams.setMicrophone(livestreamId, hostId, on);
  }

  async setLayout(livestreamId: string, dto: LayoutDto): Promise<void> {
    const layout = toLayout(dto.layout, dto.spotlightHostId, '');
    const s = this.notEnded(await this.livestreams.status(livestreamId));
    if (layout.spotlightHostId && !s.hosts[layout.spotlightHostId]?.present) throw new HostNotFound(livestreamId, layout.spotlightHostId);
    await this.livestreams.setLayout(livestreamId, layout);
  }

  /** Replaces the composite's RTMP destinations; the stream keys are never logged. */
  async setOutputs(livestreamId: string, rtmp: string[]): Promise<void> {
    const urls = checkRtmp(rtmp, 'rtmp');
    this.notEnded(await this.livestreams.status(livestreamId));
    await this.livestreams.setOutputs(livestreamId, this.sealed(urls));
    this.logger.info({ livestreamId, rtmp: urls.map(redactRtmpUrl) }, 'composite outputs changed');
  }

  /** Stream keys sealed before they enter Temporal's history, when a secret is configured (stream-keys.ts). */
  private sealed(urls: string[]): string[] {
    const key = this.config.streamKeyCipher;
    return key ? urls.map((u) => sealRtmpUrl(u, key)) : urls;
  }

  /** Idempotent: a livestream already stopping or stopped is left as it is. */
  async stop(livestreamId: string, reason: string): Promise<'stopping' | 'stopped'> {
    const s = await this.livestreams.status(livestreamId);
    if (s.phase === 'stopped') return 'stopped';
    if (s.phase !== 'stopping') {
      await this.livestreams.stop(livestreamId, reason);
      this.logger.info({ livestreamId, reason }, 'livestream stop requested');
    }
    return 'stopping';
  }

  async status(livestreamId: string, now = new Date()): Promise<LivestreamStatusDto> {
    const s = await this.livestreams.status(livestreamId);
    const warnings: string[] = [];
    let stored: StoredSnippet[] | null = null;
    try {
      stored = await this.snippets.list(livestreamId);
    } catch (e) {
      warnings.push(`snippets shipped unknown: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Running recordings: what their activities last reported (media per host, shipping backlog
    // and latency); problems true right now come first in the warnings and count for health.
    const live = new Map<string, RecordingLive>();
    await Promise.all(
      s.recordings
        .filter((r) => r.state === 'running' || r.state === 'stopping')
        .map(async (r) => {
          try {
            const l = await this.livestreams.recordingLive(r.workflowId);
            if (l) live.set(r.workflowId, l);
          } catch (e) {
            warnings.push(`live status of ${r.recordingId} unknown: ${e instanceof Error ? e.message : String(e)}`);
          }
        }),
    );
    let currentProblems = 0;
    const backlog: BacklogDto = { count: 0, bytes: 0, oldestAgeMs: null };
    for (const r of s.recordings) {
      const l = live.get(r.workflowId);
      if (!l) continue;
      const current = [
        ...(l.record?.alerts ?? []),
        ...(l.record && l.record.attempt > 1 && l.record.lastFailure ? [`recording restarted (attempt ${l.record.attempt}) after: ${l.record.lastFailure}`] : []),
        ...(l.ship?.warnings ?? []).map((w) => `${w.code}: ${w.message}`),
        ...(l.ship?.lastError ? [`shipping retrying (attempt ${l.ship.lastError.attempt}): ${l.ship.lastError.message}`] : []),
      ];
      for (const w of current) warnings.push(`${r.recordingId}: ${w}`);
      currentProblems += current.length;
      const b = l.ship?.backlog;
      if (b) {
        backlog.count += b.count;
        backlog.bytes += b.bytes;
        if (b.oldestAgeMs !== null && (backlog.oldestAgeMs === null || b.oldestAgeMs > backlog.oldestAgeMs)) backlog.oldestAgeMs = b.oldestAgeMs;
      }
    }

    const totals = new Map<string, { snippetsShipped: number; lastSnippetAt: string | null }>();
    for (const sn of stored ?? []) {
      const t = totals.get(sn.recording) ?? { snippetsShipped: 0, lastSnippetAt: null };
      t.snippetsShipped += 1;
      if (!t.lastSnippetAt || sn.endTime > t.lastSnippetAt) t.lastSnippetAt = sn.endTime;
      totals.set(sn.recording, t);
    }

    // Live outputs down right now (a destination retrying or given up, the HLS rendition failing)
    // are current problems too: the recording is fine, what viewers get is not.
    const outputs = this.outputs(s, live);
    for (const p of outputProblems(outputs)) {
      warnings.push(`composite: ${p}`);
      currentProblems += 1;
    }

    let recentProblems = currentProblems;
    for (const n of s.notices) {
      warnings.push(n);
      const at = Date.parse(n.split(' ', 1)[0]!);
      if (Number.isFinite(at) && now.getTime() - at < RECENT_NOTICE_MS) recentProblems += 1;
    }
    for (const r of s.recordings) {
      for (const w of r.summary?.warnings ?? []) warnings.push(`${r.recordingId}: ${w}`);
      if (r.state === 'failed') {
        warnings.push(`recording ${r.recordingId} (${r.workflowId}) failed`);
        if (!s.recordings.some((x) => x.recordingId === r.recordingId && (x.state === 'running' || x.state === 'stopping'))) recentProblems += 1;
      }
    }
    if (stored && s.phase === 'recording') {
      const staleMs = STALE_SNIPPETS * s.snippetSeconds * 1000;
      for (const r of s.recordings.filter((x) => x.state === 'running')) {
        const last = totals.get(r.recordingId)?.lastSnippetAt ?? null;
        const since = Math.max(Date.parse(r.startedAt), last ? Date.parse(last) : 0);
        if (now.getTime() - since > staleMs) {
          warnings.push(`no snippet of ${r.recordingId} shipped for ${Math.round((now.getTime() - since) / 1000)} s`);
          recentProblems += 1;
        }
      }
    }
    const compositeLive = s.recordings.some((r) => r.kind === 'composite' && (r.state === 'running' || r.state === 'stopping'));
    const health =
      s.phase === 'placing'
        ? 'starting'
        : s.phase === 'stopping'
          ? 'stopping'
          : s.phase === 'stopped'
            ? 'stopped'
            : !compositeLive && s.recordings.some((r) => r.kind === 'composite')
              ? 'failing'
              : recentProblems > 0 || !stored
                ? 'degraded'
                : 'ok';

    const shipped = [...totals.entries()].map(([recordingId, t]) => ({ recordingId, ...t }));
    const lastSnippetAt = shipped.reduce<string | null>((a, t) => (t.lastSnippetAt && (!a || t.lastSnippetAt > a) ? t.lastSnippetAt : a), null);
    return {
      livestreamId: s.livestreamId,
      workflowId: this.livestreams.workflowIdOf(livestreamId),
      phase: s.phase,
      health,
      startedAt: s.startedAt,
      ...(s.stopReason ? { stopReason: s.stopReason } : {}),
      layout: s.layout,
      individual: s.individual,
      hosts: Object.values(s.hosts).map((h) => ({
        hostId: h.media.hostId,
        displayName: h.media.displayName,
        present: h.present,
        camera: h.media.camera,
        microphone: h.media.microphone,
        joinedAt: h.joinedAt,
        ...(h.leftAt ? { leftAt: h.leftAt } : {}),
        ingest: h.ingest,
      })),
      recordings: s.recordings.map((r) => ({
        recordingId: r.recordingId,
        workflowId: r.workflowId,
        kind: r.kind,
        ...(r.hostId ? { hostId: r.hostId } : {}),
        variant: r.variant,
        state: r.state,
        startedAt: r.startedAt,
        ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
        ...(r.summary ? { snippets: r.summary.snippets } : {}),
        ...(live.has(r.workflowId) ? { live: liveView(live.get(r.workflowId)!) } : {}),
      })),
      shipped,
      snippetsShipped: shipped.reduce((a, t) => a + t.snippetsShipped, 0),
      lastSnippetAt,
      backlog,
      warnings,
      outputs,
    };
  }

  private opened(url: string): string {
    try {
      return openRtmpUrl(url, this.config.streamKeyCipher);
    } catch {
      return url;
    }
  }

  /** The composite's outputs: desired ones from the workflow, their live state from the running composite. */
  private outputs(s: LivestreamState, live: Map<string, RecordingLive>): OutputsStatusDto {
    const running = s.recordings.find((r) => r.kind === 'composite' && (r.state === 'running' || r.state === 'stopping'));
    const reported = (running && live.get(running.workflowId)?.record?.outputs) || [];
    const byId = new Map(reported.map((o) => [o.id, o]));
    const rtmp = s.composite.rtmp.map((url) => {
      // The pipeline names a destination after its opened URL; a media worker that could not open
      // it reports it failed under its sealed URL's name.
      const id = rtmpOutputId(this.opened(url));
      const o = byId.get(id) ?? byId.get(rtmpOutputId(url));
      const { kind: _kind, ...state } = o ?? { kind: 'rtmp' };
      return o ? ({ ...state, id } as RtmpOutputStatusDto) : { id, target: redactRtmpUrl(url), state: 'pending' };
    });
    const hlsLive = byId.get(HLS_OUTPUT_ID);
    const hls = s.composite.hls
      ? {
          playlistUrl: hlsPlaylistUrl(this.config.bucket, s.livestreamId, this.config.storageEmulator),
          state: hlsLive?.state ?? 'pending',
          ...(hlsLive?.lastError ? { lastError: hlsLive.lastError } : {}),
        }
      : null;
    return { rtmp, hls };
  }

  async listSnippets(livestreamId: string, q: SnippetsQuery): Promise<SnippetListDto> {
    const from = q.from ? Date.parse(q.from) : -Infinity;
    const to = q.to ? Date.parse(q.to) : Infinity;
    if (Number.isNaN(from)) throw new InvalidField('from', 'is not a valid date-time');
    if (Number.isNaN(to)) throw new InvalidField('to', 'is not a valid date-time');
    if (to <= from) throw new InvalidField('to', 'must be after from');
    const all = await this.snippets.list(livestreamId, q.recording);
    if (all.length === 0) {
      // The bucket outlives workflow history, so only an empty bucket asks Temporal whether the
      // livestream exists at all.
      await this.livestreams.status(livestreamId).catch((e) => {
        if (e instanceof LivestreamNotFound) throw e;
      });
    }
    const snippets = all.filter((sn) => Date.parse(sn.startTime) < to && Date.parse(sn.endTime) > from);
    return { livestreamId, snippets };
  }

  private notEnded(s: LivestreamState): LivestreamState {
    if (ended.has(s.phase)) throw new LivestreamConflict(s.livestreamId, `livestream "${s.livestreamId}" is ${s.phase}`, s.phase);
    return s;
  }

  private presentHost(s: LivestreamState, hostId: string): void {
    this.notEnded(s);
    if (!s.hosts[hostId]?.present) throw new HostNotFound(s.livestreamId, hostId);
  }
}

/** The app/key shape the pipeline needs, each problem naming its field; duplicates dropped. */
function checkRtmp(urls: string[], field: string): string[] {
  urls.forEach((u, i) => {
    const problem = rtmpUrlProblem(u);
    if (problem) throw new InvalidField(`${field}[${i}]`, problem);
  });
  return [...new Set(urls)];
}

function toHostSpec(dto: HostSpecDto): HostSpec {
  return {
    hostId: dto.hostId,
    ...(dto.displayName !== undefined ? { displayName: dto.displayName } : {}),
    ...(dto.camera !== undefined ? { camera: dto.camera } : {}),
    ...(dto.microphone !== undefined ? { microphone: dto.microphone } : {}),
    ...(dto.video ? { video: { codec: dto.video.codec, payloadType: dto.video.payloadType } } : {}),
    ...(dto.audio ? { audio: { codec: dto.audio.codec, payloadType: dto.audio.payloadType } } : {}),
  };
}

function toLayout(kind: Layout['kind'], spotlightHostId: string | undefined, prefix: string): Layout {
  if (kind === 'spotlight' && !spotlightHostId) throw new InvalidField(`${prefix}spotlightHostId`, 'is required for the spotlight layout');
  if (kind === 'grid' && spotlightHostId) throw new InvalidField(`${prefix}spotlightHostId`, 'applies to spotlight and active-speaker only');
  return spotlightHostId ? { kind, spotlightHostId } : { kind };
}

function liveView(l: RecordingLive): RecordingLiveDto {
  const r = l.record;
  const sh = l.ship;
  return {
    heartbeatAt: r?.heartbeatAt ?? null,
    attempt: r?.attempt ?? 1,
    ...(r?.snippets !== undefined ? { snippetsWritten: r.snippets } : {}),
    ...(r?.fpsOut !== undefined ? { fpsOut: r.fpsOut } : {}),
    ...(r?.bitrateKbps !== undefined ? { bitrateKbps: r.bitrateKbps } : {}),
    ...(r?.media ? { media: r.media } : {}),
    ...(sh
      ? {
          shipping: {
            state: sh.state ?? 'starting',
            shipped: sh.shipped ?? 0,
            backlog: { count: sh.backlog?.count ?? 0, bytes: sh.backlog?.bytes ?? 0, oldestAgeMs: sh.backlog?.oldestAgeMs ?? null },
            latencyMs: sh.latency?.endToAck ?? { count: 0, p50: null, p95: null, max: null },
            heartbeatAt: sh.heartbeatAt,
          },
        }
      : {}),
  };
}
