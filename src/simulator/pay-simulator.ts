// Twilio's part of <Pay>: Twilio, not the line, asks for the card, checks each entry, asks again,
// and charges through a Pay Connector (twilio.com/docs/voice/twiml/pay). This plays that part for
// the simulated phone, with a simulated connector that knows the test cards listed in
// test/calls/README.md. The phone gives it the caller's keys and posts what it decides.
import { randomBytes } from 'node:crypto';
import { elementsOf, type XmlElement } from './twiml-reader.ts';
import type { HttpMethod } from './webhook-client.ts';

/** The card-entry steps of <Pay paymentMethod="credit-card">, in the order Twilio asks them. */
export type PayStep = 'payment-card-number' | 'expiration-date' | 'security-code' | 'postal-code';
export type CardType = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners-club' | 'maestro';
export type PayResult =
  | 'success'
  | 'too-many-failed-attempts'
  | 'payment-connector-error'
  | 'caller-interrupted-with-star'
  | 'caller-hung-up'
  | 'validation-error'
  | 'internal-error';

/** What the phone waits for while Twilio runs a <Pay>: the caller's keys for one card-entry step. */
export type PayWaiting = {
  kind: 'pay';
  for: PayStep;
  /** 1 for the first ask of this step, then 2, 3, ... after each invalid entry or silence. */
  attempt: number;
  maxAttempts: number;
  /** Why the step is asked again ('invalid-card-number', 'timeout', ...), null on the first ask. */
  errorType: string | null;
  /** The card's type once the card number has been entered. */
  cardType: CardType | null;
  finishOnKey: '#';
  timeout: number;
  chargeAmount: string | null;
  currency: string;
  language: string;
  validCardTypes: readonly string[];
  action: string | null;
  attributes: Readonly<Record<string, string>>;
};

/** What the call does for the <Pay>: speak, note, and send its status callbacks. */
export type PayHost = {
  /** A line of the transcript from Twilio itself. */
  note(text: string): void;
  /** Twilio's own prompt, in the <Pay> language. */
  sayDefault(text: string, language: string): void;
  /** A <Say> or <Play> of one of the <Pay>'s <Prompt>s. */
  play(element: XmlElement): void;
  /** A progress or result webhook to <Pay statusCallback>. */
  statusCallback(method: HttpMethod, url: string, params: Record<string, string>): Promise<void>;
  hasEnded(): boolean;
};

/** The <Pay>'s result, for the phone to post to its action and go on with the answer. */
export type PayAction = { method: HttpMethod; url: string; params: Record<string, string> };
/** After each turn: waiting for the caller's keys again, the result to post, or the call is over. */
export type PayNext = 'asking' | 'ended' | PayAction;

type PayAttributes = {
  action: string | null;
  method: HttpMethod;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  timeout: number;
  maxAttempts: number;
  securityCode: boolean;
  postalCode: boolean;
  paymentConnector: string;
  paymentMethod: string;
  input: string;
  chargeAmount: string | null;
  currency: string;
  description: string;
  language: string;
  validCardTypes: string[];
  attributes: Record<string, string>;
};
type PayPrompt = { for: string; errorTypes: string[] | null; cardTypes: string[] | null; attempts: number[] | null; children: XmlElement[] };
type PayCard = { number: string; type: CardType };
type PayOutcome = {
  result: PayResult;
  confirmationCode?: string;
  token?: string;
  payErrorCode?: string;
  paymentError?: string;
  connectorError?: string;
};

const CARD_TYPES: readonly CardType[] = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners-club', 'maestro'];
const PROMPT_CHILDREN = new Set(['Say', 'Play', 'Pause']);
const PAY_CHILDREN = new Set(['Prompt', 'Parameter']);

