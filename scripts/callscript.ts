// Call scripts in the terminal: how `npm run call` and `npm run calls` print a run, and the line
// they start in this process. Reading and playing a script is src/simulator/call-script.ts.

import { createServer, type Server } from 'node:net';
import { loadConfig } from '../src/config.ts';
import { jsonLogger, type Logger } from '../src/log.ts';
import { createLine } from '../src/server.ts';
import type { CallScript, CallScriptResult, LineTarget, RunEvent } from '../src/simulator/call-script.ts';

export type Paint = { dim(text: string): string; green(text: string): string; red(text: string): string; bold(text: string): string };
const ansi = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
export const COLOURS: Paint = { dim: ansi(2), green: ansi(32), red: ansi(31), bold: ansi(1) };
export const PLAIN: Paint = { dim: (t) => t, green: (t) => t, red: (t) => t, bold: (t) => t };

export function paintFor(stream: NodeJS.WriteStream): Paint {
  return stream.isTTY && !process.env.NO_COLOR ? COLOURS : PLAIN;
}

function stepLabel(script: CallScript, step: number | null): string {
  if (step === null) return '';
  const found = script.steps[step - 1];
  return found ? `step ${step} (${found.kind}, line ${found.line})` : `step ${step}`;
}

function indentLines(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}

export function formatEvent(event: RunEvent, script: CallScript, paint: Paint = PLAIN): string {
  switch (event.kind) {
    case 'line':
      return `  LINE    ${event.text}`;
    case 'caller':
      return paint.bold(`  CALLER  ${event.text}`);
    case 'system':
      return paint.dim(`  ·       ${event.text}`);
    case 'pass':
      return paint.green(`  ✓ ${event.step}  ${event.text}`);
    case 'fail': {
      const lines = [paint.red(`  ✗ ${event.step === null ? '' : stepLabel(script, event.step) + ': '}${event.text}`)];
      if (event.expected !== undefined) lines.push(`      expected: ${indentLines(event.expected, '                ')}`);
      if (event.heard !== undefined) lines.push(`      heard:    ${indentLines(event.heard, '                ')}`);
      return lines.join('\n');
    }
  }
}

export function formatHeader(script: CallScript): string {
  const details = [script.file, script.atText ? `line clock ${script.atText}` : null, script.from ? `from ${script.from}` : null].filter(Boolean).join(', ');
  return `▶ ${script.name}  (${details})`;
}

export function formatRun(result: CallScriptResult, paint: Paint = PLAIN): string {
  const lines = [formatHeader(result.script), ...result.events.map((event) => formatEvent(event, result.script, paint))];
  lines.push(result.passed ? paint.green(`PASS ${result.script.name}`) : paint.red(`FAIL ${result.script.name}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

export type LocalLine = LineTarget & {
  publicUrl: string;
  storeKind: string;
  /** The line's own JSON log lines, kept so a failing script can show them. */
  logs: string[];
  close(): Promise<void>;
};

export type LocalLineOptions = {
  /** Pins the line's clock: it starts at this instant and runs on with real time. */
  at?: Date;
  /** Keep REDIS_URL from the environment; otherwise the in-process demo store is used. */
  useRedis?: boolean;
  onLog?: (line: string) => void;
  logger?: Logger;
};

async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** Starts the line in this process on a free local port, as `npm start` would but for one test. */
export async function startLocalLine(options: LocalLineOptions = {}): Promise<LocalLine> {
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, NODE_ENV: 'development' };
  if (!options.useRedis) delete env.REDIS_URL;
  const config = loadConfig(env);
  const logs: string[] = [];
  const logger = options.logger ?? jsonLogger((line) => {
    logs.push(line);
    options.onLog?.(line);
  });
  const { at } = options;
  const startedAt = performance.now();
  const clock = at ? () => new Date(at.getTime() + (performance.now() - startedAt)) : undefined;
  const line = await createLine({ config, logger, ...(clock ? { clock } : {}) });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const listening = line.app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    publicUrl: config.publicUrl,
    authToken: config.twilioAuthToken,
    storeKind: line.store.kind,
    logs,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await line.close();
    },
  };
}
