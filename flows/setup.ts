// The line's shared vocabulary: its context and events, the named actions, guards and actors,
// the per-call limits, and the builders every menu uses (menu, digitEntry, readout). The menus
// themselves are in line.ts (the machine), account.ts, pin.ts and payment.ts; identity.ts builds
// "prove who you are" for them.
import { and, assign, emit, fromPromise, setup } from 'xstate';
import type { Utterance, Language } from '../prompts/speak.ts';
import type { AccountSummary, BalanceReport, CaseInformation, ForgotPinResult, HistoryItem, IdentityCheck, LoginResult, ProposedPin } from '../src/domain/accounts.ts';
import type { CallerKey } from '../src/domain/identification.ts';
import type { CardPayment, Payable, PayableCase, Quote, Receipt } from '../src/domain/payments.ts';
import type { FormQueued, PhoneUpdated } from '../src/domain/services.ts';
import type { MailedForm } from '../src/domain/outbox.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { representativesAvailable } from '../src/domain/hours.ts';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import type { VocabularyId } from '../prompts/speech.ts';
import { UNMATCHED_SPEECH, type CallerEvent, type StateMeta } from './events.ts';
import { to } from './targets.ts';

/** `caller`: who is calling, as the identification limits count it (a keyed hash of the number, never the number). */
export type LineInput = { language?: Language; resume?: boolean; caller?: CallerKey };

export type LineContext = {
  language: Language;
  /** The calling number as the identification limits count it: a keyed hash, or the withheld budget. */
  caller: CallerKey;
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
  /** Card payment: the menu it was chosen from (where `*` returns), who pays (proved by ID + SSN, or logged in), on which case, how much. */
  payFrom: 'main' | 'account';
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
  /** Phone numbers saved in this call. */
  phoneUpdates: number;
  form: MailedForm | null;
};

/** What the machine says: the engine renders the lines in the caller's language. */
export type Said = { type: 'say'; lines: Utterance[] };

export const u = (id: Utterance['id'], language?: Language): Utterance => (language ? { id, language } : { id });

/** Most failures in a row at one prompt before we stop asking (spec section 3). */
export const MAX_STRIKES = 3;
/** Card payment attempts in one call (spec section 6). */
export const MAX_PAY_ATTEMPTS = 3;

/** What the line counts in a call, each against the most it allows. */
export type Counter = 'strikes' | 'loginFailures' | 'forgotFailures' | 'payIdFailures' | 'pinProblems' | 'amountProblems' | 'payAttempts' | 'phoneUpdates';
export type Limit = { counter: Counter; limit: number };

export const STRIKES = { counter: 'strikes', limit: MAX_STRIKES } as const satisfies Limit;
export const LOGIN_TRIES = { counter: 'loginFailures', limit: PIN_TRIES_PER_CALL } as const satisfies Limit;
export const FORGOT_TRIES = { counter: 'forgotFailures', limit: PIN_TRIES_PER_CALL } as const satisfies Limit;
export const PAY_ID_TRIES = { counter: 'payIdFailures', limit: PIN_TRIES_PER_CALL } as const satisfies Limit;
export const NEW_PIN_TRIES = { counter: 'pinProblems', limit: PIN_TRIES_PER_CALL } as const satisfies Limit;
export const AMOUNT_TRIES = { counter: 'amountProblems', limit: MAX_STRIKES } as const satisfies Limit;
export const PAY_ATTEMPTS = { counter: 'payAttempts', limit: MAX_PAY_ATTEMPTS } as const satisfies Limit;
/** Phone numbers a caller may save in one call: a script changing numbers again and again is refused (spec section 8). */
export const PHONE_UPDATES = { counter: 'phoneUpdates', limit: 2 } as const satisfies Limit;

const provided = (name: string) => async (): Promise<never> => {
  throw new Error(`the ${name} actor is provided by the engine`);
};

