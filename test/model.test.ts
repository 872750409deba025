// Model-based tests of the menus (spec sections 2 and 3). The model is a graph built by exploring
// the line's machine through the engine's own turn (settleTurn, src/engine/turn.ts): from every
// settled state, every event a caller or Twilio can send there — each key, the entries a caller
// might type, silence, how a transfer or <Pay> ended — answered by the fake domain, outside and
// inside office hours. xstate's graph utilities (getShortestPaths) give the shortest way to every
// state of that graph; the paths that together take every transition of every waiting state are
// replayed from the greeting, turn by turn through settleTurn with the snapshot passed through
// JSON as between webhooks, and each turn must land where the model says.
import { expect } from 'chai';
import { fromPromise, fromTransition, type AnyStateNode, type AnyTransitionDefinition } from 'xstate';
import { getShortestPaths, getStateNodes } from 'xstate/graph';
import type { CallerEvent, DialStatus, PayResult, StateMeta, WaitFor } from '../flows/events.ts';
import { UNMATCHED_SPEECH } from '../flows/events.ts';
import { lineMachine, type Counter, type LineContext } from '../flows/line.ts';
import { catalog } from '../prompts/catalog.ts';
import { speak, type Utterance } from '../prompts/speak.ts';
import type { IdentityCheck } from '../src/domain/accounts.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import type { CallerKey } from '../src/domain/identification.ts';
import type { PhoneUpdated } from '../src/domain/services.ts';
import { cents } from '../src/domain/money.ts';
import type { Payable, Quote } from '../src/domain/payments.ts';
import type { Next } from '../src/engine/reply.ts';
import { settleTurn, stateName, type LineActor, type LineMachine, type LineSnapshot, type TurnStart } from '../src/engine/turn.ts';
import { FakeDomain, NOW, PEOPLE, type ActorInputs, type ActorOutputs } from './support/machine.ts';

// ---------------------------------------------------------------------------------------------
// The world a turn runs in: the fake domain, as it is at the start of every call (so a turn is a
// function of the session and the event, and the explored graph is a graph), and the clock, open
// or closed. Turns run one at a time, so the current turn's world is one variable.

type World = { open: boolean; domain: FakeDomain | null; clockAsked: boolean; taken: string[] };
let world: World = { open: false, domain: null, clockAsked: false, taken: [] };
const domain = (): FakeDomain => (world.domain ??= new FakeDomain());

const person = (id: ParticipantId | null) => Object.values(PEOPLE).find((p) => p.participantId === id) ?? null;
const PAYMENT_MAX = cents(1_000_000);
// A configured fee, so the fee prompt is said (and rendered) on the way to <Pay>.
const FEE_BASIS_POINTS = 150;

function provided(open: boolean): LineMachine {
  const answer = <Name extends keyof ActorInputs>(name: Name) =>
    fromPromise<ActorOutputs[Name], ActorInputs[Name]>(({ input }) => (domain()[name] as (input: ActorInputs[Name]) => Promise<ActorOutputs[Name]>)(input));
  return lineMachine.provide({
    actors: {
      mayIdentify: answer('mayIdentify'), identify: answer('identify'), login: answer('login'), summary: answer('summary'), balances: answer('balances'), history: answer('history'),
      caseInformation: answer('caseInformation'), forgotPin: answer('forgotPin'), proposePin: answer('proposePin'), confirmPin: answer('confirmPin'),
      // The rest of the domain, by the same rules, over the fake domain's people and cases.
      verifyIdentity: fromPromise<IdentityCheck, { candidate: ParticipantId | null; ssn: string; caller: CallerKey }>(async ({ input }) =>
        (input.candidate && person(input.candidate)?.ssn === input.ssn ? { ok: true, participantId: input.candidate } : { ok: false, reason: 'mismatch' })),
      payableCases: fromPromise<Payable, { participantId: ParticipantId }>(async ({ input }) => {
        const open = domain().cases.filter((c) => c.status === 'open');
        const paying = open.filter((c) => c.payingParticipantId === input.participantId);
        if (paying.length) return { ok: true, cases: paying.map((c) => ({ caseNumber: c.caseNumber, currentMonthDue: c.currentMonthDue })) };
        return { ok: false, reason: open.some((c) => c.receivingParticipantId === input.participantId) ? 'receiving-only' : 'no-open-case' };
      }),
      quote: fromPromise<Quote, { amount: string }>(async ({ input }) => {
        const amount = /^\d{1,9}$/.test(input.amount) ? Number(input.amount) : -1;
        if (amount < 100) return { ok: false, reason: 'below-minimum', limit: cents(100) };
        if (amount > PAYMENT_MAX) return { ok: false, reason: 'above-maximum', limit: PAYMENT_MAX };
        const fee = Math.floor((amount * FEE_BASIS_POINTS + 5000) / 10000);
        return { ok: true, amount: cents(amount), fee: cents(fee), charge: cents(amount + fee) };
      }),
      recordPayment: fromPromise(async ({ input }) => ({
        status: 'recorded' as const, amount: input.amount, confirmationCode: input.confirmationCode, receivedAt: NOW, creditedOn: '2026-11-24', last4: input.last4,
      })),
      phoneEnding: fromPromise<string | null, { participantId: ParticipantId }>(async () => '0143'),
      updatePhone: fromPromise<PhoneUpdated, { participantId: ParticipantId; phone: string }>(async ({ input }) =>
        (/^[2-9]\d{2}[2-9]\d{6}$/.test(input.phone) ? { ok: true } : { ok: false, reason: 'invalid' })),
      requestForm: fromPromise(async () => ({ city: 'Sacramento', zip: '95814' })),
    },
    guards: {
      representativesAvailable: () => {
        world.clockAsked = true;
        return open;
      },
    },
  });
}
const MACHINES = { closed: provided(false), open: provided(true) } as const;

