// "Prove who you are" (spec section 4): an ID (or SSN), then a second factor (PIN or SSN), then
// the domain's verdict. Login, forgot-my-PIN and the card payment from the main menu are each
// one call of proveIdentity; the menus that lead here check the same per-call limit first.
import { and } from 'xstate';
import type { ForgotPinResult, IdentityCheck, LoginResult } from '../src/domain/accounts.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import type { Utterance } from '../prompts/speak.ts';
import { isOk, isRefusal, okOf, refusalOf, type Ok, type ReasonOf, type Refusal, type Result } from './results.ts';
import {
  count, digitEntry, digitsOf, exitsOf, guardObject, lastTry, lineSetup, menu, say, u,
  type Answered, type AnswerTransition, type Limit, type LineContext, type LineStateConfig, type Way,
} from './setup.ts';
import { to } from './targets.ts';

/** What each actor that can verify a caller answers, and that answer read as a verdict. */
type Verifiers = {
  login: { answer: LoginResult; verdict: LoginResult };
  forgotPin: { answer: ForgotPinResult; verdict: ForgotPinResult };
  verifyIdentity: { answer: IdentityCheck; verdict: IdentityCheck };
};
export type Verifier = keyof Verifiers;
type Verdict<V extends Verifier> = Verifiers[V]['verdict'];

/**
 * Per verifier: the state names its steps have always had (logs and tests name them), its
 * invoke with the second factor read from the entry's event, and how its answer reads.
 */
const VERIFIERS: {
  [V in Verifier]: {
    secret: 'enterPin' | 'enterSsn';
    verifying: string;
    invoke: (onDone: readonly AnswerTransition<Verifiers[V]['answer']>[]) => LineStateConfig;
    verdict: (answer: Verifiers[V]['answer']) => Verdict<V>;
  };
} = {
  login: {
    secret: 'enterPin',
    verifying: 'checking',
    invoke: (onDone) => lineSetup.createStateConfig({
      invoke: { src: 'login', input: ({ context, event }) => ({ candidate: context.candidate, pin: digitsOf(event), caller: context.caller }), onDone },
    }),
    verdict: (answer) => answer,
  },
  forgotPin: {
    secret: 'enterSsn',
    verifying: 'resetting',
    invoke: (onDone) => lineSetup.createStateConfig({
      invoke: { src: 'forgotPin', input: ({ context, event }) => ({ candidate: context.candidate, ssn: digitsOf(event), caller: context.caller }), onDone },
    }),
    verdict: (answer) => answer,
  },
  verifyIdentity: {
    secret: 'enterSsn',
    verifying: 'verifying',
    invoke: (onDone) => lineSetup.createStateConfig({
      invoke: { src: 'verifyIdentity', input: ({ context, event }) => ({ candidate: context.candidate, ssn: digitsOf(event), caller: context.caller }), onDone },
    }),
    verdict: (answer) => answer,
  },
};

type Entry = { prompt: Utterance[]; lengths: readonly number[] | null; invalid?: Utterance[] };

/**
 * What is said for each refusal other than the two every verifier gives and proveIdentity answers
 * itself: a mismatch (a wrong secret, an unknown ID and a silent lock alike) and a calling number
 * that has used its failures for the hour.
 */
type Answered_ = 'mismatch' | 'throttled';
type Refusals<R extends Result> = { [Reason in Exclude<ReasonOf<R>, Answered_>]: Utterance[] | ((refusal: Refusal<R, Reason>) => Utterance[]) };

/** The first state of proveIdentity's states: a caller whose number has used its failures is not asked at all. */
export const PROVE_IDENTITY_START = 'checkingCaller';

export type ProveIdentity<V extends Verifier> = {
  verifier: V;
  /** The first entry: 10 digits for a participant ID, 9 for an SSN; `identify` tells which. */
  id: Entry;
  /** The second factor, handed to the verifier and never stored. */
  secret: Entry;
  /** Failures in this call; the menus that lead here check `limitReached` with the same limit. */
  tries: Limit;
  /** Said for a mismatch, then the choice to try again, get PIN help or a representative; or `tooMany` and the main menu. */
  mismatch: Utterance[];
  tooMany: Utterance[];
  /** Where a proved caller goes; `keep` says which context fields remember who they are. */
  proved: { target: string; keep?: (verdict: Ok<Verdict<V>>) => Partial<LineContext>; say?: Utterance[] };
  /** Every other refusal the verifier can give: said, not counted, back to the main menu. */
  refused: Refusals<Verdict<V>>;
  /** Where `*` at either entry goes. */
  cancel: Way;
};

