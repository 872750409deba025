import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import twilio from 'twilio';
import { Phone, PhoneError, type PhoneOptions } from '../src/simulator/phone.ts';
import { XmlSyntaxError, parseTwiml, parseXml, spokenText } from '../src/simulator/twiml-reader.ts';

const TOKEN = 'test-auth-token';
// Twilio reaches the line at a public URL that differs from where the test sends HTTP: the phone
// must sign with the public form and send to the local one.
const PUBLIC = 'https://ivr.example.test';

type Seen = {
  method: string;
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
  token: string | undefined;
  contentType: string | undefined;
  /** The request line's URL and the body exactly as sent, to check what reached the line. */
  raw: string;
};
type Answer = string | { status?: number; type?: string; body: string };
type Route = (params: Record<string, string>, seen: Seen) => Answer;

const twiml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${inner}</Response>`;

class FakeLine {
  readonly seen: Seen[] = [];
  readonly routes = new Map<string, Route>();
  baseUrl = '';
  private server: Server | null = null;

  constructor(readonly publicUrl = PUBLIC) {}

  async start(): Promise<this> {
    const app = express();
    app.use(express.urlencoded({ extended: false, verify: (req, _res, buffer) => {
      (req as unknown as { rawBody: string }).rawBody = buffer.toString('utf8');
    } }));
    app.all('/{*rest}', (req, res) => {
      const isGet = req.method === 'GET';
      const params = (isGet ? req.query : req.body ?? {}) as Record<string, string>;
      const signature = req.header('X-Twilio-Signature') ?? '';
      const seen: Seen = {
        method: req.method,
        path: req.path,
        params,
        signatureValid: twilio.validateRequest(TOKEN, signature, this.publicUrl + req.originalUrl, isGet ? {} : params),
        token: req.header('I-Twilio-Idempotency-Token'),
        contentType: req.header('Content-Type'),
        raw: `${req.method} ${req.originalUrl}\n${(req as unknown as { rawBody?: string }).rawBody ?? ''}`,
      };
      this.seen.push(seen);
      const route = this.routes.get(req.path);
      if (!route) {
        res.status(req.path === '/voice/status' ? 204 : 404).end();
        return;
      }
      const answer = route(params, seen);
      const { status = 200, type = 'text/xml', body } = typeof answer === 'string' ? { body: answer } : answer;
      res.status(status).type(type).send(body);
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server!.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  on(path: string, route: Route | Answer): this {
    this.routes.set(path, typeof route === 'function' ? route : () => route);
    return this;
  }

  phone(options: Partial<PhoneOptions> = {}): Phone {
    return new Phone({ baseUrl: this.baseUrl, publicUrl: this.publicUrl, authToken: TOKEN, ...options });
  }

  requests(path: string): Seen[] {
    return this.seen.filter((seen) => seen.path === path);
  }

  last(path: string): Seen {
    const all = this.requests(path);
    const found = all[all.length - 1];
    if (!found) throw new Error(`no request to ${path}; saw ${this.seen.map((s) => s.path).join(', ')}`);
    return found;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
}

describe('the simulated phone', () => {
  let line: FakeLine;

  beforeEach(async () => {
    line = await new FakeLine().start();
  });
  afterEach(async () => {
    await line.stop();
  });

  describe('placing the call', () => {
    it('posts Twilio standard parameters to /voice, signed for the public URL, ringing first and in-progress after', async () => {
      line.on('/voice', twiml('<Say>Hello.</Say><Gather action="/voice/next" numDigits="1"><Say>Press 1.</Say></Gather>'));
      line.on('/voice/next', twiml('<Say>Bye.</Say>'));
      const phone = line.phone({ from: '+19165550143' });
      await phone.dial();

      const first = line.last('/voice');
      expect(first.method).to.equal('POST');
      expect(first.signatureValid).to.equal(true);
      expect(first.contentType).to.match(/^application\/x-www-form-urlencoded/);
      expect(first.params.CallSid).to.match(/^CA[0-9a-f]{32}$/);
      expect(first.params.AccountSid).to.match(/^AC[0-9a-f]{32}$/);
      expect(first.params).to.include({
        From: '+19165550143', Caller: '+19165550143', To: '+18669013212', Called: '+18669013212',
        CallStatus: 'ringing', ApiVersion: '2010-04-01', Direction: 'inbound', FromState: 'CA', FromCountry: 'US',
      });
      expect(first.params).to.have.property('ToCity');
      expect(first.params).to.have.property('CallerName');

      await phone.press('1');
      const second = line.last('/voice/next');
      expect(second.signatureValid).to.equal(true);
      expect(second.params.CallStatus).to.equal('in-progress');
      expect(second.params.CallSid).to.equal(first.params.CallSid);
    });

    it('computes the signature Twilio documents (a wrong token does not validate)', async () => {
      line.on('/voice', twiml('<Hangup/>'));
      const phone = line.phone({ authToken: 'some-other-token' });
      await phone.dial();
      expect(line.last('/voice').signatureValid).to.equal(false);
    });

    it('sends a fresh idempotency token with every webhook', async () => {
      line.on('/voice', twiml('<Redirect>/voice/a</Redirect>'));
      line.on('/voice/a', twiml('<Hangup/>'));
      await line.phone().dial();
      const tokens = line.seen.map((seen) => seen.token);
      expect(tokens.every((token) => typeof token === 'string' && token.length > 10)).to.equal(true);
      expect(new Set(tokens).size).to.equal(tokens.length);
    });
  });

  describe('<Gather>', () => {
    const menu = (attributes: string) =>
      twiml(`<Gather action="/voice/menu" ${attributes}><Say>Make a choice.</Say></Gather><Say>We did not get your choice.</Say><Redirect>/voice</Redirect>`);

    it('says its nested prompts and then waits for the caller', async () => {
      line.on('/voice', menu('numDigits="1"'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal('Make a choice.');
      expect(phone.waiting).to.include({ kind: 'gather', action: '/voice/menu', numDigits: 1, finishOnKey: '#', timeout: 5, method: 'POST' });
      expect(phone.waiting?.kind === 'gather' && phone.waiting.input).to.deep.equal(['dtmf']);
      expect(phone.ended).to.equal(false);
    });

    it('falls through to the next verb on silence', async () => {
      line.on('/voice', menu('numDigits="1"'));
      const phone = line.phone();
      await phone.dial();
      await phone.silence();
      expect(phone.heardSinceLastInput()).to.equal('We did not get your choice. Make a choice.');
      expect(line.requests('/voice/menu')).to.have.length(0);
      expect(line.requests('/voice')).to.have.length(2);
    });

    it('posts an empty result to the action when actionOnEmptyResult is true', async () => {
      line.on('/voice', menu('numDigits="1" actionOnEmptyResult="true"'));
      line.on('/voice/menu', twiml('<Say>Nothing pressed.</Say><Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.silence();
      expect(line.last('/voice/menu').params).to.include({ Digits: '', msg: 'Gather End' });
      expect(phone.heardSinceLastInput()).to.equal('Nothing pressed.');
    });

    it('stops at numDigits and leaves out FinishedOnKey', async () => {
      line.on('/voice', menu('numDigits="3"'));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('123');
      const posted = line.last('/voice/menu').params;
      expect(posted).to.include({ Digits: '123', msg: 'Gather End' });
      expect(posted).not.to.have.property('FinishedOnKey');
    });

    it('ends the entry at finishOnKey, which is not part of Digits, while * is', async () => {
      line.on('/voice', menu(''));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('*12#');
      expect(line.last('/voice/menu').params).to.include({ Digits: '*12', FinishedOnKey: '#' });
    });

    it('honours another finishOnKey', async () => {
      line.on('/voice', menu('finishOnKey="*"'));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('12#*');
      expect(line.last('/voice/menu').params).to.include({ Digits: '12#', FinishedOnKey: '*' });
    });

    it('treats the finish key alone as no input', async () => {
      line.on('/voice', menu(''));
      const phone = line.phone();
      await phone.dial();
      await phone.press('#');
      expect(line.requests('/voice/menu')).to.have.length(0);
      expect(phone.heardSinceLastInput()).to.include('We did not get your choice.');
    });

    it('submits the digits typed so far when the caller stops before the finish key (timeout)', async () => {
      line.on('/voice', menu(''));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('4711');
      const posted = line.last('/voice/menu').params;
      expect(posted.Digits).to.equal('4711');
      expect(posted).not.to.have.property('FinishedOnKey');
    });

    it('carries keys pressed beyond one Gather into the next one', async () => {
      line.on('/voice', twiml('<Gather action="/voice/a" numDigits="1"><Say>First.</Say></Gather>'));
      line.on('/voice/a', twiml('<Gather action="/voice/b" numDigits="1"><Say>Second.</Say></Gather>'));
      line.on('/voice/b', twiml('<Say>Done.</Say><Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('12');
      expect(line.last('/voice/a').params.Digits).to.equal('1');
      expect(line.last('/voice/b').params.Digits).to.equal('2');
      expect(phone.heardSinceLastInput()).to.equal('Second. Done.');
    });

    it('posts to the document URL when the Gather has no action', async () => {
      line.on('/voice/self', (params) => (params.Digits ? twiml(`<Say>Got ${params.Digits}.</Say>`) : twiml('<Gather numDigits="1"/>')));
      line.on('/voice', twiml('<Redirect>/voice/self</Redirect>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('7');
      expect(phone.heardSinceLastInput()).to.equal('Got 7.');
    });

    it('uses GET with the parameters in the signed query string when method is GET', async () => {
      line.on('/voice', menu('numDigits="1" method="GET"'));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('5');
      const get = line.last('/voice/menu');
      expect(get.method).to.equal('GET');
      expect(get.params.Digits).to.equal('5');
      expect(get.signatureValid).to.equal(true);
    });

    it('gives speech as SpeechResult and Confidence when the Gather listens for speech', async () => {
      line.on('/voice', menu('input="dtmf speech" numDigits="1"'));
      line.on('/voice/menu', twiml('<Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      await phone.say('my  balance');
      expect(line.last('/voice/menu').params).to.include({ SpeechResult: 'my balance', Confidence: '0.9', msg: 'Gather End' });
    });

    it('treats speech as silence when the Gather listens for keys only', async () => {
      line.on('/voice', menu('numDigits="1"'));
      const phone = line.phone();
      await phone.dial();
      await phone.say('balance');
      expect(line.requests('/voice/menu')).to.have.length(0);
      expect(phone.heardSinceLastInput()).to.include('We did not get your choice.');
    });

    it('refuses keys that are not on a phone keypad', async () => {
      line.on('/voice', menu('numDigits="1"'));
      const phone = line.phone();
      await phone.dial();
      let caught: unknown;
      try {
        await phone.press('1a');
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(PhoneError);
    });
  });

  describe('other verbs', () => {
    it('follows <Redirect> and resolves relative URLs against the current document', async () => {
      line.on('/voice', twiml('<Redirect>menus/main</Redirect>'));
      line.on('/menus/main', twiml('<Redirect method="POST">../voice/step?x=1&amp;y=2</Redirect>'));
      line.on('/voice/step', twiml(`<Gather action="${PUBLIC}/voice/absolute" numDigits="1"><Say>Absolute next.</Say></Gather>`));
      line.on('/voice/absolute', twiml('<Say>Arrived.</Say>'));
      const phone = line.phone();
      await phone.dial();
      const step = line.last('/voice/step');
      expect(step.signatureValid).to.equal(true);
      expect(step.params).to.include({ CallStatus: 'in-progress' });
      await phone.press('1');
      expect(line.last('/voice/absolute').signatureValid).to.equal(true);
      expect(phone.heardSinceLastInput()).to.equal('Arrived.');
      expect(phone.applicationErrors).to.deep.equal([]);
    });

    it('keeps a public URL path prefix for relative URLs and catches root-relative ones that leave it', async () => {
      await line.stop();
      line = await new FakeLine('https://ivr.example.test/line').start();
      line.on('/voice', twiml('<Redirect>voice/a</Redirect>'));
      line.on('/voice/a', twiml('<Gather action="https://ivr.example.test/line/voice/b" numDigits="1"/>'));
      line.on('/voice/b', twiml('<Redirect>/voice/c</Redirect>'));
      const phone = line.phone();
      await phone.dial();
      await phone.press('1');
      expect(line.seen.slice(0, 3).map((seen) => [seen.path, seen.signatureValid])).to.deep.equal([
        ['/voice', true], ['/voice/a', true], ['/voice/b', true],
      ]);
      expect(phone.applicationErrors[0]?.reason).to.include('https://ivr.example.test/voice/c, outside the line');
    });

    it('says <Play>, skips <Pause>, and reads entities in <Say>', async () => {
      line.on('/voice', twiml('<Say voice="Polly.Joanna" language="en-US">Tom &amp; Jerry&apos;s &#36;5 &#x263A;</Say><Pause length="2"/><Play>https://cdn.example/hold.mp3</Play>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal("Tom & Jerry's $5 ☺ [audio: https://cdn.example/hold.mp3]");
      expect(phone.transcript.find((entry) => entry.who === 'line')?.language).to.equal('en-US');
    });

    it('transfers with <Dial> and posts its action with the dial result', async () => {
      line.on('/voice', twiml('<Say>Transferring.</Say><Dial action="/voice/after-dial" timeout="20"><Number>+19165550199</Number></Dial><Say>never said</Say>'));
      line.on('/voice/after-dial', twiml('<Say>Thanks for holding.</Say><Hangup/>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal('Transferring. [transferring to +19165550199] Thanks for holding.');
      expect(line.last('/voice/after-dial').params).to.include({ DialCallStatus: 'completed', DialCallDuration: '60' });
      expect(line.last('/voice/after-dial').params.DialCallSid).to.match(/^CA[0-9a-f]{32}$/);
    });

    it('continues after a <Dial> without action', async () => {
      line.on('/voice', twiml('<Dial>+19165550199</Dial><Say>Goodbye.</Say>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal('[transferring to +19165550199] Goodbye.');
      expect(phone.endedBy).to.equal('line');
    });

  });

  describe('the end of the call', () => {
    it('sends the completed status callback when the document runs out', async () => {
      line.on('/voice', twiml('<Say>Bye.</Say>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.ended).to.equal(true);
      expect(phone.endedBy).to.equal('line');
      const status = line.last('/voice/status');
      expect(status.signatureValid).to.equal(true);
      expect(status.params).to.include({ CallStatus: 'completed', CallbackSource: 'call-progress-events', SequenceNumber: '0' });
      expect(status.params.CallDuration).to.match(/^\d+$/);
      expect(status.params.Timestamp).to.match(/\+0000$/);
    });

    it('sends the status callback on <Hangup/> and executes nothing after it', async () => {
      line.on('/voice', twiml('<Hangup/><Say>never said</Say>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal('');
      expect(line.requests('/voice/status')).to.have.length(1);
    });

    it('sends only the status callback when the caller hangs up during a Gather', async () => {
      line.on('/voice', twiml('<Gather action="/voice/menu" numDigits="1"><Say>Choose.</Say></Gather>'));
      const phone = line.phone();
      await phone.dial();
      await phone.hangup();
      expect(phone.endedBy).to.equal('caller');
      expect(line.seen.map((seen) => seen.path)).to.deep.equal(['/voice', '/voice/status']);
      let caught: unknown;
      try {
        await phone.press('1');
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(PhoneError);
    });

    it('records a failing status callback as an application error', async () => {
      line.on('/voice', twiml('<Hangup/>'));
      line.on('/voice/status', { status: 500, type: 'text/plain', body: 'boom' });
      const phone = line.phone();
      await phone.dial();
      expect(phone.applicationErrors.map((error) => [error.phase, error.status])).to.deep.equal([['status-callback', 500]]);
    });
  });

  describe('application errors', () => {
    for (const [what, answer, reason] of [
      ['an HTTP 500', { status: 500, body: twiml('<Say>oops</Say>') }, /HTTP 500/],
      ['a body that is not XML', { body: 'Hello there' }, /invalid TwiML/],
      ['a root that is not <Response>', { body: '<Say>Hi</Say>' }, /root element is <Say>/],
      ['malformed XML', { body: '<Response><Say>Hi</Response>' }, /invalid TwiML/],
      ['plain text', { type: 'text/plain', body: twiml('<Say>Hi</Say>') }, /Content-Type/],
      ['an unknown verb', { body: twiml('<Speak>Hi</Speak>') }, /not a TwiML voice verb/],
    ] as const) {
      it(`ends the call on ${what}`, async () => {
        line.on('/voice', answer);
        const phone = line.phone();
        await phone.dial();
        expect(phone.ended).to.equal(true);
        expect(phone.endedBy).to.equal('error');
        expect(phone.applicationErrors).to.have.length(1);
        expect(phone.applicationErrors[0]?.reason).to.match(reason);
        expect(phone.heardSinceLastInput()).to.equal('');
        expect(phone.transcript.some((entry) => entry.who === 'system' && /application error/.test(entry.text))).to.equal(true);
        expect(line.requests('/voice/status')).to.have.length(1);
      });
    }

    it('ends the call when the line is unreachable', async () => {
      const phone = new Phone({ baseUrl: 'http://127.0.0.1:9', authToken: TOKEN, statusCallbackPath: null });
      await phone.dial();
      expect(phone.applicationErrors[0]?.reason).to.match(/could not reach/);
    });

    it('refuses to follow the line to a URL outside itself', async () => {
      line.on('/voice', twiml('<Redirect>https://elsewhere.example/twiml</Redirect>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.applicationErrors[0]?.reason).to.match(/outside the line/);
    });

    it('stops a redirect loop that never waits for the caller', async () => {
      line.on('/voice', twiml('<Redirect>/voice</Redirect>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.applicationErrors[0]?.reason).to.match(/without waiting for the caller/);
    });
  });

  describe('Twilio retries', () => {
    it('re-sends the last webhook with the same idempotency token and compares the answers', async () => {
      let count = 0;
      line.on('/voice', twiml('<Gather action="/voice/menu" numDigits="1"><Say>Choose.</Say></Gather>'));
      line.on('/voice/menu', () => twiml(`<Say>Answer ${++count}.</Say><Gather action="/voice/menu" numDigits="1"/>`));
      const phone = line.phone();
      await phone.dial();
      await phone.press('1');
      const retry = await phone.retryLastRequest();
      const [original, again] = line.requests('/voice/menu');
      expect(again?.token).to.equal(original?.token);
      expect(again?.params).to.deep.equal(original?.params);
      expect(again?.signatureValid).to.equal(true);
      expect(retry.identical).to.equal(false);
      expect(retry.original.body).to.include('Answer 1.');
      expect(retry.retry.body).to.include('Answer 2.');
      expect(phone.heardSinceLastInput()).to.equal('Answer 1.');
    });
  });
});

describe('the simulated phone at <Pay>', () => {
  let line: FakeLine;

  const CASE_ACTION = '/voice/pay?turn=5&amp;lang=en&amp;case=300000123456&amp;amount=45000';
  const PAY_ATTRIBUTES: Record<string, string> = {
    input: 'dtmf',
    action: CASE_ACTION,
    method: 'POST',
    statusCallback: '/voice/pay-status',
    statusCallbackMethod: 'POST',
    timeout: '10',
    maxAttempts: '3',
    securityCode: 'true',
    postalCode: 'true',
    paymentConnector: 'Default',
    paymentMethod: 'credit-card',
    chargeAmount: '450.00',
    currency: 'usd',
    description: 'Child support payment, case 300000123456',
    language: 'en-US',
    validCardTypes: 'visa mastercard amex discover',
  };
  const PROMPTS = [
    '<Prompt for="payment-card-number"><Say language="en-US">Please enter your card number, then press pound.</Say></Prompt>',
    '<Prompt for="payment-card-number" errorType="invalid-card-number invalid-card-type"><Say>That card number did not work.</Say></Prompt>',
    '<Prompt for="payment-card-number" errorType="invalid-card-number" attempt="3"><Say>Last try for the card number.</Say></Prompt>',
    '<Prompt for="payment-card-number" errorType="timeout"><Say>I did not hear a card number.</Say></Prompt>',
    '<Prompt for="expiration-date"><Say>Enter the expiration date.</Say></Prompt>',
    '<Prompt for="expiration-date" errorType="invalid-date"><Say>That date did not work.</Say></Prompt>',
    '<Prompt for="security-code"><Say>Enter the three digit security code.</Say></Prompt>',
    '<Prompt for="security-code" cardType="amex"><Say>Enter the four digit code on the front.</Say></Prompt>',
    '<Prompt for="postal-code"><Say>Enter the billing ZIP code.</Say></Prompt>',
    '<Prompt for="payment-processing"><Say>Please wait while we process your payment.</Say></Prompt>',
  ].join('');
  const payDocument = (overrides: Record<string, string | null> = {}, prompts = PROMPTS) => {
    const attributes = { ...PAY_ATTRIBUTES, ...overrides };
    const text = Object.entries(attributes).filter(([, value]) => value !== null).map(([name, value]) => `${name}="${value}"`).join(' ');
    return twiml(`<Say>Now your card.</Say><Pay ${text}>${prompts}</Pay><Say>never said</Say>`);
  };
  // Every card and security code a test enters: none of it may reach the line beyond the last four.
  const ENTERED_CARDS = ['4242424242424242', '5555555555554444', '378282246310005', '6011111111111117', '4000000000000002', '4000000000000119', '4242424242424241', '4111111111111112'];
  const ENTERED_CODES = ['123', '1234', '987', '9876'];

  beforeEach(async () => {
    line = await new FakeLine().start();
    line.on('/voice', payDocument());
    line.on('/voice/pay', (params) => twiml(`<Say>Result ${params.Result}.</Say><Gather action="/voice/after" numDigits="1"><Say>Press 9 to repeat.</Say></Gather>`));
    line.on('/voice/pay-status', { status: 204, body: '' });
    line.on('/voice/after', twiml('<Say>Goodbye.</Say><Hangup/>'));
  });
  afterEach(async function () {
    await line.stop();
    // Whatever the test did, no request carried a card number or a security code in clear.
    for (const seen of line.seen) {
      for (const card of ENTERED_CARDS) {
        expect(seen.raw, `${this.currentTest?.title}: ${seen.raw}`).not.to.include(card.slice(0, -4));
        expect(seen.raw).not.to.include(card.slice(0, 6));
      }
      if (seen.params.SecurityCode !== undefined) expect(seen.params.SecurityCode).to.match(/^x*$/);
      for (const [name, value] of Object.entries(seen.params)) {
        if (name !== 'Attempt') expect(ENTERED_CODES, `${name}=${value}`).not.to.include(value);
      }
      expect(seen.signatureValid, `${seen.method} ${seen.path}`).to.equal(true);
    }
  });

  const statuses = () => line.requests('/voice/pay-status').map((seen) => seen.params);

  it('asks for each card detail with the matching <Prompt> and posts the masked result to the action', async () => {
    const phone = line.phone();
    await phone.dial();
    expect(phone.heardSinceLastInput()).to.equal('Now your card. Please enter your card number, then press pound.');
    expect(phone.waiting).to.deep.include({ kind: 'pay', for: 'payment-card-number', attempt: 1, maxAttempts: 3, errorType: null, chargeAmount: '450.00', currency: 'usd', language: 'en-US', finishOnKey: '#' });

    await phone.press('4242424242424242#');
    expect(phone.heardSinceLastInput()).to.equal('Enter the expiration date.');
    expect(phone.waiting).to.include({ kind: 'pay', for: 'expiration-date', cardType: 'visa' });
    await phone.press('1230#');
    expect(phone.heardSinceLastInput()).to.equal('Enter the three digit security code.');
    await phone.press('123#');
    expect(phone.heardSinceLastInput()).to.equal('Enter the billing ZIP code.');
    expect(line.requests('/voice/pay')).to.have.length(0);
    await phone.press('95814#');
    expect(phone.heardSinceLastInput()).to.equal('Please wait while we process your payment. Result success. Press 9 to repeat.');
    expect(phone.waiting?.kind).to.equal('gather');

    const posted = line.last('/voice/pay');
    expect(posted.method).to.equal('POST');
    expect(posted.raw).to.match(/^POST \/voice\/pay\?turn=5&lang=en&case=300000123456&amount=45000\n/);
    expect(posted.params).to.include({
      Result: 'success',
      PaymentCardNumber: 'xxxx-xxxx-xxxx-4242',
      PaymentCardType: 'visa',
      ExpirationDate: '1230',
      PaymentCardPostalCode: '95814',
      SecurityCode: 'xxx',
      PaymentMethod: 'credit-card',
      PayErrorCode: '',
      PaymentError: '',
      ConnectorError: '',
      CallStatus: 'in-progress',
      CallSid: phone.callSid,
    });
    expect(posted.params.PaymentConfirmationCode).to.match(/^ch_[A-Za-z0-9]{24}$/);
    expect(posted.params).to.have.property('ProfileId');
    expect(posted.params).to.have.property('PaymentToken');
    expect(posted.params).to.have.property('From', '+19165550143');
    expect(phone.applicationErrors).to.deep.equal([]);
  });

  it('answers every remaining prompt at once with pay(), with defaults for what is left out', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.pay({ card: '5555 5555 5555 4444' });
    expect(line.last('/voice/pay').params).to.include({
      Result: 'success', PaymentCardNumber: 'xxxx-xxxx-xxxx-4444', PaymentCardType: 'mastercard', ExpirationDate: '1230', PaymentCardPostalCode: '95814', SecurityCode: 'xxx',
    });
    expect(phone.heardSinceLastInput()).to.include('Enter the expiration date.').and.include('Result success.');
  });

  it('asks an amex card for its four-digit code with the cardType prompt and masks it like Twilio', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('378282246310005#1230#');
    expect(phone.heardSinceLastInput()).to.include('Enter the four digit code on the front.').and.not.include('three digit');
    await phone.press('123#');
    expect(phone.waiting).to.include({ for: 'security-code', errorType: 'invalid-security-code', attempt: 2 });
    await phone.pay({ card: '378282246310005', postalCode: '90012' });
    expect(line.last('/voice/pay').params).to.include({
      Result: 'success', PaymentCardNumber: 'xxxx-xxxxxx-x0005', PaymentCardType: 'amex', SecurityCode: 'xxxx', PaymentCardPostalCode: '90012',
    });
  });

  it('gives every payment its own confirmation code', async () => {
    const codes = new Set<string>();
    for (const card of ['4242424242424242', '4242424242424242', '6011111111111117']) {
      const phone = line.phone();
      await phone.dial();
      await phone.pay(card);
      codes.add(line.last('/voice/pay').params.PaymentConfirmationCode ?? '');
      await phone.hangup();
    }
    expect(codes.size).to.equal(3);
  });

  it('asks again after a number that fails the Luhn check, then takes a good one', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('4242424242424241#');
    expect(phone.heardSinceLastInput()).to.equal('That card number did not work.');
    expect(phone.waiting).to.include({ kind: 'pay', for: 'payment-card-number', attempt: 2, errorType: 'invalid-card-number' });
    expect(statuses().at(-1)).to.include({ For: 'payment-card-number', Attempt: '2', ErrorType: 'invalid-card-number' });
    expect(line.requests('/voice/pay')).to.have.length(0);
    await phone.pay('4242424242424242');
    expect(line.last('/voice/pay').params).to.include({ Result: 'success', PaymentCardNumber: 'xxxx-xxxx-xxxx-4242' });
  });

  it('refuses a card type the <Pay> does not accept', async () => {
    line.on('/voice', payDocument({ validCardTypes: 'visa mastercard' }));
    const phone = line.phone();
    await phone.dial();
    await phone.press('378282246310005#');
    expect(phone.waiting).to.include({ errorType: 'invalid-card-type', attempt: 2 });
    expect(phone.heardSinceLastInput()).to.equal('That card number did not work.');
  });

  it('plays the prompt for the attempt, and ends with too-many-failed-attempts after maxAttempts', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('4111111111111112#');
    await phone.press('4111111111111112#');
    expect(phone.heardSinceLastInput()).to.equal('Last try for the card number.');
    await phone.press('4111111111111112#');
    const posted = line.last('/voice/pay').params;
    expect(posted).to.include({ Result: 'too-many-failed-attempts', PaymentConfirmationCode: '', PaymentCardNumber: '', PaymentCardType: '' });
    expect(phone.heardSinceLastInput()).to.equal('Result too-many-failed-attempts. Press 9 to repeat.');
    expect(line.requests('/voice/pay')).to.have.length(1);
  });

  it('counts silence as a timeout and ends at maxAttempts="1" on the first bad entry', async () => {
    line.on('/voice', payDocument({ maxAttempts: '1' }));
    const phone = line.phone();
    await phone.dial();
    await phone.silence();
    expect(line.last('/voice/pay').params.Result).to.equal('too-many-failed-attempts');
    expect(statuses().map((params) => params.For ?? params.Result)).to.deep.equal(['payment-card-number', 'too-many-failed-attempts']);
  });

  it('treats silence and speech at a <Pay> prompt as a timeout', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.silence();
    expect(phone.heardSinceLastInput()).to.equal('I did not hear a card number.');
    await phone.say('four two four two');
    expect(phone.waiting).to.include({ errorType: 'timeout', attempt: 3 });
  });

  it('refuses an expiry in the past or with no such month', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('4242424242424242#0120#');
    expect(phone.heardSinceLastInput()).to.equal('Enter the expiration date. That date did not work.');
    await phone.press('1330#');
    expect(phone.waiting).to.include({ for: 'expiration-date', errorType: 'invalid-date', attempt: 3 });
    const now = new Date();
    const thisMonth = `${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCFullYear() % 100).padStart(2, '0')}`;
    await phone.press(`${thisMonth}#`);
    expect(phone.waiting).to.include({ for: 'security-code' });
  });

  it('reports a card the processor declines as payment-connector-error', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.pay('4000000000000002');
    const posted = line.last('/voice/pay').params;
    expect(posted).to.include({ Result: 'payment-connector-error', PaymentConfirmationCode: '', PayErrorCode: '64012', PaymentCardNumber: 'xxxx-xxxx-xxxx-0002' });
    expect(posted.PaymentError).to.match(/card-declined/);
    expect(posted.ConnectorError).to.not.equal('');
    expect(phone.heardSinceLastInput()).to.include('Please wait while we process your payment. Result payment-connector-error.');
  });

  it('reports a processing error as payment-connector-error', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.pay('4000000000000119');
    const posted = line.last('/voice/pay').params;
    expect(posted).to.include({ Result: 'payment-connector-error', PaymentConfirmationCode: '', PayErrorCode: '64008' });
    expect(posted.PaymentError).to.match(/processing/);
  });

  it('leaves <Pay> on * at any prompt; the keys after it go to what comes next', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('4242424242424242#12*9');
    expect(line.last('/voice/pay').params).to.include({ Result: 'caller-interrupted-with-star', PaymentConfirmationCode: '', PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', ExpirationDate: '' });
    expect(line.last('/voice/after').params.Digits).to.equal('9');
    expect(phone.endedBy).to.equal('line');
  });

  it('posts caller-hung-up to the action, ignores its answer, then sends the call status callback', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('4242424242424242#');
    await phone.hangup();
    expect(phone.endedBy).to.equal('caller');
    expect(line.last('/voice/pay').params).to.include({ Result: 'caller-hung-up', CallStatus: 'completed', PaymentConfirmationCode: '' });
    expect(line.seen.slice(-3).map((seen) => seen.path)).to.deep.equal(['/voice/pay-status', '/voice/pay', '/voice/status']);
    expect(phone.heardSinceLastInput()).to.equal('');
    expect(phone.applicationErrors).to.deep.equal([]);
  });

  it('posts signed progress webhooks to statusCallback for each step, then the result', async () => {
    const phone = line.phone();
    await phone.dial();
    await phone.press('5555555555554444#');
    await phone.pay('5555555555554444');
    const all = statuses();
    expect(all.map((params) => params.For ?? `Result=${params.Result}`)).to.deep.equal([
      'payment-card-number', 'expiration-date', 'security-code', 'postal-code', 'payment-processing', 'Result=success',
    ]);
    expect(all[0]).to.include({ AccountSid: phone.accountSid, CallSid: phone.callSid, Attempt: '1' });
    expect(all[0]).not.to.have.property('PaymentCardNumber');
    expect(all[1]).to.include({ PaymentCardNumber: 'xxxx-xxxx-xxxx-4444', PaymentCardType: 'mastercard' });
    expect(all[4]).to.include({ SecurityCode: 'xxx', PaymentCardPostalCode: '95814' });
    expect(all[5]?.PaymentConfirmationCode).to.equal(line.last('/voice/pay').params.PaymentConfirmationCode);
  });

  it('counts an error answer to a <Pay> status callback as an application error', async () => {
    line.on('/voice/pay-status', { status: 500, type: 'text/plain', body: 'boom' });
    const phone = line.phone();
    await phone.dial();
    expect(phone.applicationErrors.map((error) => [error.phase, error.status])).to.deep.equal([['pay-status-callback', 500]]);
    await phone.pay('4242424242424242');
    expect(line.last('/voice/pay').params.Result).to.equal('success');
  });

  it('skips the security and postal codes when the <Pay> does not ask for them, and speaks Twilio defaults in its language', async () => {
    line.on('/voice', payDocument({ securityCode: 'false', postalCode: 'false', language: 'es-MX', statusCallback: null }, ''));
    const phone = line.phone();
    await phone.dial();
    expect(phone.heardSinceLastInput()).to.equal('Now your card. [Twilio default prompt (es-MX): marque el número de su tarjeta y oprima numeral]');
    await phone.press('4242424242424241#');
    expect(phone.heardSinceLastInput()).to.match(/^\[Twilio default prompt \(es-MX\): ese número de tarjeta no es válido; marque/);
    await phone.pay({ card: '4242424242424242', securityCode: '987', postalCode: '99999' });
    const posted = line.last('/voice/pay').params;
    expect(posted).to.include({ Result: 'success', SecurityCode: '', PaymentCardPostalCode: '', ExpirationDate: '1230' });
    expect(line.requests('/voice/pay-status')).to.have.length(0);
  });

  it('tokenizes instead of charging without a chargeAmount', async () => {
    line.on('/voice', payDocument({ chargeAmount: null }));
    const phone = line.phone();
    await phone.dial();
    await phone.pay('4242424242424242');
    const posted = line.last('/voice/pay').params;
    expect(posted).to.include({ Result: 'success', PaymentConfirmationCode: '' });
    expect(posted.PaymentToken).to.match(/^tok_/);
  });

  it('answers an invalid chargeAmount with validation-error without asking for the card', async () => {
    line.on('/voice', payDocument({ chargeAmount: '45O.00' }));
    const phone = line.phone();
    await phone.dial();
    expect(line.last('/voice/pay').params).to.include({ Result: 'validation-error' });
    expect(phone.heardSinceLastInput()).to.equal('Now your card. Result validation-error. Press 9 to repeat.');
  });

  it('ends on an application error for a <Pay> it cannot run', async () => {
    line.on('/voice', payDocument({ paymentMethod: 'ach-debit' }));
    const phone = line.phone();
    await phone.dial();
    expect(phone.applicationErrors[0]?.reason).to.match(/not simulated/);
    line.on('/voice', twiml('<Pay action="/voice/pay"><Say>loose words</Say></Pay>'));
    const other = line.phone();
    await other.dial();
    expect(other.applicationErrors[0]?.reason).to.match(/<Pay> cannot contain <Say>/);
  });

  it('refuses pay() where no <Pay> is running', async () => {
    line.on('/voice', twiml('<Gather action="/voice/after" numDigits="1"><Say>Choose.</Say></Gather>'));
    const phone = line.phone();
    await phone.dial();
    let caught: unknown;
    try {
      await phone.pay('4242424242424242');
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(PhoneError);
    expect((caught as Error).message).to.match(/not running <Pay>/);
  });

  it('re-sends the <Pay> action for retries and duplicate deliveries', async () => {
    let answers = 0;
    line.on('/voice/pay', (params) => twiml(`<Say>Paid ${params.PaymentConfirmationCode}, answer ${++answers}.</Say><Gather action="/voice/after" numDigits="1"/>`));
    const phone = line.phone();
    await phone.dial();
    await phone.pay('4242424242424242');
    const retry = await phone.retryLastRequest();
    expect(retry.url).to.match(/\/voice\/pay\?turn=5/);
    expect(retry.identical).to.equal(false);
    const [first, again] = line.requests('/voice/pay');
    expect(again?.token).to.equal(first?.token);
    expect(again?.params).to.deep.equal(first?.params);

    const duplicate = await phone.duplicateLastPayCallback({ freshToken: true });
    const third = line.requests('/voice/pay')[2];
    expect(third?.token).not.to.equal(first?.token);
    expect(third?.params).to.deep.equal(first?.params);
    expect(duplicate.original.body).to.include('answer 1.');
    expect(duplicate.retry.body).to.include('answer 3.');
    expect(phone.heardSinceLastInput()).to.include('answer 1.').and.not.include('answer 2.');
  });
});