// Every transition of the machine, named: "mainMenu digits#3". Both provided machines share names.
const TRANSITIONS = new Map<AnyTransitionDefinition, string>();
const WAITING_TRANSITIONS: { name: string; transition: AnyTransitionDefinition }[] = [];
for (const machine of [MACHINES.closed, MACHINES.open]) {
  for (const node of getStateNodes(machine.root)) {
    for (const [type, transitions] of node.transitions) {
      transitions.forEach((t, index) => {
        const name = `${node.path.join('.')} ${type}#${index}`;
        TRANSITIONS.set(t, name);
        if (machine === MACHINES.closed && waitOf(node)) WAITING_TRANSITIONS.push({ name, transition: t });
      });
    }
    (node.always ?? []).forEach((t, index) => TRANSITIONS.set(t, `${node.path.join('.')} always#${index}`));
  }
}

function waitOf(node: AnyStateNode): WaitFor | null {
  return (node.meta as StateMeta | undefined)?.wait ?? null;
}

const WAITING_STATES = getStateNodes(lineMachine.root).filter((node) => waitOf(node) !== null).map((node) => node.path.join('.'));

function stateNodeAt(name: string): AnyStateNode {
  let node: AnyStateNode = lineMachine.root;
  for (const key of name.split('.')) {
    const child = node.states[key];
    if (!child) throw new Error(`no state ${name}`);
    node = child;
  }
  return node;
}

type GuardLike = { type: string; params: Record<string, unknown> };
/** A guard's conjunction (and([...]) flattened); inline guards are 'inline'. */
function guardsOf(guard: unknown): GuardLike[] {
  if (!guard) return [];
  if (typeof guard === 'string') return [{ type: guard, params: {} }];
  if (typeof guard === 'function') {
    const nested = (guard as { guards?: unknown }).guards;
    return guard.name === 'and' && Array.isArray(nested) ? nested.flatMap(guardsOf) : [{ type: 'inline', params: {} }];
  }
  const { type, params } = guard as { type: string; params?: Record<string, unknown> };
  return [{ type, params: params ?? {} }];
}

/**
 * A digit entry that takes any length (a PIN: the domain judges it) accepts every entry but `*`,
 * so the wrong-entry branches digitEntry() gives it on `digits` can never fire; silence is its
 * failure path (the same branches on noInput, which the paths take).
 */
function cannotHappen(t: AnyTransitionDefinition): boolean {
  if (t.eventType !== 'digits' || waitOf(t.source)?.input !== 'digits') return false;
  const accepts = [...t.source.transitions.get('digits') ?? []].flatMap((d) => guardsOf(d.guard)).find((g) => g.type === 'digitCount');
  const structural = guardsOf(t.guard).some((g) => ['digitCount', 'cancelled'].includes(g.type));
  return accepts !== undefined && accepts.params.lengths === null && !structural;
}

