// Shipping against the real GCS and Pub/Sub emulators with real ffmpeg-made snippets: names,
// metadata, checksums and ordered schema-valid messages; SIGKILL between upload and publish and
// between publish and delete; both emulators down for 30 s while snippets keep closing; corrupt
// and truncated files quarantined.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import { objectName, snippetId } from '../../activities/ship/naming';
import { RecordingShipper, type ShipEvent } from '../../activities/ship/shipper';
import { checksums } from '../../activities/ship/verify';
import { createLogger } from '../../apps/common/logger';
import { FINISHED_MARKER_FILE, QUARANTINE_DIR, type SnippetMetadata } from '../../pipelines/spool';
import { startTestCloud, TEST_BUCKET, type TestCloud } from '../support/cloud';
import { Collector } from '../support/pubsub-collector';
import { writeSnippet } from '../support/snippets';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'schemas', 'tapedeck.snippet.v1.json'), 'utf8'));
// strictRequired off: the kind/variant rules require hostId/video from inside if/then.
const validator = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
const validate = Object.assign((data: unknown): boolean => validator(data), { get errors() { return validator.errors; } });
const logger = createLogger('ship-test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function finish(dir: string, lastSequence?: number): void {
  writeFileSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), JSON.stringify({ finishedAt: new Date().toISOString(), ...(lastSequence !== undefined ? { lastSequence } : {}) }));
  require('node:fs').renameSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), join(dir, FINISHED_MARKER_FILE));
}

function leftInSpool(dir: string): string[] {
  return readdirSync(dir).filter((n) => n !== 'shipped.json' && n !== FINISHED_MARKER_FILE);
}

