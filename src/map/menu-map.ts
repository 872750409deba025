// The menus as a map, read from the machine's definition (flows/line.ts): every state that waits
// for the caller, what the caller can do there and where it leads. Keys come from the `pressed`
// guards' params; eventless hops (`always`) and invoked actors' answers (`onDone`) are followed
// through to the next waiting state(s), so an edge reads as the caller lives it: "1 → account
// menu". `npm run map` draws it (docs/menus.svg, docs/menus.mmd); a node's id is the state name
// the engine logs (`stateName()`), so a page can highlight where a caller is.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { createActor } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import type { CallerEvent, DialStatus, PayResult, StateMeta, WaitFor } from '../../flows/events.ts';
import { lineMachine, type Counter, type LineContext } from '../../flows/line.ts';
import { catalog, type PromptId } from '../../prompts/catalog.ts';
import type { Language } from '../../prompts/speak.ts';

/** A title: a whole prompt, or one sentence of it (a menu's option: "For your balance, press 1."). */
export type TitleSource = PromptId | { id: PromptId; sentence: number };

/**
 * Where the title of each state that waits for the caller (or ends the call) comes from, by state
 * name. The one place titles are chosen; test/menu-map.test.ts fails when a state is missing.
 */
export const MENU_TITLES: Readonly<Record<string, readonly TitleSource[] | null>> = {
  language: ['language.english', 'language.spanish'],
  mainMenu: ['main.title'],
  'login.enterId': ['login.enterId'],
  'login.enterPin': ['login.enterPin'],
  'login.retry': ['login.mismatch'],
  'account.menu': ['account.title'],
  'account.services.menu': ['services.title'],
  'account.services.phone.enter': ['phone.enter'],
  'account.services.phone.confirm': ['phone.readBack'],
  'account.services.forms': [{ id: 'services.options', sentence: 1 }],
  'account.services.recurring': [{ id: 'services.options', sentence: 2 }],
  'account.balance.heard': [{ id: 'account.options', sentence: 0 }],
  'account.history.heard': [{ id: 'account.options', sentence: 1 }],
  'account.caseInformation.heard': [{ id: 'account.options', sentence: 2 }],
  'pinHelp.menu': ['pin.title'],
  'pinHelp.forgot.enterId': ['forgot.enterId'],
  'pinHelp.forgot.enterSsn': ['forgot.enterSsn'],
  'pinHelp.forgot.retry': ['forgot.mismatch'],
  'changePin.enterNew': ['change.enterNew'],
  'changePin.reenter': ['change.reenter'],
  'payment.enterId': ['forgot.enterId'],
  'payment.enterSsn': ['forgot.enterSsn'],
  'payment.retry': ['forgot.mismatch'],
  'payment.choose': ['pay.chooseIntro'],
  'payment.amount.enter': ['pay.enterAmount'],
  'payment.confirm': ['pay.confirm'],
  'payment.paying': ['pay.cardNext'],
  'payment.receipt': ['pay.confirmation'],
  'payment.failed': ['pay.failed'],
  'paymentInfo.menu': ['payInfo.title'],
  'paymentInfo.check': [{ id: 'payInfo.options', sentence: 0 }],
  'paymentInfo.card': [{ id: 'payInfo.options', sentence: 1 }],
  'paymentInfo.crediting': [{ id: 'payInfo.options', sentence: 2 }],
  'paymentInfo.coap': [{ id: 'payInfo.options', sentence: 3 }],
  hours: [{ id: 'main.options', sentence: 4 }],
  transfer: ['agent.connecting'],
  closed: ['goodbye'],
  // Ends without a word: a representative took the call, or the caller hung up during <Pay>.
  ended: null,
};

export type MapNodeKind = 'menu' | 'entry' | 'transfer' | 'pay' | 'end' | 'stuck';

export type MapNode = {
  /** The state name, as the engine logs it: "account.services.menu". */
  id: string;
  /** 'stuck': a state that neither waits for the caller nor ends the call (a defect). */
  kind: MapNodeKind;
  wait: WaitFor | null;
  title: Record<Language, string> | null;
  /** Steps from the greeting, not counting the ways out every menu has; null if only those reach it. */
  depth: number | null;
};