function transitionText(t: AnyTransitionDefinition): string {
  const guards = guardsOf(t.guard).map((g) => (Object.keys(g.params).length ? `${g.type}(${Object.values(g.params).join(',')})` : g.type));
  const targets = t.target ? t.target.map((target: AnyStateNode) => target.path.join('.')).join(', ') : '(stays)';
  return `${TRANSITIONS.get(t)} [${guards.join(' & ') || 'no guard'}] → ${targets}`;
}

// ---------------------------------------------------------------------------------------------
// The model's states. A state is the session as the next turn reads it, less what cannot change
// where the call goes from there. Without that, every detail a call remembers (who was a
// candidate, which history page was read, three failed logins long ago) would multiply every
// menu after it, and the model would be the product of them all instead of the menus.

/**
 * Where each part of the session can change where the call goes, as state-name prefixes; null:
 * nowhere (the language: everything said is checked in both; `resumed`: read only at the start;
 * the form: only handed to requestForm). Outside its places, of participantId only whether someone
 * is logged in is kept. A field added to the session is a type error here until it is placed.
 * The per-call counters are read from the machine (below).
 */
const READ_IN: Record<Exclude<keyof LineContext, Counter>, readonly string[] | null> = {
  // Who is calling is handed to the identification actors; in this model the number is never throttled.
  language: null, resumed: null, form: null, caller: null,
  participantId: ['account', 'payment', 'changePin'],
  candidate: ['login', 'pinHelp.forgot', 'payment'],
  intent: ['login'],
  historyPage: ['account.history'], historyHasMore: ['account.history'],
  pendingPhone: ['account.services.phone'],
  pendingPin: ['changePin'],
  payFrom: ['payment'], payerId: ['payment'], payCases: ['payment'], payQuote: ['payment'], payReceipt: ['payment'],
  // Which case is charged is said and handed to <Pay>; it chooses no way.
  payCase: null,
};
/** Kept only as "kept or not": what is said back (a digest, a number, a quote, a receipt) does not choose the way. */
const KEPT_ONLY: ReadonlySet<keyof LineContext> = new Set(['pendingPin', 'pendingPhone', 'payQuote', 'payReceipt']);

// The per-call counters, read from the machine, by what the next three turns can do with them: a
// counter is exact where a transition within three turns counts it or tests it for a last try (so
// the model can walk up to the limit: try again, ID, then PIN, then the verdict), "used up or not" where a
// limitReached guard within three turns reads it (after the last failed forgot-my-PIN try, the main
// menu must remember it: PIN help, one key further, reads it), and dropped elsewhere.
const LIMITS = new Map<string, number>();
const counterGuards = (t: AnyTransitionDefinition) => guardsOf(t.guard).filter((g) => g.type === 'lastTry' || g.type === 'limitReached');
for (const node of getStateNodes(lineMachine.root)) {
  for (const t of [...[...node.transitions.values()].flat(), ...(node.always ?? [])]) {
    for (const guard of counterGuards(t)) LIMITS.set(String(guard.params.counter), Number(guard.params.limit));
  }
}

type Reach = { counted: Set<string>; limited: Set<string> };
const REACH = new Map<string, Reach>();
function reachOf(state: string): Reach {
  const known = REACH.get(state);
  if (known) return known;
  const reach: Reach = { counted: new Set(), limited: new Set() };
  const oneTurn = (from: AnyStateNode): AnyStateNode[] => {
    const waiting: AnyStateNode[] = [];
    const seen = new Set<AnyStateNode>([from]);
    const hop = (t: AnyTransitionDefinition) => {
      for (const guard of counterGuards(t)) (guard.type === 'lastTry' ? reach.counted : reach.limited).add(String(guard.params.counter));
      for (const action of t.actions as readonly unknown[]) {
        const { type, params } = (typeof action === 'object' && action !== null ? action : {}) as { type?: string; params?: { counter?: string } };
        if (type === 'count' && params?.counter) reach.counted.add(params.counter);
      }
      for (const target of t.target ?? []) visit(target);
    };
    const visit = (node: AnyStateNode) => {
      if (seen.has(node)) return;
      seen.add(node);
      if (node.type === 'compound') node.initial.target.forEach(visit);
      else if (waitOf(node) || node.type === 'final') waiting.push(node);
      else for (const t of [...(node.always ?? []), ...[...node.transitions.values()].flat()]) hop(t);
    };
    for (const t of [...from.transitions.values()].flat()) hop(t);
    return waiting;
  };
  // Three turns: after a failed identification the caller chooses to try again (retry), then the ID,
  // then the secret, and only that turn counts.
  for (const next of oneTurn(stateNodeAt(state))) for (const after of oneTurn(next)) oneTurn(after);
  REACH.set(state, reach);
  return reach;
}

