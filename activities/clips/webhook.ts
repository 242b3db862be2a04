// The moderation webhook's signature: `X-Tapedeck-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
// of "<t>.<body>" with the shared secret>`. The timestamp inside the signed text lets a receiver
// refuse replays older than its tolerance; v1 names the scheme so a later one can sit beside it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-tapedeck-signature';

export function signBody(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** For receivers (and tests): true when `header` signs `body` with `secret` within `toleranceS`. */
export function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceS = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceS || !parts.v1) return false;
  const expected = Buffer.from(signBody(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
