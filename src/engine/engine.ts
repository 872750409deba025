// One webhook, one turn: load the caller's machine, give it the event, let it settle, say what
// the settled state says, remember where the caller is. Returns a Reply (telephony renders it);
// never throws at Twilio.
import { createHash, randomBytes } from 'node:crypto';
import type { CallerEvent, HeardSpeech } from '../../flows/events.ts';
import { lineMachine, payRequestOf } from '../../flows/line.ts';
import type { Utterance } from '../../prompts/speak.ts';
import type { Accounts } from '../domain/accounts.ts';
import { representativesAvailable } from '../domain/hours.ts';
import type { CallerKey } from '../domain/identification.ts';
import type { Language } from '../domain/language.ts';
import { cents, type Cents } from '../domain/money.ts';
import type { Payments } from '../domain/payments.ts';
import type { Services } from '../domain/services.ts';
import type { CaseNumber } from '../domain/caseload.ts';
import { callRecordOf, EMPTY_TRAIL, type Menu, type TurnFailure } from '../domain/call-record.ts';
import type { PaymentSpool } from '../store/payment-spool.ts';
import { trailAfterTurn } from './call-trail.ts';
import { domainActors } from './domain-actors.ts';
import { FailedCalls } from './failed-calls.ts';
import { quietObserver, type EngineObserver, type PaymentOutcome, type WebhookOutcome } from './observer.ts';
import { describeError, type Logger } from '../log.ts';
import type { CallStore, OpenTurn, SessionRecord, TurnWrite } from '../store/store.ts';
import type { SecurityEvents } from '../domain/identification.ts';
import { apology, paymentUnconfirmed, type PayTicket, type Reply } from './reply.ts';
import { TIME_BUDGET } from './time-budget.ts';
import { settleTurn, stateName, type LineMachine, type TurnStart } from './turn.ts';

export type { LineMachine } from './turn.ts';

/** Changes whenever the menus' shape changes, so a snapshot from an older deploy is not restored into a newer machine. */
export const MACHINE_VERSION = createHash('sha256').update(JSON.stringify(lineMachine.definition)).digest('hex').slice(0, 12);

/** The case and amount a <Pay> action URL was issued for, and its ticket (sealed in it by telephony, parsed at the edge). */
export type PaymentInFlight = { caseNumber: CaseNumber; amountCents: Cents } & PayTicket;

/** How long a <Pay> action URL stays good: far longer than Twilio takes to collect a card, far shorter than a day. */
export const PAY_URL_LIFETIME_MS = 30 * 60_000;

/** One webhook of a call, as the engine sees it (telephony has already checked and parsed it). */
export type Turn = {
  callSid: string;
  /** null when Twilio answers a new call (POST /voice). */
  event: CallerEvent | HeardSpeech | null;
  /** The turn the action URL was issued for; null when the URL carried none. */
  turn: number | null;
  /** The caller's language as the action URL remembered it, for a call whose session is gone. */
  language: Language | null;
  idempotencyToken: string | null;
  /** For the log line only. */
  path: string;
  /** On a <Pay> callback: the case and amount its action URL was issued for. */
  payment?: PaymentInFlight | null;
  /** Who is calling, as the identification limits count it (never the number itself). */
  caller: CallerKey;
};

export type EngineOptions = {
  store: CallStore;
  logger: Logger;
  clock: () => Date;
  sessionTtlSeconds: number;
  /** What the account and payment menus ask; bound to the machine's named actors. */
  accounts: Accounts;
  payments: Payments;
  services: Services;
  /** Where a card payment that succeeded at Twilio waits when the store cannot take it. */
  paymentSpool: PaymentSpool;
  /** The menus, if not the line's own (tests). */
  machine?: LineMachine;
  /** How long a machine may take to settle (store look-ups, PIN checks) before we apologise; TIME_BUDGET.settleMs by default. */
  settleTimeoutMs?: number;
  securityEvent?: SecurityEvents;
  /** Told each webhook's outcome, menus entered, payments and finished calls (metrics). */
  observer?: EngineObserver;
};

const LOCK = { leaseMs: TIME_BUDGET.lockLeaseMs, waitMs: TIME_BUDGET.lockWaitMs, renew: true } as const;

type Outcome = WebhookOutcome;

/** A turn's result, and what it is told to the observer once its write has landed. */
type Taken = {
  value: { reply: Reply; outcome: Outcome; state: string | null; entered?: Menu | null; payment?: PaymentOutcome | null };
  write: TurnWrite;
};

