// Ships one recording's spool folder: watches it (fs.watch plus a periodic full rescan, since
// inotify can miss events), and for each complete snippet (its NNNNNN.json sidecar exists), in
// sequence order: verify → upload under a generation precondition → check the stored MD5 →
// publish `tapedeck.snippet.v1` with ordering key = recordingId → delete file, then sidecar.
// Progress of the snippet in flight is kept in shipped.json, so a crash at any step resumes at
// the next one; every step is idempotent anyway (object name and snippetId derive from ids), so
// the worst a lost state file costs is one duplicate message with the same snippetId.
// Outages back off (bounded, jittered) with the snippet left in the spool; nothing is deleted
// unshipped. Corrupt files go to quarantine/ with a reason file.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { Logger } from '../../apps/common/logger';
import { TOPICS } from '../../apps/common/resources';
import {
  FINISHED_MARKER_FILE,
  QUARANTINE_DIR,
  QUARANTINE_REASON_SUFFIX,
  SHIP_STATE_FILE,
  SPOOL_SCHEMA,
  type FinishedMarker,
  type ShipState,
  type SnippetMetadata,
} from '../../pipelines/spool';
import { buildMessage, messageAttributes, objectMetadata, type SnippetMessageV1 } from './message';
import { objectName } from './naming';
import { LatencyWindow, backoffDelay, type LatencySummary } from './stats';
import { CorruptSnippetError, DEFAULT_VERIFY, verifySnippet, type VerifyOptions } from './verify';

export interface ShipOptions {
  /** Full rescan interval (fs.watch events wake the loop sooner). */
  rescanMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** This recording's spool folder above this size is reported (warning), never trimmed. */
  spoolWarnBytes: number;
  /** Free space on the spool's file system below this is reported (warning). */
  minFreeBytes: number;
  /** How long a publish may take before it counts as failed (and is retried). */
  publishTimeoutMs: number;
  /** A warning still active is logged again this often. */
  warningRepeatMs: number;
  verify: VerifyOptions;
}

export const DEFAULT_SHIP_OPTIONS: ShipOptions = {
  rescanMs: 5000,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  spoolWarnBytes: 2048 * 1024 * 1024,
  minFreeBytes: 1024 * 1024 * 1024,
  publishTimeoutMs: 10_000,
  warningRepeatMs: 60_000,
  verify: DEFAULT_VERIFY,
};

/** Test hooks at the points where a crash matters. A hook may throw or kill the process. */
export interface ShipFaults {
  afterUpload?(sequence: number): void | Promise<void>;
  afterPublish?(sequence: number): void | Promise<void>;
}

export type ShipEvent =
  | { type: 'shipped'; sequence: number; snippetId: string; object: string; messageId: string; endToAckMs: number; closeToAckMs: number; uploaded: 'created' | 'existed' | 'earlier'; message: SnippetMessageV1 }
  | { type: 'quarantined'; sequence: number | null; file: string; reason: string }
  | { type: 'retrying'; sequence: number; attempt: number; delayMs: number; error: string }
  | { type: 'warning'; code: WarningCode; message: string }
  | { type: 'warning-cleared'; code: WarningCode };

export type WarningCode = 'spool-over-limit' | 'disk-low' | 'object-conflict' | 'quarantined' | 'sequence-gap';

export interface ShipperDeps {
  storage: Storage;
  pubsub: PubSub;
  bucket: string;
  /** Milliseconds since the epoch. */
  clock: () => number;
  logger: Logger;
  options?: Partial<ShipOptions>;
  faults?: ShipFaults;
  onEvent?: (event: ShipEvent) => void;
}

export interface RecordingRef {
  livestreamId: string;
  recordingId: string;
  /** The recording's spool folder ({spoolRoot}/{livestreamId}/{recordingId}). */
  spoolDir: string;
  hostId?: string;
}

