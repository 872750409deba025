// A caller on the line over HTTP (signed webhooks through supertest), for webhook-level tests.
import type { RequestListener } from 'node:http';
import { AUTH_TOKEN, callParams, newCallSid, nextPath, noInputPath, post, saidIn } from './twilio.ts';

/** `callSid`: a CallSid of the test's choosing; `from`: the calling number (`''` when none is sent, as for some withheld numbers). */
export type CallerOptions = { callSid?: string; from?: string };

export class Caller {
  readonly callSid: string;
  twiml = '';
  heard = '';
  readonly urls: string[] = [];
  readonly everything: string[] = [];
  private readonly from: string | undefined;

  constructor(readonly app: RequestListener, private readonly token = AUTH_TOKEN, options: CallerOptions = {}) {
    this.callSid = options.callSid ?? newCallSid();
    this.from = options.from;
  }

  /** Twilio's parameters for this call, with `extra`. */
  params(extra: Record<string, string> = {}): Record<string, string> {
    return callParams(this.callSid, { ...(this.from === undefined ? {} : { From: this.from, Caller: this.from }), ...extra });
  }

  private async send(path: string, extra: Record<string, string> = {}): Promise<this> {
    const res = await post(this.app, path, this.params(extra), { token: this.token });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${path}: ${res.text}`);
    this.twiml = res.text;
    this.heard = saidIn(res.text);
    this.everything.push(this.heard);
    for (const match of res.text.matchAll(/(?:action="|<Redirect[^>]*>)([^"<]+)/g)) if (match[1]) this.urls.push(match[1]);
    return this;
  }

  answer(): Promise<this> {
    return this.send('/voice', { CallStatus: 'ringing' });
  }

  press(digits: string): Promise<this> {
    return this.send(nextPath(this.twiml), { Digits: digits, msg: 'Gather End' });
  }

  silence(): Promise<this> {
    return this.send(noInputPath(this.twiml));
  }

  /** Answer, choose a language, and reach the main menu. */
  async toMainMenu(language: 'en' | 'es' = 'en'): Promise<this> {
    await this.answer();
    return this.press(language === 'en' ? '1' : '2');
  }

  async login(id: string, pin: string, language: 'en' | 'es' = 'en'): Promise<this> {
    await this.toMainMenu(language);
    await this.press('1');
    await this.press(id);
    return this.press(pin);
  }

  /** From the main menu, by participant ID and SSN (menu 2), to the <Pay> for `cents`, the amount confirmed. */
  async toPay(who: { id: string; ssn: string }, cents: string): Promise<this> {
    await this.toMainMenu();
    await this.press('2');
    await this.press(who.id);
    await this.press(who.ssn);
    await this.press(cents);
    return this.press('1');
  }

  /** What <Pay> posts to its action URL: Result, PaymentConfirmationCode, PaymentCardNumber (masked)... */
  pay(result: Record<string, string>): Promise<this> {
    return this.send(nextPath(this.twiml), result);
  }

  /** The transfer to a representative ended (the <Dial> action). */
  dialEnded(status: string): Promise<this> {
    return this.send(nextPath(this.twiml), { DialCallStatus: status });
  }

  /** Twilio's final status callback. */
  async hangUp(status = 'completed'): Promise<void> {
    await post(this.app, '/voice/status', this.params({ CallStatus: status, CallDuration: '60' }), { token: this.token });
  }
}
