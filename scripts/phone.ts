// A simulated Twilio: plays Twilio's side of one inbound voice call against the line over HTTP,
// signing every webhook the way Twilio does, and executing the TwiML it gets back.

import { randomBytes, randomUUID } from 'node:crypto';
import twilio from 'twilio';

export type Speaker = 'line' | 'caller' | 'system';
export type TranscriptEntry = { who: Speaker; text: string; language?: string };

export type HttpMethod = 'GET' | 'POST';
export type GatherInput = 'dtmf' | 'speech';

export type GatherAttributes = {
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
  phase: 'webhook' | 'status-callback';
  method: HttpMethod;
  url: string;
  status: number | null;
  reason: string;
  body: string;
};

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

// What a <Say> speaks: its text, with SSML <sub alias> read as the alias and <break> as a pause.
export function spokenText(node: XmlNode): string {
  if (node.type === 'text') return node.text;
  if (node.name === 'sub' && node.attributes.alias !== undefined) return node.attributes.alias;
  if (node.name === 'break') return ' ';
  return node.children.map(spokenText).join('');
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------

type Document = { method: HttpMethod; url: string; verbs: XmlElement[]; next: number };
type Waiting = { gather: GatherAttributes; document: Document };
type Request = { method: HttpMethod; publicUrl: string; transportUrl: string; body: string | undefined; headers: Record<string, string> };
type Outcome = { status: number | null; contentType: string; body: string; failure: string | null };

function parseGather(element: XmlElement): GatherAttributes {
  const a = element.attributes;
  const input = (a.input ?? 'dtmf').split(/\s+/).filter((word): word is GatherInput => word === 'dtmf' || word === 'speech');
  const numDigits = a.numDigits !== undefined && /^\d+$/.test(a.numDigits) && Number(a.numDigits) > 0 ? Number(a.numDigits) : null;
  const timeout = a.timeout !== undefined && /^\d+$/.test(a.timeout) ? Number(a.timeout) : 5;
  return {
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

  private readonly baseUrl: string;
  private readonly publicUrl: string;
  private readonly authToken: string;
  private readonly options: PhoneOptions;
  private current: Waiting | null = null;
  private answered = false;
  private startedAt = 0;
  private statusSequence = 0;
  private inputMark = 0;
  private webhooksSinceInput = 0;
  private busy = false;
  private lastRequest: { request: Request; record: WebhookRecord } | null = null;

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

  get waiting(): GatherAttributes | null {
    return this.current?.gather ?? null;
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
        const { gather, document } = this.current;
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

  async silence(): Promise<void> {
    await this.exclusive(async () => {
      this.requireWaiting('stay silent');
      this.startInput();
      this.record('caller', '(silence)');
      await this.noInput();
    });
  }

  async say(words: string, confidence = 0.9): Promise<void> {
    await this.exclusive(async () => {
      const { gather, document } = this.requireWaiting('speak');
      this.startInput();
      this.record('caller', `say "${words}"`);
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
      await this.end('caller', 'the caller hung up');
    });
  }

  async retryLastRequest(): Promise<RetryResult> {
    return this.exclusive(async () => {
      if (!this.lastRequest) throw new PhoneError('nothing to retry: no webhook has been sent yet');
      const { request, record } = this.lastRequest;
      const outcome = await this.send(request);
      const identical = outcome.status === record.status && outcome.body === record.body;
      this.note(`Twilio retried ${request.method} ${this.pathOf(request.publicUrl)} with the same idempotency token: ${identical ? 'same answer' : 'a different answer'}`);
      return {
        method: request.method,
        url: request.publicUrl,
        original: { status: record.status, body: record.body },
        retry: { status: outcome.status, body: outcome.body },
        identical,
      };
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

  private requireWaiting(what: string): Waiting {
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
    if (!waiting) return;
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
          this.current = { gather: parseGather(verb), document };
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
          await this.pay(verb);
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

  // <Pay> is not simulated yet: say so and end the call.
  private async pay(_pay: XmlElement): Promise<void> {
    this.record('line', '[Pay not supported by this simulator yet]');
    await this.end('line', '<Pay> is not simulated');
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

  private async webhook(method: HttpMethod, url: string, params: Record<string, string>): Promise<{ outcome: Outcome; request: Request; documentUrl: string } | ApplicationError> {
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
    this.lastRequest = { request, record };
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