describe('the TwiML reader', () => {
  it('reads the declaration, comments, CDATA, self-closing tags, attributes in either quotes and entities', () => {
    const root = parseTwiml(`\uFEFF<?xml version="1.0" encoding="UTF-8"?>
<!-- menu -->
<Response>
  <Gather action='/voice?a=1&amp;b=2' numDigits="1"><Say>A &lt; B &gt; C &quot;D&quot; &#233;<![CDATA[ <raw> & ]]></Say></Gather>
  <Hangup />
</Response>`);
    const [gather, hangup] = root.children.filter((node) => node.type === 'element');
    expect(gather?.type === 'element' && gather.attributes).to.deep.equal({ action: '/voice?a=1&b=2', numDigits: '1' });
    expect(spokenText(gather!)).to.equal('A < B > C "D" é <raw> & ');
    expect(hangup?.type === 'element' && hangup.name).to.equal('Hangup');
  });

  it('speaks SSML <sub> by its alias', () => {
    expect(spokenText(parseXml('<Say>Call <sub alias="Customer Connect">CC</sub><break time="1s"/>now.</Say>'))).to.equal('Call Customer Connect now.');
  });

  for (const [what, source] of [
    ['a bare ampersand', '<Response><Say>Tom & Jerry</Say></Response>'],
    ['an unknown entity', '<Response><Say>&nbsp;</Say></Response>'],
    ['mismatched tags', '<Response><Say>Hi</Gather></Response>'],
    ['an unquoted attribute', '<Response><Gather numDigits=1/></Response>'],
    ['a duplicate attribute', '<Response><Gather a="1" a="2"/></Response>'],
    ['two roots', '<Response/><Response/>'],
    ['an empty document', '  '],
    ['a late declaration', '<!-- x --><?xml version="1.0"?><Response/>'],
  ] as const) {
    it(`rejects ${what}`, () => {
      expect(() => parseTwiml(source)).to.throw(XmlSyntaxError);
    });
  }
});
