// Live output over RTMP, end to end with real parts: mock SFU → MediaSession → composite pipeline
// → tee → FLV mux → pipe → the host's RTMP publishers → a real nginx-rtmp server on loopback that records what it receives.
// The composite reaches the server (640x360 H.264 + AAC read back with ffprobe), a second
// destination is added while it plays, the server is SIGKILLed and restarted mid-stream: both
// destinations are retried and recover, and the recording's snippets stay back to back with the
// configured lengths. A stuck destination (TCP accepted, never answered) is given up and retried
// while the others and the recording go on. A destination removed while streaming, and the ones
// left when the recording stops, end their streams (deleteStream, seen through a TCP relay that
// keeps what the client sent) instead of vanishing. Stream keys never appear in any event; an
// invalid URL costs only itself.
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, test } from 'node:test';
import type { OutputStatus } from '../../pipelines/outputs/outputs';
import type { HostEvent } from '../../pipelines/protocol';
import { LiveSession } from '../support/live-session';
import { decodeErrors, probe } from '../support/media';
import { execFileSync } from 'node:child_process';
import { compositeConfig, hostMedia, sleep } from '../support/recording';
import { RtmpServer } from '../../infra/stack/rtmp-server';

const unavailable = RtmpServer.available();
let live: LiveSession | undefined;
let server: RtmpServer | undefined;
after(async () => {
  await live?.cleanup();
  await server?.stop();
});

const KEY_A = 'secretkeyA7f3';
const KEY_B = 'secretkeyB9e1';
const KEY_C = 'secretkeyC2d8';
const KEY_D = 'secretkeyD5a4';

