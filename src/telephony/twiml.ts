// The settled state, turned into TwiML. Only this file and the routes know TwiML.
import twilio from 'twilio';
import type { WaitFor } from '../../flows/events.ts';
import { speak, VOICE, type Language, type Utterance } from '../../prompts/speak.ts';
import { hintsFor } from '../../prompts/speech.ts';

const { VoiceResponse } = twilio.twiml;

export type Next = WaitFor | { end: 'hangup' };

export type PayRequest = { caseNumber: string; chargeCents: number; amountCents: number };

export type Reply = { language: Language; said: readonly Utterance[]; next: Next; pay?: PayRequest | null };

export type ReplyUrls = {
  /** The <Gather> action: where keys are posted. */
  input: string;
  /** Where the caller goes when the <Gather> hears nothing (Twilio falls through to the next verb). */
  noInput: string;
  /** The <Dial> action: Twilio posts DialCallStatus there when the transfer ends. */
  dialEnded: string;
  /** The <Pay> action and its status callback. */
  pay: string;
  payStatus: string;
};

export type PaySettings = { paymentConnector: string };

// Seconds Twilio waits for the first key and between keys. Callers on cell phones, often
// reading a number off a letter, need longer for digit entries than for a menu key.
export const MENU_TIMEOUT = 6;
export const ENTRY_TIMEOUT = 10;
export const DIAL_TIMEOUT = 30;

type Sayer = { say(attributes: { voice?: string; language?: string }, text: string): unknown };

function sayAll(target: Sayer, said: readonly Utterance[], language: Language): void {
  for (const utterance of said) {
    const { text, language: spokenIn } = speak(utterance, language);
    const voice = VOICE[spokenIn];
    target.say({ voice: voice.voice as never, language: voice.language as never }, text);
  }
}

type PromptSpec = { for: 'payment-card-number' | 'expiration-date' | 'security-code' | 'postal-code' | 'payment-processing'; errorType?: ('timeout' | 'invalid-card-number' | 'invalid-card-type' | 'invalid-date' | 'invalid-security-code')[]; ids: Utterance['id'][] };

// Every <Pay> prompt in the caller's language, so a Spanish caller never hears Twilio's English
// defaults (twilio.com/docs/voice/twiml/pay#prompt).
const PAY_PROMPTS: readonly PromptSpec[] = [
  { for: 'payment-card-number', ids: ['pay.prompt.cardNumber'] },
  { for: 'payment-card-number', errorType: ['timeout'], ids: ['pay.prompt.timeout', 'pay.prompt.cardNumber'] },
  { for: 'payment-card-number', errorType: ['invalid-card-number'], ids: ['pay.prompt.cardNumberInvalid'] },
  { for: 'payment-card-number', errorType: ['invalid-card-type'], ids: ['pay.prompt.cardType'] },
  { for: 'expiration-date', ids: ['pay.prompt.expiry'] },
  { for: 'expiration-date', errorType: ['timeout'], ids: ['pay.prompt.timeout', 'pay.prompt.expiry'] },
  { for: 'expiration-date', errorType: ['invalid-date'], ids: ['pay.prompt.expiryInvalid'] },
  { for: 'security-code', ids: ['pay.prompt.securityCode'] },
  { for: 'security-code', errorType: ['timeout'], ids: ['pay.prompt.timeout', 'pay.prompt.securityCode'] },
  { for: 'security-code', errorType: ['invalid-security-code'], ids: ['pay.prompt.securityCodeInvalid'] },
  { for: 'postal-code', ids: ['pay.prompt.postalCode'] },
  { for: 'postal-code', errorType: ['timeout'], ids: ['pay.prompt.timeout', 'pay.prompt.postalCode'] },
  { for: 'payment-processing', ids: ['pay.prompt.processing'] },
];

