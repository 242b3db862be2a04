// Estimated CPU cost of recordings, in cores, for placing livestreams on media workers. Pure; the
// figures come from measurements of the pipelines on 2-core machines (see the README's media
// benchmark) and are deliberately on the high side.
import type { HostMedia } from '../pipelines/config';

export function compositeCores(hosts: number): number {
  // VP8 decode + per-branch scaling dominate; x264 ultrafast at 640x360@15 is small.
  return 0.05 + 0.035 * hosts;
}

export function individualCores(host: Pick<HostMedia, 'video'>, variant: 'av' | 'audio'): number {
  if (variant === 'audio') return 0.01;
  return host.video.codec === 'H264' ? 0.01 : 0.09; // passthrough vs VP8 → H.264 transcode
}

export function livestreamCores(hosts: Array<Pick<HostMedia, 'video' | 'camera' | 'microphone'>>, individual: boolean): number {
  let cores = compositeCores(hosts.length);
  if (individual) {
    for (const h of hosts) {
      if (h.camera) cores += individualCores(h, 'av');
      else if (h.microphone) cores += individualCores(h, 'audio');
    }
  }
  return Math.round(cores * 1000) / 1000;
}
