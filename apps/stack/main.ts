// `npm start`: the whole local stack as processes, one line per component, Ctrl-C stops it all.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrExit } from '../common/config';
import { processEnv, type Env } from '../common/env';
import { API_ROLES } from '../common/tokens';
import { LocalStack, type StackEvent } from '../../infra/stack/stack';
import { createPubSub } from '../common/clients';
import { Demo, defaultScript, parseDuration } from '../demo/demo';
import { loadStackConfig, type StackConfig } from './config';

const USAGE = `usage: npm start [-- [--no-demo] [--hosts N] [--duration 3m]]

Brings up the local Tapedeck stack (Temporal dev server, Pub/Sub and GCS emulators, API, worker,
moderator) and keeps it running until Ctrl-C. Unless told not to, it then runs a demo livestream:
the mock SFU plays the hosts (the first H.264, the others VP8), a camera goes off and on, the last
host joins later, the layout changes, one host freezes with a silent microphone for a while; the
terminal follows snippets, scores, flagged snippets and clips as they happen.
Configuration: environment variables, see README.md.

  --no-demo        bring the stack up without running the demo livestream
  --hosts N        hosts in the demo, 2 to 12 (default 4)
  --duration D     how long the demo livestream records: 90s, 5m, 1h (default 3m)
  --help           this text`;

interface StackState {
  pid: number;
  startedAt: string;
  components: Array<{ name: string; pid?: number; reused: boolean; address: string }>;
}

function parseArgs(argv: string[]): { demo: boolean; hosts: number; durationS: number } {
  let demo = true;
  let hosts = 4;
  let durationS = 180;
  const usage = (message: string): never => {
    process.stderr.write(`tapedeck: ${message}\n\n${USAGE}\n`);
    process.exit(64);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split(/=(.*)/s) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (arg === '--no-demo') demo = false;
    else if (flag === '--hosts') {
      const raw = value();
      hosts = Number(raw);
      if (!Number.isInteger(hosts) || hosts < 2 || hosts > 12) usage(`--hosts must be a whole number from 2 to 12, got "${raw}"`);
    } else if (flag === '--duration') {
      try {
        durationS = parseDuration(value());
      } catch (e) {
        usage((e as Error).message);
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`tapedeck: unknown argument "${arg}"\n\n${USAGE}\n`);
      process.exit(64);
    }
  }
  return { demo, hosts, durationS };
}