export type Prompt = Utterance[] | ((context: LineContext) => Utterance[]);
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
    mayIdentify: fromPromise<boolean, { caller: CallerKey }>(provided('mayIdentify')),
    login: fromPromise<LoginResult, { candidate: ParticipantId | null; pin: string; caller: CallerKey }>(provided('login')),
    summary: fromPromise<AccountSummary, { participantId: ParticipantId }>(provided('summary')),
    balances: fromPromise<BalanceReport, { participantId: ParticipantId }>(provided('balances')),
    history: fromPromise<HistoryItem[], { participantId: ParticipantId }>(provided('history')),
    caseInformation: fromPromise<CaseInformation, { participantId: ParticipantId }>(provided('caseInformation')),
    forgotPin: fromPromise<ForgotPinResult, { candidate: ParticipantId | null; ssn: string; caller: CallerKey }>(provided('forgotPin')),
    proposePin: fromPromise<ProposedPin, { participantId: ParticipantId; pin: string }>(provided('proposePin')),
    confirmPin: fromPromise<boolean, { participantId: ParticipantId; pin: string; digest: string }>(provided('confirmPin')),
    verifyIdentity: fromPromise<IdentityCheck, { candidate: ParticipantId | null; ssn: string; caller: CallerKey }>(provided('verifyIdentity')),
    payableCases: fromPromise<Payable, { participantId: ParticipantId }>(provided('payableCases')),
    quote: fromPromise<Quote, { amount: string }>(provided('quote')),
    // The card's last four digits pass through (never stored) so the receipt can say them.
    recordPayment: fromPromise<Receipt & { last4: string }, CardPayment & { last4: string }>(provided('recordPayment')),
    phoneEnding: fromPromise<string | null, { participantId: ParticipantId }>(provided('phoneEnding')),
    updatePhone: fromPromise<PhoneUpdated, { participantId: ParticipantId; phone: string }>(provided('updatePhone')),
    requestForm: fromPromise<FormQueued, { participantId: ParticipantId; form: MailedForm }>(provided('requestForm')),
  },
  actions: {
    say: emit((_, params: { lines: Utterance[] }) => ({ type: 'say' as const, lines: params.lines })),
    clearStrikes: assign({ strikes: 0 }),
    // A failed attempt: say so and ask again, more helpfully the second time. Before the caller
    // has chosen a language the notice is said in both, and kept short.
    sayRetry: emit(({ context, event }, params: { prompt: Utterance[]; entry?: boolean; invalid?: Utterance[]; bilingual?: boolean }) => {
      const first = context.strikes === 0 || params.bilingual === true;
      let notice: Utterance[];
      if (event.type === 'noInput') notice = [u(params.entry ? (first ? 'entry.noInput' : 'entry.noInputAgain') : first ? 'retry.noInput' : 'retry.noInputAgain')];
      else if (event.type === 'digits' && event.digits === UNMATCHED_SPEECH) notice = [u(first ? 'retry.notUnderstood' : 'retry.notUnderstoodAgain')];
      else notice = params.invalid ?? [u(first ? 'retry.invalid' : 'retry.invalidAgain')];
      if (params.bilingual) notice = notice.flatMap((line) => [{ ...line, language: 'en' as const }, { ...line, language: 'es' as const }]);
      return { type: 'say' as const, lines: [...notice, ...params.prompt] };
    }),
    count: assign(({ context }, params: { counter: Counter }) => {
      const counted: Partial<Record<Counter, number>> = {};
      counted[params.counter] = context[params.counter] + 1;
      return counted;
    }),
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
    /** No tries left in this call. */
    limitReached: ({ context }, params: Limit) => context[params.counter] >= params.limit,
    /** The failure being handled is the last the limit allows (it is counted in the same step). */
    lastTry: ({ context }, params: Limit) => context[params.counter] + 1 >= params.limit,
    representativesAvailable: () => representativesAvailable(new Date()),
    resumed: ({ context }) => context.resumed,
    loggedIn: ({ context }) => context.participantId !== null,
    paymentFromAccount: ({ context }) => context.payFrom === 'account',
    intentIs: ({ context }, params: { intent: LineContext['intent'] }) => context.intent === params.intent,
    historyHasMore: ({ context }) => context.historyHasMore,
    casePicked: ({ context, event }) => event.type === 'digits' && /^[1-9]$/.test(event.digits) && Number(event.digits) <= context.payCases.length,
    dialAnswered: ({ event }) => event.type === 'dialEnded' && (event.status === 'completed' || event.status === 'answered'),
  },
});

export const limitReached = (limit: Limit) => ({ type: 'limitReached' as const, params: limit });
export const lastTry = (limit: Limit) => ({ type: 'lastTry' as const, params: limit });
export const count = (limit: Limit) => ({ type: 'count' as const, params: { counter: limit.counter } });
export const intentIs = (intent: LineContext['intent']) => ({ type: 'intentIs' as const, params: { intent } });
export const say = (lines: Utterance[]) => ({ type: 'say' as const, params: { lines } });

/** The guards a menu option or a way out may name. */
export type LineGuard =
  | 'loggedIn' | 'paymentFromAccount' | 'historyHasMore' | 'representativesAvailable'
  | ReturnType<typeof limitReached> | ReturnType<typeof intentIs>;

