// Inspecting recorded snippets in tests with ffprobe: streams, codecs, sizes, durations.
import { execFileSync, spawnSync } from 'node:child_process';

export interface ProbeStream {
  codec_type: 'video' | 'audio';
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  start_time?: string;
  nb_frames?: string;
}

export interface Probe {
  streams: ProbeStream[];
  format: { duration?: string; format_name: string; size: string };
}

export function probe(file: string): Probe {
  const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], { timeout: 20_000 });
  return JSON.parse(out.toString()) as Probe;
}

/** Decodes the whole file; throws with ffmpeg's complaints when it is not cleanly playable. */
export function decodeErrors(file: string): string {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-'], { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.toString();
}

/** Seconds of the first video frame's key flag: true when the file starts with a keyframe. */
export function firstVideoFrameIsKey(file: string): boolean {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-read_intervals', '%+#1', '-of', 'csv=p=0', file], { timeout: 20_000 });
  return out.toString().trim().split('\n')[0]?.split(',')[0] === '1';
}

/**
 * Peak level (dBFS; 0 is full scale, what a clipped mix reaches) of each whole second of a file's
 * first audio track, in order (resampled to 48 kHz); the loudest of them is the file's peak.
 */
export function audioWindowPeaksDb(file: string): number[] {
  const filter = 'aresample=48000,asetnsamples=n=48000,astats=metadata=1:reset=1:measure_perchannel=none,ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file=-';
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-af', filter, '-f', 'null', '-'], { timeout: 60_000, encoding: 'utf8' });
  const peaks = [...(r.stdout ?? '').matchAll(/Peak_level=(-?inf|-?[\d.]+)/g)].map((m) => (m[1]!.endsWith('inf') ? -Infinity : Number(m[1])));
  if (peaks.length === 0) throw new Error(`no audio windows in ffmpeg's report for ${file}: ${(r.stderr ?? '').slice(-400)}`);
  return peaks;
}
