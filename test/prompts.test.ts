// What the line says (spec section 3): every prompt in both languages, and money, dates, times
// and digits written the way each voice reads them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { catalog, type PromptId } from '../prompts/catalog.ts';
import { speak, type Language, type Spoken } from '../prompts/speak.ts';

const ids = Object.keys(catalog) as PromptId[];
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('prompt catalog', () => {
  it('has prompts', () => {
    expect(ids.length).to.be.greaterThan(20);
  });

  it('every prompt exists in English and Spanish', () => {
    for (const id of ids) {
      const prompt: { en?: unknown; es?: unknown } = catalog[id];
      expect(prompt.en, `${id}.en`).to.be.a('string').and.match(/\S/);
      expect(prompt.es, `${id}.es`).to.be.a('string').and.match(/\S/);
      expect(Object.keys(prompt).sort(), id).to.deep.equal(['en', 'es']);
    }
  });

  it('the {placeholders} are the same in both languages', () => {
    for (const id of ids) {
      expect(placeholders(catalog[id].es), id).to.deep.equal(placeholders(catalog[id].en));
    }
  });

  it('Spanish prompts say "oprima", not "press" (except the bilingual "For English, press 1.")', () => {
    for (const id of ids) {
      if (id === 'language.english') continue;
      expect(catalog[id].es, id).not.to.match(/\bpress\b/i);
    }
  });

  it('English prompts say "press", not "oprima" (except the bilingual "Para español, oprima 2.")', () => {
    for (const id of ids) {
      if (id === 'language.spanish') continue;
      expect(catalog[id].en, id).not.to.match(/\boprima\b/i);
    }
  });

  it('the language menu is the same in both, each half in its own language', () => {
    expect(catalog['language.english']).to.deep.equal({ en: 'For English, press 1.', es: 'For English, press 1.' });
    expect(catalog['language.spanish']).to.deep.equal({ en: 'Para español, oprima 2.', es: 'Para español, oprima 2.' });
  });

  it('every prompt is said somewhere in flows/, src/ or prompts/ (no dead prompts)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const sources = ['flows', 'src', 'prompts']
      .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
      .filter((file) => file.endsWith('.ts') && file !== join('prompts', 'catalog.ts'))
      .map((file) => readFileSync(join(root, file), 'utf8'))
      .join('\n');
    expect(sources.length).to.be.greaterThan(1000);
    const unused = ids.filter((id) => !['\'', '"', '`'].some((quote) => sources.includes(`${quote}${id}${quote}`)));
    expect(unused, 'prompt ids never used').to.deep.equal([]);
  });
});

