// The RTMP sender's parts without GStreamer: AMF0, the chunk stream, the FLV reader, the feed's
// pipe, and the publisher against an RTMP server written here on loopback (nginx-rtmp is the real
// one in the live-output integration tests).
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../pipelines/outputs/amf0';
import { FLV_AUDIO, FLV_SCRIPT, FLV_VIDEO, FlvReader, isKeyframe, sequenceHeaderOf, type FlvTag } from '../../pipelines/outputs/flv';
import { FEED_POLL_MS, FlvFeed } from '../../pipelines/outputs/flv-feed';
import { ChunkReader, encodeMessage, MSG_AUDIO, MSG_COMMAND_AMF0, MSG_DATA_AMF0, MSG_VIDEO, setChunkSizeMessage, type RtmpMessage } from '../../pipelines/outputs/rtmp-chunks';
import { OUT_CHUNK_SIZE, RtmpPublisher, type StreamHeaders } from '../../pipelines/outputs/rtmp-publisher';

test('AMF0: what a publisher sends and a server answers decodes to the same values', () => {
  const values: Amf0Value[] = ['connect', 1, { app: 'live', nested: { n: -2.5, ok: true }, none: null }, null, [1, 'two', false], 'x'.repeat(70_000)];
  assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
  // An ECMA array (onMetaData) reads as an object.
  const ecma = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 1, 0, 5]), Buffer.from('width'), encodeAmf0(640), Buffer.from([0, 0, 9])]);
  assert.deepEqual(decodeAmf0(ecma), [{ width: 640 }]);
  assert.throws(() => decodeAmf0(encodeAmf0('connect').subarray(0, 4)), /past the end/);
  assert.throws(() => decodeAmf0(Buffer.from([0x42])), /unknown AMF0 marker/);
});

/** Feeds bytes to a reader in pieces of `step` bytes. */
function inPieces<T>(bytes: Buffer, step: number, push: (b: Buffer) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...push(bytes.subarray(i, i + step)));
  return out;
}

test('chunk stream: messages cut at the chunk size come back whole, across pieces, a chunk size change and extended timestamps', () => {
  const big = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const messages: RtmpMessage[] = [
    { csid: 6, type: MSG_VIDEO, streamId: 1, timestamp: 40, payload: big },
    { csid: 5, type: MSG_AUDIO, streamId: 1, timestamp: 0x1234567, payload: Buffer.from('aac frame') },
    { csid: 3, type: MSG_COMMAND_AMF0, streamId: 0, timestamp: 0, payload: Buffer.alloc(0) },
  ];
  const wire = Buffer.concat([encodeMessage(setChunkSizeMessage(4096), 128), ...messages.map((m) => encodeMessage(m, 4096))]);
  for (const step of [1, 7, 4096, wire.length]) {
    const r = new ChunkReader();
    const got = inPieces(wire, step, (b) => r.push(b)).slice(1);
    assert.deepEqual(
      got.map((m) => ({ ...m, payload: m.payload.toString('hex') })),
      messages.map((m) => ({ ...m, payload: m.payload.toString('hex') })),
      `pieces of ${step}`,
    );
  }
  // 10 000 bytes in 4096-byte chunks: a type-0 header and two type-3 continuations.
  assert.equal(encodeMessage(messages[0]!, 4096).length, 1 + 11 + 10_000 + 2);
  assert.equal(encodeMessage(messages[1]!, 4096).subarray(1, 4).toString('hex'), 'ffffff', 'an extended timestamp is flagged');
});

test('chunk stream: type-1, type-2 and type-3 headers take their length, type and timestamp deltas from the chunk stream', () => {
  const type0 = Buffer.from([0x05, 0, 0, 10, 0, 0, 2, 8, 1, 0, 0, 0, 0xaa, 0xbb]);
  const type1 = Buffer.from([0x45, 0, 0, 20, 0, 0, 1, 8, 0xcc]);
  const type2 = Buffer.from([0x85, 0, 0, 30, 0xdd]);
  const type3 = Buffer.from([0xc5, 0xee]);
  const got = new ChunkReader().push(Buffer.concat([type0, type1, type2, type3]));
  assert.deepEqual(
    got.map((m) => [m.csid, m.type, m.streamId, m.timestamp, m.payload.toString('hex')]),
    [
      [5, 8, 1, 10, 'aabb'],
      [5, 8, 1, 30, 'cc'],
      [5, 8, 1, 60, 'dd'],
      [5, 8, 1, 90, 'ee'],
    ],
  );
  assert.throws(() => new ChunkReader().push(type2), /before any type-0 chunk/);
});