export interface Backlog {
  count: number;
  bytes: number;
  /** closedAt of the oldest snippet waiting, and its age. */
  oldestClosedAt: string | null;
  oldestAgeMs: number | null;
  /** Files still being written (or orphaned by a crashed pipeline). */
  partFiles: number;
}

export interface ShipStatus {
  livestreamId: string;
  recordingId: string;
  state: 'starting' | 'running' | 'backing-off' | 'draining' | 'finished' | 'stopped';
  lastShippedSequence: number | null;
  shipped: number;
  duplicatesAvoided: number;
  quarantined: number;
  backlog: Backlog;
  latency: { endToAck: LatencySummary; closeToAck: LatencySummary };
  lastError: { message: string; at: string; attempt: number; nextRetryAt: string } | null;
  warnings: Array<{ code: WarningCode; message: string; since: string }>;
}

/** What a resumed shipper carries over from the previous attempt's heartbeat. */
export interface ShipProgress {
  lastShippedSequence: number | null;
  shipped: number;
  quarantined: number;
  endToAckRecent: number[];
  closeToAckRecent: number[];
}

/** The stored object differs from the local file: never overwritten, reported. */
export class ObjectConflictError extends Error {
  readonly type = 'ObjectConflict';
}

class TransientError extends Error {
  readonly type = 'Transient';
}

interface Candidate {
  sequence: number;
  sidecar: string;
  meta: SnippetMetadata;
}

const SIDECAR = /^(\d{6,})\.json$/;
const PART = /\.part$/;

export class RecordingShipper {
  private readonly opts: ShipOptions;
  private readonly log: Logger;
  private readonly topic: Topic;
  private state: ShipState = { lastShippedSequence: null };
  private readonly endToAck = new LatencyWindow();
  private readonly closeToAck = new LatencyWindow();
  private counters = { shipped: 0, duplicatesAvoided: 0, quarantined: 0 };
  private backlog: Backlog = { count: 0, bytes: 0, oldestClosedAt: null, oldestAgeMs: null, partFiles: 0 };
  private phase: ShipStatus['state'] = 'starting';
  private lastError: ShipStatus['lastError'] = null;
  private readonly warnings = new Map<WarningCode, { message: string; since: number; loggedAt: number }>();
  private readonly invalidSince = new Map<string, number>();
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;
  private lastDiskCheck = 0;

  constructor(private readonly ref: RecordingRef, private readonly deps: ShipperDeps) {
    this.opts = { ...DEFAULT_SHIP_OPTIONS, ...deps.options, verify: { ...DEFAULT_VERIFY, ...deps.options?.verify } };
    this.log = deps.logger.child({ livestreamId: ref.livestreamId, recordingId: ref.recordingId, ...(ref.hostId ? { hostId: ref.hostId } : {}) });
    // One message per publish call: batching would only add latency at one snippet per 15 s.
    this.topic = deps.pubsub.topic(TOPICS.snippets, {
      messageOrdering: true,
      batching: { maxMessages: 1, maxMilliseconds: 0 },
      gaxOpts: { timeout: this.opts.publishTimeoutMs },
    });
  }

  status(): ShipStatus {
    return {
      livestreamId: this.ref.livestreamId,
      recordingId: this.ref.recordingId,
      state: this.phase,
      lastShippedSequence: this.state.lastShippedSequence,
      ...this.counters,
      backlog: { ...this.backlog },
      latency: { endToAck: this.endToAck.summary(), closeToAck: this.closeToAck.summary() },
      lastError: this.lastError,
      warnings: [...this.warnings].map(([code, w]) => ({ code, message: w.message, since: new Date(w.since).toISOString() })),
    };
  }

  progress(): ShipProgress {
    return {
      lastShippedSequence: this.state.lastShippedSequence,
      shipped: this.counters.shipped,
      quarantined: this.counters.quarantined,
      endToAckRecent: this.endToAck.recent(50),
      closeToAckRecent: this.closeToAck.recent(50),
    };
  }

