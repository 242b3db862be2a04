// Merging downloaded snippets into one MP4 with ffmpeg (file-to-file work, no live graph). Every
// MP4 snippet starts with a keyframe, so whole snippets are joined by the concat demuxer with
// stream copy: no re-encoding, and the clip lasts exactly as long as the snippets it covers. A
// camera-off (MP3) snippet, when asked for, becomes a piece with a placeholder picture of the
// same size, rate and video timescale (the concat demuxer needs one timescale to keep timestamps
// continuous across the joins; it inserts each piece's SPS/PPS in-band where they differ).
// Precise: out of the joined file, cut [start, end) on its frame grid: copy from the first
// keyframe after the start to the last one before the end, re-encode only the partial GOPs at
// both edges (same size, rate, profile, bitrate), join the three pieces.
//
//   snippets ──concat, copy──▶ whole.mp4 ──▶ [re-encode | copy ………………… | re-encode] ──concat──▶ clip.mp4
//                                              ^start   ^keyframe  keyframe^      ^end
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trackSpans, type TrackSpans } from './mp4-spans';

export class MergeError extends Error {
  readonly type = 'ClipMergeFailed';
}

export interface MergePiece {
  path: string;
  kind: 'mp4' | 'mp3';
  startTime: string;
  endTime: string;
}

export interface MergeOptions {
  precise: boolean;
  start: string;
  end: string;
  workDir: string;
  /** Called between steps (the activity heartbeats). */
  onStep?: (step: string) => void;
  timeoutMs?: number;
}

export interface MergeResult {
  durationMs: number;
  video: { codec: string; width: number; height: number; fps: number } | null;
  /** Pieces re-encoded (edges, placeholders); 0 for a pure stream copy. */
  reencoded: number;
}

interface SourceFormat {
  width: number;
  height: number;
  fps: number;
  /** Video track timescale (1/time_base). */
  timescale: number;
  profile: string;
  videoKbps: number;
  sampleRate: number;
  channels: number;
  audioKbps: number;
}

const DEFAULT_FORMAT: SourceFormat = { width: 640, height: 360, fps: 15, timescale: 15360, profile: 'high', videoKbps: 1000, sampleRate: 44100, channels: 1, audioKbps: 44 };

export function runTool(tool: 'ffmpeg' | 'ffprobe', args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      // A tool that is missing or was killed is the worker's problem (retryable); a tool that
      // refuses the input is the input's (not retried).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error.killed) reject(new Error(`${tool} could not run: ${error.message}`));
      else reject(new MergeError(`${tool} failed: ${tail || error.message}`));
    });
  });
}

const fraction = (f: string | undefined) => {
  const m = /^(\d+)\/(\d+)$/.exec(f ?? '');
  return m && Number(m[2]) > 0 ? Number(m[1]) / Number(m[2]) : 0;
};

async function probeFormat(path: string, timeoutMs: number): Promise<SourceFormat> {
  const out = JSON.parse(await runTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', path], timeoutMs)) as {
    streams: Array<Record<string, string | number | undefined>>;
  };
  const v = out.streams.find((s) => s.codec_type === 'video');
  const a = out.streams.find((s) => s.codec_type === 'audio');
  if (!v) throw new MergeError(`${path} has no video stream`);
  const tb = fraction(String(v.time_base));
  const profile = String(v.profile ?? '').toLowerCase();
  return {
    width: Number(v.width),
    height: Number(v.height),
    fps: Math.round(fraction(String(v.avg_frame_rate)) || fraction(String(v.r_frame_rate)) || 15),
    timescale: tb > 0 ? Math.round(1 / tb) : DEFAULT_FORMAT.timescale,
    profile: profile.includes('baseline') ? 'baseline' : profile.includes('main') ? 'main' : 'high',
    videoKbps: Math.max(100, Math.round(Number(v.bit_rate ?? 1_000_000) / 1000)),
    sampleRate: Number(a?.sample_rate ?? DEFAULT_FORMAT.sampleRate),
    channels: Number(a?.channels ?? DEFAULT_FORMAT.channels),
    audioKbps: Math.max(32, Math.round(Number(a?.bit_rate ?? 44_000) / 1000)),
  };
}

