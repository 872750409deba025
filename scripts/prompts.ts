// npm run prompts -- audit — how much the line makes a caller listen to (scripts/prompt-audit.ts).
// npm run prompts -- rate FILE.mp3 TEXT.txt — the words-per-minute of a voice recording, to
// calibrate WORDS_PER_MINUTE once per voice (e.g. an MP3 from `aws polly synthesize-speech`).

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runCli } from './cli.ts';
import { auditPrompts, formatAudit, mp3Seconds, overBudget, wordsIn } from './prompt-audit.ts';

const USAGE = `Usage: npm run prompts -- audit [--transcripts] [--no-prompts] [--json]
       npm run prompts -- rate FILE.mp3 TEXT.txt

audit   calls an in-process line with the demo caseload and prints, per language, every
        prompt's words and estimated seconds, each menu's total, and the words a first-time
        caller who listens to everything hears on the main paths; exits 1 if any path or menu
        is over its budget.
          --transcripts   also print what is said on each path and menu, line by line
          --no-prompts    leave out the list of every prompt
          --json          the figures as JSON
rate    words per minute of a recording of TEXT.txt (words counted as the audit counts them)`;

type Options =
  | { command: 'audit'; transcripts: boolean; prompts: boolean; json: boolean }
  | { command: 'rate'; audio: string; text: string };

function readOptions(): Options | null {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      transcripts: { type: 'boolean', default: false },
      'no-prompts': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const [command, ...rest] = positionals;
  if (command === 'audit' && rest.length === 0) return { command, transcripts: values.transcripts, prompts: !values['no-prompts'], json: values.json };
  if (command === 'rate' && rest.length === 2) return { command, audio: rest[0] ?? '', text: rest[1] ?? '' };
  throw new Error(command === undefined ? 'name a command: audit or rate' : `unknown command or arguments: ${positionals.join(' ')}`);
}

async function main(options: Options): Promise<number> {
  if (options.command === 'rate') {
    const seconds = mp3Seconds(await readFile(options.audio));
    const words = wordsIn(await readFile(options.text, 'utf8'));
    process.stdout.write(`${words} words in ${seconds.toFixed(1)} s: ${Math.round((words * 60) / seconds)} words a minute\n`);
    return 0;
  }
  const audit = await auditPrompts();
  process.stdout.write(options.json ? `${JSON.stringify(audit, null, 2)}\n` : `${formatAudit(audit, options)}\n`);
  return overBudget(audit).length === 0 ? 0 : 1;
}

runCli(USAGE, readOptions, main);
