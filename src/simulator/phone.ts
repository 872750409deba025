// A simulated Twilio: plays Twilio's side of one inbound voice call against the line over HTTP,
// signing every webhook the way Twilio does, and executing the TwiML it gets back: <Say>, <Play>,
// <Pause>, <Gather>, <Redirect>, <Dial>, <Hangup>, <Reject>, and <Pay> (through PaySimulator).
import { newSid, requestParams, CUSTOMER_CONNECT_NUMBER, DEFAULT_FROM, type CallIdentity } from './call-params.ts';
import { PaySimulator, type PayHost, type PayNext, type PayStep, type PayWaiting } from './pay-simulator.ts';
import { elementsOf, parseTwiml, spokenText, type XmlElement } from './twiml-reader.ts';
import { WebhookClient, type Delivery, type HttpMethod, type SignedRequest } from './webhook-client.ts';

export type Speaker = 'line' | 'caller' | 'system';
export type TranscriptEntry = { who: Speaker; text: string; language?: string };

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
  /** Each webhook once the line has answered it, before the phone follows the answer: the line's session is saved by then. */
  onWebhook?: (record: WebhookRecord) => void | Promise<void>;
};

export class PhoneError extends Error {}

const MAX_WEBHOOKS_WITHOUT_INPUT = 30;
const TWILIO_APPLICATION_ERROR = 'We are sorry, an application error has occurred. Goodbye.';

const UNSIMULATED_VERBS = new Set(['Record', 'Enqueue', 'Leave', 'Connect', 'Start', 'Stop', 'Refer', 'Echo', 'Sms', 'Message']);
const GATHER_CHILDREN = new Set(['Say', 'Play', 'Pause']);

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

