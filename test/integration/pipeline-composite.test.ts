// The composite on real GStreamer with RTP over loopback: three hosts (VP8 and H.264) into a
// 640x360@15 H.264+AAC canvas cut into 3 s snippets; a fourth host added and one removed while
// it plays, with no gap between snippets; a layout change and a camera toggle on the way.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hostColour } from '../../pipelines/builders/composite.pipeline';
import { gridTiles } from '../../pipelines/layout';
import type { SnippetMetadata } from '../../pipelines/spool';
import { brightBox, colourDistance, hexToRgb, regionColour, type Rgb } from '../support/frames';
import { decodeErrors, firstVideoFrameIsKey, probe } from '../support/media';
import { compositeConfig, hostMedia, recorder, sleep, tempSpool } from '../support/recording';
import { sendHost, type RtpSender } from '../support/rtp-sender';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('composite: 3 hosts, one added and one removed mid-recording, contiguous playable 640x360@15 H.264+AAC snippets', { timeout: 90_000 }, async () => {
  const spool = tempSpool('composite');
  cleanups.push(spool.cleanup);
  const { sup, events, closed } = recorder();
  cleanups.push(() => sup.kill());
  const hosts = [hostMedia('a', 'VP8'), hostMedia('b', 'H264'), hostMedia('c', 'VP8')];
  const ready = await sup.start(compositeConfig(spool.dir, hosts));
  assert.deepEqual(ready.inputs.map((i) => i.hostId), ['a', 'b', 'c']);
  const senders = new Map<string, RtpSender>();
  for (const [k, i] of ready.inputs.entries()) {
    senders.set(i.hostId, sendHost({ videoPort: i.video!.rtpPort, audioPort: i.audio!.rtpPort, videoCodec: hosts[k]!.video.codec, toneHz: 300 + 200 * k }));
  }
  cleanups.push(async () => {
    for (const s of senders.values()) await s.stop();
  });

  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 0);
  sup.send({ type: 'add-input', host: hostMedia('d', 'VP8') });
  const added = await sup.next('input-added', 10_000);
  assert.equal(added.inputs.hostId, 'd');
  senders.set('d', sendHost({ videoPort: added.inputs.video!.rtpPort, audioPort: added.inputs.audio!.rtpPort }));
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 1);
  sup.send({ type: 'remove-input', hostId: 'a' });
  await sup.next('input-removed', 10_000);
  await senders.get('a')!.stop();
  sup.send({ type: 'set-camera', hostId: 'b', on: false });
  sup.send({ type: 'set-layout', layout: { kind: 'active-speaker' } });
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 3);
  const exit = await sup.stop('test done', 20_000);
  assert.equal(exit.clean, true, exit.reason);

  const errors = events.filter((e) => e.type === 'error');
  assert.deepEqual(errors, [], 'no streaming errors');
  const stats = events.filter((e) => e.type === 'stats');
  assert.ok(stats.length >= 5, 'stats every second');
  const last = stats[stats.length - 1]!;
  assert.ok(last.type === 'stats' && last.stats.fpsOut > 12 && last.stats.fpsOut < 18, 'output near 15 fps');

  const files = readdirSync(spool.dir);
  assert.equal(files.filter((f) => f.endsWith('.part')).length, 0);
  const snippets = closed();
  assert.ok(snippets.length >= 5, `snippets: ${snippets.length}`);
  const metas = snippets.map((s) => JSON.parse(readFileSync(s.metadataLocation, 'utf8')) as SnippetMetadata);
  for (const [i, s] of snippets.entries()) {
    const p = probe(s.location);
    const v = p.streams.find((x) => x.codec_type === 'video')!;
    const a = p.streams.find((x) => x.codec_type === 'audio')!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.width, 640);
    assert.equal(v.height, 360);
    assert.equal(v.avg_frame_rate, '15/1');
    assert.equal(a.codec_name, 'aac');
    assert.ok(firstVideoFrameIsKey(s.location), `snippet ${i} starts with a keyframe`);
    assert.equal(decodeErrors(s.location), '', `snippet ${i} decodes cleanly`);
    if (i < snippets.length - 1) {
      assert.ok(Math.abs(Number(v.duration) - 3) < 1 / 15, `snippet ${i} is 3 s within a frame (${v.duration})`);
      assert.ok(Math.abs(Number(a.duration) - 3) < 0.05, `snippet ${i} audio is 3 s (${a.duration})`);
      assert.equal(metas[i + 1]!.startTime, metas[i]!.endTime, `no gap between snippets ${i} and ${i + 1}`);
    }
    assert.equal(join(spool.dir, metas[i]!.file), s.location);
  }
  assert.deepEqual(metas[0]!.hosts, ['a', 'b', 'c']);
  assert.ok(metas[1]!.hosts.includes('d'), 'the added host is in the snippet it joined');
  assert.deepEqual(metas[metas.length - 1]!.hosts.sort(), ['b', 'c', 'd'], 'the removed host is gone from the last snippet');
});

