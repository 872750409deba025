// Call scripts: staff write what a call should sound like in YAML (format: test/calls/README.md),
// and this plays them on the simulated phone against a line.

import { randomInt } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { loadConfig, type Config } from '../src/config.ts';
import { parseCaseloadJson } from '../src/domain/caseload-file.ts';
import { DEMO_CASELOAD_PATH, prepareCaseload } from '../src/domain/caseload-loader.ts';
import type { CaseloadStore, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { holidayOn, PACIFIC, representativesAvailable } from '../src/domain/hours.ts';
import { jsonLogger, type Logger } from '../src/log.ts';
import { createLine } from '../src/server.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { Phone, PhoneError, type ApplicationError } from './twilio-sim/phone.ts';

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

// ---------------------------------------------------------------------------------------------

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
  /** The line's caseload (participants, cases and what callers did), for tests to look into. */
  caseload: CaseloadStore;
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

const preparedDemo = new Map<string, Promise<LoadedCaseload>>();

// The demo caseload, its SSNs and PINs hashed once per process: bcrypt at the line's cost takes
// seconds for every participant together, and each script gets a fresh line.
function demoCaseload(config: Config): Promise<LoadedCaseload> {
  const key = `${config.ssnHashKey}\n${config.bcryptCost}`;
  let prepared = preparedDemo.get(key);
  if (!prepared) {
    prepared = readFile(DEMO_CASELOAD_PATH, 'utf8').then((text) => {
      const parsed = parseCaseloadJson(text);
      if (!parsed.ok) throw new Error(`${DEMO_CASELOAD_PATH}: ${parsed.error}`);
      return prepareCaseload(parsed.caseload, config);
    });
    preparedDemo.set(key, prepared);
  }
  return prepared;
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
  const caseload = config.redis ? undefined : new MemoryCaseloadStore(config.retention);
  if (caseload) await caseload.replaceCaseload(await demoCaseload(config));
  const line = await createLine({ config, logger, ...(clock ? { clock } : {}), ...(caseload ? { caseload } : {}) });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const listening = line.app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    publicUrl: config.publicUrl,
    authToken: config.twilioAuthToken,
    storeKind: line.store.kind,
    caseload: line.caseload,
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

// ---------------------------------------------------------------------------------------------

/** What the line a script is played against can promise. */
export type LineConditions = {
  /** The line's clock starts at the script's `at` (an in-process line); otherwise it is `now`. */
  clockPinned: boolean;
  /** The caseload is the demo caseload as loaded, untouched by any earlier call. */
  freshCaseload: boolean;
  /** The line's clock when it is not pinned, as this computer sees it. */
  now: Date;
  /** Leave out scripts that change the caseload. */
  readOnly: boolean;
};

// An office-hours script is played only if the hours do not change while it runs (a call takes seconds).
const HOURS_MARGIN_MS = 2 * 60_000;

const pacificDay = new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, weekday: 'long', month: 'long', day: 'numeric' });
const pacificClock = new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, hour: 'numeric', minute: '2-digit' });

/** "Tuesday, December 1, 9:47 PM Pacific", and the holiday if it is one. */
function describeMoment(instant: Date): string {
  const holiday = holidayOn(instant);
  const clock = pacificClock.format(instant).replace(/\s+/g, ' ');
  return `${pacificDay.format(instant)}, ${clock} Pacific${holiday ? `, ${holiday}` : ''}`;
}

export type SkipReason = {
  /** The need the line cannot meet, or `changes` when --read-only leaves out a script that changes the caseload. */
  because: Need | 'changes';
  why: string;
};

/** Why a script cannot be played faithfully on this line (null: it can). */
export function whySkip(script: CallScript, line: LineConditions): SkipReason | null {
  if (line.readOnly && script.changes.includes('caseload')) {
    return { because: 'changes', why: 'it changes the caseload (changes: caseload), and --read-only leaves such scripts out' };
  }
  if (!line.freshCaseload && script.needs.includes('fresh-caseload')) {
    return { because: 'fresh-caseload', why: 'it needs a caseload no earlier call has changed (needs: fresh-caseload), and this line keeps what earlier calls did' };
  }
  if (line.clockPinned) return null;
  if (script.needs.includes('pinned-clock')) {
    return { because: 'pinned-clock', why: `it needs the line's clock at ${script.atText} (needs: pinned-clock), and a running line keeps its own clock` };
  }
  for (const [need, open] of [['office-hours', true], ['outside-office-hours', false]] as const) {
    if (!script.needs.includes(need)) continue;
    const later = new Date(line.now.getTime() + HOURS_MARGIN_MS);
    const side = open ? 'in office hours' : 'outside office hours';
    if (representativesAvailable(line.now) !== open) return { because: need, why: `it needs the line's clock ${side} (needs: ${need}), and it is ${describeMoment(line.now)}` };
    if (representativesAvailable(later) !== open) {
      return { because: need, why: `it needs the line's clock ${side} (needs: ${need}), and office hours ${open ? 'end' : 'begin'} within ${HOURS_MARGIN_MS / 60_000} minutes` };
    }
  }
  return null;
}

