// Measures audio/video sync in a recorded file made from the mock SFU's test pattern (a white flash
// and a 1 kHz beep starting together every second): decodes with ffmpeg to tiny gray frames and
// mono PCM, finds flash onsets (mean luma jumps) and beep onsets (amplitude after silence), pairs
// them and returns audio − video in ms per flash. Positive: audio late.
//
// Timestamps come from the decoder (ffmpeg's showinfo/ashowinfo with -copyts), not from frame
// counts, so edit lists, start offsets and variable frame rates are honoured.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AvSyncOptions {
  /** Only look at this part of the picture (e.g. one host's tile in a composite). */
  crop?: { x: number; y: number; width: number; height: number };
  /** A flash and a beep further apart than this are not a pair. */
  maxPairDistanceMs?: number;
  timeoutMs?: number;
}

export interface AvSyncPair {
  flashMs: number;
  beepMs: number;
  /** beep − flash: positive when audio is late. */
  offsetMs: number;
}

export interface AvSyncResult {
  flashesMs: number[];
  beepsMs: number[];
  pairs: AvSyncPair[];
  offsetsMs: number[];
  meanOffsetMs: number | null;
  maxAbsOffsetMs: number | null;
  videoFrames: number;
}

const W = 32;
const H = 24;
const RATE = 16_000;

function ffmpeg(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`ffmpeg failed (${code ?? signal}): ${stderr.slice(-1500)}`));
    });
  });
}

function ptsTimes(log: string, filter: 'showinfo' | 'ashowinfo'): number[] {
  const re = new RegExp(`\\[Parsed_${filter}_\\d+ @ [^\\]]+\\] n:\\s*\\d+ pts:\\s*-?\\d+ pts_time:\\s*(-?[\\d.]+)`, 'g');
  return [...log.matchAll(re)].map((m) => Number(m[1]) * 1000);
}

/** Frame indices where the mean luma jumps up sharply (a flash starts), at least 500 ms apart. */
export function flashOnsets(means: number[], timesMs: number[]): number[] {
  let maxJump = 0;
  for (let i = 1; i < means.length; i++) maxJump = Math.max(maxJump, means[i]! - means[i - 1]!);
  const threshold = Math.max(8, maxJump * 0.5);
  const onsets: number[] = [];
  for (let i = 1; i < means.length; i++) {
    if (means[i]! - means[i - 1]! >= threshold && (onsets.length === 0 || timesMs[i]! - onsets[onsets.length - 1]! > 500)) onsets.push(timesMs[i]!);
  }
  return onsets;
}

/** Sample indices where the signal first exceeds a quarter of its peak after at least 300 ms below it. */
export function beepOnsets(samples: Int16Array, sampleRate: number): number[] {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  if (peak < 1000) return []; // silence
  const threshold = peak * 0.25;
  const quietNeeded = Math.round(sampleRate * 0.3);
  let quiet = quietNeeded; // the file's start counts as quiet
  const onsets: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) >= threshold) {
      if (quiet >= quietNeeded) onsets.push(i);
      quiet = 0;
    } else {
      quiet++;
    }
  }
  return onsets;
}

export async function measureAvSync(file: string, options: AvSyncOptions = {}): Promise<AvSyncResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tapedeck-avsync-'));
  try {
    const crop = options.crop ? `crop=${options.crop.width}:${options.crop.height}:${options.crop.x}:${options.crop.y},` : '';
    const videoOut = join(dir, 'v.gray');
    const audioOut = join(dir, 'a.pcm');
    const log = await ffmpeg(
      [
        '-v', 'info', '-copyts', '-i', file,
        '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `showinfo,${crop}scale=${W}:${H},format=gray`, '-f', 'rawvideo', videoOut,
        '-map', '0:a:0', '-af', `ashowinfo,aresample=${RATE}:async=1,pan=mono|c0=c0`, '-f', 's16le', '-acodec', 'pcm_s16le', audioOut,
      ],
      options.timeoutMs ?? 120_000,
    );
    const frameTimes = ptsTimes(log, 'showinfo');
    const audioTimes = ptsTimes(log, 'ashowinfo');
    const gray = readFileSync(videoOut);
    const frames = Math.floor(gray.length / (W * H));
    if (frames !== frameTimes.length) throw new Error(`decoded ${frames} frames but saw ${frameTimes.length} timestamps`);
    const means: number[] = [];
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let i = f * W * H; i < (f + 1) * W * H; i++) sum += gray[i]!;
      means.push(sum / (W * H));
    }
    const pcm = readFileSync(audioOut);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
    const audioStart = audioTimes[0] ?? 0;
    const flashesMs = flashOnsets(means, frameTimes);
    const beepsMs = beepOnsets(samples, RATE).map((i) => audioStart + (i * 1000) / RATE);
    const maxDistance = options.maxPairDistanceMs ?? 400;
    const pairs: AvSyncPair[] = [];
    for (const flashMs of flashesMs) {
      let best: number | undefined;
      for (const b of beepsMs) if (best === undefined || Math.abs(b - flashMs) < Math.abs(best - flashMs)) best = b;
      if (best !== undefined && Math.abs(best - flashMs) <= maxDistance) pairs.push({ flashMs, beepMs: best, offsetMs: best - flashMs });
    }
    const offsetsMs = pairs.map((p) => p.offsetMs);
    return {
      flashesMs,
      beepsMs,
      pairs,
      offsetsMs,
      meanOffsetMs: offsetsMs.length ? offsetsMs.reduce((a, b) => a + b, 0) / offsetsMs.length : null,
      maxAbsOffsetMs: offsetsMs.length ? Math.max(...offsetsMs.map(Math.abs)) : null,
      videoFrames: frames,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
