// End-to-end media in a test: mock SFU (one sender per host, real-time RTP over loopback UDP) →
// MediaSession (one HostIngest per host, ports from a free range) → recordings run by the real
// PipelineSupervisor and pipeline host, attached to the session so their inputs are subscribed
// and lip sync reaches them as set-sync. Everything it starts is stopped by `cleanup()`.
import type { MockHostSpec, MockSfuOptions } from '../../apps/mock-sfu/sender';
import { MockSfu } from '../../apps/mock-sfu/sender';
import type { HostMedia, RecordingConfig } from '../../pipelines/config';
import { PortAllocator } from '../../pipelines/ingest/ports';
import { MediaSession, type AttachableRecording, type MediaSessionEvent } from '../../pipelines/media-session';
import type { HostCommand, HostEvent, InputPorts } from '../../pipelines/protocol';
import { recorder, tempSpool } from './recording';
import { freeUdpPort } from './udp';

/** Distinct saturated colours the tests can look for in a composite tile (never white: flashes are). */
export const TEST_COLOURS = ['#c03030', '#30a040', '#3050c0', '#c0a020', '#a030c0', '#20a0a0'] as const;

export type SenderOptions = Omit<MockSfuOptions, 'hosts'>;

export interface LiveRecording {
  config: RecordingConfig;
  sup: ReturnType<typeof recorder>['sup'];
  events: HostEvent[];
  closed: ReturnType<typeof recorder>['closed'];
  inputs: InputPorts[];
  startedAt: string;
  /** set-sync commands that reached the pipeline (or were withheld, with sync: false). */
  syncCommands: Array<Extract<HostCommand, { type: 'set-sync' }>>;
}

export interface LiveHost {
  media: HostMedia;
  colour: string;
  sfu: MockSfu;
}

/** A free even port with room for `pairs` RTP/RTCP pairs above it. */
async function freeRange(pairs: number): Promise<PortAllocator> {
  for (;;) {
    const base = (await freeUdpPort()) & ~1;
    if (base >= 1024 && base + pairs * 2 < 65535) return new PortAllocator({ first: base, last: base + pairs * 2 - 1 });
  }
}

export class LiveSession {
  readonly sessionEvents: MediaSessionEvent[] = [];
  readonly hosts = new Map<string, LiveHost>();
  readonly recordings = new Map<string, LiveRecording>();
  private readonly cleanups: Array<() => unknown> = [];
  private colourIndex = 0;

  private constructor(
    readonly session: MediaSession,
    private readonly senderOptions: SenderOptions,
  ) {
    session.on('event', (e) => this.sessionEvents.push(e));
  }

  static async open(options: { livestreamId?: string; sender?: SenderOptions; portPairs?: number } = {}): Promise<LiveSession> {
    const allocator = await freeRange(options.portPairs ?? 32);
    const session = new MediaSession({ livestreamId: options.livestreamId ?? 'ls-e2e', address: '127.0.0.1', allocator });
    return new LiveSession(session, options.sender ?? {});
  }

  /** Opens the host's ingest and starts its sender (the SFU sends as soon as it knows the endpoints). */
  async addHost(media: HostMedia, sender: SenderOptions = {}): Promise<LiveHost> {
    return (await this.addHosts([media], sender))[0]!;
  }

  /**
   * Several hosts from one sender: one media clock, so their flashes and beeps happen at the same
   * instants (a mixed composite's beeps then line up with every tile's flashes). `start: false`
   * leaves the sender to the test (`host.sfu.start()`), so recordings can be waiting for its first packet.
   */
  async addHosts(medias: HostMedia[], sender: SenderOptions = {}, options: { start?: boolean } = {}): Promise<LiveHost[]> {
    const specs: Array<MockHostSpec & { colour: string }> = [];
    for (const media of medias) {
      const ep = await this.session.addHost(media);
      specs.push({
        hostId: media.hostId,
        displayName: media.displayName,
        address: ep.address,
        colour: TEST_COLOURS[this.colourIndex++ % TEST_COLOURS.length]!,
        video: { port: ep.video.port, payloadType: ep.video.payloadType, codec: media.video.codec },
        audio: { port: ep.audio.port, payloadType: ep.audio.payloadType },
        camera: media.camera,
        microphone: media.microphone,
      });
    }
    const sfu = await MockSfu.create({ clipSeconds: 4, ...this.senderOptions, ...sender, hosts: specs });
    this.cleanups.push(() => sfu.stop().catch(() => undefined));
    if (options.start ?? true) sfu.start();
    return medias.map((media, i) => {
      const host = { media, colour: specs[i]!.colour, sfu };
      this.hosts.set(media.hostId, host);
      return host;
    });
  }

