// A simulated Twilio: plays Twilio's side of one inbound voice call against the line over HTTP,
// signing every webhook the way Twilio does, and executing the TwiML it gets back.

import { randomBytes, randomUUID } from 'node:crypto';
import twilio from 'twilio';

export type Speaker = 'line' | 'caller' | 'system';
export type TranscriptEntry = { who: Speaker; text: string; language?: string };

export type HttpMethod = 'GET' | 'POST';
export type GatherInput = 'dtmf' | 'speech';

export type GatherAttributes = {
  kind: 'gather';
  action: string | null;
  method: HttpMethod;
  input: readonly GatherInput[];
  numDigits: number | null;
  finishOnKey: string;
  timeout: number;
  actionOnEmptyResult: boolean;
  language: string | null;
  hints: string | null;
  speechTimeout: string | null;
  attributes: Readonly<Record<string, string>>;
};

export type ApplicationError = {
  /** 'pay-status-callback': a <Pay statusCallback> progress webhook got no 2xx answer. */
  phase: 'webhook' | 'status-callback' | 'pay-status-callback';
  method: HttpMethod;
  url: string;
  status: number | null;
  reason: string;
  body: string;
};

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

export type Waiting = GatherAttributes | PayWaiting;

/** The caller's card details for Phone.pay(); what is left out gets a working default. */
export type PayDetails = {
  card: string;
  /** MMYY; default 1230. */
  expiry?: string;
  /** Default 123, or 1234 for an American Express card. */
  securityCode?: string;
  /** Default 95814. */
  postalCode?: string;
};

export const PAY_DEFAULTS = { expiry: '1230', securityCode: '123', amexSecurityCode: '1234', postalCode: '95814' } as const;

export type LastResponse = { method: HttpMethod; url: string; status: number; contentType: string; body: string };

export type WebhookRecord = {
  method: HttpMethod;
  url: string;
  params: Readonly<Record<string, string>>;
  idempotencyToken: string;
  status: number | null;
  body: string;
};

export type RetryResult = {
  method: HttpMethod;
  url: string;
  original: { status: number | null; body: string };
  retry: { status: number | null; body: string };
  identical: boolean;
};

export type PhoneOptions = {
  baseUrl: string;
  publicUrl?: string;
  authToken: string;
  from?: string;
  to?: string;
  callSid?: string;
  accountSid?: string;
  applicationSid?: string;
  callerName?: string;
  voicePath?: string;
  statusCallbackPath?: string | null;
  requestTimeoutMs?: number;
  onEntry?: (entry: TranscriptEntry) => void;
};

export class PhoneError extends Error {}

export const CUSTOMER_CONNECT_NUMBER = '+18669013212';
const DEFAULT_FROM = '+19165550143';
const API_VERSION = '2010-04-01';
// Twilio's default read timeout for webhooks (twilio.com/docs/usage/webhooks/webhooks-connection-overrides).
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_WEBHOOKS_WITHOUT_INPUT = 30;
const TWILIO_APPLICATION_ERROR = 'We are sorry, an application error has occurred. Goodbye.';

const UNSIMULATED_VERBS = new Set(['Record', 'Enqueue', 'Leave', 'Connect', 'Start', 'Stop', 'Refer', 'Echo', 'Sms', 'Message']);
const GATHER_CHILDREN = new Set(['Say', 'Play', 'Pause']);

type Place = { city: string; state: string; zip: string; country: string };
const AREA_CODES: Readonly<Record<string, Place>> = {
  '916': { city: 'SACRAMENTO', state: 'CA', zip: '95814', country: 'US' },
  '213': { city: 'LOS ANGELES', state: 'CA', zip: '90012', country: 'US' },
  '415': { city: 'SAN FRANCISCO', state: 'CA', zip: '94103', country: 'US' },
  '559': { city: 'FRESNO', state: 'CA', zip: '93721', country: 'US' },
  '619': { city: 'SAN DIEGO', state: 'CA', zip: '92101', country: 'US' },
};

function placeOf(number: string): Place {
  const known = /^\+1(\d{3})/.exec(number);
  const place = known ? AREA_CODES[known[1] ?? ''] : undefined;
  return place ?? { city: '', state: '', zip: '', country: number.startsWith('+1') ? 'US' : '' };
}

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

// ---------------------------------------------------------------------------------------------
// TwiML is a small XML vocabulary; this reads the part of XML it uses.

export type XmlElement = { type: 'element'; name: string; attributes: Record<string, string>; children: XmlNode[] };
export type XmlText = { type: 'text'; text: string };
export type XmlNode = XmlElement | XmlText;

export class XmlSyntaxError extends Error {}

const NAME = /[A-Za-z_:][A-Za-z0-9_:.\-]*/y;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

class XmlReader {
  private pos = 0;
  constructor(private readonly src: string) {}

  document(): XmlElement {
    if (this.src.startsWith('<?xml') && /\s/.test(this.src.charAt(5))) this.skipUntil('?>', 'XML declaration');
    this.misc();
    if (this.pos >= this.src.length) this.fail('the document is empty');
    if (this.src.startsWith('<!DOCTYPE', this.pos)) this.fail('a DOCTYPE is not allowed in TwiML');
    if (this.src.charAt(this.pos) !== '<') this.fail('text before the root element');
    const root = this.element();
    this.misc();
    if (this.pos < this.src.length) this.fail('content after the root element');
    return root;
  }

  private fail(message: string): never {
    const line = this.src.slice(0, this.pos).split('\n').length;
    throw new XmlSyntaxError(`${message} (line ${line})`);
  }