export class Engine {
  private readonly machine: LineMachine;
  private readonly options: EngineOptions;
  private readonly observer: EngineObserver;
  /** Calls whose last webhook failed, for their record, in case the store could not be told. */
  private readonly failedCalls: FailedCalls;

  constructor(options: EngineOptions) {
    this.options = options;
    this.observer = options.observer ?? quietObserver;
    this.failedCalls = new FailedCalls(options.sessionTtlSeconds * 1000);
    const { clock } = options;
    const paid = (receipt: { status: PaymentOutcome; amount: number }) => this.observer.payment(receipt.status, receipt.status === 'recorded' ? receipt.amount : null);
    this.machine = (options.machine ?? lineMachine).provide({
      guards: { representativesAvailable: () => representativesAvailable(clock()) },
      actors: domainActors(options.accounts, options.payments, options.services, paid),
    });
  }

  async take(turn: Turn): Promise<Reply> {
    const started = performance.now();
    const { store, logger } = this.options;
    let outcome: Outcome = 'failed';
    let state: string | null = null;
    try {
      const taken = await store.withTurn(turn.callSid, turn.idempotencyToken, (open) => this.takeLocked(turn, open), LOCK);
      outcome = taken.outcome;
      state = taken.state;
      if (taken.entered) this.observer.menuVisited(taken.entered);
      if (taken.payment) this.observer.payment(taken.payment, null);
      return taken.reply;
    } catch (error) {
      logger.error('webhook failed', { call: turn.callSid, path: turn.path, event: turn.event?.type ?? 'answer', error: describeError(error) });
      const language = turn.language ?? 'en';
      if (turn.event?.type === 'payResult' && turn.event.result === 'success' && turn.payment) {
        this.callFailed(turn.callSid, 'payment-spooled');
        return this.spoolPayment(turn, turn.event.confirmationCode, turn.payment, language);
      }
      const reply = apology(language, representativesAvailable(this.options.clock()));
      this.callFailed(turn.callSid, 'end' in reply.next && reply.next.end === 'transfer' ? 'apology-transfer' : 'apology-goodbye');
      return reply;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.observer.webhook(turn.path, outcome, seconds);
      logger.info('webhook', {
        call: turn.callSid, path: turn.path, event: turn.event?.type ?? 'answer', turn: turn.turn,
        state, outcome, ms: Math.round(seconds * 100_000) / 100,
      });
    }
  }

  /**
   * The call's record must say how its last webhook ended, and its session cannot: kept in this
   * process, and in the store if it answers (another instance may take the status callback).
   * Never awaited: the caller is waiting for the apology.
   */
  private callFailed(callSid: string, failure: TurnFailure): void {
    this.failedCalls.remember(callSid, failure);
    this.options.store.noteCallFailure(callSid, failure, this.options.sessionTtlSeconds).catch(() => {});
  }