// The simulated Pay Connector's answers for its test cards; any other valid card is charged.
// The codes are Twilio's: 64012 "Payment Gateway rejected the card" (twilio.com/docs/api/errors/64012),
// 64008 "Payment Gateway rejected charge creation" (twilio.com/docs/api/errors/64008).
export const PAY_TEST_CARDS = {
  declined: '4000000000000002',
  processingError: '4000000000000119',
} as const;
const CONNECTOR_FAILURES: Readonly<Record<string, Required<Pick<PayOutcome, 'payErrorCode' | 'paymentError' | 'connectorError'>>>> = {
  [PAY_TEST_CARDS.declined]: { payErrorCode: '64012', paymentError: 'card-declined: Your card was declined.', connectorError: 'card_declined' },
  [PAY_TEST_CARDS.processingError]: { payErrorCode: '64008', paymentError: 'processing-error: An error occurred while processing your card.', connectorError: 'processing_error' },
};

// Twilio's own prompts, when the <Pay> has no <Prompt> for a step, stand in as short bracketed
// texts in the Pay language (English for languages other than Spanish).
const DEFAULT_ASK: Readonly<Record<'en' | 'es', Readonly<Record<string, string>>>> = {
  en: {
    'payment-card-number': 'enter your card number, then press pound',
    'expiration-date': 'enter the expiration date, two digits for the month and two for the year',
    'security-code': 'enter the security code',
    'postal-code': 'enter the billing postal code',
    'payment-processing': 'processing your payment',
  },
  es: {
    'payment-card-number': 'marque el número de su tarjeta y oprima numeral',
    'expiration-date': 'marque la fecha de vencimiento, dos dígitos para el mes y dos para el año',
    'security-code': 'marque el código de seguridad',
    'postal-code': 'marque el código postal de facturación',
    'payment-processing': 'procesando su pago',
  },
};
const DEFAULT_ERROR: Readonly<Record<'en' | 'es', Readonly<Record<string, string>>>> = {
  en: {
    timeout: 'no entry was heard',
    'invalid-card-number': 'that card number is not valid',
    'invalid-card-type': 'that card type is not accepted',
    'invalid-date': 'that expiration date is not valid',
    'invalid-security-code': 'that security code is not valid',
    'invalid-postal-code': 'that postal code is not valid',
  },
  es: {
    timeout: 'no se marcó nada',
    'invalid-card-number': 'ese número de tarjeta no es válido',
    'invalid-card-type': 'no se acepta ese tipo de tarjeta',
    'invalid-date': 'esa fecha de vencimiento no es válida',
    'invalid-security-code': 'ese código de seguridad no es válido',
    'invalid-postal-code': 'ese código postal no es válido',
  },
};

function defaultPayPrompt(language: string, step: string, errorType: string | null): string {
  const lang = language.toLowerCase().startsWith('es') ? 'es' : 'en';
  const ask = DEFAULT_ASK[lang][step] ?? step;
  const error = errorType === null ? '' : `${DEFAULT_ERROR[lang][errorType] ?? errorType}; `;
  return `[Twilio default prompt (${language}): ${error}${ask}]`;
}

function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number.charAt(number.length - 1 - i));
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The card network from the number's prefix (IIN ranges), or null when none matches. */
export function cardTypeOf(number: string): CardType | null {
  const prefix = (length: number) => Number(number.slice(0, length));
  if (/^3[47]/.test(number)) return 'amex';
  if (number.startsWith('4')) return 'visa';
  if ((prefix(2) >= 51 && prefix(2) <= 55) || (prefix(4) >= 2221 && prefix(4) <= 2720)) return 'mastercard';
  if (prefix(4) === 6011 || prefix(2) === 65 || (prefix(3) >= 644 && prefix(3) <= 649) || (prefix(6) >= 622126 && prefix(6) <= 622925)) return 'discover';
  if (prefix(4) >= 3528 && prefix(4) <= 3589) return 'jcb';
  if ((prefix(3) >= 300 && prefix(3) <= 305) || prefix(2) === 36 || prefix(2) === 38 || prefix(2) === 39) return 'diners-club';
  if (/^(5[06-9]|6)/.test(number)) return 'maestro';
  return null;
}

