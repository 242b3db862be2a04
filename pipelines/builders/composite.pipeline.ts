// Builds the composite recording as data: the canvas (always present, even with zero hosts) and
// one branch per host, added and removed while the pipeline plays.
//
//   bg videotestsrc(black, live) → bg-caps ─────────────────────────────┐
//   per host: ph-src videotestsrc(solid colour, ONE frame, 16x16) → ph-caps ─────────────────┤ (placeholder: fill, held, scaled to the tile)
//             ph-label-src videotestsrc(solid colour, ONE frame, 640x48) → ph-label-caps → ph-text textoverlay(name) ─┤ (its name strip, held)
//             v-src → v-jb → depay → decoder → videoconvert → videorate(30 fps)                    │
//               → videoscale → v-caps(tile size) → v-alloc identity(drop-allocation) → v-queue ─┤ (camera; alpha 0 when off)
//                                                                  vmix compositor → vmix-caps(640x360@15, I420) → outrate videorate
//                                                                  → vq → venc x264enc → h264parse → vq2 → snippets.video
//   silence audiotestsrc(live) ─────────────────────────────────────────────┐
//   per host: a-src → a-jb → rtpopusdepay → opusdec → audioconvert → audioresample
//               → a-caps → a-level level → a-volume volume(mute) ─────────┤
//                                                 amix audiomixer(F32) → alimit audiodynamic → avenc_aac → aacparse → atee → aq → snippets.audio_%u
//
// Camera frames are scaled in each branch (videoscale to the tile size), not in the compositor: 3-5x
// cheaper, and no gain when tried again with a bilinear converter (README, Measured).
//
// A placeholder (a host's colour and name while the camera is off) is a still picture, so it is
// drawn once, when the host joins, and never again: two one-frame sources whose compositor pads
// repeat their frame after its EOS (repeat-after-eos). The fill is 16x16 of the host's colour,
// scaled to the tile by the compositor (nearest neighbour: a solid colour stays exact); the name is
// written once on a strip of that colour as wide as the canvas (LABEL_WIDTH x LABEL_HEIGHT) and
// scaled with the tile's width, as textoverlay sizes its font to the frame's width. A layout change
// is then only pad properties: no new element (each new textoverlay made its own Pango font map,
// which leaked, see the README), no caps change. The compositor converts a placeholder only while
// it shows (it skips a pad with alpha 0 or covered by an opaque camera). Rendered at the canvas
// rate, as before, each host cost a source thread, a queue thread and a text blend per frame.
//
// Lip sync in a tile: for the output frame at time T the compositor takes, per pad, the input
// frame whose span contains T (sample and hold), so a tile shows its camera up to one input frame
// late. A tile branch that resampled to the canvas rate itself (videorate to 15 fps, its grid set
// by its first buffer) quantised twice, on its own grid and then on the compositor's: audio −
// video spread over two canvas frames (-61..+83 ms) and jumped when the branch restarted (join,
// camera toggle). Tile branches keep the cameras' rate (TILE_INPUT_FPS) so only the compositor
// picks frames: the error is under one camera frame (33 ms) and stable, with no offset to add.
// A gap longer than MAX_TILE_FILL_NS (camera off and on, a stall) is not filled: the videorate
// would fill it with the nearest frame, so the second half of the gap showed the picture from
// after it (the first flash after a camera came back was 150-370 ms early); unfilled, the
// compositor holds the last frame until the new one. Layout and camera changes reach the
// compositor pads as timed property changes (TimedProps in the host) so they apply from the
// moment they stand for. The compositor takes the first frame after a gap (the start, a join,
// the camera coming back) for the output frame it overlaps, one canvas frame before its own time,
// where the steady state shows each frame from the first output frame at or after it: so the
// camera layer is hidden until its first frame and shown from that frame's running time (the host
// learns it from a one-shot probe), and the first flash after a camera comes back is shown at the
// first canvas frame at or after it, as in the steady state (it was 67 ms early; sync test).
//
// No allocation query crosses a tile's queue (v-alloc answers it, by refusing it). A resize (a
// join, a leave, a layout change) sets new caps on the tile: its scaler renegotiates, and so does
// every element above it (the reconfigure event travels up to the decoder). Each sends an
// allocation query, which a queue holds until every frame queued before it has gone on, and which
// the compositor's pad answers only once it has taken every frame queued before it. While any pad
// of the compositor has no data (a joined host whose camera has not sent yet, a camera that is
// off), the compositor makes each canvas frame only at its deadline, so each pad holds up to the
// mixer's latency and the query waited that long, and the decoder's thread with it: the jitter
// buffer, held past its latency, dropped packets (drop-on-latency; now in the stats), the VP8
// depayloader waited for the next keyframe, and the tile's videorate filled a hole of up to half a
// second with the frame before it and then the frame after it. The sender's keyframe was also a
// flash, so the first flash after a join showed up to 200 ms early (media-session-sync, about 1
// run in 4); with a camera waited for, every resize lost a second or more of the resized tiles
// (composite-resize test: 91 of about 150 frames over two resizes). Refused, the query costs
// nothing: the scaler and the decoder allocate from their own pools, as they did with their
// downstream's before. The queue alone, moved in front of the scaler, was not enough: the
// decoder's own renegotiation then waited on it (104 of about 150 frames).
//
// No queue between a host's audio branch and the audio mixer: the jitter buffer's thread decodes
// each packet and hands it to its mixer pad itself. The pad holds up to the mixer's latency; when
// it is full the thread waits there while the jitter buffer goes on receiving, and what it holds
// past its own latency it drops and counts (`dropped`). The leaky queue that was there cost a
// thread and a wake-up per packet for each host: 2.5-3.9% of a 9-host composite's CPU (README,
// Measured). The camera keeps its queue: without it the first flash after a join came out one
// canvas frame early in 2 of 22 runs of media-session-sync (0 in 58 with it).
// Without a videorate the compositor gets variable-rate caps
// (framerate 0/1); a run of that design printed GStreamer criticals (a scale with a zero
// denominator, segment format mismatches) and once never finished its stop, cause not pinned
// down, so the videorate stays until that is understood.
import type { CompositeRecordingConfig, HostMedia } from '../config';
import type { Tile } from '../layout';
import { chain, type BranchSpec, type ElementSpec, type PipelineSpec, type PropValue } from '../spec';
import { OUTPUT_RATE, aacEncoder, audioMixer, FLOAT_MIX_CAPS, inputNames, jitterLatencyMs, leakyQueue, opusDecoder, queue, rtpInput, vp8Decoder, silence, SILENCE_SOURCE, SINK, snippetSink, x264 } from './common';

