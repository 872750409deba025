// Turns an utterance (a prompt id and typed values) into the words the voice says, per language.
import type { Language } from '../src/domain/language.ts';
import { catalog, type PromptId } from './catalog.ts';

export type { Language };

export type Spoken =
  | { kind: 'money'; cents: number }
  | { kind: 'date'; at: string }
  | { kind: 'time'; at: string }
  | { kind: 'digits'; value: string }
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
  return `${parts.weekday} ${parts.day} de ${parts.month} de ${parts.year}`;
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

export function spokenValue(value: Spoken, language: Language): string {
  switch (value.kind) {
    case 'money': return money(value.cents, language);
    case 'date': return date(value.at, language);
    case 'time': return time(value.at, language);
    case 'digits': return value.value.split('').join(' ');
    case 'number': return value.value.toLocaleString(LOCALE[language]);
    case 'prompt': return catalog[value.id][language];
    case 'name': return value.value;
  }
}

export function speak(utterance: Utterance, callerLanguage: Language): { text: string; language: Language } {
  const language = utterance.language ?? callerLanguage;
  const template: string = catalog[utterance.id][language];
  const text = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = utterance.values?.[name];
    if (!value) throw new Error(`prompt ${utterance.id} needs a value for {${name}}`);
    return spokenValue(value, language);
  });
  return { text, language };
}
