// The worker's media metrics: the pipelines' running totals become counter increments (whole on
// first sight and after a restart, never lost when a recording ends between scrapes), and live
// outputs are counted by kind and state when scraped.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { LiveRecording, MediaRuntime } from '../../activities/media/media-runtime';
import type { ShipRegistry } from '../../activities/ship/ship.activity';
import { RunningTotals, WorkerMetrics } from '../../apps/worker/metrics';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import type { PipelineStats } from '../../pipelines/protocol';
import { metric } from '../support/http';

const stats = (framesOut: number, droppedOut: number, cpuSeconds: number, rssBytes = 100e6): PipelineStats => ({
  uptimeMs: 0,
  framesOut,
  fpsOut: 15,
  droppedOut,
  bitrateKbps: 0,
  encoderLatencyMs: null,
  branches: [],
  cpuSeconds,
  rssBytes,
});
const output = (id: string, kind: OutputStatus['kind'], state: OutputStatus['state'], bytesSent: number): OutputStatus => ({
  id,
  kind,
  target: id,
  state,
  attempts: 1,
  bytesSent,
  since: new Date(0).toISOString(),
});

function metricsWith(live: () => LiveRecording[]) {
  const ships = { statuses: () => [] } as unknown as ShipRegistry;
  const runtime = { liveRecordings: live, runningByKind: () => ({ composite: 0, individual: 0 }), openIngests: 0 } as unknown as MediaRuntime;
  return new WorkerMetrics({ ships, runtime: () => runtime });
}

describe('worker metrics: running totals', () => {
  it('counts growth, a first total whole, and a total that went down as a new start', () => {
    const t = new RunningTotals();
    assert.equal(t.growth('a', 10), 10);
    assert.equal(t.growth('a', 25), 15);
    assert.equal(t.growth('a', 25), 0);
    assert.equal(t.growth('a', 4), 4, 'a new pipeline under the same name starts from 0');
    assert.equal(t.growth('b', 7), 7);
    assert.equal(t.growth('b', Number.NaN), 0, 'no count adds nothing and is not remembered');
    assert.equal(t.growth('b', -1), 0);
    assert.equal(t.growth('b', 9), 2);
    t.forget('a');
    assert.equal(t.size, 1);
    assert.equal(t.growth('a', 5), 5);
  });
});

describe('worker metrics: media', () => {
  it('adds each stats report’s growth by recording kind and keeps what a recording reported before it ended', async () => {
    const m = metricsWith(() => []);
    const comp = { key: 'ls-1/composite', kind: 'composite' as const };
    const ind = { key: 'ls-1/host-ada', kind: 'individual' as const };
    m.onMediaStats(comp, { stats: stats(15, 0, 0.5) });
    m.onMediaStats(ind, { stats: stats(30, 1, 0.2) });
    m.onMediaStats(comp, { stats: stats(45, 2, 1.5) });
    m.onRecordingEnd(comp);
    // The same recording again (the activity's next attempt): a new pipeline counts from 0.
    m.onMediaStats(comp, { stats: stats(10, 0, 0.25) });
    const text = await m.render();
    assert.equal(metric(text, 'tapedeck_recording_frames_out_total', 'kind="composite"'), 55);
    assert.equal(metric(text, 'tapedeck_recording_frames_out_total', 'kind="individual"'), 30);
    assert.equal(metric(text, 'tapedeck_recording_frames_dropped_total', 'kind="composite"'), 2);
    assert.equal(metric(text, 'tapedeck_recording_frames_dropped_total', 'kind="individual"'), 1);
    assert.equal(metric(text, 'tapedeck_pipeline_cpu_seconds_total', 'kind="composite"'), 1.75);
    assert.equal(metric(text, 'tapedeck_pipeline_cpu_seconds_total', 'kind="individual"'), 0.2);
  });

  it('adds the bytes RTMP destinations sent, one added again counting from 0', async () => {
    const m = metricsWith(() => []);
    const comp = { key: 'ls-2/composite', kind: 'composite' as const };
    m.onMediaStats(comp, { outputs: [output('rtmp-a', 'rtmp', 'connecting', 0), output('hls', 'hls', 'connecting', 0)] });
    m.onMediaStats(comp, { stats: stats(15, 0, 1), outputs: [output('rtmp-a', 'rtmp', 'connected', 1000), output('hls', 'hls', 'connected', 400)] });
    m.onMediaStats(comp, { outputs: [output('rtmp-a', 'rtmp', 'connected', 2500), output('rtmp-b', 'rtmp', 'connecting', 0), output('hls', 'hls', 'connected', 900)] });
    // rtmp-a removed and added again: its new bytes count whole.
    m.onMediaStats(comp, { outputs: [output('rtmp-a', 'rtmp', 'connecting', 0), output('rtmp-b', 'rtmp', 'connected', 300), output('hls', 'hls', 'connected', 900)] });
    m.onMediaStats(comp, { outputs: [output('rtmp-a', 'rtmp', 'connected', 200), output('rtmp-b', 'rtmp', 'connected', 300), output('hls', 'hls', 'connected', 900)] });
    const text = await m.render();
    assert.equal(metric(text, 'tapedeck_rtmp_bytes_sent_total'), 2500 + 300 + 200);
  });

  it('counts the running composites’ live outputs by kind and state, every pair present, and sums pipeline memory by kind', async () => {
    const live: LiveRecording[] = [
      { kind: 'composite', outputs: [output('a', 'rtmp', 'connected', 1), output('b', 'rtmp', 'retrying', 0), output('hls', 'hls', 'connected', 1)], rssBytes: 150e6 },
      { kind: 'composite', outputs: [output('c', 'rtmp', 'connected', 1), output('d', 'rtmp', 'failed', 0)], rssBytes: 140e6 },
      { kind: 'individual', outputs: [], rssBytes: 90e6 },
      { kind: 'individual', outputs: [] },
    ];
    const m = metricsWith(() => live);
    const text = await m.render();
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="rtmp",state="connected"'), 2);
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="rtmp",state="retrying"'), 1);
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="rtmp",state="failed"'), 1);
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="rtmp",state="connecting"'), 0);
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="hls",state="connected"'), 1);
    assert.equal(metric(text, 'tapedeck_live_outputs', 'kind="hls",state="stopped"'), 0);
    assert.equal(metric(text, 'tapedeck_pipeline_resident_bytes', 'kind="composite"'), 290e6);
    assert.equal(metric(text, 'tapedeck_pipeline_resident_bytes', 'kind="individual"'), 90e6);
    // Without any recording every series is there at 0 (dashboards and alerts need no absent()).
    const idle = await metricsWith(() => []).render();
    assert.equal(metric(idle, 'tapedeck_live_outputs', 'kind="rtmp",state="connected"'), 0);
    assert.equal(metric(idle, 'tapedeck_rtmp_bytes_sent_total'), 0);
    assert.equal(metric(idle, 'tapedeck_recording_frames_out_total', 'kind="individual"'), 0);
  });
});
