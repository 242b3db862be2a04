// One RTMP destination's connection, on the pipeline host's event loop: TCP (or TLS for rtmps://),
// the handshake, connect / releaseStream / FCPublish / createStream / publish, then the shared
// mux's FLV tags as RTMP messages, and FCUnpublish / deleteStream at the end. Every destination is
// sent from the one JS thread: a few socket writes per destination per feed poll, where a
// GStreamer sink per destination took two thread wake-ups and a send per FLV tag.
//
// A destination never holds up the others or the recording: writes are asynchronous, and when its
// unsent bytes pass the backlog limit it skips media until the backlog halves and the next
// keyframe comes (the viewer sees a freeze, the stream stays decodable). The stream key is in the
// publish command only; no error text carries it.
import { randomBytes } from 'node:crypto';
import { isIP, Socket, connect as tcpConnect } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0';
import { FLV_AUDIO, FLV_SCRIPT, isKeyframe, sequenceHeaderOf, type FlvTag } from './flv';
import {
  ChunkReader,
  encodeMessage,
  encodeMessages,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_DATA_AMF0,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  MSG_WINDOW_ACK_SIZE,
  MSG_SET_PEER_BANDWIDTH,
  ackMessage,
  pingResponseMessage,
  setChunkSizeMessage,
  windowAckSizeMessage,
  UC_PING_REQUEST,
  type RtmpMessage,
} from './rtmp-chunks';
import { parseRtmpUrl, type RtmpTarget } from './outputs';

/** The chunk size announced to the server: one chunk for most audio frames, few for video. */
export const OUT_CHUNK_SIZE = 4096;
/** Handshake to publish start. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Unsent bytes past which media is skipped until the next keyframe (about 6 s at 5 Mbit/s). */
export const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
const HANDSHAKE_SIZE = 1536;

/** Chunk streams: rtmp2sink's and most encoders' choice (commands 3, data 4, audio 5, video 6). */
const CS_COMMAND = 3;
const CS_DATA = 4;
const CS_AUDIO = 5;
const CS_VIDEO = 6;
const SET_DATA_FRAME = encodeAmf0('@setDataFrame');

/** Certificate errors that mean only "issued by a CA this machine does not know". */
const UNKNOWN_CA = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/** The stream headers a destination needs before its first frame: the latest of each the mux sent. */
export interface StreamHeaders {
  metadata?: FlvTag;
  video?: FlvTag;
  audio?: FlvTag;
}

export interface PublisherOptions {
  url: string;
  /** `rtmps://`: accept a certificate from an unknown CA; its name and dates are still checked. */
  allowUnknownCa?: boolean;
  timeoutMs?: number;
  maxBacklogBytes?: number;
  /** Publishing started: media flows from the next keyframe. */
  onPublishing?: () => void;
  /** The connection failed or ended without end(); called once, never after destroy() or end(). */
  onError: (message: string) => void;
}

type Stage = 'connecting' | 'handshake' | 'connect' | 'createStream' | 'publish' | 'publishing' | 'ending' | 'closed';

export class RtmpPublisher {
  private readonly target: RtmpTarget;
  private socket: Socket | TLSSocket | null = null;
  private stage: Stage = 'connecting';
  private handshake: Buffer = Buffer.alloc(0);
  private readonly reader = new ChunkReader();
  private timer: NodeJS.Timeout | null = null;
  private streamId = 0;
  private published = false;
  private written = 0;
  private received = 0;
  private ackWindow = 0;
  private lastAck = 0;
  /** Media: the first tag's timestamp (the stream starts at 0), null before the first keyframe. */
  private base: number | null = null;
  private skipping = false;
  /** Media tags skipped for backlog. */
  skipped = 0;

  constructor(private readonly opts: PublisherOptions) {
    this.target = parseRtmpUrl(opts.url);
  }

  start(): void {
    const { host, port, scheme } = this.target;
    const bare = host.replace(/^\[|\]$/g, '');
    const socket =
      scheme === 'rtmps'
        ? tlsConnect({ host: bare, port, servername: isIP(bare) ? undefined : bare, rejectUnauthorized: false })
        : tcpConnect({ host: bare, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on(scheme === 'rtmps' ? 'secureConnect' : 'connect', () => this.onConnected(bare));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err: Error) => this.fail(this.stage === 'connecting' ? `Could not connect: ${err.message}` : `Connection error: ${err.message}`));
    socket.on('close', () => this.fail(`connection closed by the server during ${this.stage}`));
    this.timer = setTimeout(() => this.fail(`no answer within ${(this.opts.timeoutMs ?? CONNECT_TIMEOUT_MS) / 1000} s (at ${this.stage})`), this.opts.timeoutMs ?? CONNECT_TIMEOUT_MS);
  }

