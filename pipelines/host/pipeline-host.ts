// The pipeline host: a child process (forked by pipelines/supervisor.ts) that runs ONE recording
// in GStreamer. It takes HostCommands over the IPC channel and answers with HostEvents
// (pipelines/protocol.ts). A crash here takes down one recording, never the worker.
//
// Life: start → build the spec (pure builders) → instantiate → PLAYING → ready {ports} →
// fragment-opened/closed (spool renames + metadata) and stats → stop: EOS, wait up to
// stopTimeoutMs for it, else dump the graph and exit anyway (stopped {forced:true}).
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompositeRecordingConfig, HostMedia, Layout, RecordingConfig } from '../config';
import type { BranchStats, HostCommand, HostEvent, InputPorts, PipelineStats } from '../protocol';
import { AFTER_FIRST_INPUT, buildComposite, buildHostBranch, branchNames, padProps, tileCaps, TILE_INPUT_FPS, TILE_LAYERS } from '../builders/composite.pipeline';
import { buildIndividual, transcodeRateName } from '../builders/individual.pipeline';
import { AUDIO_GATE, DEFAULT_STATS_INTERVAL_MS, inputNames, jitterLatencyMs, OUTPUT_RATE, SINK } from '../builders/common';
import { ActiveSpeakerPicker, layoutTiles, type Tile } from '../layout';
import { parsePartName, SpoolWriter, type SnippetDescription } from './spool-writer';
import { repairEmptyTracks } from '../mp4';
import { AUDIO_TEE, VIDEO_ENCODER, VIDEO_TEE } from '../builders/composite.pipeline';
import { OutputSet } from '../outputs/output-set';
import { normaliseOutputs, outputOfPath, redactText } from '../outputs/outputs';
import {
  baseTimeNs,
  capsString,
  dotGraph,
  dropBefore,
  getProp,
  instantiate,
  link,
  newPipeline,
  onFirstBuffer,
  padLatencyNs,
  requestKeyframe,
  sendEos,
  setProp,
  setState,
  State,
  structString,
  structUint,
  structUint64,
  runningTimeNs,
  TimedProps,
  watchBus,
  type BusMessage,
  type GstObject,
} from '../gst/gst';

const EXIT_FORCED = 3;
const MEDIA_CHECK_MS = 1000;
/** GST_CLOCK_TIME_NONE is 2^64-1; anything this large is not a real running time. */
const CLOCK_TIME_NONE_FLOOR = 2 ** 62;

/** Buffers counted by a frame counter (`identity`, see builders/common.ts frameCounter). */
function countedFrames(identity: GstObject): number {
  const stats = identity.stats;
  return (stats && structUint64(stats, 'num-buffers')) ?? 0;
}

/**
 * A branch's fill, 0..1: its queue's against its limit, or, for a branch with no queue (a
 * composite's audio), its jitter buffer's against its latency: what fills when the mixer waits.
 */
function branchFill(queue: GstObject | undefined, jitter: GstObject): number {
  if (!queue) return Number(getProp(jitter, 'percent')) / 100;
  return Math.min(1, Number(getProp(queue, 'current-level-time')) / (Number(getProp(queue, 'max-size-time')) || 1));
}

function send(event: HostEvent): void {
  if (process.connected) process.send?.(event);
}

function exitAfterFlush(code: number): void {
  // Let the IPC channel flush the last events before the process goes away.
  if (process.connected) process.send?.({ type: 'pong', id: -1 } satisfies HostEvent, () => process.exit(code));
  else process.exit(code);
  setTimeout(() => process.exit(code), 1000).unref();
}

interface Branch {
  host: HostMedia;
  elements: Map<string, GstObject>;
  /** Aggregator sink pads: the tile's layers in TILE_LAYERS order (placeholder, label, camera), then the audio (composite). */
  pads: GstObject[];
  lastPackets: number;
  lastPacketAt: number;
  silent: boolean;
  tile?: Tile;
  /** The tile's layers' compositor pad properties (TILE_LAYERS order), changed at a running time. */
  timed?: TimedProps[];
  /**
   * Composite: the camera layer has had a frame since the camera came on (or the host joined). It
   * is shown from that frame's running time: the compositor takes the first frame after a gap for
   * the output frame it overlaps, one canvas frame before its own time, and the tile would show the
   * stale frame from before the gap until then.
   */
  cameraFlowing: boolean;
  /**
   * Running time the camera last went off: frames from before it are not the camera coming back
   * (the tile's videorate holds the last one and lets it go only when the next frame comes).
   */
  cameraOffAtNs?: number;
  /** Removes the probe waiting for that frame. */
  stopWaitingForCamera?: () => void;
}

