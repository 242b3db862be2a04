// The `tapedeck` operator CLI over the HTTP API (same routes, same auth, same errors as any other
// client): argument parsing and the calls, kept apart from process I/O so tests run it in-process
// and as a command.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliConfig } from './config';

export const USAGE = `usage:
  tapedeck livestreams start <livestreamId> [--host <hostId>[:VP8|H264[:<payloadType>]]]... [--layout grid|active-speaker|spotlight]
                             [--spotlight <hostId>] [--rtmp <url>]... [--hls] [--no-individual]
  tapedeck livestreams status <livestreamId>
  tapedeck livestreams stop <livestreamId> [--reason <text>]
  tapedeck livestreams snippets <livestreamId> [--recording composite|host-<hostId>] [--from <iso>] [--to <iso>]
  tapedeck clips request <livestreamId> --start <iso> --end <iso> [--recording composite|host-<hostId>] [--precise]
                         [--include-audio-only] [--reason <text>] [--requested-by <name>]
  tapedeck clips get <clipId>
environment: TAPEDECK_API_URL (default http://127.0.0.1:3000), TAPEDECK_API_TOKEN`;

export class UsageError extends Error {}

export interface CliResult {
  /** 0 success, 1 the API refused or failed, 2 usage, 3 the API could not be reached. */
  code: number;
  stdout: string;
  stderr: string;
}

interface Request {
  method: string;
  path: string;
  body?: unknown;
}

function hostArg(raw: string): Record<string, unknown> {
  const [hostId, codec, pt] = raw.split(':');
  const host: Record<string, unknown> = { hostId };
  if (codec) {
    const c = codec.toUpperCase();
    host.video = { codec: c, payloadType: pt !== undefined ? Number(pt) : c === 'H264' ? 102 : 96 };
  }
  return host;
}

function parseOptions(rest: string[], opts: NonNullable<ParseArgsConfig['options']>): Record<string, unknown> {
  try {
    return parseArgs({ args: rest, options: opts, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `tapedeck clips request|get`: the clip routes. */
function clipsRequest(command: string | undefined, id: string | undefined, rest: string[]): Request {
  if (command === 'get') {
    if (!id) throw new UsageError('clips get: a clip id is required');
    parseOptions(rest, {});
    return { method: 'GET', path: `/v1/clips/${encodeURIComponent(id)}` };
  }
  if (command !== 'request') throw new UsageError(`unknown command "clips ${command ?? ''}"`);
  if (!id) throw new UsageError('clips request: a livestream id is required');
  const values = parseOptions(rest, {
    recording: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    precise: { type: 'boolean' },
    'include-audio-only': { type: 'boolean' },
    reason: { type: 'string' },
    'requested-by': { type: 'string' },
  });
  if (!values.start || !values.end) throw new UsageError('clips request: --start and --end are required');
  const rec = String(values.recording ?? 'composite');
  if (rec !== 'composite' && !rec.startsWith('host-')) throw new UsageError(`clips request: --recording must be composite or host-<hostId>, not "${rec}"`);
  return {
    method: 'POST',
    path: '/v1/clips',
    body: {
      livestreamId: id,
      recording: rec === 'composite' ? 'composite' : { hostId: rec.slice('host-'.length) },
      start: values.start,
      end: values.end,
      ...(values.precise ? { precise: true } : {}),
      ...(values['include-audio-only'] ? { includeAudioOnly: true } : {}),
      ...(values.reason ? { reason: values.reason } : {}),
      ...(values['requested-by'] ? { requestedBy: values['requested-by'] } : {}),
    },
  };
}

export function toRequest(argv: string[]): Request {
  const [group, command, id, ...rest] = argv;
  if (group === 'clips') return clipsRequest(command, id, rest);
  if (group !== 'livestreams') throw new UsageError(group ? `unknown command group "${group}"` : 'no command given');
  if (!id) throw new UsageError(`livestreams ${command ?? ''}: a livestream id is required`);
  const path = `/v1/livestreams/${encodeURIComponent(id)}`;
  const opts = {
    host: { type: 'string' as const, multiple: true },
    layout: { type: 'string' as const },
    spotlight: { type: 'string' as const },
    rtmp: { type: 'string' as const, multiple: true },
    hls: { type: 'boolean' as const },
    'no-individual': { type: 'boolean' as const },
    reason: { type: 'string' as const },
    recording: { type: 'string' as const },
    from: { type: 'string' as const },
    to: { type: 'string' as const },
  };
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: rest, options: opts, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const allowed: Record<string, string[]> = {
    start: ['host', 'layout', 'spotlight', 'rtmp', 'hls', 'no-individual'],
    status: [],
    stop: ['reason'],
    snippets: ['recording', 'from', 'to'],
  };
  if (!command || !(command in allowed)) throw new UsageError(`unknown command "livestreams ${command ?? ''}"`);
  const extra = Object.keys(values).filter((k) => !allowed[command]!.includes(k));
  if (extra.length) throw new UsageError(`livestreams ${command} does not take --${extra.join(', --')}`);

  switch (command) {
    case 'start': {
      const composite: Record<string, unknown> = {};
      if (values.layout) composite.layout = values.layout;
      if (values.spotlight) composite.spotlightHostId = values.spotlight;
      if (values.rtmp) composite.rtmp = values.rtmp;
      if (values.hls) composite.hls = true;
      return {
        method: 'POST',
        path: '/v1/livestreams',
        body: {
          livestreamId: id,
          hosts: ((values.host as string[] | undefined) ?? []).map(hostArg),
          ...(Object.keys(composite).length ? { composite } : {}),
          ...(values['no-individual'] ? { individual: false } : {}),
        },
      };
    }
    case 'status':
      return { method: 'GET', path };
    case 'stop':
      return { method: 'DELETE', path: `${path}${values.reason ? `?reason=${encodeURIComponent(String(values.reason))}` : ''}` };
    default: {
      const q = new URLSearchParams();
      for (const k of ['recording', 'from', 'to']) if (values[k]) q.set(k, String(values[k]));
      return { method: 'GET', path: `${path}/snippets${q.size ? `?${q}` : ''}` };
    }
  }
}

export async function runCli(argv: string[], config: CliConfig, timeoutMs = 60_000): Promise<CliResult> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') return { code: argv.length ? 0 : 2, stdout: argv.length ? `${USAGE}\n` : '', stderr: argv.length ? '' : `${USAGE}\n` };
  let req: Request;
  try {
    req = toRequest(argv);
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, stdout: '', stderr: `tapedeck: ${e.message}\n${USAGE}\n` };
    throw e;
  }
  if (!config.token) return { code: 2, stdout: '', stderr: 'tapedeck: TAPEDECK_API_TOKEN is not set\n' };
  const url = new URL(req.path, config.apiUrl);
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers: { authorization: `Bearer ${config.token}`, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return { code: 3, stdout: '', stderr: `tapedeck: cannot reach ${config.apiUrl.origin} (${e instanceof Error ? e.message : String(e)}${cause})\n` };
  }
  const text = await res.text();
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as it came
  }
  if (res.ok) return { code: 0, stdout: `${pretty}\n`, stderr: '' };
  return { code: 1, stdout: '', stderr: `tapedeck: ${req.method} ${req.path} answered ${res.status}\n${pretty}\n` };
}