/** Video keyframe times (s) and the video duration (s) of a file, from its packet index (no decoding). */
async function keyframes(path: string, timeoutMs: number): Promise<{ keys: number[]; duration: number }> {
  const out = await runTool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,duration_time,flags', '-of', 'csv=p=0', path], timeoutMs);
  const keys: number[] = [];
  let duration = 0;
  for (const line of out.split('\n')) {
    const [pts, dur, flags] = line.split(',');
    const t = Number(pts);
    if (!Number.isFinite(t) || pts === '') continue;
    if (flags?.includes('K')) keys.push(t);
    duration = Math.max(duration, t + (Number(dur) || 0));
  }
  return { keys, duration };
}

export async function mediaDurationMs(path: string, timeoutMs = 30_000): Promise<number> {
  const out = await runTool('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path], timeoutMs);
  return Math.round(Number(out.trim()) * 1000);
}

const sec = (x: number) => x.toFixed(6);

/**
 * How long a file lasts in a join: the next file's audio continues exactly where this one's
 * ends (snippets cut from one recording continue one audio stream, the next starting a fraction
 * of a frame late), and its video never starts before this one's has ended (a video gap, a frame
 * shown a little longer, is harmless; an audio gap or overlap is audible, and players that
 * concatenate decoded audio would drift). Every packet is kept, AAC priming included: audio and
 * video of each file move by the same amount, so they stay in step across joins.
 */
export function joinDuration(cur: TrackSpans, next: TrackSpans | undefined): number {
  const videoEnd = cur.video?.end ?? 0;
  if (!cur.audio) return videoEnd;
  return Math.max(videoEnd, cur.audio.end - (next?.audio?.start ?? 0));
}

/** What to cut from one MP4 piece: [from, to) in seconds of the file; to = null means its end. */
export interface CutPlan {
  reencodeHead?: [number, number];
  copy?: [number, number | null];
  reencodeTail?: [number, number];
}

/** Pure: the cheapest cut of [from, to) of a file whose video has keyframes at `keys`: copy from
 *  the first keyframe at or after `from` to the last one at or before `to`, re-encode the rest. */
export function planCut(keys: number[], duration: number, from: number, to: number | null, halfFrame: number): CutPlan {
  const end = to === null || to >= duration - halfFrame ? null : to;
  const start = from <= halfFrame ? 0 : from;
  const k1 = keys.find((k) => k >= start - 1e-6);
  if (start === 0 && end === null) return { copy: [0, null] };
  const last = end ?? duration;
  if (k1 === undefined || k1 >= last - halfFrame) return { reencodeHead: [start, last] };
  const plan: CutPlan = {};
  if (k1 > start + halfFrame) plan.reencodeHead = [start, k1];
  if (end === null) {
    plan.copy = [k1, null];
    return plan;
  }
  const k2 = [...keys].reverse().find((k) => k <= end + 1e-6)!;
  if (k2 > k1 + halfFrame) plan.copy = [k1, k2];
  if (end > k2 + halfFrame) plan.reencodeTail = [Math.max(k2, k1), end];
  return plan;
}

export async function mergePieces(pieces: MergePiece[], out: string, opts: MergeOptions): Promise<MergeResult> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  if (pieces.length === 0) throw new MergeError('nothing to merge');
  const firstVideo = pieces.find((p) => p.kind === 'mp4');
  const fmt = firstVideo ? await probeFormat(firstVideo.path, timeoutMs) : DEFAULT_FORMAT;
  const fps = fmt.fps;
  const videoArgs = ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', fmt.profile, '-pix_fmt', 'yuv420p', '-r', String(fps), '-g', String(fps),
    '-b:v', `${fmt.videoKbps}k`, '-video_track_timescale', String(fmt.timescale)];
  const audioArgs = ['-c:a', 'aac', '-b:a', `${fmt.audioKbps}k`, '-ar', String(fmt.sampleRate), '-ac', String(fmt.channels)];
  const common = ['-v', 'error', '-nostdin', '-y'];
  let reencoded = 0;
  let n = 0;
  const next = () => join(opts.workDir, `piece-${String(n++).padStart(4, '0')}.mp4`);
  const concat = async (files: string[], dst: string) => {
    const listFile = join(opts.workDir, `concat-${n++}.txt`);
    const spans = await Promise.all(files.map((f) => trackSpans(f)));
    const entry = (f: string, i: number) => {
      const d = joinDuration(spans[i]!, spans[i + 1]);
      return `file '${f.replace(/'/g, "'\\''")}'\n${d > 0 ? `duration ${sec(d)}\n` : ''}`;
    };
    await writeFile(listFile, files.map(entry).join(''));
    await runTool('ffmpeg', [...common, '-f', 'concat', '-safe', '0', '-i', listFile, '-map', '0', '-c', 'copy', '-movflags', '+faststart', '-avoid_negative_ts', 'make_zero', '-f', 'mp4', dst], timeoutMs);
  };

  // 1. Whole snippets, joined by stream copy; a camera-off (MP3) snippet becomes a piece with a
  //    placeholder picture of the same size, rate and timescale.
  const whole: string[] = [];
  for (const p of pieces) {
    if (p.kind === 'mp4') {
      whole.push(p.path);
      continue;
    }
    opts.onStep?.(`placeholder for ${p.path}`);
    const dst = next();
    const seconds = Math.round(((await mediaDurationMs(p.path, timeoutMs)) / 1000) * fps) / fps;
    await runTool(
      'ffmpeg',
      [...common, '-f', 'lavfi', '-i', `color=c=0x202020:s=${fmt.width}x${fmt.height}:r=${fps}`, '-i', p.path, '-map', '0:v', '-map', '1:a', ...videoArgs, '-tune', 'stillimage', ...audioArgs,
        '-frames:v', String(Math.round(seconds * fps)), '-af', `apad,atrim=duration=${sec(seconds)}`, dst],
      timeoutMs,
    );
    reencoded++;
    whole.push(dst);
  }
  opts.onStep?.(`joining ${whole.length} snippets`);
  const merged = opts.precise ? join(opts.workDir, 'whole.mp4') : out;
  await concat(whole, merged);

  // 2. Precise: cut [start, end) out of the joined file, snapped to its frame grid and exactly
  //    round((end - start) x fps) frames long: copy from the first keyframe after the start to the
  //    last one before the end, re-encode the partial GOPs at both edges.
  if (opts.precise) {
    opts.onStep?.('cutting precise edges');
    const { keys, duration } = await keyframes(merged, timeoutMs);
    const from = Math.round(Math.max(0, (Date.parse(opts.start) - Date.parse(pieces[0]!.startTime)) / 1000) * fps) / fps;
    const to = Math.min(duration, from + Math.round(((Date.parse(opts.end) - Date.parse(opts.start)) / 1000) * fps) / fps);
    const cut = planCut(keys, duration, from, to, 0.5 / fps);
    const reencode = async ([a, b]: [number, number]) => {
      const dst = next();
      const frames = Math.max(1, Math.round((b - a) * fps));
      await runTool('ffmpeg', [...common, '-ss', sec(a), '-i', merged, '-frames:v', String(frames), ...videoArgs, ...audioArgs, '-af', `atrim=duration=${sec(frames / fps)}`, dst], timeoutMs);
      reencoded++;
      return dst;
    };
    const parts: string[] = [];
    if (cut.reencodeHead) parts.push(await reencode(cut.reencodeHead));
    if (cut.copy) {
      const [a, b] = cut.copy;
      if (a === 0 && b === null) parts.push(merged);
      else {
        const dst = next();
        await runTool('ffmpeg', [...common, '-ss', sec(a), '-i', merged, ...(b !== null ? ['-t', sec(b - a)] : []), '-c', 'copy', '-video_track_timescale', String(fmt.timescale), dst], timeoutMs);
        parts.push(dst);
      }
    }
    if (cut.reencodeTail) parts.push(await reencode(cut.reencodeTail));
    await concat(parts, out);
  }
  return {
    durationMs: await mediaDurationMs(out, timeoutMs),
    video: { codec: 'H264', width: fmt.width, height: fmt.height, fps },
    reencoded,
  };
}
