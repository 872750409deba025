// npm run call — a phone in the terminal: hear what the line says, press keys, stay silent,
// speak, hang up. Reads commands line by line, so it also works with piped input.

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEV_AUTH_TOKEN } from '../src/config.ts';
import type { LineTarget } from '../src/simulator/call-script.ts';
import { paintFor, startLocalLine, type LocalLine } from './callscript.ts';
import { Phone, PhoneError, type PayDetails, type TranscriptEntry, type Waiting } from '../src/simulator/phone.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run call -- [options]

Calls the line from a simulated phone. Without --url the line runs in this process with the
in-process demo store and its demo caseload.

Options:
  --url URL          call a line that is already running (e.g. http://localhost:3000)
  --token TOKEN      its TWILIO_AUTH_TOKEN (default: $TWILIO_AUTH_TOKEN, else the development token)
  --public-url URL   the PUBLIC_URL that line signs against, when it differs from --url
  --from +1...       the caller's number (default +19165550143)
  --at ISO-TIME      pin the in-process line's clock, e.g. 2026-11-24T10:00:00-08:00
  --redis            the in-process line uses REDIS_URL instead of the demo store
  --logs             show the in-process line's log lines
  -h, --help         this text`;

const COMMANDS = `Commands:
  1   123456789#   press keys (0-9, * and #; spaces are ignored)
  silence          say nothing until the line's timeout
  say <words>      speak (when the line listens for speech)
  pay CARD [MMYY [CODE [ZIP]]]
                   answer Twilio's <Pay> prompts at once (defaults 1230, 123 or 1234 for
                   amex, 95814); test cards: 4242424242424242 visa, 5555555555554444
                   mastercard, 378282246310005 amex succeed; 4000000000000002 is declined,
                   4000000000000119 fails processing. At a <Pay> prompt, keys answer the
                   current prompt (end with #) and * leaves the <Pay>.
  retry            Twilio re-sends the last webhook with the same idempotency token
  hangup           hang up
  help             this text`;

type Options = { url?: string; token?: string; publicUrl?: string; from?: string; at?: Date; redis: boolean; logs: boolean };

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'public-url': { type: 'string' },
      from: { type: 'string' },
      at: { type: 'string' },
      redis: { type: 'boolean', default: false },
      logs: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  if (values.from !== undefined && !/^\+[1-9]\d{6,14}$/.test(values.from)) throw new Error(`--from must be an E.164 number like +19165550143, got "${values.from}"`);
  let at: Date | undefined;
  if (values.at !== undefined) {
    at = new Date(values.at);
    if (Number.isNaN(at.getTime()) || !/(Z|[+-]\d{2}:\d{2})$/.test(values.at)) throw new Error(`--at must be a time with its offset, like 2026-11-24T10:00:00-08:00; got "${values.at}"`);
  }
  return {
    ...(values.url ? { url: values.url } : {}),
    ...(values.token ? { token: values.token } : {}),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    ...(values.from ? { from: values.from } : {}),
    ...(at ? { at } : {}),
    redis: values.redis,
    logs: values.logs,
  };
}

const PAY_STEP_NAMES: Readonly<Record<string, string>> = {
  'payment-card-number': 'the card number',
  'expiration-date': 'the expiration date (MMYY)',
  'security-code': 'the security code',
  'postal-code': 'the billing postal code',
};

function describeWaiting(gather: Waiting): string {
  if (gather.kind === 'pay') {
    const retry = gather.errorType === null ? '' : ` again after ${gather.errorType}`;
    const amount = gather.chargeAmount === null ? '' : ` for ${gather.chargeAmount} ${gather.currency.toUpperCase()}`;
    return `Twilio <Pay>${amount} asks for ${PAY_STEP_NAMES[gather.for] ?? gather.for}${retry} (attempt ${gather.attempt} of ${gather.maxAttempts}): keys ending with #, * to leave, "pay CARD" to answer every prompt, "silence" after ${gather.timeout}s`;
  }
  const ways: string[] = [];
  if (gather.input.includes('dtmf')) {
    const count = gather.numDigits === null ? 'keys' : `${gather.numDigits} key${gather.numDigits === 1 ? '' : 's'}`;
    const finish = gather.finishOnKey === '' ? '' : `, ending with ${gather.finishOnKey}`;
    ways.push(`${count}${finish}`);
  }
  if (gather.input.includes('speech')) ways.push(`speech ("say ..."${gather.language ? `, ${gather.language}` : ''})`);
  return `waiting for ${ways.join(' or ')}; "silence" after ${gather.timeout}s, "help" for commands`;
}

