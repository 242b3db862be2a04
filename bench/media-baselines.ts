// The two baselines of `npm run bench:media` as data: the gst-launch-1.0 and ffmpeg command lines
// (and ffmpeg's SDP files) that do the same work as Tapedeck's composite and individual
// recordings, and the pure helpers that judge their output (frame timing of the snippets). Pure
// functions, unit-tested in test/unit/bench-media.test.ts; bench/media.ts runs them.
//
// Same work means: the same real-time RTP from the mock SFU (640x480 30 fps VP8 + Opus per host),
// the same grid tiling (pipelines/layout.ts), 640x360 at 15 fps, x264 ultrafast with constant
// quality 23 under the same VBV cap and 1-second GOPs, AAC at the same bitrate, 15-second MP4
// snippets. What the baselines leave out on purpose is what makes Tapedeck a product: placeholder
// tiles with names, a live black canvas and silence under the mix, level metering, stats, the
// dynamic add/remove machinery.
import { gridTiles, type Tile } from '../pipelines/layout';

export interface Canvas {
  width: number;
  height: number;
  fps: number;
  videoKbps: number;
  audioKbps: number;
  snippetSeconds: number;
  /** rtpjitterbuffer latency (Tapedeck's default is 200). */
  jitterMs: number;
}

/** Where one host's RTP arrives: even ports, RTCP (if any) on port + 1. */
export interface HostPorts {
  hostId: string;
  videoPort: number;
  audioPort: number;
}

export const VP8_PT = 96;
export const OPUS_PT = 111;
/** x264enc's default vbv-buf-capacity (600 ms): the ffmpeg baseline gets the same VBV buffer. */
export const X264_VBV_MS = 600;
/**
 * Each RTP socket's receive buffer, in every implementation: Tapedeck's udpsrc (pipelines/builders/
 * common.ts), gst-launch's udpsrc and ffmpeg's (`-buffer_size`).
 */
export const UDP_RECEIVE_BUFFER_BYTES = 2_097_152;
/**
 * Packets ffmpeg queues per input between the input's reading thread and the main thread
 * (`-thread_queue_size`; ffmpeg's own default is 8). With the defaults, a 25-host composite
 * read slower than the RTP came in: the kernel dropped about a fifth of the datagrams in the
 * window (RcvbufErrors), ffmpeg's RTP demuxer reported them missed and skipped every VP8 frame up
 * to the next keyframe, so that ffmpeg decoded far fewer frames than Tapedeck and gst-launch.
 */
export const FFMPEG_THREAD_QUEUE_PACKETS = 1024;
/** Frame rate of an individual recording of a VP8 host (pipelines/builders/individual.pipeline.ts). */
export const INDIVIDUAL_FPS = 30;

export const gridFor = (hosts: HostPorts[], c: Canvas): Tile[] => gridTiles(hosts.map((h) => h.hostId), c.width, c.height);

const videoRtpCaps = `application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=${VP8_PT}`;
const audioRtpCaps = `application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=${OPUS_PT}`;

function x264Launch(kbps: number, fps: number): string[] {
  // The same settings as pipelines/builders/common.ts x264(): quality 23 with the bitrate as VBV cap.
  return ['x264enc', 'pass=qual', 'quantizer=23', `bitrate=${kbps}`, 'speed-preset=ultrafast', 'tune=zerolatency', `key-int-max=${fps}`, 'b-adapt=false', 'bframes=0'];
}

function rtpInLaunch(port: number, caps: string, jitterMs: number, depay: string[]): string[] {
  return ['udpsrc', 'address=127.0.0.1', `port=${port}`, `caps=${caps}`, `buffer-size=${UDP_RECEIVE_BUFFER_BYTES}`, '!', 'rtpjitterbuffer', `latency=${jitterMs}`, 'drop-on-latency=true', '!', ...depay];
}

function sinkLaunch(outDir: string, c: Canvas): string[] {
  return ['splitmuxsink', 'name=mux', `location=${outDir}/%06d.mp4`, `max-size-time=${c.snippetSeconds * 1_000_000_000}`, 'max-size-bytes=0', 'send-keyframe-requests=true', 'muxer-factory=mp4mux'];
}

