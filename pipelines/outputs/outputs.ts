// Live outputs of the composite as data: RTMP destinations and the HLS rendition, the bins that
// carry them (pure specs, built here and instantiated by the pipeline host), URL validation,
// stream-key redaction and the retry backoff. No Node or GStreamer imports: workflows and the API
// use the validation and redaction too.
//
//   composite … vparse ─▶ vtee ─▶ vq2 → snippets.video          (the recording, unchanged)
//                          ├────▶ out-flv bin (the shared FLV mux: while any RTMP destination is attached)
//                          └────▶ out-hls bin
//   composite … aenc-parse ─▶ atee ─▶ aq → snippets.audio
//                          ├────▶ out-flv bin
//                          └────▶ out-hls bin
//
//   FLV mux:   video ─▶ flv-vok errorignore → flv-vq queue(leaky) ─▶ flv-mux flvmux(streamable) → flv-sink fdsink ─▶ pipe
//              audio ─▶ flv-aok errorignore → flv-aq queue(leaky) ─┘
//   pipe ─▶ FlvFeed (event loop, every 50 ms) ─▶ RtmpPublisher per destination ─▶ TCP / TLS
//   HLS bin:   video ─▶ hls-vok → hls-vq → hls-vparse h264parse ─▶ hls-sink hlssink2 (video)
//              audio ─▶ hls-aok → hls-aq → hls-aparse aacparse  ─▶ hls-sink (audio)
//
// The encode is shared, and so is the FLV mux: a destination only sends. Each destination is an
// RTMP connection on the pipeline host's event loop (rtmp-publisher.ts), fed the mux's tags; one
// that joins the running stream late (added live, or retried) gets the stream's latest headers
// (onMetaData, the AVC and AAC sequence headers) and starts at the next keyframe, which the host
// asks the encoder for.
//
// `errorignore` turns a flow error into OK before it reaches a tee (a tee returns a branch's error
// upstream, which would stop the recording's encoder thread); the leaky queues drop instead of
// blocking, so a mux or HLS branch that stops consuming never stalls the recording.
import { leakyQueue } from '../builders/common';
import type { ElementSpec, LinkSpec } from '../spec';

export type OutputKind = 'rtmp' | 'hls';
export type OutputState = 'connecting' | 'connected' | 'retrying' | 'failed' | 'stopped';

/** What the composite streams besides the recording: the desired set, replaced as a whole. */
export interface OutputsDesired {
  rtmp: string[];
  hls: boolean;
}

export interface HlsSettings {
  /** Target segment length; segments are cut at the 1-second GOP, so whole seconds. */
  segmentSeconds: number;
  /** Segments listed in the rolling playlist. */
  playlistLength: number;
  /** Folder the segments and playlist are written to (inside the recording's spool folder). */
  dir: string;
  /** Prefix of this pipeline run's segment names: a restarted pipeline numbers from 0 again. */
  segmentPrefix: string;
}

/** One output's state as reported in stats and status. Never carries a stream key. */
export interface OutputStatus {
  id: string;
  kind: OutputKind;
  /** Redacted: `rtmp://host:port/app/***` for RTMP, the playlist's local name for HLS. */
  target: string;
  state: OutputState;
  /** Connection attempts since the output was added (1 = the first). */
  attempts: number;
  bytesSent: number;
  since: string;
  lastError?: string;
  /** When the next attempt is due (retrying). */
  retryAt?: string;
}

export const MAX_RTMP_OUTPUTS = 5;
export const RETRY_BASE_MS = 1000;
export const RETRY_MAX_MS = 30_000;

export class InvalidOutputUrl extends Error {
  readonly type = 'InvalidOutputUrl';
}

export interface RtmpTarget {
  scheme: 'rtmp' | 'rtmps';
  host: string;
  port: number;
  /** The application (first path segment). */
  app: string;
  /** Everything after the app: the stream key. Secret. */
  key: string;
}

