// Account information and PIN help (spec sections 2, 4 and 5) driven event by event: the state
// the caller is in, what they hear, what each named actor was asked, and what the session keeps.
// The actors are sinon stubs over a tiny in-memory caseload (test/support/machine.ts); every test
// runs live and again with the snapshot persisted through JSON between steps, as the engine does.
import { expect } from 'chai';
import { fromPromise } from 'xstate';
import type { StateMeta } from '../flows/events.ts';
import type { PromptId } from '../prompts/catalog.ts';
import type { Language } from '../prompts/speak.ts';
import type { BalanceReport, CaseBalance, HistoryItem } from '../src/domain/accounts.ts';
import type { CaseNumber, ParticipantId } from '../src/domain/caseload.ts';
import { WITHHELD } from '../src/domain/identification.ts';
import { cents } from '../src/domain/money.ts';
import { CASES, Call, FakeDomain, PEOPLE, mainMenuPrompt, type CallOptions } from './support/machine.ts';

const LANGUAGES: readonly Language[] = ['en', 'es'];
const MODES = [
  { name: 'live', roundTrip: false },
  { name: 'persisted between every step', roundTrip: true },
] as const;

/** The main menu's own prompt, as it says it on entry (read once in `before`). */
let MAIN_MENU: PromptId[] = [];
const ACCOUNT_MENU: PromptId[] = ['account.title', 'account.options', 'menu.navigation'];
const PIN_MENU: PromptId[] = ['pin.title', 'pin.options', 'menu.navigation'];
const WAITS_FOR_KEY: StateMeta = { wait: { input: 'menu' } };
const waitsForDigits = (maxLength: number): StateMeta => ({ wait: { input: 'digits', maxLength } });

const { maria, james, ana } = PEOPLE;
/** The harness calls from a withheld number unless a test says otherwise. */
const caller = WITHHELD;
/** The PIN the fake domain "mails" on a reset: it must never be heard or kept. */
const MAILED_PIN = '246813';
const NEW_PIN = '8305';

/** Fragments of the real wording, per language. */
const SAYS = {
  en: {
    verb: /\bpress\b/i,
    enterId: 'enter your 10-digit participant ID or your 9-digit Social Security number',
    enterPin: 'enter your PIN',
    badLength: 'A participant ID has 10 digits, and a Social Security number has 9.',
    noEntry: "Sorry, I didn't hear any numbers.",
    noEntryAgain: "I still didn't hear anything.",
    summary: 'You owe $2,165.23 in all, and $450.00 is due this month; the last payment you received was $125.50, on Wednesday, September 2, 2026.',
    mismatch: 'We could not verify that participant ID and PIN.',
    retryKeys: 'To try again, press 1. For help with your PIN, press 3. To speak with a representative, press 0.',
    tooMany: 'We could not verify your identity on this call. For help with your PIN, press 3. To speak with a representative, press 0.',
    limit: 'You have reached the limit of PIN tries for this call.',
    unavailable: 'Account services by phone are not available right now.',
    mainMenu: 'Main menu.',
    accountMenu: 'Account menu.',
    navigation: 'To repeat, press 9. To go back, press star. For a representative, press 0.',
    forgotEnterId: 'enter your 10-digit participant ID',
    idLength: 'A participant ID has 10 digits.',
    enterSsn: 'enter your 9-digit Social Security number',
    ssnLength: 'A Social Security number has 9 digits.',
    mailed: 'A new PIN will be mailed to the address we have on file. It should arrive within 7 to 10 days.',
    recent: 'A new PIN was already mailed on Monday, November 23, 2026.',
    forgotMismatch: 'We could not verify that participant ID and Social Security number.',
    forgotLimit: 'You have reached the limit of tries for this call.',
    forgotLimitHelp: 'A representative can help you.',
    returning: 'Returning to the main menu.',
    changeIntro: 'To change your PIN, first we need to verify your identity with your current PIN.',
    enterNew: 'Enter your new PIN, 4 to 8 digits, then press pound.',
    reenter: 'Enter your new PIN again, then press pound.',
    changed: 'Your PIN has been changed.',
    pinsDiffer: 'The two PINs you entered do not match.',
    notChanged: 'Your PIN was not changed.',
    problems: {
      'change.length': 'Your PIN must have 4 to 8 digits.',
      'change.same': 'Your new PIN must be different from your current PIN.',
      'change.repeated': 'Your PIN cannot be one digit repeated, like 1 1 1 1.',
      'change.run': 'Your PIN cannot be digits in a row, like 1 2 3 4 or 9 8 7 6.',
    },
  },
  es: {
    verb: /\boprima\b/i,
    enterId: 'marque su número de participante de 10 dígitos o su número de Seguro Social de 9 dígitos',
    enterPin: 'marque su PIN',
    badLength: 'El número de participante tiene 10 dígitos, y el número de Seguro Social tiene 9.',
    noEntry: 'Perdón, no escuché ningún número.',
    noEntryAgain: 'Todavía no escuché nada.',
    summary: 'Usted debe 2165 dólares con 23 centavos en total, y lo que vence este mes es 450 dólares; el último pago que usted recibió fue de 125 dólares con 50 centavos, el miércoles 2 de septiembre de 2026.',
    mismatch: 'No pudimos verificar ese número de participante y ese PIN.',
    retryKeys: 'Para intentarlo otra vez, oprima 1. Para ayuda con su PIN, oprima 3. Para hablar con un representante, oprima 0.',
    tooMany: 'No pudimos verificar su identidad en esta llamada. Para ayuda con su PIN, oprima 3. Para hablar con un representante, oprima 0.',
    limit: 'Llegó al límite de intentos de PIN en esta llamada.',
    unavailable: 'Los servicios de cuenta por teléfono no están disponibles en este momento.',
    mainMenu: 'Menú principal.',
    accountMenu: 'Menú de su cuenta.',
    navigation: 'Para repetir, oprima 9. Para regresar, oprima asterisco. Para un representante, oprima 0.',
    forgotEnterId: 'marque su número de participante de 10 dígitos',
    idLength: 'El número de participante tiene 10 dígitos.',
    enterSsn: 'marque su número de Seguro Social de 9 dígitos',
    ssnLength: 'El número de Seguro Social tiene 9 dígitos.',
    mailed: 'Le enviaremos un PIN nuevo por correo a la dirección que tenemos registrada. Debe llegar en un plazo de 7 a 10 días.',
    recent: 'Ya le enviamos un PIN nuevo por correo el lunes 23 de noviembre de 2026.',
    forgotMismatch: 'No pudimos verificar ese número de participante y ese número de Seguro Social.',
    forgotLimit: 'Llegó al límite de intentos en esta llamada.',
    forgotLimitHelp: 'Un representante le puede ayudar.',
    returning: 'Regresando al menú principal.',
    changeIntro: 'Para cambiar su PIN, primero necesitamos verificar su identidad con su PIN actual.',
    enterNew: 'Marque su PIN nuevo, de 4 a 8 dígitos, y luego oprima la tecla de número.',
    reenter: 'Marque su PIN nuevo otra vez y luego oprima la tecla de número.',
    changed: 'Su PIN fue cambiado.',
    pinsDiffer: 'Los dos PIN que marcó no coinciden.',
    notChanged: 'Su PIN no se cambió.',
    problems: {
      'change.length': 'Su PIN debe tener de 4 a 8 dígitos.',
      'change.same': 'Su PIN nuevo debe ser diferente de su PIN actual.',
      'change.repeated': 'Su PIN no puede ser un solo dígito repetido, como 1 1 1 1.',
      'change.run': 'Su PIN no puede ser una serie de dígitos seguidos, como 1 2 3 4 o 9 8 7 6.',
    },
  },
} as const;
const OTHER: Record<Language, Language> = { en: 'es', es: 'en' };

