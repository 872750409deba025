// The line's shared vocabulary: its context and events, the named actions, guards and actors,
// and the two builders every menu uses (menu, digitEntry). The menus themselves are in
// line.ts (the machine), account.ts, pin.ts and payment.ts.
import { and, assign, emit, fromPromise, setup } from 'xstate';
import type { Utterance, Language } from '../prompts/speak.ts';
import type { BalanceReport, CaseInformation, ForgotPinResult, HistoryItem, LoginResult, ProposedPin } from '../src/domain/accounts.ts';
import type { CardPayment, Payable, PayableCase, Quote, Receipt } from '../src/domain/payments.ts';
import type { FormQueued } from '../src/domain/services.ts';
import type { MailedForm } from '../src/domain/outbox.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { representativesAvailable } from '../src/domain/hours.ts';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import type { VocabularyId } from '../prompts/speech.ts';
import { UNMATCHED_SPEECH, type CallerEvent, type StateMeta } from './events.ts';

export type LineInput = { language?: Language; resume?: boolean };

export type LineContext = {
  language: Language;
  /** Failed attempts (no input or a wrong key) in a row at the current prompt. */
  strikes: number;
  /** The call lost its session (expired, or a restart of the in-process store): start at the main menu. */
  resumed: boolean;
  /** The participant the caller proved to be (ID or SSN, then PIN); null until then. */
  participantId: ParticipantId | null;
  /** Who the caller says they are, before proving it; null also when the number matched nobody. */
  candidate: ParticipantId | null;
  /** Where a successful login leads. */
  intent: 'account' | 'changePin';
  loginFailures: number;
  forgotFailures: number;
  pinProblems: number;
  /** A letters-only digest of the new PIN between its two entries (never the PIN). */
  pendingPin: string | null;
  historyPage: number;
  historyHasMore: boolean;
  /** Card payment: who pays (proved by ID + SSN, or logged in), on which case, how much. */
  payerId: ParticipantId | null;
  payIdFailures: number;
  payCases: PayableCase[];
  payCase: number;
  payQuote: { amount: number; fee: number; charge: number } | null;
  amountProblems: number;
  payAttempts: number;
  /** What the receipt repeats; never card data beyond what Twilio masks. */
  payReceipt: { amount: number; confirmationCode: string; receivedAt: string } | null;
  /** A new phone number between its entry and the caller's confirmation (not a secret). */
  pendingPhone: string | null;
  form: MailedForm | null;
};

/** What <Pay> is asked to charge, for the renderer. */
export type Said = { type: 'say'; lines: Utterance[] };

export const u = (id: Utterance['id'], language?: Language): Utterance => (language ? { id, language } : { id });

/** Most failures in a row at one prompt before we stop asking (spec section 3). */
export const MAX_STRIKES = 3;
/** Card payment attempts in one call (spec section 6). */
export const MAX_PAY_ATTEMPTS = 3;

const provided = (name: string) => async (): Promise<never> => {
  throw new Error(`the ${name} actor is provided by the engine`);
};

type Prompt = Utterance[] | ((context: LineContext) => Utterance[]);
const linesOf = (prompt: Prompt, context: LineContext): Utterance[] => (typeof prompt === 'function' ? prompt(context) : prompt);

