// The menus (spec sections 2, 3 and 8) driven event by event: what state the caller is in and
// what they hear. No Redis, no HTTP; office hours come from a faked clock and the real guard.
import { expect } from 'chai';
import sinon from 'sinon';
import type { AnyStateNode } from 'xstate';
import type { DialStatus, StateMeta } from '../flows/events.ts';
import { lineMachine } from '../flows/line.ts';
import { STATE_IDS, type StateId } from '../flows/targets.ts';
import type { PromptId } from '../prompts/catalog.ts';
import type { Language } from '../prompts/speak.ts';
import { Call, mainMenuPrompt, type CallOptions } from './support/machine.ts';

// Wednesday 2026-11-25, the day before Thanksgiving, in Pacific standard time (UTC-8).
const OPEN = '2026-11-25T18:00:00Z'; // 10:00 AM
const LAST_OPEN_MINUTE = '2026-11-26T03:59:00Z'; // 7:59 PM (already Thanksgiving in UTC)
const CLOSING_TIME = '2026-11-26T04:00:00Z'; // 8:00 PM
const THANKSGIVING = '2026-11-26T18:00:00Z'; // Thursday 10:00 AM
const SATURDAY = '2026-11-28T18:00:00Z'; // Saturday 10:00 AM
// Across daylight-saving changes: the same UTC hour is open on one side and closed on the other.
const AFTER_SPRING_FORWARD_OPEN = '2026-03-09T14:00:00Z'; // Monday 7:00 AM PDT (would be 6:00 AM in PST)
const AFTER_SPRING_FORWARD_CLOSED = '2026-03-09T13:59:00Z'; // Monday 6:59 AM PDT
const AFTER_FALL_BACK_OPEN = '2026-11-02T15:00:00Z'; // Monday 7:00 AM PST (would be 8:00 AM in PDT)
const AFTER_FALL_BACK_CLOSED = '2026-11-02T14:30:00Z'; // Monday 6:30 AM PST (would be 7:30 AM, open, in PDT)

const LANGUAGES: readonly Language[] = ['en', 'es'];

/** What the caller must hear, per language: fragments of the real wording. */
const HEARS = {
  en: {
    key: (key: string) => new RegExp(`\\bpress ${key}\\b`),
    verb: /\bpress\b/i,
    confidentiality: 'only about your own case',
    mainMenu: 'Main menu.',
    enterId: '10-digit participant ID or your 9-digit Social Security number',
    pinHelp: 'PIN help.',
    paymentInfo: 'Payment options and mailing address.',
    card: 'debit or credit card',
    crediting: 'credited on the date the State Disbursement Unit receives it',
    coap: 'compromise of arrears',
    hours: 'Monday through Friday, from 7:00 AM to 8:00 PM Pacific time, except California state holidays',
    selfService: '24 hours a day, 7 days a week',
    noInput: "didn't hear a choice",
    noInputAgain: "still didn't hear anything",
    invalid: "that key isn't one of the choices",
    invalidAgain: "That key still isn't one of the choices",
    keypad: 'keypad',
    closed: 'Representatives are not available right now.',
    connecting: 'connect you with a representative',
    unreached: 'We could not reach a representative',
    returning: 'Returning to the main menu.',
    goodbye: 'Goodbye.',
  },
  es: {
    key: (key: string) => new RegExp(`\\boprima ${key}\\b`),
    verb: /\boprima\b/i,
    confidentiality: 'solo damos información sobre su propio caso',
    mainMenu: 'Menú principal.',
    enterId: 'número de participante de 10 dígitos o su número de Seguro Social de 9 dígitos',
    pinHelp: 'Ayuda con su PIN.',
    paymentInfo: 'Opciones de pago y dirección postal.',
    card: 'tarjeta de débito o de crédito',
    crediting: 'se acredita en la fecha en que lo recibe',
    coap: 'compromiso de atrasos',
    hours: 'de lunes a viernes, de 7 de la mañana a 8 de la noche, hora del Pacífico, excepto los días festivos del estado de California',
    selfService: 'las 24 horas del día, los 7 días de la semana',
    noInput: 'no escuché ninguna opción',
    noInputAgain: 'Todavía no escuché nada',
    invalid: 'esa tecla no es una de las opciones',
    invalidAgain: 'Esa tecla todavía no es una de las opciones',
    keypad: 'teclado',
    closed: 'En este momento no hay representantes disponibles.',
    connecting: 'lo comunicamos con un representante',
    unreached: 'No pudimos comunicarlo con un representante',
    returning: 'Regresando al menú principal.',
    goodbye: 'Adiós.',
  },
} as const;

