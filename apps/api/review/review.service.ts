// Flagged snippets for the reviewer page, read from the bucket where the moderation scorer keeps
// them (`moderation/flagged/{livestreamId}/{snippetId}.json`, one tapedeck.score.v1 document
// each). The bucket is the store because it is already the shared, durable place every
// component writes to: the API needs no subscription of its own and loses nothing across restarts.
import { Inject, Injectable } from '@nestjs/common';
import type { Storage } from '@google-cloud/storage';
import type { ApiConfig } from '../config';
import { BackendTimeout, BackendUnavailable } from '../common/errors';
import { API_CONFIG, STORAGE } from '../tokens';
import { FLAGGED_PREFIX, type ScoreMessageV1 } from '../../common/score-message';

/** A flagged snippet as the scorer kept it: its tapedeck.score.v1 document. */
export type FlaggedSnippet = ScoreMessageV1;

@Injectable()
export class ReviewService {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Newest first (by the snippet's start), at most `limit`, optionally of one livestream. */
  async flagged(opts: { livestreamId?: string; limit: number }): Promise<FlaggedSnippet[]> {
    const bucket = this.storage.bucket(this.config.bucket);
    const prefix = `${FLAGGED_PREFIX}${opts.livestreamId ? `${opts.livestreamId}/` : ''}`;
    return this.bounded(`reading ${prefix}`, async () => {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      // newest objects first, so only `limit` documents are downloaded
      const newest = files
        .filter((f) => f.name.endsWith('.json'))
        .sort((a, b) => String(b.metadata.timeCreated ?? '').localeCompare(String(a.metadata.timeCreated ?? '')))
        .slice(0, opts.limit);
      const docs = await Promise.all(
        newest.map(async (f) => {
          try {
            const [buf] = await f.download();
            return JSON.parse(buf.toString('utf8')) as FlaggedSnippet;
          } catch {
            return null; // deleted or half-written meanwhile: left out of this answer
          }
        }),
      );
      return docs.filter((d): d is FlaggedSnippet => d !== null).sort((a, b) => b.startTime.localeCompare(a.startTime));
    });
  }

  private async bounded<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.config.backendTimeoutMs;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BackendTimeout('storage', `${what} within ${ms} ms`)), ms);
        }),
      ]);
    } catch (e) {
      if (e instanceof BackendTimeout) throw e;
      throw new BackendUnavailable('storage', e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }
}
