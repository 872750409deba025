// The phone line's menus (spec section 2) as one XState machine. Pure: it says things by
// emitting `say`, asks the domain only through named guards and actors that the engine
// `provide()`s, and marks every state that waits for the caller with `meta.wait`.
// Persisted between webhooks, so it never holds an SSN or a PIN: entered digits go straight
// into an invoked actor's input and are gone once it settles.
import type { Language } from '../prompts/speak.ts';
import { WITHHELD } from '../src/domain/identification.ts';
import { account, login } from './account.ts';
import { payment } from './payment.ts';
import { changePin, pinHelp } from './pin.ts';
import { LOGIN_TRIES, PAY_ATTEMPTS, languageMenu, limitReached, lineSetup, mainPrompt, menu, navigation, say, u } from './setup.ts';
import { to, withId } from './targets.ts';

export * from './setup.ts';
export { payRequestOf, type PayRequest } from './payment.ts';

/** A language chosen at the language menu: the privacy notice, then the main menu. */
const chosen = (language: Language) => ({ target: to('mainMenu'), assign: { language }, say: [u('confidentiality')] });

export const lineMachine = lineSetup.createMachine({
  id: 'line',
  context: ({ input }) => ({
    language: input.language ?? 'en', caller: input.caller ?? WITHHELD, strikes: 0, resumed: input.resume ?? false,
    participantId: null, candidate: null, intent: 'account', loginFailures: 0, forgotFailures: 0, pinProblems: 0,
    pendingPin: null, historyPage: 0, historyHasMore: false,
    payFrom: 'main', payerId: null, payIdFailures: 0, payCases: [], payCase: 0, payQuote: null, amountProblems: 0, payAttempts: 0, payReceipt: null,
    pendingPhone: null, phoneUpdates: 0, form: null,
  }),
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'resumed', target: 'mainMenu' },
        { target: 'language' },
      ],
    },
    language: menu({
      intro: [u('greeting', 'en')],
      prompt: languageMenu,
      speech: 'language',
      options: { '1': chosen('en'), '2': chosen('es') },
      // Nothing to go back to; and until a language is chosen, a retry is said in both.
      back: false,
      notices: 'bilingual',
      // Silence means English (spec section 2).
      silence: chosen('en'),
    }),
    mainMenu: withId('mainMenu', menu({
      prompt: mainPrompt,
      speech: 'main',
      options: {
        '1': [
          { guard: 'loggedIn', target: 'account' },
          { guard: limitReached(LOGIN_TRIES), say: [u('login.limitThisCall'), ...mainPrompt] },
          { target: 'login', assign: { intent: 'account' } },
        ],
        '2': [
          { guard: limitReached(PAY_ATTEMPTS), say: [u('pay.tooMany'), ...mainPrompt] },
          { target: 'payment', assign: { payFrom: 'main' } },
        ],
        '3': 'pinHelp',
        '4': 'paymentInfo',
        '5': 'hours',
      },
    })),

    login,
    account,
    pinHelp,
    changePin,
    payment,
    paymentInfo: {
      initial: 'menu',
      states: {
        menu: menu({ prompt: [u('payInfo.title'), u('payInfo.options'), navigation], options: { '1': 'check', '2': 'card', '3': 'crediting', '4': 'coap' }, back: to('mainMenu'), speech: 'paymentInfo' }),
        check: menu({ prompt: [u('payInfo.check'), navigation], back: 'menu', speech: 'navigation' }),
        card: menu({ prompt: [u('payInfo.card'), navigation], back: 'menu', speech: 'navigation' }),
        crediting: menu({ prompt: [u('payInfo.crediting'), navigation], back: 'menu', speech: 'navigation' }),
        coap: menu({ prompt: [u('payInfo.coap'), navigation], back: 'menu', speech: 'navigation' }),
      },
    },
    hours: menu({ prompt: [u('hours.selfService'), u('hours.representatives'), u('hours.otherWays'), navigation], back: 'mainMenu', speech: 'navigation' }),
    transfer: withId('transfer', {
      meta: { wait: { input: 'dial' } },
      entry: say([u('agent.connecting')]),
      on: {
        dialEnded: [
          { guard: 'dialAnswered', target: 'ended' },
          { target: 'mainMenu', actions: say([u('agent.unreached'), u('agent.returning')]) },
        ],
      },
    }),
    gaveUp: withId('gaveUp', {
      always: [
        { guard: 'representativesAvailable', target: 'transfer', actions: say([u('retry.giveUpTransfer')]) },
        { target: 'closed', actions: say([u('retry.giveUpClosed')]) },
      ],
    }),
    closed: {
      type: 'final',
      meta: { end: 'hangup' },
      entry: say([u('hours.representatives'), u('hours.selfService'), u('goodbye')]),
    },
    ended: withId('ended', { type: 'final', meta: { end: 'hangup' } }),
  },
});