  /**
   * Ships until `stop` aborts (the snippet in flight is finished first), or, with `untilFinished`,
   * until finished.json exists and no complete snippet is left.
   */
  async run(opts: { untilFinished: boolean; stop?: AbortSignal; resumeFrom?: ShipProgress }): Promise<ShipStatus> {
    const { stop } = opts;
    await mkdir(this.ref.spoolDir, { recursive: true });
    await this.loadState(opts.resumeFrom);
    const onStop = () => this.wake?.();
    stop?.addEventListener('abort', onStop);
    this.startWatching();
    this.phase = 'running';
    let attempt = 0;
    try {
      while (!stop?.aborted) {
        this.dirty = false;
        const candidates = await this.scan();
        // Checked on every pass, outages included: that is when the spool grows.
        await this.checkSpace();
        let failed = false;
        for (const c of candidates) {
          if (stop?.aborted) break;
          try {
            await this.shipOne(c);
            attempt = 0;
            this.lastError = null;
            if (this.phase === 'backing-off') this.phase = 'running';
          } catch (e) {
            if (e instanceof CorruptSnippetError) {
              await this.quarantine(c, e.reason);
              continue;
            }
            if (e instanceof ObjectConflictError) {
              this.raiseWarning('object-conflict', e.message);
              await this.quarantine(c, e.message);
              continue;
            }
            const delayMs = backoffDelay(attempt, this.opts.backoffInitialMs, this.opts.backoffMaxMs);
            attempt++;
            const message = e instanceof Error ? e.message : String(e);
            this.phase = 'backing-off';
            this.lastError = { message, at: this.iso(), attempt, nextRetryAt: new Date(this.deps.clock() + delayMs).toISOString() };
            this.log.warn({ sequence: c.sequence, attempt, delayMs, err: message }, 'shipping failed; snippet stays in the spool, retrying');
            this.deps.onEvent?.({ type: 'retrying', sequence: c.sequence, attempt, delayMs, error: message });
            await this.sleep(delayMs, stop, false);
            failed = true;
            break; // rescan: strict order means the same (lowest) snippet goes next
          }
        }
        if (failed) continue;
        if (opts.untilFinished && !stop?.aborted) {
          const finished = await this.finishedMarker();
          if (finished) {
            // A fresh scan after seeing the marker: anything closed before it was written is there.
            const left = await this.scan();
            if (left.length === 0 && this.invalidSince.size === 0) {
              this.checkGap(finished);
              await this.checkSpace(true); // the final status must not carry a stale spool warning
              this.phase = 'finished';
              this.log.info({ lastShippedSequence: this.state.lastShippedSequence, shipped: this.counters.shipped, partFiles: this.backlog.partFiles }, 'recording finished and spool drained');
              return this.status();
            }
            this.phase = 'draining';
            if (left.length > 0) continue;
            // Only an unreadable sidecar is left, waiting out its grace period: poll, don't spin.
            await this.sleep(Math.min(this.opts.rescanMs, 1000), stop, true);
            continue;
          }
        }
        if (!this.dirty) await this.sleep(this.opts.rescanMs, stop, true);
      }
      this.phase = 'stopped';
      this.log.info({ lastShippedSequence: this.state.lastShippedSequence, backlog: this.backlog.count }, 'shipping stopped; unshipped snippets stay in the spool');
      return this.status();
    } finally {
      stop?.removeEventListener('abort', onStop);
      this.watcher?.close();
      this.watcher = undefined;
    }
  }

  // ---- watching -------------------------------------------------------------------------------

