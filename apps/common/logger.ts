// Structured JSON logs (pino). Every line carries the process name; callers add livestreamId,
// recordingId, hostId and sequence as bindings where they have them.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.token'], censor: '[redacted]' },
  });
}