const COUNTER_FIELDS: Record<Counter, true> = {
  strikes: true, loginFailures: true, forgotFailures: true, payIdFailures: true, pinProblems: true, amountProblems: true, payAttempts: true, phoneUpdates: true,
};
const isCounter = (field: keyof LineContext): field is Counter => field in COUNTER_FIELDS;

function keyOf(snapshot: LineSnapshot): string {
  const state = stateName(snapshot);
  if (snapshot.status === 'done') return state;
  const context = snapshot.context;
  const reach = reachOf(state);
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(context) as [keyof LineContext, unknown][]) {
    if (isCounter(field)) {
      const count = context[field];
      if (field === 'strikes' || reach.counted.has(field)) kept[field] = count;
      else if (reach.limited.has(field)) kept[field] = count >= (LIMITS.get(field) ?? Infinity) ? 'used up' : 'left';
      continue;
    }
    const regions = READ_IN[field];
    const inRegion = regions !== null && regions.some((prefix) => state === prefix || state.startsWith(`${prefix}.`));
    if (inRegion) kept[field] = KEPT_ONLY.has(field) ? (value === null ? null : 'kept') : Array.isArray(value) ? value.length : value;
    else if (field === 'participantId') kept.loggedIn = value !== null;
  }
  return `${state} ${JSON.stringify(kept)}`;
}

// ---------------------------------------------------------------------------------------------
// What a caller (or Twilio) can send at a settled state.

const { maria, james, ana } = PEOPLE;
/** Entries a caller might type, by length: IDs and SSNs of known people and of nobody, PINs, amounts, phone numbers. */
const ENTRIES = [
  maria.participantId, james.participantId, ana.participantId, '5550001111', // 10: IDs, the last nobody's
  '9165550143', '1165550143', // 10: a phone number, and one no US number can be
  maria.ssn, james.ssn, ana.ssn, '555001111', // 9: SSNs, the last nobody's
  maria.pin, james.pin, ana.pin, // the people's PINs
  '8305', '1111', '1234', '12', // a new PIN, one digit repeated, a straight run, too short
  '15000', '50', '99999999', // amounts in cents: $150.00, below the minimum, above the maximum
] as const;
// A menu's <Gather> has no finishOnKey, so # arrives as a key like any other (src/telephony/twiml.ts).
const MENU_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
const DIAL_STATUSES: DialStatus[] = ['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled'];
const PAY_RESULTS: PayResult[] = [
  'success', 'too-many-failed-attempts', 'payment-connector-error', 'caller-interrupted-with-star', 'caller-hung-up', 'validation-error', 'internal-error',
];
const PIN_MAX_LENGTH = 8;

/**
 * The events to try at a settled state. After a failure at a prompt only the ways to fail again
 * are tried (a wrong key or entry, speech that matched nothing, silence): every other event does
 * there what it does before any failure, and clears the count.
 */
function eventsAt(state: string, next: Next, failures: number): CallerEvent[] {
  if ('end' in next) return [];
  const digits = (value: string): CallerEvent => ({ type: 'digits', digits: value });
  const speech = 'vocabulary' in next && next.vocabulary ? [digits(UNMATCHED_SPEECH)] : [];
  switch (next.input) {
    case 'menu':
      return [...(failures ? ['#'] : MENU_KEYS).map(digits), ...speech, { type: 'noInput' }];
    case 'digits': {
      // The lengths the entry accepts, from its digitCount guard: the entries of those lengths, and one of a wrong length.
      const accepted = [...stateNodeAt(state).transitions.get('digits') ?? []].flatMap((t) => guardsOf(t.guard)).find((g) => g.type === 'digitCount');
      const lengths = Array.isArray(accepted?.params.lengths) ? (accepted.params.lengths as number[]) : null;
      const fits = (entry: string) => (lengths ? lengths.includes(entry.length) : entry.length <= PIN_MAX_LENGTH);
      // Entries have no numDigits: a caller can type fewer or more digits than any accepted length.
      const wrong = lengths ? [...(lengths.includes(2) ? [] : ['12']), '1'.repeat(Math.max(...lengths) + 1)] : [];
      return [...(failures ? [] : ENTRIES.filter(fits)), ...wrong, ...(failures ? [] : ['*'])].map(digits).concat({ type: 'noInput' });
    }
    case 'dial':
      return DIAL_STATUSES.map((status) => ({ type: 'dialEnded', status }));
    case 'pay':
      return PAY_RESULTS.map((result) => ({ type: 'payResult', result, confirmationCode: 'PK7H3Q9', last4: '4242', ticket: 'model-ticket' }));
  }
}

