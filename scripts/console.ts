// npm run console — the browser phone (docs/staff.md) on a line of its own: this process runs the
// line with the in-process demo store and its demo caseload, on a clock the page can set, and
// serves the page at http://localhost:$PORT/console.

import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { SettableClock } from '../src/console/settable-clock.ts';
import { jsonLogger } from '../src/log.ts';
import { createLine } from '../src/server.ts';
import { runCli } from './cli.ts';
import { listenLocally } from './listen-locally.ts';

const USAGE = `Usage: npm run console -- [options]

Starts the line in this process (the in-process demo store and its demo caseload; nothing is
kept after it stops) and serves the browser phone at http://localhost:$PORT/console: a keypad,
speech, the transcript, the menu map, the line's clock, and call scripts. Stop it with Ctrl-C.

Options:
  --port N         the port (default: $PORT, else 3000)
  --at ISO-TIME    start the line's clock at this time, e.g. 2026-11-24T10:00:00-08:00
                   (the page can set it too)
  --redis          use REDIS_URL instead of the demo store
  --logs           show the line's info log lines too (warnings and errors are always shown)
  -h, --help       this text`;

type Options = { port: number; at?: Date; redis: boolean; logs: boolean };

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      at: { type: 'string' },
      redis: { type: 'boolean', default: false },
      logs: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const portText = values.port ?? process.env.PORT ?? '3000';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`--port must be a port number, got "${portText}"`);
  let at: Date | undefined;
  if (values.at !== undefined) {
    at = new Date(values.at);
    if (Number.isNaN(at.getTime()) || !/(Z|[+-]\d{2}:\d{2})$/.test(values.at)) throw new Error(`--at must be a time with its offset, like 2026-11-24T10:00:00-08:00; got "${values.at}"`);
  }
  return { port: Number(portText), ...(at ? { at } : {}), redis: values.redis, logs: values.logs };
}

async function main(options: Options): Promise<number> {
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(options.port), PUBLIC_URL: `http://localhost:${options.port}`, NODE_ENV: 'development' };
  if (!options.redis) {
    for (const name of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_USERNAME', 'REDIS_PASSWORD']) delete env[name];
  }
  const config = loadConfig(env);
  const logger = jsonLogger((line) => {
    if (options.logs || !line.includes('"level":"info"')) process.stderr.write(`${line}\n`);
  });
  const clock = new SettableClock();
  if (options.at) clock.set(options.at);
  const line = await createLine({ config, clock, logger });
  // Only this machine: in development the browser phone asks for no token.
  const listener = await listenLocally(line, options.port);
  const store = line.store.kind === 'memory' ? 'the in-process demo store (demo caseload; nothing is kept after it stops)' : `the ${line.store.kind} store at REDIS_URL`;
  process.stdout.write(`Browser phone: http://localhost:${options.port}/console\nThe line uses ${store}. Ctrl-C stops it.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await listener.close();
  return 0;
}

runCli(USAGE, readOptions, main);
