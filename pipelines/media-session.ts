// One livestream's media on one worker: the hosts' RTP ingests (the SFU-facing UDP endpoints) and
// the running recordings attached to them. The recording activity, the record CLI and the tests
// use it so that the wiring between ingest and pipelines exists once:
//
//   SFU ──RTP/RTCP──▶ HostIngest(host) ──subscribe(recordingId)──▶ pipeline udpsrc (InputPorts)
//                          │ sync (RTCP sender reports)
//                          └──────────── set-sync ───────────────▶ every recording with that host
//
// A recording is attached with the InputPorts of its `ready` event; from then on its
// `input-added` / `input-removed` events subscribe and unsubscribe it, its exit detaches it, and
// lip sync estimates (current and later) reach it as `set-sync` commands. The session never starts
// or stops pipelines itself: whoever owns a recording decides its life.
import { EventEmitter } from 'node:events';
import type { Logger } from '../apps/common/logger';
import type { HostMedia } from './config';
import { HostIngest, setSyncCommand, type HostEndpoints, type HostIngestStats, type IngestEvent } from './ingest/host-ingest';
import type { LipSyncOptions } from './ingest/lipsync';
import type { PortAllocator } from './ingest/ports';
import type { HostCommand, HostEvent, InputPorts } from './protocol';
import type { ExitInfo } from './supervisor';

/** What the session needs of a running recording; PipelineSupervisor is one. */
export interface AttachableRecording {
  send(cmd: HostCommand): boolean;
  on(event: 'event', listener: (e: HostEvent) => void): unknown;
  on(event: 'exit', listener: (e: ExitInfo) => void): unknown;
  off(event: 'event', listener: (e: HostEvent) => void): unknown;
  off(event: 'exit', listener: (e: ExitInfo) => void): unknown;
  next<T extends HostEvent['type']>(type: T, timeoutMs: number, pred?: (e: Extract<HostEvent, { type: T }>) => boolean): Promise<Extract<HostEvent, { type: T }>>;
}

export interface MediaSessionOptions {
  livestreamId: string;
  /** Address the ingest binds and announces (TAPEDECK_RTP_ADDRESS). */
  address: string;
  /** Ports from TAPEDECK_RTP_PORTS; shared by every session of the worker. */
  allocator: PortAllocator;
  logger?: Logger;
  lipSync?: LipSyncOptions;
}

export type MediaSessionEvent =
  | IngestEvent
  | { type: 'attached'; livestreamId: string; recordingId: string; hostIds: string[] }
  | { type: 'detached'; livestreamId: string; recordingId: string; reason: string };

interface Attached {
  recordingId: string;
  recording: AttachableRecording;
  /** Hosts whose packets this recording receives, and where. */
  inputs: Map<string, InputPorts>;
  onEvent: (e: HostEvent) => void;
  onExit: (e: ExitInfo) => void;
}

interface SessionHost {
  media: HostMedia;
  ingest: HostIngest;
}

export class MediaSessionError extends Error {
  constructor(
    readonly type: 'UnknownHost' | 'HostMismatch' | 'UnknownRecording' | 'AlreadyAttached' | 'SessionClosed',
    message: string,
  ) {
    super(message);
    this.name = 'MediaSessionError';
  }
}

export class MediaSession extends EventEmitter<{ event: [MediaSessionEvent] }> {
  private readonly hosts = new Map<string, SessionHost>();
  /** Hosts being opened: a second addHost for the same id waits for the first. */
  private readonly opening = new Map<string, Promise<HostEndpoints>>();
  private readonly recordings = new Map<string, Attached>();
  /** Why each recording that left was detached (its exit reason, for instance), for errors. */
  private readonly detachedBecause = new Map<string, string>();
  private closed = false;

  constructor(private readonly options: MediaSessionOptions) {
    super();
  }

  get livestreamId(): string {
    return this.options.livestreamId;
  }

  get hostIds(): string[] {
    return [...this.hosts.keys()];
  }

  get recordingIds(): string[] {
    return [...this.recordings.keys()];
  }