  get publishing(): boolean {
    return this.stage === 'publishing';
  }

  /**
   * Bytes handed to the network (not those still queued in this process), counted once the server
   * has accepted the stream: a server that takes the connection and never answers shows 0.
   */
  bytesSent(): number {
    if (!this.published) return 0;
    return this.socket ? this.written - this.socket.writableLength : this.written;
  }

  /**
   * The tags of one feed poll (the shared FLV stream, in order); `headers` are the stream's latest,
   * for a start mid-stream. They leave in one socket write.
   */
  accept(tags: readonly FlvTag[], headers: StreamHeaders): void {
    if (this.stage !== 'publishing' || !this.socket) return;
    const out: RtmpMessage[] = [];
    const backlog = this.socket.writableLength;
    const limit = this.opts.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    for (const tag of tags) {
      if (this.base === null) {
        if (!isKeyframe(tag)) continue;
        this.base = tag.timestamp;
        for (const h of [headers.metadata, headers.video, headers.audio]) if (h) out.push(this.message(h, 0));
        out.push(this.message(tag, 0));
        continue;
      }
      const ts = Math.max(0, tag.timestamp - this.base);
      if (tag.type === FLV_SCRIPT || sequenceHeaderOf(tag)) {
        out.push(this.message(tag, ts));
        continue;
      }
      if (!this.skipping && backlog > limit) this.skipping = true;
      if (this.skipping) {
        if (backlog <= limit / 2 && isKeyframe(tag)) this.skipping = false;
        else {
          this.skipped++;
          continue;
        }
      }
      out.push(this.message(tag, ts));
    }
    if (out.length) this.write(encodeMessages(out, OUT_CHUNK_SIZE));
  }

  /** Ends the stream as a publisher should (FCUnpublish, deleteStream), then closes once sent. */
  end(): void {
    const socket = this.socket;
    if (!socket || this.stage === 'closed' || this.stage === 'ending') return;
    const wasPublishing = this.stage === 'publishing';
    this.stage = 'ending';
    this.clearTimer();
    if (!wasPublishing) {
      this.destroy();
      return;
    }
    this.command(0, 'FCUnpublish', 6, null, this.target.key);
    this.command(0, 'deleteStream', 7, null, this.streamId);
    socket.end();
  }

  /** Closes at once; no callback follows. */
  destroy(): void {
    this.stage = 'closed';
    this.clearTimer();
    this.socket?.destroy();
  }