/** A way out: the first exit whose guard passes. */
export type Exit = { guard?: LineGuard; target: string };
export type Way = string | readonly Exit[];
export const exitsOf = (way: Way): readonly Exit[] => (typeof way === 'string' ? [{ target: way }] : way);
// and() types its guards only when each is a name or each an object: make every one an object.
export const guardObject = (guard: LineGuard) => (typeof guard === 'string' ? { type: guard } : guard);

export type LineStateConfig = Parameters<typeof lineSetup.createStateConfig>[0];

/** What an invoked actor's onDone transitions are handed: the context and the actor's answer. */
export type Answered<Output> = { context: LineContext; event: { output: Output } };
type AnswerAction<Output> =
  | 'forgetCandidate'
  | ReturnType<typeof count>
  | { type: 'say'; params: { lines: Utterance[] } | ((answered: Answered<Output>) => { lines: Utterance[] }) }
  | { type: 'update'; params: Partial<LineContext> | ((answered: Answered<Output>) => Partial<LineContext>) };
/** An onDone transition, built before it knows which actor it answers (the builders' registries place it). */
export type AnswerTransition<Output> = {
  guard?: ((answered: Answered<Output>) => boolean) | ReturnType<typeof lastTry>;
  target: string;
  actions: readonly AnswerAction<Output>[];
};

type Choice = { target?: string; guard?: LineGuard; say?: Prompt; assign?: Partial<LineContext>; then?: 'nextHistoryPage' };
type Option = string | Choice | readonly Choice[];

const sayLines = (prompt: Prompt) => ({ type: 'say' as const, params: ({ context }: { context: LineContext }) => ({ lines: linesOf(prompt, context) }) });
const pressed = (key: string) => ({ type: 'pressed' as const, params: { key } });

function choiceActions(choice: Choice) {
  return [
    ...(choice.assign ? [{ type: 'update' as const, params: choice.assign }] : []),
    ...(choice.then ? [choice.then] : []),
    ...(choice.say ? [sayLines(choice.say)] : []),
  ];
}

/** The transitions of an option, each guarded by `when` (a key) and its own guard. */
function optionTransitions(option: Option, when: ReturnType<typeof pressed> | null) {
  const choices: readonly Choice[] = typeof option === 'string' ? [{ target: option }] : Array.isArray(option) ? option : [option as Choice];
  return choices.map((choice) => {
    const guard = when && choice.guard ? and([when, guardObject(choice.guard)]) : (when ?? choice.guard);
    return {
      ...(guard ? { guard } : {}),
      ...(choice.target ? { target: choice.target } : {}),
      actions: choice.target ? choiceActions(choice) : ['clearStrikes' as const, ...choiceActions(choice)],
    };
  });
}

export type MenuSpec = {
  prompt: Prompt;
  options?: Record<string, Option>;
  /** Where `*` goes. Without it `*` repeats the menu (the main menu); `false`: `*` is a wrong key (nothing to go back to). */
  back?: string | false;
  /** A state to go back through for 9 (a readout fetched again); without it 9 says the prompt again. */
  repeat?: string;
  /** A choice among the cases read to the caller ("for the case ending in 3456, press 1") leads there. */
  pickCase?: string;
  speech?: VocabularyId;
  /** Said once, on entry, before the prompt (not on a repeat). */
  intro?: Utterance[];
  /** What silence does, instead of counting as a failure. */
  silence?: Option;
  /** Before the caller has chosen a language: retry notices in English and Spanish. */
  notices?: 'bilingual';
};

/**
 * A menu: says its prompt on entry, dispatches keys by a table, and handles the keys that
 * work everywhere (0 representative, 9 repeat, * back) and the no-input / wrong-key path.
 */
export function menu(spec: MenuSpec) {
  const { prompt, options = {}, back, repeat, pickCase, speech, intro = [], silence, notices } = spec;
  const picked = pickCase ? [{ guard: 'casePicked' as const, target: pickCase, actions: ['pickCase' as const] }] : [];
  const again = sayLines(prompt);
  const chosen = Object.entries(options).flatMap(([key, option]) => optionTransitions(option, pressed(key)));
  const star =
    back === false ? [] : back ? [{ guard: pressed('*'), target: back }] : [{ guard: pressed('*'), actions: ['clearStrikes' as const, again] }];
  const failed = [
    { guard: lastTry(STRIKES), target: to('gaveUp') },
    {
      actions: [
        { type: 'sayRetry' as const, params: ({ context }: { context: LineContext }) => ({ prompt: linesOf(prompt, context), bilingual: notices === 'bilingual' }) },
        count(STRIKES),
      ],
    },
  ];
  return lineSetup.createStateConfig({
    meta: { wait: speech ? { input: 'menu', vocabulary: speech } : { input: 'menu' } },
    entry: ['clearStrikes', sayLines((context) => [...intro, ...linesOf(prompt, context)])],
    on: {
      digits: [
        ...picked,
        ...chosen,
        repeat ? { guard: pressed('9'), target: repeat } : { guard: pressed('9'), actions: ['clearStrikes', again] },
        ...star,
        { guard: and([pressed('0'), 'representativesAvailable']), target: to('transfer') },
        { guard: pressed('0'), actions: ['clearStrikes', sayLines([u('agent.closed'), u('hours.representatives')]), again] },
        ...failed,
      ],
      noInput: silence ? optionTransitions(silence, null) : failed,
    },
  });
}

