// The HLS shipper's spool folder against the GCS emulator, with the folder written by hand so every
// case is there on purpose: a segment a stalled attempt abandoned (never listed, not written for
// two minutes) goes without being uploaded; the new attempt's segment still being written stays;
// a listed one stays until it is uploaded and out of the playlist; after the finished
// recording's last pass no segment is left, the playlist file is, and the bucket holds exactly the
// listed segments. (live-output-hls does the same path with a real hlssink2.)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../apps/common/logger';
import { ABANDONED_SEGMENT_MS, HlsShipper } from '../../activities/ship/hls-shipper';
import { hlsPrefix, HLS_PLAYLIST } from '../../pipelines/outputs/outputs';
import { startTestCloud, TEST_BUCKET, type TestCloud } from '../support/cloud';

let cloud: TestCloud | undefined;
const spoolDir = mkdtempSync(join(tmpdir(), 'tapedeck-hls-tidy-'));
after(async () => {
  await cloud?.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

const playlist = (sequence: number, names: string[], ended = false) =>
  ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-MEDIA-SEQUENCE:${sequence}`, '#EXT-X-TARGETDURATION:2', '', ...names.flatMap((n) => ['#EXTINF:2,', n]), ...(ended ? ['#EXT-X-ENDLIST'] : []), ''].join('\n');

test('the HLS spool keeps what is still needed and drops what a stalled attempt abandoned', { timeout: 60_000 }, async () => {
  cloud = await startTestCloud();
  const dir = join(spoolDir, 'hls');
  mkdirSync(dir);
  const put = (name: string, ageMs = 0) => {
    writeFileSync(join(dir, name), `segment ${name}`);
    if (ageMs > 0) {
      const t = new Date(Date.now() - ageMs);
      utimesSync(join(dir, name), t, t);
    }
  };
  const local = () => readdirSync(dir).sort();
  // A first attempt stalled on its first segment (never listed); the second attempt has listed two
  // segments and is writing a third; a third attempt's file appeared a moment ago.
  put('sold-000000.ts', 2 * ABANDONED_SEGMENT_MS);
  put('soldr2-000000.ts');
  put('soldr2-000001.ts');
  put('soldr2-000002.ts');
  writeFileSync(join(dir, HLS_PLAYLIST), playlist(0, ['soldr2-000000.ts', 'soldr2-000001.ts']));
  const shipper = new HlsShipper({ livestreamId: 'ls-tidy', spoolDir }, { storage: cloud.storage, bucket: TEST_BUCKET, logger: createLogger('test-hls-tidy', 'silent'), intervalMs: 100 });

  await shipper.syncOnce();
  assert.deepEqual(local(), [HLS_PLAYLIST, 'soldr2-000000.ts', 'soldr2-000001.ts', 'soldr2-000002.ts'], 'the abandoned segment is gone, the rest stays');
  assert.equal(shipper.status().abandonedDeleted, 1);
  assert.equal(shipper.status().segmentsUploaded, 2);

  // The third segment is listed, the first rolls out: it was uploaded, so it goes.
  writeFileSync(join(dir, HLS_PLAYLIST), playlist(1, ['soldr2-000001.ts', 'soldr2-000002.ts']));
  await shipper.syncOnce();
  assert.deepEqual(local(), [HLS_PLAYLIST, 'soldr2-000001.ts', 'soldr2-000002.ts']);

  // The recording finishes with a segment that was never listed (stopped before it closed).
  put('soldr2-000003.ts');
  writeFileSync(join(dir, HLS_PLAYLIST), playlist(1, ['soldr2-000001.ts', 'soldr2-000002.ts'], true));
  writeFileSync(join(spoolDir, 'finished.json'), '{}');
  const final = await shipper.run();
  assert.ok(final.ended, 'the last playlist is published with its end');
  assert.equal(final.abandonedDeleted, 2);
  assert.deepEqual(local(), [HLS_PLAYLIST], 'after the last pass only the playlist is left');
  assert.ok(existsSync(join(dir, HLS_PLAYLIST)));

  const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `${hlsPrefix('ls-tidy')}/` });
  assert.deepEqual(
    files.map((f) => f.name.slice(hlsPrefix('ls-tidy').length + 1)).sort(),
    [HLS_PLAYLIST, 'soldr2-000000.ts', 'soldr2-000001.ts', 'soldr2-000002.ts'],
    'the bucket has the listed segments and the playlist, nothing abandoned',
  );
});