const OTHER: Record<Language, Language> = { en: 'es', es: 'en' };
/** Said the same way whatever the caller chose: before the choice, or to make it. */
const BEFORE_CHOICE: readonly PromptId[] = ['greeting', 'language.english', 'language.spanish'];

/** The main menu's own prompt, as it says it on entry (read once in `before`). */
let MAIN_MENU: PromptId[] = [];
const PAYMENT_INFO_MENU: PromptId[] = ['payInfo.title', 'payInfo.options', 'menu.navigation'];
const WAITS_FOR_KEY: StateMeta = { wait: { input: 'menu' } };
const WAITS_FOR_DIAL: StateMeta = { wait: { input: 'dial' } };
const HANGS_UP: StateMeta = { end: 'hangup' };

const LANGUAGE_KEY: Record<Language, string> = { en: '1', es: '2' };

let clock: sinon.SinonFakeTimers | null = null;
/** Representatives' hours are judged by the real guard against this faked "now". */
function clockAt(iso: string): void {
  clock?.restore();
  clock = sinon.useFakeTimers({ now: new Date(iso), toFake: ['Date'] });
}

/** Every call a test makes, to check afterwards that each one spoke one language. */
let calls: { call: Call; language: Language }[] = [];

async function answered(options: CallOptions = {}): Promise<Call> {
  const call = await Call.start(options);
  calls.push({ call, language: options.input?.language ?? 'en' });
  return call;
}

/** A caller who picked their language at the language menu, now at the main menu. */
async function atMainMenu(language: Language, options: CallOptions = {}): Promise<Call> {
  const call = await Call.start(options);
  calls.push({ call, language });
  return call.press(LANGUAGE_KEY[language]);
}

async function walk(call: Call, keys: readonly string[]): Promise<Call> {
  for (const key of keys) await call.press(key);
  return call;
}

