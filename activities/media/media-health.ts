// Live media health of a recording's hosts, as the record activity's heartbeat carries it and the
// livestream status shows it: packets and loss per host over a sliding window, time since the
// last packet, and the alerts that are true right now (no media from a host whose camera or
// microphone is on; loss above the threshold). Pure: fed with ingest counters and a clock.
import type { HostIngestStats } from '../../pipelines/ingest/host-ingest';

export interface HostMediaHealth {
  hostId: string;
  /** RTP packets received (both media) since the ingest opened. */
  packets: number;
  /** Packets lost (both media) since the ingest opened. */
  lost: number;
  /** Loss over the window, in percent of the packets expected in it; null before any traffic. */
  lossPercent: number | null;
  /** Time since the last valid packet of either medium (or since the ingest opened). */
  silentMs: number;
  lastPacketAt: string | null;
}

export interface MediaHealthOptions {
  /** A host expected to send (camera or microphone on) and silent this long is alerted. */
  noMediaMs: number;
  /** Loss in the window at or above this percent is alerted. */
  lossPercent: number;
  /** Loss is measured over this much recent time. */
  windowMs: number;
}

export interface HostSample {
  hostId: string;
  /** Camera or microphone on: the host is expected to send. */
  expected: boolean;
  stats: Pick<HostIngestStats, 'video' | 'audio'>;
  silentMs: number;
}

interface Point {
  at: number;
  packets: number;
  lost: number;
}

export class MediaHealth {
  private readonly history = new Map<string, Point[]>();

  constructor(private readonly opts: MediaHealthOptions) {}

  /** Takes one sample per host and returns their health and the alerts now active. */
  sample(hosts: HostSample[], now: number): { hosts: HostMediaHealth[]; alerts: string[] } {
    const out: HostMediaHealth[] = [];
    const alerts: string[] = [];
    for (const h of hosts) {
      const packets = h.stats.video.packets + h.stats.audio.packets;
      const lost = h.stats.video.lost + h.stats.audio.lost;
      const before = this.history.get(h.hostId) ?? [];
      const points = before.filter((p) => now - p.at <= this.opts.windowMs);
      // Samples further apart than the window: the previous one still bounds the window.
      if (points.length === 0 && before.length > 0) points.push(before.at(-1)!);
      points.push({ at: now, packets, lost });
      this.history.set(h.hostId, points);
      const first = points[0]!;
      const dPackets = packets - first.packets;
      const dLost = lost - first.lost;
      // The first sample stands for everything since the ingest opened.
      const [p, l] = points.length > 1 ? [dPackets, dLost] : [packets, lost];
      const lossPercent = p + l > 0 ? round1((100 * l) / (p + l)) : null;
      const last = Math.max(h.stats.video.lastPacketAt ?? -Infinity, h.stats.audio.lastPacketAt ?? -Infinity);
      out.push({
        hostId: h.hostId,
        packets,
        lost,
        lossPercent,
        silentMs: Math.round(h.silentMs),
        lastPacketAt: Number.isFinite(last) ? new Date(last).toISOString() : null,
      });
      if (h.expected && h.silentMs >= this.opts.noMediaMs) alerts.push(`no-media: no RTP from host ${h.hostId} for ${Math.round(h.silentMs / 1000)} s`);
      if (lossPercent !== null && lossPercent >= this.opts.lossPercent) {
        alerts.push(`packet-loss: host ${h.hostId} lost ${lossPercent}% of its packets in the last ${Math.round(this.opts.windowMs / 1000)} s`);
      }
    }
    for (const hostId of [...this.history.keys()]) if (!hosts.some((h) => h.hostId === hostId)) this.history.delete(hostId);
    return { hosts: out, alerts };
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