const CARD_LENGTHS: Readonly<Record<CardType, readonly number[]>> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  discover: [16, 17, 18, 19],
  jcb: [16, 17, 18, 19],
  'diners-club': [14, 15, 16, 17, 18, 19],
  maestro: [12, 13, 14, 15, 16, 17, 18, 19],
};

/** A card number as Twilio reports it: x for every digit but the last four, grouped like the card. */
export function maskCardNumber(number: string, type: CardType | null): string {
  const masked = 'x'.repeat(Math.max(0, number.length - 4)) + number.slice(-4);
  const groups = type === 'amex' && number.length === 15 ? [4, 6, 5] : type === 'diners-club' && number.length === 14 ? [4, 6, 4] : null;
  const parts: string[] = [];
  if (groups) {
    let at = 0;
    for (const size of groups) parts.push(masked.slice(at, (at += size)));
  } else {
    for (let at = 0; at < masked.length; at += 4) parts.push(masked.slice(at, at + 4));
  }
  return parts.join('-');
}

function expiryValid(mmyy: string, now: Date): boolean {
  const match = /^(\d{2})(\d{2})$/.exec(mmyy);
  if (!match) return false;
  const month = Number(match[1]);
  const year = 2000 + Number(match[2]);
  if (month < 1 || month > 12) return false;
  // A card is good through the last day of its expiry month.
  return year > now.getUTCFullYear() || (year === now.getUTCFullYear() && month >= now.getUTCMonth() + 1);
}

function randomAlphanumeric(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((byte) => alphabet.charAt(byte % alphabet.length)).join('');
}

function splitList(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const words = value.split(/\s+/).filter((word) => word !== '');
  return words.length > 0 ? words : null;
}

function parsePay(element: XmlElement): { attributes: PayAttributes; prompts: PayPrompt[]; stray: string | null; invalid: string | null } {
  const a = element.attributes;
  const method = (value: string | undefined): HttpMethod => (value?.toUpperCase() === 'GET' ? 'GET' : 'POST');
  let invalid: string | null = null;
  const maxAttempts = a.maxAttempts === undefined ? 1 : Number(a.maxAttempts);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 3) invalid = `maxAttempts="${a.maxAttempts}" is not 1, 2 or 3`;
  const chargeAmount = a.chargeAmount === undefined || a.chargeAmount.trim() === '' ? null : a.chargeAmount.trim();
  if (chargeAmount !== null && !/^\d+(\.\d{1,2})?$/.test(chargeAmount)) invalid = `chargeAmount="${chargeAmount}" is not a decimal amount such as 450.00`;
  const validCardTypes = splitList(a.validCardTypes) ?? ['visa', 'mastercard', 'amex'];
  const unknownType = validCardTypes.find((type) => !(CARD_TYPES as readonly string[]).includes(type));
  if (unknownType !== undefined) invalid = `validCardTypes names an unknown card type "${unknownType}"`;
  const timeout = a.timeout !== undefined && /^\d+$/.test(a.timeout) ? Number(a.timeout) : 5;
  const attributes: PayAttributes = {
    action: a.action ?? null,
    method: method(a.method),
    statusCallback: a.statusCallback === undefined || a.statusCallback.trim() === '' ? null : a.statusCallback,
    statusCallbackMethod: method(a.statusCallbackMethod),
    timeout,
    maxAttempts: invalid === null ? maxAttempts : 1,
    securityCode: a.securityCode !== 'false',
    postalCode: a.postalCode !== 'false',
    paymentConnector: a.paymentConnector ?? 'Default',
    paymentMethod: a.paymentMethod ?? 'credit-card',
    input: a.input ?? 'dtmf',
    chargeAmount,
    currency: (a.currency ?? 'usd').toLowerCase(),
    description: a.description ?? '',
    language: a.language ?? 'en-US',
    validCardTypes,
    attributes: { ...a },
  };
  const prompts: PayPrompt[] = [];
  let stray: string | null = null;
  for (const child of elementsOf(element)) {
    if (!PAY_CHILDREN.has(child.name)) {
      stray ??= `<Pay> cannot contain <${child.name}> (only <Prompt> and <Parameter>)`;
      continue;
    }
    if (child.name !== 'Prompt') continue;
    const inner = elementsOf(child).find((node) => !PROMPT_CHILDREN.has(node.name));
    if (inner) stray ??= `<Prompt> cannot contain <${inner.name}> (only <Say>, <Play>, <Pause>)`;
    const attempts = splitList(child.attributes.attempt);
    prompts.push({
      for: child.attributes.for ?? '',
      errorTypes: splitList(child.attributes.errorType),
      cardTypes: splitList(child.attributes.cardType),
      attempts: attempts ? attempts.map(Number) : null,
      children: elementsOf(child),
    });
  }
  return { attributes, prompts, stray, invalid };
}


