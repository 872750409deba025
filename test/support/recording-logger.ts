// A logger that keeps what it is given, for tests to look through afterwards.
import type { LogFields, Logger, LogLevel } from '../../src/log.ts';

export type LoggedLine = { level: LogLevel; msg: string; fields: LogFields };

export type RecordingLogger = Logger & { readonly lines: LoggedLine[] };

export function recordingLogger(): RecordingLogger {
  const lines: LoggedLine[] = [];
  const log = (level: LogLevel) => (msg: string, fields: LogFields = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
