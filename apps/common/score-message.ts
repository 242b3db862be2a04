// The score message a moderation scorer publishes on `snippet-scores` (tapedeck.score.v1, see
// schemas/tapedeck.score.v1.json) and where the reference scorer keeps it in the bucket. Shared by
// the scorer (apps/moderator), the API's reviewer routes and the demo.

export const SCORE_SCHEMA = 'tapedeck.score.v1';

/** Every score document; flagged ones also under FLAGGED_PREFIX, which the reviewer page lists. */
export const SCORES_PREFIX = 'moderation/scores/';
export const FLAGGED_PREFIX = 'moderation/flagged/';
export const scoreObjectName = (m: { livestreamId: string; snippetId: string }) => `${SCORES_PREFIX}${m.livestreamId}/${m.snippetId}.json`;
export const flaggedObjectName = (m: { livestreamId: string; snippetId: string }) => `${FLAGGED_PREFIX}${m.livestreamId}/${m.snippetId}.json`;

export interface AudioScore {
  windows: number;
  silentRatio: number;
  clippedRatio: number;
  /** Mean RMS over the windows that are not silent, dBFS; null when all are. */
  meanRmsDb: number | null;
  score: number;
}

export interface VideoScore {
  frames: number;
  frozenRatio: number;
  blackRatio: number;
  meanLuma: number;
  /** Mean absolute luma difference between consecutive frames (0..255). */
  meanDiff: number;
  score: number;
}

export interface SnippetScore {
  score: number;
  flagged: boolean;
  reasons: string[];
  audio: AudioScore | null;
  video: VideoScore | null;
}

export interface ClipRequestRecord {
  recording: 'composite' | { hostId: string };
  start: string;
  end: string;
  /** Set when the API accepted it. */
  clipId?: string;
  /** Set when it refused it (the reason as the API gave it). */
  error?: string;
  requestedAt: string;
}

export interface ScoreMessageV1 extends SnippetScore {
  schema: typeof SCORE_SCHEMA;
  snippetId: string;
  livestreamId: string;
  recordingId: string;
  kind: 'composite' | 'individual';
  hostId?: string;
  sequence: number;
  startTime: string;
  endTime: string;
  uri: string;
  threshold: number;
  scorer: string;
  analysedAt: string;
  analysisMs: number;
  clip?: ClipRequestRecord;
}
