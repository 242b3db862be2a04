// Which snippets make a clip, and where its range has no video: from the bucket listing alone
// (the contract's object names carry recording, sequence and times). Pure.
import type { ClipGap, ClipPlan, ClipRequest, ClipSource } from '../../workflows/clip.types';
import type { StoredSnippet } from '../ship/snippet-listing';

/** Holes shorter than this between consecutive snippets are clock jitter, not gaps. */
export const GAP_TOLERANCE_MS = 250;

const ms = Date.parse;
const iso = (t: number) => new Date(t).toISOString();

/** `listing` is every snippet of the livestream (all recordings) in the bucket. */
export function planClip(listing: StoredSnippet[], req: ClipRequest): ClipPlan {
  const start = ms(req.start);
  const end = ms(req.end);
  const ofRecording = listing.filter((s) => s.recording === req.recording).sort((a, b) => a.sequence - b.sequence);
  const inRange = ofRecording.filter((s) => ms(s.startTime) < end && ms(s.endTime) > start);

  const gaps: ClipGap[] = [];
  const addGap = (from: number, to: number, kind: ClipGap['kind'], included: boolean) => {
    const last = gaps[gaps.length - 1];
    if (last && last.kind === kind && ms(last.end) >= from - GAP_TOLERANCE_MS) last.end = iso(Math.max(ms(last.end), to));
    else gaps.push({ start: iso(from), end: iso(to), kind, included });
  };
  // Walk the range in time order: MP3 snippets are the camera-off stretches, holes between
  // snippets (and at the ends of the range) had no media at all.
  let cursor = start;
  for (const s of inRange) {
    const from = Math.max(start, ms(s.startTime));
    const to = Math.min(end, ms(s.endTime));
    if (from - cursor > GAP_TOLERANCE_MS) addGap(cursor, from, 'no-media', false);
    if (s.contentType === 'audio/mpeg') addGap(from, to, 'camera-off', req.includeAudioOnly);
    cursor = Math.max(cursor, to);
  }
  const coveredUntil = inRange.length ? iso(Math.max(...inRange.map((s) => ms(s.endTime)))) : null;
  if (end - cursor > GAP_TOLERANCE_MS) addGap(cursor, end, 'no-media', false);

  const sources: ClipSource[] = inRange
    .filter((s) => s.contentType === 'video/mp4' || req.includeAudioOnly)
    .map((s) => ({ uri: s.uri, sequence: s.sequence, startTime: s.startTime, endTime: s.endTime, contentType: s.contentType, sizeBytes: s.sizeBytes }));
  return {
    sources,
    gaps,
    coveredUntil,
    livestreamHasSnippets: listing.length > 0,
    recordingHasSnippets: ofRecording.length > 0,
  };
}
