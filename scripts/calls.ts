// npm run calls [FILES or DIRS...] — plays call scripts (test/calls/README.md), each against a
// fresh in-process line, or with --url against a line that is already running.

import { parseArgs } from 'node:util';
import { DEV_AUTH_TOKEN } from '../src/config.ts';
import { paintFor, playCallScripts } from './callscript.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run calls -- [options] [FILES or DIRS...]   (default: test/calls/)

Plays each call script on a simulated Twilio phone and checks what the line says.
Without --url every script gets a fresh in-process line (the demo store), with its clock
set to the script's "at:". Ends with "N passed, N failed, N skipped".

Options:
  --url URL          call a running line instead: scripts it cannot play faithfully are
                     skipped, each with the reason (its clock is its own, and its caseload
                     keeps what earlier calls did; see "needs:" in test/calls/README.md)
  --token TOKEN      its TWILIO_AUTH_TOKEN (default: $TWILIO_AUTH_TOKEN, else the development token)
  --public-url URL   the PUBLIC_URL that line signs against, when it differs from --url
  --read-only        skip the scripts that change the caseload ("changes: caseload")
  --redis            in-process lines use REDIS_URL instead of the demo store
  --quiet            print transcripts of failing scripts only
  -h, --help         this text`;

type Options = { url?: string; token?: string; publicUrl?: string; redis: boolean; readOnly: boolean; quiet: boolean; paths: string[] };

function readOptions(): Options | null {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'public-url': { type: 'string' },
      'read-only': { type: 'boolean', default: false },
      redis: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  return {
    ...(values.url ? { url: values.url } : {}),
    ...(values.token ? { token: values.token } : {}),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    redis: values.redis,
    readOnly: values['read-only'],
    quiet: values.quiet,
    paths: positionals.length > 0 ? positionals : ['test/calls'],
  };
}

async function main(options: Options): Promise<number> {
  const summary = await playCallScripts({
    paths: options.paths,
    ...(options.url
      ? { running: { baseUrl: options.url, publicUrl: options.publicUrl ?? options.url, authToken: options.token ?? process.env.TWILIO_AUTH_TOKEN ?? DEV_AUTH_TOKEN } }
      : {}),
    useRedis: options.redis,
    readOnly: options.readOnly,
    quiet: options.quiet,
    paint: paintFor(process.stdout),
  });
  if (summary.total === 0) {
    process.stderr.write(`No call scripts (*.yaml) in ${options.paths.join(', ')}\n`);
    return 2;
  }
  return summary.failed.length === 0 ? 0 : 1;
}

runCli(USAGE, readOptions, main);
