// The flows' named actors, bound to the domain. The machine names them in setup(); this is the
// one place they meet the store.
import { fromPromise } from 'xstate';
import type { Accounts } from '../domain/accounts.ts';
import type { ParticipantId } from '../domain/caseload.ts';
import type { CardPayment, Payments, Receipt } from '../domain/payments.ts';
import type { Services } from '../domain/services.ts';
import type { CallerKey } from '../domain/identification.ts';
import type { MailedForm } from '../domain/outbox.ts';

/** `paid` hears every receipt of a card payment the machine records. */
export function domainActors(accounts: Accounts, payments: Payments, services: Services, paid: (receipt: Receipt) => void = () => {}) {
  return {
    phoneEnding: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => services.phoneEnding(input.participantId)),
    updatePhone: fromPromise(({ input }: { input: { participantId: ParticipantId; phone: string } }) => services.updatePhone(input.participantId, input.phone)),
    requestForm: fromPromise(({ input }: { input: { participantId: ParticipantId; form: MailedForm } }) => services.requestForm(input.participantId, input.form)),
    mayIdentify: fromPromise(({ input }: { input: { caller: CallerKey } }) => accounts.mayIdentify(input.caller)),
    verifyIdentity: fromPromise(({ input }: { input: { candidate: ParticipantId | null; ssn: string; caller: CallerKey } }) => accounts.verifyIdentity(input.candidate, input.ssn, input.caller)),
    payableCases: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => payments.payableCases(input.participantId)),
    quote: fromPromise(async ({ input }: { input: { amount: string } }) => payments.quote(/^\d{1,9}$/.test(input.amount) ? Number(input.amount) : -1)),
    recordPayment: fromPromise(async ({ input }: { input: CardPayment & { last4: string } }) => {
      const { last4, ...payment } = input;
      const receipt = await payments.record(payment);
      paid(receipt);
      return { ...receipt, last4 };
    }),
    identify: fromPromise(({ input }: { input: { entry: string } }) => accounts.identify(input.entry)),
    login: fromPromise(({ input }: { input: { candidate: ParticipantId | null; pin: string; caller: CallerKey } }) => accounts.login(input.candidate, input.pin, input.caller)),
    summary: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => accounts.summary(input.participantId)),
    balances: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => accounts.balances(input.participantId)),
    history: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => accounts.history(input.participantId)),
    caseInformation: fromPromise(({ input }: { input: { participantId: ParticipantId } }) => accounts.caseInformation(input.participantId)),
    forgotPin: fromPromise(({ input }: { input: { candidate: ParticipantId | null; ssn: string; caller: CallerKey } }) => accounts.forgotPin(input.candidate, input.ssn, input.caller)),
    proposePin: fromPromise(({ input }: { input: { participantId: ParticipantId; pin: string } }) => accounts.proposePin(input.participantId, input.pin)),
    confirmPin: fromPromise(({ input }: { input: { participantId: ParticipantId; pin: string; digest: string } }) =>
      accounts.confirmPin(input.participantId, input.pin, input.digest)),
  };
}
