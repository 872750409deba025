// A turn read for the call record: which menu the caller is in now, and what the turn told them
// (an answer, a transfer, a goodbye after three failures, a payment approved or declined) or found
// out about them (identified, or failed to). Pure: the settled state's path, what it said, and
// the machine's per-call counters in, the session's trail out.
import type { LineContext } from '../../flows/setup.ts';
import type { PromptId } from '../../prompts/catalog.ts';
import type { Utterance } from '../../prompts/speak.ts';
import {
  strongerIdentification, strongerPayment, trailMenus, type CallTrail, type IdentificationResult, type Menu, type PaymentResult,
} from '../domain/call-record.ts';
import { menuOfState } from '../domain/menu-of-state.ts';

export type TurnFacts = {
  /** The settled state, as stateName writes it. */
  state: string;
  said: readonly Utterance[];
  context: Pick<LineContext, 'participantId' | 'payerId' | 'loginFailures' | 'forgotFailures' | 'payIdFailures'>;
};

/**
 * States whose reaching means the caller heard an answer: everything under the account menu comes
 * after the account summary; payment information pages; the office hours; a payment's receipt.
 */
const SERVED_STATES = ['account', 'paymentInfo.check', 'paymentInfo.card', 'paymentInfo.crediting', 'paymentInfo.coap', 'hours', 'payment.receipt'];
/** What is said when a change is made for the caller, wherever the turn settles after it. */
const SERVED_PROMPTS: readonly PromptId[] = ['pay.approved', 'forgot.done', 'change.done', 'forms.queued', 'phone.saved'];
/** Said when the caller proved who they are but the line did not carry a participant on (a new PIN by mail, or one mailed recently). */
const VERIFIED_PROMPTS: readonly PromptId[] = ['forgot.done', 'forgot.recent'];

const under = (state: string, path: string) => state === path || state.startsWith(`${path}.`);

export function trailAfterTurn(trail: CallTrail, facts: TurnFacts): { trail: CallTrail; entered: Menu | null } {
  const { state, context } = facts;
  const said = new Set(facts.said.map((line) => line.id));
  const menu = menuOfState(state);
  const entered = menu !== null && trail.menus[trail.menus.length - 1] !== menu ? menu : null;

  const failures = context.loginFailures + context.forgotFailures + context.payIdFailures;
  let identification: IdentificationResult = 'none';
  if (context.participantId !== null || context.payerId !== null || VERIFIED_PROMPTS.some((id) => said.has(id))) identification = 'verified';
  else if (said.has('identity.unavailable')) identification = 'throttled';
  else if (failures > 0) identification = 'failed';

  let payment: PaymentResult = 'none';
  if (said.has('pay.approved')) payment = 'recorded';
  else if (said.has('pay.failed')) payment = 'declined';

  let transfer = trail.transfer;
  // Nobody answered and the caller is back in the menus: this transfer did not happen.
  if (said.has('agent.unreached')) transfer = null;
  if (said.has('agent.connecting')) transfer = said.has('retry.giveUpTransfer') ? 'gave_up' : 'requested';

  return {
    entered,
    trail: {
      menus: menu === null ? trail.menus : trailMenus(trail.menus, menu),
      identification: strongerIdentification(trail.identification, identification),
      // The machine counts per call; a session that restarted (resumed) starts counting again.
      identificationFailures: Math.max(trail.identificationFailures, failures),
      payment: strongerPayment(trail.payment, payment),
      transfer,
      gaveUp: trail.gaveUp || said.has('retry.giveUpClosed'),
      served: trail.served || SERVED_STATES.some((path) => under(state, path)) || SERVED_PROMPTS.some((id) => said.has(id)),
    },
  };
}