const RTMP_URL = /^(rtmps?):\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/([^/?#\s]+)\/([^\s#]+)$/;

/** What is wrong with an RTMP destination (never repeating its key), or undefined. */
export function rtmpUrlProblem(url: unknown): string | undefined {
  const m = typeof url === 'string' ? RTMP_URL.exec(url) : null;
  if (!m) return `must be an rtmp:// or rtmps:// URL of the form rtmp://host[:port]/app/streamkey (got ${typeof url === 'string' ? redactRtmpUrl(url) : typeof url})`;
  const port = m[3] ? Number(m[3]) : 0;
  if (m[3] && (port < 1 || port > 65535)) return `has an invalid port ${port}`;
  return undefined;
}

/** Parses and validates an RTMP destination; the error names the field and never repeats the key. */
export function parseRtmpUrl(url: string, field = 'rtmp'): RtmpTarget {
  const problem = rtmpUrlProblem(url);
  if (problem) throw new InvalidOutputUrl(`${field} ${problem}`);
  const m = RTMP_URL.exec(url)!;
  const scheme = m[1] as 'rtmp' | 'rtmps';
  const port = m[3] ? Number(m[3]) : scheme === 'rtmps' ? 443 : 1935;
  return { scheme, host: m[2]!, port, app: m[4]!, key: m[5]! };
}

/** The URL with its stream key (and any credentials) replaced: safe for logs, status and errors. */
export function redactRtmpUrl(url: string): string {
  const m = /^([a-z0-9+.-]+:\/\/)(?:[^@/]*@)?([^/?#]*)(?:\/([^/?#]*))?/i.exec(url);
  if (!m) return '***';
  return `${m[1]}${m[2]}${m[3] ? `/${m[3]}` : ''}/***`;
}

/** Every RTMP(S) URL in a free text (an error message, a debug string) redacted. */
export function redactText(text: string): string {
  return text.replace(/rtmps?:\/\/[^\s'"<>]+/gi, (u) => redactRtmpUrl(u));
}

/** A stable id for a destination that reveals nothing of its key (FNV-1a of the whole URL). */
export function rtmpOutputId(url: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) {
    h ^= url.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `rtmp-${h.toString(16).padStart(8, '0')}`;
}

export const HLS_OUTPUT_ID = 'hls';
export const HLS_PLAYLIST = 'playlist.m3u8';
export const hlsPrefix = (livestreamId: string) => `livestreams/${livestreamId}/hls`;

/** Public URL of the HLS playlist in the bucket: path style, so the playlist's relative segment names resolve. */
export function hlsPlaylistUrl(bucket: string, livestreamId: string, storageEmulator?: URL): string {
  const base = storageEmulator ? storageEmulator.origin : 'https://storage.googleapis.com';
  return `${base}/${bucket}/${hlsPrefix(livestreamId)}/${HLS_PLAYLIST}`;
}

/** Segment file names hlssink2 writes: `{run prefix}-{index:06d}.ts`. */
export const HLS_SEGMENT = /^[a-z0-9]+-\d{6,}\.ts$/;

/** Delay before attempt `attempt + 1` after `attempt` consecutive failures: 1 s doubling to 30 s, ±20% jitter. */
export function retryDelayMs(failures: number, random = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Normalises a desired set: validated, de-duplicated, at most MAX_RTMP_OUTPUTS. */
export function normaliseOutputs(desired: Partial<OutputsDesired> | undefined, field = 'rtmp'): OutputsDesired {
  const rtmp = [...new Set(desired?.rtmp ?? [])];
  if (rtmp.length > MAX_RTMP_OUTPUTS) throw new InvalidOutputUrl(`${field} takes at most ${MAX_RTMP_OUTPUTS} destinations (got ${rtmp.length})`);
  rtmp.forEach((u, i) => parseRtmpUrl(u, `${field}[${i}]`));
  return { rtmp, hls: desired?.hls ?? false };
}

/** Names of an output bin's elements. */
export const outputNames = (id: string) => ({
  bin: `out-${id}`,
  videoIgnore: `${id}-vok`,
  videoQueue: `${id}-vq`,
  audioIgnore: `${id}-aok`,
  audioQueue: `${id}-aq`,
  mux: `${id}-mux`,
  sink: `${id}-sink`,
});

/** The shared FLV mux's id: its bin is `out-flv`, so its bus messages are attributed like an output's. */
export const FLV_MUX_ID = 'flv';

/** What an output bin takes in: the encoded video and audio (from vtee/atee). */
export type OutputInput = 'video' | 'audio';

export interface OutputBinSpec {
  id: string;
  kind: OutputKind | 'flv-mux';
  elements: ElementSpec[];
  links: LinkSpec[];
  /** Elements whose sink pads become the bin's ghost pads, each fed by the tee of its input. */
  inputs: Partial<Record<OutputInput, string>>;
}

/** errorignore → leaky queue: the front of every output bin, per medium. */
function front(ignore: string, queueName: string, maxMs: number): ElementSpec[] {
  const q = leakyQueue(queueName, maxMs);
  return [
    { name: ignore, factory: 'errorignore', props: { 'ignore-error': true, 'ignore-notlinked': true, 'ignore-notnegotiated': true, 'convert-to': 'ok' } },
    { ...q, props: { ...q.props, silent: true } },
  ];
}

/**
 * The FLV mux the RTMP destinations share: one mux for all of them, written into a pipe whose
 * other end the RTMP senders read on the event loop (FlvFeed). `fd` is the pipe's write end.
 */
export function buildFlvMux(fd: number): OutputBinSpec {
  const n = outputNames(FLV_MUX_ID);
  const v = front(n.videoIgnore, n.videoQueue, 2000);
  const a = front(n.audioIgnore, n.audioQueue, 2000);
  return {
    id: FLV_MUX_ID,
    kind: 'flv-mux',
    elements: [
      ...v,
      ...a,
      { name: n.mux, factory: 'flvmux', props: { streamable: true, latency: 100_000_000 } },
      // async=false: nothing to preroll; a pipe that is full waits in poll, which NULL interrupts.
      { name: n.sink, factory: 'fdsink', props: { fd, sync: false, async: false, 'enable-last-sample': false } },
    ],
    links: [
      { from: n.videoIgnore, to: n.videoQueue },
      { from: n.audioIgnore, to: n.audioQueue },
      { from: n.videoQueue, to: n.mux, toPad: 'video' },
      { from: n.audioQueue, to: n.mux, toPad: 'audio' },
      { from: n.mux, to: n.sink },
    ],
    inputs: { video: n.videoIgnore, audio: n.audioIgnore },
  };
}

export function buildHlsOutput(hls: HlsSettings): OutputBinSpec {
  const n = outputNames(HLS_OUTPUT_ID);
  const v = front(n.videoIgnore, n.videoQueue, 3000);
  const a = front(n.audioIgnore, n.audioQueue, 3000);
  // The tee carries what the MP4 snippets take (AVC, raw AAC); MPEG-TS wants byte-stream H.264
  // and ADTS: the parsers convert, so the tee's caps suit both branches.
  const vparse = `${HLS_OUTPUT_ID}-vparse`;
  const aparse = `${HLS_OUTPUT_ID}-aparse`;
  return {
    id: HLS_OUTPUT_ID,
    kind: 'hls',
    elements: [
      ...v,
      ...a,
      { name: vparse, factory: 'h264parse', props: { 'config-interval': -1 } },
      { name: aparse, factory: 'aacparse' },
      {
        name: n.sink,
        factory: 'hlssink2',
        props: {
          location: `${hls.dir}/${hls.segmentPrefix}-%06d.ts`,
          'playlist-location': `${hls.dir}/${HLS_PLAYLIST}`,
          'target-duration': hls.segmentSeconds,
          'playlist-length': hls.playlistLength,
          // The HLS shipper deletes a segment once it is uploaded and out of the playlist; hlssink2
          // must not delete one that may not be uploaded yet.
          'max-files': 0,
          // Asks the shared encoder for a keyframe at each cut, so every segment lasts the target.
          // Without, cuts fell on the encoder's keyframes (one a second), and the first segment,
          // which begins when the output joins (mid-GOP), was cut at the last keyframe before the
          // target: up to a second short (1.47 s of 2 in a CI run). The recording's snippets are cut
          // at their own requested keyframes, so these extra ones do not move them.
          'send-keyframe-requests': true,
        },
      },
    ],
    links: [
      { from: n.videoIgnore, to: n.videoQueue },
      { from: n.audioIgnore, to: n.audioQueue },
      { from: n.videoQueue, to: vparse },
      { from: n.audioQueue, to: aparse },
      { from: vparse, to: n.sink, toPad: 'video' },
      { from: aparse, to: n.sink, toPad: 'audio' },
    ],
    inputs: { video: n.videoIgnore, audio: n.audioIgnore },
  };
}

/** The output id an element belongs to, from its bus message path (`/GstPipeline:p/GstBin:out-{id}/…`). */
export function outputOfPath(path: string): string | undefined {
  return /\/GstBin:out-([A-Za-z0-9_-]+)(?:\/|$)/.exec(path)?.[1];
}
