// The clip feature's domain errors (mapped to HTTP by the one exception filter, by kind).
import { DomainError } from '../common/errors';

export class ClipNotFound extends DomainError {
  constructor(clipId: string) {
    super('not_found', 'clip_not_found', `clip "${clipId}" does not exist`, { clipId });
  }
}

export class RecordingNotFound extends DomainError {
  constructor(livestreamId: string, recording: string) {
    super('not_found', 'recording_not_found', `livestream "${livestreamId}" has no recording "${recording}"`, { livestreamId, recording });
  }
}

/** The range is in the past and the bucket has nothing to make a clip of. */
export class NoSnippetsInRange extends DomainError {
  constructor(livestreamId: string, recording: string, start: string, end: string, hint?: string) {
    super('not_found', 'no_snippets_in_range', `no snippets of ${recording} of livestream "${livestreamId}" between ${start} and ${end}${hint ? ` (${hint})` : ''}`, {
      livestreamId,
      recording,
      start,
      end,
    });
  }
}
