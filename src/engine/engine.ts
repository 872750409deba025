// One webhook, one turn: load the caller's machine, give it the event, let it settle, say
// what the settled state says, remember where the caller is. Never throws at Twilio.
import { createHash } from 'node:crypto';
import { createActor, waitFor, type SnapshotFrom } from 'xstate';
import { UNMATCHED_SPEECH, type CallerEvent, type HeardSpeech, type StateMeta } from '../../flows/events.ts';
import { keyForSpeech } from '../../prompts/speech.ts';
import { lineMachine, payRequestOf } from '../../flows/line.ts';
import type { Language, Utterance } from '../../prompts/speak.ts';
import type { Accounts } from '../domain/accounts.ts';
import { representativesAvailable } from '../domain/hours.ts';
import type { Payments } from '../domain/payments.ts';
import type { Services } from '../domain/services.ts';
import type { PaymentSpool } from '../store/payment-spool.ts';
import { domainActors } from './domain-actors.ts';
import { describeError, type Logger } from '../log.ts';
import type { CallStore, SessionRecord } from '../store/store.ts';
import { renderApology, renderPaymentUnconfirmed, renderReply, type Next, type PayRequest, type ReplyUrls } from '../telephony/twiml.ts';

export type LineMachine = typeof lineMachine;
type LineSnapshot = SnapshotFrom<LineMachine>;

/** Changes whenever the menus' shape changes, so a snapshot from an older deploy is not restored into a newer machine. */
export const MACHINE_VERSION = createHash('sha256').update(JSON.stringify(lineMachine.definition)).digest('hex').slice(0, 12);

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
  payment?: { caseNumber: string; amountCents: number } | null;
};

export type EngineOptions = {
  store: CallStore;
  logger: Logger;
  clock: () => Date;
  agentNumber: string;
  sessionTtlSeconds: number;
  /** Builds the absolute URLs a reply points Twilio at. */
  urlsFor: (turn: number, language: Language, pay: PayRequest | null) => ReplyUrls;
  paymentConnector: string;
  /** What the account and payment menus ask; bound to the machine's named actors. */
  accounts: Accounts;
  payments: Payments;
  services: Services;
  /** Where a card payment that succeeded at Twilio waits when the store cannot take it. */
  paymentSpool: PaymentSpool;
  /** The menus, if not the line's own (tests). */
  machine?: LineMachine;
  /** How long a machine may take to settle (store look-ups, PIN checks) before we apologise. */
  settleTimeoutMs?: number;
};

type Outcome = 'answered' | 'applied' | 'resumed' | 'replayed' | 'stale' | 'failed';