type Document = { method: HttpMethod; url: string; verbs: XmlElement[]; next: number };
type Current = { kind: 'gather'; gather: GatherAttributes; document: Document } | { kind: 'pay'; pay: PaySimulator };
type Sent = { request: SignedRequest; record: WebhookRecord };

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

  private readonly client: WebhookClient;
  private readonly identity: CallIdentity;
  private readonly options: PhoneOptions;
  private readonly payHost: PayHost;
  private current: Current | null = null;
  private answered = false;
  private startedAt = 0;
  private statusSequence = 0;
  private inputMark = 0;
  private webhooksSinceInput = 0;
  private busy = false;
  private lastRequest: Sent | null = null;
  private lastPayAction: Sent | null = null;

  constructor(options: PhoneOptions) {
    this.options = options;
    this.client = new WebhookClient(options);
    this.from = options.from ?? DEFAULT_FROM;
    this.to = options.to ?? CUSTOMER_CONNECT_NUMBER;
    this.callSid = options.callSid ?? newSid('CA');
    this.accountSid = options.accountSid ?? newSid('AC');
    this.identity = {
      callSid: this.callSid,
      accountSid: this.accountSid,
      from: this.from,
      to: this.to,
      callerName: options.callerName ?? 'WIRELESS CALLER',
      applicationSid: options.applicationSid || null,
    };
    this.payHost = {
      note: (text) => this.note(text),
      sayDefault: (text, language) => this.record('line', text, language),
      play: (element) => {
        if (element.name === 'Say') this.speak(element);
        else if (element.name === 'Play') this.play(element);
      },
      statusCallback: (method, url, params) => this.payStatusCallback(method, url, params),
      hasEnded: () => this.ended,
    };
  }

  private get publicUrl(): string {
    return this.client.publicUrl;
  }

  /** What the line (or Twilio, during a <Pay>) is waiting for: a <Gather>, a <Pay> step, or nothing. */
  get waiting(): Waiting | null {
    const current = this.current;
    if (!current) return null;
    return current.kind === 'gather' ? current.gather : current.pay.waiting;
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
        const step = session.step;
        if (step === undefined || answered.has(step)) break;
        answered.add(step);
        const value =
          step === 'payment-card-number' ? card
          : step === 'expiration-date' ? expiry ?? PAY_DEFAULTS.expiry
          : step === 'security-code' ? securityCode ?? (session.cardType === 'amex' ? PAY_DEFAULTS.amexSecurityCode : PAY_DEFAULTS.securityCode)
          : postalCode ?? PAY_DEFAULTS.postalCode;
        this.record('caller', `press ${value}#`);
        await this.followPay(session, await session.entry(value, true));
      }
    });
  }

  async silence(): Promise<void> {
    await this.exclusive(async () => {
      const waiting = this.requireWaiting('stay silent');
      this.startInput();
      this.record('caller', '(silence)');
      if (waiting.kind === 'pay') await this.followPay(waiting.pay, await waiting.pay.entry('', false));
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
        await this.followPay(waiting.pay, await waiting.pay.entry('', false));
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

  private async resend(last: Sent, freshToken: boolean): Promise<RetryResult> {
    const { record } = last;
    const request = freshToken ? this.client.withFreshToken(last.request) : last.request;
    const outcome = await this.client.send(request);
    const identical = outcome.status === record.status && outcome.body === record.body;
    const how = freshToken ? 'sent it again with a new idempotency token' : 'retried it with the same idempotency token';
    this.note(`Twilio ${how} (${request.method} ${this.client.pathOf(request.publicUrl)}): ${identical ? 'same answer' : 'a different answer'}`);
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
    this.note('[a representative answers]');
    this.note('[the representative hangs up]');
    const action = dial.attributes.action;
    if (action === undefined || action === '') return null;
    const method: HttpMethod = dial.attributes.method?.toUpperCase() === 'GET' ? 'GET' : 'POST';
    const next = await this.fetchTwiml(method, this.resolve(action, document.url), {
      DialCallStatus: 'completed',
      DialCallDuration: '60',
      DialCallSid: newSid('CA'),
      DialBridged: 'true',
    });
    return next ?? 'failed';
  }

  private async startPay(verb: XmlElement, document: Document): Promise<void> {
    const pay = PaySimulator.start(verb, document.url, this.payHost);
    if (!(pay instanceof PaySimulator)) {
      await this.fail({ phase: 'webhook', method: document.method, url: document.url, status: 200, reason: pay.problem, body: '' });
      return;
    }
    this.current = { kind: 'pay', pay };
    await this.followPay(pay, await pay.begin());
  }

  // Keys at a <Pay> prompt: an entry ends with #; * ends the <Pay> at any point
  // (twilio.com/docs/voice/twiml/pay); keys after either go on to whatever comes next.
  private async payKeys(pay: PaySimulator, keys: string, first: boolean): Promise<string> {
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
    // Without # the entry ends when the caller stops typing and <Pay>'s timeout passes.
    await this.followPay(pay, end === '*' ? await pay.interrupt() : await pay.entry(digits, true));
    return rest;
  }

  // Twilio posts the <Pay>'s result to its action and goes on with the answer's TwiML.
  private async followPay(pay: PaySimulator, next: PayNext): Promise<void> {
    if (next === 'asking') return;
    if (this.current?.kind === 'pay' && this.current.pay === pay) this.current = null;
    if (next === 'ended') return;
    const before = this.lastRequest;
    const document = await this.fetchTwiml(next.method, next.url, next.params);
    if (this.lastRequest !== before) this.lastPayAction = this.lastRequest;
    if (document) await this.run(document);
  }

  private async payHungUp(pay: PaySimulator): Promise<void> {
    this.current = null;
    const action = await pay.hangUp();
    const sent = await this.webhook(action.method, action.url, { ...this.standardParams('completed'), ...action.params });
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

  // An answer other than 2xx to a <Pay> status callback is an error of the line, though Twilio
  // goes on with the payment.
  private async payStatusCallback(method: HttpMethod, url: string, extra: Record<string, string>): Promise<void> {
    const params = { AccountSid: this.accountSid, CallSid: this.callSid, ...extra };
    const sent = await this.webhook(method, url, params, false);
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

  private standardParams(callStatus: string): Record<string, string> {
    return requestParams(this.identity, callStatus);
  }

  private async webhook(method: HttpMethod, url: string, params: Record<string, string>, remember = true): Promise<{ outcome: Delivery; request: SignedRequest; documentUrl: string } | ApplicationError> {
    const place = this.client.locate(url);
    if (!place) {
      return { phase: 'webhook', method, url, status: null, reason: `the TwiML sends Twilio to ${url}, outside the line (${this.publicUrl})`, body: '' };
    }
    const request = this.client.sign(method, place.publicUrl, place.transportUrl, params);
    const outcome = await this.client.send(request);
    const record: WebhookRecord = {
      method,
      url: request.publicUrl,
      params,
      idempotencyToken: request.headers['I-Twilio-Idempotency-Token'] ?? '',
      status: outcome.status,
      body: outcome.body,
    };
    this.webhooks.push(record);
    await this.options.onWebhook?.(record);
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
    this.note(`Twilio: "${TWILIO_APPLICATION_ERROR}" (${error.reason}, ${error.method} ${this.client.pathOf(error.url)})`);
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
