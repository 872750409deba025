// The phone line's menus (spec section 2) as one XState machine. Pure: it says things by
// emitting `say`, asks the domain only through named guards and actors that the engine
// `provide()`s, and marks every state that waits for the caller with `meta.wait`.
// Persisted between webhooks, so it never holds an SSN or a PIN: entered digits go straight
// into an invoked actor's input and are gone once it settles.
import { and, assign, emit, fromPromise, setup } from 'xstate';
import type { Utterance, Language } from '../prompts/speak.ts';
import type { BalanceReport, CaseInformation, ForgotPinResult, HistoryItem, LoginResult, ProposedPin } from '../src/domain/accounts.ts';
import type { CardPayment, Payable, PayableCase, Quote, Receipt } from '../src/domain/payments.ts';
import type { FormQueued } from '../src/domain/services.ts';
import type { MailedForm } from '../src/store/caseload.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { representativesAvailable } from '../src/domain/hours.ts';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import type { VocabularyId } from '../prompts/speech.ts';
import { UNMATCHED_SPEECH, type CallerEvent, type StateMeta } from './events.ts';
import { balanceReadout, caseInformationReadout, historyPage } from './readouts.ts';

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
export type PayRequest = { caseNumber: string; chargeCents: number; amountCents: number };

export function payRequestOf(context: LineContext): PayRequest | null {
  const chosen = context.payCases[context.payCase];
  if (!chosen || !context.payQuote) return null;
  return { caseNumber: chosen.caseNumber, chargeCents: context.payQuote.charge, amountCents: context.payQuote.amount };
}

export type Said = { type: 'say'; lines: Utterance[] };

const u = (id: Utterance['id'], language?: Language): Utterance => (language ? { id, language } : { id });

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
type Choice = { target?: string; guard?: GuardName; say?: Prompt; assign?: Partial<LineContext>; then?: 'nextHistoryPage'; reenter?: boolean };
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
      ...(choice.reenter ? { reenter: true } : {}),
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

const digitsOf = (event: CallerEvent): string => (event.type === 'digits' ? event.digits : '');
const navigation = u('menu.navigation');
const languageMenu = [u('language.english', 'en'), u('language.spanish', 'es')];
const mainPrompt = [u('main.title'), u('main.options'), u('main.agentHint'), u('menu.repeatHint')];
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