/** "paymentInfo.check" for the log; takes a live or a persisted snapshot. */
export function stateName(snapshot: { value: unknown }): string {
  const walk = (value: unknown): string =>
    typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}.${walk(v)}`).join(',');
  return walk(snapshot.value);
}

function nextOf(snapshot: LineSnapshot): Next | null {
  for (const meta of Object.values(snapshot.getMeta()) as StateMeta[]) {
    if (meta?.end) return { end: meta.end };
    if (meta?.wait) return meta.wait;
  }
  return null;
}

export class Engine {
  private readonly machine: LineMachine;
  private readonly options: EngineOptions;

  constructor(options: EngineOptions) {
    this.options = options;
    const { clock } = options;
    this.machine = (options.machine ?? lineMachine).provide({
      guards: { representativesAvailable: () => representativesAvailable(clock()) },
      actors: domainActors(options.accounts, options.payments, options.services),
    });
  }

  async take(turn: Turn): Promise<string> {
    const started = performance.now();
    const { store, logger } = this.options;
    let outcome: Outcome = 'failed';
    let state: string | null = null;
    let language: Language = turn.language ?? 'en';
    try {
      const result = await store.withCallLock(turn.callSid, () => this.takeLocked(turn));
      outcome = result.outcome;
      state = result.state;
      language = result.language;
      return result.twiml;
    } catch (error) {
      logger.error('webhook failed', { call: turn.callSid, path: turn.path, event: turn.event?.type ?? 'answer', error: describeError(error) });
      if (turn.event?.type === 'payResult' && turn.event.result === 'success' && turn.payment) {
        return this.spoolPayment(turn, turn.event.confirmationCode, turn.payment, language);
      }
      return renderApology(language, representativesAvailable(this.options.clock()), this.options.agentNumber);
    } finally {
      logger.info('webhook', {
        call: turn.callSid, path: turn.path, event: turn.event?.type ?? 'answer', turn: turn.turn,
        state, outcome, ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }
  }

  private async takeLocked(turn: Turn): Promise<{ twiml: string; outcome: Outcome; state: string | null; language: Language }> {
    const { store, sessionTtlSeconds } = this.options;
    const { session, reply } = await store.loadTurn(turn.callSid, turn.idempotencyToken);
    if (reply) return { twiml: reply, outcome: 'replayed', state: null, language: turn.language ?? 'en' };
    const usable = session && session.machineVersion === MACHINE_VERSION ? session : null;
    const orphanPayment = this.orphanPayment(turn, usable);
    if (orphanPayment) await orphanPayment.recorded;
    if (usable && (turn.event === null || turn.turn !== usable.turn)) {
      // A repeat of a post we already answered (a retry whose token we never saw, or a stale action URL).
      return { twiml: usable.lastTwiml, outcome: 'stale', state: null, language: usable.language };
    }

    const said: Utterance[] = orphanPayment ? await orphanPayment.receipt : [];
    let outcome: Outcome;
    let actor;
    if (usable) {
      actor = createActor(this.machine, { snapshot: usable.snapshot as LineSnapshot, input: {} });
      outcome = 'applied';
    } else if (turn.event === null) {
      actor = createActor(this.machine, { input: {} });
      outcome = 'answered';
    } else {
      // An action URL with no session behind it (expired, or the in-process store restarted):
      // the keys were meant for a prompt we no longer know, so start cleanly at the main menu.
      actor = createActor(this.machine, { input: { resume: true, language: turn.language ?? 'en' } });
      outcome = 'resumed';
    }
    actor.on('say', (event) => said.push(...event.lines));
    actor.start();
    if (outcome === 'applied' && turn.event) actor.send(this.asKey(turn.event, actor.getSnapshot()));

    let settled: LineSnapshot;
    let snapshot: unknown;
    try {
      settled = await waitFor(actor, (s) => s.status !== 'active' || nextOf(s) !== null, { timeout: this.options.settleTimeoutMs ?? 8000 });
      // Persist before stopping: a stopped actor's snapshot says "stopped" and would not run again.
      snapshot = actor.getPersistedSnapshot();
    } finally {
      // Also on a timeout: an invoked actor must not finish its work after the caller heard the apology.
      actor.stop();
    }
    if (settled.status === 'error') throw settled.error;
    const next = nextOf(settled);
    if (!next) throw new Error(`state ${stateName(settled)} neither waits for the caller nor ends the call`);

    const nextTurn = (usable?.turn ?? 0) + 1;
    const language = settled.context.language;
    const pay = next && 'input' in next && next.input === 'pay' ? payRequestOf(settled.context) : null;
    if ('input' in next && next.input === 'pay' && !pay) throw new Error('the line asked for <Pay> with nothing to charge');
    const twiml = renderReply({ language, said, next, pay }, this.options.urlsFor(nextTurn, language, pay), this.options.agentNumber, { paymentConnector: this.options.paymentConnector });
    const record: SessionRecord = {
      machineVersion: MACHINE_VERSION,
      turn: nextTurn,
      language,
      snapshot,
      lastTwiml: twiml,
      startedAt: usable?.startedAt ?? this.options.clock().toISOString(),
    };
    await store.saveSession(turn.callSid, record, sessionTtlSeconds, turn.idempotencyToken ? { idempotencyToken: turn.idempotencyToken, twiml } : undefined);
    return { twiml, outcome, state: stateName(settled), language };
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
    const receipt = this.options.payments.record({ caseNumber: payment.caseNumber as never, amount: payment.amountCents as never, confirmationCode: event.confirmationCode });
    return {
      recorded: receipt,
      receipt: receipt.then((r): Utterance[] => [
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
  private async spoolPayment(turn: Turn, confirmationCode: string, payment: { caseNumber: string; amountCents: number }, language: Language): Promise<string> {
    const { logger } = this.options;
    try {
      await this.options.paymentSpool.append({ ...payment, confirmationCode, receivedAt: this.options.clock().toISOString(), callSid: turn.callSid });
      // The spool holds the case and amount; the log line carries no digits the caller entered.
      logger.warn('payment spooled', { call: turn.callSid, confirmation: confirmationCode, spool: this.options.paymentSpool.file });
    } catch (error) {
      // Both the store and the disk failed: this line is the reconciliation record, so it alone
      // carries the case and the amount (never anything about the card).
      logger.error('payment not recorded', { call: turn.callSid, confirmation: confirmationCode, caseNumber: payment.caseNumber, amountCents: payment.amountCents, error: describeError(error) });
    }
    return renderPaymentUnconfirmed(language, payment.amountCents, confirmationCode);
  }

  /** Replays spooled payments into the store; safe to run at any time, from any instance. */
  async replaySpooledPayments(): Promise<number> {
    const { payments, paymentSpool, logger } = this.options;
    const recorded = await paymentSpool.replay(async (spooled) => {
      await payments.record(
        { caseNumber: spooled.caseNumber as never, amount: spooled.amountCents as never, confirmationCode: spooled.confirmationCode },
        new Date(spooled.receivedAt),
      );
      logger.info('spooled payment recorded', { call: spooled.callSid, confirmation: spooled.confirmationCode });
    }, (spooled, error) => {
      logger.warn('spooled payment not recorded yet', { call: spooled.callSid, confirmation: spooled.confirmationCode, error: describeError(error) });
    });
    return recorded;
  }

  /** Speech at a menu becomes the key it chooses there; unmatched or unsure speech, a wrong key. */
  private asKey(event: CallerEvent | HeardSpeech, snapshot: LineSnapshot): CallerEvent {
    if (event.type !== 'speech') return event;
    const next = nextOf(snapshot);
    const vocabulary = next && 'input' in next && next.input === 'menu' ? next.vocabulary : undefined;
    const key = vocabulary ? keyForSpeech(vocabulary, event.text, event.confidence, snapshot.context.language) : null;
    return { type: 'digits', digits: key ?? UNMATCHED_SPEECH };
  }

  /** Twilio's status callback: a final status ends the session and records the outcome. */
  async ended(callSid: string, status: string, durationSeconds: number | null): Promise<void> {
    const { store, logger } = this.options;
    try {
      await store.withCallLock(callSid, async () => {
        const session = await store.getSession(callSid);
        let lastState: string | null = null;
        if (session) {
          lastState = stateName(session.snapshot as { value: unknown });
        }
        await store.recordCallOutcome({ callSid, status, durationSeconds, lastState, endedAt: this.options.clock().toISOString() });
        await store.deleteSession(callSid);
        logger.info('call ended', { call: callSid, status, seconds: durationSeconds, state: lastState });
      });
    } catch (error) {
      logger.error('status callback failed', { call: callSid, status, error: describeError(error) });
    }
  }
}