function resolve(target: string, documentUrl: string): string {
  return new URL(target.trim(), documentUrl).href;
}

/** One <Pay> verb, from its first prompt to its result. */
export class PaySimulator {
  private readonly steps: PayStep[];
  private index = 0;
  private attempt = 1;
  private errorType: string | null = null;
  private card: PayCard | null = null;
  private expiry: string | null = null;
  private securityCode: string | null = null;
  private postalCode: string | null = null;
  private asking = false;

  /** The <Pay> of the document at `documentUrl`, or why Twilio would not run it. */
  static start(verb: XmlElement, documentUrl: string, host: PayHost): PaySimulator | { problem: string } {
    const { attributes, prompts, stray, invalid } = parsePay(verb);
    if (stray !== null) return { problem: stray };
    if (attributes.input !== 'dtmf' || attributes.paymentMethod !== 'credit-card') {
      return { problem: `<Pay input="${attributes.input}" paymentMethod="${attributes.paymentMethod}"> is not simulated (only input="dtmf" with paymentMethod="credit-card")` };
    }
    return new PaySimulator(attributes, prompts, invalid, documentUrl, host);
  }

  private constructor(
    private readonly attributes: PayAttributes,
    private readonly prompts: PayPrompt[],
    private readonly invalid: string | null,
    private readonly documentUrl: string,
    private readonly host: PayHost,
  ) {
    // Twilio asks for the card number and expiration date, then the security code and postal
    // code unless securityCode="false" / postalCode="false" (twilio.com/docs/voice/twiml/pay).
    this.steps = ['payment-card-number', 'expiration-date'];
    if (attributes.securityCode) this.steps.push('security-code');
    if (attributes.postalCode) this.steps.push('postal-code');
  }

  /** The step Twilio asks for while it waits for keys; null while it processes or once it is over. */
  get waiting(): PayWaiting | null {
    if (!this.asking) return null;
    const a = this.attributes;
    return {
      kind: 'pay',
      for: this.steps[this.index] ?? 'payment-card-number',
      attempt: this.attempt,
      maxAttempts: a.maxAttempts,
      errorType: this.errorType,
      cardType: this.card?.type ?? null,
      finishOnKey: '#',
      timeout: a.timeout,
      chargeAmount: a.chargeAmount,
      currency: a.currency,
      language: a.language,
      validCardTypes: a.validCardTypes,
      action: a.action,
      attributes: a.attributes,
    };
  }

  /** The step asked now (after the last one: undefined). */
  get step(): PayStep | undefined {
    return this.steps[this.index];
  }

  get cardType(): CardType | null {
    return this.card?.type ?? null;
  }

  async begin(): Promise<PayNext> {
    const a = this.attributes;
    const charging = a.chargeAmount !== null && Number(a.chargeAmount) > 0;
    this.host.note(`Twilio <Pay>: ${charging ? `charge ${a.chargeAmount} ${a.currency.toUpperCase()}` : 'tokenize a card (no chargeAmount)'} through the "${a.paymentConnector}" connector (simulated), up to ${a.maxAttempts} attempt${a.maxAttempts === 1 ? '' : 's'} per entry`);
    if (this.invalid !== null) {
      this.host.note(`Twilio <Pay>: ${this.invalid}`);
      return this.finish({ result: 'validation-error', paymentError: this.invalid });
    }
    return this.ask();
  }