export type MapEdge = {
  from: string;
  /** Where the caller ends up waiting next (or how the call ends); `from` itself when they stay. */
  to: string;
  /** What the caller does: a key, `*`, an entry, "silence", or what a transfer or <Pay> ended with. */
  on: string;
  /** The key, when `on` is one key. */
  key: string | null;
  /** The conditions on the way, in words: "logged in", "office open", "last of 3 tries". */
  when: string[];
  /** The same way out exists from most states (0, three failures): drawn once, in the legend. */
  everywhere: boolean;
};

export type MenuMap = { start: string; nodes: MapNode[]; edges: MapEdge[] };

const COUNTED: Record<Counter, string> = {
  strikes: 'tries',
  loginFailures: 'PIN tries',
  forgotFailures: 'ID + SSN tries',
  payIdFailures: 'ID + SSN tries',
  pinProblems: 'new PINs',
  amountProblems: 'amounts',
  payAttempts: 'card attempts',
  phoneUpdates: 'phone updates',
};
const INTENT: Record<LineContext['intent'], string> = { account: 'for the account', changePin: 'changing the PIN' };
/** Conditions whose opposite is worth saying on the branch that follows them: what each says, and its opposite. */
const OPPOSITES: Readonly<Record<string, readonly [string, string]>> = {
  loggedIn: ['logged in', 'not logged in'],
  representativesAvailable: ['office open', 'office closed'],
};

// The values <Dial> and <Pay> can end with, to label the branches of a transfer and a payment.
const DIAL_STATUSES = Object.keys({ completed: 1, answered: 1, busy: 1, 'no-answer': 1, failed: 1, canceled: 1 } satisfies Record<DialStatus, 1>);
const PAY_RESULTS = Object.keys({
  success: 1, 'too-many-failed-attempts': 1, 'payment-connector-error': 1, 'caller-interrupted-with-star': 1,
  'caller-hung-up': 1, 'validation-error': 1, 'internal-error': 1,
} satisfies Record<PayResult, 1>);
const CALLER_EVENTS: Record<CallerEvent['type'], true> = { digits: true, noInput: true, dialEnded: true, payResult: true };

type GuardArgs = { context: unknown; event: unknown };
/** A named guard with its params, or an inline one (type 'inline') that can only be called. */
type Guard = { type: string; params: Record<string, unknown>; test?: (args: GuardArgs) => boolean };

/** A guard as the conjunction it is: and([pressed('1'), 'loggedIn']) is two. */
function guardsOf(guard: unknown): Guard[] {
  if (guard === undefined || guard === null) return [];
  if (typeof guard === 'string') return [{ type: guard, params: {} }];
  if (typeof guard === 'function') {
    const nested = (guard as { guards?: unknown }).guards;
    if (guard.name === 'and' && Array.isArray(nested)) return nested.flatMap(guardsOf);
    return [{ type: 'inline', params: {}, test: guard as (args: GuardArgs) => boolean }];
  }
  const { type, params } = guard as { type: string; params?: unknown };
  return [{ type, params: typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {} }];
}

/** Guards that read the call (who, how many tries, the hours) rather than the event, said in words. */
const CONDITIONS = new Set(['loggedIn', 'representativesAvailable', 'resumed', 'historyHasMore', 'intentIs', 'limitReached', 'lastTry']);

function condition(guard: Guard): string | null {
  if (guard.type === 'inline') return null;
  const { params } = guard;
  const counted = COUNTED[params.counter as Counter] ?? String(params.counter);
  switch (guard.type) {
    case 'loggedIn':
    case 'representativesAvailable': return OPPOSITES[guard.type]?.[0] ?? guard.type;
    case 'resumed': return 'session lost';
    case 'historyHasMore': return 'more payments';
    case 'intentIs': return INTENT[params.intent as LineContext['intent']] ?? String(params.intent);
    case 'limitReached': return `${counted} used up`;
    case 'lastTry': return `last of ${String(params.limit)} ${counted}`;
    default: return guard.type;
  }
}

/** A way that needs a condition and its opposite ("logged in" to start paying, "not logged in" on the way out) is never taken. */
function possible(when: readonly string[]): boolean {
  return !Object.values(OPPOSITES).some(([said, opposite]) => when.includes(said) && when.includes(opposite));
}

