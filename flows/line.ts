// The phone line's menus (spec section 2) as one XState machine. Pure: it says things by
// emitting `say`, asks the domain only through named guards and actors that the engine
// `provide()`s, and marks every state that waits for the caller with `meta.wait`.
import { and, assign, emit, setup } from 'xstate';
import type { Utterance, Language } from '../prompts/speak.ts';
import { representativesAvailable } from '../src/domain/hours.ts';
import type { CallerEvent, StateMeta } from './events.ts';

export type LineInput = { language?: Language; resume?: boolean };

export type LineContext = {
  language: Language;
  /** Failed attempts (no input or a wrong key) in a row at the current prompt. */
  strikes: number;
  /** The call lost its session (expired, or a restart of the in-process store): start at the main menu. */
  resumed: boolean;
};

export type Said = { type: 'say'; lines: Utterance[] };

const u = (id: Utterance['id'], language?: Language): Utterance => (language ? { id, language } : { id });

/** Most failures in a row at one prompt before we stop asking (spec section 3). */
export const MAX_STRIKES = 3;

export const lineSetup = setup({
  types: {
    context: {} as LineContext,
    events: {} as CallerEvent,
    input: {} as LineInput,
    emitted: {} as Said,
    meta: {} as StateMeta,
  },
  actions: {
    say: emit((_, params: { lines: Utterance[] }) => ({ type: 'say' as const, lines: params.lines })),
    setLanguage: assign((_, params: { language: Language }) => ({ language: params.language })),
    clearStrikes: assign({ strikes: 0 }),
    welcome: emit({ type: 'say', lines: [u('confidentiality')] }),
    // A failed attempt: say so and ask again, more helpfully the second time; then count it.
    sayRetry: emit(({ context, event }, params: { prompt: Utterance[] }) => {
      const first = context.strikes === 0;
      const notice = event.type === 'noInput' ? (first ? 'retry.noInput' : 'retry.noInputAgain') : first ? 'retry.invalid' : 'retry.invalidAgain';
      return { type: 'say' as const, lines: [u(notice), ...params.prompt] };
    }),
    countStrike: assign({ strikes: ({ context }) => context.strikes + 1 }),
  },
  guards: {
    pressed: ({ event }, params: { key: string }) => event.type === 'digits' && event.digits === params.key,
    lastStrike: ({ context }) => context.strikes >= MAX_STRIKES - 1,
    representativesAvailable: () => representativesAvailable(new Date()),
    resumed: ({ context }) => context.resumed,
    dialAnswered: ({ event }) => event.type === 'dialEnded' && (event.status === 'completed' || event.status === 'answered'),
  },
});

type Option = string | { target: string; say?: Utterance[] };

/**
 * A menu: says its prompt on entry, dispatches keys by a table, and handles the keys that
 * work everywhere (0 representative, 9 repeat, * back) and the no-input / wrong-key path.
 */
export function menu(spec: { prompt: Utterance[]; options?: Record<string, Option>; back?: string }) {
  const { prompt, options = {}, back } = spec;
  const say = (lines: Utterance[]) => ({ type: 'say' as const, params: { lines } });
  const chosen = Object.entries(options).map(([key, option]) => {
    const { target, say: lines = [] } = typeof option === 'string' ? { target: option } : option;
    return { guard: { type: 'pressed' as const, params: { key } }, target, actions: lines.length ? [say(lines)] : [] };
  });
  const failed = [
    { guard: 'lastStrike' as const, target: '#line.gaveUp' },
    { actions: [{ type: 'sayRetry' as const, params: { prompt } }, 'countStrike' as const] },
  ];
  return lineSetup.createStateConfig({
    meta: { wait: { input: 'menu' } },
    entry: ['clearStrikes', say(prompt)],
    on: {
      digits: [
        ...chosen,
        { guard: { type: 'pressed', params: { key: '9' } }, actions: ['clearStrikes', say(prompt)] },
        back
          ? { guard: { type: 'pressed', params: { key: '*' } }, target: back }
          : { guard: { type: 'pressed', params: { key: '*' } }, actions: ['clearStrikes', say(prompt)] },
        { guard: and([{ type: 'pressed', params: { key: '0' } }, 'representativesAvailable']), target: '#line.transfer' },
        {
          guard: { type: 'pressed', params: { key: '0' } },
          actions: ['clearStrikes', say([u('agent.closed'), u('hours.representatives'), ...prompt])],
        },
        ...failed,
      ],
      noInput: failed,
    },
  });
}

const navigation = u('menu.navigation');
const languageMenu = [u('language.english', 'en'), u('language.spanish', 'es')];

export const lineMachine = lineSetup.createMachine({
  id: 'line',
  context: ({ input }) => ({ language: input.language ?? 'en', strikes: 0, resumed: input.resume ?? false }),
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'resumed', target: 'mainMenu' },
        { target: 'language' },
      ],
    },
    language: {
      meta: { wait: { input: 'menu' } },
      entry: { type: 'say', params: { lines: [u('greeting', 'en'), ...languageMenu] } },
      on: {
        digits: [
          { guard: { type: 'pressed', params: { key: '1' } }, target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'en' } }, 'welcome'] },
          { guard: { type: 'pressed', params: { key: '2' } }, target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'es' } }, 'welcome'] },
          { guard: 'lastStrike', target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'en' } }, 'welcome'] },
          { actions: ['countStrike', { type: 'say', params: { lines: languageMenu } }] },
        ],
        // Silence means English (spec section 2).
        noInput: { target: 'mainMenu', actions: [{ type: 'setLanguage', params: { language: 'en' } }, 'welcome'] },
      },
    },
    mainMenu: menu({
      prompt: [u('main.title'), u('main.options'), u('menu.repeatHint')],
      options: { '4': 'paymentInfo', '5': 'hours' },
    }),
    paymentInfo: {
      initial: 'menu',
      states: {
        menu: menu({ prompt: [u('payInfo.title'), u('payInfo.options'), navigation], options: { '1': 'check', '2': 'card', '3': 'crediting', '4': 'coap' }, back: '#line.mainMenu' }),
        check: menu({ prompt: [u('payInfo.check'), navigation], back: 'menu' }),
        card: menu({ prompt: [u('payInfo.card'), navigation], back: 'menu' }),
        crediting: menu({ prompt: [u('payInfo.crediting'), navigation], back: 'menu' }),
        coap: menu({ prompt: [u('payInfo.coap'), navigation], back: 'menu' }),
      },
    },
    hours: menu({ prompt: [u('hours.selfService'), u('hours.representatives'), u('hours.otherWays'), navigation], back: 'mainMenu' }),
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
