// The live outputs of a running composite, inside the pipeline host: one bin per output behind a
// small interface (attach to the tees, detach, status), a desired set that replaces the running
// one, and the retry loop. Errors of an output's elements (found by their ancestry on the bus)
// detach that output and schedule a new attempt; they never reach the recording. The RTMP
// destinations share one FLV mux (its own bin, `out-flv`), started with the first attached
// destination and stopped with the last; an error of the mux drops the destinations behind it. A
// destination removed, or left at the stop, is ended (OutputBin.end: the server sees deleteStream).
import { addGhostPad, getProp, instantiate, keyframeGate, linkFromTee, newBin, releaseTeePad, sendEos, setState, State, structUint64, type GstObject, type TeeLink } from '../gst/gst';
import {
  buildFlvMux,
  buildHlsOutput,
  buildRtmpOutput,
  FLV_MUX_ID,
  HLS_OUTPUT_ID,
  HLS_PLAYLIST,
  outputNames,
  redactRtmpUrl,
  redactText,
  retryDelayMs,
  rtmpOutputId,
  rtmpUrlProblem,
  type HlsSettings,
  type OutputBinSpec,
  type OutputInput,
  type OutputKind,
  type OutputStatus,
} from './outputs';

/** A destination connected this long without an error counts as healthy again (the backoff restarts). */
const HEALTHY_AFTER_MS = 10_000;
/** A connected RTMP destination whose byte count has not moved for this long is treated as dropped. */
const STALL_MS = 10_000;

/** The tees an output bin is fed from: the encoders' (video, audio) and the shared FLV mux's. */
export interface OutputTees {
  video: GstObject;
  audio: GstObject;
  /** The shared FLV mux's tee and the bin it sits in, started on first use. */
  flv?: () => { tee: GstObject; bin: GstObject };
}

/** How long a bin whose keyframe gate was still waiting is left before it goes to NULL (see detach). */
const GATE_SETTLE_MS = 100;
/** How long an ended RTMP bin plays on outside the pipeline so its sink can end the stream (see end). */
export const RTMP_END_MS = 2000;

/** One output bin: built from its spec, attached to its tees while playing, detached on error or removal. */
export class OutputBin {
  private bin: GstObject | null = null;
  private teeLinks: TeeLink[] = [];
  private gate: { pending: () => boolean; remove: () => void } | null = null;
  private inputPads: GstObject[] = [];
  /** After end(): the bin playing on outside the pipeline until its timer sets it to NULL. */
  private ending: { bin: GstObject; timer: NodeJS.Timeout } | null = null;

  constructor(
    readonly spec: OutputBinSpec,
    private readonly pipeline: GstObject,
  ) {}

  get attached(): boolean {
    return this.bin !== null;
  }

  attach(tees: OutputTees): void {
    if (this.bin) return;
    const bin = newBin(outputNames(this.spec.id).bin);
    const { elements } = instantiate(bin, this.spec, () => undefined);
    const ghosts = (Object.entries(this.spec.inputs) as Array<[OutputInput, string]>).map(
      ([input, element]) => [input, addGhostPad(bin, input, elements.get(element).getStaticPad('sink'))] as const,
    );
    // An RTMP destination joins an FLV stream that may have run for a while: its media starts at
    // the first video keyframe that leaves its queue (the headers come with the caps).
    if (this.spec.kind === 'rtmp') this.gate = keyframeGate(elements.get(outputNames(this.spec.id).queue).getStaticPad('src'));
    this.pipeline.add(bin);
    // The bin plays before the tee feeds it: a tee pushing into an inactive pad gets FLUSHING back.
    bin.syncStateWithParent();
    this.bin = bin;
    this.inputPads = ghosts.map(([, pad]) => pad);
    try {
      for (const [input, pad] of ghosts) {
        if (input === 'flv') {
          const flv = tees.flv?.();
          if (!flv) throw new Error(`no FLV mux for output ${this.spec.id}`);
          this.teeLinks.push(linkFromTee(flv.tee, pad, flv.bin));
        } else {
          this.teeLinks.push(linkFromTee(tees[input], pad));
        }
      }
    } catch (err) {
      this.detach();
      throw err;
    }
  }