const CAMERA_LAYER = TILE_LAYERS.indexOf('camera');

class RecordingHost {
  private pipeline: GstObject;
  private elements = new Map<string, GstObject>();
  private readonly branches = new Map<string, Branch>();
  private readonly order: string[] = [];
  private stopBus: () => void = () => {};
  private dropGateProbe: () => void = () => {};
  private readonly mixerProbes: Array<() => void> = [];
  /** Packets each jitter buffer dropped, by element name (the sum of its `drop-msg` counts). */
  private readonly jitterDropped = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private collectPending = false;
  private stopTimer: NodeJS.Timeout | null = null;
  private stopStartedAt: number | null = null;
  private stopReason = '';
  private open: { sequence: number; runningNs: number; hosts: Set<string> } | null = null;
  private readonly spool: SpoolWriter;
  private readonly picker = new ActiveSpeakerPicker();
  private layout: Layout;
  private readonly startedAtMs = Date.now();
  private closedBytes = 0;
  private lastStats = { at: Date.now(), bytes: 0, framesOut: 0, cpu: process.cpuUsage() };

  constructor(private readonly config: RecordingConfig) {
    this.spool = new SpoolWriter(config.spoolDir);
    this.layout = config.kind === 'composite' ? config.layout : { kind: 'grid' };
  }

  start(): void {
    const c = this.config;
    this.spool.writeState({ nextSequence: c.startSequence });
    this.pipeline = newPipeline(c.recordingId);
    const spec = c.kind === 'composite' ? buildComposite(c) : buildIndividual(c);
    this.elements = instantiate(this.pipeline, spec, () => undefined).elements;
    if (c.kind === 'individual') {
      this.branches.set(c.hostId, this.newBranch(c.host, this.elements, []));
      this.order.push(c.hostId);
    }
    this.stopBus = watchBus(this.pipeline, (m) => this.onMessage(m));
    if (c.kind === 'composite') for (const h of c.hosts) this.addBranch(h, false);
    const gate = this.find(AUDIO_GATE);
    if (gate) this.dropGateProbe = this.openGateAtVideo(gate);
    if (c.kind === 'composite') this.armMixers();
    if (!setState(this.pipeline, State.PLAYING)) throw new Error('pipeline refused to start');
    const inputs = [...this.branches.values()].map((b) => this.ports(b.host.hostId));
    send({ type: 'ready', pid: process.pid, inputs, startedAt: new Date(this.startedAtMs).toISOString() });
    this.timers.push(setInterval(() => this.checkMedia(), MEDIA_CHECK_MS));
    this.timers.push(setInterval(() => this.emitStats(), c.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS));
  }

  /**
   * Opens the audio gate when the first video buffer reaches the snippet sink, from that buffer's
   * running time on (builders/common.ts AUDIO_GATE). Returns what removes the probes still waiting.
   */
  private openGateAtVideo(gate: GstObject): () => void {
    let trim = () => {};
    const first = onFirstBuffer(this.find(SINK).getStaticPad('video'), (videoNs) => {
      if (videoNs !== null) trim = dropBefore(gate.getStaticPad('src'), videoNs);
      setProp(gate, 'drop', false);
    });
    return () => {
      first();
      trim();
    };
  }

  /**
   * The composite mixers' AFTER_FIRST_INPUT settings, once their always-present input has
   * delivered a buffer; a loop turn later, so the mixer has taken that buffer in by then.
   */
  private armMixers(): void {
    for (const { mixer, input, props } of AFTER_FIRST_INPUT) {
      const el = this.find(mixer);
      const pad = this.find(input)?.getStaticPad('src');
      if (!el || !pad) continue;
      this.mixerProbes.push(
        onFirstBuffer(pad, () => {
          this.timers.push(setTimeout(() => Object.entries(props).forEach(([k, v]) => setProp(el, k, v)), 50));
        }),
      );
    }
  }

  private find(name: string): GstObject | undefined {
    return this.elements.get(name) ?? this.pipeline.getByName(name) ?? undefined;
  }

  private newBranch(host: HostMedia, elements: Map<string, GstObject>, pads: GstObject[]): Branch {
    return { host, elements, pads, lastPackets: 0, lastPacketAt: Date.now(), silent: false, cameraFlowing: false };
  }

  private ports(hostId: string): InputPorts {
    const port = (media: 'video' | 'audio') => {
      const src = this.find(inputNames(hostId, media).src);
      return src ? { rtpPort: Number(getProp(src, 'port')) } : undefined;
    };
    const out: InputPorts = { hostId };
    const v = port('video');
    const a = port('audio');
    if (v) out.video = v;
    if (a) out.audio = a;
    return out;
  }

