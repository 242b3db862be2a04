// The mock SFU: sends N hosts of pre-encoded VP8/H.264 + Opus as RTP, paced in real time, the way
// an SFU forwards browser media to Tapedeck's ingest. Library API for tests and the demo; the CLI
// is main.ts.
//
// Timeline: media time m of every host is "captured" at wall time t0 + m; video packets leave at
// that time, audio packets at t0 + m + audioLagMs (a deliberately skewed sender). RTP timestamps
// come from m (the clip loops and m keeps growing), and RTCP sender reports map RTP time to the
// capture wall clock, so a receiver can compute lip sync from them. Fault injection (loss,
// reordering, duplicates) uses a seeded RNG and is counted, so tests can compare what the receiver
// saw with what was done.

import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { RTP_CLOCK } from '../../pipelines/config';
import { buildBye, buildRtp, buildSenderReport, unixMsToNtp } from '../../pipelines/ingest/rtp';
import type { VideoFrame } from './containers';
import { DEFAULT_CACHE_DIR, hostColour, loadAudioClip, loadVideoClip, prepareClips, type AudioClip, type ClipSpec, type MockVideoCodec, type VideoClip } from './media';
import { H264Packetizer, OpusPacketizer, Vp8Packetizer, type Packetizer } from './packetizers';

export type RtcpMode = 'mux' | 'next-port' | 'none';
export type Medium = 'video' | 'audio';

export interface MockHostSpec {
  hostId: string;
  displayName?: string;
  /** Where this host's media goes (the ingest endpoints, or a pipeline's udpsrc directly). */
  address: string;
  video: { port: number; payloadType?: number; codec?: MockVideoCodec };
  audio: { port: number; payloadType?: number };
  camera?: boolean;
  microphone?: boolean;
  /** `#rrggbb` of the picture; default: a distinct colour per position in `hosts`. Senders made
   * one per host (hosts joining later) pass it so their colours stay distinct. */
  colour?: string;
  /** A deliberately bad host (what a moderation scorer must catch): the picture freezes on one
   * frame (the clip's first keyframe, sent again at every frame time), the microphone sends
   * digital silence. Both can be changed while sending (`freeze`, `silence`). */
  frozen?: boolean;
  silent?: boolean;
}

export interface FaultOptions {
  /** Probabilities per RTP packet. */
  loss?: number;
  reorder?: number;
  duplicate?: number;
  seed?: number;
}

export interface MockSfuOptions {
  hosts: MockHostSpec[];
  width?: number;
  height?: number;
  fps?: number;
  /** Length of the looped clips. */
  clipSeconds?: number;
  mtu?: number;
  rtcp?: RtcpMode;
  rtcpIntervalMs?: number;
  /** Audio leaves this much later than the video captured with it (negative: earlier). */
  audioLagMs?: number;
  /**
   * The audio's first packets leave this much late, together, and the rest on time: what a
   * receiver sees when it (or the sender) was busy as the stream started.
   */
  audioStartLateMs?: number;
  h264Mode?: 0 | 1;
  faults?: FaultOptions;
  cacheDir?: string;
  videoKbps?: number;
}

export interface StreamStats {
  ssrc: number;
  packets: number;
  bytes: number;
  frames: number;
  /** Fault injection, as done: dropped packets, the part of them a receiver can see as gaps, held-back (reordered) packets, extra copies. */
  dropped: number;
  visibleLoss: number;
  reordered: number;
  duplicated: number;
  ssrcChanges: number;
  senderReports: number;
  /** Packets a mode-0 H.264 sender could not send (NAL units over the MTU). */
  skipped: number;
}

/** Mulberry32: small, fast, seedable; the same seed gives the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const wallClock = (): number => performance.timeOrigin + performance.now();

interface Unit {
  /** Media time within the clip, seconds. */
  pts: number;
  keyframe: boolean;
  frame: VideoFrame | Buffer;
  /** RTP ticks from the clip start. */
  ticks: number;
}

