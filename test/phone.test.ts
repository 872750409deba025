import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import twilio from 'twilio';
import { Phone, PhoneError, XmlSyntaxError, parseTwiml, parseXml, spokenText, type PhoneOptions } from '../scripts/phone.ts';

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
    app.use(express.urlencoded({ extended: false }));
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
      expect(phone.waiting).to.include({ action: '/voice/menu', numDigits: 1, finishOnKey: '#', timeout: 5, method: 'POST' });
      expect(phone.waiting?.input).to.deep.equal(['dtmf']);
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

    it('ends the call at <Pay>, which this simulator does not run yet', async () => {
      line.on('/voice', twiml('<Pay chargeAmount="10.00" action="/voice/paid"/><Say>never said</Say>'));
      const phone = line.phone();
      await phone.dial();
      expect(phone.heardSinceLastInput()).to.equal('[Pay not supported by this simulator yet]');
      expect(phone.ended).to.equal(true);
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