  private skipUntil(terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) this.fail(`unterminated ${what}`);
    this.pos = end + terminator.length;
  }

  private whitespace(): boolean {
    const start = this.pos;
    while (/[ \t\r\n]/.test(this.src.charAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private misc(): void {
    for (;;) {
      this.whitespace();
      if (this.src.startsWith('<!--', this.pos)) this.comment();
      else if (this.src.startsWith('<?xml', this.pos) && /[\s?]/.test(this.src.charAt(this.pos + 5))) this.fail('the XML declaration must come first');
      else if (this.src.startsWith('<?', this.pos)) this.skipUntil('?>', 'processing instruction');
      else return;
    }
  }

  private comment(): void {
    this.pos += 4;
    const end = this.src.indexOf('-->', this.pos);
    if (end < 0) this.fail('unterminated comment');
    if (this.src.slice(this.pos, end).includes('--')) this.fail('"--" inside a comment');
    this.pos = end + 3;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) this.fail(`expected a name at "${this.src.slice(this.pos, this.pos + 10)}"`);
    this.pos += match[0].length;
    return match[0];
  }

  private element(): XmlElement {
    this.pos++; // '<'
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const spaced = this.whitespace();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { type: 'element', name, attributes, children: [] };
      }
      if (this.src.charAt(this.pos) === '>') {
        this.pos++;
        break;
      }
      if (this.pos >= this.src.length) this.fail(`unterminated <${name}> tag`);
      if (!spaced) this.fail(`expected a space before an attribute in <${name}>`);
      const attribute = this.name();
      this.whitespace();
      if (this.src.charAt(this.pos) !== '=') this.fail(`attribute ${attribute} of <${name}> has no value`);
      this.pos++;
      this.whitespace();
      const quote = this.src.charAt(this.pos);
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attribute} of <${name}> is not quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value of attribute ${attribute}`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail(`"<" in the value of attribute ${attribute}`);
      if (Object.hasOwn(attributes, attribute)) this.fail(`attribute ${attribute} appears twice in <${name}>`);
      attributes[attribute] = this.decode(raw);
      this.pos = end + 1;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`<${name}> is never closed`);
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail(`</${closing}> closes <${name}>`);
        this.whitespace();
        if (this.src.charAt(this.pos) !== '>') this.fail(`malformed </${closing}>`);
        this.pos++;
        return { type: 'element', name, attributes, children };
      }
      if (this.src.startsWith('<!--', this.pos)) this.comment();
      else if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos);
        if (end < 0) this.fail('unterminated CDATA section');
        children.push({ type: 'text', text: this.src.slice(this.pos + 9, end) });
        this.pos = end + 3;
      } else if (this.src.startsWith('<?', this.pos)) this.skipUntil('?>', 'processing instruction');
      else if (this.src.charAt(this.pos) === '<') children.push(this.element());
      else {
        const end = this.src.indexOf('<', this.pos);
        const raw = this.src.slice(this.pos, end < 0 ? this.src.length : end);
        if (raw.includes(']]>')) this.fail('"]]>" in text');
        children.push({ type: 'text', text: this.decode(raw) });
        this.pos += raw.length;
      }
    }
  }

  private decode(raw: string): string {
    return raw.replace(/&([^;&\s<]*);?/g, (whole, entity: string) => {
      if (!whole.endsWith(';')) this.fail(`"&" must start an entity such as &amp; (found "${whole}")`);
      const named = NAMED_ENTITIES[entity];
      if (named !== undefined) return named;
      const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(entity);
      if (!numeric) this.fail(`unknown entity &${entity};`);
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2] ?? '', 10);
      if (!isXmlChar(code)) this.fail(`&${entity}; is not a character XML allows`);
      return String.fromCodePoint(code);
    });
  }
}

export function parseXml(source: string): XmlElement {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  return new XmlReader(text).document();
}

export function parseTwiml(source: string): XmlElement {
  const root = parseXml(source);
  if (root.name !== 'Response') throw new XmlSyntaxError(`the root element is <${root.name}>, TwiML needs <Response>`);
  for (const child of root.children) {
    if (child.type === 'text' && child.text.trim() !== '') throw new XmlSyntaxError(`text "${child.text.trim().slice(0, 40)}" directly inside <Response>`);
  }
  return root;
}

export function elementsOf(element: XmlElement): XmlElement[] {
  return element.children.filter((child): child is XmlElement => child.type === 'element');
}

// What a <Say> speaks: its text, with SSML <sub alias> read as the alias, <break> as a pause, and
// <say-as> digits and telephone numbers one digit at a time, as the voice says them.
export function spokenText(node: XmlNode): string {
  if (node.type === 'text') return node.text;
  if (node.name === 'sub' && node.attributes.alias !== undefined) return node.attributes.alias;
  const interpretAs = node.name === 'say-as' ? node.attributes['interpret-as'] : undefined;
  if (interpretAs === 'digits' || interpretAs === 'telephone') return node.children.map(spokenText).join('').replace(/\s+/g, '').split('').join(' ');
  if (node.name === 'break') return ' ';
  return node.children.map(spokenText).join('');
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------

type Document = { method: HttpMethod; url: string; verbs: XmlElement[]; next: number };
type Current = { kind: 'gather'; gather: GatherAttributes; document: Document } | { kind: 'pay'; pay: PaySession };
type Request = { method: HttpMethod; publicUrl: string; transportUrl: string; body: string | undefined; headers: Record<string, string> };
type Outcome = { status: number | null; contentType: string; body: string; failure: string | null };

function parseGather(element: XmlElement): GatherAttributes {
  const a = element.attributes;
  const input = (a.input ?? 'dtmf').split(/\s+/).filter((word): word is GatherInput => word === 'dtmf' || word === 'speech');
  const numDigits = a.numDigits !== undefined && /^\d+$/.test(a.numDigits) && Number(a.numDigits) > 0 ? Number(a.numDigits) : null;
  const timeout = a.timeout !== undefined && /^\d+$/.test(a.timeout) ? Number(a.timeout) : 5;
  return {
    kind: 'gather',
    action: a.action ?? null,
    method: a.method?.toUpperCase() === 'GET' ? 'GET' : 'POST',
    input: input.length > 0 ? input : ['dtmf'],
    numDigits,
    finishOnKey: a.finishOnKey ?? '#',
    timeout,
    actionOnEmptyResult: a.actionOnEmptyResult === 'true',
    language: a.language ?? null,
    hints: a.hints ?? null,
    speechTimeout: a.speechTimeout ?? null,
    attributes: { ...a },
  };
}

// ---------------------------------------------------------------------------------------------
// <Pay>: Twilio, not the line, asks for the card, checks each entry, asks again, and charges
// through a Pay Connector (twilio.com/docs/voice/twiml/pay). This plays that part, with a
// simulated connector that knows the test cards listed in test/calls/README.md.

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
type PaySession = {
  attributes: PayAttributes;
  prompts: PayPrompt[];
  document: Document;
  steps: PayStep[];
  index: number;
  attempt: number;
  errorType: string | null;
  card: PayCard | null;
  expiry: string | null;
  securityCode: string | null;
  postalCode: string | null;
};
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

function payWaitingOf(session: PaySession): PayWaiting {
  const a = session.attributes;
  return {
    kind: 'pay',
    for: session.steps[session.index] ?? 'payment-card-number',
    attempt: session.attempt,
    maxAttempts: a.maxAttempts,
    errorType: session.errorType,
    cardType: session.card?.type ?? null,
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

export class Phone {
  readonly callSid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly transcript: TranscriptEntry[] = [];
  readonly applicationErrors: ApplicationError[] = [];
  readonly webhooks: WebhookRecord[] = [];
  ended = false;
  endedBy: 'line' | 'caller' | 'error' | null = null;
  lastResponse: LastResponse | null = null;

  private readonly baseUrl: string;
  private readonly publicUrl: string;
  private readonly authToken: string;
  private readonly options: PhoneOptions;
  private current: Current | null = null;
  private answered = false;
  private startedAt = 0;
  private statusSequence = 0;
  private inputMark = 0;
  private webhooksSinceInput = 0;
  private busy = false;
  private lastRequest: { request: Request; record: WebhookRecord } | null = null;
  private lastPayAction: { request: Request; record: WebhookRecord } | null = null;

  constructor(options: PhoneOptions) {
    this.options = options;
    this.baseUrl = stripSlash(options.baseUrl);
    this.publicUrl = stripSlash(options.publicUrl ?? options.baseUrl);
    this.authToken = options.authToken;
    this.from = options.from ?? DEFAULT_FROM;
    this.to = options.to ?? CUSTOMER_CONNECT_NUMBER;
    this.callSid = options.callSid ?? sid('CA');
    this.accountSid = options.accountSid ?? sid('AC');
  }

  /** What the line (or Twilio, during a <Pay>) is waiting for: a <Gather>, a <Pay> step, or nothing. */
  get waiting(): Waiting | null {
    const current = this.current;
    if (!current) return null;
    return current.kind === 'gather' ? current.gather : payWaitingOf(current.pay);
  }

  heardSinceLastInput(): string {
    return this.transcript.slice(this.inputMark).filter((entry) => entry.who === 'line').map((entry) => entry.text).join(' ');
  }

  async dial(): Promise<void> {
    await this.exclusive(async () => {
      if (this.startedAt !== 0) throw new PhoneError('this phone has already dialed; make a new Phone for another call');
      this.startedAt = Date.now();
      this.inputMark = this.transcript.length;
      this.note(`calling ${this.to} from ${this.from} (CallSid ${this.callSid})`);
      const document = await this.fetchTwiml('POST', this.publicUrl + (this.options.voicePath ?? '/voice'), {});
      if (document) await this.run(document);
    });
  }

  async press(keys: string): Promise<void> {
    const typed = keys.replace(/\s+/g, '');
    if (!/^[0-9*#]+$/.test(typed)) throw new PhoneError(`press takes the keys 0-9, * and #; got "${keys}"`);
    await this.exclusive(async () => {
      this.requireWaiting('press keys');
      this.startInput();
      let remaining = typed;
      while (remaining !== '' && this.current && !this.ended) {
        const current = this.current;
        if (current.kind === 'pay') {
          remaining = await this.payKeys(current.pay, remaining, remaining === typed);
          continue;
        }
        const { gather, document } = current;
        if (!gather.input.includes('dtmf')) {
          this.record('caller', `press ${remaining}`);
          this.note(`keys ${remaining} ignored: the line is listening for speech only`);
          remaining = '';
          await this.noInput();
          break;
        }
        const { digits, finishedOnKey, rest } = this.collect(gather, remaining);
        this.record('caller', `press ${remaining.slice(0, remaining.length - rest.length)}${remaining === typed ? '' : ' (typed ahead)'}`);
        remaining = rest;
        if (digits === '') {
          await this.noInput(finishedOnKey);
          continue;
        }
        // No finish key and too few digits: the caller stopped typing, and when <Gather>'s timeout
        // passes Twilio submits the digits collected so far (twilio.com/docs/voice/twiml/gather#timeout).
        const params: Record<string, string> = { msg: 'Gather End', Digits: digits };
        if (finishedOnKey !== null) params.FinishedOnKey = finishedOnKey;
        await this.submit(gather, document, params);
      }
      if (remaining !== '') this.note(`keys ${remaining} were not heard: ${this.ended ? 'the call had ended' : 'the line was not listening'}`);
    });
  }

  /**
   * Answers the <Pay> prompts still to come, each once: the card number, then the expiration
   * date, security code and postal code (defaults: 1230, 123 or 1234 for amex, 95814) where the
   * <Pay> asks for them. Stops when Twilio asks a step again after an invalid entry, so the
   * caller (the test) decides what to do next; the <Pay>'s outcome is posted to its action as usual.
   */
  async pay(details: PayDetails | string): Promise<void> {
    const given = typeof details === 'string' ? { card: details } : details;
    const clean = (value: string | undefined, what: string): string | undefined => {
      if (value === undefined) return undefined;
      const digits = value.replace(/[\s-]+/g, '');
      if (!/^\d+$/.test(digits)) throw new PhoneError(`pay: the ${what} must be digits; got "${value}"`);
      return digits;
    };
    const card = clean(given.card, 'card number') ?? '';
    const expiry = clean(given.expiry, 'expiration date');
    const securityCode = clean(given.securityCode, 'security code');
    const postalCode = clean(given.postalCode, 'postal code');
    await this.exclusive(async () => {
      const waiting = this.requireWaiting('pay');
      if (waiting.kind !== 'pay') throw new PhoneError('cannot pay: the line is waiting at a <Gather>, not running <Pay>');
      this.startInput();
      const session = waiting.pay;
      const answered = new Set<PayStep>();
      while (!this.ended && this.current?.kind === 'pay' && this.current.pay === session) {
        const step = session.steps[session.index];
        if (step === undefined || answered.has(step)) break;
        answered.add(step);
        const value =
          step === 'payment-card-number' ? card
          : step === 'expiration-date' ? expiry ?? PAY_DEFAULTS.expiry
          : step === 'security-code' ? securityCode ?? (session.card?.type === 'amex' ? PAY_DEFAULTS.amexSecurityCode : PAY_DEFAULTS.securityCode)
          : postalCode ?? PAY_DEFAULTS.postalCode;
        this.record('caller', `press ${value}#`);
        await this.payEntry(session, value, true);
      }
    });
  }

  async silence(): Promise<void> {
    await this.exclusive(async () => {
      const waiting = this.requireWaiting('stay silent');
      this.startInput();
      this.record('caller', '(silence)');
      if (waiting.kind === 'pay') await this.payEntry(waiting.pay, '', false);
      else await this.noInput();
    });
  }

  async say(words: string, confidence = 0.9): Promise<void> {
    await this.exclusive(async () => {
      const waiting = this.requireWaiting('speak');
      this.startInput();
      this.record('caller', `say "${words}"`);
      if (waiting.kind === 'pay') {
        // <Pay> takes keys only (input="dtmf"): to it, speech is silence.
        this.note('Twilio <Pay> listens for keys only: speech is silence to it');
        await this.payEntry(waiting.pay, '', false);
        return;
      }
      const { gather, document } = waiting;
      if (!gather.input.includes('speech') || squash(words) === '') {
        if (!gather.input.includes('speech')) this.note('the line is listening for keys only: speech is silence to it');
        await this.noInput();
        return;
      }
      await this.submit(gather, document, { msg: 'Gather End', SpeechResult: squash(words), Confidence: String(confidence) });
    });
  }

  async hangup(): Promise<void> {
    await this.exclusive(async () => {
      if (this.ended) return;
      this.startInput();
      this.record('caller', '(hangs up)');
      const current = this.current;
      if (current?.kind === 'pay') await this.payHungUp(current.pay);
      await this.end('caller', 'the caller hung up');
    });
  }

  /** Twilio sends its last webhook again, with the same idempotency token; the answer is only compared. */
  async retryLastRequest(): Promise<RetryResult> {
    return this.exclusive(async () => {
      if (!this.lastRequest) throw new PhoneError('nothing to retry: no webhook has been sent yet');
      return this.resend(this.lastRequest, false);
    });
  }

  /**
   * Posts the last <Pay> action callback (its Result, confirmation code, ...) again, whatever
   * was sent since: by default as Twilio's retry (same idempotency token), or with
   * `{ freshToken: true }` as a duplicate delivery the line cannot tell from the token.
   */
  async duplicateLastPayCallback(options: { freshToken?: boolean } = {}): Promise<RetryResult> {
    return this.exclusive(async () => {
      if (!this.lastPayAction) throw new PhoneError('nothing to duplicate: no <Pay> action callback has been sent yet');
      return this.resend(this.lastPayAction, options.freshToken ?? false);
    });
  }

  // -------------------------------------------------------------------------------------------

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) throw new PhoneError('the phone is still busy with the previous action (await it first)');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private startInput(): void {
    this.inputMark = this.transcript.length;
    this.webhooksSinceInput = 0;
  }

  private async resend(last: { request: Request; record: WebhookRecord }, freshToken: boolean): Promise<RetryResult> {
    const { record } = last;
    const request = freshToken ? { ...last.request, headers: { ...last.request.headers, 'I-Twilio-Idempotency-Token': randomUUID() } } : last.request;
    const outcome = await this.send(request);
    const identical = outcome.status === record.status && outcome.body === record.body;
    const how = freshToken ? 'sent it again with a new idempotency token' : 'retried it with the same idempotency token';
    this.note(`Twilio ${how} (${request.method} ${this.pathOf(request.publicUrl)}): ${identical ? 'same answer' : 'a different answer'}`);
    return {
      method: request.method,
      url: request.publicUrl,
      original: { status: record.status, body: record.body },
      retry: { status: outcome.status, body: outcome.body },
      identical,
    };
  }

  private requireWaiting(what: string): Current {
    if (this.ended) throw new PhoneError(`cannot ${what}: the call has ended`);
    if (!this.current) throw new PhoneError(`cannot ${what}: the line is not waiting for input`);
    return this.current;
  }

  private record(who: Speaker, text: string, language?: string): void {
    const entry: TranscriptEntry = language ? { who, text, language } : { who, text };
    this.transcript.push(entry);
    this.options.onEntry?.(entry);
  }

  private note(text: string): void {
    this.record('system', text);
  }

  private collect(gather: GatherAttributes, keys: string): { digits: string; finishedOnKey: string | null; rest: string } {
    let digits = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys.charAt(i);
      // finishOnKey ends the entry and is not part of Digits; any other key, '*' included, is a digit.
      if (gather.finishOnKey !== '' && key === gather.finishOnKey) return { digits, finishedOnKey: key, rest: keys.slice(i + 1) };
      digits += key;
      if (gather.numDigits !== null && digits.length >= gather.numDigits) return { digits, finishedOnKey: null, rest: keys.slice(i + 1) };
    }
    return { digits, finishedOnKey: null, rest: '' };
  }

  // With no input Twilio moves on to the verb after </Gather>, unless actionOnEmptyResult="true"
  // (twilio.com/docs/voice/twiml/gather#actiononemptyresult).
  private async noInput(finishedOnKey: string | null = null): Promise<void> {
    const waiting = this.current;
    if (!waiting || waiting.kind !== 'gather') return;
    if (waiting.gather.actionOnEmptyResult) {
      const params: Record<string, string> = { msg: 'Gather End' };
      if (waiting.gather.input.includes('dtmf')) params.Digits = '';
      if (finishedOnKey !== null) params.FinishedOnKey = finishedOnKey;
      await this.submit(waiting.gather, waiting.document, params);
      return;
    }
    this.current = null;
    await this.run(waiting.document);
  }

  private async submit(gather: GatherAttributes, document: Document, params: Record<string, string>): Promise<void> {
    this.current = null;
    // Without an action Twilio posts the input back to the document's own URL
    // (twilio.com/docs/voice/twiml/gather#action).
    const target = gather.action === null || gather.action === '' ? document.url : gather.action;
    const next = await this.fetchTwiml(gather.method, this.resolve(target, document.url), params);
    if (next) await this.run(next);
  }

  private async run(document: Document): Promise<void> {
    while (!this.ended) {
      const verb = document.verbs[document.next++];
      if (!verb) {
        await this.end('line', 'the TwiML ended with no more verbs');
        return;
      }
      switch (verb.name) {
        case 'Say':
          this.speak(verb);
          break;
        case 'Play':
          this.play(verb);
          break;
        case 'Pause':
          break;
        case 'Gather': {
          const stray = elementsOf(verb).find((child) => !GATHER_CHILDREN.has(child.name));
          if (stray) {
            await this.fail({ phase: 'webhook', method: document.method, url: document.url, status: 200, reason: `<Gather> cannot contain <${stray.name}> (only <Say>, <Play>, <Pause>)`, body: '' });
            return;
          }
          for (const child of elementsOf(verb)) {
            if (child.name === 'Say') this.speak(child);
            else if (child.name === 'Play') this.play(child);
          }
          this.current = { kind: 'gather', gather: parseGather(verb), document };
          return;
        }
        case 'Redirect': {
          const target = squash(spokenText(verb));
          const method: HttpMethod = verb.attributes.method?.toUpperCase() === 'GET' ? 'GET' : 'POST';
          const next = await this.fetchTwiml(method, this.resolve(target, document.url), {});
          if (!next) return;
          document = next;
          break;
        }
        case 'Dial': {
          const next = await this.dialOut(verb, document);
          if (next === 'failed') return;
          if (next) document = next;
          break;
        }
        case 'Hangup':
        case 'Reject':
          await this.end('line', `the line sent <${verb.name}>`);
          return;
        case 'Pay':
          await this.startPay(verb, document);
          return;
        default:
          if (UNSIMULATED_VERBS.has(verb.name)) {
            this.note(`<${verb.name}> is not simulated: skipped`);
            break;
          }
          await this.fail({ phase: 'webhook', method: document.method, url: document.url, status: 200, reason: `<${verb.name}> is not a TwiML voice verb`, body: '' });
          return;
      }
    }
  }

  private speak(say: XmlElement): void {
    const text = squash(spokenText(say));
    if (text === '') return;
    const loop = Number(say.attributes.loop ?? '1');
    const times = Number.isInteger(loop) && loop > 1 ? Math.min(loop, 10) : 1;
    for (let i = 0; i < times; i++) this.record('line', text, say.attributes.language);
  }

  private play(play: XmlElement): void {
    const url = squash(spokenText(play));
    const digits = play.attributes.digits;
    this.record('line', digits !== undefined ? `[tones: ${digits}]` : `[audio: ${url}]`);
  }

  // The agent is simulated as answering and hanging up: with an action Twilio posts the dial's
  // result and continues with the answer; without one it goes on with the next verb
  // (twilio.com/docs/voice/twiml/dial#action).
  private async dialOut(dial: XmlElement, document: Document): Promise<Document | null | 'failed'> {
    const nouns = elementsOf(dial);
    const targets = nouns.length > 0 ? nouns.map((noun) => `${noun.name === 'Number' ? '' : noun.name + ' '}${squash(spokenText(noun))}`) : [squash(spokenText(dial))];
    this.record('line', `[transferring to ${targets.join(', ')}]`);
    const action = dial.attributes.action;
    if (action === undefined || action === '') return null;
    const method: HttpMethod = dial.attributes.method?.toUpperCase() === 'GET' ? 'GET' : 'POST';
    const next = await this.fetchTwiml(method, this.resolve(action, document.url), {
      DialCallStatus: 'completed',
      DialCallDuration: '60',
      DialCallSid: sid('CA'),
      DialBridged: 'true',
    });
    return next ?? 'failed';
  }

  private async startPay(verb: XmlElement, document: Document): Promise<void> {
    const { attributes, prompts, stray, invalid } = parsePay(verb);
    const problem = (reason: string) => this.fail({ phase: 'webhook', method: document.method, url: document.url, status: 200, reason, body: '' });
    if (stray !== null) return problem(stray);
    if (attributes.input !== 'dtmf' || attributes.paymentMethod !== 'credit-card') {
      return problem(`<Pay input="${attributes.input}" paymentMethod="${attributes.paymentMethod}"> is not simulated (only input="dtmf" with paymentMethod="credit-card")`);
    }
    // Twilio asks for the card number and expiration date, then the security code and postal
    // code unless securityCode="false" / postalCode="false" (twilio.com/docs/voice/twiml/pay).
    const steps: PayStep[] = ['payment-card-number', 'expiration-date'];
    if (attributes.securityCode) steps.push('security-code');
    if (attributes.postalCode) steps.push('postal-code');
    const session: PaySession = { attributes, prompts, document, steps, index: 0, attempt: 1, errorType: null, card: null, expiry: null, securityCode: null, postalCode: null };
    const charging = attributes.chargeAmount !== null && Number(attributes.chargeAmount) > 0;
    this.note(`Twilio <Pay>: ${charging ? `charge ${attributes.chargeAmount} ${attributes.currency.toUpperCase()}` : 'tokenize a card (no chargeAmount)'} through the "${attributes.paymentConnector}" connector (simulated), up to ${attributes.maxAttempts} attempt${attributes.maxAttempts === 1 ? '' : 's'} per entry`);
    if (invalid !== null) {
      this.note(`Twilio <Pay>: ${invalid}`);
      await this.finishPay(session, { result: 'validation-error', paymentError: invalid });
      return;
    }
    await this.askPay(session);
  }

  // Each step: a progress webhook to statusCallback, the step's prompt, then the caller's keys.
  private async askPay(session: PaySession): Promise<void> {
    const step = session.steps[session.index] ?? 'payment-card-number';
    this.current = { kind: 'pay', pay: session };
    await this.payStatus(session, {
      For: step,
      Attempt: String(session.attempt),
      ...(session.errorType !== null ? { ErrorType: session.errorType } : {}),
      ...this.payCaptured(session),
    });
    if (this.ended) return;
    this.speakPayPrompt(session, step, session.errorType);
  }

  // The <Prompt> for this step whose errorType, attempt and cardType all fit (a prompt without
  // errorType is the first ask, not an error one); the most specific wins, then the first.
  // Without one Twilio plays its own prompt (twilio.com/docs/voice/twiml/pay/prompt).
  private speakPayPrompt(session: PaySession, step: string, errorType: string | null): void {
    const cardType = session.card?.type ?? null;
    const fits = session.prompts.filter((prompt) =>
      prompt.for === step &&
      (errorType === null ? prompt.errorTypes === null : prompt.errorTypes?.includes(errorType) === true) &&
      (prompt.attempts === null || prompt.attempts.includes(session.attempt)) &&
      (prompt.cardTypes === null || (cardType !== null && prompt.cardTypes.includes(cardType))));
    const specificity = (prompt: PayPrompt) => (prompt.attempts ? 1 : 0) + (prompt.cardTypes ? 1 : 0);
    const best = fits.reduce<PayPrompt | null>((chosen, prompt) => (chosen === null || specificity(prompt) > specificity(chosen) ? prompt : chosen), null);
    if (!best) {
      this.record('line', defaultPayPrompt(session.attributes.language, step, errorType), session.attributes.language);
      return;
    }
    for (const child of best.children) {
      if (child.name === 'Say') this.speak(child);
      else if (child.name === 'Play') this.play(child);
    }
  }

  // Keys at a <Pay> prompt: an entry ends with #; * ends the <Pay> at any point
  // (twilio.com/docs/voice/twiml/pay); keys after either go on to whatever comes next.
  private async payKeys(session: PaySession, keys: string, first: boolean): Promise<string> {
    let digits = '';
    let end: '#' | '*' | null = null;
    let used = 0;
    while (used < keys.length && end === null) {
      const key = keys.charAt(used++);
      if (key === '#' || key === '*') end = key;
      else digits += key;
    }
    const rest = keys.slice(used);
    this.record('caller', `press ${keys.slice(0, used)}${first ? '' : ' (typed ahead)'}`);
    if (end === '*') await this.finishPay(session, { result: 'caller-interrupted-with-star' });
    // Without # the entry ends when the caller stops typing and <Pay>'s timeout passes.
    else await this.payEntry(session, digits, true);
    return rest;
  }

  // Twilio checks each entry itself and asks again, up to maxAttempts, naming the error in the
  // prompt's errorType and the status callback (twilio.com/docs/voice/twiml/pay/prompt).
  private async payEntry(session: PaySession, digits: string, entered: boolean): Promise<void> {
    const step = session.steps[session.index];
    const a = session.attributes;
    let error: string | null = null;
    if (!entered && digits === '') error = 'timeout';
    else if (step === 'payment-card-number') {
      const type = cardTypeOf(digits);
      if (digits.length < 12 || digits.length > 19 || !luhnValid(digits) || (type !== null && !CARD_LENGTHS[type].includes(digits.length))) error = 'invalid-card-number';
      else if (type === null || !a.validCardTypes.includes(type)) error = 'invalid-card-type';
      else session.card = { number: digits, type };
    } else if (step === 'expiration-date') {
      if (expiryValid(digits, new Date())) session.expiry = digits;
      else error = 'invalid-date';
    } else if (step === 'security-code') {
      const length = session.card?.type === 'amex' ? 4 : 3;
      if (new RegExp(`^\\d{${length}}$`).test(digits)) session.securityCode = digits;
      else error = 'invalid-security-code';
    } else if (step === 'postal-code') {
      if (/^\d{5}$/.test(digits)) session.postalCode = digits;
      else error = 'invalid-postal-code';
    }
    if (error !== null) {
      this.note(`Twilio <Pay>: ${step} ${error} (attempt ${session.attempt} of ${a.maxAttempts})`);
      if (session.attempt >= a.maxAttempts) {
        await this.finishPay(session, { result: 'too-many-failed-attempts' });
        return;
      }
      session.attempt++;
      session.errorType = error;
      await this.askPay(session);
      return;
    }
    session.index++;
    session.attempt = 1;
    session.errorType = null;
    if (session.index < session.steps.length) await this.askPay(session);
    else await this.processPay(session);
  }

  private async processPay(session: PaySession): Promise<void> {
    this.current = null;
    await this.payStatus(session, { For: 'payment-processing', Attempt: '1', ...this.payCaptured(session) });
    if (this.ended) return;
    this.speakPayPrompt(session, 'payment-processing', null);
    await this.finishPay(session, this.charge(session));
  }

  // The simulated connector: the test cards fail as documented, any other valid card goes through.
  // A chargeAmount above 0 charges; none or 0 only tokenizes (twilio.com/docs/voice/twiml/pay).
  private charge(session: PaySession): PayOutcome {
    const failure = session.card ? CONNECTOR_FAILURES[session.card.number] : undefined;
    if (failure) return { result: 'payment-connector-error', ...failure };
    const charging = session.attributes.chargeAmount !== null && Number(session.attributes.chargeAmount) > 0;
    return charging ? { result: 'success', confirmationCode: `ch_${randomAlphanumeric(24)}` } : { result: 'success', token: `tok_${randomAlphanumeric(24)}` };
  }

  // What <Pay> has captured so far, as Twilio reports it: the card number and security code
  // masked, never in clear.
  private payCaptured(session: PaySession): Record<string, string> {
    const captured: Record<string, string> = {};
    if (session.card) {
      captured.PaymentCardNumber = maskCardNumber(session.card.number, session.card.type);
      captured.PaymentCardType = session.card.type;
    }
    if (session.expiry !== null) captured.ExpirationDate = session.expiry;
    if (session.securityCode !== null) captured.SecurityCode = 'x'.repeat(session.securityCode.length);
    if (session.postalCode !== null) captured.PaymentCardPostalCode = session.postalCode;
    return captured;
  }

  private payResult(session: PaySession, outcome: PayOutcome): Record<string, string> {
    const captured = this.payCaptured(session);
    return {
      Result: outcome.result,
      PaymentConfirmationCode: outcome.confirmationCode ?? '',
      PaymentCardNumber: captured.PaymentCardNumber ?? '',
      PaymentCardType: captured.PaymentCardType ?? '',
      ExpirationDate: captured.ExpirationDate ?? '',
      PaymentCardPostalCode: captured.PaymentCardPostalCode ?? '',
      SecurityCode: captured.SecurityCode ?? '',
      PaymentMethod: session.attributes.paymentMethod,
      ProfileId: '',
      PaymentToken: outcome.token ?? '',
      PayErrorCode: outcome.payErrorCode ?? '',
      PaymentError: outcome.paymentError ?? '',
      ConnectorError: outcome.connectorError ?? '',
    };
  }

  private payActionUrl(session: PaySession): string {
    // Like <Gather>, a <Pay> without an action posts back to the document's own URL.
    const action = session.attributes.action;
    return this.resolve(action === null || action.trim() === '' ? session.document.url : action, session.document.url);
  }

  // The result goes to statusCallback and to the action; the call goes on with the action's TwiML.
  private async finishPay(session: PaySession, outcome: PayOutcome): Promise<void> {
    this.current = null;
    const result = this.payResult(session, outcome);
    const detail = outcome.confirmationCode ? ` ${outcome.confirmationCode}` : outcome.paymentError ? ` (${outcome.paymentError})` : '';
    this.note(`Twilio <Pay>: Result=${outcome.result}${detail}`);
    await this.payStatus(session, result);
    if (this.ended) return;
    const before = this.lastRequest;
    const next = await this.fetchTwiml(session.attributes.method, this.payActionUrl(session), result);
    if (this.lastRequest !== before) this.lastPayAction = this.lastRequest;
    if (next) await this.run(next);
  }

  // A caller who hangs up during <Pay>: Twilio still posts the action with Result=caller-hung-up,
  // and nobody is left to hear its answer.
  private async payHungUp(session: PaySession): Promise<void> {
    this.current = null;
    const result = this.payResult(session, { result: 'caller-hung-up' });
    this.note('Twilio <Pay>: Result=caller-hung-up (the answer to the action is not played)');
    await this.payStatus(session, result);
    const sent = await this.webhook(session.attributes.method, this.payActionUrl(session), { ...this.standardParams('completed'), ...result });
    if (!('outcome' in sent)) {
      this.applicationErrors.push(sent);
      return;
    }
    this.lastPayAction = this.lastRequest;
    const { outcome, request } = sent;
    if (outcome.status === null || outcome.status < 200 || outcome.status > 299) {
      const reason = outcome.failure ?? `HTTP ${outcome.status}`;
      this.applicationErrors.push({ phase: 'webhook', method: request.method, url: request.publicUrl, status: outcome.status, reason, body: outcome.body });
      this.note(`the <Pay> action failed: ${reason}`);
    }
  }

  // Progress and result webhooks to <Pay statusCallback>; an answer other than 2xx is an error
  // of the line, though Twilio goes on with the payment.
  private async payStatus(session: PaySession, extra: Record<string, string>): Promise<void> {
    const target = session.attributes.statusCallback;
    if (target === null) return;
    const params = { AccountSid: this.accountSid, CallSid: this.callSid, ...extra };
    const sent = await this.webhook(session.attributes.statusCallbackMethod, this.resolve(target, session.document.url), params, false);
    if (!('outcome' in sent)) {
      this.applicationErrors.push({ ...sent, phase: 'pay-status-callback' });
      this.note(`the <Pay> status callback failed: ${sent.reason}`);
      return;
    }
    const { outcome, request } = sent;
    if (outcome.status === null || outcome.status < 200 || outcome.status > 299) {
      const reason = outcome.failure ?? `HTTP ${outcome.status}`;
      this.applicationErrors.push({ phase: 'pay-status-callback', method: request.method, url: request.publicUrl, status: outcome.status, reason, body: outcome.body });
      this.note(`the <Pay> status callback failed: ${reason}`);
    }
  }

  private resolve(target: string, documentUrl: string): string {
    return new URL(target.trim(), documentUrl).href;
  }

  private pathOf(publicUrl: string): string {
    return publicUrl.startsWith(this.publicUrl) ? publicUrl.slice(this.publicUrl.length) || '/' : publicUrl;
  }

  private underPrefix(url: string, prefix: string): string | null {
    if (!url.startsWith(prefix)) return null;
    const rest = url.slice(prefix.length);
    return rest === '' || /^[/?#]/.test(rest) ? rest : null;
  }

  // TwiML may name the line by its public URL or by the address we reach it at; Twilio signs
  // with the URL it requested, which is the public one.
  private locate(url: string): { publicUrl: string; transportUrl: string } | null {
    const rest = this.underPrefix(url, this.publicUrl) ?? this.underPrefix(url, this.baseUrl);
    if (rest === null) return null;
    const path = rest.replace(/#.*$/, '');
    return { publicUrl: this.publicUrl + path, transportUrl: this.baseUrl + path };
  }

  private standardParams(callStatus: string): Record<string, string> {
    const from = placeOf(this.from);
    const to = placeOf(this.to);
    const params: Record<string, string> = {
      CallSid: this.callSid,
      AccountSid: this.accountSid,
      From: this.from,
      To: this.to,
      Caller: this.from,
      Called: this.to,
      CallStatus: callStatus,
      ApiVersion: API_VERSION,
      Direction: 'inbound',
      CallerName: this.options.callerName ?? 'WIRELESS CALLER',
    };
    for (const [prefix, place] of [['From', from], ['Caller', from], ['To', to], ['Called', to]] as const) {
      params[`${prefix}City`] = place.city;
      params[`${prefix}State`] = place.state;
      params[`${prefix}Zip`] = place.zip;
      params[`${prefix}Country`] = place.country;
    }
    if (this.options.applicationSid) params.ApplicationSid = this.options.applicationSid;
    return params;
  }

  private buildRequest(method: HttpMethod, publicUrl: string, transportUrl: string, params: Record<string, string>): Request {
    const query = new URLSearchParams(params).toString();
    const join = (url: string) => (query === '' ? url : url + (url.includes('?') ? '&' : '?') + query);
    // A GET carries the parameters in the query string, so they are signed as part of the URL
    // (twilio.com/docs/usage/security).
    const signedUrl = method === 'GET' ? join(publicUrl) : publicUrl;
    const signature = twilio.getExpectedTwilioSignature(this.authToken, signedUrl, method === 'GET' ? {} : params);
    const headers: Record<string, string> = {
      'X-Twilio-Signature': signature,
      'I-Twilio-Idempotency-Token': randomUUID(),
      'User-Agent': 'TwilioProxy/1.1',
      Accept: '*/*',
    };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    return {
      method,
      publicUrl: signedUrl,
      transportUrl: method === 'GET' ? join(transportUrl) : transportUrl,
      body: method === 'POST' ? query : undefined,
      headers,
    };
  }

  private async send(request: Request): Promise<Outcome> {
    try {
      const response = await fetch(request.transportUrl, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text(), failure: null };
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'no answer before the timeout' : `could not reach the line: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`;
      return { status: null, contentType: '', body: '', failure: reason };
    }
  }

  private async webhook(method: HttpMethod, url: string, params: Record<string, string>, remember = true): Promise<{ outcome: Outcome; request: Request; documentUrl: string } | ApplicationError> {
    const place = this.locate(url);
    if (!place) {
      return { phase: 'webhook', method, url, status: null, reason: `the TwiML sends Twilio to ${url}, outside the line (${this.publicUrl})`, body: '' };
    }
    const request = this.buildRequest(method, place.publicUrl, place.transportUrl, params);
    const outcome = await this.send(request);
    const record: WebhookRecord = {
      method,
      url: request.publicUrl,
      params,
      idempotencyToken: request.headers['I-Twilio-Idempotency-Token'] ?? '',
      status: outcome.status,
      body: outcome.body,
    };
    this.webhooks.push(record);
    // <Pay> status callbacks are not what "retry" re-sends: that is the webhook the call hangs on.
    if (remember) this.lastRequest = { request, record };
    return { outcome, request, documentUrl: place.publicUrl };
  }

  private async fetchTwiml(method: HttpMethod, url: string, extra: Record<string, string>): Promise<Document | null> {
    if (++this.webhooksSinceInput > MAX_WEBHOOKS_WITHOUT_INPUT) {
      await this.fail({ phase: 'webhook', method, url, status: null, reason: `${MAX_WEBHOOKS_WITHOUT_INPUT} webhooks in a row without waiting for the caller (a redirect loop?)`, body: '' });
      return null;
    }
    const params = { ...this.standardParams(this.answered ? 'in-progress' : 'ringing'), ...extra };
    this.answered = true;
    const sent = await this.webhook(method, url, params);
    if (!('outcome' in sent)) {
      await this.fail(sent);
      return null;
    }
    const { outcome, request, documentUrl } = sent;
    const base = { phase: 'webhook' as const, method, url: request.publicUrl, status: outcome.status, body: outcome.body };
    if (outcome.failure !== null || outcome.status === null) {
      await this.fail({ ...base, reason: outcome.failure ?? 'no answer' });
      return null;
    }
    this.lastResponse = { method, url: request.publicUrl, status: outcome.status, contentType: outcome.contentType, body: outcome.body };
    if (outcome.status !== 200) {
      await this.fail({ ...base, reason: `HTTP ${outcome.status}` });
      return null;
    }
    if (!/xml|html/i.test(outcome.contentType)) {
      await this.fail({ ...base, reason: `Content-Type "${outcome.contentType}" is not TwiML (text/xml or application/xml)` });
      return null;
    }
    let root: XmlElement;
    try {
      root = parseTwiml(outcome.body);
    } catch (error) {
      await this.fail({ ...base, reason: `invalid TwiML: ${error instanceof Error ? error.message : String(error)}` });
      return null;
    }
    // Relative URLs in the document resolve against the URL that returned it, as in a browser.
    return { method, url: documentUrl, verbs: elementsOf(root), next: 0 };
  }

  // Twilio answers a failed webhook with its own message and hangs up (errors 11200, 12100).
  private async fail(error: ApplicationError): Promise<void> {
    this.applicationErrors.push(error);
    this.note(`Twilio: "${TWILIO_APPLICATION_ERROR}" (${error.reason}, ${error.method} ${this.pathOf(error.url)})`);
    await this.end('error', 'application error');
  }

  private async end(by: 'line' | 'caller' | 'error', why: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.endedBy = by;
    this.current = null;
    this.note(`call ended: ${why}`);
    const path = this.options.statusCallbackPath === undefined ? '/voice/status' : this.options.statusCallbackPath;
    if (path === null) return;
    const params = {
      ...this.standardParams('completed'),
      CallDuration: String(Math.max(0, Math.round((Date.now() - this.startedAt) / 1000))),
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(this.statusSequence++),
    };
    const sent = await this.webhook('POST', this.publicUrl + path, params);
    if (!('outcome' in sent)) {
      this.applicationErrors.push({ ...sent, phase: 'status-callback' });
      return;
    }
    const { outcome, request } = sent;
    if (outcome.status === null || outcome.status < 200 || outcome.status > 299) {
      const reason = outcome.failure ?? `HTTP ${outcome.status}`;
      this.applicationErrors.push({ phase: 'status-callback', method: 'POST', url: request.publicUrl, status: outcome.status, reason, body: outcome.body });
      this.note(`the status callback failed: ${reason}`);
    }
  }
}