// ---------------------------------------------------------------------------------------------
// Exploring: the engine's turn from every state of the model with every event.

type Step = { start: 'answer' | 'resume' } | { event: CallerEvent };
type Turned = {
  key: string; state: string; next: Next | null; failures: number; said: Utterance[]; persisted: string; taken: string[]; clockAsked: boolean; error: string | null;
};
type ModelState = { key: string; state: string; next: Next | null; persisted: string; failures: number };
type Edge = { index: number; from: string; step: Step; open: boolean; to: string; said: Utterance[]; taken: string[]; error: string | null };

const RINGING = '(ringing)';
const START: Record<'answer' | 'resume', TurnStart> = { answer: { input: {} }, resume: { input: { resume: true } } };

async function turn(from: ModelState | null, step: Step, open: boolean): Promise<Turned> {
  world = { open, domain: null, clockAsked: false, taken: [] };
  const start: TurnStart = 'start' in step ? START[step.start] : { snapshot: JSON.parse(from?.persisted ?? 'null') as unknown, event: step.event };
  const observe = (actor: LineActor) => {
    actor.system.inspect((inspected) => {
      if (inspected.type === '@xstate.microstep' && inspected.actorRef === actor) {
        for (const t of inspected._transitions) world.taken.push(TRANSITIONS.get(t) ?? `(unknown ${t.eventType})`);
      }
    });
  };
  try {
    const settled = await settleTurn(open ? MACHINES.open : MACHINES.closed, start, 1000, observe);
    return {
      key: keyOf(settled.snapshot), state: settled.state, next: settled.next, failures: settled.snapshot.context.strikes, said: settled.said, persisted: JSON.stringify(settled.persisted),
      taken: world.taken, clockAsked: world.clockAsked, error: null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { key: `(error) ${message}`, state: '(error)', next: null, failures: 0, said: [], persisted: 'null', taken: world.taken, clockAsked: world.clockAsked, error: message };
  }
}

type Model = { states: Map<string, ModelState>; edges: Edge[]; out: Map<string, Edge[]> };

async function explore(): Promise<Model> {
  const states = new Map<string, ModelState>([[RINGING, { key: RINGING, state: RINGING, next: null, persisted: 'null', failures: 0 }]]);
  const edges: Edge[] = [];
  const out = new Map<string, Edge[]>();
  const queue: string[] = [RINGING];
  const add = (from: ModelState, step: Step, open: boolean, turned: Turned) => {
    const edge: Edge = { index: edges.length, from: from.key, step, open, to: turned.key, said: turned.said, taken: turned.taken, error: turned.error };
    edges.push(edge);
    out.set(from.key, [...(out.get(from.key) ?? []), edge]);
    if (!states.has(turned.key)) {
      states.set(turned.key, { key: turned.key, state: turned.state, next: turned.next, persisted: turned.persisted, failures: turned.failures });
      if (turned.next) queue.push(turned.key);
    }
  };
  for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
    const from = states.get(key) as ModelState;
    const steps: Step[] = key === RINGING ? [{ start: 'answer' }, { start: 'resume' }] : eventsAt(from.state, from.next as Next, from.failures).map((event) => ({ event }));
    for (const step of steps) {
      const closed = await turn(key === RINGING ? null : from, step, false);
      add(from, step, false, closed);
      // Only a turn that asked whether representatives are available is run again inside office hours.
      if (closed.clockAsked) add(from, step, true, await turn(key === RINGING ? null : from, step, true));
    }
  }
  return { states, edges, out };
}

// ---------------------------------------------------------------------------------------------
// Paths: xstate's shortest paths over the explored graph, then the edges that take what they miss.