function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(data.length, 1, 3);
  h.writeUIntBE(timestamp & 0xffffff, 4, 3);
  h[7] = (timestamp >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + data.length);
  return Buffer.concat([h, data, prev]);
}
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
const META = encodeAmf0('onMetaData', { width: 640, height: 360 });
const AVC_CONFIG = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64]);
const AAC_CONFIG = Buffer.from([0xaf, 0, 0x12, 0x10]);
const keyframe = (n: number) => Buffer.from([0x17, 1, 0, 0, 0, n]);
const interframe = (n: number) => Buffer.from([0x27, 1, 0, 0, 0, n]);
const aacFrame = (n: number) => Buffer.from([0xaf, 1, n]);

test('FLV reader: tags from bytes in any pieces, with 32-bit timestamps; keyframes and codec configurations recognised', () => {
  const bytes = Buffer.concat([
    FLV_HEADER,
    flvTag(FLV_SCRIPT, 0, META),
    flvTag(FLV_VIDEO, 0, AVC_CONFIG),
    flvTag(FLV_AUDIO, 0, AAC_CONFIG),
    flvTag(FLV_VIDEO, 0x01000010, keyframe(1)),
    flvTag(FLV_AUDIO, 0x01000020, aacFrame(2)),
  ]);
  for (const step of [1, 5, bytes.length]) {
    const r = new FlvReader();
    const tags = inPieces(bytes, step, (b) => r.push(b));
    assert.deepEqual(
      tags.map((t) => [t.type, t.timestamp, t.data.length]),
      [
        [FLV_SCRIPT, 0, META.length],
        [FLV_VIDEO, 0, AVC_CONFIG.length],
        [FLV_AUDIO, 0, AAC_CONFIG.length],
        [FLV_VIDEO, 0x01000010, 6],
        [FLV_AUDIO, 0x01000020, 3],
      ],
      `pieces of ${step}`,
    );
    assert.deepEqual(tags.map(sequenceHeaderOf), [null, 'video', 'audio', null, null]);
    assert.deepEqual(tags.map(isKeyframe), [false, false, false, true, false], 'the AVC configuration carries the keyframe flag but is not a frame');
  }
  assert.throws(() => new FlvReader().push(Buffer.alloc(20)), /FLV header/);
});

test('FLV feed: what is written into its pipe reaches every listener as tags, with the latest stream headers', () => {
  const feed = FlvFeed.open(() => undefined);
  try {
    const seen: Array<[number, number, StreamHeaders]> = [];
    const batches: number[] = [];
    const stop = feed.subscribe((tags, headers) => {
      batches.push(tags.length);
      for (const tag of tags) seen.push([tag.type, tag.timestamp, { ...headers }]);
    });
    writeSync(feed.writeFd, Buffer.concat([FLV_HEADER, flvTag(FLV_SCRIPT, 0, META), flvTag(FLV_VIDEO, 0, AVC_CONFIG), flvTag(FLV_AUDIO, 0, AAC_CONFIG)]));
    feed.drain();
    writeSync(feed.writeFd, flvTag(FLV_VIDEO, 66, keyframe(1)));
    feed.drain();
    assert.deepEqual(
      seen.map(([type, ts]) => [type, ts]),
      [
        [FLV_SCRIPT, 0],
        [FLV_VIDEO, 0],
        [FLV_AUDIO, 0],
        [FLV_VIDEO, 66],
      ],
    );
    assert.deepEqual(batches, [3, 1], 'the tags of one poll come together');
    const last = seen.at(-1)![2];
    assert.ok(last.metadata && last.video && last.audio, 'the stream headers are kept for destinations that join later');
    stop();
    writeSync(feed.writeFd, flvTag(FLV_AUDIO, 80, aacFrame(1)));
    feed.drain();
    assert.equal(seen.length, 4, 'an unsubscribed listener gets nothing more');
    assert.equal(feed.bytes > 0, true);
  } finally {
    feed.close();
  }
});

test('FLV feed: a poll that found the pipe busy comes again within milliseconds, not a whole poll later', async () => {
  const feed = FlvFeed.open(() => undefined);
  try {
    let got = 0;
    feed.subscribe((tags) => (got += tags.length));
    const frame = Buffer.alloc(20_000, 1);
    frame[0] = 0x27;
    writeSync(feed.writeFd, Buffer.concat([FLV_HEADER, flvTag(FLV_VIDEO, 0, frame), flvTag(FLV_VIDEO, 66, frame)]));
    feed.drain();
    assert.equal(got, 2);
    writeSync(feed.writeFd, flvTag(FLV_VIDEO, 133, frame));
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(got, 3, `read again well before the ${FEED_POLL_MS}-ms poll`);
  } finally {
    feed.close();
  }
});

