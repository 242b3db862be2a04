// What tests need from the environment, read in one place like the processes do.
import { processEnv, type Env } from '../../apps/common/env';

export const testEnv: Env = processEnv();
