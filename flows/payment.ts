// Main menu 2 and account menu 4: a one-time card payment through Twilio <Pay> (spec section 6).
import { assign } from 'xstate';
import type { CardPayment, Quote } from '../src/domain/payments.ts';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import type { Utterance } from '../prompts/speak.ts';
import { MAX_PAY_ATTEMPTS, MAX_STRIKES, digitEntry, digitsOf, lineSetup, loggedInAs, menu, u, type LineContext } from './setup.ts';
export type PayRequest = { caseNumber: string; chargeCents: number; amountCents: number };

export function payRequestOf(context: LineContext): PayRequest | null {
  const chosen = context.payCases[context.payCase];
  if (!chosen || !context.payQuote) return null;
  return { caseNumber: chosen.caseNumber, chargeCents: context.payQuote.charge, amountCents: context.payQuote.amount };
}

const payCaseEnding = (context: LineContext) => ({ kind: 'digits' as const, value: (context.payCases[context.payCase]?.caseNumber ?? '').slice(-4) });
const money = (cents: number) => ({ kind: 'money' as const, cents });
const backFromPayment = [{ guard: 'loggedIn' as const, target: '#line.account.menu' }, { target: '#line.mainMenu' }];
const receiptLines = (context: LineContext): Utterance[] => {
  const receipt = context.payReceipt;
  if (!receipt) return [];
  return [
    { id: 'pay.confirmation', values: { code: { kind: 'digits', value: receipt.confirmationCode } } },
    { id: 'pay.credited', values: { date: { kind: 'date', at: receipt.receivedAt } } },
  ];
};


