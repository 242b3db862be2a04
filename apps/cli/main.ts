#!/usr/bin/env node
// Entry point of the `tapedeck` operator CLI (`npm run tapedeck -- livestreams status <id>`).
import { loadOrExit } from '../common/config';
import { processEnv } from '../common/env';
import { runCli } from './cli';
import { loadCliConfig } from './config';

async function main(): Promise<void> {
  const config = loadOrExit('tapedeck', () => loadCliConfig(processEnv()));
  const r = await runCli(process.argv.slice(2), config);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}

main().catch((e) => {
  process.stderr.write(`tapedeck: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