  /**
   * Opens the host's ingest endpoints and returns what the SFU must be told. Idempotent: a host
   * already open returns the same endpoints (a retried "host joined" must not move its ports);
   * the same id with other codecs or payload types is refused.
   */
  async addHost(media: HostMedia): Promise<HostEndpoints> {
    if (this.closed) throw new MediaSessionError('SessionClosed', `media session of livestream ${this.livestreamId} is closed`);
    const existing = this.hosts.get(media.hostId);
    if (existing) {
      const a = existing.media;
      if (a.video.codec !== media.video.codec || a.video.payloadType !== media.video.payloadType || a.audio.payloadType !== media.audio.payloadType) {
        throw new MediaSessionError('HostMismatch', `host ${media.hostId} is already open with ${a.video.codec}/${a.video.payloadType} + OPUS/${a.audio.payloadType}`);
      }
      return existing.ingest.describe();
    }
    const pending = this.opening.get(media.hostId);
    if (pending) return pending;
    const open = (async () => {
      const ingest = await HostIngest.open({
        livestreamId: this.livestreamId,
        hostId: media.hostId,
        address: this.options.address,
        allocator: this.options.allocator,
        video: media.video,
        audio: media.audio,
        ...(this.options.logger ? { logger: this.options.logger } : {}),
        ...(this.options.lipSync ? { lipSync: this.options.lipSync } : {}),
      });
      ingest.on('event', (e) => this.onIngestEvent(e));
      this.hosts.set(media.hostId, { media, ingest });
      return ingest.describe();
    })();
    this.opening.set(media.hostId, open);
    try {
      return await open;
    } finally {
      this.opening.delete(media.hostId);
    }
  }

  endpoints(hostId: string): HostEndpoints {
    return this.host(hostId).ingest.describe();
  }

  hostMedia(hostId: string): HostMedia {
    return this.host(hostId).media;
  }

  /** Closes the host's endpoints (its ports go back to the allocator). Recordings keep their branch
   * until their owner removes it; they simply receive nothing more from this host. */
  async removeHost(hostId: string): Promise<boolean> {
    const h = this.hosts.get(hostId);
    if (!h) return false;
    this.hosts.delete(hostId);
    for (const r of this.recordings.values()) r.inputs.delete(hostId);
    await h.ingest.close();
    return true;
  }

  /**
   * Starts forwarding every host in `inputs` (the `ready` event's) to a running recording, and
   * keeps doing so for inputs it adds later. The current lip sync estimate of each host is sent
   * at once, later ones as they change.
   */
  attach(recordingId: string, recording: AttachableRecording, inputs: InputPorts[]): void {
    if (this.closed) throw new MediaSessionError('SessionClosed', `media session of livestream ${this.livestreamId} is closed`);
    if (this.recordings.has(recordingId)) throw new MediaSessionError('AlreadyAttached', `recording ${recordingId} is already attached`);
    for (const i of inputs) this.host(i.hostId); // every host must have an ingest before media can flow
    const attached: Attached = {
      recordingId,
      recording,
      inputs: new Map(),
      onEvent: (e) => {
        if (e.type === 'input-added') this.subscribe(attached, e.inputs);
        else if (e.type === 'input-removed') this.unsubscribe(attached, e.hostId);
      },
      onExit: (x) => this.detach(recordingId, x.reason),
    };
    this.recordings.set(recordingId, attached);
    recording.on('event', attached.onEvent);
    recording.on('exit', attached.onExit);
    for (const i of inputs) this.subscribe(attached, i);
    this.emit('event', { type: 'attached', livestreamId: this.livestreamId, recordingId, hostIds: inputs.map((i) => i.hostId) });
  }

  /** Stops forwarding to a recording (on its exit this happens by itself). */
  detach(recordingId: string, reason = 'detached'): boolean {
    const r = this.recordings.get(recordingId);
    if (!r) return false;
    this.recordings.delete(recordingId);
    this.detachedBecause.set(recordingId, reason);
    r.recording.off('event', r.onEvent);
    r.recording.off('exit', r.onExit);
    for (const hostId of r.inputs.keys()) this.hosts.get(hostId)?.ingest.unsubscribe(recordingId);
    r.inputs.clear();
    this.emit('event', { type: 'detached', livestreamId: this.livestreamId, recordingId, reason });
    return true;
  }