export const lineSetup = setup({
  types: {
    context: {} as LineContext,
    events: {} as CallerEvent,
    input: {} as LineInput,
    emitted: {} as Said,
    meta: {} as StateMeta,
  },
  actors: {
    identify: fromPromise<ParticipantId | null, { entry: string }>(provided('identify')),
    login: fromPromise<LoginResult, { candidate: ParticipantId | null; pin: string }>(provided('login')),
    balances: fromPromise<BalanceReport, { participantId: ParticipantId }>(provided('balances')),
    history: fromPromise<HistoryItem[], { participantId: ParticipantId }>(provided('history')),
    caseInformation: fromPromise<CaseInformation, { participantId: ParticipantId }>(provided('caseInformation')),
    forgotPin: fromPromise<ForgotPinResult, { candidate: ParticipantId | null; ssn: string }>(provided('forgotPin')),
    proposePin: fromPromise<ProposedPin, { participantId: ParticipantId; pin: string }>(provided('proposePin')),
    confirmPin: fromPromise<boolean, { participantId: ParticipantId; pin: string; digest: string }>(provided('confirmPin')),
    verifyIdentity: fromPromise<ParticipantId | null, { candidate: ParticipantId | null; ssn: string }>(provided('verifyIdentity')),
    payableCases: fromPromise<Payable, { participantId: ParticipantId }>(provided('payableCases')),
    quote: fromPromise<Quote, { amount: string }>(provided('quote')),
    // The card's last four digits pass through (never stored) so the receipt can say them.
    recordPayment: fromPromise<Receipt & { last4: string }, CardPayment & { last4: string }>(provided('recordPayment')),
    updatePhone: fromPromise<boolean, { participantId: ParticipantId; phone: string }>(provided('updatePhone')),
    requestForm: fromPromise<FormQueued, { participantId: ParticipantId; form: MailedForm }>(provided('requestForm')),
  },
  actions: {
    say: emit((_, params: { lines: Utterance[] }) => ({ type: 'say' as const, lines: params.lines })),
    setLanguage: assign((_, params: { language: Language }) => ({ language: params.language })),
    clearStrikes: assign({ strikes: 0 }),
    welcome: emit({ type: 'say', lines: [u('confidentiality')] }),
    // A failed attempt: say so and ask again, more helpfully the second time; then count it.
    sayRetry: emit(({ context, event }, params: { prompt: Utterance[]; entry?: boolean; invalid?: Utterance[] }) => {
      const first = context.strikes === 0;
      let notice: Utterance[];
      if (event.type === 'noInput') notice = [u(params.entry ? (first ? 'entry.noInput' : 'entry.noInputAgain') : first ? 'retry.noInput' : 'retry.noInputAgain')];
      else if (event.type === 'digits' && event.digits === UNMATCHED_SPEECH) notice = [u(first ? 'retry.notUnderstood' : 'retry.notUnderstoodAgain')];
      else notice = params.invalid ?? [u(first ? 'retry.invalid' : 'retry.invalidAgain')];
      return { type: 'say' as const, lines: [...notice, ...params.prompt] };
    }),
    countStrike: assign({ strikes: ({ context }) => context.strikes + 1 }),
    forgetCandidate: assign({ candidate: null }),
    update: assign((_, params: Partial<LineContext>) => params),
    nextHistoryPage: assign({ historyPage: ({ context }) => context.historyPage + 1 }),
    pickCase: assign({ payCase: ({ event }) => (event.type === 'digits' ? Number(event.digits) - 1 : 0) }),
    keepPhone: assign({ pendingPhone: ({ event }) => (event.type === 'digits' ? event.digits : null) }),
  },
  guards: {
    pressed: ({ event }, params: { key: string }) => event.type === 'digits' && event.digits === params.key,
    cancelled: ({ event }) => event.type === 'digits' && event.digits.includes('*'),
    digitCount: ({ event }, params: { lengths: readonly number[] | null; pattern?: string }) =>
      event.type === 'digits' && /^\d+$/.test(event.digits) && (params.lengths === null || params.lengths.includes(event.digits.length)) &&
      (params.pattern === undefined || new RegExp(params.pattern).test(event.digits)),
    lastStrike: ({ context }) => context.strikes >= MAX_STRIKES - 1,
    representativesAvailable: () => representativesAvailable(new Date()),
    resumed: ({ context }) => context.resumed,
    loggedIn: ({ context }) => context.participantId !== null,
    loginLimitReached: ({ context }) => context.loginFailures >= PIN_TRIES_PER_CALL,
    forgotLimitReached: ({ context }) => context.forgotFailures >= PIN_TRIES_PER_CALL,
    historyHasMore: ({ context }) => context.historyHasMore,
    payIdLimitReached: ({ context }) => context.payIdFailures >= PIN_TRIES_PER_CALL,
    casePicked: ({ context, event }) => event.type === 'digits' && /^[1-9]$/.test(event.digits) && Number(event.digits) <= context.payCases.length,
    payLimitReached: ({ context }) => context.payAttempts >= MAX_PAY_ATTEMPTS,
    dialAnswered: ({ event }) => event.type === 'dialEnded' && (event.status === 'completed' || event.status === 'answered'),
  },
});

type GuardName = 'loggedIn' | 'loginLimitReached' | 'forgotLimitReached' | 'historyHasMore' | 'payIdLimitReached' | 'payLimitReached' | 'representativesAvailable';
type Choice = { target?: string; guard?: GuardName; say?: Prompt; assign?: Partial<LineContext>; then?: 'nextHistoryPage' };
type Option = string | Choice | Choice[];

const sayLines = (prompt: Prompt) => ({ type: 'say' as const, params: ({ context }: { context: LineContext }) => ({ lines: linesOf(prompt, context) }) });

