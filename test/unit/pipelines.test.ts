// Pure parts of the media plane: pipeline builders (as data), layouts, active-speaker hysteresis
// and the spool writer's file contract.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AFTER_FIRST_INPUT, AUDIO_MIXER, buildComposite, buildHostBranch, branchNames, LABEL_HEIGHT, LABEL_WIDTH, labelRect, padProps, TILE_INPUT_FPS, TILE_LAYERS, VIDEO_MIXER, VIDEO_TEE } from '../../pipelines/builders/composite.pipeline';
import { AAC_PRIMING_NS, AUDIO_GATE, inputNames, MIX_ALIGNMENT_NS, MIX_DISCONT_WAIT_NS, SINK } from '../../pipelines/builders/common';
import { AUDIO_MIXER as INDIVIDUAL_AUDIO_MIXER, buildIndividual } from '../../pipelines/builders/individual.pipeline';
import { ActiveSpeakerPicker, gridTiles, layoutTiles, speakerTiles } from '../../pipelines/layout';
import { parsePartName, SpoolWriter } from '../../pipelines/host/spool-writer';
import { compositeConfig, hostMedia, individualConfig } from '../support/recording';

const factories = (spec: { elements: { factory: string }[] }) => spec.elements.map((e) => e.factory);

test('individual H.264 av: depayload and parse only, no decoder or encoder on the video path', () => {
  const spec = buildIndividual(individualConfig('/spool', hostMedia('h', 'H264'), 'av'));
  const f = factories(spec);
  assert.ok(f.includes('rtph264depay') && f.includes('h264parse'));
  assert.ok(!f.includes('x264enc') && !f.includes('avdec_h264'), 'no re-encode');
  assert.ok(f.includes('avenc_aac'));
  const sink = spec.elements.find((e) => e.factory === 'splitmuxsink')!;
  assert.equal(sink.props!['send-keyframe-requests'], false, 'passthrough cannot ask for keyframes');
  assert.equal(sink.props!.location, '/spool/.%06d.mp4.part');
});

test('individual VP8 av is transcoded with x264 and asks for keyframes at the cuts; audio variant is MP3 in id3v2mux', () => {
  const vp8 = buildIndividual(individualConfig('/spool', hostMedia('h', 'VP8'), 'av', { startSequence: 7 }));
  assert.ok(factories(vp8).includes('avdec_vp8') && factories(vp8).includes('x264enc'));
  const sink = vp8.elements.find((e) => e.factory === 'splitmuxsink')!;
  assert.equal(sink.props!['send-keyframe-requests'], true);
  assert.equal(sink.props!['start-index'], 7);
  const mp3 = buildIndividual(individualConfig('/spool', hostMedia('h'), 'audio'));
  assert.ok(!factories(mp3).some((f) => /vp8|x264|h264/.test(f)), 'no video in an audio recording');
  assert.equal(factories(mp3).filter((f) => f === 'udpsrc').length, 1);
  assert.ok(factories(mp3).includes('lamemp3enc'));
  assert.equal(mp3.elements.find((e) => e.factory === 'splitmuxsink')!.props!['muxer-factory'], 'id3v2mux');
});

test('every link names existing elements (builders produce consistent specs)', () => {
  const comp = compositeConfig('/s', []);
  const base = buildComposite(comp);
  const branch = buildHostBranch(comp, hostMedia('x', 'H264'), gridTiles(['x'], 640, 360)[0]!);
  const names = new Set([...base.elements, ...branch.elements].map((e) => e.name));
  assert.equal(names.size, base.elements.length + branch.elements.length, 'unique element names');
  for (const l of [...base.links, ...branch.links, ...branch.outputs]) {
    assert.ok(names.has(l.from), `link from ${l.from}`);
    assert.ok(names.has(l.to), `link to ${l.to}`);
  }
  for (const cfg of [individualConfig('/s', hostMedia('h', 'VP8'), 'av'), individualConfig('/s', hostMedia('h'), 'audio')]) {
    const spec = buildIndividual(cfg);
    const n = new Set(spec.elements.map((e) => e.name));
    for (const l of spec.links) assert.ok(n.has(l.from) && n.has(l.to), `${l.from} → ${l.to}`);
  }
  assert.match(String(base.elements.find((e) => e.name === 'vmix-caps')!.props!.caps), /width=640,height=360,framerate=15\/1/);
});

