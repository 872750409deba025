// Structured JSON log lines. Callers pass only the fields they chose; free text that could
// carry what a caller typed (an error message) is scrubbed of digit runs before it is written.
import fs from 'node:fs';

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

export type Logger = {
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

export function jsonLogger(write: (line: string) => void = toStdout): Logger {
  const log = (level: string) => (msg: string, fields: LogFields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