test('composite with zero hosts still records the canvas (background and silence)', { timeout: 40_000 }, async () => {
  const spool = tempSpool('composite-empty');
  cleanups.push(spool.cleanup);
  const { sup, closed } = recorder();
  cleanups.push(() => sup.kill());
  await sup.start(compositeConfig(spool.dir, [], { snippetSeconds: 2 }));
  await sup.next('fragment-closed', 10_000, (e) => e.sequence === 0);
  await sup.stop('test done', 15_000);
  const first = closed()[0]!;
  const p = probe(first.location);
  assert.deepEqual(p.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  assert.ok(Math.abs(Number(p.streams.find((s) => s.codec_type === 'video')!.duration) - 2) < 1 / 15);
  await sleep(10);
});

test('a host whose camera is off shows its placeholder (its colour and name), also when it joins later and after the layout changes', { timeout: 75_000 }, async () => {
  const spool = tempSpool('composite-placeholder');
  cleanups.push(spool.cleanup);
  const { sup, events, closed } = recorder();
  cleanups.push(() => sup.kill());
  const ready = await sup.start(compositeConfig(spool.dir, [hostMedia('alice', 'VP8', { camera: false })], { snippetSeconds: 3 }));
  const senders: RtpSender[] = [];
  cleanups.push(async () => {
    for (const s of senders) await s.stop();
  });
  const alice = ready.inputs[0]!;
  senders.push(sendHost({ videoPort: alice.video!.rtpPort, audioPort: alice.audio!.rtpPort, videoCodec: 'VP8' }));
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 0);
  // bob joins while the canvas plays, camera off too: its placeholder starts at the join, not at 0,
  // and alice's tile shrinks from the whole canvas to half of it.
  sup.send({ type: 'add-input', host: hostMedia('bob', 'VP8', { camera: false }) });
  const added = await sup.next('input-added', 10_000);
  senders.push(sendHost({ videoPort: added.inputs.video!.rtpPort, audioPort: added.inputs.audio!.rtpPort, videoCodec: 'VP8' }));
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 2);
  // Layout changes in quick succession, each a new tile size for both placeholders (their pads'
  // sizes change while the last change is still being rendered), ending in the grid that the
  // checks below look at.
  for (const layout of [{ kind: 'spotlight', spotlightHostId: 'alice' }, { kind: 'spotlight', spotlightHostId: 'bob' }, { kind: 'grid' }, { kind: 'spotlight', spotlightHostId: 'alice' }, { kind: 'grid' }] as const) {
    sup.send({ type: 'set-layout', layout });
    await sleep(300);
  }
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 4);
  const exit = await sup.stop('test done', 20_000);
  assert.equal(exit.clean, true, exit.reason);

  assert.deepEqual(events.filter((e) => e.type === 'error' || e.type === 'warning'), [], 'no errors or warnings');
  const snippets = closed();
  for (const [i, sn] of snippets.entries()) assert.equal(decodeErrors(sn.location), '', `snippet ${i} decodes cleanly`);
  const tiles = gridTiles(['alice', 'bob'], 640, 360);
  const want = (id: string): Rgb => hexToRgb(hostColour(id).toString(16));
  // A strip along the top of the tile, away from the centred name.
  const strip = (t: (typeof tiles)[number]) => ({ x: t.x + 8, y: t.y + 8, width: Math.floor(t.width / 4) * 2, height: 16 });
  const whole = { x: 8, y: 8, width: 320, height: 16 };
  const first = regionColour(snippets[0]!.location, 1.5, whole);
  assert.ok(colourDistance(first, want('alice')) <= 24, `alice alone: its placeholder fills the canvas (${first.join(',')} vs ${want('alice').join(',')})`);
  const last = snippets[snippets.length - 1]!.location;
  for (const id of ['alice', 'bob']) {
    const seen = regionColour(last, 1, strip(tiles.find((t) => t.hostId === id)!));
    assert.ok(colourDistance(seen, want(id)) <= 24, `${id}'s tile shows its placeholder after the join (${seen.join(',')} vs ${want(id).join(',')})`);
  }
  // The name is drawn in the middle of the tile: white text over the colour.
  const bob = tiles.find((t) => t.hostId === 'bob')!;
  const centre = regionColour(last, 1, { x: bob.x + bob.width / 2 - 20, y: bob.y + bob.height / 2 - 4, width: 40, height: 8 });
  const sum = (c: Rgb) => c[0] + c[1] + c[2];
  assert.ok(sum(centre) > sum(want('bob')) + 60, `bob's name is written over the placeholder (${centre.join(',')} vs ${want('bob').join(',')})`);
  // Alice's name is scaled with her tile's width, not squeezed into it: smaller, with the same
  // proportions (a placeholder drawn at the canvas size and stretched to the tile would not be).
  const nameBand = (t: { x: number; y: number; width: number; height: number }) => ({ x: t.x + 8, y: t.y + t.height / 2 - 40, width: t.width - 16, height: 80 });
  const alone = brightBox(snippets[0]!.location, 1.5, nameBand({ x: 0, y: 0, width: 640, height: 360 }));
  const shared = brightBox(last, 1, nameBand(tiles.find((t) => t.hostId === 'alice')!));
  const aspect = (b: { width: number; height: number }) => b.width / b.height;
  assert.ok(alone.width >= 20 && shared.width >= 10, `alice's name is drawn alone (${alone.width}x${alone.height}) and in the half tile (${shared.width}x${shared.height})`);
  assert.ok(Math.abs(aspect(shared) / aspect(alone) - 1) < 0.25, `alice's name keeps its proportions in the half tile (${shared.width}x${shared.height}, alone ${alone.width}x${alone.height})`);
});
