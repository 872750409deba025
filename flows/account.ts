// Main menu 1: who the caller is (ID or SSN, then PIN), and what they can hear and change about
// their own cases once they have proved it.
import { assign } from 'xstate';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import { balanceReadout, caseInformationReadout, historyPage } from './readouts.ts';
import { digitEntry, digitsOf, lineSetup, loggedInAs, menu, navigation, u } from './setup.ts';
/** Identification and PIN (spec section 4); also the first step of changing a PIN. */
export const login = lineSetup.createStateConfig({
  initial: 'enterId',
  states: {
    enterId: digitEntry({ prompt: [u('login.enterId')], lengths: [9, 10], invalid: [u('login.badLength')], then: 'identifying', back: 'cancelled' }),
    identifying: {
      invoke: {
        src: 'identify',
        input: ({ event }) => ({ entry: digitsOf(event) }),
        onDone: { target: 'enterPin', actions: assign({ candidate: ({ event }) => event.output }) },
      },
    },
    enterPin: digitEntry({ prompt: [u('login.enterPin')], lengths: null, then: 'checking', back: 'cancelled' }),
    // `*` goes back to the menu the caller came from.
    cancelled: {
      always: [
        { guard: ({ context }) => context.intent === 'changePin', target: '#line.pinHelp.menu', actions: 'forgetCandidate' },
        { target: '#line.mainMenu', actions: 'forgetCandidate' },
      ],
    },
    checking: {
      invoke: {
        src: 'login',
        input: ({ context, event }) => ({ candidate: context.candidate, pin: digitsOf(event) }),
        onDone: [
          {
            guard: ({ event }) => event.output.ok,
            target: 'verified',
            actions: assign({ participantId: ({ event }) => (event.output.ok ? event.output.participantId : null), candidate: null }),
          },
          {
            guard: ({ event }) => !event.output.ok && event.output.reason === 'locked',
            target: '#line.mainMenu',
            actions: ['forgetCandidate', { type: 'say', params: { lines: [u('login.locked')] } }],
          },
          {
            guard: ({ context }) => context.loginFailures + 1 >= PIN_TRIES_PER_CALL,
            target: '#line.mainMenu',
            actions: ['forgetCandidate', assign({ loginFailures: ({ context }) => context.loginFailures + 1 }), { type: 'say', params: { lines: [u('login.mismatch'), u('login.tooMany')] } }],
          },
          {
            target: 'enterId',
            actions: ['forgetCandidate', assign({ loginFailures: ({ context }) => context.loginFailures + 1 }), { type: 'say', params: { lines: [u('login.mismatch'), u('login.tryAgain')] } }],
          },
        ],
      },
    },
    verified: {
      always: [
        { guard: ({ context }) => context.intent === 'changePin', target: '#line.changePin' },
        { target: '#line.account', actions: { type: 'say', params: { lines: [u('login.verified')] } } },
      ],
    },
  },
});