/**
 * The states checkingCaller → enterId → identifying → enterPin/enterSsn → the verifier's state,
 * with retry (a failure's choices) and unavailable (the number's failures are used up), to spread
 * into a state's `states` (start at PROVE_IDENTITY_START). The candidate the ID names is forgotten
 * whatever happens.
 */
export function proveIdentity<V extends Verifier>(spec: ProveIdentity<V>) {
  const verifier = VERIFIERS[spec.verifier];
  return {
    [PROVE_IDENTITY_START]: lineSetup.createStateConfig({
      invoke: {
        src: 'mayIdentify',
        input: ({ context }) => ({ caller: context.caller }),
        onDone: [{ guard: ({ event }) => event.output, target: 'enterId' }, { target: 'unavailable' }],
      },
    }),
    // Spec section 4: not asked to identify again this hour; a representative (in office hours) and the other menus.
    unavailable: lineSetup.createStateConfig({
      always: [
        { guard: 'representativesAvailable', target: to('mainMenu'), actions: ['forgetCandidate', say([u('identity.unavailable'), u('identity.unavailableAgent')])] },
        { target: to('mainMenu'), actions: ['forgetCandidate', say([u('identity.unavailable'), u('hours.representatives')])] },
      ],
    }),
    // A failure offers another try, PIN help and a representative (spec section 4).
    retry: menu({ prompt: [u('identity.retryKeys')], options: { '1': 'enterId', '3': to('pinHelpMenu') }, back: 'cancelled' }),
    cancelled: lineSetup.createStateConfig({
      always: exitsOf(spec.cancel).map((exit) => ({ ...(exit.guard ? { guard: guardObject(exit.guard) } : {}), target: exit.target, actions: 'forgetCandidate' as const })),
    }),
    enterId: digitEntry({ ...spec.id, then: 'identifying', back: spec.cancel, onBack: 'forgetCandidate' }),
    identifying: lineSetup.createStateConfig({
      invoke: {
        src: 'identify',
        input: ({ event }) => ({ entry: digitsOf(event) }),
        onDone: { target: verifier.secret, actions: { type: 'update', params: ({ event }) => ({ candidate: event.output }) } },
      },
    }),
    [verifier.secret]: digitEntry({ ...spec.secret, then: verifier.verifying, back: spec.cancel, onBack: 'forgetCandidate' }),
    [verifier.verifying]: verifier.invoke(verdicts(verifier.verdict, spec)),
  };
}

/** The verifier's onDone: proved, each refusal, the last mismatch this call allows, a mismatch. */
function verdicts<Answer, R extends Result>(
  verdict: (answer: Answer) => R,
  spec: Pick<ProveIdentity<Verifier>, 'tries' | 'mismatch' | 'tooMany'> & {
    proved: { target: string; keep?: (verdict: Ok<R>) => Partial<LineContext>; say?: Utterance[] };
    refused: Refusals<R>;
  },
): AnswerTransition<Answer>[] {
  const { proved: { target, keep, say: saidWhenProved }, refused, tries, mismatch, tooMany } = spec;
  const read = ({ event }: Answered<Answer>): R => verdict(event.output);
  // Object.keys forgets the keys' type; they are the reasons Refusals<R> is keyed by.
  const reasons = Object.keys(refused) as Exclude<ReasonOf<R>, Answered_>[];
  return [
    {
      guard: (answered) => isOk(read(answered)),
      target,
      actions: [
        ...(keep ? [{ type: 'update' as const, params: (answered: Answered<Answer>) => keep(okOf(read(answered))) }] : []),
        'forgetCandidate',
        ...(saidWhenProved ? [say(saidWhenProved)] : []),
      ],
    },
    ...reasons.map((reason): AnswerTransition<Answer> => {
      const lines = refused[reason];
      return {
        guard: (answered) => isRefusal(read(answered), [reason]),
        target: to('mainMenu'),
        actions: ['forgetCandidate', { type: 'say', params: (answered) => ({ lines: typeof lines === 'function' ? lines(refusalOf(read(answered), reason)) : lines }) }],
      };
    }),
    { guard: (answered) => isRefusal(read(answered), ['throttled' as ReasonOf<R>]), target: 'unavailable', actions: ['forgetCandidate'] },
    { guard: lastTry(tries), target: to('mainMenu'), actions: ['forgetCandidate', count(tries), say([...mismatch, ...tooMany])] },
    { target: 'retry', actions: ['forgetCandidate', count(tries), say(mismatch)] },
  ];
}