  /**
   * Unlinks from the tees, then stops and drops the bin. No blocking probe: the output's first
   * element after the tee is errorignore and then a leaky queue, so a push in progress returns at
   * once and releasing the tee pad (which waits for it) cannot wait on the network. A keyframe
   * gate still waiting may hold the queue's thread on the JS thread: then the bin leaves the
   * pipeline at once and goes to NULL once that call has run (stopping the queue waits for it).
   */
  detach(): void {
    const { bin, gate } = this.unlink();
    if (!bin) return;
    bin.setLockedState(true);
    if (gate?.pending()) {
      gate.remove();
      this.pipeline.remove(bin);
      setTimeout(() => setState(bin, State.NULL), GATE_SETTLE_MS);
      return;
    }
    setState(bin, State.NULL);
    this.pipeline.remove(bin);
  }

  /**
   * Ends the output instead of dropping it: unlinked from the tees, out of the pipeline (so the
   * pipeline's own EOS never waits for it) but still playing, it gets an EOS behind what its queue
   * holds. rtmp2sink answers an EOS by ending the stream (FCUnpublish, deleteStream), so the server
   * sees the stream end rather than the publisher vanish. The bin goes to NULL RTMP_END_MS later
   * (a sink that never connected or is wedged is unlocked then). The EOS goes into the queue,
   * which never blocks on it, so this never waits on the network. A bin whose keyframe gate still
   * waits has sent nothing: it is detached as before.
   */
  end(): void {
    const bin = this.bin;
    if (!bin || this.gate?.pending()) {
      this.detach();
      return;
    }
    const { pads } = this.unlink();
    bin.setLockedState(true);
    this.pipeline.remove(bin);
    for (const pad of pads) sendEos(pad);
    this.ending = { bin, timer: setTimeout(() => this.closeEnded(), RTMP_END_MS) };
  }

  /** Releases the tee pads and hands over the bin, its input pads and its gate (a gate not pending is spent). */
  private unlink(): { bin: GstObject | null; pads: GstObject[]; gate: { pending: () => boolean; remove: () => void } | null } {
    for (const l of this.teeLinks) releaseTeePad(l);
    const taken = { bin: this.bin, pads: this.inputPads, gate: this.gate };
    this.teeLinks = [];
    this.bin = null;
    this.inputPads = [];
    this.gate = null;
    return taken;
  }

  get isEnding(): boolean {
    return this.ending !== null;
  }

  /** Sets an ended bin to NULL now (the pipeline is going down; no thread may outlive it). */
  closeEnded(): void {
    const ending = this.ending;
    this.ending = null;
    if (!ending) return;
    clearTimeout(ending.timer);
    setState(ending.bin, State.NULL);
  }

  /** The bin, while attached. */
  get gstBin(): GstObject | null {
    return this.bin;
  }

  /** Bytes the sink has written to the network (RTMP), 0 when unknown. */
  bytesSent(): number {
    if (!this.bin || this.spec.kind !== 'rtmp') return 0;
    const sink = this.bin.getByName(outputNames(this.spec.id).sink);
    const stats = sink ? (getProp(sink, 'stats') as GstObject) : undefined;
    return (stats ? structUint64(stats, 'out-bytes-total') : undefined) ?? 0;
  }
}

interface Entry {
  out: OutputBin;
  status: OutputStatus;
  /** Consecutive failed attempts. */
  failures: number;
  /** Bytes of earlier attempts. */
  bytesBefore: number;
  lastBytes: number;
  lastBytesAt: number;
  connectedAt: number | null;
  retryAtMs: number | null;
  /** No progress (RTMP: bytes sent; HLS: a segment closed) for this long counts as a drop. */
  stallMs: number;
  /** HLS: a fresh spec per attempt (new segment names: the restarted hlssink2 numbers from 0). */
  rebuild?: (attempt: number) => OutputBinSpec;
}

export interface OutputSetOptions {
  pipeline: GstObject;
  videoTee: GstObject;
  audioTee: GstObject;
  /** Consecutive failed attempts after which a destination is `failed` (0: retry for ever). */
  maxRetries: number;
  /** `rtmps://` destinations accept a certificate from an unknown CA (buildRtmpOutput). */
  rtmpsAllowUnknownCa?: boolean;
  /** Asks the composite's video encoder for a keyframe (an RTMP destination joined and waits for one). */
  requestKeyframe?: () => void;
  onChange: (statuses: OutputStatus[]) => void;
  log: (level: 'warning' | 'error', code: string, message: string) => void;
  now?: () => number;
}

export class OutputSet {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  /** The FLV mux the RTMP destinations share: present while at least one of them is attached. */
  private flv: OutputBin | null = null;
  /** RTMP bins ended and still playing outside the pipeline (OutputBin.end). */
  private ended: OutputBin[] = [];

