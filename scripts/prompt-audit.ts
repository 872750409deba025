// How much the line makes a caller listen to. Every prompt's words and estimated seconds, each
// menu's total, and what a first-time caller who listens to everything hears on the main paths,
// measured by calling a fresh in-process line (the demo caseload) turn by turn, as Twilio would.
// test/prompt-audit.test.ts holds the figures to BUDGETS; `npm run prompts -- audit` prints them.
import { catalog, type PromptId } from '../prompts/catalog.ts';
import { speak, spokenValue, type Language, type Spoken, type Utterance } from '../prompts/speak.ts';
import { loadConfig } from '../src/config.ts';
import type { Turn } from '../src/engine/engine.ts';
import type { Reply } from '../src/engine/reply.ts';
import { silentLogger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import { WITHHELD } from '../src/domain/identification.ts';

export const LANGUAGES: readonly Language[] = ['en', 'es'];

/**
 * Words per minute, as this audit counts words. English was measured once: Polly.Joanna-Neural
 * read 312 words of plain English prose in 106.7 s (175 wpm): the MP3 and its text in the public
 * repository Adya662/SSML (commit 5736e3c, out/baseline/plain_Joanna_neural.mp3 and the
 * TEXT_INPUT of "third try/generate.py"), timed by `npm run prompts -- rate`. No recording of
 * Polly.Lupe-Neural was at hand: Spanish assumes the same rate until one is timed the same way.
 * AWS publishes no words-per-minute figure for its voices (Polly guide, "Voice speed").
 */
export const WORDS_PER_MINUTE: Record<Language, number> = { en: 175, es: 175 };

/** What a caller may be made to hear, in words (the issue's figures; docs/performance.md, "How long callers listen"). */
export const BUDGETS = {
  paths: {
    balance: { en: 115, es: 135 },
    pay: { en: 180, es: 210 },
    hours: { en: 110, es: 130 },
    representative: { en: 90, es: 105 },
  },
  menus: {
    main: { en: 45, es: 50 },
    account: { en: 45, es: 50 },
    other: { en: 60, es: 75 },
  },
  /** What a path may say once the main menu begins (its title on): the issue's "<Pay> from the main menu", in both languages. */
  fromMainMenu: {
    pay: { en: 180, es: 180 },
  },
} as const;

/** The prompt a path is counted from for BUDGETS.fromMainMenu. */
const MAIN_MENU_BEGINS: PromptId = 'main.title';

export type PathName = keyof typeof BUDGETS.paths;

/** A word is a run between spaces that has a letter or a digit in it ("$1,684.56" is one). */
export function wordsIn(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

export function secondsFor(words: number, language: Language): number {
  return Math.round((words * 600) / WORDS_PER_MINUTE[language]) / 10;
}

// ---------------------------------------------------------------------------------------------
// Every prompt, with a typical value in each placeholder.

const money = (cents: number): Spoken => ({ kind: 'money', cents });
const SAMPLE_AT = '2026-11-13T20:00:00Z';
const SAMPLES: Readonly<Record<string, Spoken>> = {
  amount: money(45000), total: money(168456), due: money(45000), monthly: money(45000), principal: money(120000),
  interest: money(3456), fee: money(250), charge: money(10250),
  count: { kind: 'number', value: 2 }, key: { kind: 'number', value: 1 },
  last4: { kind: 'digits', value: '3456' }, caseNumber: { kind: 'digits', value: '300000123456' }, zip: { kind: 'digits', value: '95814' },
  code: { kind: 'digits', value: 'ch_3QxZ81aB' }, number: { kind: 'phone', value: '9165550143' },
  date: { kind: 'date', at: SAMPLE_AT }, time: { kind: 'time', at: SAMPLE_AT },
  role: { kind: 'prompt', id: 'role.paying' }, method: { kind: 'prompt', id: 'method.wage-withholding' },
  status: { kind: 'prompt', id: 'status.open' }, party: { kind: 'prompt', id: 'party.paying' }, kind: { kind: 'prompt', id: 'kind.appointment' },
  county: { kind: 'name', value: 'Sacramento' }, city: { kind: 'name', value: 'Sacramento' },
  location: { kind: 'name', value: 'Sacramento County Child Support Services, 3960 Research Drive' },
  description: { kind: 'name', value: 'Interview with your caseworker' },
};

export const placeholdersOf = (template: string): string[] => [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');

export type PromptFigure = { id: PromptId; text: string; words: number; seconds: number };

export function promptFigures(language: Language): PromptFigure[] {
  return (Object.keys(catalog) as PromptId[]).map((id) => {
    const values: Record<string, Spoken> = {};
    for (const name of placeholdersOf(catalog[id][language])) {
      const sample = SAMPLES[name];
      if (!sample) throw new Error(`the prompt audit has no sample value for {${name}} (prompt ${id}): add one to SAMPLES`);
      values[name] = sample;
    }
    const { text } = speak({ id, values }, language);
    const words = wordsIn(text);
    return { id, text, words, seconds: secondsFor(words, language) };
  });
}

/** Placeholders an English prompt has that its Spanish twin lacks: the Spanish caller would miss a figure. */
export function missingPlaceholders(prompts: Readonly<Record<string, { en: string; es: string }>>): string[] {
  return Object.entries(prompts).flatMap(([id, { en, es }]) => {
    const spanish = new Set(placeholdersOf(es));
    return placeholdersOf(en).filter((name) => !spanish.has(name)).map((name) => `${id}: the Spanish prompt lacks {${name}}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Calls to the line: a caller who listens to every prompt to the end.

/** Demo callers (src/domain/demo-caseload.json): who calls on each path, and what they press. */
const CALLERS = {
  en: { balance: { who: 'Dana Whitfield (pays one case, receives on another)', id: '4821930576', pin: '735194' }, payer: { who: 'Devin Sato (pays one case)', id: '1586049327', ssn: '987654328' } },
  es: { balance: { who: 'Rafael Quintana Ortiz (pays one case)', id: '6148027395', pin: '614285' }, payer: { who: 'Rafael Quintana Ortiz (pays one case)', id: '6148027395', ssn: '987654323' } },
} as const;
const LANGUAGE_KEY: Record<Language, string> = { en: '1', es: '2' };

/** Where a path ends: the first money figure said, the <Pay>, the <Dial>, or the end of a prompt. */
type Until = { figure: true } | { next: 'pay' | 'dial' } | { prompt: PromptId };

type PathSpec = { name: PathName; what: string; caller: string; keys: string[]; until: Until };

function pathSpecs(language: Language): PathSpec[] {
  const { balance, payer } = CALLERS[language];
  const start = [LANGUAGE_KEY[language]];
  return [
    { name: 'balance', what: 'to the first figure of the balance', caller: balance.who, keys: [...start, '1', balance.id, balance.pin], until: { figure: true } },
    { name: 'pay', what: "to a card payment's <Pay> (main menu 2, $100.00)", caller: payer.who, keys: [...start, '2', payer.id, payer.ssn, '10000', '1'], until: { next: 'pay' } },
    { name: 'hours', what: "to the representatives' hours (main menu 5)", caller: 'anyone', keys: [...start, '5'], until: { prompt: 'hours.representatives' } },
    { name: 'representative', what: 'to a representative (main menu 0, office hours)', caller: 'anyone', keys: [...start, '0'], until: { next: 'dial' } },
  ];
}

type MenuSpec = { name: string; budget: keyof typeof BUDGETS.menus; keys: string[] };

function menuSpecs(language: Language): MenuSpec[] {
  const start = [LANGUAGE_KEY[language]];
  const { id, pin } = CALLERS[language].balance;
  const account = [...start, '1', id, pin];
  return [
    { name: 'language', budget: 'other', keys: [] },
    { name: 'main', budget: 'main', keys: start },
    { name: 'account', budget: 'account', keys: account },
    { name: 'services', budget: 'other', keys: [...account, '5'] },
    { name: 'forms', budget: 'other', keys: [...account, '5', '2'] },
    { name: 'pinHelp', budget: 'other', keys: [...start, '3'] },
    { name: 'paymentInfo', budget: 'other', keys: [...start, '4'] },
  ];
}

/** A Tuesday, 10:00 AM Pacific: representatives are in. */
export const AUDIT_AT = '2026-11-24T18:00:00Z';

class AuditCall {
  private turn: number | null = null;
  private static calls = 0;
  private readonly callSid = `CAaudit${String(++AuditCall.calls).padStart(26, '0')}`;

  constructor(private readonly line: Line) {}

  async take(keys: string | null): Promise<Reply> {
    const turn: Turn = {
      callSid: this.callSid, event: keys === null ? null : { type: 'digits', digits: keys }, turn: this.turn,
      language: null, idempotencyToken: null, path: 'prompt-audit', caller: WITHHELD,
    };
    const reply = await this.line.engine.take(turn);
    this.turn = reply.turn;
    return reply;
  }
}

export type Heard = { id: PromptId; text: string; words: number };
export type PathFigure = {
  name: PathName; language: Language; what: string; caller: string; heard: Heard[]; words: number; seconds: number; budget: number;
  /** The words from the main menu on, where BUDGETS.fromMainMenu has a budget for the path. */
  fromMainMenu: { words: number; budget: number } | null;
};
export type MenuFigure = { name: string; language: Language; heard: Heard[]; words: number; seconds: number; budget: number };

const heardOf = (reply: Reply): Heard[] =>
  reply.said.map((utterance) => {
    const { text } = speak(utterance, reply.language);
    return { id: utterance.id, text, words: wordsIn(text) };
  });

/** The utterance said up to and including its first money figure, or null if it has none. */
function upToFirstFigure(utterance: Utterance, language: Language): string | null {
  const spokenIn = utterance.language ?? language;
  const template: string = catalog[utterance.id][spokenIn];
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    if (utterance.values?.[match[1] ?? '']?.kind !== 'money') continue;
    const prefix = template.slice(0, match.index + match[0].length);
    return prefix.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = utterance.values?.[name];
      if (!value) throw new Error(`prompt ${utterance.id} needs a value for {${name}}`);
      return spokenValue(value, spokenIn);
    });
  }
  return null;
}

function endOfPath(spec: PathSpec, last: Reply): Heard[] {
  const { until } = spec;
  const heard = heardOf(last);
  if ('next' in until) {
    if (!('input' in last.next) || last.next.input !== until.next) throw new Error(`path ${spec.name}: the last key did not lead to <${until.next === 'pay' ? 'Pay' : 'Dial'}>`);
    return heard;
  }
  if ('prompt' in until) {
    const at = heard.findIndex((line) => line.id === until.prompt);
    if (at < 0) throw new Error(`path ${spec.name}: ${until.prompt} was not said`);
    return heard.slice(0, at + 1);
  }
  for (const [index, utterance] of last.said.entries()) {
    const text = upToFirstFigure(utterance, last.language);
    if (text !== null) return [...heard.slice(0, index), { id: utterance.id, text, words: wordsIn(text) }];
  }
  throw new Error(`path ${spec.name}: no money figure was said after the last key`);
}

async function walk(line: Line, keys: readonly string[]): Promise<{ before: Heard[]; last: Reply }> {
  const call = new AuditCall(line);
  let last = await call.take(null);
  const before: Heard[] = [];
  for (const key of keys) {
    before.push(...heardOf(last));
    last = await call.take(key);
  }
  return { before, last };
}

const total = (heard: readonly Heard[]) => heard.reduce((sum, line) => sum + line.words, 0);

export type Audit = { prompts: Record<Language, PromptFigure[]>; menus: MenuFigure[]; paths: PathFigure[] };

/** Calls a fresh in-process line (demo caseload, clock at AUDIT_AT) and counts what is said. */
export async function auditPrompts(at: Date = new Date(AUDIT_AT)): Promise<Audit> {
  const startedAt = Date.now();
  const config = loadConfig({ NODE_ENV: 'development', BCRYPT_COST: '4' });
  const line = await createLine({ config, logger: silentLogger, clock: () => new Date(at.getTime() + (Date.now() - startedAt)) });
  try {
    const paths: PathFigure[] = [];
    const menus: MenuFigure[] = [];
    for (const language of LANGUAGES) {
      for (const spec of pathSpecs(language)) {
        const { before, last } = await walk(line, spec.keys);
        const heard = [...before, ...endOfPath(spec, last)];
        const words = total(heard);
        const menuBudget = spec.name in BUDGETS.fromMainMenu ? BUDGETS.fromMainMenu[spec.name as keyof typeof BUDGETS.fromMainMenu][language] : null;
        const fromMainMenu = menuBudget === null ? null : { words: total(heard.slice(heard.findIndex((line) => line.id === MAIN_MENU_BEGINS))), budget: menuBudget };
        paths.push({ name: spec.name, language, what: spec.what, caller: spec.caller, heard, words, seconds: secondsFor(words, language), budget: BUDGETS.paths[spec.name][language], fromMainMenu });
      }
      for (const spec of menuSpecs(language)) {
        if (spec.name === 'language' && language === 'es') continue; // one bilingual menu
        const { last } = await walk(line, [...spec.keys, '9']);
        if (!('input' in last.next) || last.next.input !== 'menu') throw new Error(`menu ${spec.name}: 9 did not repeat a menu`);
        const heard = heardOf(last);
        const words = total(heard);
        menus.push({ name: spec.name, language, heard, words, seconds: secondsFor(words, language), budget: BUDGETS.menus[spec.budget][language] });
      }
    }
    return { prompts: { en: promptFigures('en'), es: promptFigures('es') }, menus, paths };
  } finally {
    await line.close();
  }
}

/** Every path and menu over its budget, as a sentence each; empty when all fit. */
export function overBudget(audit: Pick<Audit, 'menus' | 'paths'>): string[] {
  return [
    ...audit.paths.filter((p) => p.words > p.budget).map((p) => `${p.language} path ${p.what}: ${p.words} words, over its budget of ${p.budget}`),
    ...audit.paths.filter((p) => p.fromMainMenu && p.fromMainMenu.words > p.fromMainMenu.budget)
      .map((p) => `${p.language} path ${p.what}, from the main menu: ${p.fromMainMenu?.words} words, over its budget of ${p.fromMainMenu?.budget}`),
    ...audit.menus.filter((m) => m.words > m.budget).map((m) => `${m.language} ${m.name} menu: ${m.words} words, over its budget of ${m.budget}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Calibration: how long a recording lasts, read from its MPEG audio frame headers (Polly's MP3s
// are MPEG-1 or MPEG-2 Layer III); each frame holds a fixed number of samples.

const KBPS = { mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160] };
const SAMPLE_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

export function mp3Seconds(mp3: Uint8Array): number {
  let at = 0;
  if (mp3[0] === 0x49 && mp3[1] === 0x44 && mp3[2] === 0x33) {
    // An ID3v2 tag first: its size is four 7-bit bytes.
    at = 10 + (((mp3[6] ?? 0) << 21) | ((mp3[7] ?? 0) << 14) | ((mp3[8] ?? 0) << 7) | (mp3[9] ?? 0));
  }
  let seconds = 0;
  while (at + 4 <= mp3.length) {
    const header = (((mp3[at] ?? 0) << 24) | ((mp3[at + 1] ?? 0) << 16) | ((mp3[at + 2] ?? 0) << 8) | (mp3[at + 3] ?? 0)) >>> 0;
    const version = (header >>> 19) & 3;
    const layer = (header >>> 17) & 3;
    const bitrateIndex = (header >>> 12) & 15;
    const rateIndex = (header >>> 10) & 3;
    const rate = SAMPLE_RATES[version]?.[rateIndex];
    if ((header >>> 21) !== 0x7ff || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rate === undefined) {
      at += 1; // not a Layer III frame header: keep looking
      continue;
    }
    const mpeg1 = version === 3;
    const bitrate = ((mpeg1 ? KBPS.mpeg1 : KBPS.mpeg2)[bitrateIndex] ?? 0) * 1000;
    seconds += (mpeg1 ? 1152 : 576) / rate;
    at += Math.floor(((mpeg1 ? 144 : 72) * bitrate) / rate) + ((header >>> 9) & 1);
  }
  return seconds;
}

// ---------------------------------------------------------------------------------------------

const pad = (value: string | number, width: number) => String(value).padStart(width);

export function formatAudit(audit: Audit, options: { prompts?: boolean; transcripts?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`Speaking rate: ${LANGUAGES.map((l) => `${l} ${WORDS_PER_MINUTE[l]} words a minute`).join(', ')} (scripts/prompt-audit.ts says where from).`, '');
  out.push('A first-time caller who listens to every prompt to the end:');
  for (const p of audit.paths) {
    out.push(`  ${p.language}  ${p.what.padEnd(50)} ${pad(p.words, 4)} words ${pad(p.seconds.toFixed(1), 6)} s   budget ${pad(p.budget, 3)}${p.words > p.budget ? '  OVER' : ''}   caller: ${p.caller}`);
    const menuPart = p.fromMainMenu;
    if (menuPart) out.push(`        ${'from the main menu on'.padEnd(50)} ${pad(menuPart.words, 4)} words ${pad(secondsFor(menuPart.words, p.language).toFixed(1), 6)} s   budget ${pad(menuPart.budget, 3)}${menuPart.words > menuPart.budget ? '  OVER' : ''}`);
    if (options.transcripts) for (const line of p.heard) out.push(`        ${pad(line.words, 3)}  ${line.id}: ${line.text}`);
  }
  out.push('', 'Menus (what 9 says again):');
  for (const m of audit.menus) {
    out.push(`  ${m.language}  ${m.name.padEnd(12)} ${pad(m.words, 4)} words ${pad(m.seconds.toFixed(1), 6)} s   budget ${pad(m.budget, 3)}${m.words > m.budget ? '  OVER' : ''}`);
    if (options.transcripts) for (const line of m.heard) out.push(`        ${pad(line.words, 3)}  ${line.id}: ${line.text}`);
  }
  if (options.prompts !== false) {
    for (const language of LANGUAGES) {
      const figures = audit.prompts[language];
      out.push('', `Every prompt, ${language} (placeholders filled with typical values): ${total(figures)} words`);
      for (const f of figures) out.push(`  ${pad(f.words, 4)} words ${pad(f.seconds.toFixed(1), 6)} s  ${f.id}`);
    }
  }
  const problems = [...overBudget(audit), ...missingPlaceholders(catalog)];
  out.push('', problems.length === 0 ? 'Every path and menu is within its budget; every Spanish prompt has its English twin\'s placeholders.' : problems.join('\n'));
  return out.join('\n');
}
