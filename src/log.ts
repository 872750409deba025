// Structured JSON log lines. Callers pass only the fields they chose; free text that could
// carry what a caller typed (an error message) is scrubbed of digit runs before it is written.
import fs from 'node:fs';

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
};

/** Four or more digits in a row are never written from free text: they could be an ID, SSN or PIN. */
export function scrubDigits(text: string): string {
  return text.replace(/\d{4,}/g, '[digits]');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return scrubDigits(`${error.name}: ${error.message}`).slice(0, 300);
  return 'non-error thrown';
}

/**
 * Writes lines to a file descriptor without blocking the event loop: process.stdout is synchronous
 * for files and pipes on Linux (nodejs.org/api/process.html#a-note-on-process-i-o), so a slow log
 * reader would stall every call. Lines written in one tick go out in one asynchronous write; what is
 * still buffered when the process exits is written synchronously then. Past `maxBuffered` bytes
 * waiting (a reader that stopped), new lines are dropped and counted rather than held.
 */
export function asyncLineWriter(fd = 1, maxBuffered = 8 * 1024 * 1024): { write(line: string): void; flush(): void; dropped(): number } {
  let pending: string[] = [];
  let pendingBytes = 0;
  let writing = false;
  let dropped = 0;
  const drain = () => {
    if (writing || pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    writing = true;
    fs.write(fd, chunk, (error) => {
      writing = false;
      if (error) dropped += 1;
      drain();
    });
  };
  const flush = () => {
    if (pending.length === 0) return;
    try {
      fs.writeSync(fd, pending.join(''));
    } catch {
      // Nowhere left to say it.
    }
    pending = [];
    pendingBytes = 0;
  };
  process.once('exit', flush);
  return {
    write(line) {
      if (pendingBytes > maxBuffered) {
        dropped += 1;
        return;
      }
      const scheduled = pending.length > 0;
      pending.push(`${line}\n`);
      pendingBytes += line.length + 1;
      if (!scheduled) setImmediate(drain);
    },
    flush,
    dropped: () => dropped,
  };
}

let stdoutWriter: ReturnType<typeof asyncLineWriter> | null = null;
const toStdout = (line: string): void => (stdoutWriter ??= asyncLineWriter(1)).write(line);

/** One JSON line per call at `level` or above (LOG_LEVEL); lines below it cost nothing. */
export function jsonLogger(write: (line: string) => void = toStdout, level: LogLevel = 'info'): Logger {
  const log = (lineLevel: LogLevel) => (msg: string, fields: LogFields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level: lineLevel, msg, ...fields }));
  };
  return atLevel({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, level);
}

const ignore = () => {};

/** `logger` with the lines below `level` left out. */
export function atLevel(logger: Logger, level: LogLevel): Logger {
  const least = LOG_LEVELS.indexOf(level);
  const at = (lineLevel: LogLevel) => (LOG_LEVELS.indexOf(lineLevel) >= least ? logger[lineLevel].bind(logger) : ignore);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