function shortestPaths(model: Model): Map<string, number[]> {
  const logic = fromTransition((key: string, event: { type: 'step'; edge: number }) => model.edges[event.edge]?.to ?? key, RINGING);
  const paths = getShortestPaths(logic, {
    events: (snapshot) => (model.out.get(snapshot.context) ?? []).map((edge) => ({ type: 'step' as const, edge: edge.index })),
  });
  // Each path starts with the logic's own init step, which is no turn.
  return new Map(paths.map((path) => [path.state.context, path.steps.flatMap((step) => (step.event.type === 'step' ? [step.event.edge] : []))]));
}

/** Paths that together take every transition of every waiting state and reach every waiting state. */
function coveringPaths(model: Model, shortest: Map<string, number[]>): number[][] {
  const chosen: number[][] = [];
  const covered = new Set<string>();
  const take = (path: number[]) => {
    chosen.push(path);
    for (const index of path) for (const name of model.edges[index]?.taken ?? []) covered.add(name);
  };
  for (const { name } of WAITING_TRANSITIONS) {
    if (covered.has(name)) continue;
    const ways = model.edges
      .filter((edge) => edge.taken.includes(name) && shortest.has(edge.from))
      .map((edge) => [...(shortest.get(edge.from) ?? []), edge.index]);
    const best = ways.sort((a, b) => a.length - b.length)[0];
    if (best) take(best);
  }
  const passed = new Set(chosen.flat().map((index) => model.states.get(model.edges[index]?.to ?? '')?.state));
  for (const state of WAITING_STATES) {
    if (passed.has(state)) continue;
    const to = [...model.states.values()].find((s) => s.state === state);
    const path = to && shortest.get(to.key);
    if (path) take(path);
  }
  return chosen;
}

type Replayed = { path: number[]; landed: string[]; last: Turned; said: Utterance[]; taken: string[] };

async function replay(model: Model, path: number[]): Promise<Replayed> {
  let from: ModelState | null = null;
  let last: Turned | null = null;
  const landed: string[] = [];
  const said: Utterance[] = [];
  const taken: string[] = [];
  for (const index of path) {
    const edge = model.edges[index] as Edge;
    last = await turn(from, edge.step, edge.open);
    landed.push(last.key);
    said.push(...last.said);
    taken.push(...last.taken);
    from = { key: last.key, state: last.state, next: last.next, persisted: last.persisted, failures: last.failures };
  }
  if (!last) throw new Error('an empty path');
  return { path, landed, last, said, taken };
}

function describePath(model: Model, path: readonly number[]): string {
  return path.map((index) => {
    const edge = model.edges[index] as Edge;
    const step = 'start' in edge.step ? edge.step.start
      : edge.step.event.type === 'digits' ? edge.step.event.digits
        : edge.step.event.type === 'dialEnded' ? `dial ${edge.step.event.status}` : edge.step.event.type === 'payResult' ? `pay ${edge.step.event.result}` : 'silence';
    return `${step}${edge.open ? ' (open)' : ''} → ${model.states.get(edge.to)?.state ?? edge.to}`;
  }).join(', ');
}

// ---------------------------------------------------------------------------------------------

