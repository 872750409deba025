// The engine's Reply, rendered as TwiML with plain, escaped string templates: the same document
// twilio's VoiceResponse builds (test/twiml.test.ts holds it to that, byte for byte), at a
// fraction of the cost. Only this file and the routes know TwiML.
import type { Reply } from '../engine/reply.ts';
import { cents, formatMoney } from '../domain/money.ts';
import type { Language } from '../domain/language.ts';
import { speakPieces, VOICE, type Piece, type Utterance } from '../../prompts/speak.ts';
import { hintsFor } from '../../prompts/speech.ts';

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

type PayPromptFor = 'payment-card-number' | 'expiration-date' | 'security-code' | 'postal-code' | 'payment-processing';
type PayErrorType = 'timeout' | 'invalid-card-number' | 'invalid-card-type' | 'invalid-date' | 'invalid-security-code';
export type PayPrompt = { for: PayPromptFor; errorType?: readonly PayErrorType[]; ids: readonly Utterance['id'][] };

// Every <Pay> prompt in the caller's language, so a Spanish caller never hears Twilio's English
// defaults (twilio.com/docs/voice/twiml/pay#prompt).
export const PAY_PROMPTS: readonly PayPrompt[] = [
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

// Characters XML 1.0 cannot carry at all; a stray one in caseload text must not break the document.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content, escaped as twilio's xmlbuilder escapes it. */
export function text(value: string): string {
  return value.replace(NOT_XML, '').replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;'));
}

const ATTRIBUTE_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

type Attributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** Attributes in the order given, undefined ones left out, values escaped as xmlbuilder does. */
function attributes(values: Attributes): string {
  let out = '';
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out += ` ${name}="${String(value).replace(NOT_XML, '').replace(/[&<"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c] ?? c)}"`;
  }
  return out;
}

function element(name: string, attrs: Attributes, content: string): string {
  return content === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${content}</${name}>`;
}

// Digits go to Polly as SSML <say-as> (the <Say> children Twilio passes through), the rest as text.
const ssml = (piece: Piece): string => (typeof piece === 'string' ? text(piece) : element('say-as', { 'interpret-as': piece.sayAs }, text(piece.value)));

function says(said: readonly Utterance[], language: Language): string {
  let out = '';
  for (const utterance of said) {
    const spoken = speakPieces(utterance, language);
    const voice = VOICE[spoken.language];
    out += element('Say', { voice: voice.voice, language: voice.language }, spoken.pieces.map(ssml).join(''));
  }
  return out;
}

const DOCUMENT = '<?xml version="1.0" encoding="UTF-8"?>';
const response = (verbs: string) => `${DOCUMENT}${element('Response', {}, verbs)}`;

export function renderReply(reply: Reply, urls: ReplyUrls, agentNumber: string, settings: PaySettings = { paymentConnector: 'Default' }): string {
  const { next, said, language } = reply;
  if ('end' in next) {
    // With the store failing there is nothing to come back to, so the <Dial> has no action, and a
    // caller done with a representative must not hear "we could not reach anyone".
    if (next.end === 'transfer') return response(says(said, language) + element('Dial', { timeout: DIAL_TIMEOUT }, text(agentNumber)) + '<Hangup/>');
    return response(says(said, language) + '<Hangup/>');
  }
  if (next.input === 'pay') {
    if (!reply.pay) throw new Error('<Pay> needs an amount and a case');
    // Card data goes to Twilio and the connector only; our action URL gets the result, the
    // confirmation code and masked digits (twilio.com/docs/voice/twiml/pay#action).
    const prompts = PAY_PROMPTS.map((prompt) =>
      element('Prompt', { for: prompt.for, errorType: prompt.errorType?.join(' ') }, says(prompt.ids.map((id) => ({ id })), language))).join('');
    const pay = element('Pay', {
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
      chargeAmount: formatMoney(cents(reply.pay.chargeCents)),
      currency: 'usd',
      description: `Child support payment, case ${reply.pay.caseNumber}`,
      language: VOICE[language].language,
      validCardTypes: 'visa mastercard amex discover',
    }, prompts);
    return response(says(said, language) + pay);
  }
  if (next.input === 'dial') {
    // Without `action`, Twilio would continue after the dial with the next verb whether or not
    // anyone answered; with it, the machine learns DialCallStatus and can bring the caller back.
    return response(says(said, language) + element('Dial', { action: urls.dialEnded, method: 'POST', timeout: DIAL_TIMEOUT }, text(agentNumber)));
  }
  // Everything said goes inside the <Gather> so a caller who knows the menu can press a key at once.
  const gather = next.input === 'menu'
    // finishOnKey "" makes `#` an ordinary (wrong) key in a menu instead of an empty entry.
    // Menus with a vocabulary also listen for speech, in the caller's language, with hints
    // (twilio.com/docs/voice/twiml/gather#input, #hints, #language); entries never do.
    ? {
        input: next.vocabulary ? 'dtmf speech' : 'dtmf', numDigits: 1, finishOnKey: '', timeout: MENU_TIMEOUT, action: urls.input, method: 'POST',
        ...(next.vocabulary ? { language: VOICE[language].language, hints: hintsFor(next.vocabulary, language), speechTimeout: 'auto' } : {}),
      }
    // No numDigits on entries: callers are told to finish with `#`, and a `#` pressed after
    // Twilio had already closed the <Gather> would land, empty, in the next one.
    : { input: 'dtmf', finishOnKey: '#', timeout: ENTRY_TIMEOUT, action: urls.input, method: 'POST' };
  // Twilio falls through to the next verb when the <Gather> gets no input (twilio.com/docs/voice/twiml/gather).
  return response(element('Gather', gather, says(said, language)) + element('Redirect', { method: 'POST' }, text(urls.noInput)));
}

export function emptyResponse(): string {
  return response('');
}
