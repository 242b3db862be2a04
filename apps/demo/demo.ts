// The demo livestream: what `npm start` runs once the stack is up, and what the full-path test
// drives. It plays the livestream service (HTTP calls to the API) and the SFU (the mock SFU's RTP),
// follows a script of hosts joining, cameras going off and on, layout changes and a deliberately
// bad host, and reports progress as it happens from what the system itself publishes:
// `recording-snippets` (snippets per recording, shipping latency), `snippet-scores` (flagged
// snippets) and `extended-clips` (clips ready), each read through a subscription of its own
// that is deleted at the end.
import { randomBytes } from 'node:crypto';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { TOPICS } from '../common/resources';
import { MockSfu, type MockHostSpec } from '../mock-sfu/sender';
import { hostColour, type MockVideoCodec } from '../mock-sfu/media';
import type { ScoreMessageV1 } from '../common/score-message';
import type { SnippetMessageV1 } from '../../activities/ship/message';

/** What the demo reads of a tapedeck.clip.v1 message. */
export interface ClipSeen {
  clipId: string;
  livestreamId: string;
  status: string;
  durationMs?: number;
  uri?: string;
  error?: unknown;
}

interface Ingest {
  address: string;
  video: { port: number; payloadType: number };
  audio: { port: number; payloadType: number };
}

export interface DemoHost {
  hostId: string;
  displayName: string;
  codec: MockVideoCodec;
  /** Seconds after the start at which the host joins (0: with the start). */
  joinAt: number;
  frozen?: boolean;
  silent?: boolean;
}

export type DemoStep =
  | { at: number; do: 'camera'; hostId: string; on: boolean }
  | { at: number; do: 'layout'; layout: 'grid' | 'spotlight' | 'active-speaker'; spotlightHostId?: string }
  | { at: number; do: 'bad'; hostId: string; on: boolean };

export interface DemoScript {
  hosts: DemoHost[];
  steps: DemoStep[];
  durationS: number;
}

export interface DemoOptions {
  apiUrl: string;
  /** Token of the livestream-service role. */
  serviceToken: string;
  pubsub: PubSub;
  script: DemoScript;
  livestreamId?: string;
  /** One progress line (no newline); works the same on a terminal or a pipe. */
  say: (line: string) => void;
  /** How often a summary line is printed, ms (0: never). */
  summaryEveryMs?: number;
  /** How long to keep listening for scores and clips after the livestream stopped, ms. */
  lingerMs?: number;
  /** Ends the lingering early once it holds. */
  until?: (result: DemoResult) => boolean;
  /** Where to look, printed once at the start. */
  links?: string[];
  signal?: AbortSignal;
}

export interface SnippetSeen {
  snippetId: string;
  recordingId: string;
  hostId?: string;
  sequence: number;
  startTime: string;
  endTime: string;
  latencyMs: number;
}

export interface DemoResult {
  livestreamId: string;
  snippets: SnippetSeen[];
  scores: ScoreMessageV1[];
  clips: ClipSeen[];
  stopped: boolean;
}

const CODECS: MockVideoCodec[] = ['H264', 'VP8', 'VP8', 'VP8'];
const NAMES = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jun', 'Kai', 'Lea'];

/**
 * The default demo: `hosts - 1` hosts from the start (the first H.264, the rest VP8), the last
 * joins a third of the way in; the second host's camera goes off and back on; the layout moves to
 * a spotlight and back; the third host (or the last) freezes with a silent microphone between 45%
 * and 70% of the time, which the moderator should flag.
 */
