// Extended clips, the pure parts: which snippets a clip is made of and where its gaps are, the cut
// of a precise edge, the clip id, the webhook signature, the message against its schema; and the
// API service's repeat rules with its ports faked.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { planCut } from '../../activities/clips/merge';
import { planClip } from '../../activities/clips/plan';
import { signBody, verifySignature } from '../../activities/clips/webhook';
import type { StoredSnippet } from '../../activities/ship/snippet-listing';
import { clipIdOf } from '../../apps/api/clips/clip-id';
import { ClipsService } from '../../apps/api/clips/clips.service';
import type { ApiConfig } from '../../apps/api/config';
import { createLogger } from '../../apps/common/logger';
import { buildClipMessage } from '../../workflows/clip.message';
import type { ClipErrorCode, ClipRequest, ClipState } from '../../workflows/clip.types';

const T0 = Date.parse('2026-01-31T12:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const snip = (recording: string, sequence: number, from: number, to: number, mp3 = false): StoredSnippet => ({
  recording,
  sequence,
  startTime: iso(from),
  endTime: iso(to),
  uri: `gs://b/livestreams/ls/${recording}/${sequence}.${mp3 ? 'mp3' : 'mp4'}`,
  contentType: mp3 ? 'audio/mpeg' : 'video/mp4',
  sizeBytes: 10,
});
const req = (over: Partial<ClipRequest> = {}): ClipRequest => ({ livestreamId: 'ls', recording: 'composite', start: iso(20), end: iso(50), precise: false, includeAudioOnly: false, ...over });

describe('clip plan from the bucket listing', () => {
  const composite = [0, 1, 2, 3, 4].map((i) => snip('composite', i, i * 15, i * 15 + 15));
  it('takes the snippets overlapping the range, boundaries excluded', () => {
    const p = planClip(composite, req({ start: iso(15), end: iso(45) }));
    assert.deepEqual(p.sources.map((s) => s.sequence), [1, 2]);
    assert.deepEqual(p.gaps, []);
    assert.equal(p.coveredUntil, iso(45));
    assert.deepEqual(planClip(composite, req()).sources.map((s) => s.sequence), [1, 2, 3]);
  });
  it('reports camera-off stretches (MP3) and holes with no media, merged when adjacent', () => {
    const host = [snip('host-a', 0, 0, 15), snip('host-a', 1, 15, 30, true), snip('host-a', 2, 30, 45, true), snip('host-a', 3, 50, 65)];
    const p = planClip([...composite, ...host], req({ recording: 'host-a', start: iso(10), end: iso(70) }));
    assert.deepEqual(p.sources.map((s) => s.sequence), [0, 3]);
    assert.deepEqual(p.gaps, [
      { start: iso(15), end: iso(45), kind: 'camera-off', included: false },
      { start: iso(45), end: iso(50), kind: 'no-media', included: false },
      { start: iso(65), end: iso(70), kind: 'no-media', included: false },
    ]);
    const withAudio = planClip(host, req({ recording: 'host-a', start: iso(10), end: iso(60), includeAudioOnly: true }));
    assert.deepEqual(withAudio.sources.map((s) => s.sequence), [0, 1, 2, 3]);
    assert.equal(withAudio.gaps[0]!.included, true);
  });
  it('tells an unknown recording and livestream apart from an empty range', () => {
    assert.equal(planClip(composite, req({ recording: 'host-x' })).recordingHasSnippets, false);
    assert.equal(planClip([], req()).livestreamHasSnippets, false);
    const empty = planClip(composite, req({ start: iso(100), end: iso(130) }));
    assert.equal(empty.recordingHasSnippets, true);
    assert.deepEqual(empty.sources, []);
    assert.equal(empty.coveredUntil, null);
  });
  it('ignores clock jitter between back-to-back snippets', () => {
    const jittery = [snip('composite', 0, 0, 15), snip('composite', 1, 15.1, 30)];
    assert.deepEqual(planClip(jittery, req({ start: iso(0), end: iso(30) })).gaps, []);
  });
});

describe('precise edge cut', () => {
  const keys = [0, 1, 2, 3, 4, 5];
  const half = 0.5 / 15;
  it('copies between keyframes and re-encodes only the partial GOPs', () => {
    assert.deepEqual(planCut(keys, 6, 1.5, 4.5, half), { reencodeHead: [1.5, 2], copy: [2, 4], reencodeTail: [4, 4.5] });
    assert.deepEqual(planCut(keys, 6, 2, 4, half), { copy: [2, 4] });
    assert.deepEqual(planCut(keys, 6, 0, null, half), { copy: [0, null] });
    assert.deepEqual(planCut(keys, 6, 1.5, null, half), { reencodeHead: [1.5, 2], copy: [2, null] });
    assert.deepEqual(planCut(keys, 6, 0, 2.5, half), { copy: [0, 2], reencodeTail: [2, 2.5] });
  });
  it('re-encodes the whole stretch when no keyframe falls inside it', () => {
    assert.deepEqual(planCut(keys, 6, 1.2, 1.8, half), { reencodeHead: [1.2, 1.8] });
    assert.deepEqual(planCut([0], 6, 1, null, half), { reencodeHead: [1, 6] });
  });
});

