// The settled state, turned into TwiML. Only this file and the routes know TwiML.
import twilio from 'twilio';
import type { WaitFor } from '../../flows/events.ts';
import { speak, VOICE, type Language, type Utterance } from '../../prompts/speak.ts';

const { VoiceResponse } = twilio.twiml;

export type Next = WaitFor | { end: 'hangup' };

export type Reply = { language: Language; said: readonly Utterance[]; next: Next };

export type ReplyUrls = {
  /** The <Gather> action: where keys are posted. */
  input: string;
  /** Where the caller goes when the <Gather> hears nothing (Twilio falls through to the next verb). */
  noInput: string;
  /** The <Dial> action: Twilio posts DialCallStatus there when the transfer ends. */
  dialEnded: string;
};

// Seconds Twilio waits for the first key and between keys. Callers on cell phones, often
// reading a number off a letter, need longer for digit entries than for a menu key.
export const MENU_TIMEOUT = 6;
export const ENTRY_TIMEOUT = 10;
export const DIAL_TIMEOUT = 30;

type Sayer = { say(attributes: { voice?: string; language?: string }, text: string): unknown };

function sayAll(target: Sayer, said: readonly Utterance[], language: Language): void {
  for (const utterance of said) {
    const { text, language: spokenIn } = speak(utterance, language);
    const voice = VOICE[spokenIn];
    target.say({ voice: voice.voice as never, language: voice.language as never }, text);
  }
}

export function renderReply(reply: Reply, urls: ReplyUrls, agentNumber: string): string {
  const response = new VoiceResponse();
  const { next, said, language } = reply;
  if ('end' in next) {
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
        ? { input: ['dtmf'], numDigits: 1, finishOnKey: '', timeout: MENU_TIMEOUT, action: urls.input, method: 'POST' }
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

/** Said when something inside failed: never an application error, never a 5xx (spec section 3). */
export function renderApology(language: Language, representativesAvailable: boolean, agentNumber: string): string {
  const response = new VoiceResponse();
  if (representativesAvailable) {
    sayAll(response, [{ id: 'error.transfer' }], language);
    // No action URL: with the store failing there is nothing to come back to, and after a
    // conversation with a representative the caller must not hear "we could not reach anyone".
    response.dial({ timeout: DIAL_TIMEOUT }, agentNumber);
  } else {
    sayAll(response, [{ id: 'error.closed' }, { id: 'hours.representatives' }, { id: 'goodbye' }], language);
  }
  response.hangup();
  return response.toString();
}

export function emptyResponse(): string {
  return new VoiceResponse().toString();
}
