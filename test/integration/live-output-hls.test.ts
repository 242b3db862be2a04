// The composite's live HLS rendition, end to end with real parts: mock SFU → MediaSession →
// composite pipeline → tee → hlssink2 in the spool → HlsShipper → the GCS emulator. A player's
// view is checked through the emulator's HTTP: the playlist at the URL the status gives is valid,
// every segment it names is there and decodes (640x360 H.264 + AAC), the playlist advances while
// recording and ends with EXT-X-ENDLIST; no segment is left in the spool after the last pass;
// the recording's snippets keep their length. Then the recording starts again (a new
// pipeline run, a new shipper, as after a worker restart): the same playlist goes on, its media
// sequence growing, with a discontinuity before the new run's segments and no end.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../apps/common/logger';
import { parseMediaPlaylist } from '../../activities/ship/hls-playlist';
import { HlsShipper } from '../../activities/ship/hls-shipper';
import { HLS_PLAYLIST, HLS_SEGMENT, hlsPlaylistUrl } from '../../pipelines/outputs/outputs';
import { startTestCloud, TEST_BUCKET, type TestCloud } from '../support/cloud';
import { LiveSession } from '../support/live-session';
import { decodeErrors, probe } from '../support/media';
import { compositeConfig, hostMedia, sleep } from '../support/recording';

let live: LiveSession | undefined;
let cloud: TestCloud | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'tapedeck-hls-'));
const stop = new AbortController();
const stopAgain = new AbortController();
after(async () => {
  stop.abort();
  stopAgain.abort();
  await live?.cleanup();
  await cloud?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `GET ${url}`);
  return res;
}

interface Playlist {
  text: string;
  target: number;
  sequence: number;
  segments: Array<{ name: string; seconds: number }>;
}