export function defaultScript(hosts: number, durationS: number): DemoScript {
  if (hosts < 2) throw new Error('--hosts: the demo needs at least 2 hosts');
  const d = durationS;
  const list: DemoHost[] = Array.from({ length: hosts }, (_, i) => ({
    hostId: NAMES[i % NAMES.length]!.toLowerCase() + (i >= NAMES.length ? String(i) : ''),
    displayName: NAMES[i % NAMES.length]!,
    codec: CODECS[i % CODECS.length]!,
    joinAt: i === hosts - 1 ? Math.round(d * 0.3) : 0,
  }));
  const second = list[1]!.hostId;
  const bad = list[Math.min(2, hosts - 1)]!.hostId;
  const steps: DemoStep[] = [
    { at: Math.round(d * 0.15), do: 'camera', hostId: second, on: false },
    { at: Math.round(d * 0.25), do: 'camera', hostId: second, on: true },
    { at: Math.round(d * 0.4), do: 'layout', layout: 'spotlight', spotlightHostId: list[0]!.hostId },
    { at: Math.round(d * 0.45), do: 'bad', hostId: bad, on: true },
    { at: Math.round(d * 0.7), do: 'bad', hostId: bad, on: false },
    { at: Math.round(d * 0.8), do: 'layout', layout: 'grid' },
  ];
  return { hosts: list, steps, durationS: d };
}

export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(raw.trim());
  if (!m) throw new Error(`--duration: "${raw}" is not a duration like 90s, 5m or 1h`);
  const n = Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h']);
  if (n < 10 || n > 24 * 3600) throw new Error('--duration must be from 10s to 24h');
  return n;
}