  /** `*` at a prompt ends the <Pay> (twilio.com/docs/voice/twiml/pay). */
  interrupt(): Promise<PayNext> {
    return this.finish({ result: 'caller-interrupted-with-star' });
  }

  // Twilio checks each entry itself and asks again, up to maxAttempts, naming the error in the
  // prompt's errorType and the status callback (twilio.com/docs/voice/twiml/pay/prompt).
  // `entered` false: the caller stayed silent until the timeout.
  async entry(digits: string, entered: boolean): Promise<PayNext> {
    const step = this.steps[this.index];
    const a = this.attributes;
    let error: string | null = null;
    if (!entered && digits === '') error = 'timeout';
    else if (step === 'payment-card-number') {
      const type = cardTypeOf(digits);
      if (digits.length < 12 || digits.length > 19 || !luhnValid(digits) || (type !== null && !CARD_LENGTHS[type].includes(digits.length))) error = 'invalid-card-number';
      else if (type === null || !a.validCardTypes.includes(type)) error = 'invalid-card-type';
      else this.card = { number: digits, type };
    } else if (step === 'expiration-date') {
      if (expiryValid(digits, new Date())) this.expiry = digits;
      else error = 'invalid-date';
    } else if (step === 'security-code') {
      const length = this.card?.type === 'amex' ? 4 : 3;
      if (new RegExp(`^\\d{${length}}$`).test(digits)) this.securityCode = digits;
      else error = 'invalid-security-code';
    } else if (step === 'postal-code') {
      if (/^\d{5}$/.test(digits)) this.postalCode = digits;
      else error = 'invalid-postal-code';
    }
    if (error !== null) {
      this.host.note(`Twilio <Pay>: ${step} ${error} (attempt ${this.attempt} of ${a.maxAttempts})`);
      if (this.attempt >= a.maxAttempts) return this.finish({ result: 'too-many-failed-attempts' });
      this.attempt++;
      this.errorType = error;
      return this.ask();
    }
    this.index++;
    this.attempt = 1;
    this.errorType = null;
    if (this.index < this.steps.length) return this.ask();
    return this.process();
  }

  // A caller who hangs up during <Pay>: Twilio still posts the action with Result=caller-hung-up,
  // and nobody is left to hear its answer.
  async hangUp(): Promise<PayAction> {
    this.asking = false;
    const result = this.result({ result: 'caller-hung-up' });
    this.host.note('Twilio <Pay>: Result=caller-hung-up (the answer to the action is not played)');
    await this.status(result);
    return { method: this.attributes.method, url: this.actionUrl(), params: result };
  }

  // Each step: a progress webhook to statusCallback, the step's prompt, then the caller's keys.
  private async ask(): Promise<PayNext> {
    const step = this.steps[this.index] ?? 'payment-card-number';
    this.asking = true;
    await this.status({
      For: step,
      Attempt: String(this.attempt),
      ...(this.errorType !== null ? { ErrorType: this.errorType } : {}),
      ...this.captured(),
    });
    if (this.host.hasEnded()) return 'ended';
    this.speakPrompt(step, this.errorType);
    return 'asking';
  }

  private async process(): Promise<PayNext> {
    this.asking = false;
    await this.status({ For: 'payment-processing', Attempt: '1', ...this.captured() });
    if (this.host.hasEnded()) return 'ended';
    this.speakPrompt('payment-processing', null);
    return this.finish(this.charge());
  }

  // The result goes to statusCallback and to the action; the call goes on with the action's TwiML.
  private async finish(outcome: PayOutcome): Promise<PayNext> {
    this.asking = false;
    const result = this.result(outcome);
    const detail = outcome.confirmationCode ? ` ${outcome.confirmationCode}` : outcome.paymentError ? ` (${outcome.paymentError})` : '';
    this.host.note(`Twilio <Pay>: Result=${outcome.result}${detail}`);
    await this.status(result);
    if (this.host.hasEnded()) return 'ended';
    return { method: this.attributes.method, url: this.actionUrl(), params: result };
  }