function audioInLaunch(h: HostPorts, c: Canvas): string[] {
  return [
    ...rtpInLaunch(h.audioPort, audioRtpCaps, c.jitterMs, ['rtpopusdepay']),
    '!', 'opusdec', '!', 'audioconvert', '!', 'audioresample', '!', 'audio/x-raw,format=S16LE,rate=48000,channels=2', '!', 'queue',
  ];
}

function aacLaunch(c: Canvas): string[] {
  return ['audioconvert', '!', 'audioresample', '!', 'audio/x-raw,rate=48000,channels=2', '!', 'avenc_aac', `bitrate=${c.audioKbps * 1000}`, '!', 'aacparse', '!', 'queue', '!', 'mux.audio_0'];
}

/**
 * `gst-launch-1.0 -e` arguments for the composite: per host udpsrc → rtpjitterbuffer → rtpvp8depay
 * → vp8dec → videorate/videoscale to the tile → compositor pad at the tile; opus → audiomixer.
 */
export function gstLaunchComposite(hosts: HostPorts[], c: Canvas, outDir: string): string[] {
  const tiles = gridFor(hosts, c);
  const padProps = tiles.flatMap((t, i) => [`sink_${i}::xpos=${t.x}`, `sink_${i}::ypos=${t.y}`, `sink_${i}::width=${t.width}`, `sink_${i}::height=${t.height}`]);
  const args = [
    '-e',
    'compositor', 'name=vmix', 'background=black', ...padProps,
    '!', `video/x-raw,format=I420,width=${c.width},height=${c.height},framerate=${c.fps}/1`,
    // As in Tapedeck (its `outrate`): without it, compositor now and then hands on a buffer with
    // no PTS at start-up and mp4mux stops the pipeline ("Buffer has no PTS"; 1.22, 4 live inputs,
    // about one start in two).
    '!', 'videorate',
    '!', 'queue', '!', ...x264Launch(c.videoKbps, c.fps), '!', 'h264parse', 'config-interval=-1', '!', 'queue', '!', 'mux.video',
    'audiomixer', 'name=amix', '!', ...aacLaunch(c),
    ...sinkLaunch(outDir, c),
  ];
  hosts.forEach((h, i) => {
    const t = tiles[i]!;
    args.push(
      ...rtpInLaunch(h.videoPort, videoRtpCaps, c.jitterMs, ['rtpvp8depay', 'wait-for-keyframe=true']),
      '!', 'vp8dec', '!', 'videoconvert', '!', 'videorate', '!', 'videoscale',
      '!', `video/x-raw,width=${t.width},height=${t.height},pixel-aspect-ratio=1/1,framerate=${c.fps}/1`,
      '!', 'queue', '!', `vmix.sink_${i}`,
      ...audioInLaunch(h, c), '!', 'amix.',
    );
  });
  return args;
}

/** `gst-launch-1.0 -e` arguments for one host's individual recording: VP8 → H.264 (30 fps), Opus → AAC. */
export function gstLaunchIndividual(h: HostPorts, c: Canvas, outDir: string): string[] {
  return [
    '-e',
    ...rtpInLaunch(h.videoPort, videoRtpCaps, c.jitterMs, ['rtpvp8depay', 'wait-for-keyframe=true']),
    '!', 'vp8dec', '!', 'videoconvert', '!', 'videorate', '!', `video/x-raw,framerate=${INDIVIDUAL_FPS}/1`,
    '!', ...x264Launch(c.videoKbps, INDIVIDUAL_FPS), '!', 'h264parse', 'config-interval=-1', '!', 'queue', '!', 'mux.video',
    ...audioInLaunch(h, c), '!', ...aacLaunch(c),
    ...sinkLaunch(outDir, c),
  ];
}