  constructor(private readonly opts: OutputSetOptions) {
    this.now = opts.now ?? Date.now;
  }

  private tees(): OutputTees {
    return { video: this.opts.videoTee, audio: this.opts.audioTee, flv: () => this.flvTee() };
  }

  /** The shared mux's tee; the mux is started (fed from the encoders' tees) on first use. */
  private flvTee(): { tee: GstObject; bin: GstObject } {
    if (!this.flv) {
      const mux = new OutputBin(buildFlvMux(), this.opts.pipeline);
      mux.attach(this.tees());
      this.flv = mux;
    }
    const bin = this.flv.gstBin;
    const tee = bin?.getByName(this.flv.spec.tee!);
    if (!tee) throw new Error('the shared FLV mux has no tee');
    return { tee, bin };
  }

  /** The shared mux goes with the last attached RTMP destination (a retry starts a fresh one). */
  private releaseFlvIfUnused(): void {
    if (!this.flv) return;
    for (const e of this.entries.values()) if (e.status.kind === 'rtmp' && e.out.attached) return;
    this.flv.detach();
    this.flv = null;
  }

  /** Replaces the RTMP destinations: new ones attach, missing ones detach, the rest keep streaming. */
  setRtmp(urls: string[]): void {
    // An invalid URL (the API refuses them; a workflow started by other means might not) costs
    // that destination only, never the recording.
    const valid = urls.filter((u) => {
      const problem = rtmpUrlProblem(u);
      if (problem) this.opts.log('warning', 'output-invalid', `RTMP destination ignored: ${problem}`);
      return !problem;
    });
    const wanted = new Map(valid.map((u) => [rtmpOutputId(u), u]));
    for (const [id, e] of this.entries) {
      if (e.status.kind === 'rtmp' && !wanted.has(id)) {
        this.endOutput(e.out);
        this.entries.delete(id);
      }
    }
    this.releaseFlvIfUnused();
    for (const [id, url] of wanted) if (!this.entries.has(id)) this.add(buildRtmpOutput(url, { allowUnknownCa: this.opts.rtmpsAllowUnknownCa ?? false }), redactRtmpUrl(url));
    this.ensureTimer();
    this.changed();
  }

  startHls(settings: HlsSettings): void {
    if (this.entries.has(HLS_OUTPUT_ID)) return;
    const spec = (attempt: number) => buildHlsOutput({ ...settings, segmentPrefix: attempt > 1 ? `${settings.segmentPrefix}r${attempt}` : settings.segmentPrefix });
    // A first segment takes up to a segment length plus a GOP; three lengths without one is a stall.
    this.add(spec(1), `${settings.dir}/${HLS_PLAYLIST}`, { stallMs: 3 * settings.segmentSeconds * 1000 + 5000, rebuild: spec });
    this.ensureTimer();
    this.changed();
  }

  private add(spec: OutputBinSpec, target: string, opts: Pick<Entry, 'stallMs' | 'rebuild'> = { stallMs: STALL_MS }): void {
    const t = this.now();
    const entry: Entry = {
      out: new OutputBin(spec, this.opts.pipeline),
      status: { id: spec.id, kind: spec.kind as OutputKind, target, state: 'connecting', attempts: 0, bytesSent: 0, since: new Date(t).toISOString() },
      failures: 0,
      bytesBefore: 0,
      lastBytes: 0,
      lastBytesAt: t,
      connectedAt: null,
      retryAtMs: null,
      ...opts,
    };
    this.entries.set(spec.id, entry);
    this.tryAttach(entry);
  }

  private tryAttach(e: Entry): void {
    e.status.attempts++;
    e.retryAtMs = null;
    delete e.status.retryAt;
    if (e.rebuild && e.status.attempts > 1) e.out = new OutputBin(e.rebuild(e.status.attempts), this.opts.pipeline);
    this.setState(e, 'connecting');
    e.lastBytes = 0;
    e.lastBytesAt = this.now();
    try {
      e.out.attach(this.tees());
      // A destination starts at a keyframe: ask for one rather than wait up to a GOP.
      if (e.status.kind === 'rtmp') this.opts.requestKeyframe?.();
    } catch (err) {
      this.fail(e, (err as Error).message);
    }
  }

  /** An output made progress it cannot count in bytes (HLS: a segment closed). */
  onProgress(outputId: string | undefined): void {
    const e = outputId ? this.entries.get(outputId) : undefined;
    if (!e?.out.attached) return;
    const t = this.now();
    e.lastBytesAt = t;
    if (e.status.state === 'connecting') {
      e.connectedAt = t;
      this.setState(e, 'connected');
    }
  }