  // The <Prompt> for this step whose errorType, attempt and cardType all fit (a prompt without
  // errorType is the first ask, not an error one); the most specific wins, then the first.
  // Without one Twilio plays its own prompt (twilio.com/docs/voice/twiml/pay/prompt).
  private speakPrompt(step: string, errorType: string | null): void {
    const cardType = this.card?.type ?? null;
    const fits = this.prompts.filter((prompt) =>
      prompt.for === step &&
      (errorType === null ? prompt.errorTypes === null : prompt.errorTypes?.includes(errorType) === true) &&
      (prompt.attempts === null || prompt.attempts.includes(this.attempt)) &&
      (prompt.cardTypes === null || (cardType !== null && prompt.cardTypes.includes(cardType))));
    const specificity = (prompt: PayPrompt) => (prompt.attempts ? 1 : 0) + (prompt.cardTypes ? 1 : 0);
    const best = fits.reduce<PayPrompt | null>((chosen, prompt) => (chosen === null || specificity(prompt) > specificity(chosen) ? prompt : chosen), null);
    if (!best) {
      this.host.sayDefault(defaultPayPrompt(this.attributes.language, step, errorType), this.attributes.language);
      return;
    }
    for (const child of best.children) this.host.play(child);
  }

  // The simulated connector: the test cards fail as documented, any other valid card goes through.
  // A chargeAmount above 0 charges; none or 0 only tokenizes (twilio.com/docs/voice/twiml/pay).
  private charge(): PayOutcome {
    const failure = this.card ? CONNECTOR_FAILURES[this.card.number] : undefined;
    if (failure) return { result: 'payment-connector-error', ...failure };
    const charging = this.attributes.chargeAmount !== null && Number(this.attributes.chargeAmount) > 0;
    return charging ? { result: 'success', confirmationCode: `ch_${randomAlphanumeric(24)}` } : { result: 'success', token: `tok_${randomAlphanumeric(24)}` };
  }

  // What <Pay> has captured so far, as Twilio reports it: the card number and security code
  // masked, never in clear.
  private captured(): Record<string, string> {
    const captured: Record<string, string> = {};
    if (this.card) {
      captured.PaymentCardNumber = maskCardNumber(this.card.number, this.card.type);
      captured.PaymentCardType = this.card.type;
    }
    if (this.expiry !== null) captured.ExpirationDate = this.expiry;
    if (this.securityCode !== null) captured.SecurityCode = 'x'.repeat(this.securityCode.length);
    if (this.postalCode !== null) captured.PaymentCardPostalCode = this.postalCode;
    return captured;
  }

  private result(outcome: PayOutcome): Record<string, string> {
    const captured = this.captured();
    return {
      Result: outcome.result,
      PaymentConfirmationCode: outcome.confirmationCode ?? '',
      PaymentCardNumber: captured.PaymentCardNumber ?? '',
      PaymentCardType: captured.PaymentCardType ?? '',
      ExpirationDate: captured.ExpirationDate ?? '',
      PaymentCardPostalCode: captured.PaymentCardPostalCode ?? '',
      SecurityCode: captured.SecurityCode ?? '',
      PaymentMethod: this.attributes.paymentMethod,
      ProfileId: '',
      PaymentToken: outcome.token ?? '',
      PayErrorCode: outcome.payErrorCode ?? '',
      PaymentError: outcome.paymentError ?? '',
      ConnectorError: outcome.connectorError ?? '',
    };
  }

  private actionUrl(): string {
    // Like <Gather>, a <Pay> without an action posts back to the document's own URL.
    const action = this.attributes.action;
    return resolve(action === null || action.trim() === '' ? this.documentUrl : action, this.documentUrl);
  }

  // Progress and result webhooks to <Pay statusCallback>.
  private async status(extra: Record<string, string>): Promise<void> {
    const target = this.attributes.statusCallback;
    if (target === null) return;
    await this.host.statusCallback(this.attributes.statusCallbackMethod, resolve(target, this.documentUrl), extra);
  }
}