/** Each branch with its conditions in words, and the opposite of the earlier branches' where it reads well. */
function branches(transitions: readonly AnyTransitionDefinition[], guards: (t: AnyTransitionDefinition) => Guard[], sameWay: (a: AnyTransitionDefinition, b: AnyTransitionDefinition) => boolean) {
  return transitions.map((t, index) => {
    const own = guards(t);
    const ownTypes = new Set(own.map((g) => g.type));
    const opposites = transitions.slice(0, index)
      .filter((earlier) => sameWay(earlier, t))
      .flatMap((earlier) => guards(earlier).map((g) => g.type))
      .flatMap((type) => (ownTypes.has(type) ? [] : [OPPOSITES[type]?.[1]]))
      .filter((opposite): opposite is string => opposite !== undefined);
    const when = [...new Set([...own.map(condition).filter((c): c is string => c !== null), ...opposites])];
    return { transition: t, when };
  });
}

export function waitOf(node: AnyStateNode): WaitFor | null {
  return (node.meta as StateMeta | undefined)?.wait ?? null;
}

export const nodeId = (node: AnyStateNode): string => node.path.join('.');

function kindOf(node: AnyStateNode): MapNodeKind {
  const wait = waitOf(node);
  if (wait) return wait.input === 'menu' ? 'menu' : wait.input === 'digits' ? 'entry' : wait.input === 'dial' ? 'transfer' : 'pay';
  return node.type === 'final' ? 'end' : 'stuck';
}

/** The first sentence (or the one asked for) of a prompt; a {placeholder} reads "…". */
export function titleText(sources: readonly TitleSource[], language: Language): string {
  return sources.map((source) => {
    const { id, sentence } = typeof source === 'string' ? { id: source, sentence: 0 } : source;
    const sentences = catalog[id][language].split(/(?<=[.!?])\s+/);
    const text = sentences[sentence];
    if (text === undefined) throw new Error(`prompt ${id} has no sentence ${sentence} in ${language}`);
    return text.replace(/\{\w+\}/g, '…');
  }).join(' ');
}

type Leaf = { node: AnyStateNode; when: string[] };

/** Where entering `node` leaves the caller: the waiting or final states its hops lead to. */
function leavesOf(node: AnyStateNode, when: string[], seen: ReadonlySet<AnyStateNode>): Leaf[] {
  if (seen.has(node)) return [];
  if (node.type === 'compound') return node.initial.target.flatMap((child: AnyStateNode) => leavesOf(child, when, seen));
  if (waitOf(node) || node.type === 'final') return [{ node, when }];
  const hops = [...(node.always ?? []), ...[...node.transitions].filter(([type]) => type.startsWith('xstate.done.actor.')).flatMap(([, ts]) => ts)];
  if (hops.length === 0) return [{ node, when }];
  const next = new Set([...seen, node]);
  return branches(hops, (t) => guardsOf(t.guard), (a, b) => a.eventType === b.eventType).flatMap(({ transition, when: more }) =>
    (transition.target ?? [node]).flatMap((target: AnyStateNode) =>
      target === node ? [{ node, when: [...when, ...more] }] : leavesOf(target, [...when, ...more], next)));
}

/** An entry's accepted lengths, as the caller hears them: "10 digits #", "9 or 10 digits #". */
function entryLabel(params: Record<string, unknown>): string {
  const lengths = Array.isArray(params.lengths) ? (params.lengths as number[]) : null;
  if (!lengths) return 'digits #';
  const low = Math.min(...lengths);
  const high = Math.max(...lengths);
  const contiguous = lengths.length === high - low + 1;
  const said = lengths.length === 1 ? `${low}` : contiguous && lengths.length > 2 ? `${low}–${high}` : lengths.join(' or ');
  return `${said} digits #`;
}

type Trigger = { on: string; key: string | null };
const FAILURE = 'anything else';
const SILENCE = 'silence';
const STRUCTURAL = new Set(['pressed', 'cancelled', 'digitCount', 'casePicked']);

/** What the caller does to take `t`, from its structural guards (pressed, cancelled, digitCount, casePicked). */
function digitTrigger(guards: Guard[]): Trigger {
  for (const guard of guards) {
    if (guard.type === 'pressed') return { on: String(guard.params.key), key: String(guard.params.key) };
    if (guard.type === 'cancelled') return { on: '*', key: '*' };
    if (guard.type === 'digitCount') return { on: entryLabel(guard.params), key: null };
    if (guard.type === 'casePicked') return { on: 'case key', key: null };
  }
  return { on: FAILURE, key: null };
}

