// The main job end to end, with nothing faked: the whole local stack as processes on free loopback
// ports (Temporal dev server, Pub/Sub and GCS emulators, API, worker, moderator), a livestream
// started through the API, the mock SFU's RTP for two hosts (one fine, one deliberately frozen
// and silent), workflows, GStreamer pipelines, snippets in the bucket and on Pub/Sub, the
// reference scorer, a flagged snippet, the extended clip it asks for, and the clip message on
// `extended-clips`. Then the reviewer page in headless Chromium on the same data: the flagged
// snippet shows up, its clip plays to the end, and a clip requested from the form becomes ready.
// 4-second snippets keep it short; both parts share one stack to spare the machine's cores.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Ajv from 'ajv';
import { chromium, type Browser } from 'playwright-core';
import { createPubSub } from '../../apps/common/clients';
import { TOPICS } from '../../apps/common/resources';
import { Demo, type DemoResult } from '../../apps/demo/demo';
import { LocalStack } from '../../infra/stack/stack';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { call, TOKENS, TOKENS_ENV } from '../support/api';
import { e2eScope, testMediaWorkerEnv } from '../support/e2e';
import { testEnv } from '../support/env';
import { freeStackPorts } from '../support/ports';
import { Collector } from '../support/pubsub-collector';

const SNIPPET_SECONDS = 4;
const MARGIN_SECONDS = 2;
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts');
const scoreSchema = new Ajv({ allErrors: true, strict: true, strictRequired: false, validateFormats: false }).compile(
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas', 'tapedeck.score.v1.json'), 'utf8')),
);

