// Measures one snippet file with GStreamer in child processes, bounded in time: first
// `gst-discoverer-1.0` says which streams the file really has (a `decodebin` branch for a stream
// that is not there would wait forever), then `gst-launch-1.0` measures the audio's RMS and peak
// level per 1-second window (`level`) and turns the video into tiny grey frames (64x36 GRAY8,
// written raw to a temporary file) from which score.ts computes luma and frame-to-frame
// differences. Nothing here judges; it only measures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FRAME_WIDTH = 64;
export const FRAME_HEIGHT = 36;
/** Length of one audio measurement window. */
export const AUDIO_WINDOW_MS = 1000;

export interface Measurements {
  /** One entry per audio window: RMS and peak in dBFS (loudest channel; -Infinity for digital
   * silence) and the window's length (the last one of a file is usually shorter). */
  audio: AudioWindow[] | undefined;
  /** One FRAME_WIDTH x FRAME_HEIGHT GRAY8 picture per decoded frame, in order; no frames when the
   * video expected is missing from the file. */
  video: { width: number; height: number; frames: Uint8Array[] } | undefined;
}

export interface AudioWindow {
  rmsDb: number;
  peakDb: number;
  durationMs: number;
}

export class AnalysisError extends Error {
  readonly type = 'AnalysisError';
}

/** The gst-launch-1.0 arguments for a file: decodebin, then a `level` branch and/or a grey-frame branch. */
export function analysisPipeline(file: string, opts: { audio: boolean; video: boolean; framesOut: string }): string[] {
  const args = ['-m', 'filesrc', `location=${file}`, '!', 'decodebin', 'name=d'];
  if (opts.audio) {
    args.push('d.', '!', 'queue', '!', 'audioconvert', '!', 'level', `interval=${AUDIO_WINDOW_MS * 1_000_000}`, 'post-messages=true', '!', 'fakesink', 'sync=false');
  }
  if (opts.video) {
    args.push(
      'd.', '!', 'queue', '!', 'videoconvert', '!', 'videoscale', '!',
      `video/x-raw,format=GRAY8,width=${FRAME_WIDTH},height=${FRAME_HEIGHT},pixel-aspect-ratio=1/1`, '!',
      'filesink', `location=${opts.framesOut}`,
    );
  }
  return args;
}

/** Parses the `level` element messages `gst-launch-1.0 -m` prints. */
export function parseLevelMessages(output: string): AudioWindow[] {
  const windows: AudioWindow[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('(element): level,')) continue;
    const rms = values(line, 'rms');
    const peak = values(line, 'peak');
    if (rms.length === 0 || peak.length === 0) continue;
    const duration = /duration=\(guint64\)(\d+)/.exec(line);
    windows.push({ rmsDb: Math.max(...rms), peakDb: Math.max(...peak), durationMs: duration ? Number(duration[1]) / 1e6 : AUDIO_WINDOW_MS });
  }
  return windows;
}

function values(line: string, field: string): number[] {
  // rms=(GValueArray)< -18.99, -19.2 >  (older releases print {…})
  const m = new RegExp(`${field}=\\(GValueArray\\)[<{]([^>}]*)[>}]`).exec(line);
  if (!m) return [];
  return m[1]!
    .split(',')
    .map((v) => Number(v.trim()))
    .filter((v) => !Number.isNaN(v))
    // `level` reports digital silence as a very large negative number (e.g. -700 dB)
    .map((v) => (v < -200 ? -Infinity : v));
}

/** The streams `gst-discoverer-1.0` reports, or an AnalysisError when it cannot read the file. */
export function parseDiscoverer(output: string): { audio: boolean; video: boolean } {
  if (/error was encountered/i.test(output)) throw new AnalysisError(`not a readable media file: ${output.split('\n').slice(-3).join(' ').trim()}`);
  const streams = { audio: /^\s+audio #\d+:/m.test(output), video: /^\s+video #\d+:/m.test(output) };
  if (!streams.audio && !streams.video) throw new AnalysisError('no audio or video stream in the file');
  return streams;
}

export async function analyseFile(file: string, opts: { audio: boolean; video: boolean; timeoutMs: number }): Promise<Measurements> {
  const dir = mkdtempSync(join(tmpdir(), 'tapedeck-moderator-'));
  const framesOut = join(dir, 'frames.gray');
  const deadline = Date.now() + opts.timeoutMs;
  try {
    const present = parseDiscoverer(await run('gst-discoverer-1.0', [file], opts.timeoutMs));
    // measure what is expected and there; expected but missing counts as nothing measured
    const measure = { audio: opts.audio && present.audio, video: opts.video && present.video };
    const output = measure.audio || measure.video ? await run('gst-launch-1.0', analysisPipeline(file, { ...measure, framesOut }), Math.max(1000, deadline - Date.now())) : '';
    const audio = opts.audio ? parseLevelMessages(output) : undefined;
    let video: Measurements['video'];
    if (opts.video) {
      const raw = measure.video ? readFileSync(framesOut) : Buffer.alloc(0);
      const size = FRAME_WIDTH * FRAME_HEIGHT;
      const frames: Uint8Array[] = [];
      for (let off = 0; off + size <= raw.length; off += size) frames.push(raw.subarray(off, off + size));
      video = { width: FRAME_WIDTH, height: FRAME_HEIGHT, frames };
    }
    return { audio, video };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let eosGrace: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // gst-launch-1.0 1.22 sometimes never exits after EOS although all is written
      if (!eosGrace && out.includes('Got EOS from element "pipeline0"')) eosGrace = setTimeout(() => child.kill('SIGKILL'), 3000);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new AnalysisError(`analysis took longer than ${timeoutMs} ms; killed`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new AnalysisError(`${command}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (eosGrace) clearTimeout(eosGrace);
      const eos = out.includes('Got EOS from element "pipeline0"');
      // gst-launch prints ERROR lines and exits non-zero on a broken file
      if ((code === 0 || eos) && !/^ERROR/m.test(out)) resolve(out);
      else reject(new AnalysisError(`analysis failed (${code ?? signal}): ${(out.match(/^ERROR.*$/m)?.[0] ?? err).slice(0, 500)}`));
    });
  });
}