// The terminal may go away before the stack does (a closed pipe, a killed `tee`): losing output
// must never stop the shutdown that follows.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
const say = (line: string) => {
  if (process.stdout.writable) process.stdout.write(`[tapedeck] ${line}\n`);
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function devTokens(config: StackConfig): { value: string; generated: boolean } {
  if (config.apiTokens) return { value: config.apiTokens, generated: false };
  const file = join(config.dataDir, 'dev-tokens');
  if (!existsSync(file)) {
    const value = API_ROLES.map((role) => `${role}:dev-${role}-${randomBytes(12).toString('hex')}`).join(',');
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
  }
  return { value: readFileSync(file, 'utf8').trim(), generated: true };
}

/** The stream key secret shared by the API and the workers: the configured one, or one kept in the data folder. */
function devStreamKeySecret(env: Env, dataDir: string): string {
  if (env.TAPEDECK_STREAM_KEY_SECRET) return env.TAPEDECK_STREAM_KEY_SECRET;
  const file = join(dataDir, 'dev-stream-key-secret');
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function describe(event: StackEvent): string {
  if (event.kind === 'provisioned') return `${'resources'.padEnd(9)} ${event.detail}`;
  return `${event.component.padEnd(9)} ${event.kind.padEnd(8)} ${event.detail}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const env = processEnv();
  const config = loadOrExit('tapedeck', () => loadStackConfig(env, process.cwd()));
  mkdirSync(config.dataDir, { recursive: true });

  const stateFile = join(config.dataDir, 'stack.json');
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
    if (alive(state.pid) && state.pid !== process.pid) {
      say(`already running (pid ${state.pid}, since ${state.startedAt}); not starting a second stack:`);
      for (const c of state.components) say(`  ${c.name.padEnd(9)} ${c.address}${c.pid ? `  (pid ${c.pid})` : ''}`);
      say('stop it with Ctrl-C in its terminal, or choose other ports and TAPEDECK_DATA_DIR');
      process.exit(1);
    }
    rmSync(stateFile, { force: true });
  }

  const tokens = devTokens(config);
  const started = Date.now();
  const stack = new LocalStack({
    env,
    dataDir: config.dataDir,
    ports: config.ports,
    projectId: config.projectId,
    bucket: config.bucket,
    pubsubEmulator: config.pubsubKind,
    apiTokens: tokens.value,
    streamKeySecret: devStreamKeySecret(env, config.dataDir),
    reuse: config.reuse,
    startupTimeoutMs: config.startupTimeoutMs,
    onEvent: (e) => say(describe(e)),
  });

  let shuttingDown = false;
  const demoAbort = new AbortController();
  let demoRun: Promise<unknown> | undefined;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`${signal}: stopping everything this command started`);
    if (demoRun) {
      demoAbort.abort();
      // the demo asks the API to stop its livestream, waits (at most 15 s) until its recordings are
      // finalized, and closes its subscriptions; bounded here too
      await Promise.race([demoRun.catch(() => undefined), new Promise((r) => setTimeout(r, 25_000))]);
    }
    await stack.stop();
    rmSync(stateFile, { force: true });
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // Whatever goes wrong in this process, the servers it started are stopped before it exits.
  process.on('uncaughtException', (e) => {
    process.stderr.write(`tapedeck: ${e.stack ?? e.message}\n`);
    void stack.stop().finally(() => {
      rmSync(stateFile, { force: true });
      process.exit(1);
    });
  });

  say(`starting the local stack (data in ${config.dataDir}, logs in ${stack.logDir})`);
  try {
    await stack.start();
  } catch (e) {
    if (shuttingDown) return;
    say(`failed: ${e instanceof Error ? e.message : String(e)}`);
    rmSync(stateFile, { force: true });
    process.exit(1);
  }

  const state: StackState = {
    pid: process.pid,
    startedAt: new Date(started).toISOString(),
    components: [...stack.components.values()].map((c) => ({
      name: c.spec.name,
      pid: c.process?.pid,
      reused: c.reused,
      address: c.spec.describe(),
    })),
  };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));

  say(`Temporal UI   http://${config.ports.host}:${config.ports.temporalUi}`);
  say(`API tokens    ${tokens.generated ? `(dev, from ${join(config.dataDir, 'dev-tokens')})` : '(from TAPEDECK_API_TOKENS)'}`);
  for (const pair of tokens.value.split(',')) {
    const [role, token] = pair.split(/:(.*)/s);
    say(`  ${role!.padEnd(18)} ${tokens.generated ? token : '(set)'}`);
  }
  say(`for other shells: ${Object.entries(stack.clientEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  say(`all components up in ${((Date.now() - started) / 1000).toFixed(1)} s. Ctrl-C stops everything.`);
  say(`reviewer page http://${config.ports.host}:${config.ports.api}/review  (reviewer token above)`);


  // Report a component that dies while the stack runs, once.
  for (const c of stack.components.values()) {
    void c.process?.exited.then(() => {
      if (!shuttingDown) say(`${c.spec.name} exited unexpectedly: ${c.process!.deathReason()}`);
    });
  }
  if (args.demo) {
    demoRun = runDemo(config, tokens.value, args, demoAbort.signal);
    await demoRun.catch((e: Error) => say(`demo failed: ${e.message}`));
    if (!shuttingDown) say('demo finished; the stack stays up (Ctrl-C stops it). npm start -- --no-demo skips the demo.');
  }
  await new Promise(() => {});
}

async function runDemo(config: StackConfig, tokens: string, args: { hosts: number; durationS: number }, signal: AbortSignal) {
  const roleToken = (role: string) => tokens.split(',').map((p) => p.split(/:(.*)/s)).find(([r]) => r === role)?.[1];
  const serviceToken = roleToken('livestream-service');
  if (!serviceToken) throw new Error('TAPEDECK_API_TOKENS has no livestream-service token for the demo');
  const pubsub = createPubSub({ projectId: config.projectId, storageEmulator: undefined, pubsubEmulator: { host: config.ports.host, port: config.ports.pubsub } });
  const script = defaultScript(args.hosts, args.durationS);
  const ui = `http://${config.ports.host}:${config.ports.temporalUi}`;
  const demo = new Demo({
    apiUrl: `http://${config.ports.host}:${config.ports.api}`,
    serviceToken,
    pubsub,
    script,
    say: (line) => say(`demo ${line}`),
    summaryEveryMs: 30_000,
    lingerMs: 60_000,
    signal,
  });
  say(`demo livestream ${demo.livestreamId}: ${args.hosts} hosts for ${args.durationS} s (npm start -- --hosts N --duration 5m; --no-demo to skip)`);
  say(`demo   Temporal UI: ${ui}/namespaces/default/workflows/${encodeURIComponent(`livestream/${demo.livestreamId}`)}`);
  say(`demo   reviewer page: http://${config.ports.host}:${config.ports.api}/review   moderator: http://${config.ports.host}:${config.ports.moderatorHttp}/healthz`);
  try {
    await demo.run();
  } finally {
    await pubsub.close().catch(() => undefined);
  }
}

main().catch((e) => {
  process.stderr.write(`tapedeck: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