  // ---- composite: hosts join and leave while playing -------------------------------------------
  private get composite(): CompositeRecordingConfig {
    if (this.config.kind !== 'composite') throw new Error('not a composite recording');
    return this.config;
  }

  private tiles(hostIds: string[]): Map<string, Tile> {
    const c = this.composite;
    return new Map(layoutTiles(this.layout, hostIds, c.width, c.height, this.picker.speaker).map((t) => [t.hostId, t]));
  }

  private addBranch(host: HostMedia, live: boolean): void {
    if (this.branches.has(host.hostId)) throw new Error(`host ${host.hostId} is already in the recording`);
    const hostIds = [...this.order, host.hostId];
    const tiles = this.tiles(hostIds);
    const spec = buildHostBranch(this.composite, host, tiles.get(host.hostId)!);
    const { elements } = instantiate(this.pipeline, spec, (n) => this.find(n));
    const pads = spec.outputs.map((o) => link(elements.get(o.from), this.find(o.to), o));
    const branch = this.newBranch(host, elements, pads);
    branch.tile = tiles.get(host.hostId);
    if (host.camera) this.waitForCamera(branch);
    if (live) {
      // Downstream first: a branch started upstream-first sometimes never starts flowing.
      for (const e of [...spec.elements].reverse()) elements.get(e.name).syncStateWithParent();
    }
    this.branches.set(host.hostId, branch);
    this.order.push(host.hostId);
    this.open?.hosts.add(host.hostId);
    this.applyLayout();
  }

