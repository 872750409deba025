// The phone line's menus (spec section 2) as one XState machine. Pure: it says things by
// emitting `say`, asks the domain only through named guards and actors that the engine
// `provide()`s, and marks every state that waits for the caller with `meta.wait`.
// Persisted between webhooks, so it never holds an SSN or a PIN: entered digits go straight
// into an invoked actor's input and are gone once it settles.
import { and } from 'xstate';
import { account, login } from './account.ts';
import { payment } from './payment.ts';
import { changePin, pinHelp } from './pin.ts';
import { languageMenu, lineSetup, mainPrompt, menu, navigation, u } from './setup.ts';
import { UNMATCHED_SPEECH } from './events.ts';

export * from './setup.ts';
export { payRequestOf, type PayRequest } from './payment.ts';

export const lineMachine = lineSetup.createMachine({
  id: 'line',
  context: ({ input }) => ({
    language: input.language ?? 'en', strikes: 0, resumed: input.resume ?? false,
    participantId: null, candidate: null, intent: 'account', loginFailures: 0, forgotFailures: 0, pinProblems: 0,
    pendingPin: null, historyPage: 0, historyHasMore: false,
    payerId: null, payIdFailures: 0, payCases: [], payCase: 0, payQuote: null, amountProblems: 0, payAttempts: 0, payReceipt: null,
    pendingPhone: null, form: null,
  }),
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'resumed', target: 'mainMenu' },
        { target: 'language' },
      ],
    },
    language: {
      meta: { wait: { input: 'menu', vocabulary: 'language' } },
      entry: { type: 'say', params: { lines: [u('greeting', 'en'), ...languageMenu] } },
      on: {
        digits: [
          { guard: { type: 'pressed', params: { key: '1' } }, target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'en' } }, 'welcome'] },
          { guard: { type: 'pressed', params: { key: '2' } }, target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'es' } }, 'welcome'] },
          { guard: { type: 'pressed', params: { key: '9' } }, actions: ['clearStrikes', { type: 'say', params: { lines: languageMenu } }] },
          { guard: and([{ type: 'pressed', params: { key: '0' } }, 'representativesAvailable']), target: 'transfer' },
          { guard: { type: 'pressed', params: { key: '0' } }, actions: ['clearStrikes', { type: 'say', params: { lines: [u('agent.closed'), u('hours.representatives'), ...languageMenu] } }] },
          { guard: 'lastStrike', target: 'gaveUp' },
          // The caller has not chosen a language yet: the notice is said in both.
          {
            guard: ({ event }) => event.type === 'digits' && event.digits === UNMATCHED_SPEECH,
            actions: ['countStrike', { type: 'say', params: { lines: [u('retry.notUnderstood', 'en'), u('retry.notUnderstood', 'es'), ...languageMenu] } }],
          },
          { actions: ['countStrike', { type: 'say', params: { lines: [u('retry.invalid', 'en'), u('retry.invalid', 'es'), ...languageMenu] } }] },
        ],
        // Silence means English (spec section 2).
        noInput: { target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'en' } }, 'welcome'] },
      },
    },
    mainMenu: menu({
      prompt: mainPrompt,
      speech: 'main',
      options: {
        '1': [
          { guard: 'loggedIn', target: 'account' },
          { guard: 'loginLimitReached', say: [u('login.limitThisCall'), ...mainPrompt] },
          { target: 'login', assign: { intent: 'account' } },
        ],
        '2': [
          { guard: 'payLimitReached', say: [u('pay.tooMany'), ...mainPrompt] },
          { target: 'payment' },
        ],
        '3': 'pinHelp',
        '4': 'paymentInfo',
        '5': 'hours',
      },
    }),

    login,
    account,
    pinHelp,
    changePin,
    payment,
    paymentInfo: {
      initial: 'menu',
      states: {
        menu: menu({ prompt: [u('payInfo.title'), u('payInfo.options'), navigation], options: { '1': 'check', '2': 'card', '3': 'crediting', '4': 'coap' }, back: '#line.mainMenu', speech: 'paymentInfo' }),
        check: menu({ prompt: [u('payInfo.check'), navigation], back: 'menu', speech: 'navigation' }),
        card: menu({ prompt: [u('payInfo.card'), navigation], back: 'menu', speech: 'navigation' }),
        crediting: menu({ prompt: [u('payInfo.crediting'), navigation], back: 'menu', speech: 'navigation' }),
        coap: menu({ prompt: [u('payInfo.coap'), navigation], back: 'menu', speech: 'navigation' }),
      },
    },
    hours: menu({ prompt: [u('hours.selfService'), u('hours.representatives'), u('hours.otherWays'), navigation], back: 'mainMenu', speech: 'navigation' }),
    transfer: {
      meta: { wait: { input: 'dial' } },
      entry: { type: 'say', params: { lines: [u('agent.connecting')] } },
      on: {
        dialEnded: [
          { guard: 'dialAnswered', target: 'ended' },
          { target: 'mainMenu', actions: { type: 'say', params: { lines: [u('agent.unreached'), u('agent.returning')] } } },
        ],
      },
    },
    gaveUp: {
      always: [
        { guard: 'representativesAvailable', target: 'transfer', actions: { type: 'say', params: { lines: [u('retry.giveUpTransfer')] } } },
        { target: 'closed', actions: { type: 'say', params: { lines: [u('retry.giveUpClosed')] } } },
      ],
    },
    closed: {
      type: 'final',
      meta: { end: 'hangup' },
      entry: { type: 'say', params: { lines: [u('hours.representatives'), u('hours.selfService'), u('goodbye')] } },
    },
    ended: { type: 'final', meta: { end: 'hangup' } },
  },
});

