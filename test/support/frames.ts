// Looking into recorded pictures in tests: the colour of one region of a composite (a host's tile)
// at a given time, and gst-discoverer-1.0's verdict on a file, both from the real tools.
import { execFileSync, spawnSync } from 'node:child_process';
import type { Tile } from '../../pipelines/layout';

export type Rgb = [number, number, number];

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Largest per-channel difference. */
export const colourDistance = (a: Rgb, b: Rgb) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

type Region = { x: number; y: number; width: number; height: number };

/** The raw pixels of a region of the frame shown at `seconds`, decoded by ffmpeg (`then`: more filters after the crop). */
function regionPixels(file: string, seconds: number, r: Region, pixFmt: 'rgb24' | 'gray', then = ''): Buffer {
  return execFileSync(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-ss', seconds.toFixed(3), '-i', file, '-frames:v', '1', '-vf', `crop=${r.width}:${r.height}:${r.x}:${r.y}${then}`, '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    { timeout: 30_000 },
  );
}

/** Mean colour of a region of the frame shown at `seconds` (decoded by ffmpeg, averaged by scaling to 1x1). */
export function regionColour(file: string, seconds: number, r: Region): Rgb {
  const out = regionPixels(file, seconds, r, 'rgb24', ',scale=1:1:flags=area');
  if (out.length < 3) throw new Error(`no frame at ${seconds} s in ${file}`);
  return [out[0]!, out[1]!, out[2]!];
}

/**
 * The box around what is drawn brighter than `threshold` (0-255 luma) in a region of the frame at
 * `seconds`: how wide and how tall a white caption is (0 by 0 when there is none).
 */
export function brightBox(file: string, seconds: number, r: Region, threshold = 180): { width: number; height: number } {
  const out = regionPixels(file, seconds, r, 'gray');
  if (out.length < r.width * r.height) throw new Error(`no frame at ${seconds} s in ${file}`);
  let [left, right, top, bottom] = [r.width, -1, r.height, -1];
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      if (out[y * r.width + x]! <= threshold) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? { width: 0, height: 0 } : { width: right - left + 1, height: bottom - top + 1 };
}

/**
 * The colour a host's camera shows in its tile around `seconds`: the central half of the tile (a
 * 4:3 camera in a 16:9 tile is pillarboxed), median of five samples 0.2 s apart so the test
 * pattern's white flash and clock text do not decide it.
 */
export function tileColour(file: string, seconds: number, tile: Pick<Tile, 'x' | 'y' | 'width' | 'height'>): Rgb {
  const even = (n: number) => Math.floor(n / 2) * 2;
  const region = { x: tile.x + even(tile.width / 4), y: tile.y + even(tile.height / 4), width: even(tile.width / 2), height: even(tile.height / 2) };
  const samples = [0, 0.2, 0.4, 0.6, 0.8].map((d) => regionColour(file, seconds + d, region));
  const median = (i: number) => samples.map((s) => s[i]!).sort((a, b) => a - b)[2]!;
  return [median(0), median(1), median(2)];
}

/** gst-discoverer-1.0's report; throws when it cannot make sense of the file. */
export function discover(file: string): string {
  const r = spawnSync('gst-discoverer-1.0', [file], { timeout: 30_000, encoding: 'utf8' });
  if (r.status !== 0 || /Error|Missing plugins/.test(r.stdout)) throw new Error(`gst-discoverer-1.0 rejects ${file}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}