describe('the main job: livestream → snippets → scores → flagged → clip → reviewer page', () => {
  const scope = e2eScope('main-job');
  const { dataDir } = scope;
  let api = '';
  let result: DemoResult;
  let scores: Collector;
  let snippetsSeen: Collector;
  let republish: (body: unknown, attributes: Record<string, string>) => Promise<unknown>;
  let moderatorHealth = '';
  let passed = 0;

  before(async () => {
    const ports = await freeStackPorts();
    const stack = new LocalStack({
      env: {
        ...testEnv,
        ...testMediaWorkerEnv(dataDir, 'main-job'),
        TAPEDECK_SNIPPET_SECONDS: String(SNIPPET_SECONDS),
        TAPEDECK_MODERATOR_CLIP_MARGIN_SECONDS: String(MARGIN_SECONDS),
        // a flagged snippet near the end asks for a range no later snippet covers: wait less
        TAPEDECK_CLIP_WAIT_SECONDS: '15',
        TAPEDECK_SHUTDOWN_GRACE_MS: '5000',
      },
      dataDir,
      ports,
      projectId: 'tapedeck-main-job',
      bucket: 'tapedeck-main-job',
      pubsubEmulator: 'pstest',
      apiTokens: TOKENS_ENV,
      reuse: false,
      startupTimeoutMs: 60_000,
      stopGraceMs: 10_000,
    });
    scope.cleanup(() => stack.stop());
    await stack.start();
    api = `http://127.0.0.1:${ports.api}`;
    const pubsub = createPubSub({ projectId: 'tapedeck-main-job', storageEmulator: undefined, pubsubEmulator: { host: '127.0.0.1', port: ports.pubsub } });
    scope.cleanup(() => pubsub.close());
    // every score message as delivered (duplicates included), for the at-most-one-score check
    const [sub] = await pubsub.topic(TOPICS.scores).createSubscription('main-job-scores');
    scores = new Collector(pubsub, sub.name.split('/').pop()!).open();
    scope.cleanup(() => scores.close());
    const [snippetSub] = await pubsub.topic(TOPICS.snippets).createSubscription('main-job-snippets');
    snippetsSeen = new Collector(pubsub, snippetSub.name.split('/').pop()!).open();
    scope.cleanup(() => snippetsSeen.close());
    republish = (body, attributes) => pubsub.topic(TOPICS.snippets, { messageOrdering: true }).publishMessage({ json: body, attributes, orderingKey: (body as { recordingId: string }).recordingId });
    moderatorHealth = `http://127.0.0.1:${ports.moderatorHttp}/healthz`;

    const demo = new Demo({
      apiUrl: api,
      serviceToken: TOKENS.service,
      pubsub,
      livestreamId: `main-job-${Date.now()}`,
      script: {
        hosts: [
          { hostId: 'ada', displayName: 'Ada', codec: 'H264', joinAt: 0 },
          { hostId: 'ben', displayName: 'Ben', codec: 'VP8', joinAt: 0, frozen: true, silent: true },
        ],
        steps: [],
        durationS: 18,
      },
      say: (line) => console.log(`demo ${line}`),
      lingerMs: 90_000,
      // every snippet scored, and a clip of a flagged one ready
      until: (r) =>
        r.snippets.length > 0 &&
        r.scores.length >= r.snippets.length &&
        r.clips.some((c) => c.status === 'ready' && r.scores.some((s) => s.clip?.clipId === c.clipId)),
    });
    result = await demo.run();
  });


  it('records, ships, scores every snippet, flags the frozen silent host, and its clip is made and announced', { timeout: 300_000 }, async () => {
    assert.ok(result.stopped, 'the livestream stopped');
    const by = (prefix: string) => result.snippets.filter((s) => s.recordingId.startsWith(prefix));
    for (const r of ['composite', 'host-ada', 'host-ben']) assert.ok(by(r).length >= 2, `snippets of ${r}: ${by(r).length}`);

    // every snippet scored once, each score a valid tapedeck.score.v1 of real measurements
    for (const s of result.scores) assert.ok(scoreSchema(s), `${JSON.stringify(scoreSchema.errors)} in ${JSON.stringify(s)}`);
    for (const snip of result.snippets) assert.ok(result.scores.some((s) => s.snippetId === snip.snippetId), `snippet ${snip.recordingId} #${snip.sequence} scored`);
    const full = (s: { startTime: string; endTime: string }) => Date.parse(s.endTime) - Date.parse(s.startTime) >= (SNIPPET_SECONDS - 1) * 1000;
    const ben = result.scores.filter((s) => s.hostId === 'ben' && full(s));
    const fine = result.scores.filter((s) => s.hostId !== 'ben' && full(s));
    assert.ok(ben.length >= 2 && fine.length >= 4, `full-length scores: ben ${ben.length}, others ${fine.length}`);
    for (const s of ben) {
      assert.equal(s.flagged, true, `ben #${s.sequence}: ${JSON.stringify(s)}`);
      assert.ok(s.audio!.silentRatio >= 0.5 && s.video!.frozenRatio >= 0.5, `ben #${s.sequence}: silent ${s.audio!.silentRatio}, frozen ${s.video!.frozenRatio}`);
      assert.ok(s.reasons.some((r) => r.startsWith('silent')) && s.reasons.some((r) => r.startsWith('frozen')), s.reasons.join('; '));
    }
    for (const s of fine) assert.equal(s.flagged, false, `${s.recordingId} #${s.sequence} should pass: ${JSON.stringify(s)}`);

    // the clip around a flagged snippet: requested with the margin, made, announced, served
    const flagged = ben.find((s) => result.clips.some((c) => c.clipId === s.clip?.clipId && c.status === 'ready'));
    assert.ok(flagged, `a flagged snippet whose clip is ready; scores' clips: ${JSON.stringify(ben.map((s) => s.clip))}, clip messages: ${JSON.stringify(result.clips)}`);
    assert.deepEqual(flagged.clip!.recording, { hostId: 'ben' });
    assert.equal(Date.parse(flagged.clip!.start), Date.parse(flagged.startTime) - MARGIN_SECONDS * 1000);
    assert.equal(Date.parse(flagged.clip!.end), Date.parse(flagged.endTime) + MARGIN_SECONDS * 1000);
    const clip = await call(api, 'GET', `/v1/clips/${flagged.clip!.clipId}`, { token: TOKENS.reviewer });
    assert.equal(clip.status, 200, JSON.stringify(clip.body));
    assert.equal(clip.body.status, 'ready');
    const file = await fetch(clip.body.signedUrl);
    assert.equal(file.status, 200);
    const bytes = Buffer.from(await file.arrayBuffer());
    const local = join(dataDir, 'clip.mp4');
    writeFileSync(local, bytes);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', local], { encoding: 'utf8' });
    assert.ok(Number(probe.stdout) > SNIPPET_SECONDS - 1, `clip plays for ${probe.stdout.trim()} s`);

    // the reviewer's data route lists the flagged snippets, newest first, for the reviewer only
    const list = await call(api, 'GET', `/v1/review/flagged?livestreamId=${result.livestreamId}`, { token: TOKENS.reviewer });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(new Set(list.body.flagged.map((f: any) => f.snippetId)), new Set(result.scores.filter((s) => s.flagged).map((s) => s.snippetId)));
    const starts = list.body.flagged.map((f: any) => f.startTime);
    assert.deepEqual(starts, [...starts].sort().reverse(), 'newest first');
    assert.equal((await call(api, 'GET', '/v1/review/flagged')).status, 401);
    assert.equal((await call(api, 'GET', '/v1/review/flagged', { token: TOKENS.service })).status, 403);
    assert.equal((await call(api, 'GET', '/v1/review/flagged?limit=0', { token: TOKENS.reviewer })).status, 400);

    // at-least-once in, one score out: no snippet was scored twice, and a snippet message
    // delivered again (as Pub/Sub may) is dropped by its snippetId
    const delivered = scores.for(result.livestreamId);
    assert.equal(delivered.length, result.scores.length, 'one score message per snippet');
    const again = snippetsSeen.for(result.livestreamId).find((m) => m.body.hostId === 'ben')!;
    const health = async () => ((await (await fetch(moderatorHealth)).json()) as any).counts;
    const before = await health();
    await republish(again.body, again.attributes);
    await snippetsSeen.waitFor(() => snippetsSeen.for(result.livestreamId).filter((m) => m.body.snippetId === again.body.snippetId).length === 2, 15_000, 'the copy delivered');
    let counts = before;
    for (let i = 0; i < 50 && counts.duplicates === before.duplicates; i++) {
      await new Promise((r) => setTimeout(r, 200));
      counts = await health();
    }
    assert.equal(counts.duplicates, before.duplicates + 1, `the moderator dropped the copy: ${JSON.stringify(counts)}`);
    assert.equal(counts.scored, before.scored, 'and scored nothing new');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(scores.for(result.livestreamId).length, delivered.length, 'no second score message');
    if (++passed === 2) scope.passed();
  });

  it('the reviewer page shows the flagged snippet, plays its clip to the end, and requests a clip from the form', { timeout: 180_000 }, async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // the clip's bytes come from the bucket (fake-gcs-server) by signed URL; Chromium asks in ranges
      const media: Array<{ range: string | undefined; status: number }> = [];
      page.on('response', (r) => {
        if (!r.url().includes('/clips/clip-')) return;
        void r.request().allHeaders().then((h) => media.push({ range: h.range, status: r.status() }));
      });
      await page.goto(`${api}/review`);
      await page.fill('#token', TOKENS.reviewer);
      await page.click('#signin button[type=submit]');

      const flagged = result.scores.find((s) => s.flagged && result.clips.some((c) => c.clipId === s.clip?.clipId && c.status === 'ready'))!;
      const item = page.locator(`li[data-snippet-id="${flagged.snippetId}"]`);
      await item.waitFor({ timeout: 30_000 });
      assert.match(await item.innerText(), /score 0(\.\d+)?/);
      assert.match(await item.innerText(), /frozen/);
      const video = item.locator('video');
      await video.waitFor({ timeout: 30_000 });
      assert.equal(await item.locator('.timeline .moment').count(), 1, 'the flagged moment is marked');
      // play it through (muted, 4x) and wait for the element's own "ended"
      const ended = await video.evaluate(
        (v: any) =>
          new Promise<{ ended: boolean; duration: number; error: string | null }>((resolve) => {
            const done = () => resolve({ ended: v.ended, duration: v.duration, error: v.error ? `${v.error.code} ${v.error.message}` : null });
            v.addEventListener('ended', done, { once: true });
            v.addEventListener('error', done, { once: true });
            v.muted = true;
            v.playbackRate = 4;
            void v.play().catch(done);
            setTimeout(done, 60_000);
          }),
      );
      assert.equal(ended.error, null, `video error: ${ended.error}`);
      assert.ok(ended.ended && ended.duration > SNIPPET_SECONDS - 1, JSON.stringify(ended));
      assert.ok(media.some((m) => m.range && m.status === 206), `a Range request answered 206: ${JSON.stringify(media)}`);

      // a clip of the composite from the form
      const first = result.snippets.filter((s) => s.recordingId === 'composite').sort((a, b) => a.sequence - b.sequence);
      await page.fill('#clip-form [name=livestreamId]', result.livestreamId);
      await page.fill('#clip-form [name=recording]', 'composite');
      await page.fill('#clip-form [name=start]', first[0]!.startTime);
      await page.fill('#clip-form [name=end]', first[1]!.endTime);
      await page.fill('#clip-form [name=reason]', 'reviewer check');
      await page.click('#clip-form button[type=submit]');
      await page.locator('#clip-form-result', { hasText: 'requested' }).waitFor({ timeout: 30_000 });
      await page.locator('#requested li video').waitFor({ timeout: 90_000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'review-page.png'), fullPage: true });
      assert.deepEqual(errors, [], 'no script errors on the page');
      if (++passed === 2) scope.passed();
    } finally {
      await browser?.close();
    }
  });
});
