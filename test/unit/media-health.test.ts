// Live media health of a recording's hosts: loss over a sliding window, silence, and which
// alerts are true right now.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MediaHealth, type HostSample } from '../../activities/media/media-health';

const counters = (packets: number, lost: number, lastPacketAt: number | null) => ({ packets, lost, lastPacketAt }) as never;
const sample = (hostId: string, v: [number, number], a: [number, number], opts: { expected?: boolean; silentMs?: number; last?: number | null } = {}): HostSample => ({
  hostId,
  expected: opts.expected ?? true,
  stats: { video: counters(v[0], v[1], opts.last === undefined ? 1_000 : opts.last), audio: counters(a[0], a[1], opts.last === undefined ? 1_000 : opts.last) },
  silentMs: opts.silentMs ?? 0,
});

describe('media health', () => {
  const opts = { noMediaMs: 10_000, lossPercent: 5, windowMs: 30_000 };

  it('measures loss over the window, not since the start', () => {
    const h = new MediaHealth(opts);
    // 10% loss at first ...
    let r = h.sample([sample('ada', [900, 100], [0, 0])], 0);
    assert.equal(r.hosts[0]!.lossPercent, 10);
    assert.deepEqual(r.alerts, ['packet-loss: host ada lost 10% of its packets in the last 30 s']);
    // ... then 1000 clean packets in 10 s: 0% in the window that starts at the first sample.
    r = h.sample([sample('ada', [1900, 100], [0, 0])], 10_000);
    assert.equal(r.hosts[0]!.lossPercent, 0);
    assert.deepEqual(r.alerts, []);
    // 40 s later the first sample left the window: 50 lost of 1000 since the 10 s sample = 5%.
    r = h.sample([sample('ada', [2850, 150], [0, 0])], 40_000);
    assert.equal(r.hosts[0]!.lossPercent, 5);
    assert.equal(r.alerts.length, 1);
    assert.equal(r.hosts[0]!.packets, 2850);
    assert.equal(r.hosts[0]!.lost, 150);
  });

  it('samples further apart than the window still compare with the previous one', () => {
    const h = new MediaHealth(opts);
    h.sample([sample('ada', [1000, 0], [0, 0])], 0);
    const r = h.sample([sample('ada', [1900, 100], [0, 0])], 100_000);
    assert.equal(r.hosts[0]!.lossPercent, 10);
  });

  it('alerts silence only for hosts expected to send', () => {
    const h = new MediaHealth(opts);
    const r = h.sample(
      [sample('on', [0, 0], [0, 0], { silentMs: 12_400, last: null }), sample('off', [0, 0], [0, 0], { expected: false, silentMs: 60_000, last: null }), sample('fine', [10, 0], [10, 0], { silentMs: 200 })],
      0,
    );
    assert.deepEqual(r.alerts, ['no-media: no RTP from host on for 12 s']);
    assert.equal(r.hosts[0]!.lossPercent, null, 'no traffic: no loss figure');
    assert.equal(r.hosts[0]!.lastPacketAt, null);
    assert.equal(r.hosts[2]!.lastPacketAt, new Date(1000).toISOString());
  });

  it('forgets hosts that are gone', () => {
    const h = new MediaHealth(opts);
    h.sample([sample('ada', [900, 100], [0, 0])], 0);
    h.sample([], 1000);
    // Back with clean counters from a new ingest: no stale comparison.
    const r = h.sample([sample('ada', [100, 0], [0, 0])], 2000);
    assert.equal(r.hosts[0]!.lossPercent, 0);
  });
});