  private async takeLocked(turn: Turn, loaded: OpenTurn): Promise<Taken> {
    const { sessionTtlSeconds } = this.options;
    const unchanged = { kind: 'none' } as const;
    // A request answered already (Twilio's retry of it, even after later requests) gets that answer again.
    if (loaded.reply) return { value: { reply: JSON.parse(loaded.reply) as Reply, outcome: 'replayed', state: null }, write: unchanged };
    const session = loaded.session && loaded.session.machineVersion === MACHINE_VERSION ? loaded.session : null;
    const refused = this.refusedPayment(turn);
    if (refused) {
      // Nothing is recorded and the event is not applied: a call in progress hears its last reply again.
      this.options.securityEvent?.({ kind: 'payment-replay', reason: refused });
      if (session) return { value: { reply: JSON.parse(session.lastReply) as Reply, outcome: 'stale', state: null }, write: unchanged };
      turn = { ...turn, event: { type: 'noInput' }, payment: null };
    }
    const orphanPayment = this.orphanPayment(turn, session);
    if (orphanPayment) await orphanPayment.recorded;
    if (session && (turn.event === null || turn.turn !== session.turn)) {
      // A repeat of a post we already answered (a retry whose token we never saw, or a stale action URL).
      return { value: { reply: JSON.parse(session.lastReply) as Reply, outcome: 'stale', state: null }, write: unchanged };
    }

    let start: TurnStart;
    let outcome: Outcome;
    if (session && turn.event) {
      start = { snapshot: session.snapshot, event: turn.event };
      outcome = 'applied';
    } else if (turn.event === null) {
      start = { input: { caller: turn.caller } };
      outcome = 'answered';
    } else {
      // An action URL with no session behind it (expired, or the in-process store restarted):
      // the keys were meant for a prompt we no longer know, so start cleanly at the main menu.
      start = { input: { resume: true, language: turn.language ?? 'en', caller: turn.caller } };
      outcome = 'resumed';
    }
    const settled = await settleTurn(this.machine, start, this.options.settleTimeoutMs ?? TIME_BUDGET.settleMs);
    const said: Utterance[] = orphanPayment ? [...(await orphanPayment.receipt), ...settled.said] : settled.said;

    const nextTurn = (session?.turn ?? 0) + 1;
    const request = 'input' in settled.next && settled.next.input === 'pay' ? payRequestOf(settled.snapshot.context) : null;
    if ('input' in settled.next && settled.next.input === 'pay' && !request) throw new Error('the line asked for <Pay> with nothing to charge');
    const pay = request && { ...request, callSid: turn.callSid, expiresAt: this.options.clock().getTime() + PAY_URL_LIFETIME_MS, nonce: randomBytes(12).toString('base64url') };
    const reply: Reply = { language: settled.language, said, next: settled.next, turn: nextTurn, pay };
    const json = JSON.stringify(reply);
    const { trail, entered } = trailAfterTurn(session?.trail ?? EMPTY_TRAIL, { state: settled.state, said, context: settled.snapshot.context });
    const record: SessionRecord = {
      machineVersion: MACHINE_VERSION,
      turn: nextTurn,
      language: settled.language,
      snapshot: settled.persisted,
      lastReply: json,
      startedAt: session?.startedAt ?? this.options.clock().toISOString(),
      trail,
    };
    const event = turn.event;
    // A success is counted where it is recorded; the other results of <Pay> record nothing.
    const payment: PaymentOutcome | null = event?.type !== 'payResult' || event.result === 'success' ? null : event.result === 'caller-hung-up' ? 'hung_up' : 'declined';
    return {
      value: { reply, outcome, state: settled.state, entered, payment },
      write: { kind: 'save', record, ttlSeconds: sessionTtlSeconds, ...(turn.idempotencyToken ? { reply: { idempotencyToken: turn.idempotencyToken, reply: json } } : {}) },
    };
  }

  /**
   * A <Pay> success whose action URL cannot record it: no ticket (a URL not issued by this line),
   * another call's URL, or one past its time. A URL already used is refused by the store, which
   * records a payment once per ticket.
   */
  private refusedPayment(turn: Turn): 'other-call' | 'expired' | null {
    const event = turn.event;
    if (event?.type !== 'payResult' || event.result !== 'success') return null;
    if (!turn.payment || turn.payment.callSid !== turn.callSid) return 'other-call';
    return turn.payment.expiresAt < this.options.clock().getTime() ? 'expired' : null;
  }

  /**
   * A <Pay> success whose session cannot take it (gone, from an older deploy, or already past the
   * <Pay>: the status callback can arrive first) is still recorded, once, from the sealed case and
   * amount its action URL carries; a caller still on the line hears the receipt.
   */
  private orphanPayment(turn: Turn, usable: SessionRecord | null): { recorded: Promise<unknown>; receipt: Promise<Utterance[]> } | null {
    const event = turn.event;
    if (event?.type !== 'payResult' || event.result !== 'success' || !turn.payment) return null;
    if (usable && turn.turn === usable.turn) return null;
    const payment = turn.payment;
    const receipt = this.options.payments.record({ caseNumber: payment.caseNumber, amount: payment.amountCents, confirmationCode: event.confirmationCode, ticket: payment.nonce });
    receipt.then((r) => this.observer.payment(r.status, r.status === 'recorded' ? r.amount : null), () => {});
    return {
      recorded: receipt,
      receipt: receipt.then((r): Utterance[] => r.status === 'replayed' ? [] : [
        { id: 'pay.approved', values: { amount: { kind: 'money', cents: r.amount }, last4: { kind: 'digits', value: event.last4 } } },
        { id: 'pay.confirmation', values: { code: { kind: 'digits', value: r.confirmationCode } } },
        { id: 'pay.credited', values: { date: { kind: 'date', at: r.receivedAt } } },
      ]),
    };
  }