export const VIDEO_MIXER = 'vmix';
export const AUDIO_MIXER = 'amix';
export const AUDIO_LIMITER = 'alimit';
/** The limiter leaves the mix alone up to this amplitude (−10.5 dBFS) and compresses what is above
 *  it 10:1, so four hosts at −6 dBFS in phase (2.0 summed) leave it at 0.47 (−6.6 dBFS). The
 *  headroom is for the AAC encoder: at 44 kbit/s it drops the harmonics the compression adds and
 *  overshoots on sharp onsets, by up to 6 dB. Measured on 1 kHz beeps of 100 ms through this chain
 *  (21 phase mixes of four hosts, 30 beeps each): with a −6 dBFS threshold the loudest beep reached
 *  0 dBFS and 5 of 21 mixes had a second at −1 dBFS or above; with this one the loudest was −2.7. */
export const LIMITER_THRESHOLD = 0.3;
export const LIMITER_RATIO = 0.1;
export const VIDEO_ENCODER = 'venc';
/**
 * Tees after the encoders: live outputs (RTMP, HLS) share the recording's encode. Not
 * `allow-not-linked`: that turned a not-linked answer of the recording's branch into a silent OK,
 * and composites were then written without their audio track (3 of 30 short runs, none in 40
 * without it). Outputs never answer not-linked (errorignore first in each), so it is not needed.
 */
