// What the engine tells whoever watches the line (metrics): each webhook's outcome and time,
// each menu a caller enters, each card payment's result, each finished call's record. The engine
// knows only this interface; src/metrics.ts binds it to Prometheus counters.
import type { CallRecord, Menu } from '../domain/call-record.ts';

/** How the engine took a webhook: a new call, an event applied, a session restarted, a retry answered again, a stale post, a failure (the apology). */
export const WEBHOOK_OUTCOMES = ['answered', 'applied', 'resumed', 'replayed', 'stale', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * What became of a card payment: recorded, or already recorded (the same confirmation code again,
 * or a second success on a used <Pay> URL); declined at the processor; the caller hung up during
 * card entry; approved and spooled while the store was away, or approved and neither recorded nor
 * spooled (the log line is then its only record).
 */
export const PAYMENT_OUTCOMES = ['recorded', 'duplicate', 'replayed', 'declined', 'hung_up', 'spooled', 'unrecorded'] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

export type EngineObserver = {
  /** `route` is the webhook's path; `seconds` from the post's arrival at the engine to its reply. */
  webhook(route: string, outcome: WebhookOutcome, seconds: number): void;
  /** A caller entered a menu (a repeat of the menu they are in is not an entry). */
  menuVisited(menu: Menu): void;
  /** `amountCents` when a payment was recorded, for the line's total; null otherwise. */
  payment(outcome: PaymentOutcome, amountCents: number | null): void;
  callEnded(record: CallRecord): void;
};

export const quietObserver: EngineObserver = { webhook() {}, menuVisited() {}, payment() {}, callEnded() {} };
