// `npm run bench:media`: what Tapedeck's recordings cost next to a plain gst-launch-1.0 pipeline
// and an ffmpeg filter graph doing the same work (issue 3, Benchmark), with the same real-time RTP
// from the mock SFU (640x480 30 fps VP8 + Opus per host) over loopback for every implementation.
//
//   node dist/bench/media.js [--hosts 1,4,9,16,25] [--seconds 60] [--only composite|individual]
//        [--impl tapedeck,gst-launch,ffmpeg] [--delivery ingest|direct] [--rtmp 1,3 | 0] [--warmup 3] [--keep]
//
// Live output: with --rtmp (default 1,3) a 4-host composite (Tapedeck only; the baselines have no
// RTMP output) streams to 1 and to 3 destinations on a local nginx-rtmp relay on loopback
// (infra/stack/rtmp-server.ts): the cost of the shared-encode outputs (one shared FLV mux into a
// pipe; every destination sent from the pipeline host's event loop). The destinations are switched
// off and on in alternating windows of one pipeline process (`alternate`), and the outputs' own
// threads are also counted: the mux's, and what the main thread costs more while they are on.
//
// Per scenario (the composite at each host count, then one individual recording) the
// implementations run one after another, each with a fresh mock SFU. CPU is utime + stime from
// /proc over a window of --seconds that starts --warmup seconds after the first output frame, so
// start-up (plugin loading, ffmpeg probing the inputs) and finalizing are not in it. Peak memory is
// VmHWM. Output frames are judged from the snippets' video timestamps (ffprobe), and where the
// implementation tells (Tapedeck's stats events, ffmpeg's -progress) from frames made in the window.
// Each run must also have done the whole work: no RTP dropped unread in its window (the kernel's
// UDP RcvbufErrors) and its snippets' audio as long as their video; a run that lost input is not
// real time, and a ratio with it on either side is not judged (`lostInput`).
//
// Tapedeck gets its RTP through HostIngest (--delivery ingest, the default), as production does:
// the SFU sends each host once to the ingest, which forwards to the pipeline's udpsrc ports. The
// ingest runs in its own process (bench/media-runner.ts) and is reported separately, so the
// pipeline process compares like for like with the baselines, which read the SFU's RTP directly.
// --delivery direct sends the mock SFU straight to the pipeline's ports (no RTCP then: the
// pipeline's ports are picked by the OS and port + 1 may be another input's).
//
// Numbers need a quiet machine: anything else running on the cores shows up in them.
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../infra/stack/tools';
import { inheritedEnv } from '../apps/common/env';
import { opusSizeCacheEnabled, opusSizeCacheState } from '../pipelines/supervisor';
import { COMPOSITE_DEFAULTS, type HostMedia, type RecordingConfig } from '../pipelines/config';
import type { HostCommand, HostEvent, InputPorts, PipelineStats } from '../pipelines/protocol';
import type { OutputStatus } from '../pipelines/outputs/outputs';
import { RtmpServer } from '../infra/stack/rtmp-server';
import type { HostEndpoints, HostIngestStats } from '../pipelines/ingest';
import type { RunnerReply, RunnerRequest } from './media-runner';
import {
  ffmpegComposite,
  ffmpegIndividual,
  frameTiming,
  gstLaunchComposite,
  gstLaunchIndividual,
  INDIVIDUAL_FPS,
  parseHostCounts,
  sdpFor,
  sumTimings,
  type Canvas,
  type FrameTiming,
  type HostPorts,
  audioShort,
  streamDurations,
} from './media-baselines';
import { peakRssMb, processCpuSeconds, threadCpuDelta, threadCpuSeconds, treeCpuSeconds, udpReceiveBufferErrors } from './media-proc';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Impl = 'tapedeck' | 'gst-launch' | 'ffmpeg';
const IMPLS: Impl[] = ['tapedeck', 'gst-launch', 'ffmpeg'];

interface Scenario {
  kind: 'composite' | 'individual';
  hosts: number;
  /** Composite only: RTMP destinations it also streams to (Tapedeck only: the baselines have none). */
  rtmp?: string[];
}

/** The composite size the RTMP cost is measured on (issue: one and three destinations on 4 hosts). */
const RTMP_BENCH_HOSTS = 4;

interface Options {
  hostCounts: number[];
  /** RTMP destination counts measured on the 4-host composite (empty: none). */
  rtmpCounts: number[];
  seconds: number;
  warmup: number;
  scenarios: Scenario[];
  impls: Impl[];
  delivery: 'ingest' | 'direct';
  keep: boolean;
  individualKbps: number;
  /** How long a baseline gets after SIGINT (EOS) before its process group is killed. */
  stopTimeoutMs: number;
  /** How long any implementation may take to produce its first output frame. */
  firstFrameTimeoutMs: number;
}

/** One implementation's run of one scenario. CPU figures are CPU-s per second of media (wall clock). */
interface RunResult {
  scenario: string;
  kind: Scenario['kind'];
  hosts: number;
  impl: Impl;
  ok: boolean;
  error?: string;
  /** Set when the first attempt failed and this is the retry. */
  firstAttemptError?: string;
  windowSeconds?: number;
  /** The pipeline process: gst-launch, ffmpeg, or Tapedeck's pipeline host (with any children). */
  cpuPerMediaSecond?: number;
  /** Tapedeck only: its supervisor process and its ingest process, each alone. */
  supervisorCpuPerMediaSecond?: number;
  ingestCpuPerMediaSecond?: number;
  /** Tapedeck only: pipeline + supervisor + ingest. */
  tapedeckTotalCpuPerMediaSecond?: number;
  /** The mock SFU (the same job for every implementation; for reference). */
  senderCpuPerMediaSecond?: number;
  peakRssMb?: number;
  supervisorPeakRssMb?: number;
  ingestPeakRssMb?: number;
  /** Output frames per second during the window, where the implementation tells (not gst-launch). */
  windowFps?: number | null;
  /** Frames dropped / duplicated by the implementation's own output rate control during the window (Tapedeck: outrate videorate; ffmpeg: -progress). */
  rateControlDropped?: number | null;
  rateControlDuplicated?: number | null;
  /** The snippets' video timestamps against a constant frame rate. */
  snippets?: number;
  frames?: FrameTiming;
  /** Seconds of video and of audio in the snippets (stream durations, summed). */
  videoSeconds?: number;
  audioSeconds?: number;
  /** How long stopping took (EOS to exit), and whether the watchdog had to kill it. */
  stopMs?: number;
  killedAfterEos?: boolean;
  keptRealTime?: boolean;
  realTimeNote?: string;
  /** RTP packets the ingest saw lost (Tapedeck via ingest only). */
  ingestLost?: number;
  /**
   * UDP datagrams the kernel dropped in the window because a receive buffer was full (machine-wide
   * RcvbufErrors; one implementation runs at a time): RTP the implementation never read, so it did
   * less work than its input asks. Above 0 the run is not real time and its CPU is not comparable.
   */
  udpReceiveDropped?: number;
  /** RTMP scenarios: destinations connected at the end of the window, and bytes they were sent. */
  rtmp?: { destinations: number; connected: number; bytesSent: number };
  /** RTMP scenarios: the destinations switched off and on in one pipeline (see `alternate`). */
  rtmpAlternation?: RtmpAlternation;
}

