// Main menu 1: who the caller is (ID or SSN, then PIN), and what they can hear and change about
// their own cases once they have proved it.
import { assign } from 'xstate';
import { PROVE_IDENTITY_START, proveIdentity } from './identity.ts';
import { balanceReadout, caseInformationReadout, historyPage, summaryReadout } from './readouts.ts';
import { failedWith, whenOk } from './results.ts';
import { LOGIN_TRIES, PAY_ATTEMPTS, PHONE_UPDATES, count, digitEntry, intentIs, lineSetup, limitReached, loggedInAs, menu, navigation, readout, say, u } from './setup.ts';
import { to, withId } from './targets.ts';

/** Identification and PIN (spec section 4); also the first step of changing a PIN. */
export const login = withId('login', lineSetup.createStateConfig({
  initial: PROVE_IDENTITY_START,
  states: {
    ...proveIdentity({
      verifier: 'login',
      id: { prompt: [u('login.enterId')], lengths: [9, 10], invalid: [u('login.badLength')] },
      secret: { prompt: [u('login.enterPin')], lengths: null },
      tries: LOGIN_TRIES,
      mismatch: [u('login.mismatch')],
      tooMany: [u('login.tooMany')],
      proved: { target: 'verified', keep: (verdict) => ({ participantId: verdict.participantId }) },
      refused: {},
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
          { target: to('payment'), assign: { payFrom: 'account' } },
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
          options: {
            '1': [
              { guard: limitReached(PHONE_UPDATES), say: [u('phone.limitCall'), u('services.title'), u('services.options'), navigation] },
              { target: 'phone' },
            ],
            '2': 'forms',
            '3': 'recurring',
          },
          back: to('accountMenu'),
        })),
        phone: {
          initial: 'onFile',
          states: {
            // The number on file first, last four digits only, so the caller knows whether it needs changing.
            onFile: {
              invoke: {
                src: 'phoneEnding',
                input: ({ context }) => ({ participantId: loggedInAs(context) }),
                onDone: [
                  { guard: ({ event }) => event.output === null, target: 'enter', actions: say([u('phone.noneOnFile')]) },
                  { target: 'enter', actions: { type: 'say', params: ({ event }) => ({ lines: [{ id: 'phone.onFile', values: { last4: { kind: 'digits', value: event.output ?? '' } } }] }) } },
                ],
              },
            },
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
                  { guard: whenOk(), target: to('servicesMenu'), actions: [assign({ pendingPhone: null }), count(PHONE_UPDATES), say([u('phone.saved')])] },
                  { guard: failedWith('daily-limit'), target: to('servicesMenu'), actions: [assign({ pendingPhone: null }), say([u('phone.limitToday')])] },
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