/** Resolves after `ms` or on abort; the abort listener goes with the timer, so a long demo does not pile them up. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

class ApiClient {
  constructor(private readonly url: string, private readonly token: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as T & { error?: { code?: string; message?: string } };
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${json.error?.code ?? ''} ${json.error?.message ?? text.slice(0, 200)}`);
    return json;
  }
}

export class Demo {
  private readonly api: ApiClient;
  private readonly subs: Subscription[] = [];
  private readonly senders = new Map<string, MockSfu>();
  private readonly result: DemoResult;
  private readonly t0 = Date.now();
  private readonly colours = new Map<string, string>();
  /** When the first host's media time 0 left: every host's beep gets its own slot of the second. */
  private beepEpoch: number | undefined;

  constructor(private readonly o: DemoOptions) {
    this.api = new ApiClient(o.apiUrl, o.serviceToken);
    const id = o.livestreamId ?? `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;
    this.result = { livestreamId: id, snippets: [], scores: [], clips: [], stopped: false };
    o.script.hosts.forEach((h, i) => this.colours.set(h.hostId, hostColour(i)));
  }

  get livestreamId(): string {
    return this.result.livestreamId;
  }

  private say(line: string): void {
    const s = Math.floor((Date.now() - this.t0) / 1000);
    this.o.say(`+${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} ${line}`);
  }

  async run(): Promise<DemoResult> {
    const { script } = this.o;
    const id = this.livestreamId;
    let summary: NodeJS.Timeout | undefined;
    try {
      await this.listen();
      const first = script.hosts.filter((h) => h.joinAt === 0);
      const started = await this.api.call<{ hosts: Array<{ hostId: string; ingest: Ingest }> }>('POST', '/v1/livestreams', {
        livestreamId: id,
        hosts: first.map((h) => this.hostSpec(h)),
        composite: { layout: 'grid' },
        individual: true,
      });
      this.say(`livestream ${id} started: ${first.map((h) => `${h.hostId} (${h.codec}${h.frozen || h.silent ? ', deliberately bad' : ''})`).join(', ')}; composite + individual recordings`);
      for (const link of this.o.links ?? []) this.o.say(`  ${link}`);
      for (const h of first) {
        const ingest = started.hosts.find((x) => x.hostId === h.hostId)?.ingest;
        if (!ingest) throw new Error(`the API returned no ingest endpoints for ${h.hostId}`);
        await this.send(h, ingest);
      }
      if (this.o.summaryEveryMs) summary = setInterval(() => this.summary(), this.o.summaryEveryMs);

      const timeline = [
        ...script.hosts.filter((h) => h.joinAt > 0).map((h) => ({ at: h.joinAt, run: () => this.join(h) })),
        ...script.steps.map((s) => ({ at: s.at, run: () => this.step(s) })),
      ].sort((a, b) => a.at - b.at);
      for (const e of timeline) {
        await sleep(this.t0 + e.at * 1000 - Date.now(), this.o.signal);
        if (this.o.signal?.aborted) break;
        await e.run().catch((err: Error) => this.say(`step failed: ${err.message}`));
      }
      await sleep(this.t0 + script.durationS * 1000 - Date.now(), this.o.signal);
      await this.stop();
      const lingerEnd = Date.now() + (this.o.lingerMs ?? 0);
      while (Date.now() < lingerEnd && !this.o.signal?.aborted && !this.o.until?.(this.result)) await sleep(Math.min(500, lingerEnd - Date.now()), this.o.signal);
      return this.result;
    } finally {
      if (summary) clearInterval(summary);
      this.summary();
      await this.close();
    }
  }

  private hostSpec(h: DemoHost) {
    return { hostId: h.hostId, displayName: h.displayName, video: { codec: h.codec, payloadType: h.codec === 'VP8' ? 96 : 102 }, audio: { codec: 'OPUS', payloadType: 111 } };
  }

  /** One mock SFU per host, so hosts can join at any time. */
  private async send(h: DemoHost, ingest: Ingest): Promise<void> {
    const spec: MockHostSpec = {
      hostId: h.hostId,
      displayName: h.displayName,
      address: ingest.address,
      video: { port: ingest.video.port, payloadType: ingest.video.payloadType, codec: h.codec },
      audio: { port: ingest.audio.port, payloadType: ingest.audio.payloadType },
      colour: this.colours.get(h.hostId)!,
      ...(h.frozen ? { frozen: true } : {}),
      ...(h.silent ? { silent: true } : {}),
    };
    const sfu = await MockSfu.create({ hosts: [spec], width: 640, height: 360, fps: 30, rtcp: 'next-port' });
    this.senders.set(h.hostId, sfu);
    // The test pattern beeps (at half scale) on every whole second of each sender's clock. Senders
    // started together would beep together, and the composite's mix of three or more such beeps
    // clips (audiomixer sums without a limiter), which the scorer rightly flags. Real hosts do
    // not speak in lockstep, so each host starts in its own slot of the second.
    const slot = (1000 / this.o.script.hosts.length) * this.o.script.hosts.indexOf(h);
    if (this.beepEpoch === undefined) this.beepEpoch = Date.now();
    else await sleep((((slot - (Date.now() - this.beepEpoch)) % 1000) + 1000) % 1000);
    sfu.start();
  }

  private async join(h: DemoHost): Promise<void> {
    const joined = await this.api.call<{ ingest: Ingest }>('POST', `/v1/livestreams/${this.livestreamId}/hosts`, this.hostSpec(h));
    await this.send(h, joined.ingest);
    this.say(`${h.hostId} joined (${h.codec})`);
  }

  private async step(s: DemoStep): Promise<void> {
    const id = this.livestreamId;
    if (s.do === 'camera') {
      await this.api.call('PUT', `/v1/livestreams/${id}/hosts/${s.hostId}/camera`, { on: s.on });
      this.senders.get(s.hostId)?.camera(s.hostId, s.on);
      this.say(`${s.hostId} camera ${s.on ? 'on' : 'off'}`);
    } else if (s.do === 'layout') {
      await this.api.call('PUT', `/v1/livestreams/${id}/layout`, { layout: s.layout, ...(s.spotlightHostId ? { spotlightHostId: s.spotlightHostId } : {}) });
      this.say(`layout ${s.layout}${s.spotlightHostId ? ` on ${s.spotlightHostId}` : ''}`);
    } else {
      const sfu = this.senders.get(s.hostId);
      sfu?.freeze(s.hostId, s.on);
      sfu?.silence(s.hostId, s.on);
      this.say(s.on ? `${s.hostId}: picture frozen, microphone silent (deliberately bad, for the moderator)` : `${s.hostId}: picture and sound back`);
    }
  }

  private async stop(): Promise<void> {
    const id = this.livestreamId;
    await this.api.call('DELETE', `/v1/livestreams/${id}?reason=demo-over`);
    this.say('stopping: finalizing every recording and shipping the last snippets');
    // interrupted (Ctrl-C), wait less: the stack is about to stop under it
    const interrupted = this.o.signal?.aborted ?? false;
    const deadline = Date.now() + (interrupted ? 15_000 : 90_000);
    while (Date.now() < deadline) {
      const s = await this.api.call<{ phase: string; snippetsShipped: number }>('GET', `/v1/livestreams/${id}`).catch(() => undefined);
      if (s?.phase === 'stopped') {
        this.result.stopped = true;
        this.say(`livestream stopped: ${s.snippetsShipped} snippets in the bucket`);
        break;
      }
      await sleep(1000);
    }
    if (!this.result.stopped) this.say(`livestream did not report stopped within ${interrupted ? 15 : 90} s (see the Temporal UI)`);
    for (const sfu of this.senders.values()) await sfu.stop();
    this.senders.clear();
  }

  private async listen(): Promise<void> {
    const suffix = `${this.livestreamId}-${randomBytes(3).toString('hex')}`.slice(0, 200);
    const on = async <T extends { livestreamId: string }>(topic: string, handle: (body: T, m: Message) => void) => {
      const [sub] = await this.o.pubsub.topic(topic).createSubscription(`tapedeck-demo-${topic}-${suffix}`, { ackDeadlineSeconds: 30 });
      sub.on('message', (m: Message) => {
        m.ack();
        try {
          handle(JSON.parse(m.data.toString()) as T, m);
        } catch {
          // not JSON: not ours to report
        }
      });
      sub.on('error', () => undefined);
      this.subs.push(sub);
    };
    await on<SnippetMessageV1>(TOPICS.snippets, (b, m) => {
      if (b.livestreamId !== this.livestreamId || this.result.snippets.some((s) => s.snippetId === b.snippetId)) return;
      const latencyMs = m.publishTime.getTime() - Date.parse(b.endTime);
      this.result.snippets.push({ snippetId: b.snippetId, recordingId: b.recordingId, hostId: b.hostId, sequence: b.sequence, startTime: b.startTime, endTime: b.endTime, latencyMs });
      this.say(`snippet ${b.recordingId} #${b.sequence} shipped (${(b.durationMs / 1000).toFixed(1)} s, ${Math.round(b.sizeBytes / 1024)} KiB, ${latencyMs} ms after its end)`);
    });
    await on<ScoreMessageV1>(TOPICS.scores, (b) => {
      if (b.livestreamId !== this.livestreamId || this.result.scores.some((s) => s.snippetId === b.snippetId)) return;
      this.result.scores.push(b);
      if (!b.flagged) return;
      const clip = b.clip?.clipId ? `clip ${b.clip.clipId} requested` : `no clip (${b.clip?.error ?? 'not requested'})`;
      this.say(`FLAGGED ${b.recordingId} #${b.sequence}: score ${b.score} (${b.reasons.join('; ')}) → ${clip}`);
    });
    await on<ClipSeen>(TOPICS.clips, (b) => {
      if (b.livestreamId !== this.livestreamId) return;
      this.result.clips.push(b);
      this.say(`clip ${b.clipId} ${b.status}${b.durationMs ? ` (${(b.durationMs / 1000).toFixed(1)} s)` : ''}${b.uri ? ` ${b.uri}` : ''}${b.error ? `: ${JSON.stringify(b.error)}` : ''}`);
    });
  }

  private summary(): void {
    const per = new Map<string, number>();
    for (const s of this.result.snippets) per.set(s.recordingId, (per.get(s.recordingId) ?? 0) + 1);
    const lat = this.result.snippets.map((s) => s.latencyMs);
    const flagged = this.result.scores.filter((s) => s.flagged).length;
    const ready = this.result.clips.filter((c) => c.status === 'ready').length;
    this.say(
      `summary: hosts sending ${this.senders.size} · snippets ${[...per].map(([r, n]) => `${r} ${n}`).join(', ') || 'none yet'}` +
        ` · latency p50 ${Number.isNaN(percentile(lat, 50)) ? '-' : `${percentile(lat, 50)} ms`} p95 ${Number.isNaN(percentile(lat, 95)) ? '-' : `${percentile(lat, 95)} ms`}` +
        ` · scored ${this.result.scores.length}, flagged ${flagged} · clips ready ${ready}`,
    );
  }

  private async close(): Promise<void> {
    for (const sfu of this.senders.values()) await sfu.stop().catch(() => undefined);
    this.senders.clear();
    for (const sub of this.subs) {
      await sub.close().catch(() => undefined);
      await sub.delete().catch(() => undefined);
    }
    this.subs.length = 0;
  }
}
