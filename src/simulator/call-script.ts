// Call scripts: staff write what a call should sound like in YAML (format: test/calls/README.md),
// and this plays them on the simulated phone against a line: the terminal's `npm run calls` and
// the browser phone both run them through here.

import { randomInt } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { representativesAvailable } from '../domain/hours.ts';
import { Phone, PhoneError, type ApplicationError } from './phone.ts';

export type Step = { line: number } & (
  | { kind: 'expect' | 'expect-not'; texts: string[] }
  | { kind: 'press'; keys: string }
  | { kind: 'say'; words: string }
  | { kind: 'pay'; card: string; expiry?: string; securityCode?: string; postalCode?: string }
  | { kind: 'silence' | 'retry' | 'retry-pay' | 'hangup' | 'expect-ended' | 'redial' }
);
export type StepKind = Step['kind'];

/**
 * What a script needs of the line to be played faithfully (test/calls/README.md, "Playing
 * against a running line"): its clock at `at`, or at least on the same side of office hours;
 * or a caseload no call has changed yet.
 */
export const NEEDS = ['pinned-clock', 'office-hours', 'outside-office-hours', 'fresh-caseload'] as const;
export type Need = (typeof NEEDS)[number];
/** What a script leaves behind in the line that later calls could hear. */
export const CHANGES = ['caseload'] as const;
export type Change = (typeof CHANGES)[number];

export type CallScript = {
  file: string;
  name: string;
  at: Date | null;
  atText: string | null;
  from: string | null;
  needs: Need[];
  changes: Change[];
  steps: Step[];
};

export class CallScriptError extends Error {}

type ValueShape = 'texts' | 'keys' | 'words' | 'card' | 'none';
type NoValueKind = 'silence' | 'retry' | 'retry-pay' | 'hangup' | 'expect-ended' | 'redial';
const STEP_KINDS: Readonly<Record<StepKind, ValueShape>> = {
  expect: 'texts',
  'expect-not': 'texts',
  press: 'keys',
  say: 'words',
  pay: 'card',
  silence: 'none',
  retry: 'none',
  'retry-pay': 'none',
  hangup: 'none',
  'expect-ended': 'none',
  redial: 'none',
};
const TOP_LEVEL_KEYS = ['name', 'description', 'at', 'from', 'needs', 'changes', 'steps'];
const CLOCK_NEEDS: readonly Need[] = ['pinned-clock', 'office-hours', 'outside-office-hours'];
const PAY_KEYS = { card: 'card', expiry: 'expiry', 'security-code': 'securityCode', 'postal-code': 'postalCode' } as const;

function isStepKind(kind: string): kind is StepKind {
  return Object.hasOwn(STEP_KINDS, kind);
}

