// SnippetStore over Cloud Storage: lists `livestreams/{livestreamId}/[{recording}/]` (parsing in
// activities/ship/snippet-listing.ts, shared with extended clips), bounded by the API's backend
// timeout, with storage errors as the API's domain errors.
import type { Storage } from '@google-cloud/storage';
import { BackendTimeout, BackendUnavailable } from '../common/errors';
import { listStoredSnippets } from '../../../activities/ship/snippet-listing';
import { SnippetStore, type StoredSnippet } from './livestreams.port';

export { isoFromCompact, parseSnippetName } from '../../../activities/ship/snippet-listing';

export class GcsSnippetStore extends SnippetStore {
  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  async list(livestreamId: string, recording?: string): Promise<StoredSnippet[]> {
    const prefix = `livestreams/${livestreamId}/${recording ? `${recording}/` : ''}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BackendTimeout('storage', `listing ${prefix} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([listStoredSnippets(this.storage, this.bucket, livestreamId, recording), timeout]);
    } catch (e) {
      if (e instanceof BackendTimeout) throw e;
      throw new BackendUnavailable('storage', e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }
}