describe('the menus as a model: every state and transition, explored and replayed through the engine\'s turn', function () {
  this.timeout(60_000);
  let model: Model;
  let shortest: Map<string, number[]>;
  let replays: Replayed[];
  const named = (key: string) => model.states.get(key)?.state ?? key;
  const way = (key: string) => describePath(model, shortest.get(key) ?? []);
  const edgesAt = (kind: WaitFor['input']) => model.edges.filter((edge) => {
    const from = model.states.get(edge.from);
    return from?.next !== null && from?.next !== undefined && 'input' in from.next && from.next.input === kind;
  });
  const pressed = (edge: Edge, keys: string) => 'event' in edge.step && edge.step.event.type === 'digits' && edge.step.event.digits === keys;
  const ids = (said: readonly Utterance[]) => said.map((line) => line.id);

  before(async () => {
    model = await explore();
    shortest = shortestPaths(model);
    replays = [];
    for (const path of coveringPaths(model, shortest)) replays.push(await replay(model, path));
  });

  it('no turn fails: the engine settles every event in every state', () => {
    const failed = model.edges.filter((edge) => edge.error !== null)
      .map((edge) => `${describePath(model, [...(shortest.get(edge.from) ?? []), edge.index])}: ${edge.error}`);
    expect(failed).to.deep.equal([]);
  });

  it('reaches every state that waits for the caller', () => {
    const reached = new Set([...model.states.values()].map((s) => s.state));
    expect(WAITING_STATES.length).to.be.greaterThan(25);
    expect(WAITING_STATES.filter((state) => !reached.has(state)), 'never reached').to.deep.equal([]);
  });

  it('the replayed paths take every transition of every waiting state', () => {
    const taken = new Set(replays.flatMap((r) => r.taken));
    const missed = WAITING_TRANSITIONS.filter(({ name, transition }) => !taken.has(name) && !cannotHappen(transition)).map(({ transition }) => transitionText(transition));
    expect(missed, 'transitions no path takes').to.deep.equal([]);
  });

  it('every replayed path lands, turn by turn, where the model says, and ends in a menu, an entry, a transfer, <Pay> or a goodbye', () => {
    expect(replays.length).to.be.greaterThan(20);
    for (const r of replays) {
      const expected = r.path.map((index) => model.edges[index]?.to);
      expect(r.landed, describePath(model, r.path)).to.deep.equal(expected);
      expect(r.last.error, describePath(model, r.path)).to.equal(null);
      expect(r.last.next, describePath(model, r.path)).to.satisfy((next: Next) =>
        ('end' in next && next.end === 'hangup') || ('input' in next && ['menu', 'digits', 'dial', 'pay'].includes(next.input)));
    }
  });

  it('no dead ends: every state waits with a way out or ends the call, and from every state the caller can reach a representative or a goodbye', () => {
    const ends = new Set([...model.states.values()].filter((s) => s.next !== null && ('end' in s.next || s.next.input === 'dial')).map((s) => s.key));
    // Backwards from the ends over the model's edges.
    const reachesEnd = new Set(ends);
    for (let grew = true; grew;) {
      grew = false;
      for (const edge of model.edges) {
        if (reachesEnd.has(edge.to) && !reachesEnd.has(edge.from)) {
          reachesEnd.add(edge.from);
          grew = true;
        }
      }
    }
    const trapped: string[] = [];
    for (const s of model.states.values()) {
      if (s.key === RINGING || s.next === null || 'end' in s.next) continue;
      // Every event is tried only before a failure at the prompt (eventsAt).
      const leaves = s.failures > 0 || (model.out.get(s.key) ?? []).some((edge) => named(edge.to) !== s.state);
      if (!leaves) trapped.push(`${s.state}: nothing leads out (${way(s.key)})`);
      if (!reachesEnd.has(s.key)) trapped.push(`${s.state}: no transfer or goodbye can be reached (${way(s.key)})`);
    }
    expect(trapped).to.deep.equal([]);
  });

  it('every menu offers 0: a transfer in office hours; outside them the hours, and the same menu', () => {
    const wrong = new Set<string>();
    for (const edge of edgesAt('menu').filter((e) => pressed(e, '0'))) {
      const from = model.states.get(edge.from) as ModelState;
      const to = model.states.get(edge.to);
      if (edge.open) {
        if (!(to?.next && 'input' in to.next && to.next.input === 'dial') || !ids(edge.said).includes('agent.connecting')) wrong.add(`${from.state} 0 (open) → ${to?.state}`);
      } else if (to?.state !== from.state || !ids(edge.said).includes('hours.representatives')) wrong.add(`${from.state} 0 (closed) → ${to?.state}: ${ids(edge.said).join(', ')}`);
    }
    // Every key is tried only before a failure at the prompt (eventsAt).
    const menus = new Set([...model.states.values()].filter((s) => s.failures === 0 && s.next && 'input' in s.next && s.next.input === 'menu').map((s) => s.key));
    const transfers = new Set(edgesAt('menu').filter((e) => pressed(e, '0') && e.open).map((e) => e.from));
    const neverTransfers = [...menus].filter((key) => !transfers.has(key)).map(named);
    expect([...wrong]).to.deep.equal([]);
    expect([...new Set(neverTransfers)], '0 asks nothing about office hours here').to.deep.equal([]);
  });

  it('every menu offers 9: it says the menu again (or fetches the readout again), with no notice, and the caller stays', () => {
    const wrong: string[] = [];
    // What each state says when the caller arrives in it (from elsewhere, or with one of its own options).
    const arriving = new Map<string, Set<string>>();
    for (const e of model.edges.filter((edge) => !pressed(edge, '9'))) {
      const heard = arriving.get(named(e.to)) ?? new Set<string>();
      for (const id of ids(e.said)) heard.add(id);
      arriving.set(named(e.to), heard);
    }
    for (const edge of edgesAt('menu').filter((e) => pressed(e, '9'))) {
      const from = model.states.get(edge.from) as ModelState;
      const said = ids(edge.said);
      if (named(edge.to) !== from.state || said.length === 0 || said.some((id) => id.startsWith('retry.') || !arriving.get(from.state)?.has(id))) {
        wrong.push(`${from.state} 9 → ${named(edge.to)}: ${said.join(', ')}`);
      }
    }
    expect([...new Set(wrong)]).to.deep.equal([]);
  });

  /** States the caller passed through on the model's shortest way to `key`: where "back" can lead. */
  const passedOnTheWay = (key: string) => new Set((shortest.get(key) ?? []).slice(0, -1).map((index) => named(model.edges[index]?.to ?? '')));
  const sameEdge = (a: Edge, b: Edge) => a.to === b.to && JSON.stringify(ids(a.said)) === JSON.stringify(ids(b.said));

  it('* goes back to a menu the caller came through (at the main menu it repeats it; the language menu has nothing before it)', () => {
    const wrong: string[] = [];
    for (const edge of edgesAt('menu').filter((e) => pressed(e, '*'))) {
      const from = model.states.get(edge.from) as ModelState;
      const to = model.states.get(edge.to);
      const said = ids(edge.said);
      if (from.state === 'mainMenu') {
        if (to?.state !== 'mainMenu' || !said.includes('main.title') || said.some((id) => id.startsWith('retry.'))) wrong.push(`mainMenu * → ${to?.state}: ${said.join(', ')}`);
      } else if (from.state === 'language') {
        // Spec section 2: * goes back "to the previous menu"; before a language is chosen there is
        // none, so the language menu takes * as it takes any wrong key (# here): a notice in both
        // languages and the choice again, or after three failures a representative or goodbye.
        const hash = (model.out.get(edge.from) ?? []).find((e) => pressed(e, '#') && e.open === edge.open);
        if (!hash || !sameEdge(edge, hash)) wrong.push(`language * → ${to?.state}: ${said.join(', ')}`);
      } else if (!(to?.next && 'input' in to.next && to.next.input === 'menu') || !passedOnTheWay(edge.from).has(to.state) || said.some((id) => id.startsWith('retry.'))) {
        wrong.push(`${from.state} * → ${to?.state} (on the way: ${describePath(model, shortest.get(edge.from) ?? [])})`);
      }
    }
    expect([...new Set(wrong)]).to.deep.equal([]);
  });

  it('every digit entry takes * as back: a menu the caller came through, nothing asked of the domain, no notice', () => {
    const wrong: string[] = [];
    const stars = edgesAt('digits').filter((e) => pressed(e, '*'));
    for (const edge of stars) {
      const from = model.states.get(edge.from) as ModelState;
      const to = model.states.get(edge.to);
      const askedTheDomain = edge.taken.some((name) => name.includes('xstate.done.actor'));
      if (!(to?.next && 'input' in to.next && to.next.input === 'menu') || !passedOnTheWay(edge.from).has(to.state) || askedTheDomain
        || ids(edge.said).some((id) => id.startsWith('retry.') || id.startsWith('entry.'))) {
        wrong.push(`${from.state} * → ${to?.state}`);
      }
    }
    expect(new Set(stars.map((e) => named(e.from)))).to.have.property('size').greaterThan(8);
    expect([...new Set(wrong)]).to.deep.equal([]);
  });

  it('everything said on the way is in the catalog in both languages and renders with its values in both', () => {
    const said = [...model.edges.flatMap((edge) => edge.said), ...replays.flatMap((r) => r.said)];
    const problems = new Set<string>();
    for (const utterance of said) {
      const entry = (catalog as Record<string, { en?: unknown; es?: unknown } | undefined>)[utterance.id];
      if (typeof entry?.en !== 'string' || typeof entry.es !== 'string') {
        problems.add(`${utterance.id}: not in the catalog in both languages`);
        continue;
      }
      for (const language of ['en', 'es'] as const) {
        try {
          const { text } = speak({ id: utterance.id, ...(utterance.values ? { values: utterance.values } : {}) }, language);
          if (/[{}]|undefined|NaN/.test(text) || text.trim() === '') problems.add(`${utterance.id} (${language}): "${text}"`);
        } catch (error) {
          problems.add(`${utterance.id} (${language}): ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    expect(said.length).to.be.greaterThan(1000);
    expect([...problems]).to.deep.equal([]);
  });
});
