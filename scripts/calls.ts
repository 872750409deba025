// npm run calls [FILES or DIRS...] — plays call scripts (test/calls/README.md), each against a
// fresh in-process line, or with --url against a line that is already running.

import { parseArgs } from 'node:util';
import { DEV_AUTH_TOKEN } from '../src/config.ts';
import { CallScriptError, findCallScripts, loadCallScript, runCallScript, type CallScript, type LineTarget } from '../src/simulator/call-script.ts';
import { formatEvent, formatHeader, paintFor, startLocalLine, type LocalLine } from './callscript.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run calls -- [options] [FILES or DIRS...]   (default: test/calls/)

Plays each call script on a simulated Twilio phone and checks what the line says.
Without --url every script gets a fresh in-process line (the demo store), with its clock
set to the script's "at:".

Options:
  --url URL          call a running line instead (its clock is its own: "at:" is ignored)
  --token TOKEN      its TWILIO_AUTH_TOKEN (default: $TWILIO_AUTH_TOKEN, else the development token)
  --public-url URL   the PUBLIC_URL that line signs against, when it differs from --url
  --redis            in-process lines use REDIS_URL instead of the demo store
  --quiet            print transcripts of failing scripts only
  -h, --help         this text`;

type Options = { url?: string; token?: string; publicUrl?: string; redis: boolean; quiet: boolean; paths: string[] };

function readOptions(): Options | null {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'public-url': { type: 'string' },
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
    quiet: values.quiet,
    paths: positionals.length > 0 ? positionals : ['test/calls'],
  };
}

async function main(options: Options): Promise<number> {
  const out = process.stdout;
  const paint = paintFor(out);
  const files = await findCallScripts(options.paths);
  if (files.length === 0) {
    process.stderr.write(`No call scripts (*.yaml) in ${options.paths.join(', ')}\n`);
    return 2;
  }
  const remote: LineTarget | null = options.url
    ? { baseUrl: options.url, publicUrl: options.publicUrl ?? options.url, authToken: options.token ?? process.env.TWILIO_AUTH_TOKEN ?? DEV_AUTH_TOKEN }
    : null;
  if (remote) out.write(paint.dim(`Calling the line at ${remote.baseUrl}\n\n`));
  else out.write(paint.dim(`Each script calls a fresh in-process line (${options.redis ? 'REDIS_URL' : 'the in-process demo store'}).\n\n`));

  const failed: string[] = [];
  for (const file of files) {
    let script: CallScript;
    try {
      script = await loadCallScript(file);
    } catch (error) {
      if (!(error instanceof CallScriptError)) throw error;
      out.write(`${paint.red(`✗ ${error.message}`)}\n\n`);
      failed.push(file);
      continue;
    }
    let local: LocalLine | null = null;
    if (remote && script.at) out.write(paint.dim(`(${file}: ignoring at: ${script.atText}; the running line keeps its own clock)\n`));
    const buffered: string[] = [];
    const print = (text: string) => {
      if (options.quiet) buffered.push(text);
      else out.write(`${text}\n`);
    };
    try {
      local = remote ? null : await startLocalLine({ ...(script.at ? { at: script.at } : {}), useRedis: options.redis });
      print(formatHeader(script));
      const result = await runCallScript(script, remote ?? local!, { onEvent: (event) => print(formatEvent(event, script, paint)) });
      if (!result.passed) {
        failed.push(`${script.name} (${file})`);
        if (options.quiet) out.write(`${buffered.join('\n')}\n`);
        const problems = local?.logs.filter((line) => !line.includes('"level":"info"')) ?? [];
        if (problems.length > 0) out.write(paint.dim(`  the line logged:\n    ${problems.join('\n    ')}\n`));
      }
      const verdict = result.passed ? paint.green(`PASS ${script.name}`) : paint.red(`FAIL ${script.name}`);
      out.write(`${verdict}\n\n`);
    } finally {
      await local?.close();
    }
  }

  const passed = files.length - failed.length;
  out.write(paint.bold(`${files.length} call script${files.length === 1 ? '' : 's'}: ${passed} passed, ${failed.length} failed\n`));
  for (const name of failed) out.write(paint.red(`  ✗ ${name}\n`));
  return failed.length === 0 ? 0 : 1;
}

runCli(USAGE, readOptions, main);
