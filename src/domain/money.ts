// Money rules (spec section 7): integer cents inside, decimal strings only at the edges.
import { pacificTime } from './hours.ts';

export type Cents = number & { readonly __brand: 'Cents' };

export function cents(n: number): Cents {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a whole number of cents: ${n}`);
  return (n === 0 ? 0 : n) as Cents; // no -0: it would print as "-0.00"
}

const MONEY = /^(0|[1-9]\d*)\.(\d{2})$/;

/** "1234.56" → 123456 cents; null for anything else (negative, one decimal, "01.00", "1e3", "1,234.56"). */
export function parseMoney(text: string): Cents | null {
  const match = MONEY.exec(text);
  if (!match) return null;
  const value = Number(match[1]) * 100 + Number(match[2]);
  return Number.isSafeInteger(value) ? (value as Cents) : null;
}

/** 123456 cents → "1234.56". */
export function formatMoney(amount: Cents): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export type Balances = {
  currentMonthDue: Cents;
  arrearsPrincipal: Cents;
  arrearsInterest: Cents;
  credit: Cents;
};

export type PaymentApplication = {
  toCurrentMonth: Cents;
  toPrincipal: Cents;
  toInterest: Cents;
  toCredit: Cents;
  after: Balances;
};

// CCP 695.221: this month's support first, then past-due principal, then interest.
// What is left over stays on the case as a credit.
export function applyPayment(balances: Balances, amount: Cents): PaymentApplication {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`a payment must be a positive number of cents: ${amount}`);
  for (const [name, value] of Object.entries(balances)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative number of cents: ${value}`);
  }
  let left: number = amount;
  const take = (owed: Cents): Cents => {
    const paid = Math.min(owed, left);
    left -= paid;
    return cents(paid);
  };
  const toCurrentMonth = take(balances.currentMonthDue);
  const toPrincipal = take(balances.arrearsPrincipal);
  const toInterest = take(balances.arrearsInterest);
  const toCredit = cents(left);
  return {
    toCurrentMonth,
    toPrincipal,
    toInterest,
    toCredit,
    after: {
      currentMonthDue: cents(balances.currentMonthDue - toCurrentMonth),
      arrearsPrincipal: cents(balances.arrearsPrincipal - toPrincipal),
      arrearsInterest: cents(balances.arrearsInterest - toInterest),
      credit: cents(balances.credit + toCredit),
    },
  };
}

/** What is owed on a case; a credit is reported on its own, not netted off. */
export function balanceTotal(balances: Pick<Balances, 'currentMonthDue' | 'arrearsPrincipal' | 'arrearsInterest'>): Cents {
  return cents(balances.currentMonthDue + balances.arrearsPrincipal + balances.arrearsInterest);
}

// A payment is credited as of the day it is received at the State Disbursement Unit, in Pacific
// time, whatever the server's zone: 11:59 PM on the 31st is still that month.
export function creditedMonth(receivedAt: Date): { year: number; month: number } {
  const { year, month } = pacificTime(receivedAt);
  return { year, month };
}

/** The Pacific calendar day a payment is credited to, as YYYY-MM-DD. */
export function creditedDate(receivedAt: Date): string {
  const { year, month, day } = pacificTime(receivedAt);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
