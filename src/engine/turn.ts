// One turn of a call's machine, shared by the engine and the machine tests: start or restore the
// actor, give it the caller's event, wait until it settles (it waits for the caller, or the call
// is over), and collect what it said. Pure but for the named actors the machine was provided with.
import { createActor, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import { UNMATCHED_SPEECH, type CallerEvent, type HeardSpeech, type StateMeta } from '../../flows/events.ts';
import type { LineInput, lineMachine } from '../../flows/line.ts';
import type { Utterance } from '../../prompts/speak.ts';
import { keyForSpeech } from '../../prompts/speech.ts';
import type { Language } from '../domain/language.ts';
import type { Next } from './reply.ts';

export type LineMachine = typeof lineMachine;
export type LineSnapshot = SnapshotFrom<LineMachine>;
export type LineActor = Actor<LineMachine>;

/** "paymentInfo.check" for the log and the tests; takes a live or a persisted snapshot. */
export function stateName(snapshot: { value: unknown }): string {
  const walk = (value: unknown): string =>
    typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}.${walk(v)}`).join(',');
  return walk(snapshot.value);
}

/** What the caller is asked for, or how the call ends, as the settled state's meta says. */
export function nextOf(snapshot: LineSnapshot): Next | null {
  for (const meta of Object.values(snapshot.getMeta()) as (StateMeta | undefined)[]) {
    if (meta?.end) return { end: meta.end };
    if (meta?.wait) return meta.wait;
  }
  return null;
}

/** Speech at a menu becomes the key it chooses there; unmatched or unsure speech, a wrong key. */
export function asKey(event: CallerEvent | HeardSpeech, snapshot: LineSnapshot): CallerEvent {
  if (event.type !== 'speech') return event;
  const next = nextOf(snapshot);
  const vocabulary = next && 'input' in next && next.input === 'menu' ? next.vocabulary : undefined;
  const key = vocabulary ? keyForSpeech(vocabulary, event.text, event.confidence, snapshot.context.language) : null;
  return { type: 'digits', digits: key ?? UNMATCHED_SPEECH };
}

export type Settled = {
  snapshot: LineSnapshot;
  /** Everything said during the turn, to be said in `language`. */
  said: Utterance[];
  next: Next;
  state: string;
  /** The caller's language once the turn settled: everything said in it is said in this language. */
  language: Language;
};

export type TurnEvent = CallerEvent | HeardSpeech | null;

/**
 * Starts `actor` (event null) or gives it the event, and waits until it settles. The actor stays
 * running: the engine persists and stops it, a live machine test keeps it for the next step.
 */
export async function settleActor(actor: LineActor, event: TurnEvent, timeoutMs: number): Promise<Settled> {
  const said: Utterance[] = [];
  const listening = actor.on('say', (emitted) => said.push(...emitted.lines));
  try {
    if (event === null) actor.start();
    else actor.send(asKey(event, actor.getSnapshot()));
    const settled = (s: LineSnapshot) => s.status !== 'active' || nextOf(s) !== null;
    // Most turns settle at once (a menu key); only one that invoked the domain has to be waited for.
    const now = actor.getSnapshot();
    const snapshot = settled(now) ? now : await waitFor(actor, settled, { timeout: timeoutMs });
    if (snapshot.status === 'error') throw snapshot.error;
    const next = nextOf(snapshot);
    if (!next) throw new Error(`state ${stateName(snapshot)} neither waits for the caller nor ends the call`);
    return { snapshot, said, next, state: stateName(snapshot), language: snapshot.context.language };
  } finally {
    listening.unsubscribe();
  }
}

export type TurnStart =
  /** A call in progress: its persisted snapshot, and what the caller did. */
  | { snapshot: unknown; event: CallerEvent | HeardSpeech }
  /** A new call (or one that lost its session): the machine starts from its input. */
  | { input: LineInput };

/**
 * One whole turn from a persisted snapshot to the next: restore (or start), settle, persist, stop.
 * Persisted only once settled, so no invoked actor is saved half-way (it would run again on restore).
 */
export async function settleTurn(
  machine: LineMachine,
  start: TurnStart,
  timeoutMs: number,
  /** Sees the actor before it starts (the machine tests route its named actors by its system). */
  created?: (actor: LineActor) => void,
): Promise<Settled & { persisted: unknown }> {
  const actor = 'snapshot' in start
    ? createActor(machine, { snapshot: start.snapshot as LineSnapshot, input: {} })
    : createActor(machine, { input: start.input });
  created?.(actor);
  try {
    if ('snapshot' in start) {
      // Restoring runs no entry actions, so nothing is said until the event arrives.
      actor.start();
      return withPersisted(actor, await settleActor(actor, start.event, timeoutMs));
    }
    return withPersisted(actor, await settleActor(actor, null, timeoutMs));
  } finally {
    // Also on a timeout: an invoked actor must not finish its work after the caller heard the apology.
    actor.stop();
  }
}

// Persisted before stopping: a stopped actor's snapshot says "stopped" and would not run again.
function withPersisted(actor: LineActor, settled: Settled): Settled & { persisted: unknown } {
  return { ...settled, persisted: actor.getPersistedSnapshot() };
}
