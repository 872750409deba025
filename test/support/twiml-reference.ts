// The TwiML renderer as it was before the line rendered with string templates: twilio's own
// VoiceResponse (xmlbuilder). test/twiml.test.ts holds the line's renderer to byte-identical
// output against it for every reply the call scripts reach.
import twilio from 'twilio';
import { speakPieces, VOICE, type Language, type Utterance } from '../../prompts/speak.ts';
import { hintsFor } from '../../prompts/speech.ts';
import type { Reply } from '../../src/engine/reply.ts';
import { DIAL_TIMEOUT, ENTRY_TIMEOUT, MENU_TIMEOUT, PAY_PROMPTS, type PaySettings, type ReplyUrls } from '../../src/telephony/twiml.ts';

const { VoiceResponse } = twilio.twiml;

type Say = ReturnType<InstanceType<typeof VoiceResponse>['say']>;
type Sayer = { say(attributes: { voice?: string; language?: string }, text: string): Say };

function sayAll(target: Sayer, said: readonly Utterance[], language: Language): void {
  for (const utterance of said) {
    const { pieces, language: spokenIn } = speakPieces(utterance, language);
    const voice = VOICE[spokenIn];
    const [first, ...rest] = pieces;
    // Text first goes in as the <Say>'s own text, as it always did; digits as SSML children.
    const say = target.say({ voice: voice.voice as never, language: voice.language as never }, typeof first === 'string' ? first : '');
    for (const piece of typeof first === 'string' ? rest : pieces) {
      if (typeof piece === 'string') say.addText(piece);
      else say.sayAs({ 'interpret-as': piece.sayAs }, piece.value);
    }
  }
}

function dollars(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export function renderReference(reply: Reply, urls: ReplyUrls, agentNumber: string, settings: PaySettings = { paymentConnector: 'Default' }): string {
  const response = new VoiceResponse();
  const { next, said, language } = reply;
  if ('end' in next && next.end === 'transfer') {
    sayAll(response, said, language);
    response.dial({ timeout: DIAL_TIMEOUT }, agentNumber);
    response.hangup();
    return response.toString();
  }
  if ('input' in next && next.input === 'pay') {
    if (!reply.pay) throw new Error('<Pay> needs an amount and a case');
    sayAll(response, said, language);
    // Card data goes to Twilio and the connector only; our action URL gets the result, the
    // confirmation code and masked digits (twilio.com/docs/voice/twiml/pay#action).
    const pay = response.pay({
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
      chargeAmount: dollars(reply.pay.chargeCents),
      currency: 'usd',
      description: `Child support payment, case ${reply.pay.caseNumber}`,
      language: VOICE[language].language as never,
      validCardTypes: ['visa', 'mastercard', 'amex', 'discover'],
    });
    for (const spec of PAY_PROMPTS) {
      const prompt = pay.prompt({ for: spec.for, ...(spec.errorType ? { errorType: [...spec.errorType] } : {}) });
      sayAll(prompt, spec.ids.map((id) => ({ id })), language);
    }
  } else if ('end' in next) {
    sayAll(response, said, language);
    response.hangup();
  } else if (next.input === 'dial') {
    sayAll(response, said, language);
    // Without `action`, Twilio would continue after the dial with the next verb whether or not
    // anyone answered; with it, the machine learns DialCallStatus and can bring the caller back.
    response.dial({ action: urls.dialEnded, method: 'POST', timeout: DIAL_TIMEOUT }, agentNumber);
  } else {
    // Everything said goes inside the <Gather> so a caller who knows the menu can press a key at once.
    const gather = response.gather(
      next.input === 'menu'
        // finishOnKey "" makes `#` an ordinary (wrong) key in a menu instead of an empty entry.
        // Menus with a vocabulary also listen for speech, in the caller's language, with hints
        // (twilio.com/docs/voice/twiml/gather#input, #hints, #language); entries never do.
        ? {
            input: next.vocabulary ? ['dtmf', 'speech'] : ['dtmf'], numDigits: 1, finishOnKey: '', timeout: MENU_TIMEOUT, action: urls.input, method: 'POST',
            ...(next.vocabulary ? { language: VOICE[language].language as never, hints: hintsFor(next.vocabulary, language), speechTimeout: 'auto' } : {}),
          }
        // No numDigits on entries: callers are told to finish with `#`, and a `#` pressed after
        // Twilio had already closed the <Gather> would land, empty, in the next one.
        : { input: ['dtmf'], finishOnKey: '#', timeout: ENTRY_TIMEOUT, action: urls.input, method: 'POST' },
    );
    sayAll(gather, said, language);
    // Twilio falls through to the next verb when the <Gather> gets no input (twilio.com/docs/voice/twiml/gather).
    response.redirect({ method: 'POST' }, urls.noInput);
  }
  return response.toString();
}

export function emptyReference(): string {
  return new VoiceResponse().toString();
}
