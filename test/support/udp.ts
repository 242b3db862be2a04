// UDP helpers for media tests: free loopback ports and counting receivers.
import { createSocket, type Socket } from 'node:dgram';
import { parseRtp } from '../../pipelines/ingest/rtp';

/** A UDP port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind({ address: '127.0.0.1', port: 0 }, resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Binds a loopback UDP port and records the RTP packets it receives (ssrc:sequence keys, in arrival order). */
export class RtpRecorder {
  readonly keys: string[] = [];
  /** Arrival time (ms) and datagram of every packet. */
  readonly packets: Array<{ at: number; data: Buffer }> = [];
  bytes = 0;
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => {
      const p = parseRtp(msg);
      this.bytes += msg.length;
      this.packets.push({ at: Date.now(), data: msg });
      this.keys.push(p.ok ? `${p.value.ssrc}:${p.value.sequence}` : 'invalid');
    });
  }

  static async open(): Promise<RtpRecorder> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
    socket.setRecvBufferSize(4 * 1024 * 1024);
    return new RtpRecorder(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
