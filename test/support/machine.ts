// Drives the line's machine the way the engine does, without Redis or HTTP: one event per step,
// settle, say what was emitted in the caller's settled language. In round-trip mode the snapshot
// goes through JSON between every step, as it does through the store between webhooks.
import { createActor, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import type { CallerEvent, DialStatus, StateMeta } from '../../flows/events.ts';
import { lineMachine, type LineInput } from '../../flows/line.ts';
import type { PromptId } from '../../prompts/catalog.ts';
import { speak, type Language, type Utterance } from '../../prompts/speak.ts';

type LineMachine = typeof lineMachine;
type LineSnapshot = SnapshotFrom<LineMachine>;

export type CallOptions = {
  input?: LineInput;
  /** Replaces the office-hours guard; left out, the real guard reads the clock (fake it with sinon). */
  representativesAvailable?: boolean;
  /** Persist → JSON → restore the machine after every step, as the engine does between webhooks. */
  roundTrip?: boolean;
  machine?: LineMachine;
};

export type Spoken = { id: PromptId; text: string; language: Language };

/** "paymentInfo.check" for { paymentInfo: 'check' }. */
export function dotted(value: unknown): string {
  return typeof value === 'string'
    ? value
    : Object.entries(value as Record<string, unknown>).map(([key, child]) => `${key}.${dotted(child)}`).join(',');
}

function settledMeta(snapshot: LineSnapshot): StateMeta | null {
  for (const meta of Object.values(snapshot.getMeta()) as (StateMeta | undefined)[]) {
    if (meta?.end) return { end: meta.end };
    if (meta?.wait) return { wait: meta.wait };
  }
  return null;
}

export class Call {
  /** What the caller heard at the last step, in order. */
  spoken: Spoken[] = [];
  /** Everything the caller heard in the call. */
  readonly transcript: Spoken[] = [];
  /** How many times the actor was rebuilt from a persisted snapshot. */
  restores = 0;

  private readonly machine: LineMachine;
  private actor: Actor<LineMachine>;
  private pending: Utterance[] = [];

  private constructor(private readonly options: CallOptions) {
    const base = options.machine ?? lineMachine;
    const available = options.representativesAvailable;
    this.machine = available === undefined ? base : base.provide({ guards: { representativesAvailable: () => available } });
    this.actor = this.listen(createActor(this.machine, { input: options.input ?? {} }));
  }

  /** Answers the call (or resumes it, with `input: { resume: true }`) and settles. */
  static async start(options: CallOptions = {}): Promise<Call> {
    const call = new Call(options);
    await call.step(null);
    return call;
  }

  press(keys: string): Promise<Call> {
    return this.step({ type: 'digits', digits: keys });
  }

  silence(): Promise<Call> {
    return this.step({ type: 'noInput' });
  }

  dialEnded(status: DialStatus): Promise<Call> {
    return this.step({ type: 'dialEnded', status });
  }

  /** The texts of the last step. */
  get lines(): string[] {
    return this.spoken.map((line) => line.text);
  }

  /** The last step as one string, for `include` checks. */
  get heard(): string {
    return this.lines.join(' ');
  }

  get ids(): PromptId[] {
    return this.spoken.map((line) => line.id);
  }

  get snapshot(): LineSnapshot {
    return this.actor.getSnapshot();
  }

  get state(): string {
    return dotted(this.snapshot.value);
  }

  get meta(): StateMeta {
    const meta = settledMeta(this.snapshot);
    if (!meta) throw new Error(`state ${this.state} neither waits nor ends`);
    return meta;
  }

  get language(): Language {
    return this.snapshot.context.language;
  }

  get done(): boolean {
    return this.snapshot.status === 'done';
  }

  private listen(actor: Actor<LineMachine>): Actor<LineMachine> {
    actor.on('say', (event) => this.pending.push(...event.lines));
    return actor;
  }

  private async step(event: CallerEvent | null): Promise<Call> {
    this.pending = [];
    if (this.done) throw new Error(`the call has ended (${this.state}): nothing more can happen`);
    if (event === null) this.actor.start();
    else this.actor.send(event);
    const settled = await waitFor(this.actor, (s) => s.status !== 'active' || settledMeta(s) !== null, { timeout: 1000 });
    if (settled.status === 'error') throw settled.error;
    // The engine renders everything said in a turn in the language the caller has when the turn settles.
    const language = settled.context.language;
    this.spoken = this.pending.map((utterance) => ({ id: utterance.id, ...speak(utterance, language) }));
    this.transcript.push(...this.spoken);
    this.pending = [];
    if (this.options.roundTrip) this.restore();
    return this;
  }

  private restore(): void {
    const persisted: unknown = JSON.parse(JSON.stringify(this.actor.getPersistedSnapshot()));
    this.actor.stop();
    this.actor = this.listen(createActor(this.machine, { snapshot: persisted as LineSnapshot, input: {} }));
    this.actor.start();
    // Entry actions must not run again on restore, or the caller would hear the menu twice.
    if (this.pending.length) throw new Error(`restoring ${this.state} said ${this.pending.map((u) => u.id).join(', ')}`);
    this.restores += 1;
  }
}