  /** Adds an open host to a running composite and resolves once its packets flow there. */
  async addInput(recordingId: string, hostId: string, timeoutMs = 10_000): Promise<InputPorts> {
    const r = this.recording(recordingId);
    const media = this.host(hostId).media;
    const added = r.recording.next('input-added', timeoutMs, (e) => e.inputs.hostId === hostId);
    if (!r.recording.send({ type: 'add-input', host: media })) throw new Error(`recording ${recordingId} is not running`);
    const e = await added;
    // the listener subscribed it already (same event); this covers a listener that ran later
    this.subscribe(r, e.inputs);
    return e.inputs;
  }

  /** Removes a host's branch from a running composite; forwarding stops once the branch is gone. */
  async removeInput(recordingId: string, hostId: string, timeoutMs = 10_000): Promise<void> {
    const r = this.recording(recordingId);
    const removed = r.recording.next('input-removed', timeoutMs, (e) => e.hostId === hostId);
    if (!r.recording.send({ type: 'remove-input', hostId })) throw new Error(`recording ${recordingId} is not running`);
    await removed;
    this.unsubscribe(r, hostId);
  }

  /** Recordings that currently receive this host's packets. */
  recordingsOf(hostId: string): string[] {
    return [...this.recordings.values()].filter((r) => r.inputs.has(hostId)).map((r) => r.recordingId);
  }

  /** Tells every recording that has this host about its camera (composite: camera tile or placeholder). */
  setCamera(hostId: string, on: boolean): void {
    this.broadcast(hostId, { type: 'set-camera', hostId, on });
  }

  setMicrophone(hostId: string, on: boolean): void {
    this.broadcast(hostId, { type: 'set-microphone', hostId, on });
  }

  stats(): HostIngestStats[] {
    return [...this.hosts.values()].map((h) => h.ingest.stats());
  }

  /** Ms since the last packet of a host (either medium), for no-media warnings. */
  silenceMs(hostId: string): number {
    return this.host(hostId).ingest.silenceMs();
  }

  /** Detaches every recording and closes every host's endpoints. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.recordings.keys()]) this.detach(id, 'session closed');
    const hosts = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all(hosts.map((h) => h.ingest.close()));
  }

  private host(hostId: string): SessionHost {
    const h = this.hosts.get(hostId);
    if (!h) throw new MediaSessionError('UnknownHost', `host ${hostId} has no ingest in livestream ${this.livestreamId}`);
    return h;
  }

  private recording(recordingId: string): Attached {
    const r = this.recordings.get(recordingId);
    if (!r) {
      const why = this.detachedBecause.get(recordingId);
      throw new MediaSessionError('UnknownRecording', `recording ${recordingId} is not attached to livestream ${this.livestreamId}${why ? ` (detached: ${why})` : ''}`);
    }
    return r;
  }

  private subscribe(r: Attached, inputs: InputPorts): void {
    const h = this.hosts.get(inputs.hostId);
    if (!h) {
      this.options.logger?.warn({ livestreamId: this.livestreamId, recordingId: r.recordingId, hostId: inputs.hostId }, 'recording input for a host without ingest');
      return;
    }
    const sub: { video?: { rtpPort: number }; audio?: { rtpPort: number } } = {};
    if (inputs.video) sub.video = { rtpPort: inputs.video.rtpPort };
    if (inputs.audio) sub.audio = { rtpPort: inputs.audio.rtpPort };
    h.ingest.subscribe(r.recordingId, sub);
    const isNew = !r.inputs.has(inputs.hostId);
    r.inputs.set(inputs.hostId, inputs);
    // a recording that joins late still needs the estimate the ingest already announced
    const delay = h.ingest.stats().audioDelayMs;
    if (isNew && delay !== null) r.recording.send({ type: 'set-sync', hostId: inputs.hostId, audioDelayMs: delay });
  }

  private unsubscribe(r: Attached, hostId: string): void {
    r.inputs.delete(hostId);
    this.hosts.get(hostId)?.ingest.unsubscribe(r.recordingId);
  }

  private broadcast(hostId: string, cmd: HostCommand): void {
    for (const r of this.recordings.values()) if (r.inputs.has(hostId)) r.recording.send(cmd);
  }

  private onIngestEvent(e: IngestEvent): void {
    if (e.type === 'sync') this.broadcast(e.hostId, setSyncCommand(e));
    this.emit('event', e);
  }
}