  /** A bus error or warning from an element: true when it belongs to an output (and was handled). */
  onError(outputId: string | undefined, text: string): boolean {
    if (outputId === FLV_MUX_ID) {
      // The shared mux failed: every destination behind it drops (and is retried with a fresh mux).
      for (const e of this.entries.values()) if (e.status.kind === 'rtmp' && e.out.attached) this.fail(e, `shared FLV mux: ${text}`);
      this.releaseFlvIfUnused();
      return true;
    }
    const e = outputId ? this.entries.get(outputId) : undefined;
    if (!e) return false;
    if (e.out.attached) this.fail(e, text);
    return true;
  }

  private fail(e: Entry, text: string): void {
    e.bytesBefore += e.out.bytesSent();
    e.out.detach();
    this.releaseFlvIfUnused();
    e.connectedAt = null;
    e.failures++;
    e.status.lastError = redactText(text);
    e.status.bytesSent = e.bytesBefore;
    const { maxRetries } = this.opts;
    if (maxRetries > 0 && e.failures >= maxRetries) {
      this.setState(e, 'failed');
      this.opts.log('error', 'output-failed', `output ${e.status.id} (${e.status.target}) failed after ${e.status.attempts} attempt(s): ${e.status.lastError}`);
      return;
    }
    e.retryAtMs = this.now() + retryDelayMs(e.failures);
    e.status.retryAt = new Date(e.retryAtMs).toISOString();
    this.setState(e, 'retrying');
    // Stable text (no attempt number or time): repeated drops are one warning in the recording's list.
    this.opts.log('warning', 'output-retrying', `output ${e.status.id} (${e.status.target}) dropped (${e.status.lastError}); retrying with backoff`);
  }

  private setState(e: Entry, state: OutputStatus['state']): void {
    if (e.status.state === state) return;
    e.status.state = state;
    e.status.since = new Date(this.now()).toISOString();
    this.changed();
  }

  private ensureTimer(): void {
    if (this.timer || this.entries.size === 0) return;
    this.timer = setInterval(() => this.tick(), 1000);
  }

  /** Once a second: retries that are due, connected/stalled from the sink's byte counter. */
  tick(): void {
    const t = this.now();
    for (const e of this.entries.values()) {
      if (e.status.state === 'retrying' && e.retryAtMs !== null && t >= e.retryAtMs) {
        this.tryAttach(e);
        continue;
      }
      if (!e.out.attached) continue;
      if (e.status.kind === 'hls') {
        if (t - e.lastBytesAt > e.stallMs) this.fail(e, `no HLS segment closed for ${t - e.lastBytesAt} ms`);
        else if (e.connectedAt !== null && t - e.connectedAt > HEALTHY_AFTER_MS) e.failures = 0;
        continue;
      }
      const bytes = e.out.bytesSent();
      e.status.bytesSent = e.bytesBefore + bytes;
      if (bytes > e.lastBytes) {
        e.lastBytes = bytes;
        e.lastBytesAt = t;
        if (e.status.state === 'connecting') {
          e.connectedAt = t;
          this.setState(e, 'connected');
        }
      } else if (t - e.lastBytesAt > e.stallMs) {
        this.fail(e, e.status.state === 'connected' ? `no data sent for ${t - e.lastBytesAt} ms` : `not connected within ${t - e.lastBytesAt} ms`);
        continue;
      }
      if (e.connectedAt !== null && t - e.connectedAt > HEALTHY_AFTER_MS) e.failures = 0;
    }
  }

  statuses(): OutputStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status, bytesSent: e.bytesBefore + e.out.bytesSent() }));
  }

  private endOutput(out: OutputBin): void {
    out.end();
    this.ended = [...this.ended.filter((o) => o.isEnding), out];
  }

  /** Before the pipeline goes to NULL: every ended RTMP bin goes to NULL too. */
  closeEnded(): void {
    for (const out of this.ended) out.closeEnded();
    this.ended = [];
  }

  /** Stop: RTMP outputs end (EOS into each, outside the pipeline: see OutputBin.end); HLS stays so EOS closes its last segment. */
  detachLive(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const [id, e] of this.entries) {
      if (e.status.kind !== 'rtmp') continue;
      this.endOutput(e.out);
      this.entries.delete(id);
    }
    this.releaseFlvIfUnused();
  }

  private changed(): void {
    this.opts.onChange(this.statuses());
  }
}