function loggedInAs(context: LineContext): ParticipantId {
  if (!context.participantId) throw new Error('an account state was reached without a login');
  return context.participantId;
}

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

    login: {
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
    },

    account: {
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
    },

    pinHelp: {
      initial: 'menu',
      states: {
        menu: menu({
          prompt: [u('pin.title'), u('pin.options'), navigation],
          speech: 'pin',
          options: {
            '1': [
              { guard: 'forgotLimitReached', say: [u('forgot.limitThisCall'), u('pin.title'), u('pin.options'), navigation] },
              { target: 'forgot' },
            ],
            '2': [
              { guard: 'loginLimitReached', say: [u('login.limitThisCall'), u('pin.title'), u('pin.options'), navigation] },
              { target: '#line.login', assign: { intent: 'changePin' }, say: [u('change.intro')] },
            ],
          },
          back: '#line.mainMenu',
        }),
        forgot: {
          initial: 'enterId',
          states: {
            enterId: digitEntry({ prompt: [u('forgot.enterId')], lengths: [10], invalid: [u('forgot.idLength')], then: 'identifying', back: '#line.pinHelp.menu' }),
            identifying: {
              invoke: {
                src: 'identify',
                input: ({ event }) => ({ entry: digitsOf(event) }),
                onDone: { target: 'enterSsn', actions: assign({ candidate: ({ event }) => event.output }) },
              },
            },
            enterSsn: digitEntry({ prompt: [u('forgot.enterSsn')], lengths: [9], invalid: [u('forgot.ssnLength')], then: 'resetting', back: '#line.pinHelp.menu' }),
            resetting: {
              invoke: {
                src: 'forgotPin',
                input: ({ context, event }) => ({ candidate: context.candidate, ssn: digitsOf(event) }),
                onDone: [
                  {
                    guard: ({ event }) => event.output.ok,
                    target: '#line.mainMenu',
                    actions: ['forgetCandidate', { type: 'say', params: { lines: [u('forgot.done'), u('agent.returning')] } }],
                  },
                  {
                    guard: ({ event }) => !event.output.ok && event.output.reason === 'recently-reset',
                    target: '#line.mainMenu',
                    actions: [
                      'forgetCandidate',
                      { type: 'say', params: ({ event }) => ({ lines: [{ id: 'forgot.recent', values: { date: { kind: 'date', at: !event.output.ok && event.output.reason === 'recently-reset' ? event.output.lastResetAt : '' } } }, u('agent.returning')] }) },
                    ],
                  },
                  {
                    guard: ({ context }) => context.forgotFailures + 1 >= PIN_TRIES_PER_CALL,
                    target: '#line.mainMenu',
                    actions: ['forgetCandidate', assign({ forgotFailures: ({ context }) => context.forgotFailures + 1 }), { type: 'say', params: { lines: [u('forgot.mismatch'), u('forgot.tooMany')] } }],
                  },
                  {
                    target: 'enterId',
                    actions: ['forgetCandidate', assign({ forgotFailures: ({ context }) => context.forgotFailures + 1 }), { type: 'say', params: { lines: [u('forgot.mismatch'), u('login.tryAgain')] } }],
                  },
                ],
              },
            },
          },
        },
      },
    },

    changePin: {
      initial: 'enterNew',
      entry: assign({ pinProblems: 0, pendingPin: null }),
      states: {
        enterNew: digitEntry({ prompt: [u('change.enterNew')], lengths: null, then: 'checking', back: '#line.pinHelp.menu' }),
        checking: {
          invoke: {
            src: 'proposePin',
            input: ({ context, event }) => ({ participantId: loggedInAs(context), pin: digitsOf(event) }),
            onDone: [
              { guard: ({ event }) => event.output.ok, target: 'reenter', actions: assign({ pendingPin: ({ event }) => (event.output.ok ? event.output.digest : null) }) },
              {
                guard: ({ context }) => context.pinProblems + 1 >= PIN_TRIES_PER_CALL,
                target: '#line.mainMenu',
                actions: { type: 'say', params: ({ event }) => ({ lines: [...problemNotice(event.output), u('change.tooMany')] }) },
              },
              {
                target: 'enterNew',
                actions: [assign({ pinProblems: ({ context }) => context.pinProblems + 1 }), { type: 'say', params: ({ event }) => ({ lines: problemNotice(event.output) }) }],
              },
            ],
          },
        },
        reenter: digitEntry({ prompt: [u('change.reenter')], lengths: null, then: 'saving', back: '#line.pinHelp.menu' }),
        saving: {
          invoke: {
            src: 'confirmPin',
            input: ({ context, event }) => ({ participantId: loggedInAs(context), pin: digitsOf(event), digest: context.pendingPin ?? '' }),
            onDone: [
              { guard: ({ event }) => event.output, target: '#line.mainMenu', actions: [assign({ pendingPin: null }), { type: 'say', params: { lines: [u('change.done'), u('agent.returning')] } }] },
              {
                guard: ({ context }) => context.pinProblems + 1 >= PIN_TRIES_PER_CALL,
                target: '#line.mainMenu',
                actions: [assign({ pendingPin: null }), { type: 'say', params: { lines: [u('change.mismatch'), u('change.tooMany')] } }],
              },
              {
                target: 'enterNew',
                actions: [assign({ pendingPin: null, pinProblems: ({ context }) => context.pinProblems + 1 }), { type: 'say', params: { lines: [u('change.mismatch')] } }],
              },
            ],
          },
        },
      },
    },

    payment: {
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
    },

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

function amountProblem(quote: Quote): Utterance[] {
  if (quote.ok) return [];
  return [{ id: quote.reason === 'below-minimum' ? 'pay.belowMinimum' : 'pay.aboveMaximum', values: { amount: { kind: 'money', cents: quote.limit } } }];
}

function problemNotice(result: ProposedPin): Utterance[] {
  if (result.ok) return [];
  const id = ({ length: 'change.length', 'same-as-old': 'change.same', 'repeated-digit': 'change.repeated', 'straight-run': 'change.run' } as const)[result.reason];
  return [u(id)];
}