  private startWatching(): void {
    try {
      this.watcher = watch(this.ref.spoolDir, { persistent: false }, (_event, name) => {
        if (name && (PART.test(name) || name.startsWith(SHIP_STATE_FILE) || name.startsWith('.'))) return;
        this.dirty = true;
        this.wake?.();
      });
      this.watcher.on('error', (e) => {
        // The periodic rescan still finds everything; losing inotify only costs latency.
        this.log.warn({ err: e.message }, 'spool watcher failed; relying on periodic rescans');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot watch the spool folder; relying on periodic rescans');
    }
  }

  /** Waits `ms`, or less when woken (by a file event if `wakeable`, or by stop). */
  private sleep(ms: number, stop: AbortSignal | undefined, wakeable: boolean): Promise<void> {
    if (stop?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop?.removeEventListener('abort', done);
        if (this.wake === wakeUp) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      const wakeUp = wakeable ? done : () => (stop?.aborted ? done() : undefined);
      this.wake = wakeUp;
      stop?.addEventListener('abort', done);
    });
  }

  /** Complete snippets in sequence order; refreshes the backlog figures on the way. */
  private async scan(): Promise<Candidate[]> {
    const names = await readdir(this.ref.spoolDir);
    const now = this.deps.clock();
    const out: Candidate[] = [];
    let bytes = 0;
    let partFiles = 0;
    let oldest: string | null = null;
    for (const name of names) {
      if (PART.test(name)) {
        partFiles++;
        continue;
      }
      const m = SIDECAR.exec(name);
      if (!m) continue;
      const sequence = Number(m[1]);
      let meta: SnippetMetadata;
      try {
        meta = parseSidecar(await readFile(join(this.ref.spoolDir, name), 'utf8'), sequence);
        this.invalidSince.delete(name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        // The writer renames sidecars into place, so an unreadable one is not "still being
        // written"; give it a few seconds anyway before calling it corrupt.
        const since = this.invalidSince.get(name) ?? now;
        this.invalidSince.set(name, since);
        if (now - since >= 5000) {
          this.invalidSince.delete(name);
          await this.quarantine({ sequence, sidecar: name, meta: undefined }, `invalid metadata: ${(e as Error).message}`);
        }
        continue;
      }
      if (meta.livestreamId !== this.ref.livestreamId || meta.recordingId !== this.ref.recordingId) {
        await this.quarantine({ sequence, sidecar: name, meta }, `metadata belongs to ${meta.livestreamId}/${meta.recordingId}, not this folder's recording`);
        continue;
      }
      const size = await stat(join(this.ref.spoolDir, meta.file)).then((s) => s.size, () => 0);
      bytes += size;
      if (oldest === null || meta.closedAt < oldest) oldest = meta.closedAt;
      out.push({ sequence, sidecar: name, meta });
    }
    out.sort((a, b) => a.sequence - b.sequence);
    this.backlog = { count: out.length, bytes, oldestClosedAt: oldest, oldestAgeMs: oldest ? Math.max(0, now - Date.parse(oldest)) : null, partFiles };
    return out;
  }

  // ---- one snippet ----------------------------------------------------------------------------

  private async shipOne(c: Candidate): Promise<void> {
    const { meta, sequence } = c;
    const log = this.log.child({ sequence });
    const file = join(this.ref.spoolDir, meta.file);
    const object = objectName(meta);
    let inFlight = this.state.inFlight?.sequence === sequence ? this.state.inFlight : undefined;

    if (inFlight?.published) {
      // Crashed between publish and delete: only the clean-up is left.
      await this.removeShipped(c);
      log.info({ object }, 'snippet was already uploaded and announced; removed from the spool');
      return;
    }
    const fileExists = await stat(file).then(() => true, () => false);
    if (!fileExists) {
      if (this.state.lastShippedSequence !== null && sequence <= this.state.lastShippedSequence) {
        await unlink(join(this.ref.spoolDir, c.sidecar)).catch(() => undefined);
        return;
      }
      throw new CorruptSnippetError(`metadata present but ${meta.file} is missing`);
    }

    const verified = await verifySnippet(file, meta, this.opts.verify);
    const message = buildMessage(meta, verified, this.deps.bucket);
    if (inFlight && inFlight.md5 !== verified.md5) inFlight = undefined; // a different file under the same number
    inFlight ??= { sequence, object, md5: verified.md5, uploaded: false, published: false };

    let uploaded: 'created' | 'existed' | 'earlier' = 'earlier';
    if (!inFlight.uploaded) {
      uploaded = await this.upload(file, object, message, verified.crc32c, log);
      if (uploaded === 'existed') this.counters.duplicatesAvoided++;
      await this.deps.faults?.afterUpload?.(sequence);
      inFlight = { ...inFlight, uploaded: true };
      await this.saveState({ ...this.state, inFlight });
    }

    const messageId = await this.publish(message);
    const ackAt = this.deps.clock();
    await this.deps.faults?.afterPublish?.(sequence);
    inFlight = { ...inFlight, published: true, messageId };
    await this.saveState({ ...this.state, inFlight });

    await this.removeShipped(c);
    const endToAckMs = ackAt - Date.parse(meta.endTime);
    const closeToAckMs = ackAt - Date.parse(meta.closedAt);
    this.endToAck.add(endToAckMs);
    this.closeToAck.add(closeToAckMs);
    this.counters.shipped++;
    log.info({ object, messageId, snippetId: message.snippetId, durationMs: message.durationMs, sizeBytes: message.sizeBytes, endToAckMs, closeToAckMs, uploaded }, 'snippet shipped');
    this.deps.onEvent?.({ type: 'shipped', sequence, snippetId: message.snippetId, object, messageId, endToAckMs, closeToAckMs, uploaded, message });
  }

  /** Uploads unless the object exists; an existing object must have the same MD5. */
  private async upload(file: string, object: string, message: SnippetMessageV1, crc32c: string, log: Logger): Promise<'created' | 'existed'> {
    const bucket = this.deps.storage.bucket(this.deps.bucket);
    let stored: { md5Hash?: string; generation?: string | number } | undefined;
    let outcome: 'created' | 'existed' = 'created';
    try {
      const [f] = await bucket.upload(file, {
        destination: object,
        resumable: false,
        // Our own check below compares the stored MD5; the client's would only repeat it.
        validation: false,
        preconditionOpts: { ifGenerationMatch: 0 },
        // md5Hash and crc32c make real Cloud Storage reject a body damaged in transit.
        metadata: { contentType: message.contentType, md5Hash: message.md5, crc32c, metadata: objectMetadata(message) },
      });
      stored = f.metadata;
    } catch (e) {
      if (httpStatus(e) !== 412) throw new TransientError(`upload of ${object} failed: ${(e as Error).message}`);
      outcome = 'existed';
      const [m] = await bucket.file(object).getMetadata().catch((err: Error) => {
        throw new TransientError(`reading existing ${object} failed: ${err.message}`);
      });
      stored = m;
    }
    if (stored?.md5Hash !== message.md5) {
      throw new ObjectConflictError(
        `gs://${this.deps.bucket}/${object} ${outcome === 'existed' ? 'already exists' : 'was stored'} with MD5 ${stored?.md5Hash ?? 'unknown'}, the local file has ${message.md5}; not overwritten`,
      );
    }
    log.debug({ object, outcome, generation: stored.generation }, outcome === 'existed' ? 'object already stored with the same MD5' : 'object uploaded');
    return outcome;
  }

  private async publish(message: SnippetMessageV1): Promise<string> {
    // A failed publish pauses the ordering key; resuming is a no-op when it is not paused.
    this.topic.resumePublishing(this.ref.recordingId);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.topic.publishMessage({ data: Buffer.from(JSON.stringify(message)), attributes: messageAttributes(message), orderingKey: this.ref.recordingId }),
        new Promise<never>((_, reject) => {
          // Guard in case the client's own deadline does not fire (e.g. a channel stuck connecting).
          timer = setTimeout(() => reject(new Error(`no publish ack within ${this.opts.publishTimeoutMs + 5000} ms`)), this.opts.publishTimeoutMs + 5000);
        }),
      ]);
    } catch (e) {
      this.topic.resumePublishing(this.ref.recordingId);
      throw new TransientError(`publish of sequence ${message.sequence} failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Media file first, then its sidecar (see pipelines/spool.ts), then the state. */
  private async removeShipped(c: Candidate): Promise<void> {
    await unlink(join(this.ref.spoolDir, c.meta.file)).catch(ignoreMissing);
    await unlink(join(this.ref.spoolDir, c.sidecar)).catch(ignoreMissing);
    const last = this.state.lastShippedSequence;
    await this.saveState({ lastShippedSequence: last === null ? c.sequence : Math.max(last, c.sequence) });
  }

  private async quarantine(c: { sequence: number; sidecar: string; meta: SnippetMetadata | undefined }, reason: string): Promise<void> {
    const dir = join(this.ref.spoolDir, QUARANTINE_DIR);
    await mkdir(dir, { recursive: true });
    const stamp = new Date(this.deps.clock()).toISOString().replace(/[-:]/g, '');
    const moved: string[] = [];
    // The media file first: once the sidecar is gone the snippet no longer counts as complete.
    for (const name of [c.meta?.file, c.sidecar]) {
      if (!name) continue;
      const target = `${name}.${stamp}`;
      try {
        await rename(join(this.ref.spoolDir, name), join(dir, target));
        moved.push(target);
      } catch (e) {
        ignoreMissing(e);
      }
    }
    const reasonFile = join(dir, `${c.meta?.file ?? c.sidecar}.${stamp}${QUARANTINE_REASON_SUFFIX}`);
    await writeFile(reasonFile, `${JSON.stringify({ reason, sequence: c.sequence, quarantinedAt: this.iso(), files: moved }, null, 2)}\n`);
    this.counters.quarantined++;
    this.log.error({ sequence: c.sequence, reason, files: moved }, 'snippet quarantined: not uploaded');
    this.raiseWarning('quarantined', `${this.counters.quarantined} snippet(s) quarantined; last: sequence ${c.sequence}: ${reason}`);
    this.deps.onEvent?.({ type: 'quarantined', sequence: c.sequence, file: c.meta?.file ?? c.sidecar, reason });
  }

  // ---- state, markers, health -----------------------------------------------------------------

  private async loadState(resume: ShipProgress | undefined): Promise<void> {
    try {
      const raw = JSON.parse(await readFile(join(this.ref.spoolDir, SHIP_STATE_FILE), 'utf8')) as ShipState;
      this.state = { lastShippedSequence: raw.lastShippedSequence ?? null, ...(raw.inFlight ? { inFlight: raw.inFlight } : {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err: (e as Error).message }, 'unreadable ship state; relying on idempotent re-shipping');
    }
    if (resume) {
      const fromDisk = this.state.lastShippedSequence;
      if (resume.lastShippedSequence !== null && (fromDisk === null || resume.lastShippedSequence > fromDisk)) {
        this.state.lastShippedSequence = resume.lastShippedSequence;
      }
      this.counters.shipped = resume.shipped;
      this.counters.quarantined = resume.quarantined;
      this.endToAck.restore(resume.endToAckRecent, resume.shipped);
      this.closeToAck.restore(resume.closeToAckRecent, resume.shipped);
    }
    this.log.info({ lastShippedSequence: this.state.lastShippedSequence, inFlight: this.state.inFlight, resumed: !!resume }, 'shipping started');
  }

  private async saveState(state: ShipState): Promise<void> {
    this.state = state;
    const path = join(this.ref.spoolDir, SHIP_STATE_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(state));
    await rename(`${path}.tmp`, path);
  }

  private async finishedMarker(): Promise<FinishedMarker | undefined> {
    try {
      return JSON.parse(await readFile(join(this.ref.spoolDir, FINISHED_MARKER_FILE), 'utf8')) as FinishedMarker;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Present but unreadable still means "finished": the writer renames it into place.
      return { finishedAt: this.iso() };
    }
  }

  private checkGap(finished: FinishedMarker): void {
    const last = this.state.lastShippedSequence;
    if (finished.lastSequence !== undefined && (last === null || last < finished.lastSequence)) {
      this.raiseWarning('sequence-gap', `recording closed up to sequence ${finished.lastSequence}, shipped up to ${last ?? 'none'} (missing snippets were never completed or were quarantined)`);
    }
  }

  private async checkSpace(force = false): Promise<void> {
    const now = this.deps.clock();
    if (!force && now - this.lastDiskCheck < Math.min(this.opts.rescanMs, 5000)) return;
    this.lastDiskCheck = now;
    const folderBytes = await folderSize(this.ref.spoolDir);
    if (folderBytes > this.opts.spoolWarnBytes) {
      this.raiseWarning('spool-over-limit', `spool folder holds ${mb(folderBytes)} MB, above the ${mb(this.opts.spoolWarnBytes)} MB limit; nothing is dropped, shipping is behind`);
    } else this.clearWarning('spool-over-limit');
    try {
      const fs = await statfs(this.ref.spoolDir);
      const free = Number(fs.bavail) * Number(fs.bsize);
      if (free < this.opts.minFreeBytes) {
        this.raiseWarning('disk-low', `only ${mb(free)} MB free on the spool's disk (threshold ${mb(this.opts.minFreeBytes)} MB); nothing is dropped`);
      } else this.clearWarning('disk-low');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot read free disk space');
    }
  }

  private raiseWarning(code: WarningCode, message: string): void {
    const now = this.deps.clock();
    const existing = this.warnings.get(code);
    const shouldLog = !existing || now - existing.loggedAt >= this.opts.warningRepeatMs || (code !== 'spool-over-limit' && code !== 'disk-low');
    this.warnings.set(code, { message, since: existing?.since ?? now, loggedAt: shouldLog ? now : existing!.loggedAt });
    if (shouldLog) {
      this.log.warn({ warning: code, backlog: this.backlog }, message);
      this.deps.onEvent?.({ type: 'warning', code, message });
    }
  }

  private clearWarning(code: WarningCode): void {
    if (!this.warnings.delete(code)) return;
    this.log.info({ warning: code }, 'warning cleared');
    this.deps.onEvent?.({ type: 'warning-cleared', code });
  }

  private iso(): string {
    return new Date(this.deps.clock()).toISOString();
  }
}

