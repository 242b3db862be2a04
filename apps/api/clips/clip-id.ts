// The clip id: a stable hash of the normalized request, so the same request always names the
// same clip (and the same workflow, `clip/{clipId}`, and object, `clips/{clipId}.mp4`). The
// free-text fields (reason, requestedBy) are carried but not part of it.
import { createHash } from 'node:crypto';
import type { ClipRequest } from '../../../workflows/clip.types';

export function clipIdOf(r: Pick<ClipRequest, 'livestreamId' | 'recording' | 'start' | 'end' | 'precise' | 'includeAudioOnly'>): string {
  const key = JSON.stringify(['tapedeck.clip.v1', r.livestreamId, r.recording, new Date(r.start).toISOString(), new Date(r.end).toISOString(), r.precise, r.includeAudioOnly]);
  return `clip-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}
