// The shared FLV mux's output, handed from GStreamer to the RTMP senders on the event loop: the
// mux writes into a pipe (fdsink), and a timer reads whatever has arrived, splits it into tags and
// gives each to every subscribed destination. One read a poll, not a wake-up per tag; a full pipe
// makes the mux wait, whose input queues are leaky, so the recording never does.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLV_SCRIPT, FlvReader, sequenceHeaderOf, type FlvTag } from './flv';
import type { StreamHeaders } from './rtmp-publisher';

/** How often the pipe is read: at 5 Mbit/s a poll finds 31 KB, half the pipe's 64 KiB. */
export const FEED_POLL_MS = 50;
const READ_SIZE = 256 * 1024;

export type TagListener = (tag: FlvTag, headers: StreamHeaders) => void;

let fifoSeq = 0;

export class FlvFeed {
  private readonly reader = new FlvReader();
  private readonly listeners = new Set<TagListener>();
  private readonly headers: StreamHeaders = {};
  private readonly buf = Buffer.alloc(READ_SIZE);
  private readonly timer: NodeJS.Timeout;
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

  /** Reads what the mux has written and hands out its tags. */
  drain(): void {
    if (this.closed) return;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.readFd, this.buf, 0, READ_SIZE, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        this.fail(`reading the FLV pipe: ${(err as Error).message}`);
        return;
      }
      if (n <= 0) return;
      this.bytes += n;
      let tags: FlvTag[];
      try {
        // Copied: the tags outlive this read buffer (sockets write them later).
        tags = this.reader.push(Buffer.from(this.buf.subarray(0, n)));
      } catch (err) {
        this.fail((err as Error).message);
        return;
      }
      for (const tag of tags) {
        if (tag.type === FLV_SCRIPT) this.headers.metadata = tag;
        const config = sequenceHeaderOf(tag);
        if (config) this.headers[config] = tag;
        for (const l of this.listeners) l(tag, this.headers);
      }
      if (n < READ_SIZE) return;
    }
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
    this.listeners.clear();
    closeSync(this.readFd);
    closeSync(this.writeFd);
  }
}