/**
 * The map of the line's machine. Deterministic: nodes in the order the definition declares them,
 * edges in the order their transitions are tried.
 */
export function menuMap(): MenuMap {
  const machine: AnyStateMachine = lineMachine;
  const all = getStateNodes(machine.root);
  const context = createActor(machine, { input: {} }).getSnapshot().context as unknown;
  const implementations = machine.implementations.guards as Record<string, (args: GuardArgs, params: unknown) => boolean>;
  const edges: Omit<MapEdge, 'everywhere'>[] = [];
  const reached = new Map<string, AnyStateNode>();

  for (const node of all.filter((n) => waitOf(n) !== null || n.type === 'final')) reached.set(nodeId(node), node);

  for (const node of all.filter((n) => waitOf(n) !== null)) {
    const from = nodeId(node);
    // The deepest state's transitions are tried first, then its ancestors'.
    const owners = [node, ...ancestorsOf(node)];
    const byEvent = new Map<string, AnyTransitionDefinition[]>();
    for (const owner of owners) {
      for (const [type, ts] of owner.transitions) {
        if (!(type in CALLER_EVENTS)) continue;
        byEvent.set(type, [...(byEvent.get(type) ?? []), ...ts]);
      }
    }
    for (const [type, transitions] of byEvent) {
      const triggers = labelled(type, transitions, context, implementations);
      // For a transfer or a payment, guards other than conditions chose the status or result (`on`).
      const spoken = (g: Guard) => g.type !== 'inline' && !STRUCTURAL.has(g.type) && (type === 'digits' || type === 'noInput' || CONDITIONS.has(g.type));
      const listed = branches(transitions, (t) => guardsOf(t.guard).filter(spoken),
        (a, b) => triggers.get(a)?.on === triggers.get(b)?.on);
      for (const { transition, when } of listed) {
        const trigger = triggers.get(transition);
        if (!trigger) continue;
        const leaves = transition.target ? transition.target.flatMap((target: AnyStateNode) => leavesOf(target, [], new Set())) : [{ node, when: [] }];
        for (const leaf of leaves.filter((l) => possible([...when, ...l.when]))) {
          reached.set(nodeId(leaf.node), leaf.node);
          edges.push({ from, to: nodeId(leaf.node), ...trigger, when: [...new Set([...when, ...leaf.when])] });
        }
      }
    }
  }

  const starts = leavesOf(machine.root, [], new Set());
  for (const leaf of starts) reached.set(nodeId(leaf.node), leaf.node);
  const start = nodeId((starts.find((leaf) => leaf.when.length === 0) ?? starts[0] ?? { node: machine.root }).node);

  const unique = dedupe(edges);
  const waiting = all.filter((n) => waitOf(n) !== null).length;
  const fromCount = new Map<string, Set<string>>();
  for (const edge of unique) {
    const way = wayOf(edge);
    fromCount.set(way, (fromCount.get(way) ?? new Set()).add(edge.from));
  }
  const mapped: MapEdge[] = unique.map((edge) => ({ ...edge, everywhere: (fromCount.get(wayOf(edge))?.size ?? 0) * 2 > waiting }));

  const depth = depths(start, mapped);
  const order = new Map(all.map((n, index) => [nodeId(n), index]));
  const nodes: MapNode[] = [...reached.values()]
    .sort((a, b) => (order.get(nodeId(a)) ?? 0) - (order.get(nodeId(b)) ?? 0))
    .map((node) => {
      const id = nodeId(node);
      const sources = MENU_TITLES[id];
      return {
        id,
        kind: kindOf(node),
        wait: waitOf(node),
        title: sources ? { en: titleText(sources, 'en'), es: titleText(sources, 'es') } : null,
        depth: depth.get(id) ?? null,
      };
    });
  return { start, nodes, edges: mapped };
}

function ancestorsOf(node: AnyStateNode): AnyStateNode[] {
  const ancestors: AnyStateNode[] = [];
  for (let parent = node.parent; parent; parent = parent.parent) ancestors.push(parent);
  return ancestors;
}

