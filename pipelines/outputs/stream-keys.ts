// Stream keys kept out of Temporal's history. The API seals the key part of every RTMP URL before
// it enters a workflow (start input, outputs signal); the media worker opens it right before the
// URL goes to the pipeline host, which is the only place that needs it. History, the workflow's
// queries and the status then carry `rtmp://host/app/sealed.v1.…`: host and app stay readable,
// the key does not.
//
// AES-256-GCM under a key derived from TAPEDECK_STREAM_KEY_SECRET. The IV is an HMAC of the whole
// URL, so sealing is deterministic: the same URL seals to the same string, which keeps the
// workflow's de-duplication and the destination's id stable across requests. The scheme, host,
// port and app are authenticated too (GCM's additional data), so a sealed key cannot be moved to
// another server. Deterministic encryption reveals only that two sealed URLs are the same URL.
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { parseRtmpUrl, redactRtmpUrl, rtmpOutputId, type OutputStatus } from './outputs';

const PREFIX = 'sealed.v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class StreamKeyError extends Error {
  override name = 'StreamKeyError';
}

/** The 32-byte key of a TAPEDECK_STREAM_KEY_SECRET value. */
export function streamKeyCipherKey(secret: string): Buffer {
  return createHash('sha256').update(`tapedeck stream keys\0${secret}`).digest();
}

/**
 * The URL split before its stream key (which may itself hold slashes), and `scheme://host:port/app/`,
 * what a sealed key is bound to.
 */
function destination(url: string): { prefix: string; head: string; key: string } {
  const t = parseRtmpUrl(url);
  const path = url.indexOf('/', url.indexOf('://') + 3);
  const prefix = url.slice(0, url.indexOf('/', path + 1) + 1);
  return { prefix, head: `${t.scheme}://${t.host}:${t.port}/${t.app}/`, key: t.key };
}

export const isSealedRtmpUrl = (url: string): boolean => destination(url).key.startsWith(PREFIX);

/** The URL with its stream key sealed; a URL already sealed is returned as it is. */
export function sealRtmpUrl(url: string, key: Buffer): string {
  const { prefix, head, key: streamKey } = destination(url);
  if (streamKey.startsWith(PREFIX)) return url;
  const iv = createHmac('sha256', key).update(url).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(head));
  const body = Buffer.concat([cipher.update(streamKey, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  return `${prefix}${PREFIX}${sealed}`;
}

/** The URL with its stream key opened; a URL that is not sealed is returned as it is. */
export function openRtmpUrl(url: string, key: Buffer | undefined): string {
  const { prefix, head, key: sealedKey } = destination(url);
  if (!sealedKey.startsWith(PREFIX)) return url;
  if (!key) throw new StreamKeyError('an RTMP destination has a sealed stream key and TAPEDECK_STREAM_KEY_SECRET is not set on this process');
  const raw = Buffer.from(sealedKey.slice(PREFIX.length), 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw new StreamKeyError('a sealed stream key is too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(head));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const streamKey = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    return `${prefix}${streamKey}`;
  } catch {
    // Another secret, a tampered value, or a key moved to another destination.
    throw new StreamKeyError('a sealed stream key does not open with this TAPEDECK_STREAM_KEY_SECRET (another secret, or not sealed for this destination)');
  }
}

/** RTMP destinations as the pipeline host gets them (keys opened), and those that did not open. */
export interface OpenedDestinations {
  opened: string[];
  /**
   * One failed status per destination whose key does not open here (no secret, or another one).
   * It never reaches the pipeline, so it is named after its sealed URL; the API, which opens the
   * URL to name a destination, looks that name up too.
   */
  refused: OutputStatus[];
}

export function openRtmpDestinations(urls: string[], key: Buffer | undefined, now = new Date()): OpenedDestinations {
  const opened: string[] = [];
  const refused: OutputStatus[] = [];
  for (const url of urls) {
    try {
      opened.push(openRtmpUrl(url, key));
    } catch (e) {
      // Only this module's own messages are repeated: nothing else may quote the URL and its key.
      const why = e instanceof StreamKeyError ? e.message : 'not a valid RTMP destination';
      refused.push({ id: rtmpOutputId(url), kind: 'rtmp', target: redactRtmpUrl(url), state: 'failed', attempts: 0, bytesSent: 0, since: now.toISOString(), lastError: `not started by the media worker: ${why}` });
    }
  }
  return { opened, refused };
}