/** The account menu (spec section 5) and its services (spec section 8). */
export const account = lineSetup.createStateConfig({
  initial: 'menu',
  states: {
    menu: menu({
      prompt: [u('account.title'), u('account.options'), navigation],
      speech: 'account',
      options: {
        '1': 'balance',
        '2': 'history',
        '3': 'caseInformation',
        '4': [
          { guard: 'payLimitReached', say: [u('pay.tooMany'), u('account.title'), u('account.options'), navigation] },
          { target: '#line.payment' },
        ],
        '5': 'services',
      },
      back: '#line.mainMenu',
    }),
    services: {
      initial: 'menu',
      states: {
        menu: menu({
          prompt: [u('services.title'), u('services.options'), navigation],
          speech: 'services',
          options: { '1': 'phone', '2': 'forms', '3': 'recurring' },
          back: '#line.account.menu',
        }),
        phone: {
          initial: 'enter',
          states: {
            // A US number: the area code and exchange cannot start with 0 or 1 (NANP).
            enter: digitEntry({ prompt: [u('phone.enter')], lengths: [10], pattern: '^[2-9]\\d{2}[2-9]\\d{6}$', invalid: [u('phone.length')], then: 'confirm', back: '#line.account.services.menu', keep: 'keepPhone' }),
            confirm: menu({
              prompt: (context) => [{ id: 'phone.readBack', values: { number: { kind: 'digits', value: context.pendingPhone ?? '' } } }, u('phone.confirmKeys')],
              options: { '1': 'saving', '2': 'enter' },
              back: '#line.account.services.menu',
            }),
            saving: {
              invoke: {
                src: 'updatePhone',
                input: ({ context }) => ({ participantId: loggedInAs(context), phone: context.pendingPhone ?? '' }),
                onDone: [
                  { guard: ({ event }) => event.output, target: '#line.account.services.menu', actions: [assign({ pendingPhone: null }), { type: 'say', params: { lines: [u('phone.saved')] } }] },
                  { target: 'enter', actions: [assign({ pendingPhone: null }), { type: 'say', params: { lines: [u('phone.length')] } }] },
                ],
              },
            },
          },
        },
        forms: menu({
          prompt: [u('forms.options'), navigation],
          speech: 'forms',
          options: {
            '1': { target: 'queuing', assign: { form: 'change-of-address' } },
            '2': { target: 'queuing', assign: { form: 'recurring-payment-registration' } },
            '3': { target: 'queuing', assign: { form: 'payment-coupons' } },
          },
          back: 'menu',
        }),
        recurring: menu({
          prompt: [u('recurring.info'), u('recurring.offer'), navigation],
          speech: 'recurring',
          options: { '1': { target: 'queuing', assign: { form: 'recurring-payment-registration' } } },
          back: 'menu',
        }),
        queuing: {
          invoke: {
            src: 'requestForm',
            input: ({ context }) => ({ participantId: loggedInAs(context), form: context.form ?? 'change-of-address' }),
            onDone: {
              target: 'menu',
              actions: {
                type: 'say',
                params: ({ event }) => ({ lines: [{ id: 'forms.queued', values: { city: { kind: 'name', value: event.output.city }, zip: { kind: 'digits', value: event.output.zip } } }] }),
              },
            },
          },
        },
      },
    },
    balance: {
      initial: 'loading',
      states: {
        loading: {
          invoke: {
            src: 'balances',
            input: ({ context }) => ({ participantId: loggedInAs(context) }),
            onDone: { target: 'heard', actions: { type: 'say', params: ({ event }) => ({ lines: balanceReadout(event.output) }) } },
          },
        },
        heard: menu({ prompt: [navigation], back: '#line.account.menu', repeat: 'loading', speech: 'navigation' }),
      },
    },
    history: {
      initial: 'loading',
      entry: assign({ historyPage: 0 }),
      states: {
        loading: {
          invoke: {
            src: 'history',
            input: ({ context }) => ({ participantId: loggedInAs(context) }),
            onDone: {
              target: 'heard',
              actions: [
                assign({ historyHasMore: ({ context, event }) => historyPage(event.output, context.historyPage).hasMore }),
                { type: 'say', params: ({ context, event }) => ({ lines: historyPage(event.output, context.historyPage).lines }) },
              ],
            },
          },
        },
        heard: menu({
          prompt: (context) => (context.historyHasMore ? [u('history.more'), navigation] : [navigation]),
          options: {
            '1': { guard: 'historyHasMore', target: 'loading', then: 'nextHistoryPage' },
          },
          back: '#line.account.menu',
          repeat: 'loading',
          speech: 'history',
        }),
      },
    },
    caseInformation: {
      initial: 'loading',
      states: {
        loading: {
          invoke: {
            src: 'caseInformation',
            input: ({ context }) => ({ participantId: loggedInAs(context) }),
            onDone: { target: 'heard', actions: { type: 'say', params: ({ event }) => ({ lines: caseInformationReadout(event.output) }) } },
          },
        },
        heard: menu({ prompt: [navigation], back: '#line.account.menu', repeat: 'loading', speech: 'navigation' }),
      },
    },
  },
});