class Stream {
  ssrc = randomInt(1, 0xffffffff);
  sequence = randomInt(0, 0x10000);
  tsBase = randomInt(0, 0x100000000);
  index = 0;
  enabled = true;
  waitKeyframe = false;
  /** Units sent instead of `units` while set (same timing): the frozen picture, or silence. */
  substitute: Unit[] | undefined;
  substituteOn = false;
  held: Buffer | undefined;
  droppedSinceSend = 0;
  sentInSession = false;
  nextSrAt = 0;
  readonly stats: StreamStats;

  constructor(
    readonly host: HostState,
    readonly medium: Medium,
    readonly payloadType: number,
    readonly port: number,
    readonly clockRate: number,
    readonly units: Unit[],
    readonly loopTicks: number,
    readonly lagMs: number,
    readonly packetizer: Packetizer,
  ) {
    this.stats = { ssrc: this.ssrc, packets: 0, bytes: 0, frames: 0, dropped: 0, visibleLoss: 0, reordered: 0, duplicated: 0, ssrcChanges: 0, senderReports: 0, skipped: 0 };
  }

  /** Wall time at which unit `index` (counting across loops) is due. */
  dueAt(t0: number, loopSeconds: number): number {
    const loop = Math.floor(this.index / this.units.length);
    const unit = this.units[this.index % this.units.length]!;
    return t0 + (loop * loopSeconds + unit.pts) * 1000 + this.lagMs;
  }

  rtpTimestamp(index: number): number {
    const loop = Math.floor(index / this.units.length);
    const unit = this.units[index % this.units.length]!;
    return (this.tsBase + loop * this.loopTicks + unit.ticks) >>> 0;
  }

  /** RTP time of the capture wall clock `wallMs` (for sender reports). */
  rtpAtWall(t0: number, wallMs: number): number {
    return (this.tsBase + Math.round(((wallMs - t0) * this.clockRate) / 1000)) >>> 0;
  }

  newSource(): void {
    this.stats.visibleLoss -= this.droppedSinceSend; // trailing drops of the old source are invisible
    this.droppedSinceSend = 0;
    this.sentInSession = false;
    this.ssrc = randomInt(1, 0xffffffff);
    this.sequence = randomInt(0, 0x10000);
    this.tsBase = randomInt(0, 0x100000000);
    this.stats.ssrc = this.ssrc;
    this.stats.ssrcChanges++;
    this.nextSrAt = 0;
  }
}

interface HostState {
  spec: MockHostSpec;
  cname: string;
  video: Stream;
  audio: Stream;
}

export class MockSfu {
  private readonly socket: Socket;
  private readonly hosts = new Map<string, HostState>();
  private readonly random: () => number;
  private readonly faults: Required<Omit<FaultOptions, 'seed'>>;
  private readonly rtcpMode: RtcpMode;
  private readonly rtcpIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private running = false;
  private closed = false;
  private sendErrors = 0;

  private constructor(
    private readonly options: MockSfuOptions,
    private readonly loopSeconds: number,
    built: Array<{ spec: MockHostSpec; video: VideoClip; audio: AudioClip; silence: AudioClip }>,
  ) {
    this.random = seededRandom(options.faults?.seed ?? 1);
    this.faults = { loss: options.faults?.loss ?? 0, reorder: options.faults?.reorder ?? 0, duplicate: options.faults?.duplicate ?? 0 };
    this.rtcpMode = options.rtcp ?? 'next-port';
    this.rtcpIntervalMs = options.rtcpIntervalMs ?? 1000;
    this.socket = createSocket('udp4');
    this.socket.on('error', () => this.sendErrors++);
    for (const { spec, video, audio, silence } of built) this.addHost(spec, video, audio, silence);
  }

