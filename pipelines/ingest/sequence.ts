// Per-stream RTP sequence accounting for the ingest counters: loss from sequence gaps (RFC 3550
// A.1 style extended sequence numbers, so the 16-bit wrap is invisible), duplicates and late
// (reordered) packets. A late packet that fills a gap takes back the loss it was counted as, so the
// numbers match what the sender actually withheld once the stream has settled.

import { sequenceDelta } from './rtp';

/** How far back duplicates are recognised; packets older than this count as late only. */
const HISTORY = 2048;
/** A jump larger than this (either way) is a sender restart, not loss: resynchronise. */
const MAX_JUMP = 3000;

export type SequenceVerdict = 'new' | 'late' | 'duplicate' | 'restart';

export interface SequenceCounts {
  /** Unique packets received. */
  received: number;
  /** Packets expected from the sequence range minus unique packets received (never negative). */
  lost: number;
  duplicates: number;
  reordered: number;
  /** Times the sequence jumped too far to be loss and tracking restarted. */
  restarts: number;
}

export class SequenceTracker {
  private started = false;
  private baseExt = 0;
  private maxExt = 0;
  private uniqueInSession = 0;
  /** Loss, receptions and so on carried over from sessions closed by a restart or SSRC change. */
  private carriedLost = 0;
  private carriedReceived = 0;
  private duplicates = 0;
  private reordered = 0;
  private restarts = 0;
  // ring of the extended sequence numbers seen recently (-1 = empty)
  private readonly seen = new Float64Array(HISTORY).fill(-1);

  /** Feeds one packet's sequence number; says what it was. */
  push(sequence: number): SequenceVerdict {
    if (!this.started) {
      this.startSession(sequence);
      return 'new';
    }
    const delta = sequenceDelta(sequence, this.maxExt & 0xffff);
    if (Math.abs(delta) > MAX_JUMP) {
      this.closeSession();
      this.restarts++;
      this.startSession(sequence);
      return 'restart';
    }
    const ext = this.maxExt + delta;
    if (delta > 0) {
      this.maxExt = ext;
      this.mark(ext);
      return 'new';
    }
    if (ext < this.baseExt) {
      // older than the first packet we saw: it widens the range rather than filling a gap
      if (this.maxExt - ext >= HISTORY) return 'late';
      this.baseExt = ext;
      this.mark(ext);
      this.reordered++;
      return 'late';
    }
    if (this.maxExt - ext < HISTORY && this.seen[ext % HISTORY] === ext) {
      this.duplicates++;
      return 'duplicate';
    }
    this.mark(ext);
    this.reordered++;
    return 'late';
  }

  /** Forgets the sequence state (new SSRC) but keeps the totals. */
  reset(): void {
    if (this.started) this.closeSession();
    this.started = false;
  }

  counts(): SequenceCounts {
    return {
      received: this.carriedReceived + this.uniqueInSession,
      lost: this.carriedLost + this.sessionLost(),
      duplicates: this.duplicates,
      reordered: this.reordered,
      restarts: this.restarts,
    };
  }

  private sessionLost(): number {
    if (!this.started) return 0;
    return Math.max(0, this.maxExt - this.baseExt + 1 - this.uniqueInSession);
  }

  private startSession(sequence: number): void {
    this.started = true;
    // extended numbers start one cycle up so that packets slightly older than the first stay positive
    this.baseExt = 0x10000 + sequence;
    this.maxExt = this.baseExt;
    this.uniqueInSession = 0;
    this.seen.fill(-1);
    this.mark(this.baseExt);
  }

  private closeSession(): void {
    this.carriedLost += this.sessionLost();
    this.carriedReceived += this.uniqueInSession;
    this.uniqueInSession = 0;
  }

  private mark(ext: number): void {
    this.seen[ext % HISTORY] = ext;
    this.uniqueInSession++;
  }
}
