// Which menu of the call record (MENUS) a state of the line's machine belongs to, by the state's
// path as the engine names it ("account.services.phone.enter"). Every state that waits for the
// caller belongs to one; the more specific path comes first.
import type { Menu } from './call-record.ts';

const BY_PATH: readonly (readonly [path: string, menu: Menu])[] = [
  ['language', 'language'],
  ['mainMenu', 'main'],
  ['login', 'login'],
  ['account.balance', 'balance'],
  ['account.history', 'history'],
  ['account.caseInformation', 'caseInformation'],
  ['account.services.phone', 'phone'],
  ['account.services.forms', 'forms'],
  ['account.services.recurring', 'recurring'],
  ['account.services', 'services'],
  ['account', 'account'],
  ['pinHelp.forgot', 'forgotPin'],
  ['pinHelp', 'pinHelp'],
  ['changePin', 'changePin'],
  ['payment', 'payment'],
  ['paymentInfo', 'paymentInfo'],
  ['hours', 'hours'],
  ['transfer', 'transfer'],
];

/** The menu `state` is in; null for a state outside every menu (the call's end). */
export function menuOfState(state: string): Menu | null {
  for (const [path, menu] of BY_PATH) {
    if (state === path || state.startsWith(`${path}.`)) return menu;
  }
  return null;
}
