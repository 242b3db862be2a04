// The mock SFU's test media, encoded once with ffmpeg and cached on disk (git-ignored
// .data/media-cache, keyed by every parameter): per host a solid colour with the host's name, a
// running clock, and the sync test pattern — the picture flashes white for the first 3 frames of
// every second, exactly when a 1 kHz beep of 100 ms starts. test/support/av-sync.ts finds both in
// a recording and measures their offset.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { readAnnexB, readIvf, readOggOpus, type OpusPacket, type VideoFrame } from './containers';

export type MockVideoCodec = 'VP8' | 'H264';

export interface ClipSpec {
  codec: MockVideoCodec;
  label: string;
  /** `#rrggbb` */
  colour: string;
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** H.264 packetization mode 0 needs slices small enough for one packet each. */
  h264Mode?: 0 | 1;
  videoKbps?: number;
}

export interface VideoClip {
  frames: VideoFrame[];
  fps: number;
  seconds: number;
}

export interface AudioClip {
  packets: OpusPacket[];
  /** Samples the decoder drops at the start (encoder look-ahead): media time 0 is pre-skip samples in. */
  preSkip: number;
  seconds: number;
}

export const DEFAULT_CACHE_DIR = join(PROJECT_ROOT, '.data', 'media-cache');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
/** Bump when the encoding recipe changes, so old cache entries are not reused. */
const RECIPE = 3;

/** Flash and beep start together on every whole second; the flash lasts this many frames. */
export const FLASH_FRAMES = 3;
export const BEEP_HZ = 1000;
export const BEEP_MS = 100;

/** A distinct, saturated but not too bright colour per host index, so a white flash stands out. */
export function hostColour(index: number): string {
  const hue = (index * 137.508) % 360;
  const [r, g, b] = hslToRgb(hue / 360, 0.65, 0.35);
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const f = (t: number) => {
    t = (t + 1) % 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return [f(h + 1 / 3), f(h), f(h - 1 / 3)].map((v) => Math.round(v * 255)) as [number, number, number];
}

function sanitiseLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9 _-]/g, '').slice(0, 40) || 'host';
}

/** The lavfi video filter of the test pattern (also used by tests that need a reference file). */
export function videoPatternFilter(label: string, colour: string, width: number, height: number, fps: number, seconds: number): string {
  const size = Math.round(height / 10);
  return [
    `color=c=0x${colour.replace('#', '')}:s=${width}x${height}:r=${fps}:d=${seconds}`,
    `drawtext=fontfile=${FONT}:text='${sanitiseLabel(label)}':fontsize=${size}:fontcolor=white:x=(w-tw)/2:y=h/4`,
    `drawtext=fontfile=${FONT}:text='%{pts\\:hms}':fontsize=${size}:fontcolor=white:x=(w-tw)/2:y=h/2`,
    `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(n\\,${fps})\\,${FLASH_FRAMES})'`,
  ].join(',');
}

/** The lavfi audio source of the test pattern: a 1 kHz beep of 100 ms starting on every whole second. */
export function audioPatternSource(seconds: number, sampleRate = 48_000): string {
  return `aevalsrc='if(lt(mod(t\\,1)\\,${BEEP_MS / 1000})\\,0.5*sin(2*PI*${BEEP_HZ}*t)\\,0)':s=${sampleRate}:d=${seconds}`;
}

export function runFfmpeg(args: string[], timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg ${args.join(' ')} failed (${code ?? signal}): ${stderr.slice(-2000)}`));
    });
  });
}

function cachePath(cacheDir: string, kind: string, params: unknown, ext: string): string {
  const key = createHash('sha256').update(JSON.stringify({ RECIPE, kind, params })).digest('hex').slice(0, 16);
  return join(cacheDir, `${kind}-${key}.${ext}`);
}

async function cached(cacheDir: string, kind: string, params: unknown, ext: string, encode: (out: string) => Promise<void>): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const path = cachePath(cacheDir, kind, params, ext);
  if (existsSync(path)) return path;
  // encode beside it and rename: concurrent senders never read a half-written file
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp.${ext}`;
  await encode(tmp);
  renameSync(tmp, path);
  return path;
}