  private removeBranch(hostId: string): Promise<void> {
    const b = this.branches.get(hostId);
    if (!b) return Promise.reject(new Error(`no host ${hostId} in the recording`));
    this.branches.delete(hostId);
    this.stopWaitingForCamera(b);
    this.order.splice(this.order.indexOf(hostId), 1);
    this.picker.remove(hostId);
    this.applyLayout();
    // EOS into the branch's sources; once every mixer pad has seen it (or a fallback timer fires
    // for a branch whose data stopped), release the pads and drop the elements.
    for (const [name, el] of b.elements) if (/-(src)$/.test(name)) sendEos(el);
    const deadline = Date.now() + 1000 + jitterLatencyMs(this.config);
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        const done = b.pads.every((p) => (typeof p.isEos === 'function' ? p.isEos() : true));
        if (!done && Date.now() < deadline) return;
        clearInterval(poll);
        for (const pad of b.pads) {
          const peer = pad.getPeer();
          if (peer) peer.unlink(pad);
          pad.getParentElement().releaseRequestPad(pad);
        }
        for (const el of b.elements.values()) {
          el.setLockedState(true);
          setState(el, State.NULL);
          this.pipeline.remove(el);
        }
        this.collectSoon();
        resolve();
      }, 50);
    });
  }

  /**
   * Elements and pads taken out of the pipeline are freed only when V8 collects their JS wrappers,
   * and V8 does not count the native memory behind them, so it may not collect for a long time
   * (replacing placeholders at every layout change, a design tried and withdrawn, grew the host by
   * 142 MB over 200 changes without this). So a collection follows a release, at most one per
   * event-loop turn (a few milliseconds: the host's JS heap is small). Needs `--expose-gc`
   * (HOST_NODE_FLAGS).
   */
  private collectSoon(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (this.collectPending || typeof gc !== 'function') return;
    this.collectPending = true;
    setImmediate(() => {
      this.collectPending = false;
      gc();
    });
  }

  private applyLayout(): void {
    if (this.config.kind !== 'composite') return;
    const tiles = this.tiles(this.order);
    // The change belongs to the output frames from now on: the compositor renders frames its
    // latency late, and a property set directly would also change the frames of the last few
    // hundred milliseconds (a flash there showed a canvas frame or more early at a join).
    const now = runningTimeNs(this.pipeline);
    for (const [hostId, b] of this.branches) {
      const tile = tiles.get(hostId)!;
      const n = branchNames(hostId);
      b.timed ??= TILE_LAYERS.map((_, i) => new TimedProps(b.pads[i]));
      // The placeholder and its name are drawn once and scaled by the compositor: only pad properties change.
      TILE_LAYERS.forEach((layer, i) => {
        for (const [k, v] of Object.entries(padProps(tile, layer, b.host.camera && b.cameraFlowing))) b.timed![i]!.set(k, v, now);
      });
      // Only on a size change: a caps change renegotiates the camera branch.
      if (b.tile?.width !== tile.width || b.tile?.height !== tile.height) setProp(b.elements.get(n.videoCaps), 'caps', tileCaps(tile, TILE_INPUT_FPS));
      b.tile = tile;
    }
  }

  /** Shows the camera layer from the running time of its next frame (see `Branch.cameraFlowing`). */
  private waitForCamera(b: Branch): void {
    this.stopWaitingForCamera(b);
    const pad = b.pads[CAMERA_LAYER];
    if (!pad) return;
    const show = (runningNs: number | null) => {
      b.stopWaitingForCamera = undefined;
      if (this.stopping || this.branches.get(b.host.hostId) !== b || !b.host.camera) return;
      b.cameraFlowing = true;
      const at = runningNs ?? runningTimeNs(this.pipeline);
      const cam = b.timed?.[CAMERA_LAYER];
      if (b.tile && cam) for (const [k, v] of Object.entries(padProps(b.tile, 'camera', true))) cam.set(k, v, at);
    };
    b.stopWaitingForCamera = onFirstBuffer(pad, show, b.cameraOffAtNs);
  }

  private stopWaitingForCamera(b: Branch): void {
    b.stopWaitingForCamera?.();
    b.stopWaitingForCamera = undefined;
  }

  // ---- commands ----------------------------------------------------------------------------------
  async command(cmd: HostCommand): Promise<void> {
    switch (cmd.type) {
      case 'ping':
        send({ type: 'pong', id: cmd.id });
        return;
      case 'stop':
        this.stop(cmd.reason);
        return;
      case 'add-input':
        if (this.stopping) return;
        this.addBranch(cmd.host, true);
        send({ type: 'input-added', inputs: this.ports(cmd.host.hostId) });
        return;
      case 'remove-input':
        await this.removeBranch(cmd.hostId);
        send({ type: 'input-removed', hostId: cmd.hostId });
        return;
      case 'set-layout':
        this.layout = cmd.layout;
        this.applyLayout();
        return;
      case 'set-camera': {
        const b = this.branch(cmd.hostId);
        b.host = { ...b.host, camera: cmd.on };
        if (this.config.kind === 'composite') {
          if (!cmd.on) {
            this.stopWaitingForCamera(b);
            b.cameraFlowing = false;
            b.cameraOffAtNs = runningTimeNs(this.pipeline) ?? undefined;
          } else if (!b.cameraFlowing && !b.stopWaitingForCamera) this.waitForCamera(b);
        }
        this.applyLayout();
        return;
      }
      case 'set-microphone': {
        const b = this.branch(cmd.hostId);
        b.host = { ...b.host, microphone: cmd.on };
        if (this.config.kind === 'composite') setProp(b.elements.get(branchNames(cmd.hostId).volume), 'mute', !cmd.on);
        else {
          const pad = this.find(inputNames(cmd.hostId, 'audio').queue).getStaticPad('src').getPeer();
          setProp(pad, 'volume', cmd.on ? 1 : 0);
        }
        return;
      }
      case 'set-sync': {
        const ms = cmd.audioDelayMs;
        const jb = (media: 'video' | 'audio') => this.find(inputNames(cmd.hostId, media).jitter);
        this.branch(cmd.hostId);
        if (jb('audio')) setProp(jb('audio'), 'ts-offset', Math.max(0, ms) * 1_000_000);
        if (jb('video')) setProp(jb('video'), 'ts-offset', Math.max(0, -ms) * 1_000_000);
        return;
      }
      case 'set-outputs':
        this.setOutputs(cmd.rtmp);
        return;
      case 'start':
        throw new Error('already started');
    }
  }

  private branch(hostId: string): Branch {
    const b = this.branches.get(hostId);
    if (!b) throw new Error(`no host ${hostId} in the recording`);
    return b;
  }

  // ---- bus -----------------------------------------------------------------------------------------
  private onMessage(m: BusMessage): void {
    // An output's trouble (a dead RTMP server) is that output's: detached and retried, never fatal.
    if (m.type === 'error' && this.outputs?.onError(outputOfPath(m.path), `${m.source}: ${m.text}`)) return;
    // hlssink2's own splitmuxsink posts fragment messages too: only the recording's are snippets;
    // an output's closed fragment is its sign of life (HLS).
    if (m.type === 'element' && outputOfPath(m.path)) {
      if (m.name === 'splitmuxsink-fragment-closed') this.outputs?.onProgress(outputOfPath(m.path));
      return;
    }
    if (m.type === 'warning' && outputOfPath(m.path)) {
      send({ type: 'warning', code: 'output-warning', message: redactText(`${m.source}: ${m.text}`) });
      return;
    }
    switch (m.type) {
      case 'element':
        if (m.name === 'splitmuxsink-fragment-opened') this.fragmentOpened(m.structure);
        else if (m.name === 'splitmuxsink-fragment-closed') this.fragmentClosed(m.structure);
        else if (m.name === 'level') this.level(m);
        else if (m.name === 'drop-msg') this.jitterDrops(m);
        return;
      case 'state-changed':
        // Live outputs join once the pipeline plays: an output bin added or dropped while the
        // pipeline was still on its way there (a destination refusing the connection at once)
        // failed that state change, and the recording stayed PAUSED for good.
        if (m.state === State.PLAYING && this.config.kind === 'composite' && !this.outputs && !this.stopping) this.startOutputs();
        return;
      case 'latency':
        // A branch added later may bring more latency; recompute so it is not dropped as late.
        this.pipeline.recalculateLatency();
        return;
      case 'warning':
        send({ type: 'warning', code: 'gstreamer-warning', message: `${m.source}: ${m.text}`, ...this.hostOf(m.source) });
        return;
      case 'error': {
        const host = this.hostOf(m.source);
        // An error inside one host's branch costs that host's media, not the recording.
        const fatal = !host.hostId;
        send({ type: 'error', code: 'streaming-error', message: `${m.source}: ${m.text}`, fatal, ...(m.debug ? { debug: m.debug } : {}), ...host });
        if (fatal) this.stop(`error: ${m.text}`);
        return;
      }
      case 'eos':
        void this.finished();
        return;
      default:
        return;
    }
  }

  private hostOf(source: string): { hostId?: string } {
    for (const hostId of this.branches.keys()) if (source.startsWith(`${hostId}-`)) return { hostId };
    return {};
  }

  private wallTime(runningNs: number): Date {
    return new Date((baseTimeNs(this.pipeline) + runningNs) / 1e6);
  }

  private fragmentOpened(s: GstObject): void {
    const location = structString(s, 'location') ?? '';
    const raw = structUint64(s, 'running-time') ?? 0;
    const runningNs = raw >= CLOCK_TIME_NONE_FLOOR ? 0 : raw;
    const m = /\.(\d+)\.mp[34]\.part$/.exec(location);
    const sequence = m ? Number(m[1]) : -1;
    this.open = { sequence, runningNs, hosts: new Set(this.order) };
    send({ type: 'fragment-opened', sequence, startTime: this.wallTime(runningNs).toISOString() });
  }

  private fragmentClosed(s: GstObject): void {
    const location = structString(s, 'location') ?? '';
    const endNs = structUint64(s, 'running-time') ?? 0;
    const startNs = this.open?.runningNs ?? endNs;
    const hosts = [...(this.open?.hosts ?? new Set(this.order))];
    this.open = null;
    // A fragment opened and closed by EOS without a single buffer (no media at all) has no
    // running time: nothing to ship.
    if (endNs <= startNs || endNs >= CLOCK_TIME_NONE_FLOOR) {
      rmSync(location, { force: true });
      send({ type: 'warning', code: 'empty-snippet', message: `dropped an empty snippet (${location})` });
      return;
    }
    if (location.endsWith('.mp4.part')) this.repairTracks(location);
    try {
      const info = this.spool.close(location, this.wallTime(startNs), this.wallTime(endNs), this.describe(hosts));
      this.closedBytes += info.sizeBytes;
      send({ type: 'fragment-closed', ...info });
    } catch (err) {
      send({ type: 'error', code: 'spool-write-failed', message: (err as Error).message, fatal: false });
    }
  }

  /**
   * A trak without a sample description makes the whole snippet unplayable (a muxer pad that got
   * no caps, as when a mixer ended its stream at start; see AFTER_FIRST_INPUT). Such a trak holds
   * no samples: it is taken out and said, never hidden. One that holds samples is left for
   * shipping to quarantine.
   */
  private repairTracks(location: string): void {
    const snippet = parsePartName(location)?.sequence ?? location;
    try {
      const { removed, kept } = repairEmptyTracks(location);
      if (removed.length) send({ type: 'warning', code: 'snippet-repaired', message: `snippet ${snippet}: removed ${removed.join('; ')}` });
      if (kept.length) send({ type: 'warning', code: 'snippet-unplayable', message: `snippet ${snippet}: ${kept.join('; ')}` });
    } catch (err) {
      send({ type: 'warning', code: 'snippet-unplayable', message: `snippet ${snippet}: ${(err as Error).message}` });
    }
  }

  private describe(hosts: string[]): SnippetDescription {
    const c = this.config;
    const base = { livestreamId: c.livestreamId, recordingId: c.recordingId, hosts };
    if (c.kind === 'composite') {
      return {
        ...base,
        kind: 'composite',
        variant: 'av',
        contentType: 'video/mp4',
        video: { codec: 'H264', width: c.width, height: c.height, fps: c.fps },
        audio: { codec: 'AAC', sampleRate: 48000, channels: 2 },
      };
    }
    if (c.variant === 'audio') {
      return { ...base, kind: 'individual', hostId: c.hostId, variant: 'audio', contentType: 'audio/mpeg', audio: { codec: 'MP3', sampleRate: 48000, channels: 2 } };
    }
    // Passed-through video keeps the sender's size: read it from the negotiated caps.
    const caps = capsString(this.find(inputNames(c.hostId, 'video').queue)?.getStaticPad('src')) ?? '';
    const num = (field: string) => Number(new RegExp(`${field}=\\(int\\)(\\d+)`).exec(caps)?.[1] ?? 0);
    const fr = /framerate=\(fraction\)(\d+)\/(\d+)/.exec(caps);
    return {
      ...base,
      kind: 'individual',
      hostId: c.hostId,
      variant: 'av',
      contentType: 'video/mp4',
      video: { codec: 'H264', width: num('width'), height: num('height'), fps: fr && Number(fr[2]) > 0 ? Number(fr[1]) / Number(fr[2]) : 0 },
      audio: { codec: 'AAC', sampleRate: 48000, channels: 2 },
    };
  }

  private level(m: BusMessage): void {
    if (this.config.kind !== 'composite') return;
    const host = this.hostOf(m.source).hostId;
    const b = host ? this.branches.get(host) : undefined;
    if (!b || !b.host.microphone) return;
    // rms is a GValueArray (one value per channel); its serialised form is the portable way to read it.
    const text = String(m.structure.toString());
    const rms = /rms=\(double\)\{([^}]*)\}/.exec(text)?.[1]?.split(',').map(Number) ?? [];
    if (rms.length === 0) return;
    const db = Math.max(...rms.filter((v) => Number.isFinite(v)), -100);
    if (this.picker.update(b.host.hostId, db, Date.now()) && this.layout.kind === 'active-speaker') this.applyLayout();
  }

  /** A jitter buffer dropped packets (held past its latency, or too late): the message counts those since its last one. */
  private jitterDrops(m: BusMessage): void {
    const s = m.structure;
    if (!s) return;
    const count = (structUint(s, 'num-drop-on-latency') ?? 0) + (structUint(s, 'num-too-late') ?? 0);
    this.jitterDropped.set(m.source, (this.jitterDropped.get(m.source) ?? 0) + count);
  }

  // ---- health --------------------------------------------------------------------------------------
  private packets(b: Branch): number {
    let total = 0;
    for (const media of ['video', 'audio'] as const) {
      const jb = b.elements.get(inputNames(b.host.hostId, media).jitter);
      if (!jb) continue;
      const stats = jb.stats;
      total += (stats && structUint64(stats, 'num-pushed')) ?? 0;
    }
    return total;
  }

  private checkMedia(): void {
    if (this.stopping) return;
    const now = Date.now();
    for (const b of this.branches.values()) {
      const p = this.packets(b);
      if (p !== b.lastPackets) {
        b.lastPackets = p;
        b.lastPacketAt = now;
        b.silent = false;
      } else if (!b.silent && now - b.lastPacketAt >= this.config.noMediaWarningMs) {
        b.silent = true;
        send({ type: 'warning', code: 'no-media', hostId: b.host.hostId, message: `no RTP from host ${b.host.hostId} for ${now - b.lastPacketAt} ms` });
      }
    }
  }

  private emitStats(): void {
    const now = Date.now();
    const dt = (now - this.lastStats.at) / 1000;
    const branches: BranchStats[] = [];
    for (const b of this.branches.values()) {
      for (const media of ['video', 'audio'] as const) {
        const n = inputNames(b.host.hostId, media);
        const q = b.elements.get(n.queue);
        const jb = b.elements.get(n.jitter);
        if (!jb) continue;
        const rate = media === 'video' ? b.elements.get(branchNames(b.host.hostId).videoRate) : undefined;
        // videorate's input counter, else the branch's frame counter (audio, passed-through H.264)
        const counter = b.elements.get(n.count);
        const framesIn = rate ? Number(getProp(rate, 'in')) : counter ? countedFrames(counter) : 0;
        const stats = jb.stats;
        branches.push({
          hostId: b.host.hostId,
          media,
          packetsIn: (stats && structUint64(stats, 'num-pushed')) ?? 0,
          framesIn,
          fpsIn: 0,
          queueFill: branchFill(q, jb),
          dropped: (rate ? Number(getProp(rate, 'drop')) : 0) + ((stats && structUint64(stats, 'num-lost')) ?? 0) + (this.jitterDropped.get(n.jitter) ?? 0),
          duplicated: rate ? Number(getProp(rate, 'duplicate')) : 0,
          lastBufferAgeMs: now - b.lastPacketAt,
        });
      }
    }
    // The composite's output videorate; a transcoded individual recording's videorate (fixed 30 fps
    // in front of its encoder) plays the same role; passed-through H.264 has its frame counter.
    const c = this.config;
    const outRate = this.find(OUTPUT_RATE) ?? (c.kind === 'individual' ? this.find(transcodeRateName(c.hostId)) : undefined);
    const passCounter = c.kind === 'individual' && !outRate ? this.find(inputNames(c.hostId, 'video').count) : undefined;
    const framesOut = outRate ? Number(getProp(outRate, 'out')) : passCounter ? countedFrames(passCounter) : 0;
    const enc = this.find('venc');
    const encLatency = enc ? (padLatencyNs(enc.getStaticPad('src')) ?? 0) - (padLatencyNs(enc.getStaticPad('sink')) ?? 0) : null;
    const bytes = this.closedBytes + this.partBytes();
    const cpu = process.cpuUsage();
    const stats: PipelineStats = {
      uptimeMs: now - this.startedAtMs,
      framesOut,
      fpsOut: dt > 0 ? (framesOut - this.lastStats.framesOut) / dt : 0,
      droppedOut: outRate ? Number(getProp(outRate, 'drop')) : 0,
      bitrateKbps: dt > 0 ? Math.round(((bytes - this.lastStats.bytes) * 8) / dt / 1000) : 0,
      encoderLatencyMs: encLatency === null ? null : Math.max(0, encLatency / 1e6),
      branches,
      ...(this.config.kind === 'composite' ? { activeSpeaker: this.picker.speaker } : {}),
      ...(this.outputs ? { outputs: this.outputs.statuses() } : {}),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
    };
    for (const b of branches) {
      const prev = this.prevFrames.get(`${b.hostId}/${b.media}`) ?? b.framesIn;
      b.fpsIn = dt > 0 ? (b.framesIn - prev) / dt : 0;
      this.prevFrames.set(`${b.hostId}/${b.media}`, b.framesIn);
    }
    this.lastStats = { at: now, bytes, framesOut, cpu };
    send({ type: 'stats', stats });
  }

  private readonly prevFrames = new Map<string, number>();

  // ---- live outputs (pipelines/outputs/) -------------------------------------------------------
  private outputs: OutputSet | null = null;
  /** RTMP destinations set (set-outputs) before the pipeline played and the outputs started. */
  private rtmpBeforePlaying: string[] | null = null;

  private startOutputs(): void {
    const c = this.composite;
    this.outputs = new OutputSet({
      pipeline: this.pipeline,
      videoTee: this.find(VIDEO_TEE),
      audioTee: this.find(AUDIO_TEE),
      maxRetries: c.outputs?.rtmpMaxRetries ?? 0,
      rtmpsAllowUnknownCa: c.outputs?.rtmpsAllowUnknownCa ?? false,
      requestKeyframe: () => requestKeyframe(this.find(VIDEO_ENCODER)),
      onChange: (outputs) => send({ type: 'outputs', outputs }),
      log: (level, code, message) => send(level === 'error' ? { type: 'error', code, message, fatal: false } : { type: 'warning', code, message }),
    });
    if (c.outputs?.hls) {
      const dir = join(c.spoolDir, 'hls');
      mkdirSync(dir, { recursive: true });
      this.outputs.startHls({ ...c.outputs.hls, dir, segmentPrefix: `s${this.startedAtMs.toString(36)}` });
    }
    const rtmp = this.rtmpBeforePlaying ?? c.outputs?.rtmp ?? [];
    this.rtmpBeforePlaying = null;
    if (rtmp.length) this.outputs.setRtmp(rtmp);
  }

  private setOutputs(rtmp: string[]): void {
    if (this.config.kind !== 'composite') throw new Error('live outputs need a composite recording');
    if (this.stopping) return;
    // Before the pipeline plays, the latest set waits for it (startOutputs).
    const wanted = normaliseOutputs({ rtmp }).rtmp;
    if (!this.outputs) this.rtmpBeforePlaying = wanted;
    else this.outputs.setRtmp(wanted);
  }

  private partBytes(): number {
    if (!this.open) return 0;
    try {
      const ext = this.config.kind === 'individual' && this.config.variant === 'audio' ? 'mp3' : 'mp4';
      const name = `.${String(this.open.sequence).padStart(6, '0')}.${ext}.part`;
      return statSync(join(this.config.spoolDir, name)).size;
    } catch {
      return 0;
    }
  }

  // ---- stop ----------------------------------------------------------------------------------------
  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopReason = reason;
    this.outputs?.detachLive();
    for (const t of this.timers) clearInterval(t);
    // No video came: nothing will open the gate now, and a probe left on the pad must not fire
    // while the pipeline goes down.
    this.dropGateProbe();
    for (const drop of this.mixerProbes) drop();
    for (const b of this.branches.values()) this.stopWaitingForCamera(b);
    this.stopStartedAt = Date.now();
    this.stopTimer = setTimeout(() => this.forceStop(), this.config.stopTimeoutMs);
    // EOS into every source; the sinks finalise the open snippet and the bus reports EOS.
    // RTP sources first: sending EOS to a source blocks until its streaming thread is free, and a
    // live test source (silence, background) may be blocked in splitmuxsink waiting for the RTP
    // stream that never came; that stream's EOS releases it. Then the rest, one per loop turn.
    const all = [...this.elements.values(), ...[...this.branches.values()].flatMap((b) => [...b.elements.values()])];
    const unique = [...new Set(all)];
    const isSource = (el: GstObject) => el.getStaticPad('sink') === null && el.getStaticPad('src') !== null;
    const sources = unique.filter(isSource);
    const rtp = sources.filter((el) => String(el.name).endsWith('-src') && getProp(el, 'port') !== undefined);
    const rest = sources.filter((el) => !rtp.includes(el));
    const next = (list: GstObject[]) => {
      const el = list.shift();
      if (!el) return;
      sendEos(el);
      setImmediate(() => next(list));
    };
    next([...rtp, ...rest]);
  }

  private finished(): void {
    if (this.stopTimer) clearTimeout(this.stopTimer);
    // The EOS can be read in the same timer turn as an expired stop budget: past the budget it is
    // the forced stop that is reported, whichever callback ran first.
    if (this.stopStartedAt !== null && Date.now() - this.stopStartedAt >= this.config.stopTimeoutMs) {
      this.forceStop();
      return;
    }
    this.stopBus();
    this.outputs?.closeEnded();
    setState(this.pipeline, State.NULL);
    send({ type: 'eos' });
    send({ type: 'stopped', forced: false, reason: this.stopReason || 'end of stream' });
    exitAfterFlush(0);
  }

  private forceStop(): void {
    let graphDump: string | undefined;
    try {
      graphDump = join(this.config.spoolDir, `pipeline-${Date.now()}.dot`);
      writeFileSync(graphDump, redactText(dotGraph(this.pipeline)));
    } catch {
      graphDump = undefined;
    }
    send({ type: 'stopped', forced: true, reason: `${this.stopReason}: no EOS within ${this.config.stopTimeoutMs} ms`, ...(graphDump ? { graphDump } : {}) });
    // The pipeline may be wedged: do not touch it again, just leave.
    exitAfterFlush(EXIT_FORCED);
  }
}