describe('clip id', () => {
  const base = { livestreamId: 'ls', recording: 'composite', start: '2026-01-31T12:00:00.000Z', end: '2026-01-31T12:05:00.000Z', precise: false, includeAudioOnly: false };
  it('is the same for the same request in any zone notation, different for any other', () => {
    const id = clipIdOf(base);
    assert.match(id, /^clip-[0-9a-f]{24}$/);
    assert.equal(clipIdOf({ ...base, start: '2026-01-31T14:00:00+02:00' }), id);
    for (const other of [{ precise: true }, { includeAudioOnly: true }, { recording: 'host-a' }, { livestreamId: 'ls2' }, { end: '2026-01-31T12:05:00.001Z' }]) {
      assert.notEqual(clipIdOf({ ...base, ...other }), id, JSON.stringify(other));
    }
  });
});

describe('webhook signature', () => {
  it('is an HMAC-SHA256 of "t.body" that a receiver can check, and refuses tampering and stale times', () => {
    const body = '{"clipId":"clip-1"}';
    const header = signBody('s3cret-s3cret-s3cret', body, 1_800_000_000);
    const mac = createHmac('sha256', 's3cret-s3cret-s3cret').update(`1800000000.${body}`).digest('hex');
    assert.equal(header, `t=1800000000,v1=${mac}`);
    assert.equal(verifySignature('s3cret-s3cret-s3cret', body, header, 1_800_000_010), true);
    assert.equal(verifySignature('s3cret-s3cret-s3cret', `${body} `, header, 1_800_000_010), false);
    assert.equal(verifySignature('other-secret-other', body, header, 1_800_000_010), false);
    assert.equal(verifySignature('s3cret-s3cret-s3cret', body, header, 1_800_001_000), false);
    assert.equal(verifySignature('s3cret-s3cret-s3cret', body, 'v1=abc', 1_800_000_010), false);
  });
});

describe('tapedeck.clip.v1 message', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'schemas', 'tapedeck.clip.v1.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
  const state = (over: Partial<ClipState>): ClipState => ({
    clipId: 'clip-0123456789abcdef01234567',
    status: 'ready',
    request: req({ recording: 'host-alice', reason: 'low score' }),
    createdAt: iso(0),
    snippets: [{ uri: 'gs://b/livestreams/ls/host-alice/000001_x.mp4', sequence: 1, startTime: iso(15), endTime: iso(30), contentType: 'video/mp4', sizeBytes: 5 }],
    gaps: [{ start: iso(30), end: iso(45), kind: 'camera-off', included: false }],
    notifications: { pubsub: { published: false }, webhook: { configured: false, delivered: false, attempts: [] } },
    ...over,
  });
  it('validates when ready and when failed, and the schema refuses what is inconsistent', () => {
    const ready = buildClipMessage(state({ uri: 'gs://tapedeck-local/clips/clip-0123456789abcdef01234567.mp4', durationMs: 15000, sizeBytes: 10, md5: 'AAAAAAAAAAAAAAAAAAAAAA==' }), iso(60));
    assert.ok(validate(ready), JSON.stringify(validate.errors));
    assert.equal(ready.hostId, 'alice');
    const failed = buildClipMessage(state({ status: 'failed', error: { code: 'no_snippets_in_range', message: 'none' } }), iso(60));
    assert.ok(validate(failed), JSON.stringify(validate.errors));
    assert.equal(validate({ ...failed, error: undefined }), false, 'a failed message needs its error');
    assert.equal(validate({ ...ready, uri: undefined }), false, 'a ready message needs its uri');
    assert.equal(validate({ ...ready, colour: 'red' }), false, 'no unknown fields');
  });
});

describe('clip requests in the API service (ports faked)', () => {
  const config = { clipMaxSeconds: 7200, clipWaitSeconds: 120, clipUrlTtlSeconds: 3600, clipsTaskQueue: 'q', bucket: 'b' } as ApiConfig;
  const listing = [0, 1, 2].map((i) => snip('composite', i, i * 15, i * 15 + 15));
  const body = { livestreamId: 'ls', recording: 'composite' as const, start: iso(20), end: iso(40) };
  function service(previous: ClipState | null) {
    const starts: boolean[] = [];
    const clips = {
      async start(_input: unknown, again = false) {
        starts.push(again);
        return { workflowId: 'clip/x', existed: previous !== null && !again };
      },
      async get() {
        return previous;
      },
      async livestream() {
        return null;
      },
    };
    const snippets = { list: async () => listing };
    const svc = new ClipsService(clips as never, {} as never, snippets as never, createLogger('t', 'silent'), config);
    return { svc, starts };
  }
  const failed = (code: ClipErrorCode): ClipState => ({
    clipId: 'clip-x', status: 'failed', request: req(), createdAt: iso(0), snippets: [], gaps: [], error: { code, message: 'x' },
    notifications: { pubsub: { published: true }, webhook: { configured: false, delivered: false, attempts: [] } },
  });

  it('starts a clip once; a repeat finds it', async () => {
    const first = service(null);
    assert.equal((await first.svc.request(body, T0 + 3600_000)).created, true);
    assert.deepEqual(first.starts, [false]);
    const repeat = service(failed('no_snippets_in_range'));
    const r = await repeat.svc.request(body, T0 + 3600_000);
    assert.equal(r.created, false);
    assert.equal(r.status, 'failed');
    assert.deepEqual(repeat.starts, [false], 'a clip that failed for good is not started again');
  });
  it('starts a clip again when it failed because storage was unavailable', async () => {
    const s = service(failed('storage_unavailable'));
    const r = await s.svc.request(body, T0 + 3600_000);
    assert.deepEqual(s.starts, [false, true]);
    assert.equal(r.created, true);
    assert.equal(r.status, 'waiting');
  });
});
