// Configuration of the `tapedeck` operator CLI: where the API is and which token to send.
import { loadConfig } from '../common/config';
import type { Env } from '../common/env';
import * as v from '../common/variables';

export function loadCliConfig(env: Env) {
  return Object.freeze(loadConfig(env, { apiUrl: v.TAPEDECK_API_URL, token: v.TAPEDECK_API_TOKEN }));
}

export type CliConfig = ReturnType<typeof loadCliConfig>;