  /**
   * Starts a recording and attaches it to the session. `sync: false` withholds set-sync from the
   * pipeline (it is still recorded), the control case that shows what lip sync corrects.
   */
  async record(make: (spoolDir: string) => RecordingConfig, opts: { sync?: boolean } = {}): Promise<LiveRecording> {
    const spool = tempSpool('e2e');
    this.cleanups.push(spool.cleanup);
    const config = make(spool.dir);
    const { sup, events, closed } = recorder();
    this.cleanups.push(() => sup.kill());
    const syncCommands: LiveRecording['syncCommands'] = [];
    const withSync = opts.sync ?? true;
    const attachable: AttachableRecording = {
      send: (cmd) => {
        if (cmd.type === 'set-sync') {
          syncCommands.push(cmd);
          if (!withSync) return true;
        }
        return sup.send(cmd);
      },
      on: ((event: 'event' | 'exit', l: never) => sup.on(event, l)) as AttachableRecording['on'],
      off: ((event: 'event' | 'exit', l: never) => sup.off(event, l)) as AttachableRecording['off'],
      next: (type, timeoutMs, pred) => sup.next(type, timeoutMs, pred),
    };
    const ready = await sup.start(config, 30_000);
    this.session.attach(config.recordingId, attachable, ready.inputs);
    const rec: LiveRecording = { config, sup, events, closed, inputs: ready.inputs, startedAt: ready.startedAt, syncCommands };
    this.recordings.set(config.recordingId, rec);
    return rec;
  }

  /** A host joins a running recording: ingest + sender, then its branch. */
  async join(recordingId: string, media: HostMedia): Promise<LiveHost> {
    const host = this.hosts.get(media.hostId) ?? (await this.addHost(media));
    await this.session.addInput(recordingId, media.hostId);
    return host;
  }

  /** A host leaves: its branch goes from every recording, its sender stops, its ingest closes. */
  async leave(hostId: string): Promise<void> {
    for (const id of this.session.recordingsOf(hostId)) {
      if (this.recordings.get(id)?.config.kind === 'composite') await this.session.removeInput(id, hostId);
    }
    const host = this.hosts.get(hostId);
    // a sender shared with other hosts keeps sending for them: this host just goes quiet
    if (host && [...this.hosts.values()].some((h) => h !== host && h.sfu === host.sfu)) {
      host.sfu.camera(hostId, false);
      host.sfu.microphone(hostId, false);
    } else await host?.sfu.stop();
    this.hosts.delete(hostId);
    await this.session.removeHost(hostId);
  }

  /** Camera off/on at the sender (video stops; resumes at a keyframe) and in every recording. */
  camera(hostId: string, on: boolean): void {
    this.hosts.get(hostId)!.sfu.camera(hostId, on);
    this.session.setCamera(hostId, on);
  }

  /** Ends one recording (EOS, its last snippet finished) the way a period ends: the others go on. */
  async finish(rec: LiveRecording): Promise<void> {
    await rec.sup.stop('period ended', 30_000);
    this.session.detach(rec.config.recordingId, 'period ended');
    this.recordings.delete(rec.config.recordingId);
  }

  /** Stops every recording gracefully (EOS), then the senders and the session. */
  async stop(): Promise<void> {
    await Promise.all([...this.recordings.values()].map((r) => r.sup.stop('test done', 30_000)));
    for (const sfu of new Set([...this.hosts.values()].map((h) => h.sfu))) await sfu.stop();
    await this.session.close();
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.reverse()) await c();
    await this.session.close();
  }
}
