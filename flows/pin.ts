// Main menu 3: a new PIN by mail, or a new PIN chosen by the caller (spec section 4).
import { assign } from 'xstate';
import type { ProposedPin } from '../src/domain/accounts.ts';
import type { Utterance } from '../prompts/speak.ts';
import { PROVE_IDENTITY_START, proveIdentity } from './identity.ts';
import { okOf, whenOk } from './results.ts';
import {
  FORGOT_TRIES, LOGIN_TRIES, NEW_PIN_TRIES, count, digitEntry, digitsOf, lastTry, limitReached, lineSetup, loggedInAs, menu, navigation, say, u,
} from './setup.ts';
import { to, withId } from './targets.ts';

/** The PIN menu and forgot-my-PIN. */
export const pinHelp = lineSetup.createStateConfig({
  initial: 'menu',
  states: {
    menu: withId('pinHelpMenu', menu({
      prompt: [u('pin.title'), u('pin.options'), navigation],
      speech: 'pin',
      options: {
        '1': [
          { guard: limitReached(FORGOT_TRIES), say: [u('forgot.limitThisCall'), u('pin.title'), u('pin.options'), navigation] },
          { target: 'forgot' },
        ],
        '2': [
          { guard: limitReached(LOGIN_TRIES), say: [u('login.limitThisCall'), u('pin.title'), u('pin.options'), navigation] },
          { target: to('login'), assign: { intent: 'changePin' }, say: [u('change.intro')] },
        ],
      },
      back: to('mainMenu'),
    })),
    forgot: {
      initial: PROVE_IDENTITY_START,
      states: proveIdentity({
        verifier: 'forgotPin',
        id: { prompt: [u('forgot.enterId')], lengths: [10], invalid: [u('forgot.idLength')] },
        secret: { prompt: [u('forgot.enterSsn')], lengths: [9], invalid: [u('forgot.ssnLength')] },
        tries: FORGOT_TRIES,
        mismatch: [u('forgot.mismatch')],
        tooMany: [u('forgot.tooMany')],
        proved: { target: to('mainMenu'), say: [u('forgot.done'), u('agent.returning')] },
        refused: {
          'recently-reset': (refusal) => [{ id: 'forgot.recent', values: { date: { kind: 'date', at: refusal.lastResetAt } } }, u('agent.returning')],
        },
        cancel: to('pinHelpMenu'),
      }),
    },
  },
});

/** A new PIN, entered twice, after the caller logged in with the current one. */
export const changePin = withId('changePin', lineSetup.createStateConfig({
  initial: 'enterNew',
  entry: assign({ pinProblems: 0, pendingPin: null }),
  states: {
    enterNew: digitEntry({ prompt: [u('change.enterNew')], lengths: null, then: 'checking', back: to('pinHelpMenu') }),
    checking: {
      invoke: {
        src: 'proposePin',
        input: ({ context, event }) => ({ participantId: loggedInAs(context), pin: digitsOf(event) }),
        onDone: [
          { guard: whenOk(), target: 'reenter', actions: assign({ pendingPin: ({ event }) => okOf(event.output).digest }) },
          { guard: lastTry(NEW_PIN_TRIES), target: to('mainMenu'), actions: { type: 'say', params: ({ event }) => ({ lines: [...problemNotice(event.output), u('change.tooMany')] }) } },
          { target: 'enterNew', actions: [count(NEW_PIN_TRIES), { type: 'say', params: ({ event }) => ({ lines: problemNotice(event.output) }) }] },
        ],
      },
    },
    reenter: digitEntry({ prompt: [u('change.reenter')], lengths: null, then: 'saving', back: to('pinHelpMenu') }),
    saving: {
      invoke: {
        src: 'confirmPin',
        input: ({ context, event }) => ({ participantId: loggedInAs(context), pin: digitsOf(event), digest: context.pendingPin ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output, target: to('mainMenu'), actions: [assign({ pendingPin: null }), say([u('change.done'), u('agent.returning')])] },
          { guard: lastTry(NEW_PIN_TRIES), target: to('mainMenu'), actions: [assign({ pendingPin: null }), say([u('change.mismatch'), u('change.tooMany')])] },
          { target: 'enterNew', actions: [assign({ pendingPin: null }), count(NEW_PIN_TRIES), say([u('change.mismatch')])] },
        ],
      },
    },
  },
}));

function problemNotice(result: ProposedPin): Utterance[] {
  if (result.ok) return [];
  const id = ({ length: 'change.length', 'same-as-old': 'change.same', 'repeated-digit': 'change.repeated', 'straight-run': 'change.run' } as const)[result.reason];
  return [u(id)];
}
