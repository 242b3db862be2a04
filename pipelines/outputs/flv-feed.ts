// The shared FLV mux's output, handed from GStreamer to the RTMP senders on the event loop: the
// mux writes into a pipe (fdsink), and a timer reads whatever has arrived, splits it into tags and
// gives them to every subscribed destination at once (one socket write each). One read a poll, not
// a wake-up per tag; a full pipe makes the mux wait, whose input queues are leaky, so the
// recording never does.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLV_SCRIPT, FlvReader, sequenceHeaderOf, type FlvTag } from './flv';
import type { StreamHeaders } from './rtmp-publisher';

/**
 * How often the pipe is read. The pipeline host's JavaScript runs in V8's lite mode (interpreted),
 * where each poll's work per destination (its tags encoded, one socket write) costs more than the
 * bytes: three destinations cost its main thread 0.0065 CPU-s/s more polled every 50 ms, 0.0025
 * every 100 ms and 0.0010 every 200 ms (one encoded 640x360 stream, 20-s windows). A poll finds
 * about 16 KB of this composite's stream; at the 5 Mbit/s cap, 125 KB would not fit the pipe's
 * 64 KiB, so a poll that finds it half full comes again 10 ms later (BUSY_BYTES). The delay is
 * nothing to a live stream, which players buffer for seconds.
 */
export const FEED_POLL_MS = 200;
/** A poll that read this much comes again soon: the pipe must not stay full (the mux would wait). */
const BUSY_BYTES = 32 * 1024;
const BUSY_POLL_MS = 10;
const READ_SIZE = 256 * 1024;

/** The tags of one poll, in stream order, and the stream headers as of its last tag. */
export type TagListener = (tags: readonly FlvTag[], headers: StreamHeaders) => void;

let fifoSeq = 0;

export class FlvFeed {
  private readonly reader = new FlvReader();
  private readonly listeners = new Set<TagListener>();
  private readonly headers: StreamHeaders = {};
  private readonly buf = Buffer.alloc(READ_SIZE);
  private readonly timer: NodeJS.Timeout;
  private soon: NodeJS.Timeout | null = null;
  private closed = false;
  /** Bytes read from the mux. */
  bytes = 0;

  private constructor(
    private readonly readFd: number,
    /** The pipe's write end, for the mux's fdsink (non-blocking: a full pipe is waited on with poll, which a state change interrupts). */
    readonly writeFd: number,
    private readonly onError: (message: string) => void,
  ) {
    this.timer = setInterval(() => this.drain(), FEED_POLL_MS);
  }

  /** A pipe of its own (a FIFO, unlinked once both ends are open). */
  static open(onError: (message: string) => void): FlvFeed {
    const path = join(tmpdir(), `tapedeck-flv-${process.pid}-${++fifoSeq}`);
    const made = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`cannot make the FLV pipe: ${made.stderr || made.error?.message}`);
    try {
      const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      return new FlvFeed(readFd, writeFd, onError);
    } finally {
      unlinkSync(path);
    }
  }

  subscribe(listener: TagListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what the mux has written and hands its tags out, all of a poll at once. */
  drain(): void {
    if (this.closed) return;
    if (this.soon) clearTimeout(this.soon);
    this.soon = null;
    const tags: FlvTag[] = [];
    let read = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.readFd, this.buf, 0, READ_SIZE, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.fail(`reading the FLV pipe: ${(err as Error).message}`);
        return;
      }
      if (n <= 0) break;
      this.bytes += n;
      read += n;
      try {
        // Copied: the tags outlive this read buffer (sockets write them later).
        for (const tag of this.reader.push(Buffer.from(this.buf.subarray(0, n)))) tags.push(tag);
      } catch (err) {
        this.fail((err as Error).message);
        return;
      }
      // A short read emptied the pipe; another would only find EAGAIN.
      if (n < READ_SIZE) break;
    }
    if (read >= BUSY_BYTES) this.soon = setTimeout(() => this.drain(), BUSY_POLL_MS);
    if (tags.length === 0) return;
    // A destination that starts within this batch takes the headers as of its keyframe; the
    // mux writes new ones only at its start or a caps change, before the frames they describe.
    for (const tag of tags) {
      if (tag.type === FLV_SCRIPT) this.headers.metadata = tag;
      const config = sequenceHeaderOf(tag);
      if (config) this.headers[config] = tag;
    }
    for (const l of this.listeners) l(tags, this.headers);
  }

  private fail(message: string): void {
    this.close();
    this.onError(message);
  }

  /** After the mux has stopped writing (its bin in NULL). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.listeners.clear();
    closeSync(this.readFd);
    closeSync(this.writeFd);
  }
}
