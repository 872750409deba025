// Caller services and spoken menu choices, over HTTP against a real Redis: a phone update heard
// on the next call and audited masked, forms queued once to the address on file, and speech
// matched to menu keys in both languages (low confidence or unmatched: asked again).
import { expect } from 'chai';
import type { ParticipantId } from '../src/domain/caseload.ts';
import type { Line } from '../src/server.ts';
import { keyForSpeech, MIN_CONFIDENCE } from '../prompts/speech.ts';
import { Caller } from './support/caller.ts';
import { LineFleet } from './support/lines.ts';
import { callParams, nextPath, post, saidIn } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const DANA = { id: '4821930576', pin: '735194' };
const RAFAEL = { id: '6148027395', pin: '614285' };

async function say(caller: Caller, text: string, confidence = '0.9'): Promise<Caller> {
  const res = await post(caller.app, nextPath(caller.twiml), callParams(caller.callSid, { SpeechResult: text, Confidence: confidence }));
  caller.twiml = res.text;
  caller.heard = saidIn(res.text);
  return caller;
}

describe('the speech matcher', () => {
  const cases: [Parameters<typeof keyForSpeech>[0], string, 'en' | 'es', string | null][] = [
    ['main', 'balance', 'en', '1'],
    ['main', 'my balance please', 'en', '1'],
    ['main', 'I want to make a payment', 'en', '2'],
    ['main', 'I forgot my PIN', 'en', '3'],
    ['main', 'what is your mailing address', 'en', '4'],
    ['main', 'office hours', 'en', '5'],
    ['main', 'representative', 'en', '0'],
    ['main', 'Representative!', 'en', '0'],
    ['main', 'saldo', 'es', '1'],
    ['main', 'quiero pagar', 'es', '2'],
    ['main', 'hacer un pago', 'es', '2'],
    ['main', 'opciones de pago', 'es', '4'],
    ['main', 'representante', 'es', '0'],
    ['main', 'Olvidé mi PIN', 'es', '3'],
    ['main', 'olvide mi pin', 'es', '3'],
    ['account', 'how much do I owe', 'en', '1'],
    ['account', 'mis pagos', 'es', '2'],
    ['account', 'fecha de corte', 'es', '3'],
    ['language', 'español', 'en', '2'],
    ['language', 'English', 'en', '1'],
    ['main', 'pineapple', 'en', null],
    ['main', 'bananas', 'es', null],
  ];
  for (const [vocabulary, words, language, key] of cases) {
    it(`${language} "${words}" at ${vocabulary} → ${key ?? 'no choice'}`, () => {
      expect(keyForSpeech(vocabulary, words, 0.9, language)).to.equal(key);
    });
  }
  it('refuses speech below the confidence floor', () => {
    expect(keyForSpeech('main', 'balance', MIN_CONFIDENCE - 0.01, 'en')).to.equal(null);
    expect(keyForSpeech('main', 'balance', MIN_CONFIDENCE, 'en')).to.equal('1');
  });
});

describe('services and speech (real Redis)', function () {
  this.timeout(30_000);
  let fleet: LineFleet;
  let line: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW);
    line = await fleet.start();
  });
  afterEach(() => fleet.stop());

  it('updates the phone number after a digit-by-digit read-back, audited with masked numbers', async () => {
    const c = await new Caller(line.app).login(DANA.id, DANA.pin);
    await c.press('5');
    expect(c.heard).to.include('To update your phone number, press 1');
    await c.press('1');
    await c.press('91655501');
    expect(c.heard).to.include('A phone number has 10 digits');
    await c.press('9165550177');
    expect(c.heard).to.include('You entered 9 1 6 5 5 5 0 1 7 7');
    await c.press('2');
    await c.press('9165550178');
    await c.press('1');
    expect(c.heard).to.include('Your phone number has been updated');
    expect((await line.caseload.participant(DANA.id as ParticipantId))?.phone).to.equal('+19165550178');
    const [entry] = await line.caseload.auditTrail(1);
    expect(entry).to.deep.include({ participantId: DANA.id, action: 'phone-update', oldPhone: '***-***-0143', newPhone: '***-***-0178', at: NOW.toISOString() });
    expect(JSON.stringify(await line.caseload.auditTrail(10))).not.to.match(/916555017|165550143/);
  });

  it('queues a form to the address on file once, however often the webhook is retried', async () => {
    const c = await new Caller(line.app).login(DANA.id, DANA.pin);
    await c.press('5');
    await c.press('2');
    const path = nextPath(c.twiml);
    const first = await post(line.app, path, callParams(c.callSid, { Digits: '1' }), { idempotencyToken: 'form-1' });
    const retried = await post(line.app, path, callParams(c.callSid, { Digits: '1' }), { idempotencyToken: 'form-1' });
    expect(retried.text).to.equal(first.text);
    expect(saidIn(first.text)).to.include('We will mail it to the address we have on file, in Sacramento, ZIP code 9 5');
    // Asking for the same form again in the same day still mails one.
    c.twiml = first.text;
    await c.press('2');
    await c.press('1');
    const letters = (await line.caseload.letters()).filter((l) => l.kind === 'form');
    expect(letters).to.have.length(1);
    expect(letters[0]).to.deep.include({ participantId: DANA.id, language: 'en', form: 'change-of-address' });
  });

  it('recurring payments: explains registration and mails the information in the participant\'s language', async () => {
    const c = await new Caller(line.app).login(RAFAEL.id, RAFAEL.pin, 'es');
    await c.press('5');
    await c.press('3');
    expect(c.heard).to.include('Inscríbase en línea en childsup.ca.gov');
    expect(c.heard).to.include('gratuita');
    await c.press('1');
    expect(c.heard).to.include('Se lo enviaremos por correo');
    const [letter] = (await line.caseload.letters()).filter((l) => l.kind === 'form');
    expect(letter).to.deep.include({ participantId: RAFAEL.id, language: 'es', form: 'recurring-payment-registration' });
  });

  it('menus accept speech in English; entries do not listen for it', async () => {
    const c = new Caller(line.app);
    await c.answer();
    expect(c.twiml).to.include('input="dtmf speech"');
    await say(c, 'English');
    expect(c.heard).to.include('Main menu.');
    expect(c.twiml).to.include('language="en-US"');
    expect(c.twiml).to.match(/hints="[^"]*balance/);
    await say(c, 'my balance please');
    expect(c.heard).to.include('participant ID or your 9-digit Social Security number');
    expect(c.twiml).to.include('<Gather input="dtmf" finishOnKey="#"');
    expect(c.twiml).not.to.include('speech');
  });

  it('menus accept speech in Spanish, with Spanish hints and recognition', async () => {
    const c = new Caller(line.app);
    await c.answer();
    await say(c, 'español');
    expect(c.twiml).to.include('language="es-US"');
    expect(c.twiml).to.match(/hints="[^"]*saldo/);
    await say(c, 'horario');
    expect(c.heard).to.include('Los representantes atienden de lunes a viernes');
    await say(c, 'regresar');
    expect(c.heard).to.include('Menú principal');
    await say(c, 'opciones de pago');
    expect(c.heard).to.include('Opciones de pago y dirección postal');
  });

  it('unmatched or low-confidence speech is handled like a wrong key', async () => {
    const c = await new Caller(line.app).toMainMenu();
    await say(c, 'pineapple');
    expect(c.heard).to.include("Sorry, I didn't understand that.");
    await say(c, 'balance', '0.2');
    expect(c.heard).to.include("I still didn't understand");
    await say(c, 'something else');
    expect(c.heard).to.include("We're having trouble understanding your choice");
  });
});