function closest(word: string, choices: readonly string[]): string | null {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let diagonal = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j]!;
        row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length]!;
  };
  const best = choices.map((choice) => ({ choice, d: distance(word.toLowerCase(), choice) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.choice : null;
}

function validInstant(text: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const calendar = new Date(Date.UTC(y!, mo! - 1, d!));
  if (calendar.getUTCMonth() !== mo! - 1 || calendar.getUTCDate() !== d || h! > 23 || mi! > 59 || (s ?? 0) > 59) return null;
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? null : instant;
}

/** Reads a call script; every problem is reported with the file, the line and the step number. */
export function parseCallScript(source: string, file: string): CallScript {
  const lineCounter = new LineCounter();
  // The failsafe schema reads every value as text: `press: 0123` keeps its 0 and `from: +1916...`
  // stays a phone number instead of becoming a float.
  const doc = parseDocument(source, { schema: 'failsafe', lineCounter, uniqueKeys: true, prettyErrors: true });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const fail = (node: Node | null | undefined, message: string): never => {
    throw new CallScriptError(`${file}:${lineOf(node)}: ${message}`);
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const hint = /alias|anchor|comment/i.test(firstError.message) || /[*#&]/.test(firstError.message)
      ? '\n(hint: quote keys that start with * or #, for example press: "*" or press: "#")'
      : '';
    throw new CallScriptError(`${file}: not valid YAML: ${firstError.message.trim()}${hint}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'a call script is a mapping with at least "steps:"');

  const text = (node: unknown, what: string): string => {
    if (!isScalar(node) || typeof node.value !== 'string') return fail(node as Node, `${what} must be text`);
    return node.value;
  };

  // `needs: office-hours` or `needs: [pinned-clock, fresh-caseload]`: one word, or a list of them.
  const words = <T extends string>(node: Node | null, setting: string, known: readonly T[]): T[] => {
    const nodes = isSeq(node) ? node.items : [node];
    const found: T[] = [];
    for (const item of nodes) {
      const word = text(item, setting).trim();
      if (!(known as readonly string[]).includes(word)) {
        const guess = closest(word, known);
        fail(item as Node, `${setting} has no "${word}"${guess ? ` (did you mean "${guess}"?)` : ''}; it takes ${known.join(', ')}`);
      }
      if (found.includes(word as T)) fail(item as Node, `${setting} names "${word}" twice`);
      found.push(word as T);
    }
    return found;
  };

  const script: CallScript = { file, name: path.basename(file).replace(/\.ya?ml$/, ''), at: null, atText: null, from: null, needs: [], changes: [], steps: [] };
  let stepsNode: Node | null = null;
  let atNode: Node | null = null;
  let needsNode: Node | null = null;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value as Node | null;
    switch (key) {
      case 'name':
        script.name = text(value, 'name').trim() || script.name;
        break;
      case 'description':
        text(value, 'description');
        break;
      case 'at': {
        const atText = text(value, 'at').trim();
        const at = validInstant(atText);
        if (!at) fail(value, `at must be a date and time with its offset, like 2026-11-24T10:00:00-08:00 (Pacific standard time) or -07:00 (daylight time); got "${atText}"`);
        script.at = at;
        script.atText = atText;
        atNode = value;
        break;
      }
      case 'needs':
        script.needs = words(value, 'needs', NEEDS);
        needsNode = value;
        break;
      case 'changes':
        script.changes = words(value, 'changes', CHANGES);
        break;
      case 'from': {
        const from = text(value, 'from').trim();
        if (!/^\+[1-9]\d{6,14}$/.test(from)) fail(value, `from must be a phone number in E.164 form, like "+19165550143"; got "${from}"`);
        script.from = from;
        break;
      }
      case 'steps':
        stepsNode = value;
        break;
      default: {
        const guess = closest(key, TOP_LEVEL_KEYS);
        fail(pair.key as Node, `unknown setting "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; a script has ${TOP_LEVEL_KEYS.join(', ')}`);
      }
    }
  }
  if (!isSeq(stepsNode) || stepsNode.items.length === 0) return fail(stepsNode ?? root, 'steps must be a list with at least one step ("- expect: ...")');
  checkClockNeeds(script, (message) => fail(needsNode ?? atNode ?? root, message));

  stepsNode.items.forEach((item, index) => {
    const number = index + 1;
    const where = `step ${number}`;
    let kindNode: Node;
    let valueNode: Node | null = null;
    if (isScalar(item)) {
      kindNode = item;
    } else if (isMap(item) && item.items.length === 1) {
      const pair = item.items[0]!;
      kindNode = pair.key as Node;
      valueNode = (pair.value as Node | null) ?? null;
    } else if (isMap(item)) {
      const kinds = item.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : '?')).join(', ');
      return fail(item, `${where} has several kinds (${kinds}): write each as its own "- " step`);
    } else {
      return fail(item as Node, `${where} must be a step such as "- press: \\"1\\"" or "- silence"`);
    }
    const kind = isScalar(kindNode) ? String(kindNode.value).trim() : '';
    if (!isStepKind(kind)) {
      const guess = closest(kind, Object.keys(STEP_KINDS));
      return fail(kindNode, `${where}: unknown step kind "${kind}"${guess ? ` (did you mean "${guess}"?)` : ''}; known kinds: ${Object.keys(STEP_KINDS).join(', ')}`);
    }
    const line = lineOf(kindNode);
    const shape = STEP_KINDS[kind];
    const empty = valueNode === null || (isScalar(valueNode) && valueNode.value === '');
    if (shape === 'none') {
      if (!empty) fail(valueNode, `${where}: ${kind} takes no value (write "- ${kind}")`);
      script.steps.push({ kind: kind as NoValueKind, line });
      return;
    }
    if (empty) fail(valueNode ?? kindNode, `${where}: ${kind} needs a value${kind === 'press' ? ' (quote # and *: press: "#")' : kind === 'pay' ? ' (a card number: pay: "4242424242424242")' : ''}`);
    if (shape === 'texts') {
      const nodes = isSeq(valueNode) ? valueNode.items : [valueNode];
      const texts = nodes.map((node) => text(node, `${where}: each ${kind} text`).trim());
      if (texts.length === 0 || texts.some((entry) => entry === '')) fail(valueNode, `${where}: ${kind} needs non-empty text`);
      script.steps.push({ kind: kind as 'expect' | 'expect-not', texts, line });
    } else if (shape === 'keys') {
      if (isScalar(valueNode) && valueNode.type === 'PLAIN' && valueNode.range) {
        const end = valueNode.range[1];
        const lineEnd = source.indexOf('\n', end);
        if (source.slice(end, lineEnd < 0 ? undefined : lineEnd).includes('#')) {
          fail(valueNode, `${where}: " #" starts a YAML comment, so keys after it are lost: quote the keys, for example press: "1234 #"`);
        }
      }
      const keys = text(valueNode, `${where}: press`).replace(/\s+/g, '');
      if (!/^[0-9*#]+$/.test(keys)) fail(valueNode, `${where}: press takes phone keys 0-9, * and #; got "${keys}"`);
      script.steps.push({ kind: 'press', keys, line });
    } else if (shape === 'card') {
      script.steps.push({ kind: 'pay', ...payDetails(valueNode, where, text, fail), line });
    } else {
      const words = text(valueNode, `${where}: say`).trim();
      script.steps.push({ kind: 'say', words, line });
    }
  });
  return script;
}

/** A clock need comes with the `at` that pins it, and that `at` must be on the side of office hours the need names. */
function checkClockNeeds(script: CallScript, fail: (message: string) => never): void {
  const clock = script.needs.filter((need) => CLOCK_NEEDS.includes(need));
  if (clock.length > 1) fail(`needs names ${clock.join(' and ')}: give one (pinned-clock already fixes the time)`);
  const need = clock[0];
  if (!need) return;
  if (!script.at) fail(`needs: ${need} goes with "at:", the line's clock at the start of the call`);
  const open = representativesAvailable(script.at!);
  if (need === 'office-hours' && !open) fail(`needs: office-hours, but at: ${script.atText} is outside office hours`);
  if (need === 'outside-office-hours' && open) fail(`needs: outside-office-hours, but at: ${script.atText} is in office hours`);
}

// `pay: "4242424242424242"` or `pay: { card: ..., expiry: ..., security-code: ..., postal-code: ... }`.
function payDetails(
  node: Node | null,
  where: string,
  text: (node: unknown, what: string) => string,
  fail: (node: Node | null | undefined, message: string) => never,
): { card: string; expiry?: string; securityCode?: string; postalCode?: string } {
  const digits = (valueNode: unknown, what: string): string => {
    const value = text(valueNode, `${where}: pay ${what}`).replace(/[\s-]+/g, '');
    if (!/^\d+$/.test(value)) fail(valueNode as Node, `${where}: pay ${what} must be digits; got "${value}"`);
    return value;
  };
  if (!isMap(node)) return { card: digits(node, 'card') };
  const details: { card?: string; expiry?: string; securityCode?: string; postalCode?: string } = {};
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!Object.hasOwn(PAY_KEYS, key)) {
      const guess = closest(key, Object.keys(PAY_KEYS));
      fail(pair.key as Node, `${where}: pay has no "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; it takes ${Object.keys(PAY_KEYS).join(', ')}`);
    }
    details[PAY_KEYS[key as keyof typeof PAY_KEYS]] = digits(pair.value, key);
  }
  if (details.card === undefined) return fail(node, `${where}: pay needs a card: pay: { card: "4242424242424242" }`);
  return { ...details, card: details.card };
}

