// The reference moderation scorer as a service: takes each `recording-snippets` message, drops
// duplicates by snippetId, downloads the snippet, measures it (analyse.ts), scores it (score.ts),
// publishes a `tapedeck.score.v1` message on `snippet-scores`, keeps the score in the bucket
// (`moderation/scores/…`, and flagged ones also under `moderation/flagged/…`, which the reviewer
// page lists), and asks the API for an extended clip around every flagged snippet.
//
// At least once in, one score per snippet in the normal case: the bucket object is the record of
// a finished snippet (written last, with a does-not-exist precondition), so a redelivery after a
// restart finds it and is acked without work. A crash between publishing and writing it, or two
// moderators racing, can publish a score twice: consumers drop duplicates by snippetId.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub, Message, Subscription } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { TOPICS } from '../common/resources';
import type { Logger } from '../common/logger';
import type { SnippetMessageV1 } from '../../activities/ship/message';
import { analyseFile, type Measurements } from './analyse';
import { SCORE_SCHEMA, flaggedObjectName, scoreObjectName, type ClipRequestRecord, type ScoreMessageV1, type SnippetScore } from '../common/score-message';
import { scoreSnippet } from './score';

export interface ModeratorOptions {
  storage: Storage;
  pubsub: PubSub;
  bucket: string;
  subscription: string;
  threshold: number;
  clipMarginSeconds: number;
  analysisTimeoutMs: number;
  concurrency: number;
  /** The API the clip requests go to, with a token of the moderation role. */
  api: { url: string; token: string | undefined };
  logger: Logger;
  analyse?: (file: string, opts: { audio: boolean; video: boolean; timeoutMs: number }) => Promise<Measurements>;
}


export const SCORER = 'tapedeck-reference-scorer/1';

/** Retry later (nack): the API or a cloud service did not answer. */
class Transient extends Error {}

export class Moderator {
  private sub: Subscription | undefined;
  private readonly inFlight = new Set<string>();
  readonly counts = { received: 0, duplicates: 0, scored: 0, flagged: 0, clipsRequested: 0, failed: 0 };

  constructor(private readonly o: ModeratorOptions) {}

  start(): void {
    const sub = this.o.pubsub.subscription(this.o.subscription, { flowControl: { maxMessages: this.o.concurrency, allowExcessMessages: false } });
    sub.on('message', (m: Message) => void this.onMessage(m));
    sub.on('error', (e) => this.o.logger.warn({ err: e.message }, 'subscription error (the client reconnects)'));
    this.sub = sub;
    this.o.logger.info({ subscription: this.o.subscription, threshold: this.o.threshold }, 'moderator listening');
  }

  async stop(): Promise<void> {
    await this.sub?.close().catch(() => undefined);
    this.sub = undefined;
  }

  private async onMessage(m: Message): Promise<void> {
    this.counts.received++;
    let snippet: SnippetMessageV1;
    try {
      snippet = JSON.parse(m.data.toString()) as SnippetMessageV1;
      if (snippet.schema !== 'tapedeck.snippet.v1' || !snippet.snippetId || !snippet.uri) throw new Error('not a tapedeck.snippet.v1 message');
    } catch (e) {
      this.o.logger.error({ messageId: m.id, err: (e as Error).message }, 'unreadable message dropped');
      m.ack();
      return;
    }
    const log = this.o.logger.child({ livestreamId: snippet.livestreamId, recordingId: snippet.recordingId, hostId: snippet.hostId, sequence: snippet.sequence, snippetId: snippet.snippetId });
    if (this.inFlight.has(snippet.snippetId)) {
      this.counts.duplicates++;
      m.ack(); // the copy being worked on will finish it
      return;
    }
    this.inFlight.add(snippet.snippetId);
    try {
      const done = await this.process(snippet, log);
      if (!done) this.counts.duplicates++;
      m.ack();
    } catch (e) {
      this.counts.failed++;
      if (e instanceof Transient) {
        log.warn({ err: e.message }, 'will retry');
        m.nack();
      } else {
        // bad media: reported as a score nobody can trust is worse than a clear error in the log
        log.error({ err: (e as Error).message }, 'snippet could not be scored');
        m.ack();
      }
    } finally {
      this.inFlight.delete(snippet.snippetId);
    }
  }