/** A TCP relay to the RTMP server that keeps, per connection, what the client sent and whether it closed. */
async function startRelay(targetPort: number) {
  const connections: Array<{ sent: Buffer[]; closed: boolean }> = [];
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const conn = { sent: [] as Buffer[], closed: false };
    connections.push(conn);
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        conn.closed = true;
      });
    }
    client.on('data', (d: Buffer) => conn.sent.push(d));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const port = (relay.address() as AddressInfo).port;
  return {
    url: (key: string) => `rtmp://127.0.0.1:${port}/live/${key}`,
    /** What the client of the connection that published `key` sent. */
    sentBy: (key: string) => connections.map((c) => ({ text: Buffer.concat(c.sent).toString('latin1'), closed: c.closed })).filter((c) => c.text.includes(key)),
    close: () => {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}

async function waitFor(pred: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what()} within ${timeoutMs} ms`);
    await sleep(200);
  }
}
type Outputs = Extract<HostEvent, { type: 'outputs' }>;

function waitOutputs(events: HostEvent[], pred: (o: OutputStatus[]) => boolean, timeoutMs: number, what: string): Promise<OutputStatus[]> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const last = [...events].reverse().find((e): e is Outputs => e.type === 'outputs');
      const stats = [...events].reverse().find((e) => e.type === 'stats');
      const current = last?.outputs;
      if (current && pred(current)) {
        clearInterval(poll);
        resolve(current);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`${what} within ${timeoutMs} ms; outputs: ${JSON.stringify(current)}; last stats outputs: ${JSON.stringify(stats)}`));
      }
    }, 200);
  });
}

/** The flags of the first video packet of a recorded stream (`K_` for a keyframe). */
function firstVideoPacketFlags(file: string): string {
  return execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-read_intervals', '%+#1', '-of', 'csv=p=0', file], { timeout: 20_000 })
    .toString()
    .trim();
}

/** A stream a player can start: its first video packet a keyframe, and it decodes without an error. */
function assertPlayable(file: string, what: string): void {
  assert.match(firstVideoPacketFlags(file), /^K/, `${what} starts at a keyframe`);
  assert.equal(decodeErrors(file).trim(), '', `${what} decodes without errors`);
}

const states = (o: OutputStatus[]) => o.map((x) => x.state).join(',');

test('composite over RTMP: reaches nginx-rtmp, a destination added live, server killed and restarted', { skip: unavailable ?? false, timeout: 180_000 }, async () => {
  server = await RtmpServer.start();
  live = await LiveSession.open({ livestreamId: 'ls-rtmp' });
  const hosts = [hostMedia('a', 'VP8'), hostMedia('b', 'H264')];
  for (const h of hosts) await live.addHost(h);
  const rec = await live.record((dir) =>
    compositeConfig(dir, hosts, { snippetSeconds: 5, statsIntervalMs: 1000, stopTimeoutMs: 15_000, outputs: { rtmp: [server!.url(KEY_A), 'rtmp://127.0.0.1/no-key'] } }),
  );

  await waitOutputs(rec.events, (o) => o.length === 1 && o[0]!.state === 'connected', 20_000, 'the first destination did not connect');
  assert.ok(
    rec.events.some((e) => e.type === 'warning' && e.code === 'output-invalid'),
    'an invalid destination at start is reported and ignored, the recording and the valid one go on',
  );
  rec.sup.send({ type: 'set-outputs', rtmp: [server.url(KEY_A), server.url(KEY_B)] });
  await waitOutputs(rec.events, (o) => o.length === 2 && o.every((x) => x.state === 'connected'), 20_000, 'the added destination did not connect');
  // nginx writes what it receives to the FLV as it comes: wait for a few seconds' worth of media.
  const recorded = async (key: string, index: number) => {
    const deadline = Date.now() + 20_000;
    while ((server!.recordings(key)[index]?.size ?? 0) < 150_000 && Date.now() < deadline) await sleep(500);
  };
  await recorded(KEY_A, 0);
  await recorded(KEY_B, 0);

  const firstA = server.recordings(KEY_A);
  const firstB = server.recordings(KEY_B);
  assert.equal(firstA.length, 1, 'one stream recorded for A');
  assert.equal(firstB.length, 1, 'one stream recorded for B');
  for (const { file } of [...firstA, ...firstB]) {
    const p = probe(file);
    const v = p.streams.find((s) => s.codec_type === 'video');
    const a = p.streams.find((s) => s.codec_type === 'audio');
    assert.ok(v && a, `${file} has video and audio`);
    assert.equal(v.codec_name, 'h264');
    assert.equal(`${v.width}x${v.height}`, '640x360');
    assert.equal(a.codec_name, 'aac');
  }
  // B joined the FLV stream A had been getting for a while: its headers came from the mux's caps,
  // its media from the next keyframe.
  assertPlayable(firstA[0]!.file, 'the first destination');
  assertPlayable(firstB[0]!.file, 'the destination added live');

  await server.kill();
  await waitOutputs(rec.events, (o) => o.length === 2 && o.every((x) => x.state === 'retrying' || x.state === 'connecting'), 20_000, 'the drop was not noticed');
  await sleep(3000);
  await server.restart();
  const back = await waitOutputs(rec.events, (o) => o.length === 2 && o.every((x) => x.state === 'connected' && x.attempts >= 2), 60_000, 'the destinations did not recover');
  const afterA = server.recordings(KEY_A);
  assert.ok(afterA.length >= 2, 'A was published again after the restart');
  await recorded(KEY_A, afterA.length - 1);
  const resumed = server.recordings(KEY_A).at(-1)!;
  const p = probe(resumed.file);
  assert.ok(
    p.streams.some((x) => x.codec_type === 'video' && x.codec_name === 'h264') && p.streams.some((x) => x.codec_type === 'audio'),
    `the stream after the restart carries H.264 and audio (${resumed.size} bytes)`,
  );
  assertPlayable(resumed.file, 'the stream after the restart');
  assert.ok(back.every((x) => x.bytesSent > 0 && x.lastError), 'bytes counted and the drop reported');

  // A stuck destination (a server that accepts TCP and never answers) replaces B: it never gets
  // past connecting and is retried, while A keeps streaming and the recording goes on.
  const stuck = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const sockets = new Set<Socket>();
  await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
  const stuckUrl = `rtmp://127.0.0.1:${(stuck.address() as AddressInfo).port}/live/${KEY_B}`;
  try {
    const aBefore = (await waitOutputs(rec.events, () => true, 5000, 'outputs')).find((o) => o.target.includes(String(server!.port)))!.bytesSent;
    const snippetsBefore = rec.closed().length;
    rec.sup.send({ type: 'set-outputs', rtmp: [server.url(KEY_A), stuckUrl] });
    const withStuck = await waitOutputs(
      rec.events,
      (o) => o.length === 2 && o.some((x) => x.target.startsWith(`rtmp://127.0.0.1:${(stuck.address() as AddressInfo).port}/`) && x.state === 'retrying'),
      30_000,
      'the stuck destination was not given up and retried',
    );
    const a = withStuck.find((o) => o.target.includes(`:${server!.port}/`))!;
    assert.equal(a.state, 'connected', 'A unaffected by the stuck destination');
    const aNow = (await waitOutputs(rec.events, () => true, 5000, 'outputs')).find((o) => o.target.includes(`:${server!.port}/`))!.bytesSent;
    assert.ok(aNow > aBefore, `A kept sending (${aBefore} → ${aNow} bytes)`);
    assert.ok(rec.closed().length > snippetsBefore, 'the recording kept closing snippets');
  } finally {
    for (const s of sockets) s.destroy();
    stuck.close();
  }

  // Removing one destination leaves the others streaming, and ends its stream: C and D go through
  // the relay; C is removed (deleteStream, then the connection closes), D is there at the stop.
  const relay = await startRelay(server.port);
  try {
    rec.sup.send({ type: 'set-outputs', rtmp: [server.url(KEY_A), relay.url(KEY_C), relay.url(KEY_D)] });
    await waitOutputs(rec.events, (o) => o.length === 3 && o.every((x) => x.state === 'connected' && x.bytesSent > 0), 20_000, 'A, C and D connected');
    rec.sup.send({ type: 'set-outputs', rtmp: [server.url(KEY_A), relay.url(KEY_D)] });
    await waitOutputs(rec.events, (o) => o.length === 2 && o.every((x) => x.state === 'connected'), 10_000, 'removing C changed A or D');
    const sentC = () => relay.sentBy(KEY_C)[0];
    await waitFor(() => Boolean(sentC()?.text.includes('deleteStream') && sentC()?.closed), 10_000, () => `C removed: deleteStream sent and the connection closed (${JSON.stringify({ deleteStream: sentC()?.text.includes('deleteStream'), closed: sentC()?.closed })})`);
    assert.ok(sentC()!.text.includes('FCUnpublish'), 'C unpublished');
    assert.ok(!relay.sentBy(KEY_D)[0]?.text.includes('deleteStream'), 'D streams on');
    await sleep(2000);
    await live.stop();
    const sentD = relay.sentBy(KEY_D)[0];
    assert.ok(sentD?.text.includes('deleteStream'), 'D ended its stream when the recording stopped');
  } finally {
    relay.close();
  }

  const fatal = rec.events.filter((e) => e.type === 'error' && e.fatal);
  assert.deepEqual(fatal, [], 'no fatal error: a dead destination never takes the recording down');
  const snippets = rec.closed();
  assert.ok(snippets.length >= 3, `snippets: ${snippets.length}`);
  for (const [i, s] of snippets.entries()) {
    if (i < snippets.length - 1) assert.ok(Math.abs(s.durationMs - 5000) <= 67, `snippet ${i} is 5 s within a frame (${s.durationMs} ms)`);
    if (i > 0) {
      const gap = Date.parse(s.startTime) - Date.parse(snippets[i - 1]!.endTime);
      assert.ok(Math.abs(gap) <= 67, `no gap before snippet ${i} (${gap} ms)`);
    }
  }
  const text = JSON.stringify(rec.events);
  for (const key of [KEY_A, KEY_B, KEY_C, KEY_D]) assert.ok(!text.includes(key), 'no stream key in any event');
  console.log(rec.events.filter((e) => e.type === 'warning' || e.type === 'error' || e.type === 'outputs').map((e) => JSON.stringify(e)).join('\n'));
  console.log(`outputs after recovery: ${JSON.stringify(back)}; ${states(back)}; snippets ${snippets.map((s) => s.durationMs).join(', ')}`);
});