  /** A method, not a field test: handlers change the stage while a caller's narrowing still holds. */
  private isClosed(): boolean {
    return this.stage === 'closed';
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fail(message: string): void {
    if (this.stage === 'closed' || this.stage === 'ending') return;
    this.destroy();
    this.opts.onError(message);
  }

  private write(b: Buffer): void {
    this.written += b.length;
    this.socket!.write(b);
  }

  private send(m: RtmpMessage): void {
    this.write(encodeMessage(m, OUT_CHUNK_SIZE));
  }

  private command(streamId: number, name: string, txn: number, ...args: Amf0Value[]): void {
    this.send({ csid: CS_COMMAND, type: MSG_COMMAND_AMF0, streamId, timestamp: 0, payload: encodeAmf0(name, txn, ...args) });
  }

  /** A tag as the RTMP message that carries it (the FLV tag's body is the message's payload). */
  private message(tag: FlvTag, timestamp: number): RtmpMessage {
    if (tag.type === FLV_SCRIPT) {
      // onMetaData goes to the server as @setDataFrame, which keeps it for players that join.
      return { csid: CS_DATA, type: MSG_DATA_AMF0, streamId: this.streamId, timestamp, payload: Buffer.concat([SET_DATA_FRAME, tag.data]) };
    }
    const audio = tag.type === FLV_AUDIO;
    return { csid: audio ? CS_AUDIO : CS_VIDEO, type: audio ? MSG_AUDIO : MSG_VIDEO, streamId: this.streamId, timestamp, payload: tag.data };
  }

  private onConnected(host: string): void {
    if (this.stage !== 'connecting') return;
    if (this.target.scheme === 'rtmps') {
      const problem = this.certificateProblem(this.socket as TLSSocket, host);
      if (problem) {
        this.fail(`Unacceptable TLS certificate: ${problem}`);
        return;
      }
    }
    this.stage = 'handshake';
    // C0 (version 3) and C1: time, zero, 1528 random bytes.
    this.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(HANDSHAKE_SIZE - 8)]));
  }

  private certificateProblem(socket: TLSSocket, host: string): string | null {
    const cert = socket.getPeerCertificate() as PeerCertificate | undefined;
    if (!cert || !cert.raw) return 'the server sent no certificate';
    const identity = checkServerIdentity(host, cert);
    if (identity) return identity.message;
    const now = Date.now();
    if (now < Date.parse(cert.valid_from)) return `not valid before ${cert.valid_from}`;
    if (now > Date.parse(cert.valid_to)) return `expired ${cert.valid_to}`;
    const error = socket.authorizationError as unknown as string | Error | null;
    const code = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : error;
    if (!code) return null;
    if (this.opts.allowUnknownCa && UNKNOWN_CA.has(code)) return null;
    return String(code);
  }

  private onData(d: Buffer): void {
    if (this.stage === 'closed') return;
    this.received += d.length;
    let rest = d;
    if (this.stage === 'handshake') {
      this.handshake = Buffer.concat([this.handshake, d]);
      if (this.handshake.length < 1 + 2 * HANDSHAKE_SIZE) return;
      if (this.handshake[0] !== 3) {
        this.fail(`not an RTMP server (handshake version ${this.handshake[0]})`);
        return;
      }
      // C2 echoes S1.
      this.write(this.handshake.subarray(1, 1 + HANDSHAKE_SIZE));
      rest = this.handshake.subarray(1 + 2 * HANDSHAKE_SIZE);
      this.handshake = Buffer.alloc(0);
      this.stage = 'connect';
      this.send(setChunkSizeMessage(OUT_CHUNK_SIZE));
      const { scheme, host, port, app } = this.target;
      this.command(0, 'connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; Tapedeck)', tcUrl: `${scheme}://${host}:${port}/${app}` });
    }
    if (rest.length === 0) return;
    let messages: RtmpMessage[];
    try {
      messages = this.reader.push(rest);
    } catch (err) {
      this.fail(`protocol error: ${(err as Error).message}`);
      return;
    }
    for (const m of messages) {
      if (this.isClosed()) return;
      this.onMessage(m);
    }
    if (this.ackWindow > 0 && this.received - this.lastAck >= this.ackWindow && !this.isClosed()) {
      this.lastAck = this.received;
      this.send(ackMessage(this.received));
    }
  }

  private onMessage(m: RtmpMessage): void {
    if (m.type === MSG_WINDOW_ACK_SIZE && m.payload.length >= 4) {
      this.ackWindow = m.payload.readUInt32BE(0);
    } else if (m.type === MSG_SET_PEER_BANDWIDTH && m.payload.length >= 4) {
      // Answered with our acknowledgement window, as publishers do.
      this.send(windowAckSizeMessage(m.payload.readUInt32BE(0)));
    } else if (m.type === MSG_USER_CONTROL && m.payload.length >= 6 && m.payload.readUInt16BE(0) === UC_PING_REQUEST) {
      this.send(pingResponseMessage(m.payload.subarray(2, 6)));
    } else if (m.type === MSG_COMMAND_AMF0) {
      let values: Amf0Value[];
      try {
        values = decodeAmf0(m.payload);
      } catch (err) {
        this.fail(`protocol error: ${(err as Error).message}`);
        return;
      }
      this.onCommand(values);
    }
  }

  private onCommand([name, txn, , info]: Amf0Value[]): void {
    const describe = (v: Amf0Value) => {
      const o = (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Amf0Object;
      return [o.code, o.description].filter((x) => typeof x === 'string' && x).join(': ') || 'no reason given';
    };
    if (name === '_error') {
      this.fail(`${this.stage} refused by the server (${describe(info)})`);
    } else if (name === '_result' && txn === 1 && this.stage === 'connect') {
      this.stage = 'createStream';
      this.command(0, 'releaseStream', 2, null, this.target.key);
      this.command(0, 'FCPublish', 3, null, this.target.key);
      this.command(0, 'createStream', 4, null);
    } else if (name === '_result' && txn === 4 && this.stage === 'createStream') {
      if (typeof info !== 'number') {
        this.fail('createStream answered without a stream id');
        return;
      }
      this.streamId = info;
      this.stage = 'publish';
      this.command(this.streamId, 'publish', 5, null, this.target.key, 'live');
    } else if (name === 'onStatus') {
      const o = (info && typeof info === 'object' && !Array.isArray(info) ? info : {}) as Amf0Object;
      if (o.code === 'NetStream.Publish.Start' && this.stage === 'publish') {
        this.stage = 'publishing';
        this.published = true;
        this.clearTimer();
        this.opts.onPublishing?.();
      } else if (o.level === 'error') {
        this.fail(`${this.stage === 'publishing' ? 'stream' : this.stage} refused by the server (${describe(o)})`);
      }
    }
  }
}
