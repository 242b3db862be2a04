// The moderator's handling around the model, with the cloud faked (unit test): what is saved and
// published, the clip request and its margin, a duplicate snippet, and which failures are retried.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { createLogger } from '../../apps/common/logger';
import { Moderator } from '../../apps/moderator/moderator';
import { flaggedObjectName, scoreObjectName } from '../../apps/common/score-message';
import type { Measurements } from '../../apps/moderator/analyse';
import type { SnippetMessageV1 } from '../../activities/ship/message';

class FakeCloud {
  readonly objects = new Map<string, string>();
  readonly published: Array<{ topic: string; json: any; attributes: Record<string, string> }> = [];
  missing = new Set<string>();

  storage(): Storage {
    return {
      bucket: (bucket: string) => ({
        file: (name: string) => ({
          exists: async () => [this.objects.has(`${bucket}/${name}`)],
          download: async ({ destination }: { destination: string }) => {
            if (this.missing.has(name)) throw Object.assign(new Error('No such object'), { code: 404 });
            writeFileSync(destination, 'media');
          },
          save: async (body: string) => {
            this.objects.set(`${bucket}/${name}`, body);
          },
        }),
      }),
    } as unknown as Storage;
  }

  pubsub(): PubSub {
    return {
      topic: (topic: string) => ({
        publishMessage: async (m: { json: unknown; attributes: Record<string, string> }) => {
          this.published.push({ topic, json: m.json, attributes: m.attributes });
          return 'id';
        },
      }),
    } as unknown as PubSub;
  }
}

const frame = (v: number) => new Uint8Array(64 * 36).fill(v);
const GOOD: Measurements = { audio: [{ rmsDb: -20, peakDb: -6, durationMs: 1000 }], video: { width: 64, height: 36, frames: Array.from({ length: 30 }, (_, i) => frame(i * 4)) } };
const FROZEN: Measurements = { audio: [{ rmsDb: -Infinity, peakDb: -Infinity, durationMs: 1000 }], video: { width: 64, height: 36, frames: Array.from({ length: 30 }, () => frame(90)) } };

let n = 0;
function snippet(hostId: string | undefined): SnippetMessageV1 {
  n++;
  return {
    schema: 'tapedeck.snippet.v1',
    snippetId: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`,
    livestreamId: 'ls-1',
    recordingId: hostId ? `host-${hostId}` : 'composite',
    kind: hostId ? 'individual' : 'composite',
    ...(hostId ? { hostId } : {}),
    variant: 'av',
    sequence: n,
    startTime: '2026-01-31T12:00:00.000Z',
    endTime: '2026-01-31T12:00:15.000Z',
    durationMs: 15000,
    uri: `gs://b/livestreams/ls-1/x/${n}.mp4`,
    sizeBytes: 100,
    md5: 'AAAAAAAAAAAAAAAAAAAAAA==',
    contentType: 'video/mp4',
    video: { codec: 'H264', width: 640, height: 360, fps: 15 },
    audio: { codec: 'AAC', sampleRate: 48000, channels: 1 },
    hosts: hostId ? [hostId] : [],
  };
}

describe('moderator service', () => {
  let server: Server;
  const requests: any[] = [];
  let answer: { status: number; body: unknown } = { status: 202, body: { clipId: 'clip-1' } };
  let url = '';
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push({ path: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const make = (cloud: FakeCloud, measured: Measurements) =>
    new Moderator({
      storage: cloud.storage(),
      pubsub: cloud.pubsub(),
      bucket: 'b',
      subscription: 's',
      threshold: 0.5,
      clipMarginSeconds: 10,
      analysisTimeoutMs: 1000,
      concurrency: 1,
      api: { url, token: 'mod-token-0123456789abcdef' },
      logger: createLogger('test', 'silent'),
      analyse: async () => measured,
    });
  const log = createLogger('test', 'silent');

  it('a good snippet: one score published and kept, no clip; the same snippet again is a duplicate', async () => {
    const cloud = new FakeCloud();
    const m = make(cloud, GOOD);
    const s = snippet(undefined);
    requests.length = 0;
    assert.equal(await m.process(s, log), true);
    assert.equal(cloud.published.length, 1);
    assert.equal(cloud.published[0]!.topic, 'snippet-scores');
    assert.deepEqual(cloud.published[0]!.attributes, { schema: 'tapedeck.score.v1', snippetId: s.snippetId, livestreamId: 'ls-1', flagged: 'false' });
    assert.ok(cloud.objects.has(`b/${scoreObjectName(s)}`));
    assert.ok(!cloud.objects.has(`b/${flaggedObjectName(s)}`));
    assert.equal(requests.length, 0);
    assert.equal(await m.process(s, log), false, 'already scored');
    assert.equal(cloud.published.length, 1);
  });

  it('a flagged snippet asks for a clip around it with the margin and keeps the clip id', async () => {
    const cloud = new FakeCloud();
    const s = snippet('ben');
    requests.length = 0;
    answer = { status: 202, body: { clipId: 'clip-7' } };
    await make(cloud, FROZEN).process(s, log);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].path, '/v1/clips');
    assert.equal(requests[0].auth, 'Bearer mod-token-0123456789abcdef');
    assert.deepEqual(
      { ...requests[0].body, reason: undefined },
      { livestreamId: 'ls-1', recording: { hostId: 'ben' }, start: '2026-01-31T11:59:50.000Z', end: '2026-01-31T12:00:25.000Z', requestedBy: 'moderator', reason: undefined },
    );
    assert.match(requests[0].body.reason, /^score 0: silent/);
    const saved = JSON.parse(cloud.objects.get(`b/${flaggedObjectName(s)}`)!);
    assert.equal(saved.clip.clipId, 'clip-7');
    assert.equal(cloud.published[0]!.json.clip.clipId, 'clip-7');
  });

  it('the API refusing (4xx) is recorded; the API failing (5xx) is retried with nothing kept', async () => {
    const refused = new FakeCloud();
    answer = { status: 404, body: { error: { code: 'livestream_not_found', message: 'no livestream ls-1' } } };
    const s = snippet('ben');
    await make(refused, FROZEN).process(s, log);
    assert.match(JSON.parse(refused.objects.get(`b/${flaggedObjectName(s)}`)!).clip.error, /HTTP 404: no livestream ls-1/);

    const failing = new FakeCloud();
    answer = { status: 503, body: { error: { code: 'temporal_unavailable', message: 'down' } } };
    await assert.rejects(make(failing, FROZEN).process(snippet('ben'), log), /clip request: HTTP 503/);
    assert.equal(failing.objects.size, 0);
    assert.equal(failing.published.length, 0);
  });

  it('a snippet missing from the bucket is an error, not a retry', async () => {
    const cloud = new FakeCloud();
    const s = snippet(undefined);
    cloud.missing.add(s.uri.replace('gs://b/', ''));
    await assert.rejects(make(cloud, GOOD).process(s, log), (e: Error) => /is not in the bucket/.test(e.message) && e.constructor.name === 'Error');
  });
});
