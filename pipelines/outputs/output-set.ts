// The live outputs of a running composite, inside the pipeline host: one object per output behind
// a small interface (attach, detach, end, bytes sent), a desired set that replaces the running
// one, and the retry loop. HLS is a bin attached to the encoders' tees; its elements' errors
// (found by their ancestry on the bus) detach it and schedule a new attempt. The RTMP destinations
// share one FLV mux (its own bin, `out-flv`, writing into a pipe) started with the first attached
// destination and stopped with the last; each destination is an RTMP connection on the event loop
// fed from that pipe (FlvFeed, RtmpPublisher), and its failures reach the set the same way. An
// error of the mux drops the destinations behind it. A destination removed, or left at the stop,
// is ended (FCUnpublish and deleteStream) rather than cut.
import { addGhostPad, instantiate, linkFromTee, newBin, releaseTeePad, setState, State, type GstObject, type TeeLink } from '../gst/gst';
import { FlvFeed } from './flv-feed';
import {
  buildFlvMux,
  buildHlsOutput,
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
import { RtmpPublisher } from './rtmp-publisher';

/** A destination connected this long without an error counts as healthy again (the backoff restarts). */
const HEALTHY_AFTER_MS = 10_000;
/** A connected RTMP destination whose byte count has not moved for this long is treated as dropped. */
const STALL_MS = 10_000;

/** What outputs are fed from: the encoders' tees, and the shared FLV mux's feed (started on first use). */
export interface OutputTees {
  video: GstObject;
  audio: GstObject;
  flv: () => FlvFeed;
}

/** How long an ended RTMP destination may take to send its last commands before it is closed (see RtmpDestination.end). */
export const RTMP_END_MS = 2000;

/** An output as the set drives it: attached while it runs, detached on error or removal. */
export interface LiveOutput {
  readonly id: string;
  readonly attached: boolean;
  attach(tees: OutputTees): void;
  /** Stops at once. */
  detach(): void;
  /** Stops as the protocol asks (RTMP: the stream is ended); may take RTMP_END_MS. */
  end(): void;
  readonly isEnding: boolean;
  /** Finishes an end() at once (the pipeline is going down). */
  closeEnded(): void;
  bytesSent(): number;
}

/** One output bin (HLS, and the shared FLV mux): built from its spec, attached to the encoders' tees. */
export class OutputBin implements LiveOutput {
  private bin: GstObject | null = null;
  private teeLinks: TeeLink[] = [];

  constructor(
    readonly spec: OutputBinSpec,
    private readonly pipeline: GstObject,
  ) {}

  get id(): string {
    return this.spec.id;
  }

  get attached(): boolean {
    return this.bin !== null;
  }

  attach(tees: Pick<OutputTees, 'video' | 'audio'>): void {
    if (this.bin) return;
    const bin = newBin(outputNames(this.spec.id).bin);
    const { elements } = instantiate(bin, this.spec, () => undefined);
    const ghosts = (Object.entries(this.spec.inputs) as Array<[OutputInput, string]>).map(
      ([input, element]) => [input, addGhostPad(bin, input, elements.get(element).getStaticPad('sink'))] as const,
    );
    this.pipeline.add(bin);
    // The bin plays before the tee feeds it: a tee pushing into an inactive pad gets FLUSHING back.
    bin.syncStateWithParent();
    this.bin = bin;
    try {
      for (const [input, pad] of ghosts) this.teeLinks.push(linkFromTee(tees[input], pad));
    } catch (err) {
      this.detach();
      throw err;
    }
  }

  /**
   * Unlinks from the tees, then stops and drops the bin. No blocking probe: the bin's first
   * element after the tee is errorignore and then a leaky queue, so a push in progress returns at
   * once and releasing the tee pad (which waits for it) cannot wait on a stuck branch.
   */
  detach(): void {
    for (const l of this.teeLinks) releaseTeePad(l);
    this.teeLinks = [];
    const bin = this.bin;
    this.bin = null;
    if (!bin) return;
    bin.setLockedState(true);
    setState(bin, State.NULL);
    this.pipeline.remove(bin);
  }

  /** A bin has nothing to end: the pipeline's EOS reaches an HLS bin that stays attached. */
  end(): void {
    this.detach();
  }

  get isEnding(): boolean {
    return false;
  }

  closeEnded(): void {}

  /** Bins count no bytes (HLS progress is a closed segment). */
  bytesSent(): number {
    return 0;
  }
}

/**
 * One RTMP destination: a publisher on the event loop, fed the shared mux's tags while attached.
 * Its failure (refused, dropped, a certificate not accepted, no answer) comes back through
 * `onError` like a bus error of a bin.
 */
export class RtmpDestination implements LiveOutput {
  private publisher: RtmpPublisher | null = null;
  private unsubscribe: () => void = () => undefined;
  private ending: { publisher: RtmpPublisher; timer: NodeJS.Timeout } | null = null;

  constructor(
    readonly id: string,
    private readonly url: string,
    private readonly opts: { allowUnknownCa: boolean; onError: (id: string, text: string) => void; requestKeyframe?: () => void },
  ) {}

  get attached(): boolean {
    return this.publisher !== null;
  }

  attach(tees: OutputTees): void {
    if (this.publisher) return;
    const feed = tees.flv();
    const publisher: RtmpPublisher = new RtmpPublisher({
      url: this.url,
      allowUnknownCa: this.opts.allowUnknownCa,
      // A destination starts at a keyframe: ask for one rather than wait up to a GOP.
      onPublishing: () => this.opts.requestKeyframe?.(),
      onError: (text) => {
        if (this.publisher === publisher) this.opts.onError(this.id, text);
      },
    });
    this.publisher = publisher;
    this.unsubscribe = feed.subscribe((tags, headers) => publisher.accept(tags, headers));
    publisher.start();
  }

  private take(): RtmpPublisher | null {
    this.unsubscribe();
    this.unsubscribe = () => undefined;
    const p = this.publisher;
    this.publisher = null;
    return p;
  }

  detach(): void {
    this.take()?.destroy();
  }

  /** FCUnpublish and deleteStream, then the connection closes; cut RTMP_END_MS later if it has not. */
  end(): void {
    const publisher = this.take();
    if (!publisher) return;
    publisher.end();
    this.ending = { publisher, timer: setTimeout(() => this.closeEnded(), RTMP_END_MS) };
  }

  get isEnding(): boolean {
    return this.ending !== null;
  }

  closeEnded(): void {
    const ending = this.ending;
    this.ending = null;
    if (!ending) return;
    clearTimeout(ending.timer);
    ending.publisher.destroy();
  }

  bytesSent(): number {
    return this.publisher?.bytesSent() ?? 0;
  }
}

interface Entry {
  out: LiveOutput;
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
  /** HLS: a fresh bin per attempt (new segment names: the restarted hlssink2 numbers from 0). */
  rebuild?: (attempt: number) => LiveOutput;
}

export interface OutputSetOptions {
  pipeline: GstObject;
  videoTee: GstObject;
  audioTee: GstObject;
  /** Consecutive failed attempts after which a destination is `failed` (0: retry for ever). */
  maxRetries: number;
  /** `rtmps://` destinations accept a certificate from an unknown CA (its name and dates still count). */
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
  /** The FLV mux the RTMP destinations share and its feed: present while at least one of them is attached. */
  private flv: { mux: OutputBin; feed: FlvFeed } | null = null;
  /** RTMP destinations ended and still closing (RtmpDestination.end). */
  private ended: LiveOutput[] = [];

  constructor(private readonly opts: OutputSetOptions) {
    this.now = opts.now ?? Date.now;
  }

  private tees(): OutputTees {
    return { video: this.opts.videoTee, audio: this.opts.audioTee, flv: () => this.flvFeed() };
  }

  /** The shared mux's feed; the mux is started (fed from the encoders' tees) on first use. */
  private flvFeed(): FlvFeed {
    if (!this.flv) {
      const feed = FlvFeed.open((text) => this.onError(FLV_MUX_ID, text));
      const mux = new OutputBin(buildFlvMux(feed.writeFd), this.opts.pipeline);
      try {
        mux.attach(this.tees());
      } catch (err) {
        feed.close();
        throw err;
      }
      this.flv = { mux, feed };
    }
    return this.flv.feed;
  }

  /** The shared mux goes with the last attached RTMP destination (a retry starts a fresh one). */
  private releaseFlvIfUnused(): void {
    if (!this.flv) return;
    for (const e of this.entries.values()) if (e.status.kind === 'rtmp' && e.out.attached) return;
    // The mux stops writing first (NULL), then the pipe closes.
    this.flv.mux.detach();
    this.flv.feed.close();
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
    for (const [id, url] of wanted) {
      if (this.entries.has(id)) continue;
      const out = new RtmpDestination(id, url, {
        allowUnknownCa: this.opts.rtmpsAllowUnknownCa ?? false,
        onError: (outputId, text) => this.onError(outputId, text),
        requestKeyframe: this.opts.requestKeyframe,
      });
      this.add(out, 'rtmp', redactRtmpUrl(url));
    }
    this.ensureTimer();
    this.changed();
  }

  startHls(settings: HlsSettings): void {
    if (this.entries.has(HLS_OUTPUT_ID)) return;
    const bin = (attempt: number) =>
      new OutputBin(buildHlsOutput({ ...settings, segmentPrefix: attempt > 1 ? `${settings.segmentPrefix}r${attempt}` : settings.segmentPrefix }), this.opts.pipeline);
    // A first segment takes up to a segment length plus a GOP; three lengths without one is a stall.
    this.add(bin(1), 'hls', `${settings.dir}/${HLS_PLAYLIST}`, { stallMs: 3 * settings.segmentSeconds * 1000 + 5000, rebuild: bin });
    this.ensureTimer();
    this.changed();
  }

  private add(out: LiveOutput, kind: OutputKind, target: string, opts: Pick<Entry, 'stallMs' | 'rebuild'> = { stallMs: STALL_MS }): void {
    const t = this.now();
    const entry: Entry = {
      out,
      status: { id: out.id, kind, target, state: 'connecting', attempts: 0, bytesSent: 0, since: new Date(t).toISOString() },
      failures: 0,
      bytesBefore: 0,
      lastBytes: 0,
      lastBytesAt: t,
      connectedAt: null,
      retryAtMs: null,
      ...opts,
    };
    this.entries.set(out.id, entry);
    this.tryAttach(entry);
  }

  private tryAttach(e: Entry): void {
    e.status.attempts++;
    e.retryAtMs = null;
    delete e.status.retryAt;
    if (e.rebuild && e.status.attempts > 1) e.out = e.rebuild(e.status.attempts);
    this.setState(e, 'connecting');
    e.lastBytes = 0;
    e.lastBytesAt = this.now();
    try {
      e.out.attach(this.tees());
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

  /** An output's error (a bus error of its bin, or an RTMP destination's): true when it belongs to an output (and was handled). */
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

  private endOutput(out: LiveOutput): void {
    out.end();
    this.ended = [...this.ended.filter((o) => o.isEnding), out];
  }

  /** Before the pipeline goes to NULL: every ended RTMP destination closes now. */
  closeEnded(): void {
    for (const out of this.ended) out.closeEnded();
    this.ended = [];
  }

  /** Stop: RTMP outputs end (RtmpDestination.end); HLS stays so EOS closes its last segment. */
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
