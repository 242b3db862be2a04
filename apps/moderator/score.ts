// The reference moderation score: pure arithmetic over what analyse.ts measured on the file.
// A data-science team replaces this (and analyse.ts) with its own model; the message it
// publishes (tapedeck.score.v1) and the clip request stay the same.
//
//   audio windows of 1 s (GStreamer `level`, loudest channel; a file's last window, when shorter
//   than MIN_WINDOW_MS (0.5 s), is left out: a 0.2-s tail between two beeps is not a silence):
//     silent   RMS below SILENCE_DB (-50 dBFS; digital silence is -inf)
//     clipped  peak at or above CLIP_DB (-1 dBFS: AAC and MP3 spread a clipped signal's peaks
//              about a decibel either side of full scale, so a stricter bound misses it)
//   video frames scaled to 64x36 grey:
//     black    mean luma below BLACK_LUMA (20 of 255; video black is 16)
//     frozen   part of a run of frames each differing from the one before by less than
//              FROZEN_DIFF (mean absolute luma difference 0.1 of 255) lasting at least
//              FROZEN_MIN_SECONDS (1 s): a short run (the test pattern's 3-frame white flash, a
//              repeated frame) is not a freeze
//   audioScore = 1 - max(silentRatio, clippedRatio)
//   videoScore = 1 - max(frozenRatio, blackRatio)
//   score      = min(audioScore, videoScore)      (an audio-only snippet: audioScore)
// A snippet is flagged when score < threshold (TAPEDECK_MODERATOR_THRESHOLD, default 0.5),
// that is when more than half of it is silent, clipped, frozen or black, and it is at least
// MIN_JUDGED_SECONDS (2 s) long: the short tail a recording ends with holds one partial window
// and a few frames, too little to tell a pause from a fault (it is scored, not flagged).
import type { AudioScore, SnippetScore, VideoScore } from '../common/score-message';
import type { AudioWindow, Measurements } from './analyse';

export const SILENCE_DB = -50;
export const CLIP_DB = -1;
export const BLACK_LUMA = 20;
export const FROZEN_DIFF = 0.1;
export const FROZEN_MIN_SECONDS = 1;
export const MIN_JUDGED_SECONDS = 2;
export const MIN_WINDOW_MS = 500;

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export function scoreAudio(measured: AudioWindow[]): AudioScore {
  const full = measured.filter((w) => w.durationMs >= MIN_WINDOW_MS);
  const windows = full.length > 0 ? full : measured;
  const n = windows.length;
  const silent = windows.filter((w) => w.rmsDb < SILENCE_DB).length;
  const clipped = windows.filter((w) => w.peakDb >= CLIP_DB).length;
  const loud = windows.filter((w) => w.rmsDb >= SILENCE_DB);
  const silentRatio = n ? silent / n : 1;
  const clippedRatio = n ? clipped / n : 0;
  return {
    windows: n,
    silentRatio: round(silentRatio),
    clippedRatio: round(clippedRatio),
    meanRmsDb: loud.length ? round(loud.reduce((a, w) => a + w.rmsDb, 0) / loud.length, 1) : null,
    score: round(1 - Math.max(silentRatio, clippedRatio)),
  };
}

export function meanLuma(frame: Uint8Array): number {
  let sum = 0;
  for (const v of frame) sum += v;
  return sum / frame.length;
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function scoreVideo(frames: Uint8Array[], fps: number): VideoScore {
  const n = frames.length;
  const lumas = frames.map(meanLuma);
  const diffs = frames.slice(1).map((f, i) => meanAbsDiff(f, frames[i]!));
  // runs of still frames: frame i is still when it barely differs from frame i-1
  const minRun = Math.max(2, Math.round(FROZEN_MIN_SECONDS * fps));
  let frozen = 0;
  let run = 1; // frames in the current still run, counting its first frame
  for (let i = 1; i <= n; i++) {
    const still = i < n && diffs[i - 1]! < FROZEN_DIFF;
    if (still) run++;
    else {
      if (run >= minRun) frozen += run;
      run = 1;
    }
  }
  const black = lumas.filter((l) => l < BLACK_LUMA).length;
  const frozenRatio = n ? frozen / n : 0;
  const blackRatio = n ? black / n : 0;
  const score = n ? 1 - Math.max(frozenRatio, blackRatio) : 0; // no picture where one was due
  return {
    frames: n,
    frozenRatio: round(frozenRatio),
    blackRatio: round(blackRatio),
    meanLuma: round(n ? lumas.reduce((a, b) => a + b, 0) / n : 0, 1),
    meanDiff: round(diffs.length ? diffs.reduce((a, b) => a + b, 0) / diffs.length : 0, 2),
    score: round(score),
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

export function scoreSnippet(m: Measurements, opts: { fps: number; threshold: number; durationMs: number }): SnippetScore {
  const audio = m.audio ? scoreAudio(m.audio) : null;
  const video = m.video ? scoreVideo(m.video.frames, opts.fps) : null;
  const score = Math.min(audio?.score ?? 1, video?.score ?? 1);
  const reasons: string[] = [];
  const bad = 1 - opts.threshold; // a ratio above this alone brings the score under the threshold
  if (audio && audio.silentRatio > bad) reasons.push(`silent: ${pct(audio.silentRatio)} of 1-second windows below ${SILENCE_DB} dBFS`);
  if (audio && audio.clippedRatio > bad) reasons.push(`clipping: ${pct(audio.clippedRatio)} of 1-second windows peak at ${CLIP_DB} dBFS or above`);
  if (video && video.frozenRatio > bad) reasons.push(`frozen: ${pct(video.frozenRatio)} of frames in still runs of ${FROZEN_MIN_SECONDS} s or more`);
  if (video && video.blackRatio > bad) reasons.push(`black: ${pct(video.blackRatio)} of frames with mean luma below ${BLACK_LUMA}`);
  if (audio && audio.windows === 0) reasons.push('no audio: the file has no audio that could be measured');
  if (video && video.frames === 0) reasons.push('no video: the file has no video frame that could be decoded');
  const judged = opts.durationMs >= MIN_JUDGED_SECONDS * 1000;
  if (!judged && score < opts.threshold) reasons.push(`not flagged: ${(opts.durationMs / 1000).toFixed(1)} s is too short to judge`);
  return { score: round(score), flagged: judged && score < opts.threshold, reasons, audio, video };
}