/**
 * A digit entry finished with #: `*` anywhere in it goes `back` (`onBack` on the way), an entry
 * of an accepted length moves on to `then` (whose invoke reads the digits from the event, so
 * they are never stored).
 */
export function digitEntry(spec: {
  prompt: Utterance[]; lengths: readonly number[] | null; pattern?: string; invalid?: Utterance[];
  then: string; back: Way; keep?: 'keepPhone'; onBack?: 'forgetCandidate';
}) {
  const { prompt, lengths, pattern, invalid, then, back, keep, onBack } = spec;
  const failed = [
    { guard: lastTry(STRIKES), target: to('gaveUp') },
    { actions: [{ type: 'sayRetry' as const, params: { prompt, entry: true, ...(invalid ? { invalid } : {}) } }, count(STRIKES)] },
  ];
  const cancelled = exitsOf(back).map((exit) => ({
    guard: exit.guard ? and([{ type: 'cancelled' as const }, guardObject(exit.guard)]) : ('cancelled' as const),
    target: exit.target,
    actions: onBack ? [onBack] : [],
  }));
  return lineSetup.createStateConfig({
    meta: { wait: { input: 'digits', maxLength: lengths ? Math.max(...lengths) : 20 } },
    entry: ['clearStrikes', sayLines(prompt)],
    on: {
      digits: [
        ...cancelled,
        { guard: { type: 'digitCount', params: pattern ? { lengths, pattern } : { lengths } }, target: then, actions: keep ? [keep] : [] },
        ...failed,
      ],
      noInput: failed,
    },
  });
}

/** What each actor a readout may ask answers. */
type Readable = { balances: BalanceReport; history: HistoryItem[]; caseInformation: CaseInformation };
const forLoggedIn = ({ context }: { context: LineContext }) => ({ participantId: loggedInAs(context) });
const READERS: { [Actor in keyof Readable]: (onDone: AnswerTransition<Readable[Actor]>) => LineStateConfig } = {
  balances: (onDone) => lineSetup.createStateConfig({ invoke: { src: 'balances', input: forLoggedIn, onDone } }),
  history: (onDone) => lineSetup.createStateConfig({ invoke: { src: 'history', input: forLoggedIn, onDone } }),
  caseInformation: (onDone) => lineSetup.createStateConfig({ invoke: { src: 'caseInformation', input: forLoggedIn, onDone } }),
};

/**
 * A readout for the logged-in caller: `loading` asks the actor and says what `say` (pure) makes
 * of the answer, then `heard` is a menu where 9 asks again and * goes `back`. `keep` stores what
 * the menu needs from the answer; `start` is set on the way in (not on a repeat).
 */
export function readout<Actor extends keyof Readable>(spec: {
  actor: Actor;
  say: (answer: Readable[Actor], context: LineContext) => Utterance[];
  keep?: (answer: Readable[Actor], context: LineContext) => Partial<LineContext>;
  start?: Partial<LineContext>;
  back: string;
  prompt?: Prompt;
  options?: Record<string, Option>;
  speech?: VocabularyId;
}) {
  const { actor, say: readOut, keep, start, back, prompt = [navigation], options, speech = 'navigation' } = spec;
  const heard: AnswerTransition<Readable[Actor]> = {
    target: 'heard',
    actions: [
      ...(keep ? [{ type: 'update' as const, params: ({ context, event }: Answered<Readable[Actor]>) => keep(event.output, context) }] : []),
      { type: 'say', params: ({ context, event }: Answered<Readable[Actor]>) => ({ lines: readOut(event.output, context) }) },
    ],
  };
  return lineSetup.createStateConfig({
    initial: 'loading',
    ...(start ? { entry: { type: 'update' as const, params: start } } : {}),
    states: {
      loading: READERS[actor](heard),
      heard: menu({ prompt, back, repeat: 'loading', speech, ...(options ? { options } : {}) }),
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