/** A small RTMP server: handshake, answers to connect/createStream/publish, and what the client sent. */
interface FakeServer {
  server: Server;
  port: number;
  commands: Amf0Value[][];
  media: RtmpMessage[];
  ended: boolean;
  sockets: Socket[];
}

async function fakeServer(behaviour: { refusePublish?: boolean; silent?: boolean; stopReading?: boolean } = {}): Promise<FakeServer> {
  const state: Omit<FakeServer, 'server' | 'port'> = { commands: [], media: [], ended: false, sockets: [] };
  const server = createServer((socket) => {
    state.sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('end', () => {
      state.ended = true;
      socket.end();
    });
    if (behaviour.silent) return;
    let hs = Buffer.alloc(0);
    let done = false;
    const reader = new ChunkReader();
    const send = (m: RtmpMessage) => socket.write(encodeMessage(m, 128));
    const reply = (streamId: number, ...values: Amf0Value[]) => send({ csid: 3, type: MSG_COMMAND_AMF0, streamId, timestamp: 0, payload: encodeAmf0(...values) });
    socket.on('data', (d: Buffer) => {
      let rest = d;
      if (!done) {
        hs = Buffer.concat([hs, d]);
        if (hs.length < 1 + 1536) return;
        if (hs.length === 1 + 1536 || hs.length < 1 + 1536 * 2) {
          if (!socket.writableLength && hs.length === 1 + 1536) socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 1), hs.subarray(1, 1537)]));
          if (hs.length < 1 + 1536 * 2) return;
        }
        done = true;
        rest = hs.subarray(1 + 1536 * 2);
      }
      for (const m of reader.push(rest)) {
        if (m.type === MSG_COMMAND_AMF0) {
          const v = decodeAmf0(m.payload);
          state.commands.push(v);
          if (v[0] === 'connect') reply(0, '_result', 1, { fmsVer: 'test' }, { code: 'NetConnection.Connect.Success' });
          if (v[0] === 'createStream') reply(0, '_result', v[1]!, null, 1);
          if (v[0] === 'publish') {
            if (behaviour.refusePublish) reply(1, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'Already publishing' });
            else reply(1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' });
            if (behaviour.stopReading) socket.pause();
          }
        } else if (m.type === MSG_AUDIO || m.type === MSG_VIDEO || m.type === MSG_DATA_AMF0) state.media.push(m);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, { server, port: (server.address() as AddressInfo).port });
}

const servers: FakeServer[] = [];
after(() => {
  for (const s of servers) {
    for (const c of s.sockets) c.destroy();
    s.server.close();
  }
});
const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const tag = (type: number, timestamp: number, data: Buffer): FlvTag => ({ type, timestamp, data });
const HEADERS: StreamHeaders = { metadata: tag(FLV_SCRIPT, 0, META), video: tag(FLV_VIDEO, 0, AVC_CONFIG), audio: tag(FLV_AUDIO, 0, AAC_CONFIG) };

