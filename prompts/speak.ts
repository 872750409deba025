// Turns an utterance (a prompt id and typed values) into the words the voice says, per language.
import type { Language } from '../src/domain/language.ts';
import { catalog, type PromptId } from './catalog.ts';

export type { Language };

export type Spoken =
  | { kind: 'money'; cents: number }
  | { kind: 'date'; at: string }
  | { kind: 'time'; at: string }
  /** Said one character at a time: case endings, ZIP codes, confirmation codes (letters too). */
  | { kind: 'digits'; value: string }
  /** A 10-digit phone number, read back digit by digit in groups. */
  | { kind: 'phone'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'prompt'; id: PromptId }
  /** Proper names (a county, a street) said as they are in either language. */
  | { kind: 'name'; value: string };

export type Utterance = {
  id: PromptId;
  values?: Readonly<Record<string, Spoken>>;
  /** Said in this language whatever the caller chose (the bilingual language menu). */
  language?: Language;
};

export const VOICE: Record<Language, { voice: string; language: string }> = {
  en: { voice: 'Polly.Joanna-Neural', language: 'en-US' },
  es: { voice: 'Polly.Lupe-Neural', language: 'es-US' },
};

const PACIFIC = 'America/Los_Angeles';
const LOCALE: Record<Language, string> = { en: 'en-US', es: 'es-US' };

function money(cents: number, language: Language): string {
  const negative = cents < 0;
  const abs = Math.abs(Math.trunc(cents));
  const dollars = Math.floor(abs / 100);
  const rest = abs % 100;
  if (language === 'en') {
    // "$1,234.56" is read by the English voice as dollars and cents.
    return `${negative ? 'minus ' : ''}$${dollars.toLocaleString('en-US')}.${String(rest).padStart(2, '0')}`;
  }
  // The Spanish voice reads "1,234.56" unreliably (comma and point swap meaning); words read right.
  const dollarWord = dollars === 1 ? 'dólar' : 'dólares';
  const centWord = rest === 1 ? 'centavo' : 'centavos';
  const sign = negative ? 'menos ' : '';
  if (rest === 0) return `${sign}${dollars} ${dollarWord}`;
  if (dollars === 0) return `${sign}${rest} ${centWord}`;
  return `${sign}${dollars} ${dollarWord} con ${rest} ${centWord}`;
}

function date(at: string, language: Language): string {
  const instant = new Date(at);
  if (language === 'en') {
    return new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' }).format(instant);
  }
  const parts: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat('es-US', { timeZone: PACIFIC, weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' }).formatToParts(instant)) {
    parts[part.type] = part.value;
  }
  // In American Spanish the first of the month is "primero", not "uno".
  return `${parts.weekday} ${parts.day === '1' ? 'primero' : parts.day} de ${parts.month} de ${parts.year}`;
}

function time(at: string, language: Language): string {
  const parts: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, hour: 'numeric', minute: '2-digit', hour12: true }).formatToParts(new Date(at))) {
    parts[part.type] = part.value;
  }
  const hour = Number(parts.hour);
  const clock = parts.minute === '00' ? `${hour}` : `${hour}:${parts.minute}`;
  if (language === 'en') return `${hour}:${parts.minute} ${parts.dayPeriod} Pacific time`;
  const hour24 = new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, hour: 'numeric', hourCycle: 'h23' }).format(new Date(at));
  const h = Number(hour24);
  const period = h < 12 ? 'de la mañana' : h < 19 ? 'de la tarde' : 'de la noche';
  // "a la 1:30", "a las 9:30": the article agrees with the hour.
  return `${hour === 1 ? 'la' : 'las'} ${clock} ${period}, hora del Pacífico`;
}

/**
 * A stretch the voice reads as written, or digits it is told how to read (SSML <say-as>, which
 * Polly's neural voices support for `digits` and `telephone`; `characters` they do not, so codes
 * with letters are spelled out in plain text instead): Amazon Polly developer guide, "say-as".
 */
export type SayAs = { sayAs: 'digits' | 'telephone'; value: string };
export type Piece = string | SayAs;

const SYMBOLS: Record<Language, Record<string, string>> = {
  en: { _: 'underscore', '-': 'dash' },
  es: { _: 'guion bajo', '-': 'guion' },
};

/** Letters as capitals (a lone "A" would be read as the article), one character at a time. */
function spelled(code: string, language: Language): string {
  return [...code].map((c) => SYMBOLS[language][c] ?? c.toUpperCase()).join(', ');
}

function valuePieces(value: Spoken, language: Language): Piece[] {
  switch (value.kind) {
    case 'digits': return /^\d+$/.test(value.value) ? [{ sayAs: 'digits', value: value.value }] : [spelled(value.value, language)];
    case 'phone': return /^\d{10}$/.test(value.value) ? [{ sayAs: 'telephone', value: value.value }] : valuePieces({ kind: 'digits', value: value.value }, language);
    case 'money': return [money(value.cents, language)];
    case 'date': return [date(value.at, language)];
    case 'time': return [time(value.at, language)];
    case 'number': return [value.value.toLocaleString(LOCALE[language])];
    case 'prompt': return [catalog[value.id][language]];
    case 'name': return [value.value];
  }
}

/** What a piece sounds like, in plain words: digits one by one ("3 4 5 6"). */
export function plain(piece: Piece): string {
  return typeof piece === 'string' ? piece : piece.value.split('').join(' ');
}

export function spokenValue(value: Spoken, language: Language): string {
  return valuePieces(value, language).map(plain).join('');
}

/** An utterance as pieces in the language it is said in; adjacent plain text is one piece. */
export function speakPieces(utterance: Utterance, callerLanguage: Language): { pieces: Piece[]; language: Language } {
  const language = utterance.language ?? callerLanguage;
  const template: string = catalog[utterance.id][language];
  const pieces: Piece[] = [];
  const add = (piece: Piece) => {
    const last = pieces.at(-1);
    if (typeof piece === 'string' && typeof last === 'string') pieces[pieces.length - 1] = last + piece;
    else if (piece !== '') pieces.push(piece);
  };
  let at = 0;
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    const name = match[1] ?? '';
    const value = utterance.values?.[name];
    if (!value) throw new Error(`prompt ${utterance.id} needs a value for {${name}}`);
    add(template.slice(at, match.index));
    for (const piece of valuePieces(value, language)) add(piece);
    at = match.index + match[0].length;
  }
  add(template.slice(at));
  return { pieces, language };
}

/** The utterance as plain words (transcripts, tests, the prompt audit). */
export function speak(utterance: Utterance, callerLanguage: Language): { text: string; language: Language } {
  const { pieces, language } = speakPieces(utterance, callerLanguage);
  return { text: pieces.map(plain).join(''), language };
}