describe('shipping to the GCS and Pub/Sub emulators', { timeout: 600_000 }, () => {
  let cloud: TestCloud;
  let collector: Collector;
  let spoolRoot: string;

  before(async () => {
    cloud = await startTestCloud();
    collector = new Collector(cloud.pubsub, 'recording-snippets-moderation').open();
    spoolRoot = mkdtempSync(join(tmpdir(), 'tapedeck-spool-'));
  });

  after(async () => {
    await collector?.close();
    await cloud?.close();
    if (spoolRoot) rmSync(spoolRoot, { recursive: true, force: true });
  });

  const shipper = (livestreamId: string, recordingId: string, events: ShipEvent[] = [], options = {}) =>
    new RecordingShipper(
      { livestreamId, recordingId, spoolDir: join(spoolRoot, livestreamId, recordingId) },
      { storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, clock: Date.now, logger, options: { rescanMs: 500, backoffInitialMs: 200, backoffMaxMs: 3000, ...options }, onEvent: (e) => events.push(e) },
    );

  it('ships 10 snippets: named objects with metadata and checksums, 10 ordered schema-valid messages, empty spool', async () => {
    const ls = 'ten-snippets';
    const dir = join(spoolRoot, ls, 'composite');
    const metas: SnippetMetadata[] = [];
    const md5s: string[] = [];
    // Half closed before the shipper starts (the start-up rescan), half while it watches.
    for (let i = 0; i < 5; i++) {
      metas.push(await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: i }));
      md5s.push((await checksums(join(dir, metas[i]!.file))).md5);
    }
    const events: ShipEvent[] = [];
    const running = shipper(ls, 'composite', events).run({ untilFinished: true });
    for (let i = 5; i < 10; i++) {
      metas.push(await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: i }));
      md5s.push((await checksums(join(dir, metas[i]!.file))).md5);
    }
    finish(dir, 9);
    const status = await running;
    assert.equal(status.shipped, 10);
    assert.equal(status.lastShippedSequence, 9);
    assert.deepEqual(status.warnings, []);
    assert.deepEqual(leftInSpool(dir), [], 'spool empty');

    const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${ls}/` });
    assert.deepEqual(files.map((f) => f.name).sort(), metas.map((m) => objectName(m)).sort());
    for (const [i, m] of metas.entries()) {
      const name = objectName(m);
      assert.match(name, new RegExp(`^livestreams/${ls}/composite/${String(i).padStart(6, '0')}_\\d{8}T\\d{6}\\.\\d{3}Z_\\d{8}T\\d{6}\\.\\d{3}Z\\.mp4$`));
      const [meta] = await cloud.storage.bucket(TEST_BUCKET).file(name).getMetadata();
      assert.equal(meta.md5Hash, md5s[i], `md5 of ${name}`);
      assert.equal(meta.contentType, 'video/mp4');
      assert.equal(meta.metadata?.snippetId, snippetId(ls, 'composite', i));
      assert.equal(meta.metadata?.sequence, String(i));
      assert.equal(meta.metadata?.startTime, m.startTime);
      assert.equal(meta.metadata?.md5, md5s[i]);
      assert.equal(JSON.parse(String(meta.metadata?.hosts)).join(), 'alice,bob');
      const [content] = await cloud.storage.bucket(TEST_BUCKET).file(name).download();
      assert.equal(content.length, Number(meta.size));
    }

    await collector.waitFor(() => collector.for(ls).length >= 10, 30_000, '10 messages');
    const msgs = collector.for(ls);
    assert.equal(msgs.length, 10);
    assert.deepEqual(msgs.map((m) => m.body.sequence), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'in order');
    for (const [i, m] of msgs.entries()) {
      assert.ok(validate(m.body), `message ${i} valid: ${JSON.stringify(validate.errors)}`);
      assert.equal(m.orderingKey, 'composite');
      assert.deepEqual(m.attributes, { snippetId: snippetId(ls, 'composite', i), livestreamId: ls, kind: 'composite', schema: 'tapedeck.snippet.v1' });
      assert.equal(m.body.uri, `gs://${TEST_BUCKET}/${objectName(metas[i]!)}`);
      assert.equal(m.body.md5, md5s[i]);
      // From the file, not the sidecar: 1 s of 640x360 at 15 fps, mono 44.1 kHz AAC.
      assert.ok(Math.abs(m.body.durationMs - 1000) <= 100, `durationMs ${m.body.durationMs}`);
      assert.deepEqual(m.body.video, { codec: 'H264', width: 640, height: 360, fps: 15 });
      assert.deepEqual(m.body.audio, { codec: 'AAC', sampleRate: 44100, channels: 1 });
      assert.equal(m.body.startTime, metas[i]!.startTime);
    }
    // Every published message validates, even the ones the shipper built (events).
    for (const e of events) if (e.type === 'shipped') assert.ok(validate(e.message), JSON.stringify(validate.errors));
    const latency = status.latency.closeToAck;
    assert.equal(latency.count, 10);
    assert.ok(latency.p50 !== null && latency.p95 !== null && latency.max !== null && latency.p50 <= latency.p95 && latency.p95 <= latency.max);
  });

  it('ships GStreamer-made MP3 snippets of an individual recording with hostId attributes', async () => {
    const ls = 'mp3-host';
    const dir = join(spoolRoot, ls, 'host-carol-1');
    for (let i = 0; i < 2; i++) await writeSnippet(dir, { livestreamId: ls, recordingId: 'host-carol-1', hostId: 'carol', variant: 'audio', sequence: i, seconds: 2, encoder: 'gstreamer' });
    finish(dir);
    const status = await shipper(ls, 'host-carol-1').run({ untilFinished: true });
    assert.equal(status.shipped, 2);
    await collector.waitFor(() => collector.for(ls).length >= 2, 30_000, '2 messages');
    for (const m of collector.for(ls)) {
      assert.ok(validate(m.body), JSON.stringify(validate.errors));
      assert.equal(m.attributes.hostId, 'carol');
      assert.equal(m.orderingKey, 'host-carol-1');
      assert.match(m.body.uri, /\/livestreams\/mp3-host\/host-carol\/00000[01]_.*\.mp3$/);
      assert.equal(m.body.audio.codec, 'MP3');
      assert.equal(m.body.video, undefined);
      assert.ok(Math.abs(m.body.durationMs - 2000) <= 150, `durationMs ${m.body.durationMs}`);
    }
  });

  it('survives SIGKILL between upload and publish and between publish and delete', async () => {
    const ls = 'crashes';
    const ref = { livestreamId: ls, recordingId: 'composite', spoolDir: join(spoolRoot, ls, 'composite') };
    // Made by x264enc/avenc_aac → mp4mux, as the pipeline host makes them.
    for (let i = 0; i < 10; i++) await writeSnippet(ref.spoolDir, { livestreamId: ls, recordingId: 'composite', sequence: i, encoder: 'gstreamer' });
    finish(ref.spoolDir, 9);
    const runChild = (crash?: { at: string; sequence: number }) =>
      new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
        const args = { cloud: { ...cloud.cloud, storageEmulator: cloud.cloud.storageEmulator!.href }, bucket: TEST_BUCKET, ref, ...(crash ? { crash } : {}) };
        const child = spawn(process.execPath, [join(__dirname, '..', 'support', 'ship-child.js'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, out });
        });
      });
    const first = await runChild({ at: 'afterUpload', sequence: 3 });
    assert.equal(first.signal, 'SIGKILL', first.out);
    assert.match(first.out, /CRASHING afterUpload 3/);
    assert.ok(existsSync(join(ref.spoolDir, '000003.mp4')), 'the uploaded but unannounced snippet is still in the spool');
    const second = await runChild({ at: 'afterPublish', sequence: 6 });
    assert.equal(second.signal, 'SIGKILL', second.out);
    assert.match(second.out, /CRASHING afterPublish 6/);
    assert.ok(existsSync(join(ref.spoolDir, '000006.mp4')), 'the announced but undeleted snippet is still in the spool');
    const third = await runChild();
    assert.equal(third.code, 0, third.out);
    assert.deepEqual(leftInSpool(ref.spoolDir), []);

    const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${ls}/` });
    assert.equal(files.length, 10, 'exactly 10 objects');
    await collector.waitFor(() => new Set(collector.for(ls).map((m) => m.body.sequence)).size === 10, 30_000, 'every snippet announced');
    await sleep(1000); // let any duplicate arrive too
    const msgs = collector.for(ls);
    const bySequence = new Map<number, Set<string>>();
    for (const m of msgs) {
      assert.ok(validate(m.body), JSON.stringify(validate.errors));
      assert.equal(m.attributes.snippetId, m.body.snippetId);
      bySequence.set(m.body.sequence, (bySequence.get(m.body.sequence) ?? new Set()).add(m.attributes.snippetId!));
    }
    for (let i = 0; i < 10; i++) assert.deepEqual([...bySequence.get(i)!], [snippetId(ls, 'composite', i)], `sequence ${i}: one snippetId`);
    // The crash after the publish ack (before it was recorded) is the one place a duplicate can come from.
    assert.ok(msgs.length <= 11, `at most one duplicate, got ${msgs.length} messages`);
    // The restart after the upload found the object by its precondition and kept it.
    assert.match(second.out, /"sequence":3,[^\n]*"uploaded":"existed"/);
    assert.match(third.out, /"sequence":6,[^\n]*"uploaded":"earlier"/, 'the snippet announced before the crash is not uploaded again');
  });

  it('rides out a 30 s GCS outage and a 30 s Pub/Sub outage while snippets keep closing', { timeout: 400_000 }, async () => {
    const ls = 'outages';
    const dir = join(spoolRoot, ls, 'composite');
    const events: ShipEvent[] = [];
    // Limits low enough to trip: the spool limit during the outages, the free-disk one always.
    const s = shipper(ls, 'composite', events, { publishTimeoutMs: 3000, spoolWarnBytes: 1024 * 1024, minFreeBytes: Number.MAX_SAFE_INTEGER });
    const running = s.run({ untilFinished: true });
    let seq = 0;
    const closeFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: seq++ });
        await sleep(1500);
      }
    };
    await closeFor(3000);
    await collector.waitFor(() => s.status().shipped >= 1, 30_000, 'first snippet shipped');

    await cloud.stop('gcs');
    await closeFor(30_000);
    const duringGcs = s.status();
    assert.ok(duringGcs.backlog.count >= 5, `backlog grows while GCS is down: ${JSON.stringify(duringGcs.backlog)}`);
    assert.ok(duringGcs.lastError, 'the outage is visible in status');
    assert.ok(duringGcs.backlog.oldestAgeMs! > 10_000);
    assert.deepEqual(duringGcs.warnings.map((w) => w.code).sort(), ['disk-low', 'spool-over-limit'], 'reported loudly before anything could be dropped');
    assert.ok(events.some((e) => e.type === 'warning' && e.code === 'spool-over-limit'));
    await cloud.restart('gcs');
    await collector.waitFor(() => s.status().backlog.count <= 1, 60_000, 'backlog drained after GCS returned');

    await collector.close();
    await cloud.stop('pubsub');
    await closeFor(30_000);
    const duringPubsub = s.status();
    assert.ok(duringPubsub.backlog.count >= 5, `backlog grows while Pub/Sub is down: ${JSON.stringify(duringPubsub.backlog)}`);
    await cloud.restart('pubsub');
    collector.open();
    const afterRestart = seq;
    await closeFor(3000);
    finish(dir, seq - 1);
    const status = await running;

    assert.equal(status.shipped, seq, 'every snippet shipped');
    assert.ok(!status.warnings.some((w) => w.code === 'spool-over-limit'), 'the spool warning clears once drained');
    assert.ok(events.some((e) => e.type === 'warning-cleared' && e.code === 'spool-over-limit'));
    assert.deepEqual(leftInSpool(dir), []);
    const shippedOrder = events.flatMap((e) => (e.type === 'shipped' ? [e.sequence] : []));
    assert.deepEqual(shippedOrder, [...Array(seq).keys()], 'drained in order, each once');
    assert.ok(events.some((e) => e.type === 'retrying'), 'retries were reported');
    const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${ls}/` });
    assert.equal(files.length, seq, 'one object per snippet');
    // Messages published after the Pub/Sub emulator came back (it forgets everything earlier) arrive in order.
    await collector.waitFor(() => collector.for(ls).some((m) => m.body.sequence === seq - 1), 30_000, 'last message');
    const late = collector.for(ls).map((m) => m.body.sequence as number).filter((n) => n >= afterRestart);
    assert.deepEqual(late, [...Array(seq - afterRestart).keys()].map((i) => i + afterRestart));
  });

  it('quarantines corrupt and truncated files and never uploads them', async () => {
    const ls = 'corrupt';
    const dir = join(spoolRoot, ls, 'composite');
    await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: 0 });
    await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: 1 }, (part) => truncateSync(part, Math.floor(readFileSync(part).length / 2)));
    await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: 2 }, (part) => writeFileSync(part, Buffer.alloc(4096, 7)));
    await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', variant: 'audio', sequence: 3 }, (part) => writeFileSync(part, ''));
    await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: 4 });
    finish(dir);
    const events: ShipEvent[] = [];
    const status = await shipper(ls, 'composite', events).run({ untilFinished: true });
    assert.equal(status.shipped, 2);
    assert.equal(status.quarantined, 3);
    assert.ok(status.warnings.some((w) => w.code === 'quarantined'));
    const reasons = events.flatMap((e) => (e.type === 'quarantined' ? [`${e.sequence}: ${e.reason}`] : []));
    assert.match(reasons[0]!, /^1: truncated MP4|^1: incomplete MP4/);
    assert.match(reasons[1]!, /^2: (not an MP4 box|invalid MP4|truncated MP4)/);
    assert.match(reasons[2]!, /^3: empty file/);
    const q = readdirSync(join(dir, QUARANTINE_DIR));
    assert.equal(q.filter((n) => n.endsWith('.reason.txt')).length, 3);
    assert.ok(q.some((n) => n.startsWith('000001.mp4.')) && q.some((n) => n.startsWith('000001.json.')));
    const [files] = await cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${ls}/` });
    assert.deepEqual(files.map((f) => f.name.split('/').pop()!.slice(0, 6)).sort(), ['000000', '000004']);
    await collector.waitFor(() => collector.for(ls).length >= 2, 30_000, 'good snippets announced');
    assert.deepEqual(collector.for(ls).map((m) => m.body.sequence), [0, 4]);
  });

  it('never overwrites a different object already stored under the name', async () => {
    const ls = 'conflict';
    const dir = join(spoolRoot, ls, 'composite');
    const meta = await writeSnippet(dir, { livestreamId: ls, recordingId: 'composite', sequence: 0 });
    await cloud.storage.bucket(TEST_BUCKET).file(objectName(meta)).save(Buffer.from('someone else'));
    finish(dir);
    const status = await shipper(ls, 'composite').run({ untilFinished: true });
    assert.equal(status.shipped, 0);
    assert.ok(status.warnings.some((w) => w.code === 'object-conflict'));
    const [content] = await cloud.storage.bucket(TEST_BUCKET).file(objectName(meta)).download();
    assert.equal(content.toString(), 'someone else');
    assert.ok(readdirSync(join(dir, QUARANTINE_DIR)).some((n) => n.startsWith('000000.mp4.')), 'kept locally in quarantine');
  });
});
