// One host's RTP ingest: a video and an audio UDP endpoint (RTP on an even port; RTCP on the next
// port or multiplexed on the RTP port), validated, counted and fanned out to every pipeline that
// subscribed (the composite and that host's individual recording), so the SFU sends each host once.
// RTCP sender reports stay here and become lip sync estimates (`sync` events); the pipelines
// receive RTP only (pipelines/protocol.ts InputPorts).
//
//   SFU ──RTP──▶ :p   ─┬─ parse/validate ─ payload type declared? ─ sequence accounting ─┬─▶ composite udpsrc
//       ──RTCP─▶ :p+1 ─┘        (RTCP muxed on :p by packet type, RFC 5761)            └─▶ individual udpsrc
//
// Plain Node dgram, no GStreamer: a packet costs a parse of its 12-byte header and one sendto per
// subscriber.

import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../apps/common/logger';
import { RTP_CLOCK, type AudioCodec, type VideoCodec } from '../config';
import type { HostCommand } from '../protocol';
import { LipSyncEstimator, mappingFromSr, type LipSyncOptions, type Medium } from './lipsync';
import type { PortAllocator } from './ports';
import { isRtcp, parseRtcp, parseRtp } from './rtp';
import { SequenceTracker } from './sequence';

export type { Medium } from './lipsync';

export interface HostIngestOptions {
  livestreamId: string;
  hostId: string;
  /** Address the endpoints bind to and that the SFU is told to send to. */
  address: string;
  allocator: PortAllocator;
  video?: { codec: VideoCodec; payloadType: number };
  audio?: { codec: AudioCodec; payloadType: number };
  logger?: Logger;
  /** Local wall clock in ms with sub-ms resolution; injectable for tests. */
  now?: () => number;
  lipSync?: LipSyncOptions;
  /** Exact RTP ports to bind (after a worker restart the SFU keeps sending to the old ones). */
  ports?: { video?: number; audio?: number };
}

export interface MediaEndpoint {
  port: number;
  rtcpPort: number;
  payloadType: number;
  codec: string;
}

export interface HostEndpoints {
  address: string;
  video: MediaEndpoint;
  audio: MediaEndpoint;
}

export interface MediaCounters {
  /** Valid RTP packets of the declared payload type (duplicates included). */
  packets: number;
  /** Bytes of those packets (whole datagrams). */
  bytes: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** RTP or RTCP datagrams that failed validation. */
  malformed: number;
  undeclaredPayloadType: number;
  ssrcChanges: number;
  rtcpPackets: number;
  senderReports: number;
  /** Packet copies sent to subscribers, and sends that failed. */
  forwarded: number;
  forwardErrors: number;
  ssrc: number | null;
  /** Local wall-clock time (ms since the epoch) of the last valid RTP packet. */
  lastPacketAt: number | null;
}

export interface HostIngestStats {
  livestreamId: string;
  hostId: string;
  video: MediaCounters;
  audio: MediaCounters;
  audioDelayMs: number | null;
  subscribers: string[];
}

interface EventBase {
  livestreamId: string;
  hostId: string;
}

export type IngestEvent =
  | (EventBase & { type: 'undeclared-payload-type'; medium: Medium; payloadType: number; declared: number })
  | (EventBase & { type: 'ssrc-change'; medium: Medium; from: number; to: number; count: number })
  | (EventBase & { type: 'malformed'; medium: Medium; reason: string })
  | (EventBase & { type: 'bye'; medium: Medium; ssrc: number; reason?: string })
  /** Lip sync estimate changed: send the pipelines `set-sync {hostId, audioDelayMs}`. */
  | (EventBase & { type: 'sync'; audioDelayMs: number });

/** Where a subscriber (a pipeline's udpsrc) wants this host's packets. */
export interface Subscription {
  address?: string;
  video?: { rtpPort: number };
  audio?: { rtpPort: number };
}

const wallClock = (): number => performance.timeOrigin + performance.now();

function emptyCounters(): MediaCounters {
  return {
    packets: 0,
    bytes: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    malformed: 0,
    undeclaredPayloadType: 0,
    ssrcChanges: 0,
    rtcpPackets: 0,
    senderReports: 0,
    forwarded: 0,
    forwardErrors: 0,
    ssrc: null,
    lastPacketAt: null,
  };
}

class Endpoint {
  readonly counters = emptyCounters();
  readonly sequence = new SequenceTracker();
  readonly reportedPayloadTypes = new Set<number>();
  readonly reportedMalformed = new Set<string>();
  targets: Array<{ address: string; port: number }> = [];

  constructor(
    readonly medium: Medium,
    readonly codec: string,
    readonly payloadType: number,
    readonly port: number,
    readonly rtp: Socket,
    readonly rtcp: Socket,
  ) {}
}

export class HostIngest extends EventEmitter<{ event: [IngestEvent] }> {
  private readonly endpoints: Record<Medium, Endpoint>;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly lipSync: LipSyncEstimator;
  private readonly now: () => number;
  private readonly openedAt: number;
  private closed = false;

