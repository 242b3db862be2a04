// Finds the external programs the local stack runs: a binary on PATH wins, then the project's
// own build in .tools/bin (made by infra/install.sh).
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');
export const TOOLS_BIN = join(PROJECT_ROOT, '.tools', 'bin');
/** Native libraries infra/install.sh builds (git-ignored, like TOOLS_BIN). */
export const TOOLS_LIB = join(PROJECT_ROOT, '.tools', 'lib');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

export function resolveTool(name: 'temporal' | 'fake-gcs-server' | 'pubsub-emulator', pathVar: string | undefined): string {
  // Our pstest wrapper has a generic name: only the project's own build counts.
  const onPath = name === 'pubsub-emulator' ? undefined : findOnPath(name, pathVar);
  if (onPath) return onPath;
  const built = join(TOOLS_BIN, name);
  if (executable(built)) return built;
  throw new Error(`${name} not found on PATH nor in .tools/bin: run \`npm run setup\` (infra/install.sh)`);
}

/** The Google Cloud CLI's Pub/Sub emulator launcher, when that component is installed. */
export function gcloudPubsubEmulator(pathVar: string | undefined): string | undefined {
  const gcloud = findOnPath('gcloud', pathVar);
  if (!gcloud) return undefined;
  const sdkRoot = dirname(dirname(realpathSync(gcloud)));
  const launcher = join(sdkRoot, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
  return existsSync(launcher) && findOnPath('java', pathVar) ? launcher : undefined;
}