function parsePlaylist(text: string): Playlist {
  assert.ok(text.startsWith('#EXTM3U'), 'playlist starts with #EXTM3U');
  const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const durations = [...text.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
  const names = parseMediaPlaylist(text).entries.map((e) => e.name);
  assert.equal(durations.length, names.length, 'one EXTINF per segment');
  return { text, target, sequence, segments: names.map((name, i) => ({ name, seconds: durations[i]! })) };
}

test('composite as live HLS: a valid rolling playlist in the bucket whose segments play, continued by a restarted recording', { timeout: 180_000 }, async () => {
  cloud = await startTestCloud();
  live = await LiveSession.open({ livestreamId: 'ls-hls' });
  const hosts = [hostMedia('a', 'VP8'), hostMedia('b', 'H264')];
  for (const h of hosts) await live.addHost(h);
  const record = () =>
    live!.record((dir) => compositeConfig(dir, hosts, { livestreamId: 'ls-hls', snippetSeconds: 5, stopTimeoutMs: 15_000, outputs: { rtmp: [], hls: { segmentSeconds: 2, playlistLength: 4 } } }));
  const rec = await record();
  const logger = createLogger('test-hls', 'silent');
  const shipper = new HlsShipper({ livestreamId: 'ls-hls', spoolDir: rec.config.spoolDir }, { storage: cloud.storage, bucket: TEST_BUCKET, logger, intervalMs: 300 });
  const shipping = shipper.run(stop.signal);
  const url = hlsPlaylistUrl(TEST_BUCKET, 'ls-hls', cloud.cloud.storageEmulator);

  const deadline = Date.now() + 30_000;
  while (shipper.status().segmentsUploaded < 3 && Date.now() < deadline) await sleep(500);
  const hlsDir = join(rec.config.spoolDir, 'hls');
  const troubles = () => JSON.stringify({ files: readdirSync(hlsDir), shipper: shipper.status(), events: rec.events.filter((e) => e.type !== 'stats' && e.type !== 'fragment-opened') });
  assert.ok(shipper.status().segmentsUploaded >= 3, `three segments uploaded within 30 s: ${troubles()}`);
  const first = parsePlaylist(await (await fetchOk(url)).text());
  assert.ok(first.segments.length >= 3, `segments listed: ${first.segments.length}`);
  assert.ok(first.target >= 2 && first.target <= 6, `target duration ${first.target} s`);
  for (const s of first.segments) {
    assert.match(s.name, HLS_SEGMENT);
    assert.ok(s.seconds >= 1.5 && s.seconds <= first.target + 0.5, `segment ${s.name} lasts ${s.seconds} s`);
    const body = Buffer.from(await (await fetchOk(new URL(s.name, url).toString())).arrayBuffer());
    const file = join(scratch, s.name);
    writeFileSync(file, body);
    const p = probe(file);
    const v = p.streams.find((x) => x.codec_type === 'video');
    const a = p.streams.find((x) => x.codec_type === 'audio');
    assert.ok(v && a, `${s.name} has video and audio`);
    assert.equal(v.codec_name, 'h264');
    assert.equal(`${v.width}x${v.height}`, '640x360');
    assert.equal(a.codec_name, 'aac');
    assert.equal(decodeErrors(file), '', `${s.name} decodes cleanly`);
  }

  await sleep(6000);
  const second = parsePlaylist(await (await fetchOk(url)).text());
  assert.ok(second.sequence > first.sequence, `the playlist advances (media sequence ${first.sequence} → ${second.sequence})`);
  assert.ok(second.segments.length <= 4, 'a rolling playlist of 4 segments');
  for (const s of second.segments) await fetchOk(new URL(s.name, url).toString());

  await live.finish(rec);
  writeFileSync(join(rec.config.spoolDir, 'finished.json'), '{}');
  const final = await Promise.race([shipping, sleep(20_000).then(() => null)]);
  stop.abort();
  assert.ok(final?.ended, 'the last playlist is uploaded with EXT-X-ENDLIST');
  const last = parsePlaylist(await (await fetchOk(url)).text());
  assert.match(last.text, /#EXT-X-ENDLIST/);
  // After the last pass the spool holds no segment: all were uploaded (or, had an attempt stalled,
  // abandoned), and the playlist file stays.
  const local = readdirSync(hlsDir);
  assert.deepEqual(local.filter((f) => HLS_SEGMENT.test(f)), [], `no segment left in the spool: ${local.join(', ')}`);
  assert.ok(local.includes(HLS_PLAYLIST), 'the local playlist stays');
  const listed = last.segments.map((s) => s.name);
  const prefix = (name: string) => name.slice(0, name.lastIndexOf('-'));

  assert.deepEqual(rec.events.filter((e) => e.type === 'error'), [], 'no errors');
  const snippets = rec.closed();
  for (const [i, s] of snippets.slice(0, -1).entries()) assert.ok(Math.abs(s.durationMs - 5000) <= 67, `snippet ${i} is 5 s (${s.durationMs} ms)`);

  // The recording starts again: a new pipeline run (new segment names, hlssink2's playlist from
  // sequence 0) and a new shipper that has only the bucket to go on.
  const again = await record();
  const shipperAgain = new HlsShipper({ livestreamId: 'ls-hls', spoolDir: again.config.spoolDir }, { storage: cloud.storage, bucket: TEST_BUCKET, logger, intervalMs: 300 });
  const shippingAgain = shipperAgain.run(stopAgain.signal);
  const deadlineAgain = Date.now() + 30_000;
  while (shipperAgain.status().segmentsUploaded < 2 && Date.now() < deadlineAgain) await sleep(500);
  assert.ok(shipperAgain.status().segmentsUploaded >= 2, `the restarted recording's segments are uploaded: ${JSON.stringify(shipperAgain.status())}`);
  const resumed = parsePlaylist(await (await fetchOk(url)).text());
  assert.ok(resumed.sequence > last.sequence, `the media sequence goes on growing (${last.sequence} → ${resumed.sequence})`);
  assert.doesNotMatch(resumed.text, /#EXT-X-ENDLIST/, 'live again: no end');
  const newRun = prefix(resumed.segments[resumed.segments.length - 1]!.name);
  assert.notEqual(newRun, prefix(listed[0]!), 'the new run names its segments afresh');
  // A discontinuity before the new run's first segment, or counted by the sequence once that
  // segment is the first listed.
  const firstNew = resumed.segments.findIndex((s) => prefix(s.name) === newRun);
  if (firstNew > 0) assert.match(resumed.text, new RegExp(`#EXT-X-DISCONTINUITY\n#EXTINF:[\\d.]+,\n${resumed.segments[firstNew]!.name}`));
  else assert.match(resumed.text, /#EXT-X-DISCONTINUITY-SEQUENCE:[1-9]/);
  for (const s of resumed.segments) await fetchOk(new URL(s.name, url).toString());
  const newFile = join(scratch, resumed.segments[firstNew]!.name);
  writeFileSync(newFile, Buffer.from(await (await fetchOk(new URL(resumed.segments[firstNew]!.name, url).toString())).arrayBuffer()));
  assert.equal(decodeErrors(newFile), '', 'the new run\'s first segment decodes cleanly');
  await live.stop();
  writeFileSync(join(again.config.spoolDir, 'finished.json'), '{}');
  const finalAgain = await Promise.race([shippingAgain, sleep(20_000).then(() => null)]);
  stopAgain.abort();
  assert.ok(finalAgain?.ended, 'the restarted run ends the playlist');
  assert.deepEqual(again.events.filter((e) => e.type === 'error'), [], 'no errors in the restarted run');
  console.log(
    `playlists: ${first.sequence} → ${second.sequence} → ${last.sequence} → restarted ${resumed.sequence}; uploaded ${JSON.stringify(shipper.status())} then ${JSON.stringify(shipperAgain.status())}; snippets ${snippets.map((s) => s.durationMs).join(', ')}`,
  );
});