/**
 * The cost of N RTMP destinations, measured in one pipeline process by switching them off and on
 * (set-outputs) in windows ordered off, on, on, off, off, on, ...: process-to-process differences
 * (the same pipeline started twice differs by a few percent here) and slow drift cancel out.
 */
interface RtmpAlternation {
  destinations: number;
  windowSeconds: number;
  windows: Array<{ on: boolean; cpu: number; outputThreads: number; mainThread: number; connected?: number }>;
  /** Mean pipeline CPU-s/s of the windows without / with the destinations. */
  off: number;
  on: number;
  /** (on - off) / off, in percent, over all windows and per off/on pair. */
  extraPercent: number;
  pairPercents: number[];
  /**
   * The outputs' own CPU-s/s: the output threads' (mean over the "on" windows) plus what the main
   * thread, which sends to the destinations, costs more while on than while off; and as a
   * percentage of `off`.
   */
  outputThreads: number;
  outputThreadsPercent: number;
  /** The threads counted as output threads, with their mean CPU-s/s while on. */
  outputThreadNames: Record<string, number>;
  /** The main thread's mean CPU-s/s while on minus while off: the RTMP sending on the event loop. */
  mainThreadMore: number;
  /** The other threads that cost most more while on than while off (mean CPU-s/s on − off). */
  otherThreadsMore: Record<string, number>;
  bytesSent: number;
}

// ---- options ------------------------------------------------------------------------------------

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string', default: '1,4,9,16,25' },
      seconds: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '3' },
      only: { type: 'string' },
      impl: { type: 'string', default: IMPLS.join(',') },
      delivery: { type: 'string', default: 'ingest' },
      keep: { type: 'boolean', default: false },
      'individual-kbps': { type: 'string', default: '2000' },
      rtmp: { type: 'string', default: '1,3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: bench:media [--hosts 1,4,9,16,25] [--seconds 60] [--only composite|individual] [--impl tapedeck,gst-launch,ffmpeg] [--delivery ingest|direct] [--rtmp 1,3 | --rtmp 0] [--warmup 3] [--keep]\n');
    process.exit(0);
  }
  const hostCounts = parseHostCounts(values.hosts);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  if (!(seconds >= 1 && seconds <= 3600)) throw new Error(`--seconds must be 1..3600, got "${values.seconds}"`);
  if (!(warmup >= 0 && warmup <= 60)) throw new Error(`--warmup must be 0..60, got "${values.warmup}"`);
  const impls = values.impl.split(',').map((s) => s.trim()) as Impl[];
  for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl: "${i}" is not one of ${IMPLS.join(', ')}`);
  if (values.only !== undefined && values.only !== 'composite' && values.only !== 'individual') throw new Error('--only must be composite or individual');
  if (values.delivery !== 'ingest' && values.delivery !== 'direct') throw new Error('--delivery must be ingest or direct');
  const scenarios: Scenario[] = [];
  if (values.only !== 'individual') for (const n of hostCounts) scenarios.push({ kind: 'composite', hosts: n });
  const rtmpCounts = values.rtmp === '0' || values.rtmp === '' ? [] : values.rtmp.split(',').map(Number);
  for (const n of rtmpCounts) if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`--rtmp takes destination counts 1..5 (or 0 for none), got "${values.rtmp}"`);
  if (values.only !== 'individual' && rtmpCounts.length > 0) {
    // URLs are filled in once the local RTMP server runs (main).
    for (const n of rtmpCounts) scenarios.push({ kind: 'composite', hosts: RTMP_BENCH_HOSTS, rtmp: Array.from({ length: n }, () => '') });
  }
  if (values.only !== 'composite') scenarios.push({ kind: 'individual', hosts: 1 });
  return {
    hostCounts,
    rtmpCounts,
    seconds,
    warmup,
    scenarios,
    impls,
    delivery: values.delivery,
    keep: values.keep,
    individualKbps: Number(values['individual-kbps']),
    stopTimeoutMs: 20_000,
    firstFrameTimeoutMs: 60_000,
  };
}

const compositeCanvas: Canvas = {
  width: COMPOSITE_DEFAULTS.width,
  height: COMPOSITE_DEFAULTS.height,
  fps: COMPOSITE_DEFAULTS.fps,
  videoKbps: COMPOSITE_DEFAULTS.videoBitrateKbps,
  audioKbps: COMPOSITE_DEFAULTS.audioBitrateKbps,
  snippetSeconds: COMPOSITE_DEFAULTS.snippetSeconds,
  jitterMs: 200,
};

const canvasFor = (s: Scenario, o: Options): Canvas => (s.kind === 'composite' ? compositeCanvas : { ...compositeCanvas, fps: INDIVIDUAL_FPS, videoKbps: o.individualKbps });

const hostIds = (n: number) => Array.from({ length: n }, (_, i) => `host-${i + 1}`);

// ---- child processes ----------------------------------------------------------------------------

/** Every child this bench started, so that an error or Ctrl-C never leaves one running. */
const children = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(): void {
  for (const c of children) {
    if (c.pid === undefined) continue;
    try {
      // Baselines run in their own process group (detached); runners and the mock SFU do not.
      if (c.spawnargs[0] !== process.execPath) process.kill(-c.pid, 'SIGKILL');
      else c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** Resolves with the first line of `child`'s stdout that `pred` accepts. */
function waitForLine(child: ChildProcess, pred: (line: string) => boolean, ms: number, what: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) {
          if (pred(l)) {
            child.stdout?.off('data', onData);
            resolve(l);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`${what}: exited (${code ?? signal}) first`)));
    }),
    ms,
    what,
  );
}

/** A forked runner (bench/media-runner.ts) and a way to wait for its replies. */
class Runner {
  readonly child: ChildProcess;
  private readonly replies: RunnerReply[] = [];
  private readonly waiters: Array<() => void> = [];
  onReply: (r: RunnerReply) => void = () => undefined;

  constructor(role: 'supervisor' | 'ingest', log: string) {
    const out = createWriteStream(log);
    this.child = track(fork(join(__dirname, 'media-runner.js'), [role], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' }));
    this.child.stdout?.pipe(out);
    this.child.stderr?.pipe(out);
    this.child.on('message', (m: RunnerReply) => {
      this.onReply(m);
      this.replies.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(m: RunnerRequest): void {
    if (this.child.connected) this.child.send(m);
  }

  /** The next reply of this type (or `failed`), waiting up to `ms`. */
  async next<T extends RunnerReply['type']>(type: T, ms: number): Promise<Extract<RunnerReply, { type: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.replies.findIndex((r) => r.type === type || r.type === 'failed');
      if (i >= 0) {
        const [r] = this.replies.splice(i, 1);
        if (r!.type === 'failed') throw new Error(r!.message);
        return r as Extract<RunnerReply, { type: T }>;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`runner exited before ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} from the runner within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** Even ports, each with its odd neighbour free (RTCP), that nothing holds right now. */