// ---- process wiring ------------------------------------------------------------------------------
let host: RecordingHost | null = null;
let queue: Promise<void> = Promise.resolve();

function handle(cmd: HostCommand): Promise<void> {
  if (cmd.type === 'start') {
    if (host) throw new Error('already started');
    host = new RecordingHost(cmd.config);
    try {
      host.start();
    } catch (err) {
      send({ type: 'error', code: 'start-failed', message: (err as Error).message, fatal: true });
      exitAfterFlush(1);
    }
    return Promise.resolve();
  }
  if (cmd.type === 'ping') {
    send({ type: 'pong', id: cmd.id });
    return Promise.resolve();
  }
  if (!host) throw new Error(`${cmd.type} before start`);
  return host.command(cmd);
}

process.on('message', (cmd: HostCommand) => {
  // Pings skip the queue: the watchdog measures the event loop, not a slow removal.
  if (cmd.type === 'ping') return void send({ type: 'pong', id: cmd.id });
  queue = queue
    .then(() => handle(cmd))
    .catch((err: Error) => send({ type: 'error', code: 'bad-command', message: `${cmd.type}: ${err.message}`, fatal: false }));
});

const gracefulStop = (reason: string) => () => (host ? host.stop(reason) : process.exit(0));
process.on('SIGTERM', gracefulStop('SIGTERM'));
process.on('SIGINT', gracefulStop('SIGINT'));
// The supervisor is gone: finish the open snippet rather than lose it.
process.on('disconnect', gracefulStop('supervisor disconnected'));