describe('line machine', () => {
  before(async () => {
    MAIN_MENU = await mainMenuPrompt();
  });
  beforeEach(() => {
    calls = [];
  });
  afterEach(function () {
    clock?.restore();
    clock = null;
    if (this.currentTest?.state !== 'passed') return;
    // After the choice, every line is in the caller's language: no "press" in Spanish, no "oprima" in English.
    // Before it (a call answered at the language menu, up to the privacy notice) the line speaks both.
    for (const { call, language } of calls) {
      const answeredAtLanguageMenu = call.transcript[0]?.id === 'greeting';
      const chosenAt = call.transcript.findIndex((line) => line.id === 'confidentiality');
      const afterChoice = answeredAtLanguageMenu ? (chosenAt < 0 ? [] : call.transcript.slice(chosenAt)) : call.transcript;
      for (const line of afterChoice) {
        if (BEFORE_CHOICE.includes(line.id)) continue;
        expect(line.language, `${line.id} in a ${language} call`).to.equal(language);
        expect(line.text, `${line.id} in a ${language} call`).not.to.match(HEARS[OTHER[language]].verb);
      }
    }
  });

  describe('answering', () => {
    it('greets in English and offers both languages, each in its own voice', async () => {
      const call = await answered();
      expect(call.state).to.equal('language');
      expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
      expect(call.spoken).to.deep.equal([
        { id: 'greeting', text: 'Thank you for calling California Child Support Customer Connect.', language: 'en' },
        { id: 'language.english', text: 'For English, press 1.', language: 'en' },
        { id: 'language.spanish', text: 'Para español, oprima 2.', language: 'es' },
      ]);
    });

    for (const language of LANGUAGES) {
      it(`${LANGUAGE_KEY[language]} chooses ${language}: the privacy notice, then the main menu, in ${language}`, async () => {
        const call = await atMainMenu(language);
        expect(call.state).to.equal('mainMenu');
        expect(call.language).to.equal(language);
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(['confidentiality', ...MAIN_MENU]);
        expect(call.lines[0]).to.include(HEARS[language].confidentiality);
        expect(call.lines[1]).to.equal(HEARS[language].mainMenu);
      });
    }

    it('silence at the language menu means English', async () => {
      const call = await answered();
      await call.silence();
      expect(call.state).to.equal('mainMenu');
      expect(call.language).to.equal('en');
      expect(call.ids).to.deep.equal(['confidentiality', ...MAIN_MENU]);
      expect(call.heard).to.include(HEARS.en.mainMenu);
    });

    for (const key of ['3', '*', '#', '12']) {
      it(`${key} at the language menu says so and asks again, both in both languages`, async () => {
        const call = await answered();
        await call.press(key);
        expect(call.state).to.equal('language');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.lines).to.deep.equal([
          "Sorry, that key isn't one of the choices.", 'Perdón, esa tecla no es una de las opciones.',
          'For English, press 1.', 'Para español, oprima 2.',
        ]);
        expect(call.spoken.map((line) => line.language)).to.deep.equal(['en', 'es', 'en', 'es']);
      });
    }

    it('9 at the language menu repeats the choices, and the strikes start again', async () => {
      clockAt(OPEN);
      const call = await answered();
      await walk(call, ['7', '7']);
      await call.press('9');
      expect(call.state).to.equal('language');
      expect(call.lines).to.deep.equal(['For English, press 1.', 'Para español, oprima 2.']);
      await walk(call, ['7', '7']);
      expect(call.state, 'two wrong keys after 9 are not three in a row').to.equal('language');
    });

    it('0 at the language menu in office hours transfers to a representative', async () => {
      clockAt(OPEN);
      const call = await answered();
      await call.press('0');
      expect(call.state).to.equal('transfer');
      expect(call.meta).to.deep.equal(WAITS_FOR_DIAL);
      expect(call.ids).to.deep.equal(['agent.connecting']);
    });

    it('0 at the language menu outside office hours says the hours and asks again', async () => {
      clockAt(SATURDAY);
      const call = await Call.start();
      calls.push({ call, language: 'es' });
      await call.press('0');
      expect(call.state).to.equal('language');
      expect(call.ids).to.deep.equal(['agent.closed', 'hours.representatives', 'language.english', 'language.spanish']);
      expect(call.heard).to.include(HEARS.en.hours);
      await call.press('2');
      expect(call.state).to.equal('mainMenu');
      expect(call.language).to.equal('es');
    });

    it('three wrong keys at the language menu in office hours reach a representative', async () => {
      clockAt(OPEN);
      const call = await answered();
      await walk(call, ['5', '7']);
      expect(call.state).to.equal('language');
      await call.press('8');
      expect(call.state).to.equal('transfer');
      expect(call.ids).to.deep.equal(['retry.giveUpTransfer', 'agent.connecting']);
    });

    it('three wrong keys at the language menu outside office hours say the hours and hang up', async () => {
      clockAt(SATURDAY);
      const call = await answered();
      await walk(call, ['5', '7', '8']);
      expect(call.state).to.equal('closed');
      expect(call.done).to.equal(true);
      expect(call.ids).to.deep.equal(['retry.giveUpClosed', 'hours.representatives', 'hours.selfService', 'goodbye']);
    });

    it('a wrong key, then the Spanish key, is Spanish', async () => {
      const call = await Call.start();
      calls.push({ call, language: 'es' });
      await walk(call, ['4', '2']);
      expect(call.state).to.equal('mainMenu');
      expect(call.language).to.equal('es');
      expect(call.lines[1]).to.equal(HEARS.es.mainMenu);
    });

    for (const language of LANGUAGES) {
      it(`a resumed ${language} call starts at the main menu, in ${language}, without the greeting`, async () => {
        const call = await answered({ input: { resume: true, language } });
        expect(call.state).to.equal('mainMenu');
        expect(call.language).to.equal(language);
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(MAIN_MENU);
        expect(call.lines[0]).to.equal(HEARS[language].mainMenu);
      });
    }
  });

  for (const language of LANGUAGES) {
    const hears = HEARS[language];

    describe(`main menu (${language})`, () => {
      it('is its title, its options, and how to hear them again', async () => {
        const call = await atMainMenu(language);
        expect(call.ids).to.deep.equal(['confidentiality', ...MAIN_MENU]);
        expect(MAIN_MENU[0]).to.equal('main.title');
        expect(MAIN_MENU).to.include('main.options');
        expect(MAIN_MENU.at(-1)).to.equal('menu.repeatHint');
      });

      it('names account information (1), PIN help (3), payment information (4), hours (5), a representative (0) and repeat (9), in key order', async () => {
        const call = await atMainMenu(language);
        const menu = call.lines.slice(1).join(' ');
        const positions = ['1', '3', '4', '5', '0', '9'].map((key) => menu.search(hears.key(key)));
        expect(positions.every((at) => at >= 0), menu).to.equal(true);
        expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
      });

      // A key the menu names must do something, and a key it answers must be named: no promise
      // of an option that is not there yet (card payment, 2, came later than 1 and 3).
      it('names exactly the keys it answers', async () => {
        clockAt(SATURDAY);
        const menu = (await atMainMenu(language)).lines.slice(1).join(' ');
        for (const key of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
          const call = await atMainMenu(language);
          await call.press(key);
          const answered = !(call.state === 'mainMenu' && call.ids[0] === 'retry.invalid');
          expect(answered, `${key} is ${hears.key(key).test(menu) ? '' : 'not '}named`).to.equal(hears.key(key).test(menu));
        }
      });

      it('1 asks for the participant ID or Social Security number, as a digit entry of up to 10 digits', async () => {
        const call = await atMainMenu(language);
        await call.press('1');
        expect(call.state).to.equal('login.enterId');
        expect(call.meta).to.deep.equal({ wait: { input: 'digits', maxLength: 10 } });
        expect(call.ids).to.deep.equal(['login.enterId']);
        expect(call.lines[0]).to.include(hears.enterId);
        await call.press('*');
        expect(call.state).to.equal('mainMenu');
        expect(call.ids).to.deep.equal(MAIN_MENU);
      });

      it('3 opens PIN help, which names forgot (1) and change (2); * goes back to the main menu', async () => {
        const call = await atMainMenu(language);
        await call.press('3');
        expect(call.state).to.equal('pinHelp.menu');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(['pin.title', 'pin.options', 'menu.navigation']);
        expect(call.lines[0]).to.equal(hears.pinHelp);
        const positions = ['1', '2'].map((key) => call.lines[1]!.search(hears.key(key)));
        expect(positions.every((at) => at >= 0), call.lines[1]).to.equal(true);
        expect(positions[0]).to.be.below(positions[1]!);
        await call.press('*');
        expect(call.state).to.equal('mainMenu');
        expect(call.ids).to.deep.equal(MAIN_MENU);
      });

      it('4 opens the payment information menu, which names its four choices in key order', async () => {
        const call = await atMainMenu(language);
        await call.press('4');
        expect(call.state).to.equal('paymentInfo.menu');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(PAYMENT_INFO_MENU);
        expect(call.lines[0]).to.equal(hears.paymentInfo);
        const positions = ['1', '2', '3', '4'].map((key) => call.lines[1]!.search(hears.key(key)));
        expect(positions.every((at) => at >= 0), `${call.lines[1]}`).to.equal(true);
        expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
      });

      it('5 says the office hours and the other ways to reach the agency', async () => {
        const call = await atMainMenu(language);
        await call.press('5');
        expect(call.state).to.equal('hours');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(['hours.selfService', 'hours.representatives', 'hours.otherWays', 'menu.navigation']);
        expect(call.heard).to.include(hears.selfService);
        expect(call.heard).to.include(hears.hours);
        expect(call.heard).to.include('childsup.ca.gov');
        expect(call.heard).to.include('7 1 1');
      });

      for (const key of ['6', '7', '8', '#']) {
        it(`${key} is not a choice: says so and repeats the menu`, async () => {
          const call = await atMainMenu(language);
          await call.press(key);
          expect(call.state).to.equal('mainMenu');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.ids).to.deep.equal(['retry.invalid', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(hears.invalid);
        });
      }

      for (const key of ['*', '9']) {
        it(`${key} repeats the main menu`, async () => {
          const call = await atMainMenu(language);
          await call.press(key);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(MAIN_MENU);
          expect(call.lines[0]).to.equal(hears.mainMenu);
        });
      }
    });

    describe(`payment information (${language})`, () => {
      const items: { key: string; state: string; id: PromptId; says: readonly string[] }[] = [
        { key: '1', state: 'paymentInfo.check', id: 'payInfo.check', says: ['California State Disbursement Unit', 'P.O. Box 9 8 9 0 6 7', 'West Sacramento', '9 5 7 9 8'] },
        { key: '2', state: 'paymentInfo.card', id: 'payInfo.card', says: [hears.card, 'childsup.ca.gov'] },
        { key: '3', state: 'paymentInfo.crediting', id: 'payInfo.crediting', says: [hears.crediting] },
        { key: '4', state: 'paymentInfo.coap', id: 'payInfo.coap', says: [hears.coap] },
      ];
      for (const item of items) {
        it(`${item.key} says ${item.id}; * goes back to the payment information menu, * again to the main menu`, async () => {
          const call = await walk(await atMainMenu(language), ['4', item.key]);
          expect(call.state).to.equal(item.state);
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.ids).to.deep.equal([item.id, 'menu.navigation']);
          for (const fragment of item.says) expect(call.heard).to.include(fragment);
          expect(call.lines[1]).to.match(hears.key('9'));
          expect(call.lines[1]).to.match(hears.key(language === 'en' ? 'star' : 'asterisco'));

          await call.press('*');
          expect(call.state).to.equal('paymentInfo.menu');
          expect(call.ids).to.deep.equal(PAYMENT_INFO_MENU);

          await call.press('*');
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(MAIN_MENU);
        });
      }

      it('the mailing address is said twice, digit by digit', async () => {
        const call = await walk(await atMainMenu(language), ['4', '1']);
        expect(call.heard.split('P.O. Box 9 8 9 0 6 7, West Sacramento').length - 1).to.equal(2);
        expect(call.heard).not.to.include('989067');
      });

      it('a key that is not a choice in an information menu says so and repeats it', async () => {
        const call = await walk(await atMainMenu(language), ['4', '2']);
        await call.press('5');
        expect(call.state).to.equal('paymentInfo.card');
        expect(call.ids).to.deep.equal(['retry.invalid', 'payInfo.card', 'menu.navigation']);
      });

      it('* from the hours goes back to the main menu', async () => {
        const call = await walk(await atMainMenu(language), ['5', '*']);
        expect(call.state).to.equal('mainMenu');
        expect(call.ids).to.deep.equal(MAIN_MENU);
      });
    });

    describe(`9 repeats any menu (${language})`, () => {
      const menus: { path: string[]; state: string }[] = [
        { path: [], state: 'mainMenu' },
        { path: ['4'], state: 'paymentInfo.menu' },
        { path: ['4', '1'], state: 'paymentInfo.check' },
        { path: ['4', '2'], state: 'paymentInfo.card' },
        { path: ['4', '3'], state: 'paymentInfo.crediting' },
        { path: ['4', '4'], state: 'paymentInfo.coap' },
        { path: ['5'], state: 'hours' },
        { path: ['3'], state: 'pinHelp.menu' },
      ];
      for (const { path, state } of menus) {
        it(`at ${state}`, async () => {
          const call = await walk(await answered({ input: { resume: true, language } }), path);
          expect(call.state).to.equal(state);
          const entered = call.lines;
          await call.press('9');
          expect(call.state).to.equal(state);
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.lines).to.deep.equal(entered);
        });
      }
    });

    describe(`no input and wrong keys (${language})`, () => {
      it('no input: says so and asks again, then more helpfully the second time', async () => {
        const call = await atMainMenu(language);
        await call.silence();
        expect(call.state).to.equal('mainMenu');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(['retry.noInput', ...MAIN_MENU]);
        const first = call.lines[0]!;
        expect(first).to.include(hears.noInput);

        await call.silence();
        expect(call.state).to.equal('mainMenu');
        expect(call.ids).to.deep.equal(['retry.noInputAgain', ...MAIN_MENU]);
        const second = call.lines[0]!;
        expect(second).to.include(hears.noInputAgain);
        // More helpful: how to answer, and the way out to a person, which the first did not say.
        expect(second).to.include(hears.keypad);
        expect(second).to.match(hears.key('0'));
        expect(first).not.to.match(hears.key('0'));
      });

      it('a wrong key twice: the second notice differs and is more helpful', async () => {
        const call = await atMainMenu(language);
        await call.press('7');
        const first = call.lines[0]!;
        await call.press('7');
        expect(call.ids).to.deep.equal(['retry.invalidAgain', ...MAIN_MENU]);
        const second = call.lines[0]!;
        expect(second).to.include(hears.invalidAgain);
        expect(second).not.to.equal(first);
        expect(second).to.match(hears.key('0'));
        expect(first).not.to.match(hears.key('0'));
      });

      for (const at of [OPEN, LAST_OPEN_MINUTE]) {
        it(`the third failure in office hours (${at}) transfers to a representative`, async () => {
          clockAt(at);
          const call = await atMainMenu(language);
          await walk(call, ['6', '#']);
          await call.silence();
          expect(call.state).to.equal('transfer');
          expect(call.meta).to.deep.equal(WAITS_FOR_DIAL);
          expect(call.done).to.equal(false);
          expect(call.ids).to.deep.equal(['retry.giveUpTransfer', 'agent.connecting']);
          expect(call.lines[1]).to.include(hears.connecting);
        });
      }

      for (const at of [THANKSGIVING, SATURDAY, CLOSING_TIME]) {
        it(`the third failure outside office hours (${at}) says the hours, goodbye, and hangs up`, async () => {
          clockAt(at);
          const call = await atMainMenu(language);
          await call.silence();
          await call.silence();
          await call.silence();
          expect(call.state).to.equal('closed');
          expect(call.meta).to.deep.equal(HANGS_UP);
          expect(call.done).to.equal(true);
          expect(call.ids).to.deep.equal(['retry.giveUpClosed', 'hours.representatives', 'hours.selfService', 'goodbye']);
          expect(call.heard).to.include(hears.hours);
          expect(call.lines.at(-1)).to.include(hears.goodbye);
        });
      }

      it('the third failure in a submenu counts the same way', async () => {
        clockAt(SATURDAY);
        const call = await walk(await atMainMenu(language), ['4', '4']);
        await walk(call, ['1', '2']);
        expect(call.state).to.equal('paymentInfo.coap');
        expect(call.ids).to.deep.equal(['retry.invalidAgain', 'payInfo.coap', 'menu.navigation']);
        await call.press('3');
        expect(call.state).to.equal('closed');
        expect(call.done).to.equal(true);
      });

      it('no input and wrong keys count together', async () => {
        clockAt(OPEN);
        const call = await atMainMenu(language);
        await call.press('8');
        expect(call.ids[0]).to.equal('retry.invalid');
        await call.silence();
        expect(call.ids[0]).to.equal('retry.noInputAgain');
        await call.press('8');
        expect(call.state).to.equal('transfer');

        const other = await atMainMenu(language);
        await other.silence();
        await other.press('6');
        expect(other.ids[0]).to.equal('retry.invalidAgain');
        expect(other.state).to.equal('mainMenu');
      });

      it('strikes start again after a valid key: a new menu, 9, * or 0 outside hours', async () => {
        clockAt(SATURDAY);
        const call = await atMainMenu(language);
        await walk(call, ['6', '8', '4']);
        expect(call.state).to.equal('paymentInfo.menu');
        await call.press('6');
        expect(call.ids[0], 'after entering a menu').to.equal('retry.invalid');

        await walk(call, ['7', '9', '6']);
        expect(call.state).to.equal('paymentInfo.menu');
        expect(call.ids[0], 'after 9').to.equal('retry.invalid');

        await walk(call, ['7', '0', '6']);
        expect(call.state).to.equal('paymentInfo.menu');
        expect(call.ids[0], 'after 0 outside hours').to.equal('retry.invalid');

        await walk(call, ['1', '5', '6', '*', '6']);
        expect(call.state).to.equal('paymentInfo.menu');
        expect(call.ids[0], 'after * back').to.equal('retry.invalid');

        await walk(call, ['*', '7']);
        await call.silence();
        await walk(call, ['*', '7']);
        expect(call.state).to.equal('mainMenu');
        expect(call.ids[0], 'after * at the main menu').to.equal('retry.invalid');
      });
    });

    describe(`representative (${language})`, () => {
      for (const at of [OPEN, LAST_OPEN_MINUTE, AFTER_SPRING_FORWARD_OPEN, AFTER_FALL_BACK_OPEN]) {
        it(`0 in office hours (${at}) says so and transfers`, async () => {
          clockAt(at);
          const call = await atMainMenu(language);
          await call.press('0');
          expect(call.state).to.equal('transfer');
          expect(call.meta).to.deep.equal(WAITS_FOR_DIAL);
          expect(call.ids).to.deep.equal(['agent.connecting']);
          expect(call.heard).to.include(hears.connecting);
        });
      }

      for (const at of [THANKSGIVING, SATURDAY, CLOSING_TIME, AFTER_SPRING_FORWARD_CLOSED, AFTER_FALL_BACK_CLOSED]) {
        it(`0 outside office hours (${at}) says the hours and stays in the menu`, async () => {
          clockAt(at);
          const call = await atMainMenu(language);
          await call.press('0');
          expect(call.state).to.equal('mainMenu');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.ids).to.deep.equal(['agent.closed', 'hours.representatives', ...MAIN_MENU]);
          expect(call.lines[0]).to.equal(hears.closed);
          expect(call.lines[1]).to.include(hears.hours);
        });
      }

      it('0 in a submenu outside office hours stays in that submenu', async () => {
        clockAt(THANKSGIVING);
        const call = await walk(await atMainMenu(language), ['4', '3', '0']);
        expect(call.state).to.equal('paymentInfo.crediting');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.ids).to.deep.equal(['agent.closed', 'hours.representatives', 'payInfo.crediting', 'menu.navigation']);
        await call.press('*');
        expect(call.state).to.equal('paymentInfo.menu');
      });

      it('0 in a submenu in office hours transfers', async () => {
        clockAt(OPEN);
        const call = await walk(await atMainMenu(language), ['5', '0']);
        expect(call.state).to.equal('transfer');
        expect(call.ids).to.deep.equal(['agent.connecting']);
      });

      for (const status of ['completed', 'answered'] as const) {
        it(`a transfer that ends ${status} ends the call`, async () => {
          clockAt(OPEN);
          const call = await walk(await atMainMenu(language), ['0']);
          await call.dialEnded(status);
          expect(call.state).to.equal('ended');
          expect(call.meta).to.deep.equal(HANGS_UP);
          expect(call.done).to.equal(true);
          expect(call.ids).to.deep.equal([]);
        });
      }

      for (const status of ['no-answer', 'busy', 'failed', 'canceled'] as const satisfies readonly DialStatus[]) {
        it(`a transfer that ends ${status} brings the caller back to the main menu, with a message`, async () => {
          clockAt(OPEN);
          const call = await walk(await atMainMenu(language), ['4', '2', '0']);
          await call.dialEnded(status);
          expect(call.state).to.equal('mainMenu');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.language).to.equal(language);
          expect(call.ids).to.deep.equal(['agent.unreached', 'agent.returning', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(hears.unreached);
          expect(call.lines[1]).to.equal(hears.returning);
        });
      }

      it('a transfer after three failures comes back to a main menu with no strikes left over', async () => {
        clockAt(OPEN);
        const call = await atMainMenu(language);
        await walk(call, ['7', '7', '7']);
        expect(call.state).to.equal('transfer');
        await call.dialEnded('no-answer');
        await call.press('7');
        expect(call.state).to.equal('mainMenu');
        expect(call.ids[0]).to.equal('retry.invalid');
      });
    });
  }

  describe('the shape of the machine', () => {
    const leaves: { path: string; node: AnyStateNode }[] = [];
    const visit = (node: AnyStateNode, path: string): void => {
      const children = Object.entries(node.states);
      if (children.length === 0) leaves.push({ path, node });
      for (const [key, child] of children) visit(child, path ? `${path}.${key}` : key);
    };
    visit(lineMachine.root, '');

    it('has the menus of spec section 2 that exist so far', () => {
      expect(leaves.map((leaf) => leaf.path)).to.include.members([
        'language', 'mainMenu', 'paymentInfo.menu', 'paymentInfo.check', 'paymentInfo.card',
        'paymentInfo.crediting', 'paymentInfo.coap', 'hours', 'transfer', 'closed', 'ended',
        'login.enterId', 'login.enterPin', 'account.menu', 'account.balance.heard', 'account.history.heard',
        'account.caseInformation.heard', 'pinHelp.menu', 'pinHelp.forgot.enterId', 'pinHelp.forgot.enterSsn',
        'changePin.enterNew', 'changePin.reenter',
      ]);
    });

    it('every leaf state waits for the caller, ends the call, moves on at once (always), or asks an actor and moves on when it answers', () => {
      const invoking: string[] = [];
      for (const { path, node } of leaves) {
        const meta = (node.meta ?? {}) as StateMeta;
        const invokes = node.invoke.length > 0;
        if (invokes) invoking.push(path);
        const ways = [meta.wait !== undefined, meta.end !== undefined, (node.always?.length ?? 0) > 0, invokes].filter(Boolean).length;
        expect(ways, path).to.equal(1);
      }
      expect(invoking).to.include.members(['login.identifying', 'login.checking', 'account.balance.loading', 'changePin.saving']);
    });

    it('a state that asks an actor asks one the machine names in setup, and always has somewhere to go when it answers', () => {
      const named = Object.keys(lineMachine.implementations.actors);
      expect(named).to.include.members(['identify', 'login', 'balances', 'history', 'caseInformation', 'forgotPin', 'proposePin', 'confirmPin']);
      for (const { path, node } of leaves.filter((leaf) => leaf.node.invoke.length > 0)) {
        expect(node.invoke.length, path).to.equal(1);
        expect(named, path).to.include(node.invoke[0]!.src);
        const done = node.transitions.get(`xstate.done.actor.${node.invoke[0]!.id}`) ?? [];
        expect(done.length, `${path}: onDone`).to.be.above(0);
        expect(done.at(-1)!.guard, `${path}: its last onDone transition`).to.equal(undefined);
      }
    });

    it('a state that moves on at once always has somewhere to go', () => {
      for (const { path, node } of leaves.filter((leaf) => leaf.node.always?.length)) {
        expect(node.always!.at(-1)!.guard, `${path}: its last always transition`).to.equal(undefined);
      }
    });

    it('a state that waits for keys handles keys and silence; a transfer handles its end; a card payment its result', () => {
      // Keyed by string so a new kind of wait fails here until someone says what it must handle.
      const handles: Record<string, string[]> = { menu: ['digits', 'noInput'], digits: ['digits', 'noInput'], dial: ['dialEnded'], pay: ['payResult'] };
      for (const { path, node } of leaves) {
        const wait = ((node.meta ?? {}) as StateMeta).wait;
        if (!wait) continue;
        expect(handles, `${path} waits for ${wait.input}`).to.have.property(wait.input);
        expect(node.ownEvents, path).to.include.members(handles[wait.input]!);
      }
    });

    it('the states that end the call are final, and the final states end the call', () => {
      for (const { path, node } of leaves) {
        expect(((node.meta ?? {}) as StateMeta).end !== undefined, path).to.equal(node.type === 'final');
      }
    });

    const nodes: AnyStateNode[] = [];
    const collect = (node: AnyStateNode): void => {
      nodes.push(node);
      for (const child of Object.values(node.states)) collect(child);
    };
    collect(lineMachine.root);
    const isStateId = (id: string): id is StateId => (STATE_IDS as readonly string[]).includes(id);

    it('each id that to() can name is declared by exactly one state; every other state is known by its path', () => {
      for (const id of STATE_IDS) expect(nodes.filter((node) => node.id === id).map((node) => node.path.join('.')), id).to.have.length(1);
      for (const node of nodes.filter((node) => !isStateId(node.id))) expect(node.id).to.equal(['line', ...node.path].join('.'));
    });

    it('every transition names a sibling by its key or another state by to(), and leads to a state of this machine', () => {
      const targetsIn = (config: unknown): unknown[] => {
        if (config === undefined) return [];
        if (typeof config === 'string' || Array.isArray(config)) return [config].flat().flatMap((item) => (typeof item === 'string' ? [item] : targetsIn(item)));
        return [(config as { target?: unknown }).target ?? []].flat();
      };
      for (const node of nodes) {
        const { on = {}, always, invoke } = node.config as { on?: Record<string, unknown>; always?: unknown; invoke?: unknown };
        const invokes = [invoke ?? []].flat() as { onDone?: unknown; onError?: unknown }[];
        const named = [...Object.values(on), always, ...invokes.flatMap((i) => [i.onDone, i.onError])].flatMap(targetsIn);
        for (const target of named) {
          expect(target, `a target of ${node.id}`).to.be.a('string');
          const id = String(target);
          if (id.startsWith('#')) expect(isStateId(id.slice(1)), `${node.id} names ${id}: use to() with an id from flows/targets.ts`).to.equal(true);
          else expect(node.parent?.states, `${node.id} names ${id}, not a sibling`).to.have.property(id);
        }
        const transitions = [...node.transitions.values()].flat().concat(node.always ?? [], node.initial ? [node.initial] : []);
        for (const transition of transitions) {
          for (const target of transition.target ?? []) expect(nodes, `${node.id} → ${target.id}`).to.include(target);
        }
      }
    });
  });

  describe('persisted between every step, as the engine does', () => {
    // One walk through everything, run live and through JSON after every step: same states, same words.
    async function representativeWalk(options: CallOptions): Promise<{ call: Call; states: string[] }> {
      const call = await Call.start(options);
      calls.push({ call, language: 'es' });
      const states = [call.state];
      const steps: (() => Promise<Call>)[] = [
        () => call.press('2'), () => call.press('4'), () => call.press('1'), () => call.press('9'),
        () => call.silence(), () => call.press('7'), () => call.press('*'), () => call.press('3'),
        () => call.press('*'), () => call.press('*'), () => call.press('5'), () => call.press('*'),
        () => call.press('0'), () => call.dialEnded('no-answer'), () => call.press('8'), () => call.silence(),
        () => call.press('#'),
      ];
      for (const step of steps) {
        await step();
        states.push(call.state);
      }
      return { call, states };
    }

    it('a Spanish walk through every menu hears and goes exactly what a live machine does', async () => {
      clockAt(OPEN);
      const live = await representativeWalk({});
      const persisted = await representativeWalk({ roundTrip: true });
      expect(persisted.call.restores).to.equal(18);
      expect(persisted.states).to.deep.equal(live.states);
      expect(persisted.states).to.deep.equal([
        'language', 'mainMenu', 'paymentInfo.menu', 'paymentInfo.check', 'paymentInfo.check',
        'paymentInfo.check', 'paymentInfo.check', 'paymentInfo.menu', 'paymentInfo.crediting',
        'paymentInfo.menu', 'mainMenu', 'hours', 'mainMenu',
        'transfer', 'mainMenu', 'mainMenu', 'mainMenu', 'transfer',
      ]);
      expect(persisted.call.transcript).to.deep.equal(live.call.transcript);
      expect(persisted.call.language).to.equal('es');
      // The strikes survived persistence: the third failure (after two restores) transferred.
      expect(persisted.call.ids).to.deep.equal(['retry.giveUpTransfer', 'agent.connecting']);
    });

    it('a call that gives up outside office hours ends after the restores too', async () => {
      clockAt(SATURDAY);
      const call = await Call.start({ roundTrip: true });
      calls.push({ call, language: 'en' });
      await walk(call, ['1', '4', '2']);
      await call.silence();
      await call.press('6');
      expect(call.state).to.equal('paymentInfo.card');
      expect(call.ids[0]).to.equal('retry.invalidAgain');
      await call.silence();
      expect(call.state).to.equal('closed');
      expect(call.meta).to.deep.equal(HANGS_UP);
      expect(call.done).to.equal(true);
      expect(call.ids.at(-1)).to.equal('goodbye');
    });

    it('a resumed Spanish call keeps its language through the restores', async () => {
      const call = await answered({ input: { resume: true, language: 'es' }, roundTrip: true });
      await walk(call, ['4', '2', '*', '*']);
      expect(call.state).to.equal('mainMenu');
      expect(call.language).to.equal('es');
      expect(call.lines[0]).to.equal(HEARS.es.mainMenu);
    });
  });
});