async function freePortPairs(count: number, from: number): Promise<number[]> {
  const ports: number[] = [];
  for (let p = from + (from % 2); ports.length < count && p < 65_000; p += 2) {
    if ((await canBind(p)) && (await canBind(p + 1))) ports.push(p);
  }
  if (ports.length < count) throw new Error(`only ${ports.length} free UDP port pairs from ${from}`);
  return ports;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind({ address: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

// ---- the mock SFU ---------------------------------------------------------------------------------

interface Sender {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startSender(targets: Array<{ video: number; audio: number }>, rtcp: 'next-port' | 'none', safetySeconds: number, log: string): Promise<Sender> {
  const target = targets.flatMap((t) => [`127.0.0.1:${t.video}`, `127.0.0.1:${t.audio}`]).join(',');
  const child = track(
    spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'mock-sfu', 'main.js'), '--target', target, '--size', '640x480', '--fps', '30', '--codecs', 'vp8', '--rtcp', rtcp, '--duration', String(safetySeconds)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const out = createWriteStream(log);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  // The first run encodes one clip per host (about 0.6 s each); later runs find them cached.
  await waitForLine(child, (l) => l.includes('"event":"sending"'), 180_000, 'mock SFU start');
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.write('stop\n');
      await withTimeout(once(child, 'exit'), 10_000, 'mock SFU stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

// ---- one implementation, one scenario ---------------------------------------------------------------

interface Live {
  /** Process whose tree is "the pipeline". */
  pipelinePid: number;
  /** Resolves when output frames exist. */
  firstOutput: Promise<void>;
  /** Frames made so far and when that was known (ms, performance.now()), where the implementation tells. */
  frames(): { frames: number; at: number; dropped: number; duplicated: number } | null;
  /** Tapedeck: the live outputs as last reported. */
  outputs?(): OutputStatus[];
  /** Tapedeck: a command to the pipeline host. */
  command?(c: HostCommand): void;
  /** Graceful stop; resolves with how it ended. */
  stop(): Promise<{ killedAfterEos: boolean; note?: string }>;
  extraPids: Record<string, number>;
  close(): Promise<{ ingest?: HostIngestStats[] }>;
  outDir: string;
  senderTargets: Array<{ video: number; audio: number }>;
  rtcp: 'next-port' | 'none';
}

function hostMedia(id: string): HostMedia {
  return { hostId: id, displayName: id, video: { codec: 'VP8', payloadType: 96 }, audio: { codec: 'OPUS', payloadType: 111 }, camera: true, microphone: true };
}

function tapedeckConfig(s: Scenario, c: Canvas, spoolDir: string, o: Options): RecordingConfig {
  const common = {
    livestreamId: 'bench-media',
    spoolDir,
    snippetSeconds: c.snippetSeconds,
    startSequence: 0,
    audioBitrateKbps: c.audioKbps,
    noMediaWarningMs: 10_000,
    stopTimeoutMs: o.stopTimeoutMs,
    // Once a second, so the window's output frame count is at most a second off at each end.
    statsIntervalMs: 1000,
    jitterLatencyMs: c.jitterMs,
  };
  const hosts = hostIds(s.hosts).map(hostMedia);
  if (s.kind === 'individual') {
    return { ...common, kind: 'individual', recordingId: 'host-host-1-1', hostId: 'host-1', host: hosts[0]!, variant: 'av', videoBitrateKbps: c.videoKbps };
  }
  return {
    ...common,
    kind: 'composite',
    recordingId: 'composite',
    width: c.width,
    height: c.height,
    fps: c.fps,
    videoBitrateKbps: c.videoKbps,
    x264Preset: 'ultrafast',
    layout: { kind: 'grid' },
    hosts,
    // RTMP scenarios start without their destinations: `alternate` switches them on and off.
  };
}

async function startTapedeck(s: Scenario, c: Canvas, dir: string, o: Options): Promise<Live> {
  const outDir = join(dir, 'spool');
  mkdirSync(outDir, { recursive: true });
  const sup = new Runner('supervisor', join(dir, 'supervisor.log'));
  let ingest: Runner | null = null;
  let endpoints: HostEndpoints[] = [];
  let last: { stats: PipelineStats; at: number } | null = null;
  let outputs: OutputStatus[] = [];
  let resolveFirst!: () => void;
  const firstOutput = new Promise<void>((r) => (resolveFirst = r));
  sup.onReply = (r) => {
    if (r.type !== 'event') return;
    const e: HostEvent = r.event;
    if (e.type === 'outputs') outputs = e.outputs;
    if (e.type === 'stats') {
      last = { stats: e.stats, at: performance.now() };
      if (e.stats.outputs) outputs = e.stats.outputs;
      if (e.stats.framesOut > 0) resolveFirst();
    } else if (e.type === 'fragment-opened') {
      // The first snippet opens with the first encoded buffer; individual recordings have no
      // output videorate, so this is their only first-output signal.
      resolveFirst();
    } else if (e.type === 'error' || e.type === 'warning') {
      process.stderr.write(`  [tapedeck] ${e.type} ${e.code}: ${e.message}\n`);
    }
  };
  if (o.delivery === 'ingest') {
    ingest = new Runner('ingest', join(dir, 'ingest.log'));
    ingest.send({ type: 'open', hostIds: hostIds(s.hosts), portRange: '46000-46999' });
    endpoints = (await ingest.next('opened', 10_000)).endpoints;
    // Lip sync estimates go to the pipeline, as a media worker relays them.
    ingest.onReply = (r) => r.type === 'sync' && sup.send({ type: 'command', command: r.command });
  }
  sup.send({ type: 'start', config: tapedeckConfig(s, c, outDir, o) });
  const ready = await sup.next('ready', 30_000);
  if (ingest) ingest.send({ type: 'subscribe', inputs: ready.inputs });
  const portsOf = (i: InputPorts) => ({ video: i.video!.rtpPort, audio: i.audio!.rtpPort });
  return {
    pipelinePid: ready.pid,
    firstOutput,
    frames: () => {
      const l = last as { stats: PipelineStats; at: number } | null;
      // Only the composite has an output videorate (`outrate`) whose counters the stats carry.
      if (s.kind !== 'composite') return null;
      // The stats event's own clock (uptime) dates the counter better than when it arrived.
      return l ? { frames: l.stats.framesOut, at: l.stats.uptimeMs, dropped: l.stats.droppedOut, duplicated: 0 } : null;
    },
    outputs: () => outputs,
    command: (command) => sup.send({ type: 'command', command }),
    stop: async () => {
      sup.send({ type: 'stop', killAfterMs: o.stopTimeoutMs + 10_000 });
      const { info } = await sup.next('exit', o.stopTimeoutMs + 15_000);
      return { killedAfterEos: !info.clean, ...(info.clean ? {} : { note: info.reason }) };
    },
    extraPids: { supervisor: sup.pid, ...(ingest ? { ingest: ingest.pid } : {}) },
    close: async () => {
      let stats: HostIngestStats[] | undefined;
      if (ingest) {
        ingest.send({ type: 'close' });
        stats = (await ingest.next('closed', 10_000).catch(() => null))?.stats;
      }
      return stats ? { ingest: stats } : {};
    },
    outDir,
    senderTargets: ingest ? endpoints.map((e) => ({ video: e.video.port, audio: e.audio.port })) : ready.inputs.map(portsOf),
    // Direct: the pipeline's ports come from the OS, and port + 1 may be another input's RTP port.
    rtcp: ingest ? 'next-port' : 'none',
  };
}

/** Spawns a baseline in its own process group; stop = SIGINT (EOS), then a watchdog kills the group. */
function baselineProcess(cmd: string, args: string[], dir: string, o: Options): { child: ChildProcess; stop: () => Promise<{ killedAfterEos: boolean; note?: string }> } {
  writeFileSync(join(dir, 'command.txt'), `${cmd} ${args.map((a) => (/[\s;|[\]]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
  const child = track(spawn(cmd, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = createWriteStream(join(dir, `${cmd}.log`));
  child.stderr!.pipe(log);
  const exited = once(child, 'exit');
  return {
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return { killedAfterEos: false, note: `exited early (${child.exitCode ?? child.signalCode})` };
      child.kill('SIGINT');
      try {
        await withTimeout(exited, o.stopTimeoutMs, `${cmd} EOS`);
        return { killedAfterEos: false };
      } catch {
        // gst-launch-1.0 1.22 sometimes never exits after EOS although every chunk is finished.
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        await exited;
        return { killedAfterEos: true, note: `no exit within ${o.stopTimeoutMs} ms of SIGINT; process group killed` };
      }
    },
  };
}

async function startGstLaunch(s: Scenario, c: Canvas, dir: string, o: Options): Promise<Live> {
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  const ports = await freePortPairs(s.hosts * 2, 47_000);
  const hosts: HostPorts[] = hostIds(s.hosts).map((hostId, i) => ({ hostId, videoPort: ports[2 * i]!, audioPort: ports[2 * i + 1]! }));
  const args = s.kind === 'composite' ? gstLaunchComposite(hosts, c, outDir) : gstLaunchIndividual(hosts[0]!, c, outDir);
  const p = baselineProcess('gst-launch-1.0', args, dir, o);
  const stdout = createWriteStream(join(dir, 'gst-launch-1.0.out'));
  p.child.stdout!.pipe(stdout);
  // udpsrc has bound its port once the pipeline is PLAYING (READY→PAUSED binds).
  await waitForLine(p.child, (l) => l.includes('Setting pipeline to PLAYING'), 20_000, 'gst-launch-1.0 start');
  return {
    pipelinePid: p.child.pid!,
    firstOutput: pollUntil(() => readdirSync(outDir).some((f) => f.endsWith('.mp4')), o.firstFrameTimeoutMs, 'gst-launch-1.0 first snippet file'),
    frames: () => null,
    stop: p.stop,
    extraPids: {},
    close: async () => ({}),
    outDir,
    senderTargets: hosts.map((h) => ({ video: h.videoPort, audio: h.audioPort })),
    rtcp: 'next-port',
  };
}

async function startFfmpeg(s: Scenario, c: Canvas, dir: string, o: Options): Promise<Live> {
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  // ffmpeg's RTP demuxer binds port and port + 1 for each m-line: audio goes two above video.
  const ports = await freePortPairs(s.hosts * 2, 48_000);
  const hosts: HostPorts[] = hostIds(s.hosts).map((hostId, i) => ({ hostId, videoPort: ports[2 * i]!, audioPort: ports[2 * i + 1]! }));
  // Per host its video, then its audio: two ffmpeg inputs (see sdpFor).
  const sdps = hosts.flatMap((h) =>
    (['video', 'audio'] as const).map((media) => {
      const f = join(dir, `${h.hostId}-${media}.sdp`);
      writeFileSync(f, sdpFor(h, media));
      return f;
    }),
  );
  const args = s.kind === 'composite' ? ffmpegComposite(sdps, hosts, c, outDir) : ffmpegIndividual([sdps[0]!, sdps[1]!], c, outDir);
  const p = baselineProcess('ffmpeg', args, dir, o);
  let progress: Record<string, string> = {};
  let last: { frames: number; at: number; dropped: number; duplicated: number } | null = null;
  let resolveFirst!: () => void;
  const firstOutput = new Promise<void>((r) => (resolveFirst = r));
  let buf = '';
  p.child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const [k, v] = line.split('=');
      if (k === undefined || v === undefined) continue;
      progress[k.trim()] = v.trim();
      // `progress=` closes each block of -progress output.
      if (k.trim() === 'progress') {
        last = { frames: Number(progress.frame ?? 0), at: performance.now(), dropped: Number(progress.drop_frames ?? 0), duplicated: Number(progress.dup_frames ?? 0) };
        if (last.frames > 0) resolveFirst();
        progress = {};
      }
    }
  });
  return {
    pipelinePid: p.child.pid!,
    firstOutput: withTimeout(firstOutput, o.firstFrameTimeoutMs, 'ffmpeg first frame'),
    frames: () => last,
    stop: p.stop,
    extraPids: {},
    close: async () => ({}),
    outDir,
    senderTargets: hosts.map((h) => ({ video: h.videoPort, audio: h.audioPort })),
    rtcp: 'next-port',
  };
}

/** The first ERROR line a baseline printed (gst-launch, ffmpeg), for the failure message. */
function logTail(dir: string): string {
  for (const f of ['gst-launch-1.0.log', 'ffmpeg.log', 'supervisor.log']) {
    try {
      const text = readFileSync(join(dir, f), 'utf8');
      const line = text.split('\n').find((l) => /error/i.test(l)) ?? text.trim().split('\n').pop();
      if (line) return ` (${f}: ${line.trim().slice(0, 300)})`;
    } catch {
      // no such log for this implementation
    }
  }
  return '';
}

async function pollUntil(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

interface Sample {
  at: number;
  pipeline?: number;
  extra: Record<string, number | undefined>;
  sender?: number;
  frames: ReturnType<Live['frames']>;
  udpDrops?: number;
}

function sample(live: Live, sender: Sender): Sample {
  const extra: Record<string, number | undefined> = {};
  for (const [k, pid] of Object.entries(live.extraPids)) extra[k] = processCpuSeconds(pid);
  return { at: performance.now(), pipeline: treeCpuSeconds(live.pipelinePid), extra, sender: processCpuSeconds(sender.child.pid!), frames: live.frames(), udpDrops: udpReceiveBufferErrors() };
}

/**
 * ffprobe every snippet: video packet timestamps (no decode) judged against the frame rate, and the
 * seconds of video and of audio the snippets hold (an implementation that lost its audio input
 * still writes every video frame).
 */
async function judgeSnippets(dir: string, fps: number): Promise<{ snippets: number; frames: FrameTiming; videoSeconds: number; audioSeconds: number }> {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.mp4$/.test(f)).sort() : [];
  const timings: FrameTiming[] = [];
  let videoSeconds = 0;
  let audioSeconds = 0;
  for (const f of files) {
    try {
      const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', join(dir, f)], { maxBuffer: 64 * 1024 * 1024 });
      timings.push(frameTiming(stdout.split('\n').filter(Boolean).map(Number), fps));
      const streams = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,duration', '-of', 'csv=p=0', join(dir, f)]);
      const durations = streamDurations(streams.stdout);
      videoSeconds += durations.video;
      audioSeconds += durations.audio;
    } catch {
      // An unreadable snippet counts as zero frames: the totals then fall short of expected.
      timings.push({ frames: 0, expected: 0, dropped: 0, duplicated: 0 });
    }
  }
  return { snippets: files.length, frames: sumTimings(timings), videoSeconds, audioSeconds };
}

/** Whether a run did less than its input asked: RTP left unread in the window, or audio missing from its snippets. */
const lostInput = (r: RunResult) => (r.udpReceiveDropped ?? 0) > 0 || (r.videoSeconds !== undefined && r.audioSeconds !== undefined && audioShort(r.videoSeconds, r.audioSeconds));

const round = (n: number | undefined, d = 3) => (n === undefined || !Number.isFinite(n) ? undefined : Number(n.toFixed(d)));

async function runOne(s: Scenario, impl: Impl, o: Options, work: string): Promise<RunResult> {
  const name = scenarioName(s);
  const dir = join(work, `${name}-${impl}`);
  mkdirSync(dir, { recursive: true });
  const c = canvasFor(s, o);
  const base: RunResult = { scenario: name, kind: s.kind, hosts: s.hosts, impl, ok: false };
  let live: Live | null = null;
  let sender: Sender | null = null;
  let stopping: ReturnType<Live['stop']> | null = null;
  const stopLive = (l: Live) => (stopping ??= l.stop());
  try {
    // ffmpeg opens its inputs one at a time and waits for packets on each: the sender must already run.
    const starters = { tapedeck: startTapedeck, 'gst-launch': startGstLaunch, ffmpeg: startFfmpeg };
    live = await starters[impl](s, c, dir, o);
    // Awaited below, after the sender starts; until then a rejection must not count as unhandled.
    live.firstOutput.catch(() => undefined);
    const safety = o.warmup + o.seconds + o.firstFrameTimeoutMs / 1000 + o.stopTimeoutMs / 1000 + 60;
    sender = await startSender(live.senderTargets, live.rtcp, safety, join(dir, 'mock-sfu.log'));
    await withTimeout(live.firstOutput, o.firstFrameTimeoutMs, `${impl}: first output`);
    await sleep(o.warmup * 1000);
    const a = sample(live, sender);
    const rtmpAlternation = s.rtmp?.length ? await alternate(live, s.rtmp, o) : undefined;
    if (!rtmpAlternation) await sleep(o.seconds * 1000);
    const b = sample(live, sender);
    if (a.pipeline === undefined || b.pipeline === undefined) throw new Error(`the pipeline process ended during the window${logTail(dir)}`);
    const wall = (b.at - a.at) / 1000;
    const rtmp = rtmpAlternation
      ? { destinations: rtmpAlternation.destinations, connected: Math.min(...rtmpAlternation.windows.filter((w) => w.on).map((w) => w.connected ?? 0)), bytesSent: rtmpAlternation.bytesSent }
      : undefined;
    const peak = peakRssMb(live.pipelinePid);
    const supPeak = live.extraPids.supervisor ? peakRssMb(live.extraPids.supervisor) : undefined;
    const ingPeak = live.extraPids.ingest ? peakRssMb(live.extraPids.ingest) : undefined;
    // RTP for the rest of the run (20-30 s of EOS in the worst case) would only cost CPU nobody measures.
    const t0 = performance.now();
    const stopped = await stopLive(live);
    const stopMs = performance.now() - t0;
    await sender.stop();
    const closed = await live.close();
    const per = (x?: number, y?: number) => (x === undefined || y === undefined ? undefined : (y - x) / wall);
    const cpu = per(a.pipeline, b.pipeline);
    const supCpu = per(a.extra.supervisor, b.extra.supervisor);
    const ingCpu = per(a.extra.ingest, b.extra.ingest);
    let windowFps: number | null = null;
    let rcDropped: number | null = null;
    let rcDup: number | null = null;
    if (a.frames && b.frames && b.frames.at > a.frames.at) {
      windowFps = (b.frames.frames - a.frames.frames) / ((b.frames.at - a.frames.at) / 1000);
      rcDropped = b.frames.dropped - a.frames.dropped;
      rcDup = impl === 'tapedeck' ? null : b.frames.duplicated - a.frames.duplicated;
    }
    const judged = await judgeSnippets(live.outDir, c.fps);
    const notes: string[] = [];
    if (windowFps !== null && windowFps < c.fps * 0.97) notes.push(`${windowFps.toFixed(2)} fps out in the window`);
    if (cpu !== undefined && cpu > 1.9) notes.push(`${cpu.toFixed(2)} CPU-s/s: more than the 2 cores give`);
    if (judged.frames.dropped > 0) notes.push(`${judged.frames.dropped} frames missing from the snippets`);
    if (audioShort(judged.videoSeconds, judged.audioSeconds)) notes.push(`the snippets hold ${judged.audioSeconds.toFixed(1)} s of audio for ${judged.videoSeconds.toFixed(1)} s of video`);
    if (stopMs > 5000 && !stopped.killedAfterEos) notes.push(`stop took ${(stopMs / 1000).toFixed(1)} s (backlog to drain)`);
    if (stopped.note) notes.push(stopped.note);
    const udpDropped = a.udpDrops === undefined || b.udpDrops === undefined ? undefined : b.udpDrops - a.udpDrops;
    if (udpDropped !== undefined && udpDropped > 0) notes.push(`${udpDropped} RTP packets dropped unread (receive buffer full) in the window`);
    if (rtmp && rtmp.connected < rtmp.destinations) notes.push(`${rtmp.destinations - rtmp.connected} RTMP destination(s) not connected at the end of the window`);
    const ingestLost = closed.ingest?.reduce((sum, h) => sum + h.video.lost + h.audio.lost, 0);
    return {
      ...base,
      ok: true,
      windowSeconds: round(wall, 2),
      cpuPerMediaSecond: round(cpu),
      ...(impl === 'tapedeck'
        ? {
            supervisorCpuPerMediaSecond: round(supCpu),
            ...(ingCpu !== undefined ? { ingestCpuPerMediaSecond: round(ingCpu) } : {}),
            tapedeckTotalCpuPerMediaSecond: round((cpu ?? 0) + (supCpu ?? 0) + (ingCpu ?? 0)),
            supervisorPeakRssMb: round(supPeak, 1),
            ...(ingPeak !== undefined ? { ingestPeakRssMb: round(ingPeak, 1) } : {}),
          }
        : {}),
      senderCpuPerMediaSecond: round(per(a.sender, b.sender)),
      peakRssMb: round(peak, 1),
      windowFps: windowFps === null ? null : round(windowFps, 2)!,
      rateControlDropped: rcDropped,
      rateControlDuplicated: rcDup,
      snippets: judged.snippets,
      frames: judged.frames,
      videoSeconds: round(judged.videoSeconds, 2),
      audioSeconds: round(judged.audioSeconds, 2),
      stopMs: Math.round(stopMs),
      killedAfterEos: stopped.killedAfterEos,
      // Real time: the window's output rate held (where known), the cores sufficed, no frames missing,
      // and no backlog to drain at the end.
      keptRealTime: notes.filter((n) => !n.includes('process group killed')).length === 0,
      ...(notes.length ? { realTimeNote: notes.join('; ') } : {}),
      ...(ingestLost !== undefined ? { ingestLost } : {}),
      ...(udpDropped !== undefined ? { udpReceiveDropped: udpDropped } : {}),
      ...(rtmp ? { rtmp } : {}),
      ...(rtmpAlternation ? { rtmpAlternation } : {}),
    };
  } catch (e) {
    const message = (e as Error).message;
    return { ...base, error: message.includes('.log: ') ? message : `${message}${logTail(dir)}` };
  } finally {
    // Whatever happened, nothing of this run survives into the next one.
    await sender?.stop().catch(() => undefined);
    if (live) await Promise.race([stopLive(live).catch(() => undefined), sleep(o.stopTimeoutMs + 16_000)]);
    killAll();
  }
}

/**
 * Names of the threads the RTMP outputs add: the shared mux's queues and its streaming thread
 * (which writes into the pipe). The destinations are sent from the pipeline host's main (event
 * loop) thread, which runs with or without them: its share is what it costs more while they are on.
 */
const OUTPUT_THREAD = /^flv-/;
const RTMP_WINDOWS = 6;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function alternate(live: Live, urls: string[], o: Options): Promise<RtmpAlternation> {
  if (!live.command || !live.outputs) throw new Error('RTMP scenarios need Tapedeck');
  const windowSeconds = Math.min(o.seconds, 20);
  const windows: RtmpAlternation['windows'] = [];
  const onNames = new Map<string, number[]>();
  // every thread name's CPU-s/s summed over the windows, on and off
  const byName = { on: new Map<string, number>(), off: new Map<string, number>() };
  let bytesSent = 0;
  for (let i = 0; i < RTMP_WINDOWS; i++) {
    // off, on, on, off, off, on
    const on = [false, true, true, false, false, true][i]!;
    const wasOn = i > 0 && windows[i - 1]!.on;
    if (on !== wasOn || i === 0) {
      live.command({ type: 'set-outputs', rtmp: on ? urls : [] });
      // Connected (handshake done, the keyframe asked for on attach sent) or gone, then settled.
      await pollUntil(() => (live.outputs!().filter((x) => x.kind === 'rtmp' && x.state === 'connected').length === (on ? urls.length : 0)), 20_000, `${on ? urls.length : 0} RTMP destinations ${on ? 'connected' : 'removed'}`);
      await sleep(3000);
    }
    const bytesBefore = live.outputs().reduce((t, x) => t + x.bytesSent, 0);
    const t0 = performance.now();
    const c0 = treeCpuSeconds(live.pipelinePid);
    const th0 = threadCpuSeconds(live.pipelinePid);
    await sleep(windowSeconds * 1000);
    const c1 = treeCpuSeconds(live.pipelinePid);
    const th1 = threadCpuSeconds(live.pipelinePid);
    const wall = (performance.now() - t0) / 1000;
    if (c0 === undefined || c1 === undefined) throw new Error('the pipeline process ended during the RTMP windows');
    const perThread = threadCpuDelta(th0, th1);
    const main0 = th0.get(live.pipelinePid);
    const main1 = th1.get(live.pipelinePid);
    const mainThread = main0 && main1 ? (main1.cpuSeconds - main0.cpuSeconds) / wall : 0;
    let outputThreads = 0;
    for (const [name, cpu] of perThread) {
      const sums = byName[on ? 'on' : 'off'];
      sums.set(name, (sums.get(name) ?? 0) + cpu / wall);
      if (!OUTPUT_THREAD.test(name)) continue;
      if (name === main1?.name) throw new Error(`the main thread's name ${name} looks like an output thread's`);
      outputThreads += cpu / wall;
      if (on) onNames.set(name, [...(onNames.get(name) ?? []), cpu / wall]);
    }
    const outs = live.outputs().filter((x) => x.kind === 'rtmp');
    if (on) bytesSent += outs.reduce((t, x) => t + x.bytesSent, 0) - bytesBefore;
    windows.push({ on, cpu: (c1 - c0) / wall, outputThreads, mainThread, ...(on ? { connected: outs.filter((x) => x.state === 'connected').length } : {}) });
  }
  live.command({ type: 'set-outputs', rtmp: [] });
  const off = mean(windows.filter((w) => !w.on).map((w) => w.cpu));
  const onCpu = mean(windows.filter((w) => w.on).map((w) => w.cpu));
  const pairPercents: number[] = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const [x, y] = [windows[i]!, windows[i + 1]!];
    const [offW, onW] = x.on ? [y, x] : [x, y];
    pairPercents.push(Number((((onW.cpu - offW.cpu) / offW.cpu) * 100).toFixed(1)));
  }
  const mainThreadMore = mean(windows.filter((w) => w.on).map((w) => w.mainThread)) - mean(windows.filter((w) => !w.on).map((w) => w.mainThread));
  const outputThreads = mean(windows.filter((w) => w.on).map((w) => w.outputThreads)) + mainThreadMore;
  return {
    destinations: urls.length,
    windowSeconds,
    windows: windows.map((w) => ({ ...w, cpu: round(w.cpu, 4)!, outputThreads: round(w.outputThreads, 4)!, mainThread: round(w.mainThread, 4)! })),
    off: round(off, 4)!,
    on: round(onCpu, 4)!,
    extraPercent: round(((onCpu - off) / off) * 100, 1)!,
    pairPercents,
    outputThreads: round(outputThreads, 4)!,
    outputThreadsPercent: round((outputThreads / off) * 100, 1)!,
    outputThreadNames: Object.fromEntries([...onNames].map(([k, v]) => [k, round(v.reduce((a, b) => a + b, 0) / (RTMP_WINDOWS / 2), 4)!])),
    mainThreadMore: round(mainThreadMore, 4)!,
    otherThreadsMore: Object.fromEntries(
      [...new Set([...byName.on.keys(), ...byName.off.keys()])]
        .filter((name) => !OUTPUT_THREAD.test(name))
        .map((name) => [name, ((byName.on.get(name) ?? 0) - (byName.off.get(name) ?? 0)) / (RTMP_WINDOWS / 2)] as const)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 8)
        .map(([k, v]) => [k, round(v, 4)!]),
    ),
    bytesSent,
  };
}

// ---- report ---------------------------------------------------------------------------------------

const fmt = (n: number | null | undefined, d = 3) => (n === undefined || n === null ? '-' : n.toFixed(d));
const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

interface Summary {
  scenario: string;
  tapedeckPerFfmpeg?: number;
  tapedeckPerGstLaunch?: number;
  tapedeckTotalPerFfmpeg?: number;
  /** Implementations of this scenario that left RTP unread in their window or wrote short audio: their CPU is for less work. */
  incomplete: Impl[];
}

function summarize(results: RunResult[]): { summaries: Summary[]; goals: Record<string, string> } {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const get = (sc: string, impl: Impl) => results.find((r) => r.scenario === sc && r.impl === impl && r.ok);
  const summaries = scenarios.map((sc) => {
    const t = get(sc, 'tapedeck');
    const f = get(sc, 'ffmpeg');
    const g = get(sc, 'gst-launch');
    return {
      scenario: sc,
      tapedeckPerFfmpeg: round(ratio(t?.cpuPerMediaSecond, f?.cpuPerMediaSecond), 2),
      tapedeckPerGstLaunch: round(ratio(t?.cpuPerMediaSecond, g?.cpuPerMediaSecond), 2),
      tapedeckTotalPerFfmpeg: round(ratio(t?.tapedeckTotalCpuPerMediaSecond, f?.cpuPerMediaSecond), 2),
      incomplete: [t, f, g].filter((r): r is RunResult => !!r && lostInput(r)).map((r) => r.impl),
    };
  });
  const composites = summaries.filter((s) => s.scenario.startsWith('composite-'));
  // A ratio is judged only where neither side lost input (RTP unread, audio missing): otherwise one did less work.
  const judged = composites.filter((s) => s.tapedeckPerFfmpeg !== undefined && !s.incomplete.some((i) => i === 'tapedeck' || i === 'ffmpeg'));
  const unjudged = composites.filter((s) => s.tapedeckPerFfmpeg !== undefined && !judged.includes(s));
  const worse = judged.filter((s) => s.tapedeckPerFfmpeg! > 1);
  const four = get('composite-4', 'tapedeck');
  const rtmpGoal = (n: number) => {
    const alt = get(`composite-4-rtmp${n}`, 'tapedeck')?.rtmpAlternation;
    if (!alt) return 'not measured';
    const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
    return (
      `${sign(alt.extraPercent)} (${fmt(alt.on, 4)} vs ${fmt(alt.off, 4)} CPU-s/s with the destinations off, ${alt.windows.length} alternating ${alt.windowSeconds}-s windows in one pipeline; ` +
      `per pair ${alt.pairPercents.map(sign).join(', ')}); output threads ${fmt(alt.outputThreads, 4)} CPU-s/s = ${sign(alt.outputThreadsPercent)}; ` +
      `${Math.min(...alt.windows.filter((w) => w.on).map((w) => w.connected ?? 0))}/${alt.destinations} connected, ${(alt.bytesSent / 1e6).toFixed(1)} MB sent`
    );
  };
  const twentyFive = get('composite-25', 'tapedeck');
  const goals = {
    'composite CPU at or below ffmpeg at every N':
      (judged.length === 0 ? 'not measured' : worse.length === 0 && unjudged.length === 0 ? `met at ${judged.map((s) => s.scenario).join(', ')}` : worse.length === 0 ? `not judged at every N; at or below at ${judged.map((s) => s.scenario).join(', ')}` : `NOT met at ${worse.map((s) => `${s.scenario} (${s.tapedeckPerFfmpeg}x)`).join(', ')}`) +
      (unjudged.length ? `; not comparable (less done than the input asks, RTP left unread or audio missing, by ${unjudged.map((s) => `${s.incomplete.join('+')} at ${s.scenario}`).join(', ')})` : ''),
    'peak memory < 150 MB at 4 hosts': !four ? 'not measured' : `${(four.peakRssMb ?? Infinity) < 150 ? 'met' : 'NOT met'}: pipeline host ${fmt(four.peakRssMb, 1)} MB (supervisor ${fmt(four.supervisorPeakRssMb, 1)} MB, ingest ${fmt(four.ingestPeakRssMb, 1)} MB)`,
    'one RTMP destination on the 4-host composite (pipeline CPU)': rtmpGoal(1),
    // Met only by both measures: the whole process's windows disagree by more than the cost, and
    // the outputs' own threads are a floor of it (they leave out what the tees and queues add).
    'three RTMP destinations cost under 5% more CPU than the 4-host composite alone': (() => {
      const alt = get('composite-4-rtmp3', 'tapedeck')?.rtmpAlternation;
      if (!alt) return 'not measured';
      const met = alt.extraPercent < 5 && alt.outputThreadsPercent < 5;
      return `${met ? 'met' : 'NOT met'} (met needs the whole process and the output threads both under 5%): ${rtmpGoal(3)}`;
    })(),
    '25 hosts in real time at 15 fps, no dropped output frames': !twentyFive
      ? 'not measured'
      : `${twentyFive.keptRealTime && (twentyFive.frames?.dropped ?? 1) === 0 && (twentyFive.rateControlDropped ?? 0) === 0 ? 'met' : 'NOT met'}: ${fmt(twentyFive.windowFps, 2)} fps in the window, ${twentyFive.frames?.dropped ?? '-'} missing, ${twentyFive.rateControlDropped ?? '-'} dropped by outrate${twentyFive.realTimeNote ? `; ${twentyFive.realTimeNote}` : ''}`,
  };
  return { summaries, goals };
}

function printTable(results: RunResult[], summaries: Summary[], goals: Record<string, string>): void {
  const head = ['scenario', 'impl', 'CPU-s/s', 'peak MB', 'fps(win)', 'frames/exp', 'miss', 'dup', 'stop s', 'real time'];
  const rows = results.map((r) =>
    r.ok
      ? [
          r.scenario,
          r.impl,
          fmt(r.cpuPerMediaSecond) + (r.impl === 'tapedeck' ? ` (+sup ${fmt(r.supervisorCpuPerMediaSecond)}${r.ingestCpuPerMediaSecond !== undefined ? ` +ing ${fmt(r.ingestCpuPerMediaSecond)}` : ''})` : ''),
          fmt(r.peakRssMb, 1) + (r.impl === 'tapedeck' ? ` (sup ${fmt(r.supervisorPeakRssMb, 0)})` : ''),
          fmt(r.windowFps, 2),
          `${r.frames?.frames ?? '-'}/${r.frames?.expected ?? '-'}`,
          String(r.frames?.dropped ?? '-'),
          String((r.frames?.duplicated ?? 0) + (r.rateControlDuplicated ?? 0)),
          fmt((r.stopMs ?? 0) / 1000, 1) + (r.killedAfterEos ? ' KILLED' : ''),
          r.keptRealTime ? 'yes' : `NO: ${r.realTimeNote ?? ''}`,
        ]
      : [r.scenario, r.impl, 'FAILED', '', '', '', '', '', '', 'see below'],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n\n`);
  for (const r of results) {
    if (!r.ok) process.stdout.write(`${r.scenario} ${r.impl} failed: ${r.error}\n`);
    else if (r.firstAttemptError) process.stdout.write(`${r.scenario} ${r.impl}: first attempt failed: ${r.firstAttemptError}\n`);
  }
  process.stdout.write('Tapedeck pipeline CPU relative to the baselines (< 1: cheaper):\n');
  for (const s of summaries) {
    process.stdout.write(
      `  ${s.scenario.padEnd(13)} Tapedeck/ffmpeg ${fmt(s.tapedeckPerFfmpeg, 2)}  Tapedeck/gst-launch ${fmt(s.tapedeckPerGstLaunch, 2)}  (with supervisor+ingest)/ffmpeg ${fmt(s.tapedeckTotalPerFfmpeg, 2)}` +
        `${s.incomplete.length ? `  (${s.incomplete.join(', ')} left RTP unread or audio missing: not the same work)` : ''}\n`,
    );
  }
  for (const r of results) {
    const alt = r.rtmpAlternation;
    if (!alt) continue;
    process.stdout.write(`\n${r.scenario}: windows (CPU-s/s) ${alt.windows.map((w) => `${w.on ? 'on' : 'off'} ${w.cpu.toFixed(4)}`).join(', ')}\n`);
    process.stdout.write(`  output threads while on: ${Object.entries(alt.outputThreadNames).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}; main thread (the RTMP sending), on − off: ${alt.mainThreadMore >= 0 ? '+' : ''}${alt.mainThreadMore.toFixed(4)}\n`);
    process.stdout.write(`  other threads, on − off: ${Object.entries(alt.otherThreadsMore).map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${v.toFixed(4)}`).join(', ')}\n`);
  }
  process.stdout.write('\nGoals:\n');
  for (const [k, v] of Object.entries(goals)) process.stdout.write(`  ${k}: ${v}\n`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'tapedeck-bench-media-'));
  const onSignal = () => {
    killAll();
    void stopRtmp();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Tapedeck's pipeline hosts preload the Opus size cache unless TAPEDECK_OPUS_SIZE_CACHE=false (the
  // baselines never do): said up front and kept in the JSON, so runs with and without compare.
  const opusSizeCache = opusSizeCacheState(opusSizeCacheEnabled(inheritedEnv()));
  process.stdout.write(`bench:media: ${o.scenarios.map(scenarioName).join(', ')}; ${o.impls.join(', ')}; ${o.seconds} s each after ${o.warmup} s warm-up; Tapedeck RTP via ${o.delivery}; Opus size cache ${opusSizeCache}; work in ${work}\n`);
  const startedAt = new Date();
  const results: RunResult[] = [];
  // RTMP scenarios stream to a local nginx-rtmp (relay only) on loopback: the composite's cost of
  // muxing and sending, one destination key each.
  const rtmpScenarios = o.scenarios.filter((s) => s.rtmp?.length);
  const unavailable = rtmpScenarios.length > 0 && o.impls.includes('tapedeck') ? RtmpServer.available() : null;
  if (unavailable) process.stdout.write(`RTMP scenarios skipped: ${unavailable}\n`);
  const rtmpServer = rtmpScenarios.length > 0 && o.impls.includes('tapedeck') && !unavailable ? await RtmpServer.start({ record: false }) : null;
  stopRtmp = () => rtmpServer?.kill();
  for (const s of rtmpScenarios) s.rtmp = s.rtmp!.map((_, i) => rtmpServer?.url(`bench-${s.rtmp!.length}-${i}`) ?? '');
  for (const s of o.scenarios) {
    if (s.rtmp && (!rtmpServer || !o.impls.includes('tapedeck'))) continue;
    for (const impl of o.impls) {
      // The baselines have no RTMP output: only Tapedeck runs the RTMP scenarios.
      if (s.rtmp && impl !== 'tapedeck') continue;
      process.stdout.write(`- ${s.kind === 'composite' ? `composite, ${s.hosts} host(s)${s.rtmp ? ` + ${s.rtmp.length} RTMP` : ''}` : 'individual'}: ${impl} ... `);
      let r = await runOne(s, impl, o, work);
      // One retry: gst-launch-1.0 now and then fails at start ("Buffer has no PTS" from mp4mux);
      // the failure stays in the results as `firstAttemptError`.
      if (!r.ok) {
        process.stdout.write(`failed (${r.error}); once more ... `);
        const again = await runOne(s, impl, o, join(work, 'retry'));
        r = { ...again, firstAttemptError: r.error ?? 'unknown' };
      }
      results.push(r);
      process.stdout.write(r.ok ? `${fmt(r.cpuPerMediaSecond)} CPU-s/s, ${fmt(r.peakRssMb, 1)} MB peak${r.keptRealTime ? '' : `, NOT real time (${r.realTimeNote})`}\n` : `failed: ${r.error}\n`);
    }
  }
  await rtmpServer?.stop();
  const { summaries, goals } = summarize(results);
  printTable(results, summaries, goals);
  const outDir = join(PROJECT_ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `media-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpus: (await import('node:os')).cpus().length, loadAverageAtStart: (await import('node:os')).loadavg(), opusSizeCache };
  writeFileSync(file, `${JSON.stringify({ bench: 'media', startedAt: startedAt.toISOString(), options: { ...o, scenarios: undefined }, machine, results, summaries, goals }, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${file}\n`);
  if (o.keep) process.stdout.write(`snippets and logs kept in ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}

let stopRtmp: () => unknown = () => undefined;

function scenarioName(s: Scenario): string {
  return s.kind === 'composite' ? `composite-${s.hosts}${s.rtmp?.length ? `-rtmp${s.rtmp.length}` : ''}` : 'individual';
}

main().catch((e: unknown) => {
  killAll();
  void stopRtmp();
  process.stderr.write(`bench:media: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