// Entries that are secrets wherever they were typed: a PIN, an SSN, or anything typed at an ID
// prompt that is not a 10-digit participant ID (a 9-digit entry there is an SSN) or part of one.
const SECRET_ENTRIES = new Set(['login.enterPin', 'pinHelp.forgot.enterSsn', 'changePin.enterNew', 'changePin.reenter']);
const ID_ENTRIES = new Set(['login.enterId', 'pinHelp.forgot.enterId']);
const ALWAYS_SECRET = [...Object.values(PEOPLE).flatMap((p) => [p.ssn, p.pin]), MAILED_PIN, NEW_PIN];

function secretsTypedIn(call: Call): string[] {
  const ids = call.presses.filter(({ state, keys }) => ID_ENTRIES.has(state) && /^\d{10}$/.test(keys)).map(({ keys }) => keys);
  const typed = call.presses.flatMap(({ state, keys }) => {
    const runs = keys.match(/\d{4,}/g) ?? [];
    if (SECRET_ENTRIES.has(state)) return runs;
    if (ID_ENTRIES.has(state)) return runs.filter((run) => !ids.some((id) => id.includes(run)));
    return [];
  });
  return [...new Set([...typed, ...ALWAYS_SECRET])];
}

/** What the store would hold between webhooks: never an SSN or a PIN, after any step. */
function expectNothingSecretKept(call: Call, secrets: readonly string[] = secretsTypedIn(call)): void {
  call.persisted.forEach((json, step) => {
    for (const secret of secrets) expect(json.includes(secret), `step ${step} keeps ${secret}: ${json}`).to.equal(false);
  });
}

let mode: (typeof MODES)[number] = MODES[0];
let calls: Call[] = [];

/** A caller whose session resumed at the main menu, in their language. */
async function atMainMenu(language: Language, options: CallOptions = {}): Promise<Call> {
  const call = await Call.start({ input: { resume: true, language }, roundTrip: mode.roundTrip, representativesAvailable: false, ...options });
  calls.push(call);
  expect(call.state).to.equal('mainMenu');
  return call;
}

async function walk(call: Call, keys: readonly string[]): Promise<Call> {
  for (const key of keys) await call.press(key);
  return call;
}

type Person = (typeof PEOPLE)[keyof typeof PEOPLE];

/** Main menu → 1 → ID (or SSN) → PIN: at the account menu. */
async function loggedIn(language: Language, who: Person = maria, options: CallOptions = {}): Promise<Call> {
  const call = await atMainMenu(language, options);
  await walk(call, ['1', who.participantId, who.pin]);
  expect(call.state).to.equal('account.menu');
  return call;
}

const caseBalance = (caseNumber: string, total: number): CaseBalance => ({
  caseNumber: caseNumber as CaseNumber, role: 'paying', monthlyObligation: cents(10000), currentMonthDue: cents(total),
  arrearsPrincipal: cents(0), arrearsInterest: cents(0), credit: cents(0), total: cents(total),
});