export async function videoClipFile(spec: ClipSpec, cacheDir = DEFAULT_CACHE_DIR): Promise<string> {
  const params = { ...spec, label: sanitiseLabel(spec.label), h264Mode: spec.codec === 'H264' ? (spec.h264Mode ?? 1) : undefined };
  const ext = spec.codec === 'VP8' ? 'ivf' : 'h264';
  const kbps = spec.videoKbps ?? 800;
  return cached(cacheDir, `video-${spec.codec.toLowerCase()}`, params, ext, async (out) => {
    const input = ['-f', 'lavfi', '-i', videoPatternFilter(spec.label, spec.colour, spec.width, spec.height, spec.fps, spec.seconds)];
    // a keyframe every second, as browsers send after PLIs; real-time settings keep encoding cheap
    const gop = ['-g', String(spec.fps), '-keyint_min', String(spec.fps)];
    const codec =
      spec.codec === 'VP8'
        ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-auto-alt-ref', '0', '-b:v', `${kbps}k`, '-f', 'ivf']
        : [
            '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
            '-sc_threshold', '0', '-b:v', `${kbps}k`,
            '-x264-params', `aud=1:repeat-headers=1${params.h264Mode === 0 ? ':slice-max-size=1100' : ''}`,
            '-f', 'h264',
          ];
    await runFfmpeg([...input, ...gop, ...codec, out]);
  });
}

/** The beep pattern, or (`silent`) digital silence encoded the same way, packet for packet. */
export async function audioClipFile(seconds: number, cacheDir = DEFAULT_CACHE_DIR, silent = false): Promise<string> {
  const source = silent ? `anullsrc=r=48000:cl=mono:d=${seconds}` : audioPatternSource(seconds);
  return cached(cacheDir, silent ? 'audio-opus-silent' : 'audio-opus', { seconds }, 'ogg', async (out) => {
    await runFfmpeg(['-f', 'lavfi', '-i', source, '-t', String(seconds), '-ac', '1', '-c:a', 'libopus', '-b:a', '48k', '-frame_duration', '20', '-application', 'audio', '-f', 'ogg', out]);
  });
}

const videoMemo = new Map<string, VideoClip>();
const audioMemo = new Map<string, AudioClip>();

export async function loadVideoClip(spec: ClipSpec, cacheDir = DEFAULT_CACHE_DIR): Promise<VideoClip> {
  const path = await videoClipFile(spec, cacheDir);
  let clip = videoMemo.get(path);
  if (!clip) {
    const buf = readFileSync(path);
    const frames = spec.codec === 'VP8' ? readIvf(buf).frames : readAnnexB(buf, spec.fps);
    const expected = Math.round(spec.seconds * spec.fps);
    if (frames.length < expected) throw new Error(`${path}: ${frames.length} frames, expected ${expected}`);
    if (!frames[0]?.keyframe) throw new Error(`${path}: does not start with a keyframe`);
    clip = { frames: frames.slice(0, expected), fps: spec.fps, seconds: spec.seconds };
    videoMemo.set(path, clip);
  }
  return clip;
}

export async function loadAudioClip(seconds: number, cacheDir = DEFAULT_CACHE_DIR, silent = false): Promise<AudioClip> {
  const path = await audioClipFile(seconds, cacheDir, silent);
  let clip = audioMemo.get(path);
  if (!clip) {
    const ogg = readOggOpus(readFileSync(path));
    // Keep exactly one loop period of packets: packet k covers samples [960k − preSkip, …), so the
    // next loop's first packet continues the timeline without a gap or an overlap.
    const total = seconds * 48_000;
    const packets: OpusPacket[] = [];
    let samples = 0;
    for (const p of ogg.packets) {
      if (samples >= total) break;
      packets.push(p);
      samples += p.samples;
    }
    if (samples !== total) throw new Error(`${path}: ${samples} samples do not make a seamless ${seconds} s loop`);
    clip = { packets, preSkip: ogg.preSkip, seconds };
    audioMemo.set(path, clip);
  }
  return clip;
}

/**
 * Encodes what is not cached yet, one clip at a time by default: two libvpx real-time encodes side
 * by side on two cores took 8× the CPU of the same encodes in a row (measured: 4 clips, 20 s vs 2.7 s).
 */
export async function prepareClips(specs: ClipSpec[], audioSeconds: number, cacheDir = DEFAULT_CACHE_DIR, limit = 1): Promise<void> {
  const queue = [...specs];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await videoClipFile(s, cacheDir);
  });
  await Promise.all([audioClipFile(audioSeconds, cacheDir), ...workers]);
}
