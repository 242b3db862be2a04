// The reference scorer's measurements on real files: ffmpeg makes 4-second snippets of known
// content (the mock SFU's moving test pattern with its beep, a frozen picture with silence, black
// video, a clipped tone, an MP3), GStreamer measures them (apps/moderator/analyse.ts), and the
// score (score.ts) must tell the good from the bad for the right reasons. A broken file is an
// error, not a score.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AnalysisError, analyseFile } from '../../apps/moderator/analyse';
import { scoreSnippet } from '../../apps/moderator/score';
import { audioPatternSource, runFfmpeg, videoPatternFilter } from '../../apps/mock-sfu/media';

const dir = mkdtempSync(join(tmpdir(), 'tapedeck-moderator-test-'));
const SECONDS = 4;
const FPS = 15;
const beep = ['-f', 'lavfi', '-i', audioPatternSource(SECONDS)];
const h264aac = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-r', String(FPS), '-c:a', 'aac', '-t', String(SECONDS)];

async function make(name: string, inputs: string[], codec = h264aac): Promise<string> {
  const out = join(dir, name);
  await runFfmpeg([...inputs, ...codec, out]);
  return out;
}

const score = async (file: string, video = true) =>
  scoreSnippet(await analyseFile(file, { audio: true, video, timeoutMs: 30_000 }), { fps: FPS, threshold: 0.5, durationMs: SECONDS * 1000 });

describe('moderator analysis (GStreamer measurements → score)', () => {
  const files: Record<string, string> = {};
  before(async () => {
    const pattern = ['-f', 'lavfi', '-i', videoPatternFilter('Ada', '#336699', 640, 360, FPS, SECONDS)];
    files.good = await make('good.mp4', [...pattern, ...beep]);
    files.frozenSilent = await make('frozen.mp4', ['-f', 'lavfi', '-i', `color=c=0x336699:s=640x360:r=${FPS}:d=${SECONDS}`, '-f', 'lavfi', '-i', `anullsrc=r=48000:cl=mono`]);
    files.black = await make('black.mp4', ['-f', 'lavfi', '-i', `color=c=black:s=640x360:r=${FPS}:d=${SECONDS},noise=alls=20:allf=t`, ...beep]);
    files.clipped = await make('clipped.mp4', [...pattern, '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${SECONDS},volume=8`]);
    files.mp3 = await make('audio.mp3', beep, ['-c:a', 'libmp3lame', '-t', String(SECONDS)]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the moving test pattern with its beep scores well', { timeout: 60_000 }, async () => {
    const s = await score(files.good!);
    assert.equal(s.flagged, false, JSON.stringify(s));
    assert.ok(s.audio!.windows >= SECONDS - 1 && s.audio!.silentRatio === 0, `every 1 s window holds a beep: ${JSON.stringify(s.audio)}`);
    assert.ok(s.video!.frames >= SECONDS * FPS - 2, `frames decoded: ${s.video!.frames}`);
    assert.ok(s.video!.frozenRatio < 0.2, `only the 3-frame flashes are still: ${s.video!.frozenRatio}`);
    assert.ok(s.score >= 0.8, `score ${s.score}`);
  });

  it('a frozen, silent picture is flagged with both reasons', { timeout: 60_000 }, async () => {
    const s = await score(files.frozenSilent!);
    assert.equal(s.flagged, true);
    assert.equal(s.audio!.silentRatio, 1);
    assert.equal(s.audio!.meanRmsDb, null);
    assert.ok(s.video!.frozenRatio > 0.9, `frozen ${s.video!.frozenRatio}`);
    assert.ok(s.score < 0.1, `score ${s.score}`);
    assert.ok(s.reasons.some((r) => r.startsWith('silent')) && s.reasons.some((r) => r.startsWith('frozen')), s.reasons.join('; '));
  });

  it('black (noisy, so not frozen) video is flagged as black only', { timeout: 60_000 }, async () => {
    const s = await score(files.black!);
    assert.equal(s.flagged, true);
    assert.ok(s.video!.blackRatio > 0.9, `black ${s.video!.blackRatio}`);
    assert.ok(s.video!.frozenRatio < 0.5, `frozen ${s.video!.frozenRatio}`);
    assert.deepEqual(s.reasons.map((r) => r.split(':')[0]), ['black']);
  });

  it('clipped audio is flagged as clipping', { timeout: 60_000 }, async () => {
    const s = await score(files.clipped!);
    assert.equal(s.flagged, true);
    assert.ok(s.audio!.clippedRatio > 0.9, `clipped ${s.audio!.clippedRatio}`);
    assert.deepEqual(s.reasons.map((r) => r.split(':')[0]), ['clipping']);
  });

  it('an audio-only MP3 is scored on its audio', { timeout: 60_000 }, async () => {
    const s = await score(files.mp3!, false);
    assert.equal(s.video, null);
    assert.equal(s.flagged, false);
    assert.ok(s.audio!.windows >= SECONDS - 1);
  });

  it('a bad snippet too short to judge is scored but not flagged', { timeout: 60_000 }, async () => {
    const s = scoreSnippet(await analyseFile(files.frozenSilent!, { audio: true, video: true, timeoutMs: 30_000 }), { fps: FPS, threshold: 0.5, durationMs: 1500 });
    assert.ok(s.score < 0.5);
    assert.equal(s.flagged, false);
    assert.match(s.reasons.at(-1)!, /too short to judge/);
  });

  it('an MP4 whose promised video is missing is flagged "no video", without waiting for it', { timeout: 60_000 }, async () => {
    const audioOnly = await make('audio-only.mp4', beep, ['-c:a', 'aac', '-t', String(SECONDS)]);
    const started = Date.now();
    const s = await score(audioOnly);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.equal(s.video!.frames, 0);
    assert.equal(s.flagged, true);
    assert.deepEqual(s.reasons.map((r) => r.split(':')[0]), ['no video']);
  });

  it('a broken file is an AnalysisError, not a score', { timeout: 60_000 }, async () => {
    const broken = join(dir, 'broken.mp4');
    writeFileSync(broken, Buffer.alloc(5000, 7));
    await assert.rejects(analyseFile(broken, { audio: true, video: true, timeoutMs: 30_000 }), AnalysisError);
  });
});