export const VIDEO_TEE = 'vtee';
export const AUDIO_TEE = 'atee';
const outputTee = (name: string): ElementSpec => ({ name, factory: 'tee', props: { 'allow-not-linked': false } });
export const LEVEL_INTERVAL_MS = 200;
/** Rate of a camera branch before the compositor: the senders' own (up to 30), never the canvas rate (see above). */
export const TILE_INPUT_FPS = 30;
/** A camera gap the tile's videorate leaves unfilled (see above): far above RTP jitter and a lost frame or two. */
export const MAX_TILE_FILL_NS = 500_000_000;
/** The canvas: black, live, there with zero hosts. */
const CANVAS_SOURCE = 'bg';
/**
 * The canvas's colour description, fixed. Left open, the compositor's output colorimetry followed
 * its inputs (bt601 from the background, then 2:4:0:0 when an H.264 tile came, then back), and
 * every such caps change made the output videorate rebase its timestamps with a truncation: frames
 * came 1 ns early (2.999999999 s), the encoder applied splitmuxsink's keyframe request for 3 s one
 * frame late, and the GOP grid shifted so that the next snippet was cut 14 frames short. The
 * background and the placeholders are drawn in exactly this format (I420, not videotestsrc's own
 * 8-byte-a-pixel choice), so the compositor copies and blends them without converting them.
 */
const CANVAS_COLORIMETRY = 'colorimetry=bt601,chroma-site=jpeg';

/** Names of a host branch's elements that the host adjusts at run time or links to the mixers. */
export const branchNames = (hostId: string) => ({
  placeholderSource: `${hostId}-ph-src`,
  placeholderCaps: `${hostId}-ph-caps`,
  labelSource: `${hostId}-ph-label-src`,
  labelText: `${hostId}-ph-text`,
  videoCaps: `${hostId}-v-caps`,
  videoRate: `${hostId}-v-rate`,
  videoAllocation: `${hostId}-v-alloc`,
  videoQueue: inputNames(hostId, 'video').queue,
  level: `${hostId}-a-level`,
  volume: `${hostId}-a-volume`,
});

export const BACKGROUND_CAPS = 'bg-caps';

/**
 * Mixer settings the pipeline host applies only after the mixer's always-present input (the
 * silence) has delivered its first buffer: the audio mixer's. `ignore-inactive-pads` makes a
 * live mixer skip pads that never had a buffer, and GStreamer 1.22's aggregators then count
 * "every pad skipped" as "every pad at EOS": a timeout before any input buffer (seen right at
 * start, about once in 60 runs) ended the mixer's stream for good. For the audio
 * mixer that meant an EOS without caps at the snippet sink, so every snippet's audio track had no
 * sample description. Once one pad is active that cannot happen; until then the mixer simply
 * waits for its latency, as it does anyway for a pad without data. The compositor never skips
 * inactive pads (see its element below).
 */
export const AFTER_FIRST_INPUT: ReadonlyArray<{ mixer: string; input: string; props: Record<string, PropValue> }> = [
  { mixer: AUDIO_MIXER, input: `${SILENCE_SOURCE}-caps`, props: { 'ignore-inactive-pads': true } },
];

const mixerLatencyNs = (config: CompositeRecordingConfig) => (jitterLatencyMs(config) + 150) * 1_000_000;

export function buildComposite(config: CompositeRecordingConfig): PipelineSpec {
  const { width, height, fps } = config;
  const bg: ElementSpec[] = [
    { name: CANVAS_SOURCE, factory: 'videotestsrc', props: { 'is-live': true, pattern: 'black' } },
    { name: BACKGROUND_CAPS, factory: 'capsfilter', props: { caps: `video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1,${CANVAS_COLORIMETRY}` } },
  ];
  const video: ElementSpec[] = [
    {
      name: VIDEO_MIXER,
      factory: 'compositor',
      // Room for the jitter buffers' latency, so hosts added later are never late. Every pad is
      // waited for, also a camera's before its first frame: skipped (ignore-inactive-pads), the
      // canvas frames of a camera's first frames were made before they came, and its first flash
      // showed a canvas frame late.
      props: { background: 'black', latency: mixerLatencyNs(config) },
    },
    { name: 'vmix-caps', factory: 'capsfilter', props: { caps: `video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1,${CANVAS_COLORIMETRY}` } },
    { name: OUTPUT_RATE, factory: 'videorate' },
    queue('vq'),
    x264(VIDEO_ENCODER, config.videoBitrateKbps, config.x264Preset, fps),
    { name: 'vparse', factory: 'h264parse', props: { 'config-interval': -1 } },
    outputTee(VIDEO_TEE),
    queue('vq2'),
  ];
  const quiet = silence(SILENCE_SOURCE, FLOAT_MIX_CAPS);
  const audio: ElementSpec[] = [
    audioMixer(AUDIO_MIXER, mixerLatencyNs(config)),
    // Hosts speaking at once sum above full scale: the mix (in float) goes through a limiter
    // before the encoder instead of being clipped.
    { name: AUDIO_LIMITER, factory: 'audiodynamic', props: { mode: 'compressor', characteristics: 'hard-knee', threshold: LIMITER_THRESHOLD, ratio: LIMITER_RATIO } },
    ...aacEncoder('aenc', config.audioBitrateKbps),
    outputTee(AUDIO_TEE),
    queue('aq'),
  ];
  return {
    elements: [...bg, ...video, ...quiet, ...audio, snippetSink(config, 'mp4', true)],
    links: [
      ...chain(bg.map((e) => e.name)),
      { from: BACKGROUND_CAPS, to: VIDEO_MIXER, toPad: 'sink_%u', toPadProps: { zorder: 0 } },
      // No AAC priming offset here (common.ts AAC_PRIMING_NS): the tiles' sample and hold already
      // shows video up to a canvas frame late, and delaying it would push the offset to the bound.
      ...chain(video.map((e) => e.name)),
      { from: 'vq2', to: SINK, toPad: 'video' },
      ...chain(quiet.map((e) => e.name)),
      { from: quiet[quiet.length - 1]!.name, to: AUDIO_MIXER, toPad: 'sink_%u' },
      ...chain(audio.map((e) => e.name)),
      { from: 'aq', to: SINK, toPad: 'audio_%u' },
    ],
  };
}