export function parseSidecar(text: string, sequence: number): SnippetMetadata {
  const m = JSON.parse(text) as Partial<SnippetMetadata>;
  const problems: string[] = [];
  if (m.schema !== SPOOL_SCHEMA) problems.push(`schema is ${JSON.stringify(m.schema)}, expected ${SPOOL_SCHEMA}`);
  if (m.sequence !== sequence) problems.push(`sequence ${m.sequence} does not match the file name (${sequence})`);
  for (const k of ['livestreamId', 'recordingId', 'file', 'startTime', 'endTime', 'closedAt'] as const) {
    if (typeof m[k] !== 'string' || m[k] === '') problems.push(`${k} missing`);
  }
  for (const k of ['startTime', 'endTime', 'closedAt'] as const) if (typeof m[k] === 'string' && Number.isNaN(Date.parse(m[k]))) problems.push(`${k} is not a timestamp`);
  if (m.kind !== 'composite' && m.kind !== 'individual') problems.push('kind must be composite or individual');
  if (m.kind === 'individual' && !m.hostId) problems.push('individual snippet without hostId');
  if (m.variant !== 'av' && m.variant !== 'audio') problems.push('variant must be av or audio');
  if (m.contentType !== 'video/mp4' && m.contentType !== 'audio/mpeg') problems.push('contentType must be video/mp4 or audio/mpeg');
  if (typeof m.durationMs !== 'number') problems.push('durationMs missing');
  if (!Array.isArray(m.hosts)) problems.push('hosts missing');
  if (typeof m.file === 'string' && (m.file.includes('/') || m.file.startsWith('.'))) problems.push('file must be a plain name in the folder');
  if (problems.length > 0) throw new Error(problems.join('; '));
  return m as SnippetMetadata;
}

export function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderSize(path);
    else total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
