// Main menu 2 and account menu 4: a one-time card payment through Twilio <Pay> (spec section 6).
import { assign } from 'xstate';
import type { CardPayment, Quote } from '../src/domain/payments.ts';
import type { Utterance } from '../prompts/speak.ts';
import { PROVE_IDENTITY_START, proveIdentity } from './identity.ts';
import { failedWith, okOf, whenOk } from './results.ts';
import {
  AMOUNT_TRIES, PAY_ATTEMPTS, PAY_ID_TRIES, count, digitEntry, digitsOf, lastTry, limitReached, lineSetup, loggedInAs, menu, say, u,
  type Exit, type LineContext,
} from './setup.ts';
import { to, withId } from './targets.ts';
export type PayRequest = { caseNumber: string; chargeCents: number; amountCents: number };

export function payRequestOf(context: LineContext): PayRequest | null {
  const chosen = context.payCases[context.payCase];
  if (!chosen || !context.payQuote) return null;
  return { caseNumber: chosen.caseNumber, chargeCents: context.payQuote.charge, amountCents: context.payQuote.amount };
}

const payCaseEnding = (context: LineContext) => ({ kind: 'digits' as const, value: (context.payCases[context.payCase]?.caseNumber ?? '').slice(-4) });
const money = (cents: number) => ({ kind: 'money' as const, cents });
// `*` (or nothing to pay) goes back to the menu the payment was chosen from (spec section 2).
const backFromPayment: readonly Exit[] = [{ guard: 'paymentFromAccount', target: to('accountMenu') }, { target: to('mainMenu') }];
const receiptLines = (context: LineContext): Utterance[] => {
  const receipt = context.payReceipt;
  if (!receipt) return [];
  return [
    { id: 'pay.confirmation', values: { code: { kind: 'digits', value: receipt.confirmationCode } } },
    { id: 'pay.credited', values: { date: { kind: 'date', at: receipt.receivedAt } } },
  ];
};