  /**
   * A card payment succeeded at Twilio but could not be recorded (the store is away): it goes to
   * the durable spool, is replayed until recorded, and the caller keeps the confirmation number.
   */
  private async spoolPayment(turn: Turn, confirmationCode: string, payment: PaymentInFlight, language: Language): Promise<Reply> {
    const { logger } = this.options;
    try {
      await this.options.paymentSpool.append({
        caseNumber: payment.caseNumber, amountCents: payment.amountCents, ticket: payment.nonce,
        confirmationCode, receivedAt: this.options.clock().toISOString(), callSid: turn.callSid,
      });
      // The spool holds the case and amount; the log line carries no digits the caller entered.
      logger.warn('payment spooled', { call: turn.callSid, confirmation: confirmationCode, spool: this.options.paymentSpool.file });
      this.observer.payment('spooled', null);
    } catch (error) {
      this.observer.payment('unrecorded', null);
      // Both the store and the disk failed: this line is the reconciliation record, so it alone
      // carries the case and the amount (never anything about the card).
      logger.error('payment not recorded', { call: turn.callSid, confirmation: confirmationCode, caseNumber: payment.caseNumber, amountCents: payment.amountCents, error: describeError(error) });
    }
    return paymentUnconfirmed(language, payment.amountCents, confirmationCode);
  }

  /** Replays spooled payments into the store; safe to run at any time, from any instance. */
  async replaySpooledPayments(): Promise<number> {
    const { payments, paymentSpool, logger } = this.options;
    const recorded = await paymentSpool.replay(async (spooled) => {
      const receipt = await payments.record(
        // A spool written before URLs carried a ticket: the confirmation code stands in for one.
        { caseNumber: spooled.caseNumber as CaseNumber, amount: cents(spooled.amountCents), confirmationCode: spooled.confirmationCode, ticket: spooled.ticket ?? `spool:${spooled.confirmationCode}` },
        new Date(spooled.receivedAt),
      );
      this.observer.payment(receipt.status, receipt.status === 'recorded' ? receipt.amount : null);
      logger.info('spooled payment recorded', { call: spooled.callSid, confirmation: spooled.confirmationCode });
    }, (spooled, error) => {
      logger.warn('spooled payment not recorded yet', { call: spooled.callSid, confirmation: spooled.confirmationCode, error: describeError(error) });
    });
    return recorded;
  }

  /**
   * Twilio's status callback: a final status ends the session, then (in a write of its own, apart
   * from the call's keys) the call's record goes to the store. A repeat of the callback for a call
   * already ended finds nothing and records nothing.
   */
  async ended(callSid: string, status: string, durationSeconds: number | null, path: string): Promise<void> {
    const started = performance.now();
    const { store, logger, clock } = this.options;
    let outcome: Outcome = 'failed';
    try {
      // The noted failure is taken beside the turn (one round trip fewer): taken from both places,
      // so the store keeps nothing of the call.
      const [session, noted] = await Promise.all([
        store.withTurn(callSid, null, async ({ session }) => ({ value: session, write: { kind: 'end' } }), LOCK),
        store.takeCallFailure(callSid),
      ]);
      const failure = this.failedCalls.take(callSid) ?? noted;
      const lastState = session ? stateName(session.snapshot as { value: unknown }) : null;
      // No session, nothing failed, and Twilio says the call completed: a repeat of this callback.
      if (!session && !failure && status === 'completed') {
        outcome = 'applied';
        logger.info('call ended', { call: callSid, status, seconds: durationSeconds, state: null, outcome: null });
        return;
      }
      const endedAt = clock();
      const record = callRecordOf(session?.trail ?? EMPTY_TRAIL, {
        callSid,
        startedAt: session?.startedAt ?? new Date(endedAt.getTime() - (durationSeconds ?? 0) * 1000).toISOString(),
        endedAt: endedAt.toISOString(),
        durationSeconds,
        language: session?.language ?? 'en',
        twilioStatus: status,
        failure,
      });
      this.observer.callEnded(record);
      logger.info('call ended', { call: callSid, status, seconds: durationSeconds, state: lastState, outcome: record.outcome });
      logger.debug('call record', {
        call: callSid, outcome: record.outcome, transferReason: record.transferReason, menus: record.menus.join('>'),
        identification: record.identification, identificationFailures: record.identificationFailures, payment: record.payment,
      });
      await store.recordCall(record);
      outcome = 'applied';
    } catch (error) {
      logger.error('status callback failed', { call: callSid, status, error: describeError(error) });
    } finally {
      this.observer.webhook(path, outcome, (performance.now() - started) / 1000);
    }
  }
}
