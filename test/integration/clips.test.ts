// Extended clips end to end: the API on a real Temporal dev server with the project's clip
// workflow and the real clip activities (ffmpeg merge, GCS and Pub/Sub emulators), snippets made
// with GStreamer and shipped by the real shipper, a moderation webhook receiver that checks the
// signature itself. Each clip is checked on the bytes a reviewer gets from the signed URL.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import { clipIdOf } from '../../apps/api/clips/clip-id';
import { runCli } from '../../apps/cli/cli';
import { TEST_BUCKET } from '../support/cloud';
import { TOKENS, call, startApiUnderTest, type ApiUnderTest } from '../support/api';
import { shipRecordedPattern, shipSnippets } from '../support/clip-snippets';
import { measureAvSync } from '../support/av-sync';
import { Collector } from '../support/pubsub-collector';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'schemas', 'tapedeck.clip.v1.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile<any>(schema);

const SECRET = 'clip-webhook-secret-0123456789';
const LS = 'clip-ls';
const FRAME_MS = 1000 / 15;
/** How long a clip waits after its end for late snippets (room for shipping one on a busy machine). */
const WAIT_S = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (t: number) => new Date(t).toISOString();

interface Delivery {
  clipId: string;
  body: string;
  signatureValid: boolean;
  answered: number;
}

/** The moderation service's side: verifies `X-Tapedeck-Signature` with its own HMAC code and
 *  answers 503 as many times as told for a clip before accepting it. */
