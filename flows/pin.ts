// Main menu 3: a new PIN by mail, or a new PIN chosen by the caller (spec section 4).
import { assign } from 'xstate';
import type { ProposedPin } from '../src/domain/accounts.ts';
import { PIN_TRIES_PER_CALL } from '../src/domain/pin.ts';
import type { Utterance } from '../prompts/speak.ts';
import { digitEntry, digitsOf, lineSetup, loggedInAs, navigation, menu, u } from './setup.ts';
/** The PIN menu and forgot-my-PIN. */
export const pinHelp = lineSetup.createStateConfig({
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
});

/** A new PIN, entered twice, after the caller logged in with the current one. */
export const changePin = lineSetup.createStateConfig({
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
});

function problemNotice(result: ProposedPin): Utterance[] {
  if (result.ok) return [];
  const id = ({ length: 'change.length', 'same-as-old': 'change.same', 'repeated-digit': 'change.repeated', 'straight-run': 'change.run' } as const)[result.reason];
  return [u(id)];
}