const SKIPPED_BECAUSE: Readonly<Record<SkipReason['because'], string>> = {
  'pinned-clock': "they need the line's clock at their at: (needs: pinned-clock), and a running line keeps its own clock",
  'office-hours': "they need the line's clock in office hours (needs: office-hours), and it is not",
  'outside-office-hours': "they need the line's clock outside office hours (needs: outside-office-hours), and it is not",
  'fresh-caseload': 'they need a caseload no earlier call has changed (needs: fresh-caseload), and this line keeps what earlier calls did',
  changes: 'they change the caseload (changes: caseload), and --read-only leaves them out',
};

export type PlayOptions = {
  paths: readonly string[];
  /** A line that is already running (`--url`); without it each script gets a fresh in-process line. */
  running?: LineTarget;
  /** In-process lines use REDIS_URL (whose caseload keeps what earlier calls did) instead of the demo store. */
  useRedis?: boolean;
  readOnly?: boolean;
  /** Print the transcripts of failing scripts only. */
  quiet?: boolean;
  out?: (text: string) => void;
  paint?: Paint;
  /** The running line's clock as this computer sees it. */
  now?: () => Date;
};

export type PlaySummary = {
  total: number;
  passed: string[];
  failed: string[];
  skipped: { script: string; reason: SkipReason }[];
};

/** Plays call scripts, prints what happened, and counts: `npm run calls`, and tests of a running line. */
export async function playCallScripts(options: PlayOptions): Promise<PlaySummary> {
  const out = options.out ?? ((text: string) => void process.stdout.write(`${text}\n`));
  const paint = options.paint ?? PLAIN;
  const now = options.now ?? (() => new Date());
  const files = await findCallScripts(options.paths);
  const summary: PlaySummary = { total: files.length, passed: [], failed: [], skipped: [] };
  const running = options.running ?? null;
  const conditions = (): LineConditions => ({
    clockPinned: running === null,
    freshCaseload: running === null && !options.useRedis,
    now: now(),
    readOnly: options.readOnly ?? false,
  });
  if (running) out(paint.dim(`Calling the line at ${running.baseUrl}\n`));
  else out(paint.dim(`Each script calls a fresh in-process line (${options.useRedis ? 'REDIS_URL' : 'the in-process demo store'}).\n`));

  for (const file of files) {
    let script: CallScript;
    try {
      script = await loadCallScript(file);
    } catch (error) {
      if (!(error instanceof CallScriptError)) throw error;
      out(`${paint.red(`✗ ${error.message}`)}\n`);
      summary.failed.push(file);
      continue;
    }
    const label = `${script.name} (${file})`;
    const reason = whySkip(script, conditions());
    if (reason) {
      out(`${paint.dim(`○ SKIP ${label}: ${reason.why}`)}\n`);
      summary.skipped.push({ script: label, reason });
      continue;
    }
    const buffered: string[] = [];
    const print = (text: string) => {
      if (options.quiet) buffered.push(text);
      else out(text);
    };
    const local = running ? null : await startLocalLine({ ...(script.at ? { at: script.at } : {}), useRedis: options.useRedis ?? false });
    try {
      print(formatHeader(script));
      const result = await runCallScript(script, running ?? local!, { onEvent: (event) => print(formatEvent(event, script, paint)) });
      if (result.passed) {
        summary.passed.push(label);
      } else {
        summary.failed.push(label);
        if (options.quiet) out(buffered.join('\n'));
        const problems = local?.logs.filter((line) => !line.includes('"level":"info"')) ?? [];
        if (problems.length > 0) out(paint.dim(`  the line logged:\n    ${problems.join('\n    ')}`));
      }
      out(`${result.passed ? paint.green(`PASS ${script.name}`) : paint.red(`FAIL ${script.name}`)}\n`);
    } finally {
      await local?.close();
    }
  }

  out(paint.bold(`${files.length} call script${files.length === 1 ? '' : 's'}${running ? ` against ${running.baseUrl}` : ''}`));
  const counts = new Map<SkipReason['because'], number>();
  for (const { reason } of summary.skipped) counts.set(reason.because, (counts.get(reason.because) ?? 0) + 1);
  for (const [because, count] of counts) out(paint.dim(`  ${count} skipped: ${SKIPPED_BECAUSE[because]}`));
  for (const name of summary.failed) out(paint.red(`  ✗ ${name}`));
  out(paint.bold(`${summary.passed.length} passed, ${summary.failed.length} failed, ${summary.skipped.length} skipped`));
  return summary;
}
