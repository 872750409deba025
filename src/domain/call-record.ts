// What the line keeps about one finished call, for the call-outcome report. Nothing in it names
// or reaches a person: no participant ID, phone number, amount, case number or digit typed.

export const CALL_OUTCOMES = ['self_served', 'transferred', 'abandoned', 'gave_up', 'failed'] as const;
export type CallOutcomeKind = (typeof CALL_OUTCOMES)[number];

/** Why a call went to a representative: pressed 0 / three failures in a row / the apology after an internal failure. */
export const TRANSFER_REASONS = ['requested', 'gave_up', 'error'] as const;
export type TransferReason = (typeof TRANSFER_REASONS)[number];

export const IDENTIFICATION_RESULTS = ['none', 'verified', 'failed', 'throttled'] as const;
export type IdentificationResult = (typeof IDENTIFICATION_RESULTS)[number];

export const PAYMENT_RESULTS = ['none', 'recorded', 'declined', 'spooled'] as const;
export type PaymentResult = (typeof PAYMENT_RESULTS)[number];

export const MENUS = [
  'language', 'main', 'account', 'balance', 'history', 'caseInformation', 'services', 'phone', 'forms',
  'recurring', 'pinHelp', 'forgotPin', 'changePin', 'login', 'payment', 'paymentInfo', 'hours', 'transfer',
] as const;
export type Menu = (typeof MENUS)[number];

/**
 * One call. `transferReason` is set exactly when `outcome` is 'transferred'. `menus` are the menus
 * the caller was in, in order, with consecutive repeats collapsed (see `visitMenu`).
 */
export type CallRecord = {
  callSid: string;
  startedAt: string; // ISO 8601
  endedAt: string; // ISO 8601
  durationSeconds: number | null; // Twilio's CallDuration; null when Twilio gave none
  language: 'en' | 'es';
  menus: Menu[];
  outcome: CallOutcomeKind;
  transferReason: TransferReason | null;
  identification: IdentificationResult;
  identificationFailures: number;
  payment: PaymentResult;
  twilioStatus: string;
};

const oneOf = <T extends string>(list: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (list as readonly string[]).includes(value);

export const isMenu = (value: unknown): value is Menu => oneOf(MENUS, value);

/** The menus so far with `menu` entered: a repeat of the menu the caller is already in adds nothing. */
export function visitMenu(menus: readonly Menu[], menu: Menu): Menu[] {
  return menus[menus.length - 1] === menu ? [...menus] : [...menus, menu];
}

// Twilio's SIDs are two letters and 32 hex digits; the simulators use the same shape. Letters,
// digits, '_' and '-' only, so a SID can never smuggle markup or a spreadsheet formula into a report.
const CALL_SID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const TWILIO_STATUS = /^[a-z-]{1,32}$/;

const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * A stored or exported record checked field by field; the error names the first bad field. Only
 * the fields above are kept: anything else the input carries is dropped, never passed on.
 */
export function parseCallRecord(value: unknown): CallRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a call record must be a JSON object');
  const v = value as Record<string, unknown>;
  const bad = (field: string, expected: string) => new Error(`${field} must be ${expected}`);
  if (typeof v.callSid !== 'string' || !CALL_SID.test(v.callSid)) throw bad('callSid', 'a call SID (letters, digits, _ and -)');
  if (!isInstant(v.startedAt)) throw bad('startedAt', 'an ISO 8601 time with a zone');
  if (!isInstant(v.endedAt)) throw bad('endedAt', 'an ISO 8601 time with a zone');
  if (Date.parse(v.endedAt) < Date.parse(v.startedAt)) throw bad('endedAt', 'no earlier than startedAt');
  if (v.durationSeconds !== null && !isCount(v.durationSeconds)) throw bad('durationSeconds', 'a whole number of seconds or null');
  if (v.language !== 'en' && v.language !== 'es') throw bad('language', '"en" or "es"');
  if (!Array.isArray(v.menus) || !v.menus.every(isMenu)) throw bad('menus', `a list of menus (${MENUS.join(', ')})`);
  if (!oneOf(CALL_OUTCOMES, v.outcome)) throw bad('outcome', `one of ${CALL_OUTCOMES.join(', ')}`);
  if (v.outcome === 'transferred' ? !oneOf(TRANSFER_REASONS, v.transferReason) : v.transferReason !== null) {
    throw bad('transferReason', `one of ${TRANSFER_REASONS.join(', ')} for a transferred call, and null otherwise`);
  }
  if (!oneOf(IDENTIFICATION_RESULTS, v.identification)) throw bad('identification', `one of ${IDENTIFICATION_RESULTS.join(', ')}`);
  if (!isCount(v.identificationFailures)) throw bad('identificationFailures', 'a whole number, 0 or more');
  if (!oneOf(PAYMENT_RESULTS, v.payment)) throw bad('payment', `one of ${PAYMENT_RESULTS.join(', ')}`);
  if (typeof v.twilioStatus !== 'string' || !TWILIO_STATUS.test(v.twilioStatus)) throw bad('twilioStatus', "a Twilio call status such as 'completed'");
  return {
    callSid: v.callSid,
    startedAt: v.startedAt,
    endedAt: v.endedAt,
    durationSeconds: v.durationSeconds,
    language: v.language,
    menus: v.menus,
    outcome: v.outcome,
    transferReason: v.transferReason as TransferReason | null,
    identification: v.identification,
    identificationFailures: v.identificationFailures,
    payment: v.payment,
    twilioStatus: v.twilioStatus,
  };
}

