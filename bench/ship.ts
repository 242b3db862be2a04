// npm run bench:ship: close → publish-ack latency per snippet, p50/p95/max, against the GCS and
// Pub/Sub emulators, for 1 and 20 concurrent recordings shipped by one process (as on a media
// worker). Each recording "closes" a real 15-second 640x360 H.264/AAC snippet (made once with
// ffmpeg, copied per snippet as the .part file, renamed, sidecar written) every --interval-ms.
// Usage: node dist/bench/ship.js [--recordings 1,20] [--snippets 8] [--interval-ms 3000]
// Numbers depend on the machine being quiet; the emulators run on the same cores.
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingShipper, type ShipEvent } from '../activities/ship/shipper';
import { percentile } from '../activities/ship/stats';
import { createLogger } from '../apps/common/logger';
import { FINISHED_MARKER_FILE, metadataFileName, partFileName } from '../pipelines/spool';
import { startTestCloud, TEST_BUCKET } from '../test/support/cloud';
import { encodeMedia, sidecarFor } from '../test/support/snippets';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const recordingCounts = arg('recordings', '1,20').split(',').map(Number);
  const snippets = Number(arg('snippets', '8'));
  const intervalMs = Number(arg('interval-ms', '3000'));
  const work = mkdtempSync(join(tmpdir(), 'tapedeck-bench-ship-'));
  const template = join(work, 'template.mp4');
  await encodeMedia(template, 'av', 15, 440);
  const cloud = await startTestCloud();
  const logger = createLogger('bench-ship', 'warn');
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const n of recordingCounts) {
      const latencies: number[] = [];
      const livestreamId = `bench-${n}-${Date.now()}`;
      const shippers = Array.from({ length: n }, (_, r) => {
        const recordingId = `rec-${r}`;
        const spoolDir = join(work, livestreamId, recordingId);
        mkdirSync(spoolDir, { recursive: true });
        const shipper = new RecordingShipper(
          { livestreamId, recordingId, spoolDir },
          { storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, clock: Date.now, logger, onEvent: (e: ShipEvent) => e.type === 'shipped' && latencies.push(e.closeToAckMs) },
        );
        return { recordingId, spoolDir, shipper, done: shipper.run({ untilFinished: true }) };
      });
      const started = Date.now();
      // Recordings are staggered across the interval, like real ones that started at different times.
      await Promise.all(
        shippers.map(async ({ recordingId, spoolDir }, r) => {
          await sleep((intervalMs * r) / n);
          for (let seq = 0; seq < snippets; seq++) {
            const part = join(spoolDir, partFileName(seq, 'mp4'));
            copyFileSync(template, part);
            const meta = sidecarFor({ livestreamId, recordingId, sequence: seq, seconds: 15 });
            renameSync(part, join(spoolDir, meta.file));
            writeFileSync(join(spoolDir, `.${seq}.tmp`), JSON.stringify({ ...meta, closedAt: new Date().toISOString() }));
            renameSync(join(spoolDir, `.${seq}.tmp`), join(spoolDir, metadataFileName(seq)));
            await sleep(intervalMs);
          }
          writeFileSync(join(spoolDir, FINISHED_MARKER_FILE), JSON.stringify({ finishedAt: new Date().toISOString(), lastSequence: snippets - 1 }));
        }),
      );
      await Promise.all(shippers.map((s) => s.done));
      const sorted = [...latencies].sort((a, b) => a - b);
      const row = {
        recordings: n,
        snippets: sorted.length,
        closeToAckMs: { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.at(-1) },
        snippetsPerSecond: Math.round((sorted.length / ((Date.now() - started) / 1000)) * 100) / 100,
      };
      results.push(row);
      process.stdout.write(`${n} recording(s): ${row.snippets} snippets, close→ack p50 ${row.closeToAckMs.p50} ms, p95 ${row.closeToAckMs.p95} ms, max ${row.closeToAckMs.max} ms\n`);
    }
    process.stdout.write(`${JSON.stringify({ bench: 'ship', intervalMs, snippetBytes: (await import('node:fs')).statSync(template).size, results })}\n`);
  } finally {
    await cloud.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:ship: ${(e as Error).stack}\n`);
  process.exit(1);
});