export async function loadCallScript(file: string): Promise<CallScript> {
  return parseCallScript(await readFile(file, 'utf8'), file);
}

/** The *.yaml / *.yml files under each path (a file is taken as is), sorted, without duplicates. */
export async function findCallScripts(paths: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const entry of paths) {
    const info = await stat(entry).catch(() => null);
    if (!info) throw new CallScriptError(`${entry}: no such file or directory`);
    if (info.isFile()) {
      found.add(entry);
      continue;
    }
    const names = await readdir(entry, { recursive: true });
    for (const name of names.filter((name) => /\.ya?ml$/.test(name)).sort()) found.add(path.join(entry, name));
  }
  return [...found];
}

// ---------------------------------------------------------------------------------------------

export type LineTarget = { baseUrl: string; publicUrl?: string; authToken: string };

export type RunEvent =
  | { kind: 'line' | 'caller' | 'system'; text: string }
  | { kind: 'pass'; step: number; text: string }
  | { kind: 'fail'; step: number | null; text: string; expected?: string; heard?: string };

export type Failure = { step: number | null; message: string; expected?: string; heard?: string };

export type CallScriptResult = {
  script: CallScript;
  passed: boolean;
  failure: Failure | null;
  events: RunEvent[];
  applicationErrors: ApplicationError[];
};

