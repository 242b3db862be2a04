// `npm start`: the whole local stack as processes, one line per component, Ctrl-C stops it all.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrExit } from '../common/config';
import { processEnv } from '../common/env';
import { API_ROLES } from '../common/tokens';
import { LocalStack, type StackEvent } from '../../infra/stack/stack';
import { loadStackConfig, type StackConfig } from './config';

const USAGE = `usage: npm start [-- --no-demo]

Brings up the local Tapedeck stack (Temporal dev server, Pub/Sub and GCS emulators, API, worker)
and keeps it running until Ctrl-C. Configuration: environment variables, see README.md.

  --no-demo   bring the stack up without running the demo livestream
  --help      this text`;

interface StackState {
  pid: number;
  startedAt: string;
  components: Array<{ name: string; pid?: number; reused: boolean; address: string }>;
}

function parseArgs(argv: string[]): { demo: boolean } {
  let demo = true;
  for (const arg of argv) {
    if (arg === '--no-demo') demo = false;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`tapedeck: unknown argument "${arg}"\n\n${USAGE}\n`);
      process.exit(64);
    }
  }
  return { demo };
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
    reuse: config.reuse,
    startupTimeoutMs: config.startupTimeoutMs,
    onEvent: (e) => say(describe(e)),
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`${signal}: stopping everything this command started`);
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
  if (args.demo) say('demo livestream: not part of this build yet (the stack stays up; use --no-demo to silence this)');

  // Report a component that dies while the stack runs, once.
  for (const c of stack.components.values()) {
    void c.process?.exited.then(() => {
      if (!shuttingDown) say(`${c.spec.name} exited unexpectedly: ${c.process!.deathReason()}`);
    });
  }
  await new Promise(() => {});
}

main().catch((e) => {
  process.stderr.write(`tapedeck: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