/** Who pays, on which case, how much, then <Pay>, the receipt, or another try. */
export const payment = withId('payment', lineSetup.createStateConfig({
  initial: 'start',
  entry: assign({ payQuote: null, amountProblems: 0, payReceipt: null }),
  states: {
    start: {
      always: [
        { guard: 'loggedIn', target: 'loading', actions: assign({ payerId: ({ context }) => context.participantId }) },
        { guard: limitReached(PAY_ID_TRIES), target: to('mainMenu'), actions: say([u('forgot.limitThisCall')]) },
        { target: PROVE_IDENTITY_START, actions: say([u('pay.intro')]) },
      ],
    },
    ...proveIdentity({
      verifier: 'verifyIdentity',
      id: { prompt: [u('forgot.enterId')], lengths: [10], invalid: [u('forgot.idLength')] },
      secret: { prompt: [u('forgot.enterSsn')], lengths: [9], invalid: [u('forgot.ssnLength')] },
      tries: PAY_ID_TRIES,
      mismatch: [u('forgot.mismatch')],
      tooMany: [u('forgot.tooMany')],
      proved: { target: 'loading', keep: (verdict) => ({ payerId: verdict.participantId }) },
      refused: {},
      cancel: to('mainMenu'),
    }),
    loading: {
      invoke: {
        src: 'payableCases',
        input: ({ context }) => ({ participantId: context.payerId ?? loggedInAs(context) }),
        onDone: [
          { guard: failedWith('receiving-only'), target: 'leaving', actions: say([u('pay.receivingOnly')]) },
          { guard: failedWith('no-open-case'), target: 'leaving', actions: say([u('pay.noOpenCase')]) },
          { guard: whenOk((payable) => payable.cases.length === 1), target: 'amount', actions: assign({ payCases: ({ event }) => okOf(event.output).cases, payCase: 0 }) },
          { target: 'choose', actions: assign({ payCases: ({ event }) => okOf(event.output).cases, payCase: 0 }) },
        ],
      },
    },
    leaving: withId('leavePayment', { always: backFromPayment }),
    choose: menu({
      prompt: (context) => [
        u('pay.chooseIntro'),
        ...context.payCases.map((c, index): Utterance => ({
          id: 'pay.chooseCase',
          values: { last4: { kind: 'digits', value: c.caseNumber.slice(-4) }, key: { kind: 'number', value: index + 1 } },
        })),
      ],
      pickCase: 'amount',
      back: to('leavePayment'),
    }),
    amount: {
      initial: 'enter',
      entry: { type: 'say', params: ({ context }) => ({ lines: [{ id: 'pay.due', values: { last4: payCaseEnding(context), amount: money(context.payCases[context.payCase]?.currentMonthDue ?? 0) } }] }) },
      states: {
        enter: digitEntry({ prompt: [u('pay.enterAmount')], lengths: [1, 2, 3, 4, 5, 6, 7, 8, 9], then: 'quoting', back: to('leavePayment') }),
        quoting: {
          invoke: {
            src: 'quote',
            input: ({ event }) => ({ amount: digitsOf(event) }),
            onDone: [
              {
                guard: whenOk(),
                target: to('payConfirm'),
                actions: assign({ payQuote: ({ event }) => { const { amount, fee, charge } = okOf(event.output); return { amount, fee, charge }; } }),
              },
              {
                guard: lastTry(AMOUNT_TRIES),
                target: to('leavePayment'),
                actions: { type: 'say', params: ({ event }) => ({ lines: [...amountProblem(event.output), u('pay.amountTooMany')] }) },
              },
              { target: 'enter', actions: [count(AMOUNT_TRIES), { type: 'say', params: ({ event }) => ({ lines: amountProblem(event.output) }) }] },
            ],
          },
        },
      },
    },
    confirm: withId('payConfirm', menu({
      prompt: (context) => [
        { id: 'pay.confirm', values: { amount: money(context.payQuote?.amount ?? 0), last4: payCaseEnding(context) } },
        ...(context.payQuote && context.payQuote.fee > 0 ? [{ id: 'pay.fee' as const, values: { fee: money(context.payQuote.fee), charge: money(context.payQuote.charge) } }] : []),
        u('pay.confirmKeys'),
      ],
      options: { '1': { target: 'paying', say: [u('pay.cardNext')] }, '2': 'amount' },
      back: to('leavePayment'),
    })),
    paying: {
      meta: { wait: { input: 'pay' } },
      on: {
        payResult: [
          { guard: ({ event }) => event.result === 'success', target: 'recording' },
          // The caller is gone: nothing to say, nothing recorded.
          { guard: ({ event }) => event.result === 'caller-hung-up', target: to('ended') },
          { guard: lastTry(PAY_ATTEMPTS), target: 'leaving', actions: [count(PAY_ATTEMPTS), say([u('pay.failed'), u('pay.tooMany')])] },
          { target: 'failed', actions: [count(PAY_ATTEMPTS), say([u('pay.failed')])] },
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
            confirmationCode: event.confirmationCode, last4: event.last4, ticket: event.ticket,
          };
        },
        onDone: {
          target: 'receipt',
          actions: [
            count(PAY_ATTEMPTS),
            assign({ payReceipt: ({ event }) => ({ amount: event.output.amount, confirmationCode: event.output.confirmationCode, receivedAt: event.output.receivedAt }) }),
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
      back: to('leavePayment'),
    }),
    failed: menu({
      prompt: [u('pay.retryKeys')],
      options: { '1': { target: 'paying', say: [u('pay.cardNext')] } },
      back: to('leavePayment'),
    }),
  },
}));

function amountProblem(quote: Quote): Utterance[] {
  if (quote.ok) return [];
  return [{ id: quote.reason === 'below-minimum' ? 'pay.belowMinimum' : 'pay.aboveMaximum', values: { amount: { kind: 'money', cents: quote.limit } } }];
}