// California area codes; 555-0100 to 555-0199 are reserved for fiction in every one of them.
const AREA_CODES = [
  '209', '213', '279', '310', '323', '341', '350', '408', '415', '424', '442', '510', '530', '559', '562', '619',
  '626', '628', '650', '657', '661', '669', '707', '714', '747', '760', '805', '818', '820', '831', '840', '858',
  '909', '916', '925', '949', '951',
];

/**
 * The number a script without `from:` calls from: a made-up one drawn anew for each play (3,700
 * to draw from), so scripts do not share a number's hourly budget of failed identifications.
 */
export function madeUpCallerNumber(): string {
  return `+1${AREA_CODES[randomInt(AREA_CODES.length)]}55501${String(randomInt(100)).padStart(2, '0')}`;
}

/** How expectations compare text: case, spacing and curly quotes do not matter. */
export function normaliseSpeech(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, ' ').trim();
}

function describeError(error: ApplicationError): string {
  const body = error.body.trim() === '' ? '' : `\n${error.body.trim().slice(0, 600)}`;
  const what = error.phase === 'status-callback' ? 'the status callback' : error.phase === 'pay-status-callback' ? 'a <Pay> status callback' : 'a webhook';
  return `${what} failed: ${error.reason} (${error.method} ${error.url})${body}`;
}