/**
 * The trigger of each transition of one event type. Keys are read from the guards; a transfer's
 * or a payment's branches are labelled with the statuses or results that take them, found by
 * trying each value against the guards that read only the event.
 */
function labelled(
  type: string,
  transitions: readonly AnyTransitionDefinition[],
  context: unknown,
  implementations: Record<string, (args: GuardArgs, params: unknown) => boolean>,
): Map<AnyTransitionDefinition, Trigger> {
  const triggers = new Map<AnyTransitionDefinition, Trigger>();
  if (type === 'digits') {
    for (const t of transitions) triggers.set(t, digitTrigger(guardsOf(t.guard)));
    return triggers;
  }
  if (type === 'noInput') {
    for (const t of transitions) triggers.set(t, { on: SILENCE, key: null });
    return triggers;
  }
  const values = type === 'dialEnded' ? DIAL_STATUSES : type === 'payResult' ? PAY_RESULTS : [];
  const eventOf = (value: string) => (type === 'dialEnded' ? { type, status: value } : { type, result: value, confirmationCode: '', last4: '' });
  let left = values;
  for (const t of transitions) {
    const guards = guardsOf(t.guard);
    // Conditions that read the call (limits, hours) do not choose a value; they are said in `when`.
    const onEvent = guards.filter((g) => g.type === 'inline' || (!CONDITIONS.has(g.type) && implementations[g.type] !== undefined));
    const accepted = left.filter((value) => onEvent.every((g) => {
      const args = { context, event: eventOf(value) };
      const implementation = implementations[g.type];
      return g.test ? g.test(args) : implementation ? implementation(args, g.params) : false;
    }));
    if (accepted.length === 0) continue;
    triggers.set(t, { on: accepted.length === values.length ? 'any' : accepted.length <= 4 ? accepted.join(', ') : 'other results', key: null });
    if (onEvent.length === guards.length) left = left.filter((value) => !accepted.includes(value));
  }
  return triggers;
}

const wayOf = (edge: Pick<MapEdge, 'from' | 'to' | 'on' | 'when'>) => `${edge.from === edge.to ? '(stays)' : edge.to}|${edge.on}|${edge.when.join(',')}`;

function dedupe<E extends Pick<MapEdge, 'from' | 'to' | 'on' | 'when'>>(edges: E[]): E[] {
  const seen = new Set<string>();
  return edges.filter((edge) => {
    const key = `${edge.from}|${edge.to}|${edge.on}|${edge.when.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Steps from the greeting over the edges particular to a state (not the ways out every menu has). */
function depths(start: string, edges: readonly MapEdge[]): Map<string, number> {
  const depth = new Map([[start, 0]]);
  const queue = [start];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const edge of edges) {
      if (edge.from !== id || edge.everywhere || depth.has(edge.to)) continue;
      depth.set(edge.to, (depth.get(id) ?? 0) + 1);
      queue.push(edge.to);
    }
  }
  return depth;
}

/** The keys a state takes, in keypad order (1–9, 0, *). */
export function keysOf(map: MenuMap, id: string): string[] {
  const order = '1234567890*#';
  return [...new Set(map.edges.filter((e) => e.from === id && e.key !== null).map((e) => e.key as string))]
    .sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** What a state takes: its keys, then its entry or the outcomes it waits for (not the failures every state handles). */
export function takesOf(map: MenuMap, id: string): string[] {
  const others = map.edges.filter((e) => e.from === id && e.key === null && e.on !== FAILURE && e.on !== SILENCE).map((e) => e.on);
  return [...keysOf(map, id), ...new Set(others)];
}

/** The ways every menu has, in one sentence: "0 [office open] → transfer; 9, anything else, silence stay". */
export function everywhereText(map: MenuMap): string {
  const groups = new Map<string, string[]>();
  for (const edge of map.edges.filter((e) => e.everywhere)) {
    const way = `${edge.when.length ? ` [${edge.when.join(', ')}]` : ''} ${edge.to === edge.from ? 'stay' : `→ ${edge.to}`}`;
    const ons = groups.get(way) ?? [];
    if (!ons.includes(edge.on)) ons.push(edge.on);
    groups.set(way, ons);
  }
  return [...groups].map(([way, ons]) => `${ons.join(', ')}${way}`).join('; ');
}
