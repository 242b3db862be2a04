// The API with real media behind it: the API and worker processes of `npm start` on the Temporal
// dev server and the emulators, the mock SFU sending RTP (one host with 12% packet loss, one host
// that sends nothing), GStreamer pipelines, shipping. The livestream status shows each running
// recording's live side (media per host, shipping backlog and latency) and the problems true right
// now (packet loss, no media) with the health word; the worker's and the API's /metrics count
// what runs and what shipped; a host joins, a camera goes off, the layout changes; stop.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { waitUntil } from '../../infra/stack/net';
import { LocalStack } from '../../infra/stack/stack';
import { call, TOKENS, TOKENS_ENV } from '../support/api';
import { e2eScope, sendHost, testMediaWorkerEnv } from '../support/e2e';
import { testEnv } from '../support/env';
import { metric } from '../support/http';
import { freeStackPorts } from '../support/ports';

describe('API with real media (worker, pipelines, shipping, emulators)', () => {
  const scope = e2eScope('api-media');
  const { dataDir } = scope;

  it('reports live media, loss, silence, shipping and metrics while recording', { timeout: 240_000 }, async () => {
    const ports = await freeStackPorts();
    const stack = new LocalStack({
      env: {
        ...testEnv,
        ...testMediaWorkerEnv(dataDir, 'media-api'),
        TAPEDECK_SNIPPET_SECONDS: '3',
        TAPEDECK_NO_MEDIA_WARNING_MS: '3000',
        TAPEDECK_LOSS_WARNING_PERCENT: '5',
      },
      dataDir,
      ports,
      projectId: 'tapedeck-api-media',
      bucket: 'tapedeck-api-media',
      pubsubEmulator: 'auto',
      apiTokens: TOKENS_ENV,
      reuse: false,
      startupTimeoutMs: 60_000,
    });
    scope.cleanup(() => stack.stop());
    await stack.start();
    const api = `http://${ports.host}:${ports.api}`;
    const workerMetrics = async () => (await fetch(`http://${ports.host}:${ports.workerHttp}/metrics`)).text();
    const apiMetrics = async () => (await fetch(`${api}/metrics`)).text();
    const svc = (method: string, path: string, json?: unknown) => call(api, method, path, { token: TOKENS.service, ...(json !== undefined ? { json } : {}) });
    const status = async () => {
      const r = await call(api, 'GET', `/v1/livestreams/${id}`, { token: TOKENS.reviewer });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };

    const id = `ls-media-${Date.now()}`;
    // Placement needs the worker's first capacity report; the API answers 503 until then.
    let started: Awaited<ReturnType<typeof svc>> | undefined;
    await waitUntil(
      async () => {
        started = await svc('POST', '/v1/livestreams', { livestreamId: id, hosts: [{ hostId: 'ada', displayName: 'Ada' }, { hostId: 'bob', video: { codec: 'H264', payloadType: 102 } }] });
        return started.status === 201;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the livestream to start' },
    );
    const ada = started!.body.hosts.find((h: { hostId: string }) => h.hostId === 'ada').ingest;
    // Ada's packets are lost at 12%; Bob sends nothing at all.
    const sfu = await sendHost(scope, 'ada', ada, { faults: { loss: 0.12, seed: 11 } });

    type Status = { health: string; warnings: string[]; snippetsShipped: number; backlog: { count: number }; recordings: Array<Record<string, any>> };
    let s: Status | undefined;
    await waitUntil(
      async () => {
        s = (await status()) as Status;
        const composite = s.recordings.find((r) => r.recordingId === 'composite' && r.state === 'running');
        const media = composite?.live?.media as Array<{ hostId: string; packets: number; lossPercent: number | null }> | undefined;
        const shipping = composite?.live?.shipping;
        // Ada's own recording reads the same ingest (one per host, fanned out).
        const adaOwn = s.recordings.find((r) => r.recordingId === 'host-ada' && r.state === 'running');
        return (
          !!(adaOwn?.live?.media as Array<{ hostId: string; lossPercent: number | null }> | undefined)?.some((m) => m.hostId === 'ada' && (m.lossPercent ?? 0) >= 5) &&
          !!media?.find((m) => m.hostId === 'ada' && m.packets > 100 && (m.lossPercent ?? 0) >= 5) &&
          s.warnings.some((w) => w.startsWith('composite: packet-loss: host ada')) &&
          s.warnings.some((w) => w.startsWith('composite: no-media: no RTP from host bob')) &&
          shipping?.latencyMs?.count > 0 &&
          s.snippetsShipped >= 2
        );
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: 'live media, loss and silence on the status' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast status: ${JSON.stringify(s, null, 1)}`);
    });
    assert.equal(s!.health, 'degraded', 'current problems make the livestream degraded');
    const composite = s!.recordings.find((r) => r.recordingId === 'composite')!;
    assert.ok(composite.live.fpsOut > 0 && composite.live.bitrateKbps > 0, JSON.stringify(composite.live));
    assert.equal(composite.live.attempt, 1);
    const adaMedia = composite.live.media.find((m: { hostId: string }) => m.hostId === 'ada');
    assert.ok(adaMedia.lossPercent < 25, `loss near the 12% sent: ${adaMedia.lossPercent}`);
    const bobMedia = composite.live.media.find((m: { hostId: string }) => m.hostId === 'bob');
    assert.equal(bobMedia.packets, 0);
    assert.equal(bobMedia.lastPacketAt, null);
    assert.ok(typeof s!.backlog.count === 'number');

    // Metrics: what runs on the worker and what it shipped; the API's cluster-wide gauges.
    const wm = await workerMetrics();
    assert.equal(metric(wm, 'tapedeck_recordings_running', 'kind="composite"'), 1);
    assert.equal(metric(wm, 'tapedeck_recordings_running', 'kind="individual"'), 2, 'ada (av) and bob (av, silent)');
    assert.ok((metric(wm, 'tapedeck_snippets_shipped_total', 'kind="composite"') ?? 0) >= 1, wm);
    assert.ok((metric(wm, 'tapedeck_shipping_latency_seconds_count', 'kind="composite"') ?? 0) >= 1);
    assert.equal(metric(wm, 'tapedeck_ingest_hosts_open'), 2);
    assert.ok(metric(wm, 'tapedeck_shipping_backlog_snippets') !== undefined);
    // The pipelines' own work, from their stats reports: frames written, CPU, memory.
    for (const kind of ['composite', 'individual']) {
      assert.ok((metric(wm, 'tapedeck_recording_frames_out_total', `kind="${kind}"`) ?? 0) > 0, `${kind} frames out: ${wm}`);
      assert.ok((metric(wm, 'tapedeck_pipeline_cpu_seconds_total', `kind="${kind}"`) ?? 0) > 0, `${kind} pipeline CPU`);
      assert.ok((metric(wm, 'tapedeck_pipeline_resident_bytes', `kind="${kind}"`) ?? 0) > 50e6, `${kind} pipeline memory`);
    }
    assert.equal(metric(wm, 'tapedeck_live_outputs', 'kind="rtmp",state="connected"'), 0, 'no live outputs asked for');
    await waitUntil(async () => metric(await apiMetrics(), 'tapedeck_recordings_running', 'kind="composite"') === 1, {
      timeoutMs: 30_000,
      intervalMs: 2000,
      what: 'the API to count the running composite (Temporal visibility)',
    });
    assert.equal(metric(await apiMetrics(), 'tapedeck_livestreams_running'), 1);

    // Bob leaves: his silence is no longer a problem. Carol joins clean; Ada's camera goes off
    // (her individual recording continues as MP3); the layout changes.
    assert.equal((await svc('DELETE', `/v1/livestreams/${id}/hosts/bob`)).status, 202);
    const carolJoin = await svc('POST', `/v1/livestreams/${id}/hosts`, { hostId: 'carol', displayName: 'Carol' });
    assert.equal(carolJoin.status, 201, JSON.stringify(carolJoin.body));
    await sendHost(scope, 'carol', carolJoin.body.ingest, { colour: '#2080ff' });
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/hosts/ada/camera`, { on: false })).status, 202);
    sfu.camera('ada', false);
    assert.equal((await svc('PUT', `/v1/livestreams/${id}/layout`, { layout: 'spotlight', spotlightHostId: 'carol' })).status, 202);
    await waitUntil(
      async () => {
        s = (await status()) as Status;
        const c = s.recordings.find((r) => r.recordingId === 'composite' && r.state === 'running');
        const carolMedia = (c?.live?.media ?? []).find((m: { hostId: string }) => m.hostId === 'carol');
        return (
          // (Bob's finished recording keeps its history in its summary; no current alert is left.)
          !s.warnings.some((w) => w.startsWith('composite: no-media: no RTP from host bob')) &&
          !!carolMedia &&
          carolMedia.packets > 100 &&
          s.recordings.some((r) => r.recordingId === 'host-ada' && r.variant === 'audio' && r.state === 'running')
        );
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "bob's silence gone, carol's media counted, ada's audio-only period" },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast status: ${JSON.stringify(s, null, 1)}`);
    });
    const carolMedia = s!.recordings.find((r) => r.recordingId === 'composite')!.live.media.find((m: { hostId: string }) => m.hostId === 'carol');
    assert.ok(carolMedia.lossPercent !== null && carolMedia.lossPercent < 5, `carol sends clean: ${carolMedia.lossPercent}`);

    // Stop: every recording finalizes and ships, the status has no live side left.
    const stopped = await svc('DELETE', `/v1/livestreams/${id}`);
    assert.equal(stopped.status, 202, JSON.stringify(stopped.body));
    await waitUntil(async () => ((await status()) as Status & { phase: string }).phase === 'stopped', { timeoutMs: 90_000, intervalMs: 1000, what: 'the livestream to stop' });
    s = (await status()) as Status;
    assert.ok(s.recordings.every((r) => r.live === undefined && (r.state === 'finished' || r.state === 'failed')), JSON.stringify(s.recordings));
    assert.ok(s.recordings.every((r) => r.state === 'finished'), JSON.stringify(s.recordings.map((r) => [r.workflowId, r.state])));
    assert.equal(s.backlog.count, 0);
    const listed = await call(api, 'GET', `/v1/livestreams/${id}/snippets?recording=host-ada`, { token: TOKENS.reviewer });
    assert.equal(listed.status, 200);
    const kinds = new Set((listed.body.snippets as Array<{ contentType: string }>).map((x) => x.contentType));
    assert.deepEqual([...kinds].sort(), ['audio/mpeg', 'video/mp4'], 'ada: MP4 while her camera was on, MP3 after');
    const after = await workerMetrics();
    assert.equal(metric(after, 'tapedeck_recordings_running', 'kind="composite"'), 0);
    assert.ok((metric(after, 'tapedeck_snippets_shipped_total', 'kind="individual"') ?? 0) >= 2);
    scope.passed();
  });
});
