// Live output through the whole path, nothing faked: Temporal dev server, a real worker process
// (control + media), the livestream and composite workflows, mock-SFU RTP, GStreamer, a real
// nginx-rtmp, the GCS emulator. A livestream starts with one RTMP destination and HLS; the
// `outputsChanged` signal (what PUT /v1/livestreams/{id}/outputs sends) adds a second destination;
// the API's Temporal adapter reads both as connected from the composite's record heartbeat; the
// HLS playlist is in the bucket at the URL the status gives; after stop it carries EXT-X-ENDLIST;
// no stream key appears in the worker's log. The URLs enter Temporal with their keys sealed, as the
// API sends them (TAPEDECK_STREAM_KEY_SECRET): the worker opens them for the pipeline, and no key
// is anywhere in the workflows' histories. A destination sealed with another secret is reported
// failed with the reason, and the others stream on.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { TemporalLivestreams } from '../../apps/api/livestreams/temporal-livestreams.adapter';
import { MockSfu } from '../../apps/mock-sfu/sender';
import { freePort, waitUntil } from '../../infra/stack/net';
import { ManagedProcess } from '../../infra/stack/process';
import { RtmpServer } from '../../infra/stack/rtmp-server';
import { PROJECT_ROOT } from '../../infra/stack/tools';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import { hlsPlaylistUrl, rtmpOutputId } from '../../pipelines/outputs/outputs';
import { sealRtmpUrl, streamKeyCipherKey } from '../../pipelines/outputs/stream-keys';
import { outputsSignal, readyUpdate, stopSignal } from '../../workflows/contract';
import { MEDIA_REGISTRY_ID, mediaWorkersQuery } from '../../workflows/media-registry.workflow';
import { compositeWorkflowId, livestreamWorkflowId } from '../../workflows/livestream.types';
import { testEnv } from '../support/env';
import { metric } from '../support/http';
import { startE2eServers } from '../support/e2e-stack';

const unavailable = RtmpServer.available();
const KEY_A = 'e2e-secret-A-5521';
const KEY_B = 'e2e-secret-B-8830';
const SECRET = 'live-output-e2e stream key secret, 32+ chars';
const sealed = (url: string) => sealRtmpUrl(url, streamKeyCipherKey(SECRET));
/** A destination another deployment sealed: this worker's secret does not open it. */
const KEY_C = 'e2e-secret-C-1947';
const sealedElsewhere = (url: string) => sealRtmpUrl(url, streamKeyCipherKey('another deployment, another secret, 32+ chars'));

/** Every payload and string of a workflow history, decoded, as one text to search. */
function historyText(history: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(history);
  return out.join('\n');
}