/**
 * One SDP file per stream (one m-line) for ffmpeg's RTP demuxer: each host is two ffmpeg inputs,
 * its video (input 2i) and its audio (input 2i + 1). ffmpeg's SDP demuxer reads, each time, the
 * first of its input's sockets that has data, in m-line order. With both streams in one input, an
 * input opened while ffmpeg probed the later ones kept a backlog on its video socket that never
 * drained (ffmpeg takes input at the pace of its output), and its audio socket was never read
 * again: from 16 hosts up the first six inputs' audio stopped after 36-50 packets, `amix` waited
 * on them, and the snippets held 0.7-12 s of audio for 24 s of video. One stream per input reads
 * every socket from a thread of its own.
 */
export function sdpFor(h: HostPorts, media: 'video' | 'audio'): string {
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    `s=${h.hostId}-${media}`,
    'c=IN IP4 127.0.0.1',
    't=0 0',
    ...(media === 'video' ? [`m=video ${h.videoPort} RTP/AVP ${VP8_PT}`, `a=rtpmap:${VP8_PT} VP8/90000`] : [`m=audio ${h.audioPort} RTP/AVP ${OPUS_PT}`, `a=rtpmap:${OPUS_PT} opus/48000/2`]),
    '',
  ].join('\n');
}

/** ffmpeg's input index of a host's video and audio (see sdpFor). */
const videoInput = (host: number) => 2 * host;
const audioInput = (host: number) => 2 * host + 1;

function ffmpegInputs(sdpFiles: string[]): string[] {
  return sdpFiles.flatMap((f) => ['-thread_queue_size', String(FFMPEG_THREAD_QUEUE_PACKETS), '-buffer_size', String(UDP_RECEIVE_BUFFER_BYTES), '-protocol_whitelist', 'file,udp,rtp', '-i', f]);
}

function ffmpegX264(kbps: number, fps: number): string[] {
  const bufKbit = Math.round((kbps * X264_VBV_MS) / 1000);
  return ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-crf', '23', '-maxrate', `${kbps}k`, '-bufsize', `${bufKbit}k`, '-g', String(fps), '-bf', '0', '-fps_mode', 'cfr', '-r', String(fps)];
}

function ffmpegTail(c: Canvas, outDir: string): string[] {
  return ['-c:a', 'aac', '-b:a', `${c.audioKbps}k`, '-ar', '48000', '-ac', '2', '-f', 'segment', '-segment_time', String(c.snippetSeconds), '-segment_format', 'mp4', '-reset_timestamps', '1', `${outDir}/%06d.mp4`];
}

const FFMPEG_HEAD = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-progress', 'pipe:1', '-stats_period', '1'];

/** The ffmpeg filter graph of the composite: fps + letterboxed scale per input, xstack at the tile positions, amix. */
export function ffmpegCompositeGraph(hosts: HostPorts[], c: Canvas): string {
  const tiles = gridFor(hosts, c);
  const parts = tiles.map(
    (t, i) => `[${videoInput(i)}:v]fps=${c.fps},scale=${t.width}:${t.height}:force_original_aspect_ratio=decrease,pad=${t.width}:${t.height}:-1:-1:black,setsar=1[v${i}]`,
  );
  const canvas = `pad=${c.width}:${c.height}:0:0:black,format=yuv420p[v]`;
  // xstack needs two inputs or more; one host is its tile padded to the canvas.
  if (tiles.length === 1) parts.push(`[v0]${canvas}`);
  else parts.push(`${tiles.map((_, i) => `[v${i}]`).join('')}xstack=inputs=${tiles.length}:layout=${tiles.map((t) => `${t.x}_${t.y}`).join('|')}:fill=black,${canvas}`);
  if (hosts.length === 1) parts.push(`[${audioInput(0)}:a]anull[a]`);
  else parts.push(`${hosts.map((_, i) => `[${audioInput(i)}:a]`).join('')}amix=inputs=${hosts.length}:normalize=0[a]`);
  return parts.join(';');
}