test('composite tiles keep the camera rate (one frame choice, in the compositor)', () => {
  const comp = compositeConfig('/s', [], { fps: 15, jitterLatencyMs: 200 });
  const branch = buildHostBranch(comp, hostMedia('x', 'VP8'), gridTiles(['x', 'y'], 640, 360)[0]!);
  const caps = (name: string) => String(branch.elements.find((e) => e.name === name)!.props!.caps);
  assert.match(caps(branchNames('x').videoCaps), new RegExp(`width=320,height=360,.*framerate=${TILE_INPUT_FPS}/1`));
  assert.notEqual(TILE_INPUT_FPS, comp.fps, 'not resampled to the canvas rate in the branch');
  assert.ok(branch.elements.some((e) => e.name === inputNames('x', 'audio').count && e.factory === 'identity'), 'audio frame counter');
  assert.ok(!buildComposite(comp).elements.some((e) => e.name === AUDIO_GATE), 'the composite has video from the start: no gate');
});

test('composite mixers start waiting for every pad; the host has the audio mixer skip inactive ones only after the first input buffer', () => {
  const spec = buildComposite(compositeConfig('/s', []));
  for (const { mixer, input, props } of AFTER_FIRST_INPUT) {
    const el = spec.elements.find((e) => e.name === mixer)!;
    for (const k of Object.keys(props)) assert.equal(el.props?.[k], undefined, `${mixer} is built without ${k}`);
    assert.ok(spec.links.some((l) => l.from === input && l.to === mixer), `${input} feeds ${mixer} from the start`);
  }
  assert.deepEqual(AFTER_FIRST_INPUT.map((a) => a.mixer), [AUDIO_MIXER]);
  // the compositor waits for every pad, also a camera's before its first frame (lip sync at the start)
  assert.equal(spec.elements.find((e) => e.name === VIDEO_MIXER)!.props?.['ignore-inactive-pads'], undefined);
});

test('a tile refuses allocation queries in front of its queue, so a resize never waits on the compositor; no queue in front of the audio mixer', () => {
  for (const codec of ['VP8', 'H264'] as const) {
    const branch = buildHostBranch(compositeConfig('/s', []), hostMedia('x', codec), gridTiles(['x'], 640, 360)[0]!);
    const n = branchNames('x');
    const next = (name: string) => branch.links.find((l) => l.from === name)?.to;
    const stop = branch.elements.find((e) => e.name === n.videoAllocation)!;
    assert.equal(stop.factory, 'identity');
    assert.equal(stop.props!['drop-allocation'], true);
    // the scaler's caps → the stop → the queue → the compositor; the volume → the audio mixer
    assert.equal(next(n.videoCaps), n.videoAllocation, codec);
    assert.equal(next(n.videoAllocation), n.videoQueue, codec);
    assert.ok(branch.outputs.some((o) => o.to === VIDEO_MIXER && o.from === n.videoQueue), codec);
    assert.ok(branch.outputs.some((o) => o.to === AUDIO_MIXER && o.from === n.volume), codec);
    assert.deepEqual(branch.elements.filter((e) => e.factory === 'queue').map((e) => e.name), [n.videoQueue], `${codec}: the camera's queue only`);
  }
});

test('individual MP4 recordings hold audio back (closed valve) until video arrives; passed-through H.264 has a frame counter', () => {
  for (const codec of ['H264', 'VP8'] as const) {
    const spec = buildIndividual(individualConfig('/s', hostMedia('h', codec), 'av'));
    const gate = spec.elements.find((e) => e.name === AUDIO_GATE)!;
    assert.equal(gate.factory, 'valve');
    assert.equal(gate.props!.drop, true);
    assert.equal(gate.props!['drop-mode'], 'forward-sticky-events', 'EOS and caps pass a closed gate');
    assert.equal(spec.elements.some((e) => e.name === inputNames('h', 'video').count), codec === 'H264');
  }
  assert.ok(!buildIndividual(individualConfig('/s', hostMedia('h'), 'audio')).elements.some((e) => e.name === AUDIO_GATE), 'MP3 has no video to wait for');
});