function dollars(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export function renderReply(reply: Reply, urls: ReplyUrls, agentNumber: string, settings: PaySettings = { paymentConnector: 'Default' }): string {
  const response = new VoiceResponse();
  const { next, said, language } = reply;
  if ('input' in next && next.input === 'pay') {
    if (!reply.pay) throw new Error('<Pay> needs an amount and a case');
    sayAll(response, said, language);
    // Card data goes to Twilio and the connector only; our action URL gets the result, the
    // confirmation code and masked digits (twilio.com/docs/voice/twiml/pay#action).
    const pay = response.pay({
      input: 'dtmf',
      action: urls.pay,
      statusCallback: urls.payStatus,
      statusCallbackMethod: 'POST',
      timeout: ENTRY_TIMEOUT,
      maxAttempts: 3,
      securityCode: true,
      postalCode: 'true',
      paymentConnector: settings.paymentConnector,
      paymentMethod: 'credit-card',
      chargeAmount: dollars(reply.pay.chargeCents),
      currency: 'usd',
      description: `Child support payment, case ${reply.pay.caseNumber}`,
      language: VOICE[language].language as never,
      validCardTypes: ['visa', 'mastercard', 'amex', 'discover'],
    });
    for (const spec of PAY_PROMPTS) {
      const prompt = pay.prompt({ for: spec.for, ...(spec.errorType ? { errorType: spec.errorType } : {}) });
      sayAll(prompt, spec.ids.map((id) => ({ id })), language);
    }
  } else if ('end' in next) {
    sayAll(response, said, language);
    response.hangup();
  } else if (next.input === 'dial') {
    sayAll(response, said, language);
    // Without `action`, Twilio would continue after the dial with the next verb whether or not
    // anyone answered; with it, the machine learns DialCallStatus and can bring the caller back.
    response.dial({ action: urls.dialEnded, method: 'POST', timeout: DIAL_TIMEOUT }, agentNumber);
  } else {
    // Everything said goes inside the <Gather> so a caller who knows the menu can press a key at once.
    const gather = response.gather(
      next.input === 'menu'
        // finishOnKey "" makes `#` an ordinary (wrong) key in a menu instead of an empty entry.
        // Menus with a vocabulary also listen for speech, in the caller's language, with hints
        // (twilio.com/docs/voice/twiml/gather#input, #hints, #language); entries never do.
        ? {
            input: next.vocabulary ? ['dtmf', 'speech'] : ['dtmf'], numDigits: 1, finishOnKey: '', timeout: MENU_TIMEOUT, action: urls.input, method: 'POST',
            ...(next.vocabulary ? { language: VOICE[language].language as never, hints: hintsFor(next.vocabulary, language), speechTimeout: 'auto' } : {}),
          }
        // No numDigits on entries: callers are told to finish with `#`, and a `#` pressed after
        // Twilio had already closed the <Gather> would land, empty, in the next one.
        : { input: ['dtmf'], finishOnKey: '#', timeout: ENTRY_TIMEOUT, action: urls.input, method: 'POST' },
    );
    sayAll(gather, said, language);
    // Twilio falls through to the next verb when the <Gather> gets no input (twilio.com/docs/voice/twiml/gather).
    response.redirect({ method: 'POST' }, urls.noInput);
  }
  return response.toString();
}

/** Said when something inside failed: never an application error, never a 5xx (spec section 3). */
export function renderApology(language: Language, representativesAvailable: boolean, agentNumber: string): string {
  const response = new VoiceResponse();
  if (representativesAvailable) {
    sayAll(response, [{ id: 'error.transfer' }], language);
    // No action URL: with the store failing there is nothing to come back to, and after a
    // conversation with a representative the caller must not hear "we could not reach anyone".
    response.dial({ timeout: DIAL_TIMEOUT }, agentNumber);
  } else {
    sayAll(response, [{ id: 'error.closed' }, { id: 'hours.representatives' }, { id: 'goodbye' }], language);
  }
  response.hangup();
  return response.toString();
}

/** The store could not take a payment Twilio approved: the caller keeps the confirmation number. */
export function renderPaymentUnconfirmed(language: Language, amountCents: number, confirmationCode: string): string {
  const response = new VoiceResponse();
  const code = { kind: 'digits' as const, value: confirmationCode };
  sayAll(response, [{ id: 'pay.unconfirmed', values: { amount: { kind: 'money', cents: amountCents }, code } }, { id: 'goodbye' }], language);
  response.hangup();
  return response.toString();
}

export function emptyResponse(): string {
  return new VoiceResponse().toString();
}
