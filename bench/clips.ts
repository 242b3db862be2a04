// npm run bench:clips: wall time and CPU to make a 10-minute extended clip from 15-second
// snippets, without re-encoding (whole snippets, stream copy) and with precise edges (the first
// and last partial GOP re-encoded), against the GCS emulator. Two figures per case: the whole
// mergeClip activity (download → merge → upload) and the merge alone on local files. CPU is this
// process plus its finished children (ffmpeg, ffprobe) from /proc/self/stat; the emulator's own
// CPU is not counted. Goal (issue): under 3 s without re-encoding on a 2-core machine.
// Usage: node dist/bench/clips.js [--snippets 40] [--seconds 15] [--runs 3] [--keep]
import { readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClipActivities } from '../activities/clips/clip.activities';
import { mergePieces, runTool, type MergePiece } from '../activities/clips/merge';
import { planClip } from '../activities/clips/plan';
import { objectName } from '../activities/ship/naming';
import { listStoredSnippets } from '../activities/ship/snippet-listing';
import { createLogger } from '../apps/common/logger';
import type { ClipRequest } from '../workflows/clip.types';
import { startTestCloud, TEST_BUCKET } from '../test/support/cloud';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** CPU seconds of this process and of its children that have exited. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // After "pid (comm) " the fields start at stat's 3rd; utime, stime, cutime, cstime are 14..17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

async function measure<T>(fn: () => Promise<T>): Promise<{ wallS: number; cpuS: number; result: T }> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const result = await fn();
  return { wallS: (performance.now() - t0) / 1000, cpuS: cpuSeconds() - c0, result };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const count = Number(arg('snippets', '40'));
  const seconds = Number(arg('seconds', '15'));
  const runs = Number(arg('runs', '3'));
  const keep = process.argv.includes('--keep');
  const work = mkdtempSync(join(tmpdir(), 'tapedeck-bench-clips-'));
  const cache = join(process.cwd(), '.data', 'media-cache');
  mkdirSync(cache, { recursive: true });
  // A busy test picture (about 1.3 Mbit/s, like a composite of cameras), H.264 with a keyframe every
  // second + AAC, without an edit list, as GStreamer's mp4mux writes the shipped snippets.
  const template = join(cache, `clip-bench-snippet-${seconds}s-noedts.mp4`);
  if (!existsSync(template)) {
    await runTool('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=15:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '44k', '-ac', '1', '-shortest', '-use_editlist', '0', '-f', 'mp4', template], 120_000);
  }
  const cloud = await startTestCloud();
  const logger = createLogger('bench-clips', 'warn');
  const livestreamId = `bench-clips-${Date.now()}`;
  const T0 = Math.floor(Date.now() / 1000) * 1000 - (count + 2) * seconds * 1000;
  const rows: Array<Record<string, unknown>> = [];
  try {
    // count + 1 snippets, so the precise 10-minute range can start and end mid-snippet.
    for (let i = 0; i <= count; i++) {
      const meta = { livestreamId, kind: 'composite' as const, sequence: i, startTime: new Date(T0 + i * seconds * 1000).toISOString(), endTime: new Date(T0 + (i + 1) * seconds * 1000).toISOString(), contentType: 'video/mp4' as const };
      await cloud.storage.bucket(TEST_BUCKET).upload(template, { destination: objectName(meta), resumable: false, metadata: { contentType: 'video/mp4', metadata: { durationMs: String(seconds * 1000) } } });
    }
    const acts = createClipActivities({ storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, logger, workDir: join(work, 'scratch') });
    const listing = await listStoredSnippets(cloud.storage, TEST_BUCKET, livestreamId);
    const spanMs = count * seconds * 1000;
    for (const precise of [false, true]) {
      const offset = precise ? (seconds * 1000) / 2 : 0;
      const request: ClipRequest = { livestreamId, recording: 'composite', start: new Date(T0 + offset).toISOString(), end: new Date(T0 + offset + spanMs).toISOString(), precise, includeAudioOnly: false };
      const { sources } = planClip(listing, request);
      const local = join(work, `local-${precise}`);
      mkdirSync(local, { recursive: true });
      const pieces: MergePiece[] = sources.map((s) => {
        const path = join(local, `${s.sequence}.mp4`);
        copyFileSync(template, path);
        return { path, kind: 'mp4', startTime: s.startTime, endTime: s.endTime };
      });
      for (let run = 1; run <= runs; run++) {
        const activity = await measure(() => acts.mergeClip({ clipId: `clip-bench${precise ? 'p' : 'n'}${run}-${Date.now().toString(16)}`, request, sources }));
        const dir = join(work, `merge-${precise}-${run}`);
        mkdirSync(dir, { recursive: true });
        const merge = await measure(() => mergePieces(pieces, join(dir, 'out.mp4'), { precise, start: request.start, end: request.end, workDir: dir }));
        rows.push({
          precise,
          run,
          snippets: sources.length,
          clipS: activity.result.durationMs / 1000,
          sizeMB: Math.round(activity.result.sizeBytes / 1e5) / 10,
          activityWallS: Math.round(activity.wallS * 100) / 100,
          activityCpuS: Math.round(activity.cpuS * 100) / 100,
          mergeWallS: Math.round(merge.wallS * 100) / 100,
          mergeCpuS: Math.round(merge.cpuS * 100) / 100,
          reencodedPieces: merge.result.reencoded,
        });
        if (!keep) rmSync(dir, { recursive: true, force: true });
        console.log(JSON.stringify(rows[rows.length - 1]));
      }
    }
  } finally {
    await cloud.close();
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| case | snippets | clip s | MB | activity wall s (median) | activity CPU s | merge-only wall s | merge-only CPU s |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const precise of [false, true]) {
    const r = rows.filter((x) => x.precise === precise);
    const m = (k: string) => median(r.map((x) => Number(x[k])));
    console.log(`| ${precise ? 'precise edges' : 'stream copy'} | ${r[0]!.snippets} | ${r[0]!.clipS} | ${r[0]!.sizeMB} | ${m('activityWallS')} | ${m('activityCpuS')} | ${m('mergeWallS')} | ${m('mergeCpuS')} |`);
  }
  const copyWall = median(rows.filter((x) => !x.precise).map((x) => Number(x.activityWallS)));
  console.log(`\ngoal: a 10-minute clip without re-encoding in under 3 s: ${copyWall < 3 ? 'met' : 'not met'} (${copyWall} s, download + merge + upload)`);
  mkdirSync('bench-results', { recursive: true });
  const out = join('bench-results', `clips-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ count, seconds, runs, rows }, null, 2));
  console.log(`results: ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