test('every audio mixer places its inputs by their timestamps to within 2 ms, not audiomixer\'s 40 ms', () => {
  const mixers = [
    buildComposite(compositeConfig('/s', [])).elements.find((e) => e.name === AUDIO_MIXER)!,
    ...(['av', 'audio'] as const).map((v) => buildIndividual(individualConfig('/s', hostMedia('h', 'VP8'), v)).elements.find((e) => e.name === INDIVIDUAL_AUDIO_MIXER)!),
  ];
  for (const m of mixers) {
    assert.equal(m.factory, 'audiomixer');
    assert.equal(m.props!['alignment-threshold'], MIX_ALIGNMENT_NS);
    assert.equal(m.props!['discont-wait'], MIX_DISCONT_WAIT_NS);
    assert.ok(Number(m.props!.latency) > 0, 'room for the jitter buffers kept');
  }
  assert.equal(MIX_ALIGNMENT_NS, 2_000_000);
  assert.ok(MIX_DISCONT_WAIT_NS <= 100_000_000, 'a start-up correction is followed within a tenth of a second');
});

test('grid layout: 1..25 hosts tile the canvas without overlap', () => {
  for (let n = 1; n <= 25; n++) {
    const ids = Array.from({ length: n }, (_, i) => `h${i}`);
    const tiles = gridTiles(ids, 640, 360);
    assert.equal(tiles.length, n);
    for (const t of tiles) {
      assert.ok(t.visible && t.x >= 0 && t.y >= 0 && t.x + t.width <= 640 && t.y + t.height <= 360, `n=${n} ${JSON.stringify(t)}`);
      assert.equal(t.width % 2, 0);
    }
    for (const a of tiles) for (const b of tiles) if (a !== b) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `n=${n} overlap`);
  }
  assert.deepEqual(gridTiles(['a'], 640, 360)[0], { hostId: 'a', x: 0, y: 0, width: 640, height: 360, visible: true, zorder: 1 });
});

test('spotlight shows one host; active speaker puts the speaker large', () => {
  const spot = layoutTiles({ kind: 'spotlight', spotlightHostId: 'b' }, ['a', 'b', 'c'], 640, 360);
  assert.deepEqual(spot.filter((t) => t.visible).map((t) => t.hostId), ['b']);
  const sp = speakerTiles(['a', 'b', 'c'], 640, 360, 'c');
  const big = sp.find((t) => t.hostId === 'c')!;
  assert.ok(sp.every((t) => t.hostId === 'c' || t.width * t.height < big.width * big.height));
  // The camera layer hides (alpha 0) while the camera is off; the placeholder and its name under it stay.
  assert.equal(padProps(big, 'camera', false).alpha, 0);
  assert.equal(padProps(big, 'placeholder', false).alpha, 1);
  assert.equal(padProps(big, 'label', false).alpha, 1);
});

