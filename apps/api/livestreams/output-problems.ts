// The composite's live outputs that are down, as lines of the livestream status's warnings.
import type { OutputsStatusDto } from './dto/responses.dto';

/** The live outputs that are down, as one line each (targets redacted, as the pipeline reports them). */
export function outputProblems(o: OutputsStatusDto): string[] {
  const down = (state: string) => state === 'retrying' || state === 'failed';
  const why = (e?: string) => (e ? `: ${e}` : '');
  const lines = o.rtmp
    .filter((r) => down(r.state))
    .map((r) =>
      r.state === 'failed'
        ? `RTMP destination ${r.target} failed${r.attempts ? ` after ${r.attempts} attempt(s)` : ''}${why(r.lastError)}`
        : `RTMP destination ${r.target} retrying (attempt ${r.attempts ?? 0})${why(r.lastError)}`,
    );
  if (o.hls && down(o.hls.state)) lines.push(`HLS ${o.hls.state}${why(o.hls.lastError)}`);
  return lines;
}