  private constructor(
    private readonly options: HostIngestOptions,
    video: Endpoint,
    audio: Endpoint,
  ) {
    super();
    this.now = options.now ?? wallClock;
    this.openedAt = this.now();
    this.endpoints = { video, audio };
    this.lipSync = new LipSyncEstimator(RTP_CLOCK, options.lipSync);
    for (const ep of [video, audio]) {
      ep.rtp.on('message', (msg) => this.onRtpPort(ep, msg));
      ep.rtcp.on('message', (msg) => this.onRtcp(ep, msg));
    }
  }

  /** Allocates and binds both endpoints. Ports another process holds are skipped. */
  static async open(options: HostIngestOptions): Promise<HostIngest> {
    const video = await bindEndpoint(options, 'video', options.video?.codec ?? 'VP8', options.video?.payloadType ?? 96);
    let audio: Endpoint;
    try {
      audio = await bindEndpoint(options, 'audio', options.audio?.codec ?? 'OPUS', options.audio?.payloadType ?? 111);
    } catch (e) {
      await closeEndpoint(video, options.allocator);
      throw e;
    }
    const ingest = new HostIngest(options, video, audio);
    options.logger?.info({ livestreamId: options.livestreamId, hostId: options.hostId, endpoints: ingest.describe() }, 'ingest endpoints open');
    return ingest;
  }

  get hostId(): string {
    return this.options.hostId;
  }

  /** What the SFU must be told: where to send this host's media and with which payload types. */
  describe(): HostEndpoints {
    const d = (ep: Endpoint): MediaEndpoint => ({ port: ep.port, rtcpPort: ep.port + 1, payloadType: ep.payloadType, codec: ep.codec });
    return { address: this.options.address, video: d(this.endpoints.video), audio: d(this.endpoints.audio) };
  }

  /** Adds or replaces a subscriber; from the next packet on it receives every valid RTP packet. */
  subscribe(id: string, subscription: Subscription): void {
    this.subscriptions.set(id, subscription);
    this.rebuildTargets();
  }

  unsubscribe(id: string): boolean {
    const had = this.subscriptions.delete(id);
    this.rebuildTargets();
    return had;
  }

  stats(): HostIngestStats {
    const counters = (ep: Endpoint): MediaCounters => {
      const seq = ep.sequence.counts();
      return { ...ep.counters, lost: seq.lost, duplicates: seq.duplicates, reordered: seq.reordered };
    };
    return {
      livestreamId: this.options.livestreamId,
      hostId: this.options.hostId,
      video: counters(this.endpoints.video),
      audio: counters(this.endpoints.audio),
      audioDelayMs: this.lipSync.lastAnnounced ?? null,
      subscribers: [...this.subscriptions.keys()],
    };
  }

  /**
   * No-media detection: ms since the last valid RTP packet of `medium` (or of either medium), or
   * since the endpoints opened when nothing has arrived yet.
   */
  silenceMs(medium?: Medium): number {
    const last = medium
      ? this.endpoints[medium].counters.lastPacketAt
      : Math.max(this.endpoints.video.counters.lastPacketAt ?? -Infinity, this.endpoints.audio.counters.lastPacketAt ?? -Infinity);
    const since = last === null || last === -Infinity ? this.openedAt : last;
    return Math.max(0, this.now() - since);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.clear();
    this.rebuildTargets();
    await Promise.all([closeEndpoint(this.endpoints.video, this.options.allocator), closeEndpoint(this.endpoints.audio, this.options.allocator)]);
  }

  private rebuildTargets(): void {
    for (const medium of ['video', 'audio'] as const) {
      const targets: Array<{ address: string; port: number }> = [];
      for (const s of this.subscriptions.values()) {
        const port = s[medium]?.rtpPort;
        if (port !== undefined) targets.push({ address: s.address ?? '127.0.0.1', port });
      }
      this.endpoints[medium].targets = targets;
    }
  }

  private emitEvent(event: IngestEvent): void {
    const log = this.options.logger;
    if (log) {
      const level = event.type === 'sync' ? 'info' : 'warn';
      log[level]({ livestreamId: event.livestreamId, hostId: event.hostId, ingestEvent: event }, `ingest ${event.type}`);
    }
    this.emit('event', event);
  }

  private base(): EventBase {
    return { livestreamId: this.options.livestreamId, hostId: this.options.hostId };
  }

  private malformed(ep: Endpoint, reason: string): void {
    ep.counters.malformed++;
    // report each kind of damage once per endpoint; the counter keeps the total
    if (ep.reportedMalformed.size < 32 && !ep.reportedMalformed.has(reason)) {
      ep.reportedMalformed.add(reason);
      this.emitEvent({ ...this.base(), type: 'malformed', medium: ep.medium, reason });
    }
  }

