// The repair of snippets with an undescribed trak (pipelines/mp4.ts) on real MP4 files: a valid
// H.264 + AAC file made by ffmpeg, and copies broken the way mp4mux breaks them (the audio trak's
// stsd with 0 entries, mdhd time scale 0, no samples). ffmpeg is the judge of playability.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkMp4Boxes, CorruptSnippetError } from '../../activities/ship/verify';
import { childBoxes, moovTracks, repairEmptyTracks, type Mp4Box } from '../../pipelines/mp4';

const dir = mkdtempSync(join(tmpdir(), 'tapedeck-mp4-repair-'));

/** ffmpeg's verdict: '' when every stream decodes, else its first complaints. */
function ffmpegErrors(path: string): string {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.status === 0 ? r.stderr.trim() : `exit ${r.status}: ${r.stderr.trim()}`;
}

const streams = (path: string) =>
  execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,nb_frames', '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim().split('\n');

function make(name: string, faststart: boolean): string {
  const path = join(dir, name);
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-c:a', 'aac', '-ac', '2',
    ...(faststart ? ['-movflags', '+faststart'] : []),
    path,
  ]);
  return path;
}

/** Absolute offsets of a box path (e.g. moov/trak[1]/mdia/minf/stbl/stsd) in a file's bytes. */
function find(file: Buffer, trakIndex: number, path: string[]): Mp4Box {
  const moov = childBoxes(file, 0, file.length).find((b) => b.type === 'moov')!;
  let box = childBoxes(file, moov.start + moov.headerSize, moov.start + moov.size).filter((b) => b.type === 'trak')[trakIndex]!;
  for (const type of path) box = childBoxes(file, box.start + box.headerSize, box.start + box.size).find((b) => b.type === type)!;
  return box;
}

/** A copy whose audio trak looks like mp4mux's for a pad that never got caps (optionally keeping its samples). */
function breakAudio(src: string, name: string, keepSamples = false): string {
  const file = readFileSync(src);
  const moov = childBoxes(file, 0, file.length).find((b) => b.type === 'moov')!;
  const tracks = moovTracks(file.subarray(moov.start, moov.start + moov.size));
  const audio = tracks.findIndex((t) => t.handler === 'soun');
  assert.ok(audio >= 0, 'the test file has an audio trak');
  const stsd = find(file, audio, ['mdia', 'minf', 'stbl', 'stsd']);
  file.writeUInt32BE(0, stsd.start + stsd.headerSize + 4); // entry_count
  const mdhd = find(file, audio, ['mdia', 'mdhd']);
  file.writeUInt32BE(0, mdhd.start + mdhd.headerSize + 4 + (file[mdhd.start + mdhd.headerSize] === 1 ? 16 : 8)); // timescale
  if (!keepSamples) {
    const stsz = find(file, audio, ['mdia', 'minf', 'stbl', 'stsz']);
    file.writeUInt32BE(0, stsz.start + stsz.headerSize + 8); // sample_count
  }
  const out = join(dir, name);
  writeFileSync(out, file);
  return out;
}

describe('snippet repair: traks without a sample description', () => {
  let moovLast: string;
  let faststart: string;
  before(() => {
    moovLast = make('moov-last.mp4', false);
    faststart = make('faststart.mp4', true);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves a good file untouched', () => {
    const copy = join(dir, 'good-copy.mp4');
    copyFileSync(moovLast, copy);
    assert.deepEqual(repairEmptyTracks(copy), { removed: [], kept: [] });
    assert.deepEqual(readFileSync(copy), readFileSync(moovLast));
  });

  it('removes the empty audio trak of a moov-last file: the file plays, the video is whole', async () => {
    const broken = breakAudio(moovLast, 'broken.mp4');
    assert.match(ffmpegErrors(broken), /invalid STSD entries 0|error reading header/, 'the copy is broken the way CI saw it');
    await assert.rejects(checkMp4Boxes(broken), (e: unknown) => e instanceof CorruptSnippetError && /soun.*no sample description \(stsd with 0 entries\)/.test(e.reason));

    const before = statSync(broken).size;
    const { removed, kept } = repairEmptyTracks(broken);
    assert.equal(kept.length, 0);
    assert.equal(removed.length, 1);
    assert.match(removed[0]!, /^trak 2 \(track 2, soun, 0 samples, time scale 0\): no sample description/);
    assert.ok(statSync(broken).size < before, 'the moov (last box) shrank with the file');
    assert.equal(ffmpegErrors(broken), '');
    assert.deepEqual(streams(broken), streams(moovLast).filter((s) => s.startsWith('video')));
    await checkMp4Boxes(broken);
  });

  it('turns the empty trak of a faststart file into a free box: nothing moves, the file plays', async () => {
    const broken = breakAudio(faststart, 'broken-faststart.mp4');
    assert.notEqual(ffmpegErrors(broken), '');
    const size = statSync(broken).size;
    assert.equal(repairEmptyTracks(broken).removed.length, 1);
    assert.equal(statSync(broken).size, size);
    assert.equal(ffmpegErrors(broken), '');
    assert.deepEqual(streams(broken), streams(faststart).filter((s) => s.startsWith('video')));
    await checkMp4Boxes(broken);
  });

  it('never drops a trak that holds samples: it is reported, the file left as it was', async () => {
    const broken = breakAudio(moovLast, 'broken-samples.mp4', true);
    const bytes = readFileSync(broken);
    const { removed, kept } = repairEmptyTracks(broken);
    assert.deepEqual(removed, []);
    assert.equal(kept.length, 1);
    assert.match(kept[0]!, /soun, [1-9]\d* samples/);
    assert.deepEqual(readFileSync(broken), bytes);
    await assert.rejects(checkMp4Boxes(broken), CorruptSnippetError);
  });
});
