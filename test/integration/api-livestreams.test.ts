// The whole life of a livestream through the HTTP API, on a real Temporal dev server with the
// project's workflows (media role faked out) and the GCS emulator: start with two hosts
// (idempotent), a third joins (endpoints returned, same on repeat), camera and microphone
// toggles, a layout change, status, snippets listed from the bucket by time range, stop; then
// what a stopped, unknown or over-capacity livestream answers.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import { freePort } from '../../infra/stack/net';
import { call, startApiUnderTest, TOKENS, type ApiUnderTest } from '../support/api';
import { isSealedRtmpUrl, openRtmpUrl, streamKeyCipherKey } from '../../pipelines/outputs/stream-keys';
import { rtmpOutputId } from '../../pipelines/outputs/outputs';
import { TEST_BUCKET } from '../support/cloud';

async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The compiled `tapedeck` command, run as a child process (never blocking this process: the API
 *  under test answers from it). */
const STREAM_KEY_SECRET = 'api-livestreams stream key secret, long enough';

function tapedeck(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'cli', 'main.js'), ...args], { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('livestream API (real Temporal, GCS emulator, media faked out)', () => {
  let api: ApiUnderTest;
  const svc = (method: string, path: string, json?: unknown) => call(api.url, method, path, { token: TOKENS.service, ...(json !== undefined ? { json } : {}) });

  before(async () => {
    api = await startApiUnderTest({ controlTaskQueue: 'tapedeck-control-api', env: { TAPEDECK_STREAM_KEY_SECRET: STREAM_KEY_SECRET } });
  });
  after(async () => {
    await api?.close();
  });

  it('runs a livestream from start to stop', { timeout: 180_000 }, async () => {
    const id = 'ls-api-life';
    const body = { livestreamId: id, hosts: [{ hostId: 'alice', displayName: 'Alice' }, { hostId: 'bob', camera: false, video: { codec: 'H264', payloadType: 102 } }] };
    const started = await svc('POST', '/v1/livestreams', body);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.workflowId, `livestream/${id}`);
    assert.deepEqual(started.body.hosts.map((h: any) => h.hostId).sort(), ['alice', 'bob']);
    const bob = started.body.hosts.find((h: any) => h.hostId === 'bob');
    assert.deepEqual({ codec: bob.ingest.video.codec, pt: bob.ingest.video.payloadType }, { codec: 'H264', pt: 102 });
    assert.equal(bob.ingest.audio.codec, 'OPUS');
    assert.equal(bob.ingest.address, '127.0.0.1');
    assert.ok(Number.isInteger(bob.ingest.video.port) && bob.ingest.video.port > 0);

    // Starting again returns the running livestream and the same endpoints.
    const again = await svc('POST', '/v1/livestreams', body);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, started.body);
    const starts = await api.env.client.workflow.list({ query: `WorkflowId = 'livestream/${id}'` });
    let runs = 0;
    for await (const _ of starts) runs += 1;
    assert.equal(runs, 1, 'one workflow run');

    // A third host joins; a repeated join returns the same endpoints.
    const carol = await svc('POST', `/v1/livestreams/${id}/hosts`, { hostId: 'carol', displayName: 'Carol', microphone: false });
    assert.equal(carol.status, 201, JSON.stringify(carol.body));
    assert.equal(carol.body.hostId, 'carol');
    assert.equal(carol.body.ingest.video.codec, 'VP8');
    assert.equal(carol.body.ingest.video.payloadType, 96);
    assert.equal(carol.body.ingest.audio.payloadType, 111);
    const carolAgain = await svc('POST', `/v1/livestreams/${id}/hosts`, { hostId: 'carol' });
    assert.equal(carolAgain.status, 201);
    assert.deepEqual(carolAgain.body, carol.body);
    const ports = [...started.body.hosts, carol.body].flatMap((h: any) => [h.ingest.video.port, h.ingest.audio.port]);
    assert.equal(new Set(ports).size, 6, 'every medium of every host has its own port');

    const status = () => call(api.url, 'GET', `/v1/livestreams/${id}`, { token: TOKENS.reviewer });
    const running = (s: any) => s.recordings.filter((r: any) => r.state === 'running').map((r: any) => r.workflowId).sort();
    const p = `livestream/${id}`;
    await eventually(async () => (await status()).body, (s) => JSON.stringify(running(s)) === JSON.stringify([`${p}/composite`, `${p}/host/alice/1`, `${p}/host/bob/1`, `${p}/host/carol/1`]), 'composite + 3 individual recordings');

    // Camera and microphone toggles and a layout change.
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/hosts/bob/camera`, { on: true })).status, 202);
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/hosts/alice/camera`, { on: false })).status, 202);
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/hosts/alice/microphone`, { on: false })).status, 202);
    const layout = await svc('PUT', `/v1/livestreams/${id}/layout`, { layout: 'spotlight', spotlightHostId: 'carol' });
    assert.equal(layout.status, 202, JSON.stringify(layout.body));

    const s = await eventually(
      async () => (await status()).body,
      (st) => st.hosts.find((h: any) => h.hostId === 'alice')?.camera === false && st.layout.kind === 'spotlight' && running(st).includes(`${p}/host/bob/2`),
      'camera, microphone and layout applied',
    );
    const hosts = Object.fromEntries(s.hosts.map((h: any) => [h.hostId, h]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(hosts).map(([k, h]: [string, any]) => [k, { present: h.present, camera: h.camera, microphone: h.microphone }])),
      { alice: { present: true, camera: false, microphone: false }, bob: { present: true, camera: true, microphone: true }, carol: { present: true, camera: true, microphone: false } },
    );
    assert.deepEqual(s.layout, { kind: 'spotlight', spotlightHostId: 'carol' });
    assert.equal(s.phase, 'recording');
    // alice: camera and microphone off → no individual recording; bob: audio period replaced by av.
    await eventually(async () => running((await status()).body), (r) => JSON.stringify(r) === JSON.stringify([`${p}/composite`, `${p}/host/bob/2`, `${p}/host/carol/1`]), 'alice stopped, bob av');
    await eventually(async () => api.media.applied.at(-1)?.desired.layout.kind, (k) => k === 'spotlight', 'spotlight reached the composite');

    // RTMP destinations replaced while it runs: they reach the composite; the status lists them
    // with their stream keys redacted (pending: the faked media role reports no live state).
    const rtmp = ['rtmp://live.example.com/app/sk-alpha-123', 'rtmps://ingest.example.org:443/live2/sk-beta-456'];
    const outputs = await svc('PUT', `/v1/livestreams/${id}/outputs`, { rtmp });
    assert.equal(outputs.status, 202, JSON.stringify(outputs.body));
    // They enter Temporal with their keys sealed (the workflows and the composite see only that);
    // the media worker's secret opens them again.
    const key = streamKeyCipherKey(STREAM_KEY_SECRET);
    const applied = await eventually(async () => api.media.applied.at(-1)?.desired.rtmp, (r) => r?.length === 2, 'RTMP destinations reached the composite');
    assert.ok(applied!.every((u) => isSealedRtmpUrl(u) && !u.includes('sk-alpha') && !u.includes('sk-beta')), `sealed: ${applied!.join(' ')}`);
    assert.deepEqual(
      applied!.map((u) => openRtmpUrl(u, key)),
      rtmp,
    );
    const withOutputs = (await status()).body;
    assert.deepEqual(
      withOutputs.outputs.rtmp.map((o: any) => [o.target, o.state]),
      [
        ['rtmp://live.example.com/app/***', 'pending'],
        ['rtmps://ingest.example.org:443/live2/***', 'pending'],
      ],
    );
    assert.equal(withOutputs.outputs.hls, null);
    assert.ok(!JSON.stringify(withOutputs).includes('sk-alpha') && !JSON.stringify(withOutputs).includes('sk-beta'), 'no stream key in the status');
    // The composite reports the first connected under its opened URL's id (the pipeline's name for
    // it), the second failed under its sealed URL's id (what a media worker that cannot open the
    // key reports): the status shows both under the ids it gave them.
    const since = new Date().toISOString();
    api.media.outputs = [
      { id: rtmpOutputId(rtmp[0]!), kind: 'rtmp', target: 'rtmp://live.example.com/app/***', state: 'connected', attempts: 1, bytesSent: 4096, since },
      { id: rtmpOutputId(applied![1]!), kind: 'rtmp', target: 'rtmps://ingest.example.org:443/live2/***', state: 'failed', attempts: 0, bytesSent: 0, since, lastError: 'not started by the media worker: its key does not open' },
    ];
    const reported = await eventually(async () => (await status()).body.outputs.rtmp, (r: any[]) => r[0]?.state === 'connected' && r[1]?.state === 'failed', 'the composite reported its outputs', 45_000);
    assert.deepEqual(
      reported.map((o: any) => [o.id, o.state, o.lastError ?? null]),
      [
        [rtmpOutputId(rtmp[0]!), 'connected', null],
        [rtmpOutputId(rtmp[1]!), 'failed', 'not started by the media worker: its key does not open'],
      ],
    );
    // A destination that is down is a current problem of the livestream, named by its redacted target.
    const down = (await status()).body;
    assert.ok(
      down.warnings.includes('composite: RTMP destination rtmps://ingest.example.org:443/live2/*** failed: not started by the media worker: its key does not open'),
      JSON.stringify(down.warnings),
    );
    assert.equal(down.health, 'degraded');
    api.media.outputs = undefined;

    // Shipped snippets are read from the bucket: three composite snippets, one of bob.
    const bucket = api.cloud.storage.bucket(TEST_BUCKET);
    const put = (name: string, meta: Record<string, string>) => bucket.file(name).save(Buffer.from('snippet'), { contentType: name.endsWith('.mp3') ? 'audio/mpeg' : 'video/mp4', metadata: { metadata: meta } });
    await put(`livestreams/${id}/composite/000000_20260131T120000.000Z_20260131T120015.000Z.mp4`, { snippetId: 'sn-0', durationMs: '15000' });
    await put(`livestreams/${id}/composite/000001_20260131T120015.000Z_20260131T120030.000Z.mp4`, { snippetId: 'sn-1', durationMs: '15000' });
    await put(`livestreams/${id}/composite/000002_20260131T120030.000Z_20260131T120045.000Z.mp4`, { snippetId: 'sn-2', durationMs: '15000' });
    await put(`livestreams/${id}/host-bob/000000_20260131T120000.000Z_20260131T120015.000Z.mp3`, { snippetId: 'sn-b0' });
    await put(`livestreams/${id}-other/composite/000000_20260131T120000.000Z_20260131T120015.000Z.mp4`, {});
    const snip = (q: string) => call(api.url, 'GET', `/v1/livestreams/${id}/snippets${q}`, { token: TOKENS.reviewer });
    const all = await snip('');
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.snippets.map((x: any) => `${x.recording}/${x.sequence}`), ['composite/0', 'composite/1', 'composite/2', 'host-bob/0']);
    const ranged = await snip('?recording=composite&from=2026-01-31T12:00:20Z&to=2026-01-31T13:00:31%2B01:00');
    assert.equal(ranged.status, 200, JSON.stringify(ranged.body));
    assert.deepEqual(ranged.body.snippets.map((x: any) => x.sequence), [1, 2]);
    const first = ranged.body.snippets[0];
    assert.deepEqual(first, {
      recording: 'composite',
      sequence: 1,
      startTime: '2026-01-31T12:00:15.000Z',
      endTime: '2026-01-31T12:00:30.000Z',
      uri: `gs://${TEST_BUCKET}/livestreams/${id}/composite/000001_20260131T120015.000Z_20260131T120030.000Z.mp4`,
      contentType: 'video/mp4',
      sizeBytes: 7,
      snippetId: 'sn-1',
      durationMs: 15000,
    });
    // Touching the range boundary exactly is no overlap.
    assert.deepEqual((await snip('?recording=composite&from=2026-01-31T12:00:45Z')).body.snippets, []);
    assert.deepEqual((await snip('?recording=host-bob&to=2026-01-31T12:00:01Z')).body.snippets.map((x: any) => x.contentType), ['audio/mpeg']);

    const withSnippets = (await status()).body;
    assert.equal(withSnippets.snippetsShipped, 4);
    assert.equal(withSnippets.lastSnippetAt, '2026-01-31T12:00:45.000Z');
    assert.deepEqual(withSnippets.shipped.find((t: any) => t.recordingId === 'composite'), { recordingId: 'composite', snippetsShipped: 3, lastSnippetAt: '2026-01-31T12:00:45.000Z' });
    assert.ok(['ok', 'degraded'].includes(withSnippets.health), withSnippets.health);

    // Stop: accepted; the workflow finalizes every recording and completes; stop is idempotent.
    const stop = await svc('DELETE', `/v1/livestreams/${id}?reason=show%20over`);
    assert.equal(stop.status, 202, JSON.stringify(stop.body));
    assert.equal(stop.body.status, 'stopping');
    const final = await eventually(async () => (await status()).body, (st) => st.phase === 'stopped', 'stopped');
    assert.equal(final.health, 'stopped');
    assert.equal(final.stopReason, 'show over');
    assert.ok(final.recordings.every((r: any) => r.state === 'finished'), JSON.stringify(final.recordings));
    const summary = await api.env.client.workflow.getHandle(`livestream/${id}`).result();
    assert.equal(summary.stopReason, 'show over');
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}`)).body.status, 'stopped');

    // A stopped livestream refuses changes (409), and is never started again under its id.
    for (const [method, path, json] of [
      ['POST', `/v1/livestreams/${id}/hosts`, { hostId: 'dave' }],
      ['PUT', `/v1/livestreams/${id}/hosts/bob/camera`, { on: false }],
      ['PUT', `/v1/livestreams/${id}/layout`, { layout: 'grid' }],
      ['DELETE', `/v1/livestreams/${id}/hosts/bob`, undefined],
      ['POST', '/v1/livestreams', body],
    ] as const) {
      const r = await svc(method, path, json);
      assert.equal(r.status, 409, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'livestream_conflict');
    }
  });

  it('answers 404 for unknown livestreams and hosts', { timeout: 60_000 }, async () => {
    for (const [method, path, json] of [
      ['GET', '/v1/livestreams/nobody-here', undefined],
      ['POST', '/v1/livestreams/nobody-here/hosts', { hostId: 'h1' }],
      ['PUT', '/v1/livestreams/nobody-here/hosts/h1/camera', { on: true }],
      ['DELETE', '/v1/livestreams/nobody-here', undefined],
    ] as const) {
      const r = await svc(method, path, json);
      assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'livestream_not_found');
    }
    const r = await call(api.url, 'GET', '/v1/livestreams/nobody-here/snippets', { token: TOKENS.reviewer });
    assert.equal(r.status, 404);

    const id = 'ls-api-404';
    assert.equal((await svc('POST', '/v1/livestreams', { livestreamId: id, hosts: [{ hostId: 'h1' }] })).status, 201);
    const cam = await svc('PUT', `/v1/livestreams/${id}/hosts/ghost/camera`, { on: true });
    assert.equal(cam.status, 404);
    assert.equal(cam.body.error.code, 'host_not_found');
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}/hosts/ghost`)).status, 404);
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/layout`, { layout: 'spotlight', spotlightHostId: 'ghost' })).status, 404);
    // Leaving twice is harmless.
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}/hosts/h1`)).status, 202);
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}/hosts/h1`)).status, 202);
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}`)).status, 202);
  });

  it('answers 503 with the reason when no media worker can take the livestream', { timeout: 60_000 }, async () => {
    const hosts = Array.from({ length: 32 }, (_, i) => ({ hostId: `h${i}` }));
    const r = await svc('POST', '/v1/livestreams', { livestreamId: 'ls-api-big', hosts });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'capacity_exhausted');
    assert.match(r.body.error.details.reason, /media workers are full: livestream ls-api-big needs [\d.]+ cores/);
    assert.equal(r.headers.get('retry-after'), '30');
    // A failed start may be tried again (it fails again here: nothing was freed).
    const again = await svc('POST', '/v1/livestreams', { livestreamId: 'ls-api-big', hosts });
    assert.equal(again.status, 503);
    const st = await call(api.url, 'GET', '/v1/livestreams/ls-api-big', { token: TOKENS.moderation });
    assert.equal(st.status, 200);
    assert.equal(st.body.phase, 'stopped');
    assert.match(st.body.stopReason, /placement failed/);
  });

  it('is driven by the tapedeck CLI: start, status, outputs, snippets, stop', { timeout: 120_000 }, async () => {
    const env = { TAPEDECK_API_URL: api.url, TAPEDECK_API_TOKEN: TOKENS.service };
    const id = 'ls-api-cli';
    const start = await tapedeck(['livestreams', 'start', id, '--host', 'h1', '--host', 'h2:H264:102', '--layout', 'spotlight', '--spotlight', 'h2'], env);
    assert.equal(start.code, 0, start.stderr);
    const started = JSON.parse(start.stdout);
    assert.equal(started.workflowId, `livestream/${id}`);
    assert.deepEqual(started.hosts.map((h: any) => `${h.hostId}:${h.ingest.video.codec}:${h.ingest.video.payloadType}`).sort(), ['h1:VP8:96', 'h2:H264:102']);

    const status = await tapedeck(['livestreams', 'status', id], { ...env, TAPEDECK_API_TOKEN: TOKENS.moderation });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).layout, { kind: 'spotlight', spotlightHostId: 'h2' });

    const outputs = await tapedeck(['livestreams', 'outputs', id, '--rtmp', 'rtmp://live.example.com/app/cli-key-1'], env);
    assert.equal(outputs.code, 0, outputs.stderr);
    await eventually(
      async () => JSON.parse((await tapedeck(['livestreams', 'status', id], env)).stdout).outputs.rtmp,
      (r) => r.length === 1 && r[0].target === 'rtmp://live.example.com/app/***',
      'the CLI set an RTMP destination',
    );
    const badOutput = await tapedeck(['livestreams', 'outputs', id, '--rtmp', 'rtmp://live.example.com/app'], env);
    assert.equal(badOutput.code, 1);
    assert.match(badOutput.stderr, /answered 400[\s\S]*rtmp\[0\]/);

    const snippets = await tapedeck(['livestreams', 'snippets', id, '--recording', 'composite', '--from', '2026-01-01T00:00:00Z'], { ...env, TAPEDECK_API_TOKEN: TOKENS.reviewer });
    assert.equal(snippets.code, 0, snippets.stderr);
    assert.deepEqual(JSON.parse(snippets.stdout), { livestreamId: id, snippets: [] });

    // The API's refusals come back with their error body and exit code 1.
    const forbidden = await tapedeck(['livestreams', 'stop', id], { ...env, TAPEDECK_API_TOKEN: TOKENS.reviewer });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /answered 403/);
    assert.match(forbidden.stderr, /"code": "forbidden"/);
    const bad = await tapedeck(['livestreams', 'status', '../x'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /answered 400[\s\S]*must match/);

    const stop = await tapedeck(['livestreams', 'stop', id, '--reason', 'operator'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).status, 'stopping');
    await eventually(async () => JSON.parse((await tapedeck(['livestreams', 'status', id], env)).stdout), (st) => st.phase === 'stopped' && st.stopReason === 'operator', 'stopped by the CLI');

    // Usage mistakes (2), an unreachable API (3), and bad configuration (78, token not echoed).
    assert.equal((await tapedeck(['livestreams', 'launch', id], env)).code, 2);
    assert.equal((await tapedeck(['livestreams', 'status', id, '--reason', 'x'], env)).code, 2);
    assert.equal((await tapedeck([], env)).code, 2);
    assert.equal((await tapedeck(['livestreams', 'status', id], { TAPEDECK_API_URL: api.url })).code, 2);
    const down = await tapedeck(['livestreams', 'status', id], { ...env, TAPEDECK_API_URL: `http://127.0.0.1:${await freePort()}` });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, /cannot reach/);
    const short = await tapedeck(['livestreams', 'status', id], { ...env, TAPEDECK_API_TOKEN: 'short secret!' });
    assert.equal(short.code, 78);
    assert.match(short.stderr, /TAPEDECK_API_TOKEN: must be 16 to 512/);
    assert.ok(!short.stderr.includes('short secret'), 'token not echoed');
  });
});