/** `sdpFiles`: per host its video SDP, then its audio SDP (see sdpFor). */
export function ffmpegComposite(sdpFiles: string[], hosts: HostPorts[], c: Canvas, outDir: string): string[] {
  return [...FFMPEG_HEAD, ...ffmpegInputs(sdpFiles), '-filter_complex', ffmpegCompositeGraph(hosts, c), '-map', '[v]', '-map', '[a]', ...ffmpegX264(c.videoKbps, c.fps), ...ffmpegTail(c, outDir)];
}

/** `sdpFiles`: the host's video SDP, then its audio SDP (see sdpFor). */
export function ffmpegIndividual(sdpFiles: [string, string], c: Canvas, outDir: string): string[] {
  return [...FFMPEG_HEAD, ...ffmpegInputs(sdpFiles), '-map', `${videoInput(0)}:v`, '-map', `${audioInput(0)}:a`, ...ffmpegX264(c.videoKbps, INDIVIDUAL_FPS), ...ffmpegTail(c, outDir)];
}

// ---- judging the output -------------------------------------------------------------------------

export interface FrameTiming {
  frames: number;
  /** Frames a constant-rate stream of this span would have: span × fps, rounded. */
  expected: number;
  /** Missing frames: the sum over gaps longer than 1.5 frame intervals of the frames that fit in them. */
  dropped: number;
  /** Frames whose timestamp does not advance by at least half an interval (repeated or crowded). */
  duplicated: number;
}

/**
 * Judges one snippet's video timestamps (seconds, any order) against a constant frame rate. A
 * frame rate that holds gives dropped = duplicated = 0 and frames = expected.
 */
export function frameTiming(ptsSeconds: number[], fps: number): FrameTiming {
  const pts = [...ptsSeconds].filter((p) => Number.isFinite(p)).sort((a, b) => a - b);
  if (pts.length === 0) return { frames: 0, expected: 0, dropped: 0, duplicated: 0 };
  const interval = 1 / fps;
  let dropped = 0;
  let duplicated = 0;
  for (let i = 1; i < pts.length; i++) {
    const dt = pts[i]! - pts[i - 1]!;
    if (dt < interval / 2) duplicated++;
    else if (dt > interval * 1.5) dropped += Math.round(dt / interval) - 1;
  }
  // The span covers the last frame's own interval too.
  const expected = Math.round((pts[pts.length - 1]! - pts[0]! + interval) * fps);
  return { frames: pts.length, expected, dropped, duplicated };
}

export function sumTimings(list: FrameTiming[]): FrameTiming {
  return list.reduce((a, b) => ({ frames: a.frames + b.frames, expected: a.expected + b.expected, dropped: a.dropped + b.dropped, duplicated: a.duplicated + b.duplicated }), {
    frames: 0,
    expected: 0,
    dropped: 0,
    duplicated: 0,
  });
}

/** Seconds of video and of audio in one snippet, from `ffprobe -show_entries stream=codec_type,duration -of csv=p=0`. */
export function streamDurations(csv: string): { video: number; audio: number } {
  const out = { video: 0, audio: 0 };
  for (const line of csv.split('\n')) {
    const [type, duration] = line.trim().split(',');
    const seconds = Number(duration);
    if ((type === 'video' || type === 'audio') && Number.isFinite(seconds)) out[type] += seconds;
  }
  return out;
}

/**
 * Audio that falls short of the video by more than a second or 5% (whichever is more): the
 * implementation lost audio input. The old ffmpeg baseline, its inputs' sockets overflowing at 9
 * hosts, wrote a first snippet of 15 s of video and 0.74 s of audio.
 */
export function audioShort(videoSeconds: number, audioSeconds: number): boolean {
  return videoSeconds - audioSeconds > Math.max(1, 0.05 * videoSeconds);
}

/** `--hosts 1,4,9` → [1, 4, 9]; every count within 1..25 (the grid's limit). */
export function parseHostCounts(raw: string): number[] {
  const counts = raw.split(',').map((s) => Number(s.trim()));
  for (const n of counts) if (!Number.isInteger(n) || n < 1 || n > 25) throw new Error(`--hosts: "${raw}" must be a comma-separated list of whole numbers in 1..25`);
  return counts;
}