function webhookReceiver(): Promise<{ server: Server; url: URL; deliveries: Delivery[]; failFirst: Map<string, number> }> {
  const deliveries: Delivery[] = [];
  const failFirst = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = String(req.headers['x-tapedeck-signature'] ?? '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      const expected = m ? createHmac('sha256', SECRET).update(`${m[1]}.${body}`).digest() : Buffer.alloc(32);
      const fresh = m ? Math.abs(Date.now() / 1000 - Number(m[1])) < 300 : false;
      const signatureValid = !!m && fresh && timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
      const clipId = String(JSON.parse(body).clipId);
      const left = failFirst.get(clipId) ?? 0;
      const answered = !signatureValid ? 401 : left > 0 ? 503 : 204;
      if (left > 0) failFirst.set(clipId, left - 1);
      deliveries.push({ clipId, body, signatureValid, answered });
      res.writeHead(answered).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/clips`), deliveries, failFirst })),
  );
}

interface MediaFacts {
  durationMs: number;
  videoMs: number;
  audioMs: number;
  formatStart: number;
  videoStart: number;
  audioStart: number;
  /** Largest step between consecutive video frames, ms. */
  maxFrameStepMs: number;
  frames: number;
  dtsMonotonic: boolean;
  decodeErrors: string;
}

function mediaFacts(file: string): MediaFacts {
  const info = JSON.parse(spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8', timeout: 30_000 }).stdout);
  const v = info.streams.find((s: any) => s.codec_type === 'video');
  const a = info.streams.find((s: any) => s.codec_type === 'audio');
  const packets = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,dts_time', '-of', 'csv=p=0', file], { encoding: 'utf8', timeout: 30_000 })
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => l.split(',').map(Number) as [number, number]);
  const dts = packets.map((p) => p[1]);
  const pts = packets.map((p) => p[0]).sort((x, y) => x - y);
  let maxStep = 0;
  for (let i = 1; i < pts.length; i++) maxStep = Math.max(maxStep, (pts[i]! - pts[i - 1]!) * 1000);
  // Decoder errors only: frames keep the file's timestamps and time base (the default re-times them
  // onto a 1/15 s grid, where frames shifted by a join's gap can land in one slot and the null
  // muxer complains about its own rounding; the file's DTS are checked separately).
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  return {
    durationMs: Number(info.format.duration) * 1000,
    videoMs: Number(v.duration) * 1000,
    audioMs: Number(a.duration) * 1000,
    formatStart: Number(info.format.start_time),
    videoStart: Number(v.start_time),
    audioStart: Number(a.start_time),
    maxFrameStepMs: maxStep,
    frames: pts.length,
    dtsMonotonic: dts.every((d, i) => i === 0 || d > dts[i - 1]!),
    decodeErrors: decode.stderr.trim() + (decode.status === 0 ? '' : ` (exit ${decode.status})`),
  };
}

describe('extended clips', { timeout: 300_000 }, () => {
  let api: ApiUnderTest;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let collector: Collector;
  let spool: string;
  let scratch: string;
  // Snippets are 3 s each, back to back from T0 (two minutes ago, so every range is settled).
  const T0 = Math.floor((Date.now() - 120_000) / 1000) * 1000;
  const snippetMs: number[] = [];

  before(async () => {
    hook = await webhookReceiver();
    api = await startApiUnderTest({
      controlTaskQueue: 'clips-it',
      clips: { webhook: { url: hook.url, secret: SECRET, timeoutMs: 5000 } },
      env: { TAPEDECK_CLIP_WAIT_SECONDS: String(WAIT_S), TAPEDECK_CLIP_MAX_SECONDS: '600' },
    });
    collector = new Collector(api.cloud.pubsub, 'extended-clips-reviewers').open();
    spool = mkdtempSync(join(tmpdir(), 'tapedeck-clip-spool-'));
    scratch = mkdtempSync(join(tmpdir(), 'tapedeck-clip-files-'));
    // The composite: one recording of the flash+beep pattern (a flash and a beep on every second)
    // cut into three snippets by splitmuxsink, as the pipeline host does.
    await shipRecordedPattern(api.cloud, spool, { livestreamId: LS, recordingId: 'composite' }, 3, 3, new Date(T0));
    // Host alice: camera on, off (audio only) for 3 s, on again.
    await shipSnippets(api.cloud, spool, { livestreamId: LS, recordingId: 'host-alice-0', hostId: 'alice' }, [
      { variant: 'av', seconds: 3, start: new Date(T0) },
      { variant: 'audio', seconds: 3, start: new Date(T0 + 3000) },
      { variant: 'av', seconds: 3, start: new Date(T0 + 6000) },
    ]);
    const [files] = await api.cloud.storage.bucket(TEST_BUCKET).getFiles({ prefix: `livestreams/${LS}/composite/` });
    for (const f of files.sort((a, b) => a.name.localeCompare(b.name))) snippetMs.push(Number(f.metadata.metadata?.durationMs));
  });

  after(async () => {
    await collector?.close();
    await api?.close();
    await new Promise((r) => hook?.server.close(r));
    if (spool) rmSync(spool, { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const request = (json: unknown, token = TOKENS.moderation) => call(api.url, 'POST', '/v1/clips', { token, json });
  async function settled(clipId: string, timeoutMs = 90_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await call(api.url, 'GET', `/v1/clips/${clipId}`, { token: TOKENS.reviewer });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      if ((r.body.status === 'ready' || r.body.status === 'failed') && (r.body.completedAt || r.body.status === 'failed')) {
        const wh = r.body.notifications.webhook;
        if (!wh.configured || wh.delivered || wh.attempts.length >= 6) return r.body;
      }
      if (Date.now() > deadline) throw new Error(`clip ${clipId} not settled: ${JSON.stringify(r.body)}`);
      await sleep(500);
    }
  }
  /** Fetches the clip through its signed URL (as a browser would), whole and by Range. */
  async function fetchClip(status: any, name: string): Promise<string> {
    const whole = await fetch(status.signedUrl, { signal: AbortSignal.timeout(30_000) });
    assert.equal(whole.status, 200, `GET signed URL: ${whole.status}`);
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.equal(bytes.length, status.sizeBytes);
    const part = await fetch(status.signedUrl, { headers: { range: 'bytes=100-1099' }, signal: AbortSignal.timeout(30_000) });
    assert.equal(part.status, 206, 'Range request answered 206');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 1100));
    const file = join(scratch, name);
    writeFileSync(file, bytes);
    return file;
  }
  /** Every flash has its beep within a frame, before and after each join. */
  async function assertInSync(file: string, flashes: number, what: string): Promise<void> {
    const sync = await measureAvSync(file);
    console.log(`# ${what}: audio - video per flash ${sync.offsetsMs.map((o) => o.toFixed(0)).join(' ')} ms at ${sync.pairs.map((p) => (p.flashMs / 1000).toFixed(2)).join(' ')} s`);
    assert.equal(sync.pairs.length, flashes, `${what}: ${flashes} flash/beep pairs`);
    assert.ok(sync.maxAbsOffsetMs! <= FRAME_MS, `${what}: audio within a frame of video at every flash (worst ${sync.maxAbsOffsetMs} ms)`);
  }
  function assertPlaysCleanly(m: MediaFacts, what: string): void {
    assert.equal(m.decodeErrors, '', `${what} decodes without errors: ${m.decodeErrors}`);
    assert.ok(m.dtsMonotonic, `${what}: video decode timestamps only increase`);
    assert.equal(m.formatStart, 0, `${what} starts at zero`);
    assert.ok(m.videoStart * 1000 < FRAME_MS && m.audioStart * 1000 < FRAME_MS, `${what} streams start within a frame of zero: ${m.videoStart} ${m.audioStart}`);
    assert.ok(m.maxFrameStepMs < 2 * FRAME_MS, `${what} has no stall: largest frame step ${m.maxFrameStepMs.toFixed(1)} ms`);
    assert.ok(Math.abs(m.videoMs - m.audioMs) < FRAME_MS, `${what} audio and video end together: ${m.videoMs.toFixed(1)} / ${m.audioMs.toFixed(1)} ms`);
  }

  it('merges three composite snippets without re-encoding: whole snippets, served by a signed URL, announced on Pub/Sub and to the webhook (which fails twice first)', async () => {
    const body = { livestreamId: LS, recording: 'composite', start: iso(T0 + 1500), end: iso(T0 + 7500), reason: 'score 0.2', requestedBy: 'moderation-bot' };
    const clipId = clipIdOf({ livestreamId: LS, recording: 'composite', start: body.start, end: body.end, precise: false, includeAudioOnly: false });
    hook.failFirst.set(clipId, 2);
    const r = await request(body);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.clipId, clipId);
    assert.equal(r.body.created, true);
    const again = await request({ ...body, reason: 'asked again' }, TOKENS.reviewer);
    assert.equal(again.status, 202);
    assert.equal(again.body.clipId, clipId, 'same request, same clip');
    assert.equal(again.body.created, false);

    const s = await settled(clipId);
    assert.equal(s.status, 'ready', JSON.stringify(s.error));
    assert.equal(s.uri, `gs://${TEST_BUCKET}/clips/${clipId}.mp4`);
    assert.deepEqual(s.snippets.map((x: any) => x.sequence), [0, 1, 2]);
    assert.deepEqual(s.gaps, []);
    assert.ok(Math.abs(Date.parse(s.expiresAt) - Date.now() - 3600_000) < 60_000, `expiresAt ${s.expiresAt}`);
    const m = mediaFacts(await fetchClip(s, 'plain.mp4'));
    const covered = snippetMs.reduce((a, b) => a + b, 0);
    console.log(`# clip of 3 snippets: ${m.durationMs.toFixed(0)} ms (snippets ${covered} ms), video ${m.videoMs.toFixed(1)} ms, audio ${m.audioMs.toFixed(1)} ms, largest frame step ${m.maxFrameStepMs.toFixed(1)} ms`);
    assert.ok(Math.abs(m.durationMs - covered) <= FRAME_MS, `duration ${m.durationMs} within a frame of the covered snippets' ${covered}`);
    assert.equal(s.durationMs, Math.round(m.durationMs));
    assertPlaysCleanly(m, 'plain clip');
    await assertInSync(join(scratch, 'plain.mp4'), 8, 'plain clip');

    await collector.waitFor(() => collector.messages.some((x) => x.attributes.clipId === clipId), 30_000, 'the clip message');
    const msgs = collector.messages.filter((x) => x.attributes.clipId === clipId);
    assert.equal(msgs.length, 1);
    assert.ok(validate(msgs[0]!.body), JSON.stringify(validate.errors));
    assert.deepEqual(msgs[0]!.attributes, { clipId, livestreamId: LS, status: 'ready', schema: 'tapedeck.clip.v1' });
    assert.equal(msgs[0]!.body.reason, 'score 0.2', 'the first request decides the carried fields');

    const got = hook.deliveries.filter((d) => d.clipId === clipId);
    assert.deepEqual(got.map((d) => d.answered), [503, 503, 204], 'failed twice, then accepted once');
    assert.ok(got.every((d) => d.signatureValid), 'every POST is signed');
    assert.deepEqual(JSON.parse(got[2]!.body), msgs[0]!.body, 'the webhook gets the Pub/Sub message');
    assert.deepEqual(s.notifications.webhook.attempts.map((a: any) => [a.attempt, a.ok, a.httpStatus]), [[1, false, 503], [2, false, 503], [3, true, 204]]);
    assert.equal(s.notifications.pubsub.published, true);
  });

  it('precise: starts and ends at the requested times (edges re-encoded), within a frame of the range', async () => {
    const r = await request({ livestreamId: LS, recording: 'composite', start: iso(T0 + 1500), end: iso(T0 + 7500), precise: true });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await settled(r.body.clipId);
    assert.equal(s.status, 'ready', JSON.stringify(s.error));
    const m = mediaFacts(await fetchClip(s, 'precise.mp4'));
    console.log(`# precise clip: ${m.durationMs.toFixed(0)} ms (range 6000 ms), video ${m.videoMs.toFixed(1)} ms, audio ${m.audioMs.toFixed(1)} ms, largest frame step ${m.maxFrameStepMs.toFixed(1)} ms, ${m.frames} frames`);
    assert.ok(Math.abs(m.durationMs - 6000) <= FRAME_MS, `duration ${m.durationMs} within a frame of 6000 ms`);
    assertPlaysCleanly(m, 'precise clip');
    await assertInSync(join(scratch, 'precise.mp4'), 6, 'precise clip');
  });

  it("reports a host's camera-off stretch as a gap, and includes it as audio with a placeholder picture when asked", async () => {
    const base = { livestreamId: LS, recording: { hostId: 'alice' }, start: iso(T0 + 1000), end: iso(T0 + 8000) };
    const [plain, withAudio] = await Promise.all([request(base), request({ ...base, includeAudioOnly: true })]);
    assert.equal(plain.status, 202, JSON.stringify(plain.body));
    assert.equal(withAudio.status, 202, JSON.stringify(withAudio.body));
    assert.notEqual(plain.body.clipId, withAudio.body.clipId);
    const s = await settled(plain.body.clipId);
    assert.equal(s.status, 'ready', JSON.stringify(s.error));
    assert.deepEqual(s.recording, { hostId: 'alice' });
    assert.deepEqual(s.gaps, [{ start: iso(T0 + 3000), end: iso(T0 + 6000), kind: 'camera-off', included: false }]);
    assert.deepEqual(s.snippets.map((x: any) => x.sequence), [0, 2]);
    const m = mediaFacts(await fetchClip(s, 'host.mp4'));
    assertPlaysCleanly(m, 'host clip');
    assert.ok(Math.abs(m.durationMs - 6000) < 150, `two 3-second snippets: ${m.durationMs}`);

    const w = await settled(withAudio.body.clipId);
    assert.equal(w.status, 'ready', JSON.stringify(w.error));
    assert.deepEqual(w.gaps, [{ start: iso(T0 + 3000), end: iso(T0 + 6000), kind: 'camera-off', included: true }]);
    assert.deepEqual(w.snippets.map((x: any) => x.sequence), [0, 1, 2]);
    const mw = mediaFacts(await fetchClip(w, 'host-audio.mp4'));
    assertPlaysCleanly(mw, 'host clip with its audio-only stretch');
    assert.ok(Math.abs(mw.durationMs - 9000) < 200, `three 3-second pieces: ${mw.durationMs}`);
  });

  it('refuses bad requests up front, naming the field or the missing thing', async () => {
    const ok = { livestreamId: LS, recording: 'composite', start: iso(T0), end: iso(T0 + 3000) };
    const cases: Array<[unknown, number, string, string?]> = [
      [{ ...ok, end: iso(T0 - 1000) }, 400, 'invalid_request', 'end'],
      [{ ...ok, end: ok.start }, 400, 'invalid_request', 'end'],
      [{ ...ok, end: iso(T0 + 601_000) }, 400, 'invalid_request', 'end'],
      [{ ...ok, end: iso(Date.now() + 3600_000), start: iso(Date.now() + 3590_000) }, 400, 'invalid_request', 'end'],
      [{ ...ok, start: '2026-01-01T00:00:00' }, 400, 'invalid_request', 'start'],
      [{ ...ok, livestreamId: '../x' }, 400, 'invalid_request', 'livestreamId'],
      [{ ...ok, recording: 'host-alice' }, 400, 'invalid_request', 'recording'],
      [{ ...ok, recording: { hostId: 'alice', extra: 1 } }, 400, 'invalid_request', 'recording'],
      [{ ...ok, precise: 'yes' }, 400, 'invalid_request', 'precise'],
      [{ ...ok, colour: 'red' }, 400, 'invalid_request', 'colour'],
      [{ ...ok, livestreamId: 'no-such-livestream' }, 404, 'livestream_not_found'],
      [{ ...ok, recording: { hostId: 'nobody' } }, 404, 'recording_not_found'],
      [{ ...ok, start: iso(T0 - 60_000), end: iso(T0 - 30_000) }, 404, 'no_snippets_in_range'],
      [{ ...ok, recording: { hostId: 'alice' }, start: iso(T0 + 3500), end: iso(T0 + 5500) }, 404, 'no_snippets_in_range'],
    ];
    for (const [json, status, code, field] of cases) {
      const r = await request(json);
      assert.equal(r.status, status, `${JSON.stringify(json)} → ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code);
      if (field) assert.ok(r.body.error.details.fields.some((f: any) => f.field === field), `names ${field}: ${JSON.stringify(r.body.error)}`);
    }
    const missing = await call(api.url, 'GET', '/v1/clips/clip-000000000000000000000000', { token: TOKENS.moderation });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'clip_not_found');
  });

  it('a range reaching into the future waits for its snippets to be shipped, then completes', async () => {
    const start = Math.ceil((Date.now() + 1000) / 1000) * 1000;
    const r = await request({ livestreamId: LS, recording: 'composite', start: iso(start), end: iso(start + 3000) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const waiting = await call(api.url, 'GET', `/v1/clips/${r.body.clipId}`, { token: TOKENS.reviewer });
    assert.equal(waiting.body.status, 'waiting');
    assert.ok(waiting.body.waitingUntil, 'says until when it waits');
    // The recording goes on: its next snippet (sequence 3) is shipped while the clip waits.
    await shipSnippets(api.cloud, spool, { livestreamId: LS, recordingId: 'composite-later' }, [{ variant: 'av', seconds: 3, start: new Date(start) }], 3);
    const s = await settled(r.body.clipId, 60_000);
    assert.equal(s.status, 'ready', JSON.stringify(s.error));
    assert.deepEqual(s.snippets.map((x: any) => x.sequence), [3]);
    assert.ok(Date.parse(s.completedAt) >= start + 3000, 'not before the range ended');
  });

  it('a range reaching into the future waits (bounded) for its snippets, then reports in its status what it could not find', async () => {
    const now = Date.now();
    const r = await request({ livestreamId: LS, recording: 'composite', start: iso(now + 500), end: iso(now + 1500) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const waiting = await call(api.url, 'GET', `/v1/clips/${r.body.clipId}`, { token: TOKENS.reviewer });
    assert.equal(waiting.body.status, 'waiting');
    const s = await settled(r.body.clipId, 60_000);
    assert.equal(s.status, 'failed');
    assert.equal(s.error.code, 'no_snippets_in_range');
    assert.ok(Date.parse(s.completedAt) >= now + 1500 + WAIT_S * 1000, 'waited until the end plus TAPEDECK_CLIP_WAIT_SECONDS');
    await collector.waitFor(() => collector.messages.some((x) => x.attributes.clipId === r.body.clipId), 30_000, 'the failed clip message');
    const msg = collector.messages.find((x) => x.attributes.clipId === r.body.clipId)!;
    assert.ok(validate(msg.body), JSON.stringify(validate.errors));
    assert.equal(msg.body.status, 'failed');
  });

  it('a merge that fails leaves no object behind and says why in the status', async () => {
    // A snippet object that is not media (never written by the shipper, which verifies files).
    const name = `livestreams/broken-ls/composite/000000_${iso(T0).replace(/[-:]/g, '')}_${iso(T0 + 3000).replace(/[-:]/g, '')}.mp4`;
    await api.cloud.storage.bucket(TEST_BUCKET).file(name).save(Buffer.from('not an mp4 at all'), { resumable: false });
    const r = await request({ livestreamId: 'broken-ls', recording: 'composite', start: iso(T0), end: iso(T0 + 3000) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await settled(r.body.clipId);
    assert.equal(s.status, 'failed');
    assert.equal(s.error.code, 'merge_failed');
    const [exists] = await api.cloud.storage.bucket(TEST_BUCKET).file(`clips/${r.body.clipId}.mp4`).exists();
    assert.equal(exists, false, 'no clip object');
  });

  it('the operator CLI requests and reads clips over the same API', async () => {
    const config = { apiUrl: new URL(api.url), token: TOKENS.reviewer };
    const req = await runCli(['clips', 'request', LS, '--start', iso(T0 + 1500), '--end', iso(T0 + 7500), '--reason', 'score 0.2'], config);
    assert.equal(req.code, 0, req.stderr);
    const clipId = JSON.parse(req.stdout).clipId;
    assert.equal(clipId, clipIdOf({ livestreamId: LS, recording: 'composite', start: iso(T0 + 1500), end: iso(T0 + 7500), precise: false, includeAudioOnly: false }));
    const got = await runCli(['clips', 'get', clipId], config);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).status, 'ready');
    const bad = await runCli(['clips', 'request', LS, '--start', iso(T0 + 7500), '--end', iso(T0 + 1500)], config);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /end must be after start/);
    const usage = await runCli(['clips', 'request', LS, '--start', iso(T0)], config);
    assert.equal(usage.code, 2);
  });
});