/** Who pays, on which case, how much, then <Pay>, the receipt, or another try. */
export const payment = lineSetup.createStateConfig({
  initial: 'start',
  entry: assign({ payQuote: null, amountProblems: 0, payReceipt: null }),
  states: {
    start: {
      always: [
        { guard: 'loggedIn', target: 'loading', actions: assign({ payerId: ({ context }) => context.participantId }) },
        { guard: 'payIdLimitReached', target: '#line.mainMenu', actions: { type: 'say', params: { lines: [u('forgot.limitThisCall')] } } },
        { target: 'enterId', actions: { type: 'say', params: { lines: [u('pay.intro')] } } },
      ],
    },
    enterId: digitEntry({ prompt: [u('forgot.enterId')], lengths: [10], invalid: [u('forgot.idLength')], then: 'identifying', back: '#line.mainMenu' }),
    identifying: {
      invoke: {
        src: 'identify',
        input: ({ event }) => ({ entry: digitsOf(event) }),
        onDone: { target: 'enterSsn', actions: assign({ candidate: ({ event }) => event.output }) },
      },
    },
    enterSsn: digitEntry({ prompt: [u('forgot.enterSsn')], lengths: [9], invalid: [u('forgot.ssnLength')], then: 'verifying', back: '#line.mainMenu' }),
    verifying: {
      invoke: {
        src: 'verifyIdentity',
        input: ({ context, event }) => ({ candidate: context.candidate, ssn: digitsOf(event) }),
        onDone: [
          { guard: ({ event }) => event.output !== null, target: 'loading', actions: [assign({ payerId: ({ event }) => event.output }), 'forgetCandidate'] },
          {
            guard: ({ context }) => context.payIdFailures + 1 >= PIN_TRIES_PER_CALL,
            target: '#line.mainMenu',
            actions: ['forgetCandidate', assign({ payIdFailures: ({ context }) => context.payIdFailures + 1 }), { type: 'say', params: { lines: [u('forgot.mismatch'), u('forgot.tooMany')] } }],
          },
          {
            target: 'enterId',
            actions: ['forgetCandidate', assign({ payIdFailures: ({ context }) => context.payIdFailures + 1 }), { type: 'say', params: { lines: [u('forgot.mismatch'), u('login.tryAgain')] } }],
          },
        ],
      },
    },
    loading: {
      invoke: {
        src: 'payableCases',
        input: ({ context }) => ({ participantId: context.payerId ?? loggedInAs(context) }),
        onDone: [
          {
            guard: ({ event }) => !event.output.ok,
            target: 'leaving',
            actions: { type: 'say', params: ({ event }) => ({ lines: [u(!event.output.ok && event.output.reason === 'receiving-only' ? 'pay.receivingOnly' : 'pay.noOpenCase')] }) },
          },
          {
            guard: ({ event }) => event.output.ok && event.output.cases.length === 1,
            target: 'amount',
            actions: assign({ payCases: ({ event }) => (event.output.ok ? event.output.cases : []), payCase: 0 }),
          },
          { target: 'choose', actions: assign({ payCases: ({ event }) => (event.output.ok ? event.output.cases : []), payCase: 0 }) },
        ],
      },
    },
    leaving: { always: backFromPayment },
    choose: menu({
      prompt: (context) => [
        u('pay.chooseIntro'),
        ...context.payCases.map((c, index): Utterance => ({
          id: 'pay.chooseCase',
          values: { last4: { kind: 'digits', value: c.caseNumber.slice(-4) }, key: { kind: 'number', value: index + 1 } },
        })),
      ],
      pickCase: 'amount',
      back: '#line.payment.leaving',
    }),
    amount: {
      initial: 'enter',
      entry: { type: 'say', params: ({ context }) => ({ lines: [{ id: 'pay.due', values: { last4: payCaseEnding(context), amount: money(context.payCases[context.payCase]?.currentMonthDue ?? 0) } }] }) },
      states: {
        enter: digitEntry({ prompt: [u('pay.enterAmount')], lengths: [1, 2, 3, 4, 5, 6, 7, 8, 9], then: 'quoting', back: '#line.payment.leaving' }),
        quoting: {
          invoke: {
            src: 'quote',
            input: ({ event }) => ({ amount: digitsOf(event) }),
            onDone: [
              { guard: ({ event }) => event.output.ok, target: '#line.payment.confirm', actions: assign({ payQuote: ({ event }) => (event.output.ok ? { amount: event.output.amount, fee: event.output.fee, charge: event.output.charge } : null) }) },
              {
                guard: ({ context }) => context.amountProblems + 1 >= MAX_STRIKES,
                target: '#line.payment.leaving',
                actions: { type: 'say', params: ({ event }) => ({ lines: [...amountProblem(event.output), u('pay.amountTooMany')] }) },
              },
              {
                target: 'enter',
                actions: [assign({ amountProblems: ({ context }) => context.amountProblems + 1 }), { type: 'say', params: ({ event }) => ({ lines: amountProblem(event.output) }) }],
              },
            ],
          },
        },
      },
    },
    confirm: menu({
      prompt: (context) => [
        { id: 'pay.confirm', values: { amount: money(context.payQuote?.amount ?? 0), last4: payCaseEnding(context) } },
        ...(context.payQuote && context.payQuote.fee > 0 ? [{ id: 'pay.fee' as const, values: { fee: money(context.payQuote.fee), charge: money(context.payQuote.charge) } }] : []),
        u('pay.confirmKeys'),
      ],
      options: { '1': { target: 'paying', say: [u('pay.cardNext')] }, '2': 'amount' },
      back: '#line.payment.leaving',
    }),
    paying: {
      meta: { wait: { input: 'pay' } },
      on: {
        payResult: [
          { guard: ({ event }) => event.result === 'success', target: 'recording' },
          // The caller is gone: nothing to say, nothing recorded.
          { guard: ({ event }) => event.result === 'caller-hung-up', target: '#line.ended' },
          {
            guard: ({ context }) => context.payAttempts + 1 >= MAX_PAY_ATTEMPTS,
            target: 'leaving',
            actions: [assign({ payAttempts: ({ context }) => context.payAttempts + 1 }), { type: 'say', params: { lines: [u('pay.failed'), u('pay.tooMany')] } }],
          },
          { target: 'failed', actions: [assign({ payAttempts: ({ context }) => context.payAttempts + 1 }), { type: 'say', params: { lines: [u('pay.failed')] } }] },
        ],
      },
    },
    recording: {
      invoke: {
        src: 'recordPayment',
        input: ({ context, event }) => {
          const request = payRequestOf(context);
          if (!request || event.type !== 'payResult') throw new Error('a payment result arrived without a payment in progress');
          return {
            caseNumber: request.caseNumber as CardPayment['caseNumber'], amount: request.amountCents as CardPayment['amount'],
            confirmationCode: event.confirmationCode, last4: event.last4,
          };
        },
        onDone: {
          target: 'receipt',
          actions: [
            assign({ payAttempts: ({ context }) => context.payAttempts + 1, payReceipt: ({ event }) => ({ amount: event.output.amount, confirmationCode: event.output.confirmationCode, receivedAt: event.output.receivedAt }) }),
            {
              type: 'say',
              params: ({ event }) => ({
                lines: [{ id: 'pay.approved', values: { amount: money(event.output.amount), last4: { kind: 'digits', value: event.output.last4 } } }],
              }),
            },
          ],
        },
      },
    },
    receipt: menu({
      prompt: (context) => [...receiptLines(context), u('pay.receiptKeys')],
      options: { '1': { say: (context) => [...receiptLines(context), u('pay.receiptKeys')] } },
      back: '#line.payment.leaving',
    }),
    failed: menu({
      prompt: [u('pay.retryKeys')],
      options: { '1': { target: 'paying', say: [u('pay.cardNext')] } },
      back: '#line.payment.leaving',
    }),
  },
});

function amountProblem(quote: Quote): Utterance[] {
  if (quote.ok) return [];
  return [{ id: quote.reason === 'below-minimum' ? 'pay.belowMinimum' : 'pay.aboveMaximum', values: { amount: { kind: 'money', cents: quote.limit } } }];
}