test('publisher: connect, createStream and publish with the key; media from the first keyframe, headers first, timestamps from 0; the stream ended with FCUnpublish and deleteStream', async () => {
  const s = await fakeServer();
  servers.push(s);
  const errors: string[] = [];
  let publishing = 0;
  const p = new RtmpPublisher({ url: `rtmp://127.0.0.1:${s.port}/live/secretKEY42`, onError: (e) => errors.push(e), onPublishing: () => publishing++ });
  p.start();
  await until(() => p.publishing, 'publishing');
  assert.equal(publishing, 1);
  assert.deepEqual(
    s.commands.map((c) => c[0]),
    ['connect', 'releaseStream', 'FCPublish', 'createStream', 'publish'],
  );
  const connect = s.commands[0]![2] as Record<string, Amf0Value>;
  assert.equal(connect.app, 'live');
  assert.equal(connect.tcUrl, `rtmp://127.0.0.1:${s.port}/live`);
  assert.deepEqual(s.commands[4]!.slice(3), ['secretKEY42', 'live']);

  p.accept([tag(FLV_AUDIO, 5000, aacFrame(1)), tag(FLV_VIDEO, 5010, interframe(2))], HEADERS);
  p.accept([tag(FLV_VIDEO, 5066, keyframe(3)), tag(FLV_AUDIO, 5080, aacFrame(4))], HEADERS);
  p.accept([tag(FLV_VIDEO, 5133, interframe(5))], HEADERS);
  await until(() => s.media.length >= 6, 'media');
  assert.deepEqual(
    s.media.map((m) => [m.type, m.timestamp, m.streamId]),
    [
      [MSG_DATA_AMF0, 0, 1],
      [MSG_VIDEO, 0, 1],
      [MSG_AUDIO, 0, 1],
      [MSG_VIDEO, 0, 1],
      [MSG_AUDIO, 14, 1],
      [MSG_VIDEO, 67, 1],
    ],
    'nothing before the keyframe; the headers, then media rebased to it',
  );
  assert.deepEqual(decodeAmf0(s.media[0]!.payload).slice(0, 2), ['@setDataFrame', 'onMetaData']);
  assert.equal(s.media[3]!.payload.toString('hex'), keyframe(3).toString('hex'));
  assert.ok(p.bytesSent() > 1536, 'bytes counted');

  p.end();
  await until(() => s.ended, 'the connection closed after the stream ended');
  assert.deepEqual(s.commands.slice(5).map((c) => c[0]), ['FCUnpublish', 'deleteStream']);
  assert.equal(s.commands[6]![3], 1, 'deleteStream names the stream');
  assert.deepEqual(errors, [], 'an end is not an error');
  assert.ok(OUT_CHUNK_SIZE >= 4096);
});

test('publisher: a refused publish, a server that never answers and one that is not there are errors that name the stage and never the key', async () => {
  const refusing = await fakeServer({ refusePublish: true });
  const silent = await fakeServer({ silent: true });
  servers.push(refusing, silent);
  const run = async (url: string, timeoutMs?: number) => {
    const errors: string[] = [];
    const p = new RtmpPublisher({ url, timeoutMs, onError: (e) => errors.push(e) });
    p.start();
    await until(() => errors.length > 0, `an error from ${url.replace(/\/[^/]*$/, '/***')}`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(errors.length, 1, 'reported once');
    assert.ok(!errors[0]!.includes('hushKEY'), 'no key in the error');
    return errors[0]!;
  };
  assert.match(await run(`rtmp://127.0.0.1:${refusing.port}/live/hushKEY1`), /publish refused by the server \(NetStream\.Publish\.BadName: Already publishing\)/);
  assert.match(await run(`rtmp://127.0.0.1:${silent.port}/live/hushKEY2`, 300), /no answer within 0\.3 s \(at handshake\)/);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  assert.match(await run(`rtmp://127.0.0.1:${port}/live/hushKEY3`), /^Could not connect: .*ECONNREFUSED/);
});

test('publisher: a destination that stops reading skips media past its backlog and resumes at a keyframe once it drains', async () => {
  const s = await fakeServer({ stopReading: true });
  servers.push(s);
  const p = new RtmpPublisher({ url: `rtmp://127.0.0.1:${s.port}/live/k`, maxBacklogBytes: 64 * 1024, onError: () => undefined });
  p.start();
  await until(() => p.publishing, 'publishing');
  const frame = Buffer.alloc(32 * 1024, 7);
  frame[0] = 0x27;
  frame[1] = 1;
  p.accept([tag(FLV_VIDEO, 0, keyframe(0))], HEADERS);
  // The kernel's socket buffers take a few MB on loopback before the backlog grows in the process.
  for (let i = 1; i <= 2000 && p.skipped === 0; i++) p.accept([tag(FLV_VIDEO, i * 66, frame)], HEADERS);
  assert.ok(p.skipped > 0, 'media skipped once the backlog passed its limit');
  const skippedBefore = p.skipped;
  p.accept([tag(FLV_VIDEO, 999_000, interframe(1))], HEADERS);
  assert.equal(p.skipped, skippedBefore + 1, 'still skipping: no keyframe yet');
  for (const c of s.sockets) c.resume();
  await until(() => (s.sockets[0]?.bytesRead ?? 0) > 0 && p.bytesSent() > 0 && (p as unknown as { socket: Socket }).socket.writableLength === 0, 'the backlog drained');
  p.accept([tag(FLV_VIDEO, 999_100, interframe(2))], HEADERS);
  assert.equal(p.skipped, skippedBefore + 2, 'an inter frame after the drain is still skipped');
  p.accept([tag(FLV_VIDEO, 999_200, keyframe(3))], HEADERS);
  assert.equal(p.skipped, skippedBefore + 2, 'the keyframe resumes the stream');
  p.destroy();
});
