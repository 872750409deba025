// Structured JSON log lines. Callers pass only the fields they chose; free text that could
// carry what a caller typed (an error message) is scrubbed of digit runs before it is written.

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

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const log = (level: string) => (msg: string, fields: LogFields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
