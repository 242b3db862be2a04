// The A/V sync meter against files ffmpeg makes with a known offset between flash and beep.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { audioPatternSource, runFfmpeg, videoPatternFilter } from '../../apps/mock-sfu/media';
import { beepOnsets, flashOnsets, measureAvSync } from '../support/av-sync';

const dir = mkdtempSync(join(tmpdir(), 'tapedeck-avsync-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 5 s of the test pattern, H.264 + AAC in MP4, with audio shifted by `audioShiftMs` (adelay) or video by `videoShiftMs`. */
async function makeFile(name: string, audioShiftMs: number, videoShiftMs: number): Promise<string> {
  const out = join(dir, `${name}.mp4`);
  await runFfmpeg([
    '-f', 'lavfi', '-i', videoPatternFilter('sync', '#204080', 320, 240, 30, 5),
    '-f', 'lavfi', '-i', audioPatternSource(5),
    '-filter_complex', `[0:v]setpts=PTS+${videoShiftMs / 1000}/TB[v];[1:a]adelay=${audioShiftMs}:all=1[a]`,
    '-map', '[v]', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'aac', '-b:a', '64k', out,
  ]);
  return out;
}

describe('A/V sync meter', { timeout: 120_000 }, () => {
  it('finds onsets in synthetic signals', () => {
    const means = [50, 50, 200, 200, 50, 50, 50, 50, 210, 60];
    const times = means.map((_, i) => i * 100);
    assert.deepEqual(flashOnsets(means, times), [200, 800]);
    const pcm = new Int16Array(16_000);
    for (let i = 4000; i < 5600; i++) pcm[i] = Math.round(20000 * Math.sin((2 * Math.PI * 1000 * i) / 16_000));
    for (let i = 12000; i < 13600; i++) pcm[i] = Math.round(20000 * Math.sin((2 * Math.PI * 1000 * i) / 16_000));
    const onsets = beepOnsets(pcm, 16_000);
    assert.equal(onsets.length, 2);
    assert.ok(Math.abs(onsets[0]! - 4000) <= 2 && Math.abs(onsets[1]! - 12000) <= 2, `${onsets}`);
  });

  it('measures audio 200 ms late in an MP4', async () => {
    const r = await measureAvSync(await makeFile('late200', 200, 0));
    assert.ok(r.pairs.length >= 4, JSON.stringify(r));
    for (const o of r.offsetsMs) assert.ok(Math.abs(o - 200) <= 5, `offset ${o} ms, expected 200: ${JSON.stringify(r.pairs)}`);
  });

  it('measures video 100 ms late (audio early) in an MP4', async () => {
    const r = await measureAvSync(await makeFile('early100', 0, 100));
    assert.ok(r.pairs.length >= 4, JSON.stringify(r));
    for (const o of r.offsetsMs) assert.ok(Math.abs(o + 100) <= 5, `offset ${o} ms, expected -100: ${JSON.stringify(r.pairs)}`);
  });

  it('measures an aligned file as in sync', async () => {
    const r = await measureAvSync(await makeFile('aligned', 0, 0));
    assert.ok(r.pairs.length >= 4, JSON.stringify(r));
    for (const o of r.offsetsMs) assert.ok(Math.abs(o) <= 5, `offset ${o} ms, expected 0: ${JSON.stringify(r.pairs)}`);
  });
});
