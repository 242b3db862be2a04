// Lip sync from RTCP sender reports. The camera and the microphone of one host reach us on two
// RTP streams that may travel (and be delayed inside the sender and the SFU) differently. Each
// sender report maps a stream's RTP clock to the sender's NTP wall clock, so for every packet we
// know when the sender captured it. transit = our arrival time − sender capture time contains the
// (unknown) clock offset between the two machines plus that stream's delay; the offset is the same
// for both streams of one host, so transit(video) − transit(audio) is exactly how much later audio
// arrives than video for content captured together.
//
// Sign convention (matches the pipeline protocol's `set-sync`): audioDelayMs = transit(video) −
// transit(audio). Audio arriving 120 ms after its video gives −120: "delay the video by 120 ms".
// Audio arriving 120 ms early gives +120: "delay the audio by 120 ms".
//
// Each stream's transit is smoothed with a windowed minimum: the smallest transit in the last few
// seconds is the path without queueing (a video frame's later packets wait behind its first ones,
// and jitter only ever adds delay). Without sender reports nothing is estimated: the pipelines then
// align by arrival time.

import { ntpToUnixMs, rtpTimestampDelta } from './rtp';

export interface SrMapping {
  ntpMs: number;
  rtpTimestamp: number;
  /** Local time the report arrived, to expire stale mappings. */
  receivedAtMs: number;
}

/** Sender capture time (sender's wall clock, ms) of an RTP timestamp, from the latest SR mapping. */
export function captureTimeMs(mapping: SrMapping, rtpTimestamp: number, clockRate: number): number {
  return mapping.ntpMs + (rtpTimestampDelta(rtpTimestamp, mapping.rtpTimestamp) * 1000) / clockRate;
}

export function mappingFromSr(ntpSeconds: number, ntpFraction: number, rtpTimestamp: number, receivedAtMs: number): SrMapping {
  return { ntpMs: ntpToUnixMs(ntpSeconds, ntpFraction), rtpTimestamp, receivedAtMs };
}

/**
 * Minimum over a sliding time window, in buckets: O(1) per sample and a handful of numbers of
 * state, because it runs for every packet of every host.
 */
export class WindowedMinimum {
  private readonly mins: number[];
  private readonly starts: number[];
  private head = -1;

  constructor(
    private readonly windowMs: number,
    private readonly buckets = 8,
  ) {
    this.mins = new Array<number>(buckets).fill(Infinity);
    this.starts = new Array<number>(buckets).fill(-Infinity);
  }

  push(value: number, nowMs: number): void {
    const width = this.windowMs / this.buckets;
    if (this.head < 0 || nowMs - this.starts[this.head]! >= width) {
      this.head = (this.head + 1) % this.buckets;
      this.starts[this.head] = nowMs;
      this.mins[this.head] = value;
    } else if (value < this.mins[this.head]!) {
      this.mins[this.head] = value;
    }
  }

  /** The minimum over the window ending at `nowMs`, or undefined when it holds no sample. */
  value(nowMs: number): number | undefined {
    let min = Infinity;
    const width = this.windowMs / this.buckets;
    for (let i = 0; i < this.buckets; i++) {
      if (nowMs - this.starts[i]! < this.windowMs + width && this.mins[i]! < min) min = this.mins[i]!;
    }
    return min === Infinity ? undefined : min;
  }

  clear(): void {
    this.mins.fill(Infinity);
    this.starts.fill(-Infinity);
    this.head = -1;
  }
}

export interface LipSyncOptions {
  /** Window of the transit minimum. */
  windowMs?: number;
  /** A new estimate is announced when it moved by more than this since the last announcement. */
  thresholdMs?: number;
  /** Sender report mappings older than this are not used (the sender stopped reporting). */
  mappingMaxAgeMs?: number;
}

interface StreamState {
  ssrc: number | undefined;
  clockRate: number;
  transit: WindowedMinimum;
}

export type Medium = 'video' | 'audio';

/** Per-host lip sync estimator: feed it sender reports and RTP arrivals; it says when to re-sync. */
export class LipSyncEstimator {
  private readonly streams: Record<Medium, StreamState>;
  private readonly thresholdMs: number;
  private readonly mappingMaxAgeMs: number;
  private announced: number | undefined;
  /** Latest mapping per SSRC; reports may arrive before their stream's first RTP packet. */
  private readonly mappings = new Map<number, SrMapping>();

  constructor(clockRates: Record<Medium, number>, options: LipSyncOptions = {}) {
    const windowMs = options.windowMs ?? 4000;
    this.thresholdMs = options.thresholdMs ?? 5;
    this.mappingMaxAgeMs = options.mappingMaxAgeMs ?? 15_000;
    const stream = (clockRate: number): StreamState => ({ ssrc: undefined, clockRate, transit: new WindowedMinimum(windowMs) });
    this.streams = { video: stream(clockRates.video), audio: stream(clockRates.audio) };
  }

  /** A sender report arrived (from either port; the SSRC says which stream it belongs to). */
  onSenderReport(ssrc: number, mapping: SrMapping): void {
    this.mappings.delete(ssrc);
    this.mappings.set(ssrc, mapping);
    // keep a few: the current sources plus ones that just changed SSRC
    if (this.mappings.size > 8) this.mappings.delete(this.mappings.keys().next().value as number);
  }

  /** An RTP packet of `medium` arrived at local time `arrivalMs`. Returns a new estimate to announce, if any. */
  onRtp(medium: Medium, ssrc: number, rtpTimestamp: number, arrivalMs: number): number | undefined {
    const s = this.streams[medium];
    if (s.ssrc !== ssrc) {
      // a new source restarts its clock: transits of the old one mean nothing for it
      s.ssrc = ssrc;
      s.transit.clear();
    }
    const mapping = this.mappings.get(ssrc);
    if (!mapping || arrivalMs - mapping.receivedAtMs > this.mappingMaxAgeMs) return undefined;
    s.transit.push(arrivalMs - captureTimeMs(mapping, rtpTimestamp, s.clockRate), arrivalMs);
    const estimate = this.estimate(arrivalMs);
    if (estimate === undefined) return undefined;
    if (this.announced !== undefined && Math.abs(estimate - this.announced) <= this.thresholdMs) return undefined;
    this.announced = estimate;
    return estimate;
  }

  /** audioDelayMs = transit(video) − transit(audio), rounded to whole ms; undefined without both. */
  estimate(nowMs: number): number | undefined {
    const v = this.streams.video.transit.value(nowMs);
    const a = this.streams.audio.transit.value(nowMs);
    if (v === undefined || a === undefined) return undefined;
    return Math.round(v - a);
  }

  get lastAnnounced(): number | undefined {
    return this.announced;
  }
}
