// One call from the browser phone: the simulated Twilio phone calling the line, plus what a
// keypad of single presses needs on top of it (keys gathered until the entry is complete, as
// Twilio gathers them), with everything that happens kept as events for the page's feed.
import { randomUUID } from 'node:crypto';
import { Phone, PhoneError, type PhoneOptions, type Speaker, type Waiting } from '../simulator/phone.ts';

export type CallStatus = {
  /** The line's state for the call (a node of the menu map), as of its last answer. */
  state: string | null;
  /** What the line is waiting for, in words; null when it is not waiting. */
  waiting: string | null;
  /** Keys pressed at an entry and not yet sent (Twilio sends them at # or when the caller stops). */
  typed: string;
  ended: boolean;
};

export type CallEvent = { kind: 'entry'; who: Speaker; text: string; language?: string } | ({ kind: 'status' } & CallStatus);

export type ConsoleCallOptions = {
  phone: Omit<PhoneOptions, 'onEntry' | 'onWebhook'>;
  /** The line's state for the call, or null once the line has let the call go. */
  stateOf: (callSid: string) => Promise<string | null>;
  /** False on a production line, where a simulated card would be recorded as a real payment. */
  cardEntry: boolean;
};

export const CARD_ENTRY_REFUSED =
  'The browser phone does not enter card details on a production line: the simulated card would be recorded as a real payment. Press * to leave the payment, or hang up.';

const PAY_STEPS: Readonly<Record<string, string>> = {
  'payment-card-number': 'the card number',
  'expiration-date': 'the expiration date (MMYY)',
  'security-code': 'the security code',
  'postal-code': 'the billing postal code',
};

export function describeWaiting(waiting: Waiting | null): string | null {
  if (!waiting) return null;
  if (waiting.kind === 'pay') {
    const again = waiting.errorType === null ? '' : ' again';
    return `Twilio <Pay> asks${again} for ${PAY_STEPS[waiting.for] ?? waiting.for}: keys ending with #, or * to leave the payment`;
  }
  const ways: string[] = [];
  if (waiting.input.includes('dtmf')) {
    ways.push(waiting.numDigits === 1 ? 'a key' : `keys${waiting.finishOnKey === '' ? '' : ` ending with ${waiting.finishOnKey}`}`);
  }
  if (waiting.input.includes('speech')) ways.push('speech');
  return `The line is waiting for ${ways.join(' or ')}`;
}

export class ConsoleCall {
  readonly id = randomUUID();
  readonly events: CallEvent[] = [];
  lastActive = Date.now();

  private readonly phone: Phone;
  private readonly listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private typed = '';
  private typedTimer: NodeJS.Timeout | null = null;
  private state: string | null = null;

  constructor(private readonly options: ConsoleCallOptions) {
    this.phone = new Phone({
      ...options.phone,
      onEntry: (entry) => this.emit({ kind: 'entry', ...entry }),
      onWebhook: async () => {
        const state = await options.stateOf(this.phone.callSid);
        if (state !== null && state !== this.state) {
          this.state = state;
          this.emitStatus();
        }
      },
    });
  }

  get callSid(): string {
    return this.phone.callSid;
  }

  get ended(): boolean {
    return this.phone.ended;
  }

  status(): CallStatus {
    return { state: this.state, waiting: this.phone.ended ? null : describeWaiting(this.phone.waiting), typed: this.typed, ended: this.phone.ended };
  }

  /** Calls `listener` after each new event; returns how to stop. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dial(): Promise<void> {
    return this.act(() => this.phone.dial());
  }

  /** Keys as the caller presses them, one after another. */
  press(keys: string): Promise<void> {
    return this.act(async () => {
      for (const key of keys) await this.pressKey(key);
    });
  }

  say(words: string): Promise<void> {
    return this.act(async () => {
      // Keys still gathering would have gone to the line when the caller paused to speak.
      await this.sendTyped();
      if (!this.phone.ended) await this.phone.say(words);
    });
  }

  /** The caller says nothing until the line's timeout: keys still gathering go then, as Twilio sends them. */
  silence(): Promise<void> {
    return this.act(async () => {
      if (this.typed !== '') await this.sendTyped();
      else await this.phone.silence();
    });
  }

  hangup(): Promise<void> {
    return this.act(async () => {
      this.dropTyped();
      await this.phone.hangup();
    });
  }

  // Actions run one at a time, in the order they came: two quick presses reach the line in order.
  private act(work: () => Promise<void>): Promise<void> {
    const done = this.queue.then(async () => {
      this.lastActive = Date.now();
      try {
        await work();
      } finally {
        if (this.phone.ended) this.dropTyped();
        this.emitStatus();
      }
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async pressKey(key: string): Promise<void> {
    const waiting = this.phone.waiting;
    if (this.phone.ended) throw new PhoneError('cannot press keys: the call has ended');
    if (!waiting) throw new PhoneError('cannot press keys: the line is not waiting for input');
    if (waiting.kind === 'pay') {
      if (!this.options.cardEntry && key !== '*') throw new PhoneError(CARD_ENTRY_REFUSED);
      this.typed += key;
      if (key === '#' || key === '*') await this.sendTyped();
      else this.sendWhenIdle(waiting.timeout);
      return;
    }
    // A listener for speech only: the phone says the key is ignored, as Twilio would ignore it.
    if (!waiting.input.includes('dtmf')) return this.phone.press(key);
    this.typed += key;
    const finished = waiting.finishOnKey !== '' && key === waiting.finishOnKey;
    if (finished || (waiting.numDigits !== null && this.typed.length >= waiting.numDigits)) await this.sendTyped();
    else this.sendWhenIdle(waiting.timeout);
  }

  // A caller who stops typing without # has the keys sent when the <Gather>'s timeout passes.
  private sendWhenIdle(seconds: number): void {
    if (this.typedTimer) clearTimeout(this.typedTimer);
    this.typedTimer = setTimeout(() => {
      this.typedTimer = null;
      this.act(() => this.sendTyped()).catch(() => undefined);
    }, seconds * 1000);
    this.typedTimer.unref();
  }

  private async sendTyped(): Promise<void> {
    const keys = this.typed;
    this.dropTyped();
    if (keys !== '') await this.phone.press(keys);
  }

  private dropTyped(): void {
    if (this.typedTimer) clearTimeout(this.typedTimer);
    this.typedTimer = null;
    this.typed = '';
  }

  private emitStatus(): void {
    this.emit({ kind: 'status', ...this.status() });
  }

  private emit(event: CallEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener();
  }
}
