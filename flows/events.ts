// What a caller (or Twilio on the caller's behalf) can do, as the machines see it.
// Only the telephony layer knows the Twilio parameter names these come from.

export type DialStatus = 'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/**
 * What a caller said at a menu (<Gather input="dtmf speech">). The engine turns it into the key
 * it chooses (or "?" for speech it could not match) before the machine sees it.
 */
export type HeardSpeech = { type: 'speech'; text: string; confidence: number };

/** The key the engine sends for speech that matched no choice (no keypad can send it). */
export const UNMATCHED_SPEECH = '?';

/** What Twilio's <Pay> ended with (the action callback's Result). */
export type PayResult =
  | 'success' | 'too-many-failed-attempts' | 'payment-connector-error' | 'caller-interrupted-with-star'
  | 'caller-hung-up' | 'validation-error' | 'internal-error';

export type CallerEvent =
  /** Keys from a <Gather>; `#` (finishOnKey) is never included, `*` is. */
  | { type: 'digits'; digits: string }
  /** The <Gather> timed out with nothing entered. */
  | { type: 'noInput' }
  /** The transfer to a representative ended. */
  | { type: 'dialEnded'; status: DialStatus }
  /**
   * <Pay> finished. Only the result, the confirmation code and the card's last four digits ever
   * arrive here, with the ticket of the action URL (which one payment may use).
   */
  | { type: 'payResult'; result: PayResult; confirmationCode: string; last4: string; ticket: string };

/** What the caller is waiting on, read from the settled state's meta by the renderer. */
import type { VocabularyId } from '../prompts/speech.ts';

export type WaitFor =
  /** A menu key; with a vocabulary, the caller may also say the choice. */
  | { input: 'menu'; vocabulary?: VocabularyId }
  | { input: 'digits'; maxLength: number }
  | { input: 'dial' }
  | { input: 'pay' };

export type StateMeta = { wait?: WaitFor; end?: 'hangup' };
