// The states one menu sends the caller to from another, by id. A state declares its id with
// `withId`, a transition names it with `to`: both take only the ids below, so a typo is a type
// error, and renaming or moving the state does not break the transitions that lead to it.
// Targets among siblings ('loading', 'enterId') stay plain keys, next to the states they name.
import type { LineStateConfig } from './setup.ts';

export const STATE_IDS = [
  'mainMenu', 'transfer', 'gaveUp', 'ended',
  'login', 'account', 'accountMenu', 'servicesMenu',
  'pinHelpMenu', 'changePin',
  'payment', 'payConfirm', 'leavePayment',
] as const;

export type StateId = (typeof STATE_IDS)[number];

/** The target of a transition to the state declared `withId(id, …)`. */
export const to = <Id extends StateId>(id: Id): `#${Id}` => `#${id}`;

export function withId(id: StateId, config: LineStateConfig): LineStateConfig {
  return { ...config, id };
}
