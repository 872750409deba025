// Main menu 1: who the caller is (ID or SSN, then PIN), and what they can hear and change about
// their own cases once they have proved it.
import { assign } from 'xstate';
import { proveIdentity } from './identity.ts';
import { balanceReadout, caseInformationReadout, historyPage, summaryReadout } from './readouts.ts';
import { LOGIN_TRIES, PAY_ATTEMPTS, digitEntry, intentIs, lineSetup, limitReached, loggedInAs, menu, navigation, readout, say, u } from './setup.ts';
import { to, withId } from './targets.ts';

/** Identification and PIN (spec section 4); also the first step of changing a PIN. */
export const login = withId('login', lineSetup.createStateConfig({
  initial: 'enterId',
  states: {
    ...proveIdentity({
      verifier: 'login',
      id: { prompt: [u('login.enterId')], lengths: [9, 10], invalid: [u('login.badLength')] },
      secret: { prompt: [u('login.enterPin')], lengths: null },
      tries: LOGIN_TRIES,
      mismatch: [u('login.mismatch')],
      tooMany: [u('login.tooMany')],
      proved: { target: 'verified', keep: (verdict) => ({ participantId: verdict.participantId }) },
      refused: { locked: [u('login.locked')] },
      // `*` goes back to the menu the caller came from.
      cancel: [{ guard: intentIs('changePin'), target: to('pinHelpMenu') }, { target: to('mainMenu') }],
    }),
    verified: {
      always: [
        { guard: intentIs('changePin'), target: to('changePin') },
        { target: to('account') },
      ],
    },
  },
}));

/** The account menu (spec section 5) and its services (spec section 8). */
export const account = withId('account', lineSetup.createStateConfig({
  initial: 'summary',
  states: {
    // The answer first: what the caller owes (or last received), then the menu; 1 has the detail.
    summary: {
      invoke: {
        src: 'summary',
        input: ({ context }) => ({ participantId: loggedInAs(context) }),
        onDone: { target: 'menu', actions: { type: 'say', params: ({ event }) => ({ lines: summaryReadout(event.output) }) } },
      },
    },
    menu: withId('accountMenu', menu({
      prompt: [u('account.title'), u('account.options'), navigation],
      speech: 'account',
      options: {
        '1': 'balance',
        '2': 'history',
        '3': 'caseInformation',
        '4': [
          { guard: limitReached(PAY_ATTEMPTS), say: [u('pay.tooMany'), u('account.title'), u('account.options'), navigation] },
          { target: to('payment') },
        ],
        '5': 'services',
      },
      back: to('mainMenu'),
    })),
    services: {
      initial: 'menu',
      states: {
        menu: withId('servicesMenu', menu({
          prompt: [u('services.title'), u('services.options'), navigation],
          speech: 'services',
          options: { '1': 'phone', '2': 'forms', '3': 'recurring' },
          back: to('accountMenu'),
        })),
        phone: {
          initial: 'enter',
          states: {
            // A US number: the area code and exchange cannot start with 0 or 1 (NANP).
            enter: digitEntry({ prompt: [u('phone.enter')], lengths: [10], pattern: '^[2-9]\\d{2}[2-9]\\d{6}$', invalid: [u('phone.length')], then: 'confirm', back: to('servicesMenu'), keep: 'keepPhone' }),
            confirm: menu({
              prompt: (context) => [{ id: 'phone.readBack', values: { number: { kind: 'phone', value: context.pendingPhone ?? '' } } }, u('phone.confirmKeys')],
              options: { '1': 'saving', '2': 'enter' },
              back: to('servicesMenu'),
            }),
            saving: {
              invoke: {
                src: 'updatePhone',
                input: ({ context }) => ({ participantId: loggedInAs(context), phone: context.pendingPhone ?? '' }),
                onDone: [
                  { guard: ({ event }) => event.output, target: to('servicesMenu'), actions: [assign({ pendingPhone: null }), say([u('phone.saved')])] },
                  { target: 'enter', actions: [assign({ pendingPhone: null }), say([u('phone.length')])] },
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
    balance: readout({ actor: 'balances', say: balanceReadout, back: to('accountMenu') }),
    history: readout({
      actor: 'history',
      start: { historyPage: 0 },
      keep: (items, context) => ({ historyHasMore: historyPage(items, context.historyPage).hasMore }),
      say: (items, context) => historyPage(items, context.historyPage).lines,
      prompt: (context) => (context.historyHasMore ? [u('history.more'), navigation] : [navigation]),
      options: { '1': { guard: 'historyHasMore', target: 'loading', then: 'nextHistoryPage' } },
      speech: 'history',
      back: to('accountMenu'),
    }),
    caseInformation: readout({ actor: 'caseInformation', say: caseInformationReadout, back: to('accountMenu') }),
  },
}));