/**
 * What a call's session gathers, turn by turn, for the record written when the call ends. It
 * lives in the session, so it stays small: `menus` keeps its first MAX_TRAIL_MENUS - 1 entries
 * and, always, the last.
 */
export type CallTrail = {
  menus: Menu[];
  identification: IdentificationResult;
  identificationFailures: number;
  payment: PaymentResult;
  /** Why the caller is being sent to a representative; cleared when nobody answered and the caller came back. */
  transfer: TransferReason | null;
  /** Three failures in a row with no representative to take the call: the line said goodbye. */
  gaveUp: boolean;
  /** The caller heard an answer: a readout, a receipt, payment information, the office hours, a change made. */
  served: boolean;
};

export const EMPTY_TRAIL: CallTrail = {
  menus: [], identification: 'none', identificationFailures: 0, payment: 'none', transfer: null, gaveUp: false, served: false,
};

export const MAX_TRAIL_MENUS = 40;

/** The trail's menus with `menu` entered (see `visitMenu`), held to MAX_TRAIL_MENUS with the last one kept. */
export function trailMenus(menus: readonly Menu[], menu: Menu): Menu[] {
  const visited = visitMenu(menus, menu);
  return visited.length > MAX_TRAIL_MENUS ? [...visited.slice(0, MAX_TRAIL_MENUS - 1), menu] : visited;
}

// Later results win over earlier ones only when they say more: a verified caller stays verified.
const IDENTIFICATION_RANK: Record<IdentificationResult, number> = { none: 0, failed: 1, throttled: 2, verified: 3 };
const PAYMENT_RANK: Record<PaymentResult, number> = { none: 0, declined: 1, spooled: 2, recorded: 3 };
export const strongerIdentification = (a: IdentificationResult, b: IdentificationResult): IdentificationResult =>
  IDENTIFICATION_RANK[b] > IDENTIFICATION_RANK[a] ? b : a;
export const strongerPayment = (a: PaymentResult, b: PaymentResult): PaymentResult => (PAYMENT_RANK[b] > PAYMENT_RANK[a] ? b : a);

/**
 * A webhook that ended the call in a way its session could not keep (the store was away, or the
 * turn failed): the apology with a transfer or with a goodbye, or a card payment approved and spooled.
 */
export const TURN_FAILURES = ['apology-transfer', 'apology-goodbye', 'payment-spooled'] as const;
export type TurnFailure = (typeof TURN_FAILURES)[number];
export const isTurnFailure = (value: unknown): value is TurnFailure => oneOf(TURN_FAILURES, value);

/** What Twilio's final status callback and the engine know when a call ends. */
export type CallEnding = {
  callSid: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number | null;
  language: 'en' | 'es';
  twilioStatus: string;
  failure: TurnFailure | null;
};

/**
 * The record of a call that ended. The outcome, first rule that holds: failed (the apology ended
 * it with a goodbye, or Twilio says the call failed); transferred for an error (the apology sent
 * the caller to a representative); gave up; transferred (pressed 0, or three failures in office
 * hours); self-served (the caller heard an answer); abandoned.
 */
export function callRecordOf(trail: CallTrail, ending: CallEnding): CallRecord {
  const { failure } = ending;
  const base = {
    callSid: ending.callSid,
    startedAt: ending.startedAt,
    endedAt: ending.endedAt,
    durationSeconds: ending.durationSeconds,
    language: ending.language,
    menus: [...trail.menus],
    identification: trail.identification,
    identificationFailures: trail.identificationFailures,
    payment: failure === 'payment-spooled' ? strongerPayment(trail.payment, 'spooled') : trail.payment,
    twilioStatus: ending.twilioStatus,
  };
  const ended = (outcome: CallOutcomeKind, transferReason: TransferReason | null = null): CallRecord => ({ ...base, outcome, transferReason });
  if (failure === 'apology-goodbye' || ending.twilioStatus === 'failed') return ended('failed');
  if (failure === 'apology-transfer') return ended('transferred', 'error');
  if (trail.gaveUp) return ended('gave_up');
  if (trail.transfer) return ended('transferred', trail.transfer);
  if (trail.served || failure === 'payment-spooled') return ended('self_served');
  return ended('abandoned');
}