export async function runCallScript(
  script: CallScript,
  target: LineTarget,
  options: { onEvent?: (event: RunEvent) => void } = {},
): Promise<CallScriptResult> {
  const events: RunEvent[] = [];
  const emit = (event: RunEvent) => {
    events.push(event);
    options.onEvent?.(event);
  };
  // One number for the whole script, so a redial is the same caller calling again.
  const from = script.from ?? madeUpCallerNumber();
  const newPhone = () =>
    new Phone({
      baseUrl: target.baseUrl,
      publicUrl: target.publicUrl ?? target.baseUrl,
      authToken: target.authToken,
      from,
      onEntry: (entry) => emit({ kind: entry.who, text: entry.text }),
    });
  let phone = newPhone();

  const applicationError = (step: number | null): Failure | null => {
    const error = phone.applicationErrors[0];
    return error ? { step, message: `Twilio would play "an application error has occurred": ${describeError(error)}` } : null;
  };

  const runStep = async (step: Step, number: number): Promise<Failure | null> => {
    switch (step.kind) {
      case 'expect':
      case 'expect-not': {
        const heard = phone.heardSinceLastInput();
        for (const expected of step.texts) {
          const present = normaliseSpeech(heard).includes(normaliseSpeech(expected));
          if (present !== (step.kind === 'expect')) {
            return {
              step: number,
              message: step.kind === 'expect' ? 'the line did not say what was expected' : 'the line said what it should not have',
              expected: `${step.kind === 'expect' ? '' : 'not '}"${expected}"`,
              heard: heard === '' ? '(nothing)' : heard,
            };
          }
          emit({ kind: 'pass', step: number, text: `${step.kind === 'expect' ? 'heard' : 'did not hear'} "${expected}"` });
        }
        return null;
      }
      case 'press':
        await phone.press(step.keys);
        return null;
      case 'silence':
        await phone.silence();
        return null;
      case 'say':
        await phone.say(step.words);
        return null;
      case 'pay':
        await phone.pay({
          card: step.card,
          ...(step.expiry !== undefined ? { expiry: step.expiry } : {}),
          ...(step.securityCode !== undefined ? { securityCode: step.securityCode } : {}),
          ...(step.postalCode !== undefined ? { postalCode: step.postalCode } : {}),
        });
        return null;
      case 'hangup':
        if (phone.ended) return { step: number, message: `the caller cannot hang up: the call had already ended (${phone.endedBy === 'line' ? 'the line ended it' : 'after an application error'})` };
        await phone.hangup();
        return null;
      case 'retry': {
        const retry = await phone.retryLastRequest();
        if (!retry.identical) {
          return {
            step: number,
            message: `Twilio's retry of ${retry.method} ${retry.url} (same idempotency token) got a different answer`,
            expected: `HTTP ${retry.original.status}\n${retry.original.body}`,
            heard: `HTTP ${retry.retry.status}\n${retry.retry.body}`,
          };
        }
        emit({ kind: 'pass', step: number, text: 'the retry got the same answer' });
        return null;
      }
      case 'retry-pay': {
        const retry = await phone.duplicateLastPayCallback();
        if (!retry.identical) {
          return {
            step: number,
            message: `Twilio's retry of the <Pay> result (${retry.method} ${retry.url}, same idempotency token) got a different answer`,
            expected: `HTTP ${retry.original.status}\n${retry.original.body}`,
            heard: `HTTP ${retry.retry.status}\n${retry.retry.body}`,
          };
        }
        emit({ kind: 'pass', step: number, text: 'the retried <Pay> result got the same answer' });
        return null;
      }
      case 'redial':
        // A second call to the same line (lockouts and resets are remembered across calls).
        if (!phone.ended) await phone.hangup();
        emit({ kind: 'system', text: 'the caller calls again' });
        phone = newPhone();
        await phone.dial();
        return applicationError(number);
      case 'expect-ended':
        if (!phone.ended) return { step: number, message: 'expected the line to have ended the call, but it is still waiting for the caller', heard: phone.heardSinceLastInput() || '(nothing)' };
        if (phone.endedBy !== 'line') return { step: number, message: `expected the line to have ended the call, but ${phone.endedBy === 'caller' ? 'the caller hung up' : 'it ended on an application error'}` };
        emit({ kind: 'pass', step: number, text: 'the line ended the call' });
        return null;
    }
  };

  const report = (found: Failure) => {
    const { step, message, expected, heard } = found;
    emit({ kind: 'fail', step, text: message, ...(expected !== undefined ? { expected } : {}), ...(heard !== undefined ? { heard } : {}) });
    return found;
  };

  let failure: Failure | null = null;
  let current: number | null = null;
  try {
    await phone.dial();
    failure = applicationError(null);
    for (const [index, step] of script.steps.entries()) {
      if (failure) break;
      current = index + 1;
      failure = (await runStep(step, current)) ?? applicationError(current);
    }
  } catch (error) {
    if (!(error instanceof PhoneError)) throw error;
    failure = { step: current, message: error.message };
  } finally {
    if (failure) report(failure);
    // A script that stops early still ends its call, so the line can clean up its session.
    if (!phone.ended) await phone.hangup();
  }
  if (!failure) {
    const late = applicationError(null);
    if (late) failure = report(late);
  }
  return { script, passed: failure === null, failure, events, applicationErrors: [...phone.applicationErrors] };
}
