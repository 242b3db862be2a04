// Builds one host's individual recording as data.
//
//   variant av (MP4):
//     v-src udpsrc → v-jb rtpjitterbuffer → rtph264depay → h264parse → v-count ────┐ (H.264: as sent)
//     v-src udpsrc → v-jb rtpjitterbuffer → rtpvp8depay → avdec_vp8 → videoconvert → videorate(30) │
//                                         → x264enc → h264parse ──────────────────┤ (VP8: transcoded)
//                                                                 v-queue → snippets.video (mp4mux)
//     silence audiotestsrc ─┐
//     a-src → a-jb → rtpopusdepay → a-count → opusdec → audioconvert → audioresample → a-queue ─┤→ amix audiomixer
//       → avenc_aac → aacparse → agate valve (opens at the first video buffer) → aq → snippets.audio_%u
//
//   variant audio (MP3): the same audio mix → lamemp3enc → mpegaudioparse → snippets (id3v2mux)
//
// The silent source keeps audio (and so the snippet cuts) flowing while the microphone is quiet.
import type { IndividualRecordingConfig } from '../config';
import { chain, type ElementSpec, type LinkSpec, type PipelineSpec } from '../spec';
import { AAC_PRIMING_NS, aacEncoder, audioMixer, frameCounter, MIX_CAPS, inputNames, jitterLatencyMs, opusDecoder, queue, rtpInput, silence, SILENCE_SOURCE, snippetSink, SINK, vp8Decoder, x264 } from './common';

export const AUDIO_MIXER = 'amix';
export const VIDEO_ENCODER = 'venc';
export const AUDIO_ENCODER = 'aenc';
/** The videorate in front of a transcoding encoder: its counters are the recording's output frame stats. */
export const transcodeRateName = (hostId: string) => `${hostId}-v-rate`;
/** Frame rate of transcoded VP8 (cameras send up to 30). */
export const TRANSCODE_FPS = 30;

export function buildIndividual(config: IndividualRecordingConfig): PipelineSpec {
  const host = config.host;
  const elements: ElementSpec[] = [];
  const links: LinkSpec[] = [];
  const av = config.variant === 'av';
  const transcode = av && host.video.codec !== 'H264';

  if (av) {
    const n = inputNames(host.hostId, 'video');
    const video = rtpInput(config, host, 'video');
    if (transcode) {
      video.push(
        vp8Decoder(`${host.hostId}-v-dec`),
        { name: `${host.hostId}-v-conv`, factory: 'videoconvert' },
        // RTP gives a variable frame rate; a constant one makes the 1 s GOPs line up with the cuts.
        { name: transcodeRateName(host.hostId), factory: 'videorate', props: { 'skip-to-first': true } },
        { name: `${host.hostId}-v-fps`, factory: 'capsfilter', props: { caps: `video/x-raw,framerate=${TRANSCODE_FPS}/1` } },
        x264(VIDEO_ENCODER, config.videoBitrateKbps, 'ultrafast', TRANSCODE_FPS),
      );
    }
    // config-interval=-1: SPS/PPS before every keyframe, so every snippet decodes on its own.
    video.push({ name: `${host.hostId}-v-parse`, factory: 'h264parse', props: { 'config-interval': -1 } });
    // Passed-through H.264 has no videorate to poll: count its access units.
    if (!transcode) video.push(frameCounter(n.count));
    video.push(queue(n.queue));
    elements.push(...video);
    links.push(...chain(video.map((e) => e.name)), { from: n.queue, to: SINK, toPad: 'video', toPadProps: { offset: AAC_PRIMING_NS } });
  }

  const a = inputNames(host.hostId, 'audio');
  const audio = [
    ...rtpInput(config, host, 'audio'),
    opusDecoder(`${host.hostId}-a-dec`),
    { name: `${host.hostId}-a-conv`, factory: 'audioconvert' },
    { name: `${host.hostId}-a-resample`, factory: 'audioresample' },
    { name: `${host.hostId}-a-caps`, factory: 'capsfilter', props: { caps: MIX_CAPS } },
    queue(a.queue),
  ];
  const quiet = silence(SILENCE_SOURCE);
  // Room for the jitter buffer's latency, so a host's audio is never dropped as late.
  elements.push(...audio, ...quiet, audioMixer(AUDIO_MIXER, (jitterLatencyMs(config) + 100) * 1_000_000));
  links.push(
    ...chain(audio.map((e) => e.name)),
    { from: a.queue, to: AUDIO_MIXER, toPad: 'sink_%u', toPadProps: { volume: host.microphone ? 1 : 0 } },
    ...chain(quiet.map((e) => e.name)),
    { from: quiet[quiet.length - 1]!.name, to: AUDIO_MIXER, toPad: 'sink_%u' },
  );

  let encoder: ElementSpec[];
  if (av) {
    encoder = [...aacEncoder(AUDIO_ENCODER, config.audioBitrateKbps, true), queue('aq')];
  } else {
    encoder = [
      { name: `${AUDIO_ENCODER}-conv`, factory: 'audioconvert' },
      { name: AUDIO_ENCODER, factory: 'lamemp3enc', props: { target: 'bitrate', bitrate: Math.max(32, config.audioBitrateKbps), cbr: true } },
      { name: `${AUDIO_ENCODER}-parse`, factory: 'mpegaudioparse' },
      queue('aq'),
    ];
  }
  elements.push(...encoder, snippetSink(config, av ? 'mp4' : 'mp3', transcode));
  links.push(...chain([AUDIO_MIXER, ...encoder.map((e) => e.name)]), { from: 'aq', to: SINK, toPad: av ? 'audio_%u' : 'video' });
  return { elements, links };
}