describe('speak', () => {
  // A template that says just its value, so each case reads as "this value is said as".
  const mutable = catalog as unknown as Record<string, { en: string; es: string }>;
  const TEMPLATE = 'test.value' as PromptId;
  const SENTENCE = 'test.sentence' as PromptId;
  before(() => {
    mutable[TEMPLATE] = { en: '{value}', es: '{value}' };
    mutable[SENTENCE] = { en: 'Your payment of {amount} was received on {date}.', es: 'Su pago de {amount} se recibió el {date}.' };
  });
  after(() => {
    delete mutable[TEMPLATE];
    delete mutable[SENTENCE];
  });
  const said = (value: Spoken, language: Language) => speak({ id: TEMPLATE, values: { value } }, language).text;
  const money = (cents: number, language: Language) => said({ kind: 'money', cents }, language);

  it('says a prompt in the caller language, or in the language the utterance fixes', () => {
    expect(speak({ id: 'goodbye' }, 'en')).to.deep.equal({ text: 'Thank you for calling. Goodbye.', language: 'en' });
    expect(speak({ id: 'goodbye' }, 'es')).to.deep.equal({ text: 'Gracias por llamar. Adiós.', language: 'es' });
    expect(speak({ id: 'language.spanish', language: 'es' }, 'en')).to.deep.equal({ text: 'Para español, oprima 2.', language: 'es' });
    expect(speak({ id: 'greeting', language: 'en' }, 'es').language).to.equal('en');
  });

  it('fills every placeholder, per language', () => {
    const values = { amount: { kind: 'money', cents: 25000 }, date: { kind: 'date', at: '2026-11-26T20:00:00Z' } } as const;
    expect(speak({ id: SENTENCE, values }, 'en').text).to.equal('Your payment of $250.00 was received on Thursday, November 26, 2026.');
    expect(speak({ id: SENTENCE, values }, 'es').text).to.equal('Su pago de 250 dólares se recibió el jueves 26 de noviembre de 2026.');
  });

  it('a missing value throws, naming the prompt and the placeholder', () => {
    expect(() => speak({ id: SENTENCE, values: { amount: { kind: 'money', cents: 1 } } }, 'en')).to.throw(/test\.sentence.*\{date\}/);
    expect(() => speak({ id: TEMPLATE }, 'es')).to.throw(/\{value\}/);
  });

  it('money in English: "$1,234.56"', () => {
    expect(money(123456, 'en')).to.equal('$1,234.56');
    expect(money(5, 'en')).to.equal('$0.05');
    expect(money(1000000, 'en')).to.equal('$10,000.00');
    expect(money(100, 'en')).to.equal('$1.00');
    expect(money(0, 'en')).to.equal('$0.00');
    expect(money(-2500, 'en')).to.equal('minus $25.00');
  });

  it('money in Spanish, as the Spanish voice reads it naturally', () => {
    expect(money(123456, 'es')).to.equal('1234 dólares con 56 centavos');
    expect(money(100, 'es')).to.equal('1 dólar');
    expect(money(5, 'es')).to.equal('5 centavos');
    expect(money(1, 'es')).to.equal('1 centavo');
    expect(money(101, 'es')).to.equal('1 dólar con 1 centavo');
    expect(money(1000000, 'es')).to.equal('10000 dólares');
    expect(money(-2500, 'es')).to.equal('menos 25 dólares');
    expect(money(123456, 'es')).not.to.match(/[$,.]/);
  });

  it('dates: "Thursday, November 26, 2026" and "jueves 26 de noviembre de 2026"', () => {
    expect(said({ kind: 'date', at: '2026-11-26T20:00:00Z' }, 'en')).to.equal('Thursday, November 26, 2026');
    expect(said({ kind: 'date', at: '2026-11-26T20:00:00Z' }, 'es')).to.equal('jueves 26 de noviembre de 2026');
    expect(said({ kind: 'date', at: '2026-03-01T20:00:00Z' }, 'es'), 'the first of the month is "primero"').to.equal('domingo primero de marzo de 2026');
  });

  it('dates are the Pacific calendar day', () => {
    // 7:00 PM on Thursday in California is Friday in UTC.
    expect(said({ kind: 'date', at: '2026-11-27T03:00:00Z' }, 'en')).to.equal('Thursday, November 26, 2026');
    expect(said({ kind: 'date', at: '2026-11-27T03:00:00Z' }, 'es')).to.equal('jueves 26 de noviembre de 2026');
  });

  it('times with AM/PM and "Pacific time", in winter and in summer', () => {
    expect(said({ kind: 'time', at: '2026-01-15T22:30:00Z' }, 'en'), 'winter, PST').to.equal('2:30 PM Pacific time');
    expect(said({ kind: 'time', at: '2026-07-15T21:30:00Z' }, 'en'), 'summer, PDT').to.equal('2:30 PM Pacific time');
    expect(said({ kind: 'time', at: '2026-01-15T17:00:00Z' }, 'en')).to.equal('9:00 AM Pacific time');
    expect(said({ kind: 'time', at: '2026-07-16T03:15:00Z' }, 'en')).to.equal('8:15 PM Pacific time');
  });

  it('times in Spanish say the part of the day and "hora del Pacífico"', () => {
    expect(said({ kind: 'time', at: '2026-01-15T22:30:00Z' }, 'es'), 'winter, PST').to.equal('las 2:30 de la tarde, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-07-15T21:30:00Z' }, 'es'), 'summer, PDT').to.equal('las 2:30 de la tarde, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-01-15T17:00:00Z' }, 'es')).to.equal('las 9 de la mañana, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-01-16T02:30:00Z' }, 'es')).to.equal('las 6:30 de la tarde, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-01-15T21:30:00Z' }, 'es'), 'one o\'clock takes "la"').to.equal('la 1:30 de la tarde, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-01-16T03:00:00Z' }, 'es')).to.equal('las 7 de la noche, hora del Pacífico');
    expect(said({ kind: 'time', at: '2026-07-16T03:15:00Z' }, 'es')).to.equal('las 8:15 de la noche, hora del Pacífico');
  });

  it('digits one by one', () => {
    expect(said({ kind: 'digits', value: '3456' }, 'en')).to.equal('3 4 5 6');
    expect(said({ kind: 'digits', value: '3456' }, 'es')).to.equal('3 4 5 6');
    expect(said({ kind: 'digits', value: '0' }, 'en')).to.equal('0');
  });

  it('a nested prompt in the language of the sentence, and names as they are', () => {
    expect(said({ kind: 'prompt', id: 'goodbye' }, 'es')).to.equal('Gracias por llamar. Adiós.');
    expect(said({ kind: 'name', value: 'San Bernardino' }, 'es')).to.equal('San Bernardino');
  });
});