function choiceActions(choice: Choice) {
  return [
    ...(choice.assign ? [{ type: 'update' as const, params: choice.assign }] : []),
    ...(choice.then ? [choice.then] : []),
    ...(choice.say ? [sayLines(choice.say)] : []),
  ];
}

/**
 * A menu: says its prompt on entry, dispatches keys by a table, and handles the keys that
 * work everywhere (0 representative, 9 repeat, * back) and the no-input / wrong-key path.
 * `repeat` names a state to go back through for 9 (a readout fetched again), `back` the state for *.
 */
export function menu(spec: { prompt: Prompt; options?: Record<string, Option>; back?: string; repeat?: string; pickCase?: string; speech?: VocabularyId }) {
  const { prompt, options = {}, back, repeat, pickCase, speech } = spec;
  // A choice among the cases read to the caller ("for the case ending in 3456, press 1").
  const picked = pickCase ? [{ guard: 'casePicked' as const, target: pickCase, actions: ['pickCase' as const] }] : [];
  const again = sayLines(prompt);
  const chosen = Object.entries(options).flatMap(([key, option]) => {
    const choices = typeof option === 'string' ? [{ target: option }] : Array.isArray(option) ? option : [option];
    const pressed = { type: 'pressed' as const, params: { key } };
    return choices.map((choice) => ({
      guard: choice.guard ? and([pressed, choice.guard]) : pressed,
      ...(choice.target ? { target: choice.target } : {}),
      actions: choice.target ? choiceActions(choice) : ['clearStrikes' as const, ...choiceActions(choice)],
    }));
  });
  const failed = [
    { guard: 'lastStrike' as const, target: '#line.gaveUp' },
    { actions: [{ type: 'sayRetry' as const, params: ({ context }: { context: LineContext }) => ({ prompt: linesOf(prompt, context) }) }, 'countStrike' as const] },
  ];
  const pressed = (key: string) => ({ type: 'pressed' as const, params: { key } });
  return lineSetup.createStateConfig({
    meta: { wait: speech ? { input: 'menu', vocabulary: speech } : { input: 'menu' } },
    entry: ['clearStrikes', again],
    on: {
      digits: [
        ...picked,
        ...chosen,
        repeat ? { guard: pressed('9'), target: repeat } : { guard: pressed('9'), actions: ['clearStrikes', again] },
        back ? { guard: pressed('*'), target: back } : { guard: pressed('*'), actions: ['clearStrikes', again] },
        { guard: and([pressed('0'), 'representativesAvailable']), target: '#line.transfer' },
        { guard: pressed('0'), actions: ['clearStrikes', sayLines([u('agent.closed'), u('hours.representatives')]), again] },
        ...failed,
      ],
      noInput: failed,
    },
  });
}

/**
 * A digit entry finished with #: `*` anywhere in it goes back, an entry of an accepted length
 * moves on to `then` (whose invoke reads the digits from the event, so they are never stored).
 */
export function digitEntry(spec: { prompt: Utterance[]; lengths: readonly number[] | null; pattern?: string; invalid?: Utterance[]; then: string; back: string; keep?: 'keepPhone' }) {
  const { prompt, lengths, pattern, invalid, then, back, keep } = spec;
  const failed = [
    { guard: 'lastStrike' as const, target: '#line.gaveUp' },
    { actions: [{ type: 'sayRetry' as const, params: { prompt, entry: true, ...(invalid ? { invalid } : {}) } }, 'countStrike' as const] },
  ];
  return lineSetup.createStateConfig({
    meta: { wait: { input: 'digits', maxLength: lengths ? Math.max(...lengths) : 20 } },
    entry: ['clearStrikes', sayLines(prompt)],
    on: {
      digits: [
        { guard: 'cancelled', target: back },
        { guard: { type: 'digitCount', params: pattern ? { lengths, pattern } : { lengths } }, target: then, actions: keep ? [keep] : [] },
        ...failed,
      ],
      noInput: failed,
    },
  });
}

export const digitsOf = (event: CallerEvent): string => (event.type === 'digits' ? event.digits : '');
export const navigation = u('menu.navigation');
export const languageMenu = [u('language.english', 'en'), u('language.spanish', 'es')];
export const mainPrompt = [u('main.title'), u('main.options'), u('main.agentHint'), u('menu.repeatHint')];
export function loggedInAs(context: LineContext): ParticipantId {
  if (!context.participantId) throw new Error('an account state was reached without a login');
  return context.participantId;
}

