// Ships the composite's live HLS rendition: the pipeline's hlssink2 writes `{run}-NNNNNN.ts` segments and a
// rolling `playlist.m3u8` into `{spoolDir}/hls/`; this uploads each segment the playlist lists
// (closed segments only: hlssink2 lists a segment once it is complete) to
// `livestreams/{livestreamId}/hls/`, then the published playlist, so a player reading the bucket
// always finds every segment its playlist names. The published playlist is not hlssink2's: it
// carries the segments across runs (a retried HLS output, a restarted recording) with a media
// sequence that only grows and a discontinuity at each new run (hls-playlist.ts); a new shipper
// continues from the bucket's copy. A local segment is deleted once it is uploaded and has left
// the local playlist, and every uploaded one after the last pass of a finished recording. A
// segment no playlist ever listed is one a stalled HLS attempt abandoned (the output restarts
// under a new prefix, and hlssink2's playlist starts afresh): it goes once it has not been written
// for ABANDONED_SEGMENT_MS, or at the end. Segments under the prefix are never deleted from the bucket (a
// lifecycle rule on the prefix is the place for that). Runs inside the shipRecording activity of a
// composite recording; a recording without HLS has no folder and this does nothing.
import { access, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import type { Logger } from '../../apps/common/logger';
import { HLS_PLAYLIST, HLS_SEGMENT as SEGMENT, hlsPrefix } from '../../pipelines/outputs/outputs';
import { parseMediaPlaylist, PublishedPlaylist } from './hls-playlist';
import { httpStatus } from './shipper';
import { backoffDelay } from './stats';

/**
 * An unlisted segment untouched this long was abandoned: hlssink2 writes a segment continuously and
 * lists it within a segment length (6 s at most), and a stalled attempt is replaced after three
 * segment lengths plus 5 s (pipelines/outputs/output-set.ts).
 */
export const ABANDONED_SEGMENT_MS = 60_000;

export interface HlsShipStatus {
  segmentsUploaded: number;
  /** Local segments deleted because no playlist listed them (abandoned by a stalled attempt). */
  abandonedDeleted: number;
  playlistUploads: number;
  lastUploadAt: string | null;
  lastError: string | null;
  ended: boolean;
}

export interface HlsShipperDeps {
  storage: Storage;
  bucket: string;
  logger: Logger;
  intervalMs?: number;
  backoffMaxMs?: number;
}

export class HlsShipper {
  private readonly uploaded = new Set<string>();
  /** Every segment a local playlist has listed while this shipper watched. */
  private readonly listedEver = new Set<string>();
  /** What the last local playlist lists. */
  private current = new Set<string>();
  private lastPlaylist = '';
  /** What players see; loaded from the bucket on the first pass. */
  private published: PublishedPlaylist | null = null;
  private readonly counters: HlsShipStatus = { segmentsUploaded: 0, abandonedDeleted: 0, playlistUploads: 0, lastUploadAt: null, lastError: null, ended: false };
  private readonly dir: string;
  private readonly log: Logger;

  constructor(
    private readonly ref: { livestreamId: string; spoolDir: string },
    private readonly deps: HlsShipperDeps,
  ) {
    this.dir = join(ref.spoolDir, 'hls');
    this.log = deps.logger.child({ livestreamId: ref.livestreamId, output: 'hls' });
  }

  status(): HlsShipStatus {
    return { ...this.counters };
  }

  /** One pass: upload what the playlist lists and is not up yet, then the published playlist, then tidy the folder. */
  async syncOnce(): Promise<void> {
    const text = await readFile(join(this.dir, HLS_PLAYLIST), 'utf8').catch(() => null);
    if (text === null || text === this.lastPlaylist) return;
    const local = parseMediaPlaylist(text);
    const listed = local.entries.map((e) => e.name);
    for (const name of listed) this.listedEver.add(name);
    const bucket = this.deps.storage.bucket(this.deps.bucket);
    const prefix = hlsPrefix(this.ref.livestreamId);
    const playlist = bucket.file(`${prefix}/${HLS_PLAYLIST}`);
    if (this.published === null) this.published = await this.loadPublished(playlist);
    for (const name of listed) {
      if (this.uploaded.has(name) || !SEGMENT.test(name)) continue;
      try {
        await bucket.upload(join(this.dir, name), {
          destination: `${prefix}/${name}`,
          resumable: false,
          // Segments never change: a retry after an upload whose answer was lost finds it there.
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: { contentType: 'video/mp2t', cacheControl: 'public, max-age=3600' },
        });
      } catch (e) {
        if (httpStatus(e) !== 412) throw e;
      }
      this.uploaded.add(name);
      this.counters.segmentsUploaded++;
    }
    // Last: the playlist, which now names only objects that exist. Never cached, it changes.
    if (this.published.merge(local)) {
      const out = this.published.render();
      await playlist.save(out, {
        resumable: false,
        metadata: { contentType: 'application/vnd.apple.mpegurl', cacheControl: 'no-cache, max-age=0' },
      });
      this.counters.playlistUploads++;
      this.counters.lastUploadAt = new Date().toISOString();
      this.counters.ended = out.includes('#EXT-X-ENDLIST');
    }
    this.lastPlaylist = text;
    this.current = new Set(listed);
    await this.tidy(false);
  }

  /**
   * Deletes the local segments that are done: uploaded and out of the local playlist (all uploaded
   * ones when `final`), and those no playlist listed, once abandoned (all of them when `final`).
   * A listed segment that is not uploaded yet is always kept.
   */
  private async tidy(final: boolean, now = Date.now()): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!SEGMENT.test(name)) continue;
      const file = join(this.dir, name);
      if (this.uploaded.has(name)) {
        if (final || !this.current.has(name)) await unlink(file).catch(() => undefined);
        continue;
      }
      if (this.listedEver.has(name)) continue;
      if (!final) {
        const writtenAt = await stat(file).then((st) => st.mtimeMs, () => now);
        if (now - writtenAt <= ABANDONED_SEGMENT_MS) continue;
      }
      await unlink(file).catch(() => undefined);
      this.counters.abandonedDeleted++;
      this.log.info({ segment: name }, 'HLS segment no playlist listed deleted (a stalled attempt abandoned it)');
    }
  }

  /** The bucket's published playlist (an earlier shipper's), or a new one; its segments are up already. */
  private async loadPublished(file: ReturnType<ReturnType<Storage['bucket']>['file']>): Promise<PublishedPlaylist> {
    let text: string;
    try {
      text = (await file.download())[0].toString('utf8');
    } catch (e) {
      if (httpStatus(e) === 404) return new PublishedPlaylist();
      throw e;
    }
    const earlier = parseMediaPlaylist(text);
    for (const e of earlier.entries) this.uploaded.add(e.name);
    this.log.info({ mediaSequence: earlier.mediaSequence, segments: earlier.entries.length }, 'HLS playlist continues the one in the bucket');
    return new PublishedPlaylist(earlier);
  }

  /** Syncs every interval until `stop` aborts or the recording is finished (finished.json) and a last pass ran. */
  async run(stop?: AbortSignal): Promise<HlsShipStatus> {
    const interval = this.deps.intervalMs ?? 1000;
    let attempt = 0;
    while (!stop?.aborted) {
      const finished = await access(join(this.ref.spoolDir, 'finished.json')).then(
        () => true,
        () => false,
      );
      try {
        await this.syncOnce();
        attempt = 0;
        this.counters.lastError = null;
        if (finished) {
          // The last playlist is published: nothing here is needed any more but what never went up.
          await this.tidy(true);
          break;
        }
        await sleep(interval, stop);
      } catch (e) {
        const delayMs = backoffDelay(attempt++, 500, this.deps.backoffMaxMs ?? 30_000);
        this.counters.lastError = (e as Error).message;
        this.log.warn({ err: this.counters.lastError, attempt, delayMs }, 'HLS upload failed; retrying');
        await sleep(delayMs, stop);
      }
    }
    return this.status();
  }
}

function sleep(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    }
    stop?.addEventListener('abort', done);
  });
}
