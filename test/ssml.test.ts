// Numbers as people say them, on the rendered TwiML: digits and phone numbers through the SSML
// <say-as> Polly's neural voices support, codes with letters spelled in plain text (never
// say-as "characters", which drops the sentence to the standard voice), money and dates in
// each language's own form. Every reply is also held byte for byte to twilio's VoiceResponse.
import { expect } from 'chai';
import { catalog, type PromptId } from '../prompts/catalog.ts';
import type { Language, Utterance } from '../prompts/speak.ts';
import type { Reply } from '../src/engine/reply.ts';
import { replyUrls } from '../src/telephony/routes.ts';
import { renderReply } from '../src/telephony/twiml.ts';
import { renderReference } from './support/twiml-reference.ts';
import { saidIn } from './support/twilio.ts';

const urlsFor = replyUrls('https://ivr.example.test', 'ssml-test-secret');

function rendered(language: Language, said: Utterance[]): string {
  const reply: Reply = { language, said, next: { input: 'menu', vocabulary: 'navigation' }, turn: 2, pay: null };
  const urls = urlsFor(reply.turn, reply.language, reply.pay);
  const ours = renderReply(reply, urls, '+19165550100');
  expect(ours).to.equal(renderReference(reply, urls, '+19165550100'));
  return ours;
}

const said = (xml: string) => /<Gather[^>]*>(.*)<\/Gather>/.exec(xml)?.[1] ?? '';

describe('SSML in <Say> (Polly neural)', () => {
  it('says a case ending digit by digit with <say-as interpret-as="digits">, in both languages', () => {
    const line: Utterance = { id: 'pay.chooseCase', values: { last4: { kind: 'digits', value: '3456' }, key: { kind: 'number', value: 1 } } };
    expect(said(rendered('en', [line]))).to.equal('<Say voice="Polly.Joanna-Neural" language="en-US">For the case ending in <say-as interpret-as="digits">3456</say-as>, press 1.</Say>');
    expect(said(rendered('es', [line]))).to.equal('<Say voice="Polly.Lupe-Neural" language="es-US">Para el caso que termina en <say-as interpret-as="digits">3456</say-as>, oprima 1.</Say>');
  });

  it('reads a phone number back with <say-as interpret-as="telephone">', () => {
    const xml = rendered('es', [{ id: 'phone.readBack', values: { number: { kind: 'phone', value: '9165550177' } } }]);
    expect(said(xml)).to.equal('<Say voice="Polly.Lupe-Neural" language="es-US">Usted marcó <say-as interpret-as="telephone">9165550177</say-as>.</Say>');
  });

  it('digits at the very start of a <Say> are SSML too, and what follows stays text', () => {
    const mutable = catalog as unknown as Record<string, { en: string; es: string }>;
    const id = 'test.digitsFirst' as PromptId;
    mutable[id] = { en: '{value} & more', es: '{value} y más' };
    try {
      expect(said(rendered('en', [{ id, values: { value: { kind: 'digits', value: '0042' } } }]))).to.equal(
        '<Say voice="Polly.Joanna-Neural" language="en-US"><say-as interpret-as="digits">0042</say-as> &amp; more</Say>');
    } finally {
      delete mutable[id];
    }
  });

  it('names and places around the digits are escaped as text', () => {
    const xml = rendered('en', [{ id: 'caseInfo.case', values: {
      caseNumber: { kind: 'digits', value: '300000123456' }, county: { kind: 'name', value: 'Smith & <Sons>' },
      status: { kind: 'prompt', id: 'status.open' }, party: { kind: 'prompt', id: 'party.paying' },
    } }]);
    expect(said(xml)).to.include('Case number <say-as interpret-as="digits">300000123456</say-as>, Smith &amp; &lt;Sons&gt; County, open.');
  });

  it('spells a confirmation code with letters character by character in plain text, a numeric one with say-as digits', () => {
    const code = (value: string, language: Language) => rendered(language, [{ id: 'pay.confirmation', values: { code: { kind: 'digits', value } } }]);
    expect(said(code('ch_3QxZ8a', 'en'))).to.include('Your confirmation number is C, H, underscore, 3, Q, X, Z, 8, A.');
    expect(said(code('ch_3QxZ8a', 'es'))).to.include('Su número de confirmación es C, H, guion bajo, 3, Q, X, Z, 8, A.');
    expect(said(code('AB-12', 'en'))).to.include('A, B, dash, 1, 2.');
    expect(said(code('48213377', 'en'))).to.include('Your confirmation number is <say-as interpret-as="digits">48213377</say-as>.');
    for (const xml of [code('ch_3QxZ8a', 'en'), code('48213377', 'es')]) expect(xml).not.to.match(/characters|spell-out/);
  });

  it('says money and dates in each language\'s own form', () => {
    const payment: Utterance = { id: 'history.item', values: {
      date: { kind: 'date', at: '2026-03-01T20:00:00Z' }, amount: { kind: 'money', cents: 123456 },
      method: { kind: 'prompt', id: 'method.check' }, last4: { kind: 'digits', value: '3456' },
    } };
    expect(said(rendered('en', [payment]))).to.include('On Sunday, March 1, 2026, $1,234.56 from a check, case ending in <say-as interpret-as="digits">3456</say-as>.');
    expect(said(rendered('es', [payment]))).to.include('El domingo primero de marzo de 2026, 1234 dólares con 56 centavos por cheque, caso que termina en <say-as interpret-as="digits">3456</say-as>.');
  });

  it('the summary said first has the figures in the caller\'s language', () => {
    const summary: Utterance = { id: 'summary.oweAndReceived', values: {
      total: { kind: 'money', cents: 168456 }, due: { kind: 'money', cents: 45000 },
      amount: { kind: 'money', cents: 32500 }, date: { kind: 'date', at: '2026-11-02T20:00:00Z' },
    } };
    expect(saidIn(rendered('en', [summary]))).to.equal('You owe $1,684.56 in all, and $450.00 is due this month; the last payment you received was $325.00, on Monday, November 2, 2026.');
    expect(saidIn(rendered('es', [summary]))).to.equal('Usted debe 1684 dólares con 56 centavos en total, y lo que vence este mes es 450 dólares; el último pago que usted recibió fue de 325 dólares, el lunes 2 de noviembre de 2026.');
  });

  it('tests and transcripts read <say-as> digits as the voice says them, one by one', () => {
    const xml = rendered('en', [{ id: 'pay.approved', values: { amount: { kind: 'money', cents: 10000 }, last4: { kind: 'digits', value: '4242' } } }]);
    expect(saidIn(xml)).to.equal('Thank you. Your payment of $100.00 with the card ending in 4 2 4 2 was approved.');
  });
});