for (const m of MODES) {
  describe(`account information and PIN help (${m.name})`, () => {
    before(async () => {
      MAIN_MENU = await mainMenuPrompt();
    });
    beforeEach(() => {
      mode = m;
      calls = [];
    });
    afterEach(function () {
      if (this.currentTest?.state !== 'passed') return;
      for (const call of calls) {
        // Every line in the caller's language; nothing secret in any persisted step; the mode really round-tripped.
        for (const line of call.transcript) {
          expect(line.language, line.id).to.equal(call.language);
          expect(line.text, line.id).not.to.match(SAYS[OTHER[call.language]].verb);
        }
        expectNothingSecretKept(call);
        expect(call.restores, 'restores').to.equal(m.roundTrip ? call.persisted.length : 0);
      }
    });

    for (const language of LANGUAGES) {
      const says = SAYS[language];

      describe(`login (${language})`, () => {
        it('by 10-digit participant ID: identify gets the ID, login the participant and the PIN; her summary, then the account menu', async () => {
          const call = await atMainMenu(language);
          await call.press('1');
          expect(call.state).to.equal('login.enterId');
          expect(call.meta).to.deep.equal(waitsForDigits(10));
          expect(call.ids).to.deep.equal(['login.enterId']);
          expect(call.lines[0]).to.include(says.enterId);

          await call.press(maria.participantId);
          expect(call.state).to.equal('login.enterPin');
          expect(call.meta).to.deep.equal(waitsForDigits(20));
          expect(call.ids).to.deep.equal(['login.enterPin']);
          expect(call.lines[0]).to.include(says.enterPin);
          expect(call.stubs.identify.args).to.deep.equal([[{ entry: maria.participantId }]]);
          expect(call.stubs.login.called).to.equal(false);

          await call.press(maria.pin);
          expect(call.stubs.login.args).to.deep.equal([[{ candidate: maria.participantId, pin: maria.pin, caller }]]);
          expect(call.state).to.equal('account.menu');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.ids).to.deep.equal(['summary.oweAndReceived', ...ACCOUNT_MENU]);
          expect(call.lines[0]).to.equal(says.summary);
          expect(call.lines[1]).to.equal(says.accountMenu);
        });

        it('by 9-digit Social Security number: identify gets the SSN and finds the participant', async () => {
          const call = await atMainMenu(language);
          await walk(call, ['1', maria.ssn]);
          expect(call.state).to.equal('login.enterPin');
          expect(call.stubs.identify.args).to.deep.equal([[{ entry: maria.ssn }]]);
          await call.press(maria.pin);
          expect(call.stubs.login.args).to.deep.equal([[{ candidate: maria.participantId, pin: maria.pin, caller }]]);
          expect(call.state).to.equal('account.menu');
          expect(call.lines[0]).to.equal(says.summary);
        });

        for (const entry of ['57291438', '40712396581']) {
          it(`${entry.length} digits is neither: says how many digits each has and asks again, without asking the domain`, async () => {
            const call = await walk(await atMainMenu(language), ['1', entry]);
            expect(call.state).to.equal('login.enterId');
            expect(call.ids).to.deep.equal(['login.badLength', 'login.enterId']);
            expect(call.lines[0]).to.include(says.badLength);
            expect(call.stubs.identify.called).to.equal(false);
            await call.press(maria.participantId);
            expect(call.state).to.equal('login.enterPin');
          });
        }

        for (const available of [true, false]) {
          it(`three wrong entries in a row count like three wrong keys (${available ? 'in' : 'outside'} office hours)`, async () => {
            const call = await walk(await atMainMenu(language, { representativesAvailable: available }), ['1', '12345678']);
            await call.silence();
            expect(call.state).to.equal('login.enterId');
            expect(call.ids).to.deep.equal(['entry.noInputAgain', 'login.enterId']);
            await call.press('123');
            expect(call.state).to.equal(available ? 'transfer' : 'closed');
            expect(call.ids[0]).to.equal(available ? 'retry.giveUpTransfer' : 'retry.giveUpClosed');
            expect(call.stubs.identify.called).to.equal(false);
          });
        }

        it('0 in an entry is a digit, not a representative', async () => {
          const call = await walk(await atMainMenu(language, { representativesAvailable: true }), ['1', '0']);
          expect(call.state).to.equal('login.enterId');
          expect(call.ids).to.deep.equal(['login.badLength', 'login.enterId']);
        });

        it('* in the ID or the PIN entry goes back to the main menu without asking the domain', async () => {
          const call = await walk(await atMainMenu(language), ['1', '40712*']);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(MAIN_MENU);
          expect(call.lines[0]).to.equal(says.mainMenu);
          expect(call.stubs.identify.called).to.equal(false);

          await walk(call, ['1', maria.participantId, '73*']);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(MAIN_MENU);
          expect(call.stubs.login.called).to.equal(false);
        });

        it('no input at an entry: the entry prompts, then more helpfully', async () => {
          const call = await walk(await atMainMenu(language), ['1']);
          await call.silence();
          expect(call.state).to.equal('login.enterId');
          expect(call.ids).to.deep.equal(['entry.noInput', 'login.enterId']);
          expect(call.lines[0]).to.equal(says.noEntry);
          await call.silence();
          expect(call.ids).to.deep.equal(['entry.noInputAgain', 'login.enterId']);
          expect(call.lines[0]).to.include(says.noEntryAgain);

          await call.press(maria.ssn);
          await call.silence();
          expect(call.state).to.equal('login.enterPin');
          expect(call.ids, 'strikes start again at a new prompt').to.deep.equal(['entry.noInput', 'login.enterPin']);
        });

        it('a wrong PIN, an unknown ID and a locked participant sound the same: one message that offers another try, PIN help and a representative', async () => {
          const wrongPin = await walk(await atMainMenu(language), ['1', maria.participantId, '1357']);
          expect(wrongPin.stubs.login.args).to.deep.equal([[{ candidate: maria.participantId, pin: '1357', caller }]]);
          expect(wrongPin.state).to.equal('login.retry');
          expect(wrongPin.meta).to.deep.equal(WAITS_FOR_KEY);
          expect(wrongPin.ids).to.deep.equal(['login.mismatch', 'identity.retryKeys']);
          expect(wrongPin.lines[0]).to.equal(says.mismatch);
          expect(wrongPin.lines[1]).to.equal(says.retryKeys);

          const unknown = await walk(await atMainMenu(language), ['1', '5550001111', '1357']);
          expect(unknown.stubs.login.args).to.deep.equal([[{ candidate: null, pin: '1357', caller }]]);
          expect(unknown.state).to.equal('login.retry');
          expect(unknown.lines).to.deep.equal(wrongPin.lines);

          const locked = await atMainMenu(language);
          locked.domain.locked.add(maria.participantId);
          await walk(locked, ['1', maria.participantId, maria.pin]);
          expect(locked.state).to.equal('login.retry');
          expect(locked.lines, 'the right PIN of a locked participant').to.deep.equal(wrongPin.lines);

          await walk(wrongPin, ['1', maria.participantId, maria.pin]);
          expect(wrongPin.state, 'the second try can succeed').to.equal('account.menu');
          await walk(unknown, ['3']);
          expect(unknown.state, '3 is PIN help').to.equal('pinHelp.menu');
          await walk(locked, ['*']);
          expect(locked.state, '* goes back').to.equal('mainMenu');
        });

        it('a number that has used its failures for the hour is not asked to identify: the other menus and a representative', async () => {
          for (const available of [true, false]) {
            const call = await atMainMenu(language, { representativesAvailable: available });
            call.domain.throttled.add(caller);
            await call.press('1');
            expect(call.state).to.equal('mainMenu');
            expect(call.ids).to.deep.equal(['identity.unavailable', available ? 'identity.unavailableAgent' : 'hours.representatives', ...MAIN_MENU]);
            expect(call.lines[0]).to.include(says.unavailable);
            expect(call.stubs.identify.called).to.equal(false);
            expect(call.stubs.mayIdentify.args).to.deep.equal([[{ caller }]]);
          }
        });

        it('a failure that uses up the number\'s budget says so at once', async () => {
          const call = await atMainMenu(language);
          call.stubs.login.resolves({ ok: false, reason: 'throttled' });
          await walk(call, ['1', maria.participantId, '1357']);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['identity.unavailable', 'hours.representatives', ...MAIN_MENU]);
        });

        it('three mismatches end the attempt; 1 (or change PIN) again says the limit without asking the domain', async () => {
          const call = await walk(await atMainMenu(language), ['1', maria.participantId, '1357', '1', james.ssn, '2468']);
          expect(call.state).to.equal('login.retry');
          await walk(call, ['1', maria.participantId, '9753']);
          expect(call.stubs.login.callCount).to.equal(3);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['login.mismatch', 'login.tooMany', ...MAIN_MENU]);
          expect(call.lines[0]).to.equal(says.mismatch);
          expect(call.lines[1]).to.equal(says.tooMany);

          await call.press('1');
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['login.limitThisCall', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(says.limit);
          await walk(call, ['3', '2']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(['login.limitThisCall', ...PIN_MENU]);
          expect(call.stubs.identify.callCount).to.equal(3);
          expect(call.stubs.login.callCount).to.equal(3);
        });

        it('once logged in, * goes to the main menu and 1 goes straight back to the account menu', async () => {
          const call = await loggedIn(language);
          await call.press('*');
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(MAIN_MENU);
          await call.press('1');
          expect(call.state).to.equal('account.menu');
          expect(call.ids).to.deep.equal(['summary.oweAndReceived', ...ACCOUNT_MENU]);
          expect(call.stubs.identify.callCount).to.equal(1);
          expect(call.stubs.login.callCount).to.equal(1);
        });
      });

      describe(`account menu (${language})`, () => {
        it('names balance (1), payment history (2) and case information (3) in key order; 9 repeats; a wrong key says so', async () => {
          const call = await loggedIn(language);
          const key = (k: string) => new RegExp(`\\b${language === 'en' ? 'press' : 'oprima'} ${k}\\b`);
          const positions = ['1', '2', '3'].map((k) => call.lines[2]!.search(key(k)));
          expect(positions.every((at) => at >= 0), call.lines[2]).to.equal(true);
          expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
          await call.press('9');
          expect(call.ids).to.deep.equal(ACCOUNT_MENU);
          await call.press('6');
          expect(call.state).to.equal('account.menu');
          expect(call.ids).to.deep.equal(['retry.invalid', ...ACCOUNT_MENU]);
        });
      });
    }

    describe('the answer first', () => {
      it('asks the domain for the caller\'s own summary once logged in, says it in one sentence, then the account menu', async () => {
        for (const language of LANGUAGES) {
          const call = await loggedIn(language);
          expect(call.stubs.summary.args).to.deep.equal([[{ participantId: maria.participantId }]]);
          expect(call.ids).to.deep.equal(['summary.oweAndReceived', ...ACCOUNT_MENU]);
          expect(call.lines[0]).to.equal(SAYS[language].summary);
          expect(call.stubs.balances.called, 'the per-case readout waits for 1').to.equal(false);
        }
      });

      it('a receiving parent hears the last payment received on their cases', async () => {
        const call = await loggedIn('en', james);
        expect(call.ids).to.deep.equal(['summary.received', ...ACCOUNT_MENU]);
        expect(call.lines[0]).to.equal('The last payment you received was $450.00, on Friday, November 13, 2026.');
      });

      it('a receiving parent with no payment in the year hears so', async () => {
        const domain = new FakeDomain();
        domain.payments = {} as FakeDomain['payments'];
        const call = await loggedIn('es', james, { domain });
        expect(call.ids).to.deep.equal(['summary.noneReceived', ...ACCOUNT_MENU]);
        expect(call.lines[0]).to.equal('Usted no ha recibido pagos en los últimos 12 meses.');
      });

      it('a paying parent who receives on no case hears what they owe and what is due this month', async () => {
        const domain = new FakeDomain();
        domain.cases = domain.cases.filter((c) => c.caseNumber !== CASES.sanDiego);
        const call = await loggedIn('en', maria, { domain });
        expect(call.ids).to.deep.equal(['summary.owe', ...ACCOUNT_MENU]);
        expect(call.lines[0]).to.equal('You owe $2,165.23 in all, and $450.00 is due this month.');
      });

      it('a paying parent whose receiving case has had no payment in the year', async () => {
        const domain = new FakeDomain();
        delete (domain.payments as Record<string, unknown>)[CASES.sanDiego];
        const call = await loggedIn('en', maria, { domain });
        expect(call.ids).to.deep.equal(['summary.oweAndNoneReceived', ...ACCOUNT_MENU]);
        expect(call.lines[0]).to.equal('You owe $2,165.23 in all, and $450.00 is due this month; you have received no payments in the last 12 months.');
      });

      it('no open case: says so, then the menu', async () => {
        const call = await loggedIn('en', ana);
        expect(call.ids).to.deep.equal(['balance.none', ...ACCOUNT_MENU]);
      });

      it('the whole per-case balance is still behind 1; * comes back to the menu without the summary again', async () => {
        const call = await loggedIn('en');
        await call.press('1');
        expect(call.ids).to.deep.equal(['balance.totalPaying', 'balance.case', 'balance.case', 'balance.credit', 'balance.case', 'menu.navigation']);
        await call.press('*');
        expect(call.ids).to.deep.equal(ACCOUNT_MENU);
        expect(call.stubs.summary.callCount).to.equal(1);
      });
    });

    describe('balance', () => {
      const MARIA: Record<Language, string[]> = {
        en: [
          'On your 2 open cases where you pay support, the total balance is $2,165.23.',
          'For the case ending in 3 4 5 6, where you pay support: monthly support, $450.00. Due this month, $450.00. Past-due support, $1,200.00. Interest, $15.23. Total balance, $1,665.23.',
          'For the case ending in 7 7 8 8, where you pay support: monthly support, $300.00. Due this month, $0.00. Past-due support, $500.00. Interest, $0.00. Total balance, $500.00.',
          'This case also has a credit of $25.00.',
          'For the case ending in 9 0 1 2, where you receive support: monthly support, $600.00. Due this month, $600.00. Past-due support, $0.00. Interest, $0.00. Total balance, $600.00.',
          SAYS.en.navigation,
        ],
        es: [
          'En sus 2 casos abiertos en los que usted paga manutención, el saldo total es de 2165 dólares con 23 centavos.',
          'Para el caso que termina en 3 4 5 6, en el que usted paga manutención: manutención mensual, 450 dólares. Vence este mes, 450 dólares. Manutención atrasada, 1200 dólares. Intereses, 15 dólares con 23 centavos. Saldo total, 1665 dólares con 23 centavos.',
          'Para el caso que termina en 7 7 8 8, en el que usted paga manutención: manutención mensual, 300 dólares. Vence este mes, 0 dólares. Manutención atrasada, 500 dólares. Intereses, 0 dólares. Saldo total, 500 dólares.',
          'Este caso también tiene un crédito de 25 dólares.',
          'Para el caso que termina en 9 0 1 2, en el que usted recibe manutención: manutención mensual, 600 dólares. Vence este mes, 600 dólares. Manutención atrasada, 0 dólares. Intereses, 0 dólares. Saldo total, 600 dólares.',
          SAYS.es.navigation,
        ],
      };

      for (const language of LANGUAGES) {
        it(`${language}: the paying total first, then each open case by its last four digits, in both roles, with its credit`, async () => {
          const call = await loggedIn(language);
          await call.press('1');
          expect(call.stubs.balances.args).to.deep.equal([[{ participantId: maria.participantId }]]);
          expect(call.state).to.equal('account.balance.heard');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.ids).to.deep.equal(['balance.totalPaying', 'balance.case', 'balance.case', 'balance.credit', 'balance.case', 'menu.navigation']);
          expect(call.lines).to.deep.equal(MARIA[language]);
          expect(call.heard, 'the closed case is not read').not.to.include('1 2 3 4');
        });
      }

      it('two cases where the caller receives support: their total first, in the receiving wording', async () => {
        const call = await loggedIn('en', james);
        await call.press('1');
        expect(call.ids).to.deep.equal(['balance.totalReceiving', 'balance.case', 'balance.case', 'balance.credit', 'menu.navigation']);
        expect(call.lines[0]).to.equal('On your 2 open cases where you receive support, the total balance owed is $2,165.23.');
        expect(call.lines[1]).to.match(/^For the case ending in 3 4 5 6, where you receive support: /);
        expect(call.lines[2]).to.match(/^For the case ending in 7 7 8 8, where you receive support: /);
        expect(call.heard).not.to.include('where you pay support');
      });

      it('no open cases', async () => {
        const call = await loggedIn('en', ana);
        await call.press('1');
        expect(call.state).to.equal('account.balance.heard');
        expect(call.ids).to.deep.equal(['balance.none', 'menu.navigation']);
        expect(call.lines[0]).to.equal('You have no open cases.');
      });

      it('more than 5 open cases: 5 are read, then how many more there are', async () => {
        const call = await loggedIn('en');
        const cases = ['100000000001', '100000000002', '100000000003', '100000000004', '100000000005'].map((n, i) => caseBalance(n, 1000 * (i + 1)));
        const report: BalanceReport = { cases, openCases: 7, totals: [{ role: 'paying', cases: 7, total: cents(28000) }] };
        call.stubs.balances.resolves(report);
        await call.press('1');
        expect(call.ids).to.deep.equal(['balance.totalPaying', ...cases.map(() => 'balance.case' as const), 'balance.moreCases', 'menu.navigation']);
        expect(call.lines[0]).to.equal('On your 7 open cases where you pay support, the total balance is $280.00.');
        expect(call.lines[5]).to.match(/^For the case ending in 0 0 0 5, /);
        expect(call.lines[6]).to.equal('You have 2 more open cases. A representative can tell you about them.');
      });

      it('9 asks the domain again and reads the figures as they are now; * goes back to the account menu', async () => {
        const call = await loggedIn('en');
        await call.press('1');
        expect(call.lines[1]).to.include('Due this month, $450.00.');
        // A payment is credited while the caller listens.
        call.domain.cases.find((c) => c.caseNumber === CASES.la)!.currentMonthDue = cents(0);
        await call.press('9');
        expect(call.stubs.balances.callCount).to.equal(2);
        expect(call.state).to.equal('account.balance.heard');
        expect(call.lines[0]).to.equal('On your 2 open cases where you pay support, the total balance is $1,715.23.');
        expect(call.lines[1]).to.include('Due this month, $0.00.');
        expect(call.lines[1]).to.include('Total balance, $1,215.23.');
        await call.press('*');
        expect(call.state).to.equal('account.menu');
        expect(call.ids).to.deep.equal(ACCOUNT_MENU);
      });
    });

    describe('payment history', () => {
      const PAGES = [
        [
          'On Friday, November 13, 2026, $450.00 from wage withholding, case ending in 3 4 5 6.',
          'On Wednesday, October 28, 2026, $450.00 from wage withholding, case ending in 3 4 5 6.',
          'On Thursday, October 15, 2026, $200.00 from a check, case ending in 7 7 8 8.',
        ],
        [
          'On Wednesday, September 30, 2026, $450.00 from wage withholding, case ending in 3 4 5 6.',
          'On Wednesday, September 2, 2026, $125.50 from a money order, case ending in 9 0 1 2.',
          'On Thursday, August 20, 2026, $1,234.56 from a tax refund intercept, case ending in 7 7 8 8.',
        ],
        ['On Monday, July 6, 2026, $75.00 from a card payment, case ending in 3 4 5 6.'],
      ];
      const MORE = 'For more payments, press 1.';
      const END = 'That is all the payments in the last 12 months.';

      it('3 at a time, newest first; 1 for more while there are more; the last page says that is all; 1 there is a wrong key', async () => {
        const call = await loggedIn('en');
        await call.press('2');
        expect(call.stubs.history.args[0]).to.deep.equal([{ participantId: maria.participantId }]);
        expect(call.state).to.equal('account.history.heard');
        expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
        expect(call.lines).to.deep.equal(['Here are your payments from the last 12 months, newest first.', ...PAGES[0]!, MORE, SAYS.en.navigation]);

        await call.press('1');
        expect(call.state).to.equal('account.history.heard');
        expect(call.lines).to.deep.equal([...PAGES[1]!, MORE, SAYS.en.navigation]);

        await call.press('1');
        expect(call.lines).to.deep.equal([...PAGES[2]!, END, SAYS.en.navigation]);
        expect(call.ids).to.deep.equal(['history.item', 'history.end', 'menu.navigation']);

        const asked = call.stubs.history.callCount;
        await call.press('1');
        expect(call.state).to.equal('account.history.heard');
        expect(call.ids).to.deep.equal(['retry.invalid', 'menu.navigation']);
        expect(call.stubs.history.callCount).to.equal(asked);
      });

      it('9 repeats the page the caller is on; * goes back, and history starts again at the newest', async () => {
        const call = await walk(await loggedIn('en'), ['2', '1']);
        const page = call.lines;
        expect(page).to.deep.equal([...PAGES[1]!, MORE, SAYS.en.navigation]);
        await call.press('9');
        expect(call.state).to.equal('account.history.heard');
        expect(call.lines).to.deep.equal(page);
        await call.press('*');
        expect(call.state).to.equal('account.menu');
        await call.press('2');
        expect(call.lines.slice(1, 4)).to.deep.equal(PAGES[0]);
      });

      it('exactly 3 payments: one page, no "press 1 for more", and 1 is a wrong key', async () => {
        const call = await loggedIn('en');
        const three: HistoryItem[] = [
          { caseNumber: CASES.la, receivedAt: '2026-11-13T20:00:00Z', amount: cents(45000), method: 'wage-withholding' },
          { caseNumber: CASES.la, receivedAt: '2026-10-28T20:00:00Z', amount: cents(45000), method: 'eft' },
          { caseNumber: CASES.orange, receivedAt: '2026-10-15T18:00:00Z', amount: cents(20000), method: 'cash' },
        ];
        call.stubs.history.resolves(three);
        await call.press('2');
        expect(call.ids).to.deep.equal(['history.intro', 'history.item', 'history.item', 'history.item', 'history.end', 'menu.navigation']);
        expect(call.lines[2]).to.equal('On Wednesday, October 28, 2026, $450.00 from an electronic funds transfer, case ending in 3 4 5 6.');
        await call.press('1');
        expect(call.ids).to.deep.equal(['retry.invalid', 'menu.navigation']);
      });

      it('no payments in the last 12 months', async () => {
        const call = await walk(await loggedIn('en', ana), ['2']);
        expect(call.state).to.equal('account.history.heard');
        expect(call.ids).to.deep.equal(['history.none', 'menu.navigation']);
        expect(call.lines[0]).to.equal('There are no payments in the last 12 months.');
        await call.press('1');
        expect(call.ids).to.deep.equal(['retry.invalid', 'menu.navigation']);
      });

      it('in Spanish: "El jueves ...", amounts in words, "por retención de salario"', async () => {
        const call = await walk(await loggedIn('es'), ['2']);
        expect(call.lines).to.deep.equal([
          'Estos son sus pagos de los últimos 12 meses, empezando por el más reciente.',
          'El viernes 13 de noviembre de 2026, 450 dólares por retención de salario, caso que termina en 3 4 5 6.',
          'El miércoles 28 de octubre de 2026, 450 dólares por retención de salario, caso que termina en 3 4 5 6.',
          'El jueves 15 de octubre de 2026, 200 dólares por cheque, caso que termina en 7 7 8 8.',
          'Para escuchar más pagos, oprima 1.',
          SAYS.es.navigation,
        ]);
        await walk(call, ['1', '1']);
        expect(call.lines).to.deep.equal([
          'El lunes 6 de julio de 2026, 75 dólares por pago con tarjeta, caso que termina en 3 4 5 6.',
          'No hay más pagos en los últimos 12 meses.',
          SAYS.es.navigation,
        ]);
      });
    });

    describe('case information', () => {
      const MARIA: Record<Language, string[]> = {
        en: [
          'Case number 1 9 0 0 0 0 1 2 3 4 5 6, Los Angeles County, open. You are the paying parent on this case.',
          'Case number 3 0 0 0 0 0 1 2 7 7 8 8, Orange County, open. You are the paying parent on this case.',
          'Case number 3 7 0 0 0 0 4 4 9 0 1 2, San Diego County, open. You are the receiving parent on this case.',
          'Case number 0 1 0 0 0 0 5 5 1 2 3 4, Alameda County, closed. You are the paying parent on this case.',
          'Your upcoming court dates and appointments, soonest first:',
          'An appointment on Wednesday, December 2, 2026, at 2:00 PM Pacific time, at San Diego Child Support Services, 3211 Kurtz Street. Interview with your caseworker. Case ending in 9 0 1 2.',
          'A court hearing on Thursday, December 10, 2026, at 9:30 AM Pacific time, at Los Angeles Superior Court, 111 North Hill Street. Review of your support order. Case ending in 3 4 5 6.',
          SAYS.en.navigation,
        ],
        es: [
          'Caso número 1 9 0 0 0 0 1 2 3 4 5 6, condado de Los Angeles, abierto. En este caso, usted es quien paga la manutención.',
          'Caso número 3 0 0 0 0 0 1 2 7 7 8 8, condado de Orange, abierto. En este caso, usted es quien paga la manutención.',
          'Caso número 3 7 0 0 0 0 4 4 9 0 1 2, condado de San Diego, abierto. En este caso, usted es quien recibe la manutención.',
          'Caso número 0 1 0 0 0 0 5 5 1 2 3 4, condado de Alameda, cerrado. En este caso, usted es quien paga la manutención.',
          'Sus próximas fechas de corte y citas, empezando por la más cercana:',
          'Una cita el miércoles 2 de diciembre de 2026, a las 2 de la tarde, hora del Pacífico, en San Diego Child Support Services, 3211 Kurtz Street. Interview with your caseworker. Caso que termina en 9 0 1 2.',
          'Una audiencia en la corte el jueves 10 de diciembre de 2026, a las 9:30 de la mañana, hora del Pacífico, en Los Angeles Superior Court, 111 North Hill Street. Review of your support order. Caso que termina en 3 4 5 6.',
          SAYS.es.navigation,
        ],
      };

      for (const language of LANGUAGES) {
        it(`${language}: each case digit by digit with county, status and role; then appointments soonest first`, async () => {
          const call = await walk(await loggedIn(language), ['3']);
          expect(call.stubs.caseInformation.args).to.deep.equal([[{ participantId: maria.participantId }]]);
          expect(call.state).to.equal('account.caseInformation.heard');
          expect(call.meta?.wait).to.include(WAITS_FOR_KEY.wait);
          expect(call.lines).to.deep.equal(MARIA[language]);
        });
      }

      it('no upcoming court dates or appointments; 9 asks again; * goes back', async () => {
        const call = await loggedIn('en');
        call.domain.appointments = {} as typeof call.domain.appointments;
        await call.press('3');
        expect(call.ids).to.deep.equal(['caseInfo.case', 'caseInfo.case', 'caseInfo.case', 'caseInfo.case', 'caseInfo.noAppointments', 'menu.navigation']);
        expect(call.lines[4]).to.equal('You have no upcoming court dates or appointments.');
        await call.press('9');
        expect(call.stubs.caseInformation.callCount).to.equal(2);
        expect(call.ids.at(-2)).to.equal('caseInfo.noAppointments');
        await call.press('*');
        expect(call.state).to.equal('account.menu');
      });

      if (!m.roundTrip) {
        it('es: an appointment at one o\'clock is "a la 1", not "a las 1"', async () => {
          const call = await loggedIn('es');
          call.stubs.caseInformation.resolves({
            cases: [{ caseNumber: CASES.la, county: 'Los Angeles', status: 'open', role: 'paying' }],
            appointments: [{ caseNumber: CASES.la, at: '2026-12-03T21:30:00Z', kind: 'appointment', location: 'Los Angeles Child Support Services', description: 'Entrevista' }],
          });
          await call.press('3');
          expect(call.lines[2]).to.equal(
            'Una cita el jueves 3 de diciembre de 2026, a la 1:30 de la tarde, hora del Pacífico, en Los Angeles Child Support Services. Entrevista. Caso que termina en 3 4 5 6.',
          );
        });
      }

      it('no cases on file', async () => {
        const call = await walk(await loggedIn('en', ana), ['3']);
        expect(call.ids).to.deep.equal(['caseInfo.none', 'menu.navigation']);
        expect(call.lines[0]).to.equal('We have no cases on file for you.');
      });
    });

    for (const language of LANGUAGES) {
      const says = SAYS[language];

      describe(`forgot my PIN (${language})`, () => {
        it('participant ID (10 digits only), then SSN (9 only); forgotPin gets both; mailed in 7 to 10 days, no PIN said', async () => {
          const call = await walk(await atMainMenu(language), ['3', '1']);
          expect(call.state).to.equal('pinHelp.forgot.enterId');
          expect(call.meta).to.deep.equal(waitsForDigits(10));
          expect(call.ids).to.deep.equal(['forgot.enterId']);
          expect(call.lines[0]).to.include(says.forgotEnterId);

          await call.press(maria.ssn);
          expect(call.state).to.equal('pinHelp.forgot.enterId');
          expect(call.ids).to.deep.equal(['forgot.idLength', 'forgot.enterId']);
          expect(call.lines[0]).to.equal(says.idLength);
          expect(call.stubs.identify.called).to.equal(false);

          await call.press(maria.participantId);
          expect(call.stubs.identify.args).to.deep.equal([[{ entry: maria.participantId }]]);
          expect(call.state).to.equal('pinHelp.forgot.enterSsn');
          expect(call.meta).to.deep.equal(waitsForDigits(9));
          expect(call.ids).to.deep.equal(['forgot.enterSsn']);
          expect(call.lines[0]).to.include(says.enterSsn);

          await call.press(`${maria.ssn}0`);
          expect(call.state).to.equal('pinHelp.forgot.enterSsn');
          expect(call.ids).to.deep.equal(['forgot.ssnLength', 'forgot.enterSsn']);
          expect(call.lines[0]).to.equal(says.ssnLength);
          expect(call.stubs.forgotPin.called).to.equal(false);

          await call.press(maria.ssn);
          expect(call.stubs.forgotPin.args).to.deep.equal([[{ candidate: maria.participantId, ssn: maria.ssn, caller }]]);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['forgot.done', 'agent.returning', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(says.mailed);
          expect(call.lines[1]).to.equal(says.returning);
          expect(call.domain.pendingPins.get(maria.participantId), 'the fake mailed a PIN').to.equal(MAILED_PIN);
          expect(call.domain.pins.get(maria.participantId), 'the current PIN keeps working').to.equal(maria.pin);
          for (const line of call.transcript) {
            expect(line.text).not.to.include(MAILED_PIN);
            expect(line.text).not.to.include(MAILED_PIN.split('').join(' '));
          }
        });

        it('a PIN mailed in the last 24 hours: says when, and back to the main menu', async () => {
          const call = await walk(await atMainMenu(language), ['3', '1', james.participantId, james.ssn]);
          expect(call.stubs.forgotPin.args).to.deep.equal([[{ candidate: james.participantId, ssn: james.ssn, caller }]]);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['forgot.recent', 'agent.returning', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(says.recent);
        });

        it('ID and SSN of different people, or an unknown ID: one message, then another try, PIN help or a representative', async () => {
          const call = await walk(await atMainMenu(language), ['3', '1', maria.participantId, james.ssn]);
          expect(call.stubs.forgotPin.args).to.deep.equal([[{ candidate: maria.participantId, ssn: james.ssn, caller }]]);
          expect(call.state).to.equal('pinHelp.forgot.retry');
          expect(call.ids).to.deep.equal(['forgot.mismatch', 'identity.retryKeys']);
          expect(call.lines[0]).to.equal(says.forgotMismatch);
          const mismatch = call.lines;

          await walk(call, ['1', '5550001111', maria.ssn]);
          expect(call.stubs.forgotPin.lastCall.args).to.deep.equal([{ candidate: null, ssn: maria.ssn, caller }]);
          expect(call.lines).to.deep.equal(mismatch);
        });

        it('three mismatches: we could not verify you, the main menu, and the limit for the rest of the call', async () => {
          const call = await walk(await atMainMenu(language), ['3', '1']);
          for (const ssn of [james.ssn, ana.ssn]) await walk(call, [maria.participantId, ssn, '1']);
          expect(call.state).to.equal('pinHelp.forgot.enterId');
          await walk(call, [maria.participantId, '123456780']);
          expect(call.stubs.forgotPin.callCount).to.equal(3);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['forgot.mismatch', 'forgot.tooMany', ...MAIN_MENU]);
          expect(call.lines[1]).to.include(says.tooMany);

          await walk(call, ['3', '1']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(['forgot.limitThisCall', ...PIN_MENU]);
          expect(call.lines[0]).to.equal(`${says.forgotLimit} ${says.forgotLimitHelp}`);
          expect(call.stubs.forgotPin.callCount).to.equal(3);
          expect(call.stubs.identify.callCount).to.equal(3);
        });

        it('* in the ID or the SSN goes back to PIN help', async () => {
          const call = await walk(await atMainMenu(language), ['3', '1', '*']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(PIN_MENU);
          await walk(call, ['1', maria.participantId, '5729*']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.stubs.forgotPin.called).to.equal(false);
        });
      });

      describe(`change my PIN (${language})`, () => {
        async function atNewPin(): Promise<Call> {
          const call = await walk(await atMainMenu(language), ['3', '2']);
          expect(call.state).to.equal('login.enterId');
          expect(call.ids).to.deep.equal(['change.intro', 'login.enterId']);
          expect(call.lines[0]).to.equal(says.changeIntro);
          await walk(call, [maria.participantId, maria.pin]);
          expect(call.stubs.login.args).to.deep.equal([[{ candidate: maria.participantId, pin: maria.pin, caller }]]);
          expect(call.state).to.equal('changePin.enterNew');
          expect(call.ids).to.deep.equal(['change.enterNew']);
          expect(call.lines[0]).to.equal(says.enterNew);
          return call;
        }

        it('current PIN first, then the new PIN twice: changed', async () => {
          const call = await atNewPin();
          await call.press(NEW_PIN);
          expect(call.stubs.proposePin.args).to.deep.equal([[{ participantId: maria.participantId, pin: NEW_PIN }]]);
          expect(call.state).to.equal('changePin.reenter');
          expect(call.ids).to.deep.equal(['change.reenter']);
          expect(call.lines[0]).to.equal(says.reenter);
          // Between the two entries the session holds a letters-only digest, never the PIN.
          const digest = (JSON.parse(call.persisted.at(-1)!) as { context: { pendingPin: unknown } }).context.pendingPin;
          expect(digest).to.be.a('string').and.match(/^[a-z]+$/);

          await call.press(NEW_PIN);
          expect(call.stubs.confirmPin.args).to.deep.equal([[{ participantId: maria.participantId, pin: NEW_PIN, digest }]]);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['change.done', 'agent.returning', ...MAIN_MENU]);
          expect(call.lines[0]).to.include(says.changed);
          expect(call.domain.pins.get(maria.participantId)).to.equal(NEW_PIN);
          expect((JSON.parse(call.persisted.at(-1)!) as { context: { pendingPin: unknown } }).context.pendingPin).to.equal(null);
        });

        const problems: { pin: string; id: keyof (typeof SAYS)['en']['problems']; reason: string }[] = [
          { pin: '482', id: 'change.length', reason: 'length' },
          { pin: maria.pin, id: 'change.same', reason: 'same-as-old' },
          { pin: '7777', id: 'change.repeated', reason: 'repeated-digit' },
          { pin: '9876', id: 'change.run', reason: 'straight-run' },
        ];
        for (const problem of problems) {
          it(`${problem.reason}: its own message, then the new PIN again`, async () => {
            const call = await atNewPin();
            await call.press(problem.pin);
            expect(await call.stubs.proposePin.lastCall.returnValue).to.deep.equal({ ok: false, reason: problem.reason });
            expect(call.state).to.equal('changePin.enterNew');
            expect(call.ids).to.deep.equal([problem.id, 'change.enterNew']);
            expect(call.lines[0]).to.equal(says.problems[problem.id]);
            expect(call.stubs.confirmPin.called).to.equal(false);
          });
        }

        it('three refused PINs: not changed, back to the main menu', async () => {
          const call = await atNewPin();
          await walk(call, ['7777', '1234']);
          expect(call.state).to.equal('changePin.enterNew');
          await call.press('55');
          expect(call.stubs.proposePin.callCount).to.equal(3);
          expect(call.state).to.equal('mainMenu');
          expect(call.ids).to.deep.equal(['change.length', 'change.tooMany', ...MAIN_MENU]);
          expect(call.lines[1]).to.include(says.notChanged);
          expect(call.domain.pins.get(maria.participantId)).to.equal(maria.pin);
        });

        it('a second entry that differs: they do not match, and the new PIN again', async () => {
          const call = await atNewPin();
          await walk(call, [NEW_PIN, '8350']);
          expect(call.stubs.confirmPin.lastCall.args[0]).to.include({ participantId: maria.participantId, pin: '8350' });
          expect(call.state).to.equal('changePin.enterNew');
          expect(call.ids).to.deep.equal(['change.mismatch', 'change.enterNew']);
          expect(call.lines[0]).to.include(says.pinsDiffer);
          expect(call.domain.pins.get(maria.participantId)).to.equal(maria.pin);

          await walk(call, [NEW_PIN, NEW_PIN]);
          expect(call.ids[0]).to.equal('change.done');
        });

        it('* in its login (at the ID or the PIN) goes back to PIN help, not the main menu', async () => {
          const call = await walk(await atMainMenu(language), ['3', '2', '40*']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(PIN_MENU);
          await walk(call, ['2', maria.participantId, '*']);
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(PIN_MENU);
          expect(call.stubs.login.called).to.equal(false);
          await call.press('*');
          expect(call.state).to.equal('mainMenu');
        });

        it('* at the new PIN goes back to PIN help', async () => {
          const call = await atNewPin();
          await call.press('83*');
          expect(call.state).to.equal('pinHelp.menu');
          expect(call.ids).to.deep.equal(PIN_MENU);
          expect(call.stubs.proposePin.called).to.equal(false);
        });

        it('a wrong current PIN is a login failure like any other', async () => {
          const call = await walk(await atMainMenu(language), ['3', '2', maria.participantId, '1357']);
          expect(call.state).to.equal('login.retry');
          expect(call.ids).to.deep.equal(['login.mismatch', 'identity.retryKeys']);
          expect(call.stubs.proposePin.called).to.equal(false);
          await call.press('*');
          expect(call.state, '* goes back to PIN help, where the caller came from').to.equal('pinHelp.menu');
        });
      });
    }

    describe('privacy: what the session keeps', () => {
      it('a login by SSN keeps neither the SSN nor the PIN, only the participant it proved', async () => {
        const call = await atMainMenu('en');
        await walk(call, ['1', maria.ssn, '1357', '1', maria.ssn, maria.pin, '1', '2', '1', '*', '3']);
        expect(call.persisted).to.have.length(12);
        expectNothingSecretKept(call, [maria.ssn, maria.pin, '1357']);
        expect(call.persisted.at(-1)).to.include(`"participantId":"${maria.participantId}"`);
      });

      it('forgot my PIN keeps neither the SSN nor any PIN, through a mismatch and a reset', async () => {
        const call = await atMainMenu('es');
        await walk(call, ['3', '1', maria.ssn, maria.participantId, james.ssn, '1', maria.participantId, maria.ssn]);
        expect(call.ids[0]).to.equal('forgot.done');
        expectNothingSecretKept(call, [maria.ssn, james.ssn, maria.pin, MAILED_PIN]);
      });

      it('change my PIN keeps neither the old PIN nor the new one, through a refusal and a mismatch', async () => {
        const call = await atMainMenu('en');
        await walk(call, ['3', '2', maria.ssn, maria.pin, '7777', NEW_PIN, '8350', NEW_PIN, NEW_PIN]);
        expect(call.ids[0]).to.equal('change.done');
        expectNothingSecretKept(call, [maria.ssn, maria.pin, '7777', NEW_PIN, '8350']);
      });

      it('the check can fail: a participant ID the caller proved is in the session', async () => {
        const call = await loggedIn('en');
        expect(() => expectNothingSecretKept(call, [maria.participantId])).to.throw(/keeps 4071239658/);
      });
    });

    describe('the driver', () => {
      it('waits for an actor that answers later before it says what the caller hears', async () => {
        const slow = fromPromise<BalanceReport, { participantId: ParticipantId }>(async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { cases: [], openCases: 0, totals: [] };
        });
        const call = await loggedIn('en', maria, { actors: { balances: slow } });
        await call.press('1');
        expect(call.state).to.equal('account.balance.heard');
        expect(call.ids).to.deep.equal(['balance.none', 'menu.navigation']);
      });
    });
  });
}