async function main(options: Options): Promise<number> {
  const out = process.stdout;
  const paint = paintFor(out);
  const interactive = Boolean(process.stdin.isTTY);

  let local: LocalLine | null = null;
  let target: LineTarget;
  if (options.url) {
    if (options.at) out.write(paint.dim('(--at is ignored with --url: the running line keeps its own clock)\n'));
    target = { baseUrl: options.url, publicUrl: options.publicUrl ?? options.url, authToken: options.token ?? process.env.TWILIO_AUTH_TOKEN ?? DEV_AUTH_TOKEN };
    out.write(paint.dim(`Calling the line at ${target.baseUrl}\n`));
  } else {
    const logs = options.logs;
    local = await startLocalLine({
      ...(options.at ? { at: options.at } : {}),
      useRedis: options.redis,
      onLog: (line) => {
        if (logs || !line.includes('"level":"info"')) out.write(paint.dim(`  log     ${line}\n`));
      },
    });
    target = local;
    const store = local.storeKind === 'memory' ? 'the IN-PROCESS DEMO STORE (demo caseload; nothing is kept after this call)' : `the ${local.storeKind} store at REDIS_URL`;
    out.write(paint.bold(`In-process line at ${local.baseUrl}, using ${store}.\n`));
    if (options.at) out.write(paint.dim(`The line's clock starts at ${options.at.toISOString()}.\n`));
  }
  out.write(paint.dim(`Type "help" for commands.\n\n`));

  const show = (entry: TranscriptEntry) => {
    if (entry.who === 'line') out.write(`LINE    ${entry.text}\n`);
    else if (entry.who === 'caller') out.write(paint.bold(`YOU     ${entry.text}\n`));
    else out.write(paint.dim(`  ·     ${entry.text}\n`));
  };
  const phone = new Phone({ ...target, ...(options.from ? { from: options.from } : {}), onEntry: show });

  const rl = createInterface({ input: process.stdin, output: out, terminal: interactive });
  // Take the iterator now: lines readline reads before anyone iterates would be dropped.
  const commands = rl[Symbol.asyncIterator]();
  const prompt = () => {
    if (phone.waiting) out.write(paint.dim(`  … ${describeWaiting(phone.waiting)}\n`));
    if (interactive) rl.prompt();
  };
  rl.setPrompt('> ');

  try {
    await phone.dial();
    if (!phone.ended) prompt();
    for await (const raw of { [Symbol.asyncIterator]: () => commands }) {
      if (phone.ended) break;
      const command = raw.trim();
      if (!interactive && command !== '') out.write(paint.dim(`> ${command}\n`));
      try {
        if (command === '') {
          // nothing: an empty line is not silence, so a stray Enter does not move the call on
        } else if (command === 'help' || command === '?') {
          out.write(`${COMMANDS}\n`);
        } else if (command === 'silence') {
          await phone.silence();
        } else if (command === 'hangup') {
          await phone.hangup();
        } else if (command === 'retry') {
          const retry = await phone.retryLastRequest();
          if (!retry.identical) {
            out.write(paint.red(`The retry got a different answer:\n  first: HTTP ${retry.original.status} ${retry.original.body}\n  retry: HTTP ${retry.retry.status} ${retry.retry.body}\n`));
          }
        } else if (command === 'say' || command.startsWith('say ')) {
          await phone.say(command.slice(3).trim());
        } else if (command === 'pay' || command.startsWith('pay ')) {
          const [card, expiry, securityCode, postalCode] = command.slice(3).trim().split(/\s+/);
          if (!card) throw new PhoneError('pay needs a card number: pay 4242424242424242 [MMYY [CODE [ZIP]]]');
          const details: PayDetails = { card, ...(expiry ? { expiry } : {}), ...(securityCode ? { securityCode } : {}), ...(postalCode ? { postalCode } : {}) };
          await phone.pay(details);
        } else if (/^[0-9*#\s]+$/.test(command)) {
          await phone.press(command);
        } else {
          out.write(paint.red(`Not a command: "${command}". `) + 'Type keys like 1 or 123456789#, "pay 4242424242424242" at a card prompt, or "help".\n');
        }
      } catch (error) {
        if (!(error instanceof PhoneError)) throw error;
        out.write(paint.red(`${error.message}\n`));
      }
      if (phone.ended) break;
      prompt();
    }
    if (!phone.ended) await phone.hangup();
  } finally {
    rl.close();
    await local?.close();
  }

  out.write(`\n${phone.endedBy === 'line' ? 'The line ended the call.' : phone.endedBy === 'caller' ? 'You hung up.' : 'The call ended on an application error.'}\n`);
  for (const error of phone.applicationErrors) {
    out.write(paint.red(`Application error: ${error.reason} (${error.method} ${error.url})\n`));
    if (error.body.trim() !== '') out.write(paint.dim(`${error.body.trim().slice(0, 2000)}\n`));
  }
  return phone.applicationErrors.length > 0 ? 1 : 0;
}

runCli(USAGE, readOptions, main);