/** A stable, distinct colour per host for its placeholder tile (ARGB). */
export function hostColour(hostId: string): number {
  let h = 0;
  for (const c of hostId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  // HSL(hue, 45%, 35%) → RGB: muted colours that keep white text readable.
  const s = 0.45;
  const l = 0.35;
  const k = (n: number) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return ((0xff << 24) | (f(0) << 16) | (f(8) << 8) | f(4)) >>> 0;
}

export const tileCaps = (tile: Tile, fps?: number) =>
  `video/x-raw,width=${tile.width},height=${tile.height},pixel-aspect-ratio=1/1${fps ? `,framerate=${fps}/1` : ''}`;
/** A placeholder is drawn in the canvas's own format, so the compositor only scales and blends it. */
const stillCaps = (width: number, height: number, fps: number) =>
  `video/x-raw,width=${width},height=${height},pixel-aspect-ratio=1/1,framerate=${fps}/1,format=I420,${CANVAS_COLORIMETRY}`;
/** The placeholder's fill: a solid colour, so any size will do; the compositor scales it to the tile. */
export const PLACEHOLDER_FILL_SIZE = 16;
/**
 * The name strip as drawn, for a tile this wide (textoverlay's font size is relative to a 640-pixel
 * frame); a narrower tile shows it scaled by its width. Two lines of a long name fit.
 */
export const LABEL_WIDTH = 640;
export const LABEL_HEIGHT = 48;
/** The fill is a solid colour: nearest-neighbour scaling keeps it exact and costs least. */
const FILL_CONVERTER = 'GstVideoConverter, GstVideoConverter.resampler-method=(GstVideoResamplerMethod)nearest';

/** The layers of a host's tile, bottom to top; also the order of its compositor pads. */
export const TILE_LAYERS = ['placeholder', 'label', 'camera'] as const;
export type TileLayer = (typeof TILE_LAYERS)[number];

const evenFloor = (n: number) => Math.floor(n / 2) * 2;

/** Where the name strip goes in a tile: the tile's width, centred vertically. */
export function labelRect(tile: Tile): { x: number; y: number; width: number; height: number } {
  const height = Math.min(tile.height, Math.max(2, evenFloor((LABEL_HEIGHT * tile.width) / LABEL_WIDTH)));
  return { x: tile.x, y: tile.y + evenFloor((tile.height - height) / 2), width: tile.width, height };
}

/** Compositor pad properties for a layer of a tile; the camera layer is hidden (alpha 0) while the camera is off. */
export function padProps(tile: Tile, layer: TileLayer, cameraOn: boolean) {
  const shown = tile.visible && (layer !== 'camera' || cameraOn);
  const rect = layer === 'label' ? labelRect(tile) : tile;
  return { xpos: rect.x, ypos: rect.y, width: rect.width, height: rect.height, zorder: tile.zorder * TILE_LAYERS.length + TILE_LAYERS.indexOf(layer), alpha: shown ? 1 : 0 };
}

export function buildHostBranch(config: CompositeRecordingConfig, host: HostMedia, tile: Tile): BranchSpec {
  const id = host.hostId;
  const n = branchNames(id);
  // Drawn once, at the join (see the top of this file): one frame each, held by the compositor pads.
  const still = { 'is-live': true, 'num-buffers': 1, pattern: 'solid-color', 'foreground-color': hostColour(id) };
  const placeholder: ElementSpec[] = [
    { name: n.placeholderSource, factory: 'videotestsrc', props: still },
    { name: n.placeholderCaps, factory: 'capsfilter', props: { caps: stillCaps(PLACEHOLDER_FILL_SIZE, PLACEHOLDER_FILL_SIZE, config.fps) } },
  ];
  const label: ElementSpec[] = [
    { name: n.labelSource, factory: 'videotestsrc', props: still },
    { name: `${id}-ph-label-caps`, factory: 'capsfilter', props: { caps: stillCaps(LABEL_WIDTH, LABEL_HEIGHT, config.fps) } },
    {
      name: n.labelText,
      factory: 'textoverlay',
      props: { text: host.displayName, valignment: 'center', halignment: 'center', 'font-desc': 'Sans Bold 14', 'shaded-background': false },
    },
  ];
  const decode: ElementSpec[] =
    host.video.codec === 'H264'
      ? [{ name: `${id}-v-parse`, factory: 'h264parse' }, { name: `${id}-v-dec`, factory: 'avdec_h264' }]
      : [vp8Decoder(`${id}-v-dec`)];
  const video: ElementSpec[] = [
    ...rtpInput(config, host, 'video'),
    ...decode,
    { name: `${id}-v-conv`, factory: 'videoconvert' },
    // RTP video (VP8 above all) has a variable frame rate, 0/1; videorate fixes it at the camera
    // rate (not the canvas rate: see the top of this file), and skip-to-first keeps a late-joining
    // branch from filling the time before its first frame.
    { name: n.videoRate, factory: 'videorate', props: { 'skip-to-first': true, 'max-duplication-time': MAX_TILE_FILL_NS } },
    { name: `${id}-v-scale`, factory: 'videoscale' },
    { name: n.videoCaps, factory: 'capsfilter', props: { caps: tileCaps(tile, TILE_INPUT_FPS) } },
    // A resize's allocation queries stop here, never waiting on the compositor (see above).
    { name: n.videoAllocation, factory: 'identity', props: { 'drop-allocation': true, silent: true } },
    leakyQueue(n.videoQueue),
  ];
  const audio: ElementSpec[] = [
    ...rtpInput(config, host, 'audio'),
    opusDecoder(`${id}-a-dec`),
    { name: `${id}-a-conv`, factory: 'audioconvert' },
    { name: `${id}-a-resample`, factory: 'audioresample' },
    { name: `${id}-a-caps`, factory: 'capsfilter', props: { caps: FLOAT_MIX_CAPS } },
    { name: n.level, factory: 'level', props: { 'post-messages': true, interval: LEVEL_INTERVAL_MS * 1_000_000 } },
    { name: n.volume, factory: 'volume', props: { mute: !host.microphone } },
  ];
  return {
    hostId: id,
    elements: [...placeholder, ...label, ...video, ...audio],
    links: [placeholder, label, video, audio].flatMap((part) => chain(part.map((e) => e.name))),
    // In TILE_LAYERS order, then the audio.
    outputs: [
      {
        from: n.placeholderCaps,
        to: VIDEO_MIXER,
        toPad: 'sink_%u',
        toPadProps: { ...padProps(tile, 'placeholder', host.camera), 'repeat-after-eos': true, 'converter-config': FILL_CONVERTER },
      },
      { from: n.labelText, to: VIDEO_MIXER, toPad: 'sink_%u', toPadProps: { ...padProps(tile, 'label', host.camera), 'repeat-after-eos': true } },
      { from: n.videoQueue, to: VIDEO_MIXER, toPad: 'sink_%u', toPadProps: padProps(tile, 'camera', false) }, // shown from its first frame (the host)
      { from: n.volume, to: AUDIO_MIXER, toPad: 'sink_%u' },
    ],
  };
}