  private onRtpPort(ep: Endpoint, msg: Buffer): void {
    if (isRtcp(msg)) {
      this.onRtcp(ep, msg);
      return;
    }
    const parsed = parseRtp(msg);
    if (!parsed.ok) {
      this.malformed(ep, parsed.reason);
      return;
    }
    const p = parsed.value;
    const c = ep.counters;
    if (p.payloadType !== ep.payloadType) {
      c.undeclaredPayloadType++;
      if (!ep.reportedPayloadTypes.has(p.payloadType)) {
        ep.reportedPayloadTypes.add(p.payloadType);
        this.emitEvent({ ...this.base(), type: 'undeclared-payload-type', medium: ep.medium, payloadType: p.payloadType, declared: ep.payloadType });
      }
      return;
    }
    const arrival = this.now();
    if (c.ssrc !== p.ssrc) {
      if (c.ssrc !== null) {
        c.ssrcChanges++;
        ep.sequence.reset();
        this.emitEvent({ ...this.base(), type: 'ssrc-change', medium: ep.medium, from: c.ssrc, to: p.ssrc, count: c.ssrcChanges });
      }
      c.ssrc = p.ssrc;
    }
    c.packets++;
    c.bytes += msg.length;
    c.lastPacketAt = arrival;
    const verdict = ep.sequence.push(p.sequence);
    const estimate = this.lipSync.onRtp(ep.medium, p.ssrc, p.timestamp, arrival);
    if (estimate !== undefined) this.emitEvent({ ...this.base(), type: 'sync', audioDelayMs: estimate });
    // a duplicate is dropped here: the pipelines' jitter buffers would only discard it again
    if (verdict === 'duplicate') return;
    for (const t of ep.targets) {
      ep.rtp.send(msg, t.port, t.address, (err) => {
        if (err) c.forwardErrors++;
      });
      c.forwarded++;
    }
  }

  private onRtcp(ep: Endpoint, msg: Buffer): void {
    const parsed = parseRtcp(msg);
    if (!parsed.ok) {
      this.malformed(ep, `RTCP: ${parsed.reason}`);
      return;
    }
    ep.counters.rtcpPackets++;
    const arrival = this.now();
    for (const packet of parsed.value) {
      if (packet.type === 'sr') {
        ep.counters.senderReports++;
        this.lipSync.onSenderReport(packet.ssrc, mappingFromSr(packet.ntpSeconds, packet.ntpFraction, packet.rtpTimestamp, arrival));
      } else if (packet.type === 'bye') {
        for (const ssrc of packet.ssrcs) {
          const event: IngestEvent = { ...this.base(), type: 'bye', medium: ep.medium, ssrc };
          if (packet.reason !== undefined) event.reason = packet.reason;
          this.emitEvent(event);
        }
      }
    }
  }
}

async function bindSocket(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  // a send error (subscriber gone) must never take the process down; the counters keep it
  socket.on('error', () => undefined);
  return socket;
}

async function bindEndpoint(options: HostIngestOptions, medium: Medium, codec: string, payloadType: number): Promise<Endpoint> {
  const { allocator, address } = options;
  const wanted = options.ports?.[medium];
  if (wanted !== undefined) {
    if (!allocator.claim(wanted)) throw new Error(`RTP port ${wanted} (${medium}) is outside TAPEDECK_RTP_PORTS, odd, or already in use on this worker`);
    try {
      const rtp = await bindSocket(address, wanted);
      const rtcp = await bindSocket(address, wanted + 1).catch((e) => {
        rtp.close();
        throw e;
      });
      for (const s of [rtp, rtcp]) trySetBuffer(s);
      return new Endpoint(medium, codec, payloadType, wanted, rtp, rtcp);
    } catch (e) {
      allocator.release(wanted);
      throw e;
    }
  }
  const busy: number[] = [];
  try {
    for (;;) {
      const port = allocator.allocate(); // throws PortRangeExhaustedError when nothing is left
      let rtp: Socket | undefined;
      try {
        rtp = await bindSocket(address, port);
        const rtcp = await bindSocket(address, port + 1);
        // the SFU sends bursts (a keyframe is dozens of packets): give the kernel room
        for (const s of [rtp, rtcp]) trySetBuffer(s);
        return new Endpoint(medium, codec, payloadType, port, rtp, rtcp);
      } catch (e) {
        rtp?.close();
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          allocator.release(port);
          throw e;
        }
        // held by another process: keep it out of rotation until we give up or succeed
        busy.push(port);
      }
    }
  } finally {
    for (const p of busy) allocator.release(p);
  }
}

function trySetBuffer(socket: Socket): void {
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    // capped by net.core.rmem_max; the default still works, just with less headroom
  }
}

async function closeEndpoint(ep: Endpoint, allocator: PortAllocator): Promise<void> {
  await Promise.all([ep.rtp, ep.rtcp].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  allocator.release(ep.port);
}

/** The pipeline host command a `sync` event turns into (pipelines/protocol.ts). */
export function setSyncCommand(event: Extract<IngestEvent, { type: 'sync' }>): Extract<HostCommand, { type: 'set-sync' }> {
  return { type: 'set-sync', hostId: event.hostId, audioDelayMs: event.audioDelayMs };
}
