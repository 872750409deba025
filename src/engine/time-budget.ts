// How a webhook spends the time Twilio gives it, defined once. Twilio waits 15 s for an answer
// (its default read timeout; twilio.com/docs/usage/webhooks/webhooks-connection-overrides) and
// then plays "application error" or retries; the caller must hear our own words before that.
export const TWILIO_READ_TIMEOUT_MS = 15_000;

export const TIME_BUDGET = {
  /**
   * How long a webhook waits for its call's lock: a retry racing the request it retries, or the
   * lease of a holder that died (kill -9) running out. Longer than the lease, so a dead holder's
   * lock is always inherited rather than apologised for.
   */
  lockWaitMs: 5_000,
  /** The lock's lease, renewed every third of it while the holder works. */
  lockLeaseMs: 4_000,
  /** How long the menus may take to settle (caseload reads, a queued PIN check) before we apologise. */
  settleMs: 7_000,
  /** What is left for the two store round trips (each fails within the Redis client's 1.5 s command timeout), rendering and the network. */
  marginMs: 3_000,
} as const;

// The parts must fit in Twilio's wait, or a slow webhook would outlive it.
if (TIME_BUDGET.lockWaitMs + TIME_BUDGET.settleMs + TIME_BUDGET.marginMs > TWILIO_READ_TIMEOUT_MS) {
  throw new Error('the webhook time budget does not fit in Twilio\'s read timeout');
}
