// The line renders TwiML with string templates; twilio's VoiceResponse is the reference it must
// match byte for byte (test/callscripts.test.ts checks every reply the call scripts reach; this
// file checks what they do not: every ending, and text that needs escaping).
import { expect } from 'chai';
import { apology, paymentUnconfirmed, type Reply } from '../src/engine/reply.ts';
import { replyUrls } from '../src/telephony/routes.ts';
import { emptyResponse, renderReply, text } from '../src/telephony/twiml.ts';
import { emptyReference, renderReference } from './support/twiml-reference.ts';

const urlsFor = replyUrls('https://ivr.example.test:8443/base', 'twiml-test-secret');
const AGENT = '+19165550100';

function same(reply: Reply, settings = { paymentConnector: 'Default' }): string {
  const urls = urlsFor(reply.turn, reply.language, reply.pay);
  const ours = renderReply(reply, urls, AGENT, settings);
  expect(ours).to.equal(renderReference(reply, urls, AGENT, settings));
  return ours;
}

// Text a caseload can put in a prompt (a place, a description): everything XML must escape.
const AWKWARD = [
  `Smith & Sons "Court" <Dept. 4> 'A'`,
  'line one\nline two\r\nthree\ttabbed',
  'ñandú, café, 漢字, emoji 📞',
  ']]> <![CDATA[ &amp; &#x41;',
  '',
];

describe('TwiML rendering (string templates against twilio VoiceResponse)', () => {
  it('renders the apology with a transfer, and with the hours and goodbye, as VoiceResponse does', () => {
    for (const language of ['en', 'es'] as const) {
      expect(same(apology(language, true))).to.match(/<Dial timeout="30">\+19165550100<\/Dial><Hangup\/><\/Response>$/);
      expect(same(apology(language, false))).to.match(/<Hangup\/><\/Response>$/);
    }
  });

  it('renders the payment-not-confirmed goodbye', () => {
    expect(same(paymentUnconfirmed('es', 123456, 'ch_3QxZ81'))).to.include('C, H, guion bajo, 3, Q, X, Z, 8, 1');
  });

  it('escapes text and attributes exactly as xmlbuilder does', () => {
    for (const value of AWKWARD) {
      const reply: Reply = {
        language: 'en', turn: 3, pay: null, next: { input: 'menu', vocabulary: 'navigation' },
        said: [{ id: 'caseInfo.appointment', values: {
          kind: { kind: 'prompt', id: 'kind.appointment' }, date: { kind: 'date', at: '2026-12-03T17:30:00Z' }, time: { kind: 'time', at: '2026-12-03T17:30:00Z' },
          location: { kind: 'name', value }, description: { kind: 'name', value }, last4: { kind: 'digits', value: '3456' },
        } }],
      };
      same(reply);
      same({ ...reply, next: { input: 'digits', maxLength: 10 } });
      same({ ...reply, next: { input: 'dial' } });
      same({ ...reply, next: { end: 'hangup' } });
    }
  });

  it('escapes the payment connector and the case in <Pay> attributes', () => {
    const pay = { caseNumber: '300000123456', chargeCents: 105_000, amountCents: 100_000, callSid: 'CA0123456789abcdef0123456789abcdef', expiresAt: 1_796_000_000_000, nonce: 'n0nce' };
    const xml = same({ language: 'es', turn: 9, said: [{ id: 'pay.cardNext' }], next: { input: 'pay' }, pay }, { paymentConnector: 'Stripe "live" & <prod>' });
    expect(xml).to.include('chargeAmount="1050.00"').and.include('paymentConnector="Stripe &quot;live&quot; &amp; &lt;prod>"');
  });

  it('leaves out characters XML cannot carry rather than break the document', () => {
    expect(text('a\u0000b\u0007c\uFFFEd')).to.equal('abcd');
  });

  it('renders an empty response for callbacks that need no answer', () => {
    expect(emptyResponse()).to.equal(emptyReference());
  });
});