describe('live output end to end (worker, workflows, nginx-rtmp, HLS in the bucket)', { skip: unavailable ?? false }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tapedeck-live-e2e-'));
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let passed = false;
  after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (passed) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`live-output-e2e: logs kept in ${join(dataDir, 'logs')}`);
  });

  it('starts with RTMP + HLS, adds a destination by signal, reports them, ships the playlist', { timeout: 180_000 }, async () => {
    const stack = await startE2eServers(dataDir, 'tapedeck-live');
    cleanups.push(() => stack.stop());
    const rtmp = await RtmpServer.start({ record: false });
    cleanups.push(() => rtmp.stop());
    await stack.start();

    const rtpBase = 20000 + 2 * Math.floor(Math.random() * 10000);
    const workerHttp = await freePort();
    const worker = ManagedProcess.start({
      name: 'worker',
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'dist', 'apps', 'worker', 'main.js')],
      env: {
        ...testEnv,
        ...stack.clientEnv,
        TAPEDECK_WORKER_ID: 'media-live',
        TAPEDECK_WORKER_HTTP_PORT: String(workerHttp),
        TAPEDECK_SPOOL_DIR: join(dataDir, 'spool'),
        TAPEDECK_RTP_PORTS: `${rtpBase}-${rtpBase + 19}`,
        TAPEDECK_MEDIA_REPORT_MS: '1000',
        TAPEDECK_RECORD_HEARTBEAT_MS: '1000',
        TAPEDECK_SHIP_RESCAN_MS: '1000',
        TAPEDECK_HLS_SEGMENT_SECONDS: '2',
        TAPEDECK_HLS_PLAYLIST_LENGTH: '4',
        TAPEDECK_STOP_TIMEOUT_MS: '5000',
        TAPEDECK_LOG_LEVEL: 'debug',
        TAPEDECK_STREAM_KEY_SECRET: SECRET,
      },
      logFile: join(dataDir, 'logs', 'worker.log'),
    });
    cleanups.push(() => worker.stop(10_000));

    const connection = await Connection.connect({ address: stack.clientEnv.TEMPORAL_ADDRESS! });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    await waitUntil(async () => (await client.workflow.getHandle(MEDIA_REGISTRY_ID).query(mediaWorkersQuery)).some((w) => w.workerId === 'media-live'), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the media worker to report its capacity',
      abort: () => worker.deathReason(),
    });

    const livestreamId = `live-${Date.now()}`;
    const handle = await client.workflow.start('livestream', {
      taskQueue: 'tapedeck-control',
      workflowId: livestreamWorkflowId(livestreamId),
      args: [
        {
          livestreamId,
          hosts: [{ hostId: 'ada', displayName: 'Ada' }],
          composite: { layout: { kind: 'grid' }, rtmp: [sealed(rtmp.url(KEY_A))], hls: true },
          individual: false,
          snippetSeconds: 5,
        },
      ],
    });
    const ready = await handle.executeUpdate(readyUpdate);
    const ada = ready.hosts[0]!.ingest;
    const sfu = await MockSfu.create({
      hosts: [{ hostId: 'ada', address: ada.address, video: { port: ada.video.port, payloadType: 96, codec: 'VP8' }, audio: { port: ada.audio.port, payloadType: 111 } }],
      width: 320,
      height: 240,
      fps: 15,
    });
    cleanups.push(() => sfu.stop());
    sfu.start();

    // What GET /v1/livestreams/{id} reads: the composite's record heartbeat, through the API's adapter.
    const api = new TemporalLivestreams({ connection, namespace: 'default', taskQueue: 'tapedeck-control', timeoutMs: 10_000 });
    const composite = compositeWorkflowId(livestreamId);
    let seen: OutputStatus[] | null = null;
    const outputsConnected = (ids: string[]) => async () => {
      seen = (await api.recordingLive(composite))?.record?.outputs ?? null;
      return ids.every((id) => seen?.find((o) => o.id === id)?.state === 'connected');
    };
    const idA = rtmpOutputId(rtmp.url(KEY_A));
    const idB = rtmpOutputId(rtmp.url(KEY_B));
    await waitUntil(outputsConnected([idA, 'hls']), { timeoutMs: 60_000, intervalMs: 1000, what: `RTMP A and HLS connected (${JSON.stringify(seen)})`, abort: () => worker.deathReason() });

    // B is added; C's key was sealed with another secret, so the worker cannot open it: C is
    // reported failed with the reason (under its sealed URL's id) and A and B stream on.
    const urlC = sealedElsewhere(rtmp.url(KEY_C));
    await handle.signal(outputsSignal, { rtmp: [sealed(rtmp.url(KEY_A)), sealed(rtmp.url(KEY_B)), urlC] });
    await waitUntil(outputsConnected([idA, idB, 'hls']), { timeoutMs: 30_000, intervalMs: 1000, what: 'the added destination connected', abort: () => worker.deathReason() });
    const reported = seen as unknown as OutputStatus[];
    const refused = reported.find((o) => o.id === rtmpOutputId(urlC));
    assert.equal(refused?.state, 'failed', JSON.stringify(reported));
    assert.match(refused!.lastError ?? '', /does not open with this TAPEDECK_STREAM_KEY_SECRET/);
    assert.equal(refused!.target, `rtmp://127.0.0.1:${rtmp.port}/live/***`);
    const streaming = reported.filter((o) => o.kind === 'rtmp' && o !== refused);
    assert.equal(streaming.length, 2, JSON.stringify(reported));
    assert.ok(streaming.every((o) => o.target === `rtmp://127.0.0.1:${rtmp.port}/live/***` && o.bytesSent > 0), JSON.stringify(reported));

    // The worker's /metrics: the same outputs by kind and state, the bytes they sent, the
    // composite's frames and its pipeline host's CPU and memory.
    const scrape = async () => (await fetch(`http://127.0.0.1:${workerHttp}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    let wm = '';
    await waitUntil(async () => metric((wm = await scrape()), 'tapedeck_live_outputs', 'kind="rtmp",state="connected"') === 2, { timeoutMs: 15_000, intervalMs: 500, what: `two RTMP destinations connected in the worker's metrics (${wm.split('\n').filter((l) => l.startsWith('tapedeck_live')).join('; ')})` });
    assert.equal(metric(wm, 'tapedeck_live_outputs', 'kind="rtmp",state="failed"'), 1, 'the destination this worker could not open');
    assert.equal(metric(wm, 'tapedeck_live_outputs', 'kind="hls",state="connected"'), 1);
    const rtmpBytes = metric(wm, 'tapedeck_rtmp_bytes_sent_total') ?? 0;
    assert.ok(rtmpBytes > 0, wm);
    assert.ok((metric(wm, 'tapedeck_recording_frames_out_total', 'kind="composite"') ?? 0) > 0, wm);
    assert.ok((metric(wm, 'tapedeck_pipeline_cpu_seconds_total', 'kind="composite"') ?? 0) > 0, wm);
    assert.ok((metric(wm, 'tapedeck_pipeline_resident_bytes', 'kind="composite"') ?? 0) > 50e6, wm);
    await waitUntil(async () => (metric(await scrape(), 'tapedeck_rtmp_bytes_sent_total') ?? 0) > rtmpBytes, { timeoutMs: 15_000, intervalMs: 500, what: 'the RTMP bytes counter to grow' });

    const url = hlsPlaylistUrl('tapedeck-live', livestreamId, new URL(stack.clientEnv.STORAGE_EMULATOR_HOST!));
    const playlist = async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return res.status === 200 ? res.text() : '';
    };
    await waitUntil(async () => ((await playlist()).match(/#EXTINF/g) ?? []).length >= 2, { timeoutMs: 30_000, intervalMs: 1000, what: 'an HLS playlist with 2 segments in the bucket' });

    await handle.signal(stopSignal, { reason: 'live e2e over' });
    await handle.result();
    await waitUntil(async () => (await playlist()).includes('#EXT-X-ENDLIST'), { timeoutMs: 30_000, intervalMs: 1000, what: 'the final playlist (EXT-X-ENDLIST)' });
    for (const name of (await playlist()).split('\n').filter((l) => l.endsWith('.ts'))) {
      const res = await fetch(new URL(name, url), { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200, `${name} is in the bucket`);
      await res.arrayBuffer();
    }

    const log = readFileSync(join(dataDir, 'logs', 'worker.log'), 'utf8');
    assert.ok(log.length > 0);
    for (const key of [KEY_A, KEY_B, KEY_C]) assert.ok(!log.includes(key), 'no stream key in the worker log');
    assert.match(log, /RTMP destination left out: its stream key does not open/);
    // The histories of the livestream and its composite hold the destinations (so the search
    // below looks where they are), sealed: never a key.
    for (const id of [livestreamWorkflowId(livestreamId), composite]) {
      const text = historyText(await client.workflow.getHandle(id).fetchHistory());
      assert.ok(text.includes(`127.0.0.1:${rtmp.port}/live/sealed.v1.`), `${id}: the history holds the sealed destinations`);
      for (const key of [KEY_A, KEY_B]) assert.ok(!text.includes(key), `${id}: no stream key in the history`);
    }
    passed = true;
  });
});