  /** Encodes (or finds cached) the clips of every host, then returns a sender ready to start. */
  static async create(options: MockSfuOptions): Promise<MockSfu> {
    const seconds = options.clipSeconds ?? 10;
    const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
    const specs = options.hosts.map((h, i) => clipSpec(options, h, i, seconds));
    await prepareClips(specs, seconds, cacheDir);
    const audio = await loadAudioClip(seconds, cacheDir);
    const silence = await loadAudioClip(seconds, cacheDir, true);
    const built = [];
    for (const [i, spec] of options.hosts.entries()) built.push({ spec, video: await loadVideoClip(specs[i]!, cacheDir), audio, silence });
    const sfu = new MockSfu(options, seconds, built);
    await new Promise<void>((resolve) => sfu.socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
    try {
      sfu.socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // capped by the kernel; fine at these rates
    }
    return sfu;
  }

  private addHost(spec: MockHostSpec, video: VideoClip, audio: AudioClip, silence: AudioClip): void {
    const codec = spec.video.codec ?? 'VP8';
    const mtu = this.options.mtu ?? 1200;
    const lag = this.options.audioLagMs ?? 0;
    const videoUnits: Unit[] = video.frames.map((f) => ({ pts: f.pts, keyframe: f.keyframe, frame: f, ticks: Math.round(f.pts * RTP_CLOCK.video) }));
    const audioUnits = opusUnits(audio);
    const host: HostState = { spec, cname: `mock-sfu/${spec.hostId}`, video: undefined as unknown as Stream, audio: undefined as unknown as Stream };
    const packetizer = codec === 'VP8' ? new Vp8Packetizer(mtu) : new H264Packetizer({ mtu, mode: this.options.h264Mode ?? 1 });
    host.video = new Stream(host, 'video', spec.video.payloadType ?? (codec === 'VP8' ? 96 : 102), spec.video.port, RTP_CLOCK.video, videoUnits, this.loopSeconds * RTP_CLOCK.video, 0, packetizer);
    host.audio = new Stream(host, 'audio', spec.audio.payloadType ?? 111, spec.audio.port, RTP_CLOCK.audio, audioUnits, this.loopSeconds * RTP_CLOCK.audio, lag, new OpusPacketizer());
    // the frozen picture: the first keyframe at every frame time; silence: packet for packet the same timing
    host.video.substitute = videoUnits.map((u) => ({ ...u, keyframe: true, frame: videoUnits[0]!.frame }));
    host.video.substituteOn = spec.frozen ?? false;
    const silent = opusUnits(silence);
    if (silent.length !== audioUnits.length) throw new Error('mock-sfu: the silent clip does not match the audio clip packet for packet');
    host.audio.substitute = silent;
    host.audio.substituteOn = spec.silent ?? false;
    host.video.enabled = spec.camera ?? true;
    host.audio.enabled = spec.microphone ?? true;
    this.hosts.set(spec.hostId, host);
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // media time 0 a little ahead: the first Opus packet is due pre-skip (6.5 ms) before it, and a
    // first packet sent late shifts the receiver's arrival-time mapping of that stream until its
    // jitter buffer has corrected it (audioStartLateMs does that on purpose)
    this.t0 = wallClock() + 20;
    for (const h of this.hosts.values()) {
      for (const s of [h.video, h.audio]) s.nextSrAt = this.t0 + Math.random() * this.rtcpIntervalMs * 0.2;
    }
    this.tick();
  }

  /** Stops sending; held-back packets are flushed and a BYE is sent per stream. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      this.running = false;
      for (const h of this.hosts.values()) {
        for (const s of [h.video, h.audio]) {
          this.flushHeld(s);
          if (this.rtcpMode !== 'none') this.sendRtcp(s, buildBye(s.ssrc));
        }
      }
    }
    if (this.closed) return;
    this.closed = true;
    await this.drain(1000);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Camera off stops video at once; on resumes at the next keyframe (as after a PLI). */
  camera(hostId: string, on: boolean): void {
    const s = this.host(hostId).video;
    if (!on) this.flushHeld(s);
    s.enabled = on;
    s.waitKeyframe = on;
  }

  microphone(hostId: string, on: boolean): void {
    const s = this.host(hostId).audio;
    if (!on) this.flushHeld(s);
    s.enabled = on;
  }

  /** Freezes the picture on one frame (on) or resumes the moving clip at its next keyframe (off). */
  freeze(hostId: string, on: boolean): void {
    const s = this.host(hostId).video;
    if (!on && s.substituteOn) s.waitKeyframe = true;
    s.substituteOn = on;
  }

  /** Sends digital silence instead of the beep (on), or the beep again (off); the stream stays live. */
  silence(hostId: string, on: boolean): void {
    this.host(hostId).audio.substituteOn = on;
  }

  /** The sender restarts a stream with a new SSRC, sequence and timestamp base (e.g. a camera switch). */
  changeSsrc(hostId: string, medium: Medium): number {
    const s = this.host(hostId)[medium];
    this.flushHeld(s);
    s.newSource();
    return s.ssrc;
  }

  /** Sends `count` packets with a payload type nobody declared (another SSRC, like RTX or FEC would). */
  sendUndeclaredPayloadType(hostId: string, medium: Medium, payloadType: number, count = 3): void {
    const s = this.host(hostId)[medium];
    const ssrc = randomInt(1, 0xffffffff);
    for (let i = 0; i < count; i++) this.send(s.port, s.host.spec.address, buildRtp({ payloadType, sequence: i, timestamp: i * 3000, ssrc }, Buffer.alloc(40, 0xab)));
  }

  /** Sends broken datagrams of several kinds to a stream's RTP port; returns how many. */
  sendMalformed(hostId: string, medium: Medium): number {
    const s = this.host(hostId)[medium];
    const good = buildRtp({ payloadType: s.payloadType, sequence: 0, timestamp: 0, ssrc: 1 }, Buffer.alloc(20, 1));
    const version1 = Buffer.from(good);
    version1[0] = 0x40;
    const csrcOverrun = Buffer.from(good);
    csrcOverrun[0] = 0x8f;
    const badPadding = Buffer.from(good);
    badPadding[0] = 0xa0;
    badPadding[badPadding.length - 1] = 250;
    const rtcpBadLength = buildBye(s.ssrc);
    rtcpBadLength.writeUInt16BE(9, 2);
    const kinds = [good.subarray(0, 7), version1, csrcOverrun, badPadding, rtcpBadLength];
    for (const k of kinds) this.send(s.port, s.host.spec.address, k);
    return kinds.length;
  }

  stats(): Record<string, { video: StreamStats; audio: StreamStats }> {
    const out: Record<string, { video: StreamStats; audio: StreamStats }> = {};
    for (const [id, h] of this.hosts) {
      const v = { ...h.video.stats, skipped: h.video.packetizer.skipped };
      out[id] = { video: finalStats(h.video, v), audio: finalStats(h.audio, { ...h.audio.stats }) };
    }
    return out;
  }

  get errors(): number {
    return this.sendErrors;
  }

  private host(hostId: string): HostState {
    const h = this.hosts.get(hostId);
    if (!h) throw new Error(`mock-sfu has no host ${hostId}`);
    return h;
  }

  private tick = (): void => {
    if (!this.running) return;
    const now = wallClock();
    let next = now + 20;
    for (const h of this.hosts.values()) {
      for (const s of [h.video, h.audio]) {
        let due = s.dueAt(this.t0, this.loopSeconds);
        const holdUntil = s.medium === 'audio' ? this.t0 + (this.options.audioStartLateMs ?? 0) : 0;
        if (now < holdUntil) {
          next = Math.min(next, holdUntil);
          continue;
        }
        while (due <= now) {
          this.sendUnit(s);
          s.index++;
          due = s.dueAt(this.t0, this.loopSeconds);
        }
        if (due < next) next = due;
        if (this.rtcpMode !== 'none' && now >= s.nextSrAt) {
          this.sendSenderReport(s, now);
          s.nextSrAt = now + this.rtcpIntervalMs * (0.9 + 0.2 * Math.random());
        }
      }
    }
    this.timer = setTimeout(this.tick, Math.max(1, next - wallClock()));
  };

  private sendUnit(s: Stream): void {
    const unit = (s.substituteOn && s.substitute ? s.substitute : s.units)[s.index % s.units.length]!;
    if (!s.enabled) return;
    if (s.waitKeyframe) {
      if (!unit.keyframe) return;
      s.waitKeyframe = false;
    }
    const timestamp = s.rtpTimestamp(s.index);
    const payloads = s.packetizer.packetize(unit.frame);
    s.stats.frames++;
    for (const p of payloads) {
      const packet = buildRtp({ payloadType: s.payloadType, sequence: s.sequence, timestamp, ssrc: s.ssrc, marker: p.marker }, p.data);
      s.sequence = (s.sequence + 1) & 0xffff;
      this.sendMedia(s, packet);
    }
  }

  /** Applies loss, reordering (hold one packet back until the next one is sent) and duplication. */
  private sendMedia(s: Stream, packet: Buffer): void {
    s.stats.packets++;
    s.stats.bytes += packet.length;
    const f = this.faults;
    if (f.loss > 0 && this.random() < f.loss) {
      s.stats.dropped++;
      // drops before the first packet of a source cannot be seen as a gap
      if (s.sentInSession) {
        s.stats.visibleLoss++;
        s.droppedSinceSend++;
      }
      return;
    }
    if (f.reorder > 0 && !s.held && this.random() < f.reorder) {
      s.held = packet;
      return;
    }
    this.sendCopies(s, packet);
    if (s.held) {
      const held = s.held;
      s.held = undefined;
      s.stats.reordered++;
      this.sendCopies(s, held);
    }
  }

  private sendCopies(s: Stream, packet: Buffer): void {
    s.sentInSession = true;
    s.droppedSinceSend = 0;
    this.send(s.port, s.host.spec.address, packet);
    if (this.faults.duplicate > 0 && this.random() < this.faults.duplicate) {
      s.stats.duplicated++;
      this.send(s.port, s.host.spec.address, packet);
    }
  }

  private flushHeld(s: Stream): void {
    if (!s.held) return;
    const held = s.held;
    s.held = undefined;
    this.sendCopies(s, held); // nothing was sent after it: in order, not reordered
  }

  private sendSenderReport(s: Stream, now: number): void {
    const ntp = unixMsToNtp(now);
    const sr = buildSenderReport(
      { ssrc: s.ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: s.rtpAtWall(this.t0, now), packetCount: s.stats.packets, octetCount: s.stats.bytes },
      s.host.cname,
    );
    s.stats.senderReports++;
    this.sendRtcp(s, sr);
  }

  private sendRtcp(s: Stream, packet: Buffer): void {
    this.send(this.rtcpMode === 'mux' ? s.port : s.port + 1, s.host.spec.address, packet);
  }

  private inFlight = 0;
  private onDrained: (() => void) | undefined;

  private send(port: number, address: string, packet: Buffer): void {
    this.inFlight++;
    this.socket.send(packet, port, address, (err) => {
      if (err) this.sendErrors++;
      this.inFlight--;
      if (this.inFlight === 0) this.onDrained?.();
    });
  }

  /** Closing the socket cancels sends libuv has not written yet: wait for them (bounded). */
  private drain(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function opusUnits(audio: AudioClip): Unit[] {
  let samples = -audio.preSkip; // media time 0 is pre-skip samples into the decoded stream
  return audio.packets.map((p) => {
    const unit = { pts: samples / 48_000, keyframe: true, frame: p.data, ticks: samples };
    samples += p.samples;
    return unit;
  });
}

function finalStats(s: Stream, stats: StreamStats): StreamStats {
  // drops after the last packet that went out are invisible to a receiver until more arrive
  return { ...stats, visibleLoss: stats.visibleLoss - s.droppedSinceSend };
}

function clipSpec(options: MockSfuOptions, host: MockHostSpec, index: number, seconds: number): ClipSpec {
  const codec = host.video.codec ?? 'VP8';
  const spec: ClipSpec = {
    codec,
    label: host.displayName ?? host.hostId,
    colour: host.colour ?? hostColour(index),
    width: options.width ?? 640,
    height: options.height ?? 480,
    fps: options.fps ?? 30,
    seconds,
  };
  if (codec === 'H264') spec.h264Mode = options.h264Mode ?? 1;
  if (options.videoKbps !== undefined) spec.videoKbps = options.videoKbps;
  return spec;
}
