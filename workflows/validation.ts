// Checks the workflows apply to what they are asked (the API checks the same first; these keep a
// workflow consistent whoever calls it). Pure: returns a reason or throws for update validators.
import type { Layout } from '../pipelines/config';
import type { HostSpec, LivestreamState } from './livestream.types';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const LAYOUTS = ['grid', 'active-speaker', 'spotlight'];

export function payloadTypeProblem(pt: unknown, field: string): string | undefined {
  if (!Number.isInteger(pt) || (pt as number) < 0 || (pt as number) > 127) return `${field} must be an integer 0..127`;
  if ((pt as number) >= 72 && (pt as number) <= 76) return `${field} ${pt} collides with RTCP packet types (72..76)`;
  return undefined;
}

export function hostSpecProblem(spec: HostSpec): string | undefined {
  if (!ID_PATTERN.test(spec?.hostId ?? '')) return 'hostId must match [A-Za-z0-9_-]{1,64}';
  if (spec.video && spec.video.codec !== 'VP8' && spec.video.codec !== 'H264') return 'video.codec must be VP8 or H264';
  if (spec.audio && spec.audio.codec !== 'OPUS') return 'audio.codec must be OPUS';
  const vpt = spec.video?.payloadType ?? 96;
  const apt = spec.audio?.payloadType ?? 111;
  const problem = payloadTypeProblem(vpt, 'video.payloadType') ?? payloadTypeProblem(apt, 'audio.payloadType');
  if (problem) return problem;
  if (vpt === apt) return 'video.payloadType and audio.payloadType must differ';
  return undefined;
}

/** Update validator for hostJoined: throwing rejects the update without touching history. */
export function validateHostSpec(spec: HostSpec, s: LivestreamState): void {
  const problem = hostSpecProblem(spec);
  if (problem) throw new Error(problem);
  if (s.phase === 'stopping' || s.phase === 'stopped') throw new Error(`livestream ${s.livestreamId} is ${s.phase}`);
}

export function validateLayout(layout: Layout, s: Pick<LivestreamState, 'hosts'>): string | undefined {
  if (!layout || !LAYOUTS.includes(layout.kind)) return `layout must be one of ${LAYOUTS.join(', ')}`;
  if (layout.kind === 'spotlight') {
    if (!layout.spotlightHostId) return 'spotlight needs spotlightHostId';
    if (!s.hosts[layout.spotlightHostId]?.present) return `spotlightHostId "${layout.spotlightHostId}" is not a host of this livestream`;
  }
  return undefined;
}