test('a placeholder is drawn once: one frame per source, held by its compositor pad, scaled to the tile; layout changes are pad properties', () => {
  const comp = compositeConfig('/s', [], { fps: 15 });
  const [wide, narrow] = [gridTiles(['x'], 640, 360)[0]!, gridTiles(['x', 'y', 'z', 'w', 'v'], 640, 360)[0]!];
  const branch = buildHostBranch(comp, hostMedia('x', 'VP8', { camera: false }), wide);
  const n = branchNames('x');
  for (const src of [n.placeholderSource, n.labelSource]) {
    const el = branch.elements.find((e) => e.name === src)!;
    assert.equal(el.factory, 'videotestsrc');
    assert.equal(el.props!['num-buffers'], 1, `${src} makes one frame`);
  }
  assert.ok(!branch.elements.some((e) => e.factory === 'queue' && e.name.includes('-ph-')), 'no queue of identical frames');
  const [fill, label, camera] = branch.outputs;
  for (const o of [fill!, label!]) assert.equal(o.toPadProps!['repeat-after-eos'], true);
  assert.equal(branch.outputs[0]!.from, `x-ph-caps`);
  assert.equal(label!.from, n.labelText);
  assert.equal(camera!.from, n.videoQueue);
  assert.match(String(fill!.toPadProps!['converter-config']), /nearest/, 'a solid colour scales exactly by nearest neighbour');
  // Layers bottom to top: fill, name, camera; the fill covers the tile.
  const z = TILE_LAYERS.map((l) => padProps(wide, l, true).zorder);
  assert.deepEqual([...z].sort((a, b) => a - b), z);
  assert.ok(z[0]! > 0, 'above the background');
  assert.deepEqual(padProps(narrow, 'placeholder', false), { xpos: narrow.x, ypos: narrow.y, width: narrow.width, height: narrow.height, zorder: z[0], alpha: 1 });
  // The name strip keeps its proportions: the tile's width, its height scaled by as much, centred.
  for (const t of [wide, narrow]) {
    const r = labelRect(t);
    assert.equal(r.width, t.width);
    assert.ok(Math.abs(r.height / r.width - LABEL_HEIGHT / LABEL_WIDTH) < 2 / r.width, `strip ${r.width}x${r.height}`);
    assert.ok(Math.abs(r.y + r.height / 2 - (t.y + t.height / 2)) <= 1, 'centred');
  }
});

test('active speaker changes only after a louder host leads for the hold time', () => {
  const p = new ActiveSpeakerPicker({ silenceDb: -50, marginDb: 6, holdMs: 1000, alpha: 1 });
  assert.equal(p.update('a', -20, 0), true);
  assert.equal(p.speaker, 'a');
  p.update('b', -10, 100);
  assert.equal(p.speaker, 'a', 'not yet');
  p.update('b', -10, 600);
  assert.equal(p.speaker, 'a');
  p.update('b', -10, 1200);
  assert.equal(p.speaker, 'b', 'after the hold time');
  p.update('a', -8, 1300); // only 2 dB louder: within the margin
  p.update('a', -8, 3000);
  assert.equal(p.speaker, 'b');
  p.remove('b');
  assert.equal(p.speaker, null);
});

test('spool writer: rename, metadata via temp file, recording state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapedeck-spool-'));
  try {
    assert.deepEqual(parsePartName('/x/.000012.mp4.part'), { sequence: 12, ext: 'mp4' });
    assert.equal(parsePartName('/x/000012.mp4'), null);
    const w = new SpoolWriter(dir);
    writeFileSync(join(dir, '.000004.mp3.part'), 'data');
    const info = w.close(join(dir, '.000004.mp3.part'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:15Z'), {
      livestreamId: 'ls',
      recordingId: 'host-a-1',
      kind: 'individual',
      hostId: 'a',
      variant: 'audio',
      contentType: 'audio/mpeg',
      audio: { codec: 'MP3', sampleRate: 48000, channels: 2 },
      hosts: ['a'],
    });
    assert.equal(info.location, join(dir, '000004.mp3'));
    assert.equal(info.durationMs, 15000);
    assert.equal(info.sizeBytes, 4);
    assert.ok(!existsSync(join(dir, '.000004.mp3.part')));
    const meta = JSON.parse(readFileSync(join(dir, '000004.json'), 'utf8'));
    assert.equal(meta.schema, 'tapedeck.spool.v1');
    assert.equal(meta.file, '000004.mp3');
    assert.equal(meta.sequence, 4);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')), { nextSequence: 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an individual recording\'s video reaches the muxer delayed by the AAC priming (1024 samples at 48 kHz); the composite\'s does not', () => {
  assert.equal(AAC_PRIMING_NS, 21_333_333);
  const comp = buildComposite(compositeConfig('/s', [], { fps: 15, jitterLatencyMs: 200 }));
  assert.equal(comp.links.find((l) => l.to === VIDEO_TEE)?.toPadProps, undefined, 'the tile sample-and-hold already shows video late by up to a canvas frame');
  const ind = buildIndividual(individualConfig('/s', hostMedia('h', 'H264'), 'av'));
  assert.deepEqual(ind.links.find((l) => l.to === SINK && l.toPad === 'video')?.toPadProps, { offset: AAC_PRIMING_NS });
});