  /** Scores one snippet; false when it was already scored (a duplicate). */
  async process(snippet: SnippetMessageV1, log: Logger): Promise<boolean> {
    const bucket = this.o.storage.bucket(this.o.bucket);
    const record = bucket.file(scoreObjectName(snippet));
    const [exists] = await record.exists().catch((e: Error) => {
      throw new Transient(`bucket: ${e.message}`);
    });
    if (exists) return false;

    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'tapedeck-snippet-'));
    let measured: Measurements;
    try {
      const { bucketName, objectName } = parseGsUri(snippet.uri);
      const local = join(dir, objectName.split('/').pop()!);
      await this.o.storage
        .bucket(bucketName)
        .file(objectName)
        .download({ destination: local })
        .catch((e: Error & { code?: number }) => {
          if (e.code === 404) throw new Error(`${snippet.uri} is not in the bucket`);
          throw new Transient(`download: ${e.message}`);
        });
      const analyse = this.o.analyse ?? analyseFile;
      measured = await analyse(local, { audio: true, video: snippet.contentType === 'video/mp4', timeoutMs: this.o.analysisTimeoutMs });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const scored = scoreSnippet(measured, { fps: snippet.video?.fps ?? 15, threshold: this.o.threshold, durationMs: snippet.durationMs });
    const message: ScoreMessageV1 = {
      schema: SCORE_SCHEMA,
      snippetId: snippet.snippetId,
      livestreamId: snippet.livestreamId,
      recordingId: snippet.recordingId,
      kind: snippet.kind,
      ...(snippet.hostId ? { hostId: snippet.hostId } : {}),
      sequence: snippet.sequence,
      startTime: snippet.startTime,
      endTime: snippet.endTime,
      uri: snippet.uri,
      threshold: this.o.threshold,
      scorer: SCORER,
      analysedAt: new Date().toISOString(),
      analysisMs: Date.now() - started,
      ...scored,
    };
    if (scored.flagged) {
      message.clip = await this.requestClip(snippet, scored);
      this.counts.flagged++;
    }
    await this.o.pubsub
      .topic(TOPICS.scores)
      .publishMessage({ json: message, attributes: { schema: SCORE_SCHEMA, snippetId: snippet.snippetId, livestreamId: snippet.livestreamId, flagged: String(scored.flagged) } })
      .catch((e: Error) => {
        throw new Transient(`publish: ${e.message}`);
      });
    const body = JSON.stringify(message, null, 1);
    // does-not-exist precondition: a second moderator that scored the same snippet at the same
    // time leaves the first one's documents as they are (its message is a duplicate by snippetId)
    const save = (name: string) =>
      bucket
        .file(name)
        .save(body, {
          contentType: 'application/json',
          resumable: false,
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: { metadata: { flagged: String(scored.flagged), score: String(scored.score) } },
        })
        .catch((e: Error & { code?: number }) => {
          if (e.code !== 412) throw new Transient(`bucket: ${e.message}`);
        });
    if (scored.flagged) await save(flaggedObjectName(snippet));
    await save(scoreObjectName(snippet)); // last: it marks the snippet as done
    this.counts.scored++;
    log.info({ score: scored.score, flagged: scored.flagged, reasons: scored.reasons, clipId: message.clip?.clipId, analysisMs: message.analysisMs }, 'snippet scored');
    return true;
  }

  private async requestClip(snippet: SnippetMessageV1, scored: SnippetScore): Promise<ClipRequestRecord> {
    const margin = this.o.clipMarginSeconds * 1000;
    const record: ClipRequestRecord = {
      recording: snippet.kind === 'composite' ? 'composite' : { hostId: snippet.hostId! },
      start: new Date(Date.parse(snippet.startTime) - margin).toISOString(),
      end: new Date(Date.parse(snippet.endTime) + margin).toISOString(),
      requestedAt: new Date().toISOString(),
    };
    let res: Response;
    try {
      res = await fetch(`${this.o.api.url}/v1/clips`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.o.api.token ? { authorization: `Bearer ${this.o.api.token}` } : {}) },
        body: JSON.stringify({
          livestreamId: snippet.livestreamId,
          recording: record.recording,
          start: record.start,
          end: record.end,
          reason: `score ${scored.score}: ${scored.reasons.join('; ') || 'below threshold'}`.slice(0, 500),
          requestedBy: 'moderator',
        }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new Transient(`clip request: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new Transient(`clip request: HTTP ${res.status} ${text.slice(0, 200)}`);
    this.counts.clipsRequested++;
    try {
      const body = JSON.parse(text) as { clipId?: string; error?: { code?: string; message?: string } };
      if (res.ok && body.clipId) record.clipId = body.clipId;
      else record.error = `HTTP ${res.status}: ${body.error?.message ?? text.slice(0, 200)}`;
    } catch {
      record.error = `HTTP ${res.status}: ${text.slice(0, 200)}`;
    }
    return record;
  }
}

export function parseGsUri(uri: string): { bucketName: string; objectName: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not a gs:// URI: ${uri}`);
  return { bucketName: m[1]!, objectName: m[2]! };
}
