import { expect } from 'chai';
import {
  applyPayment, balanceTotal, cents, creditedDate, creditedMonth, formatMoney, parseMoney, type Balances,
} from '../src/domain/money.ts';

describe('money', () => {
  describe('cents', () => {
    it('takes whole numbers of cents and refuses anything else', () => {
      expect(cents(123456)).to.equal(123456);
      expect(Object.is(cents(-0), 0)).to.equal(true);
      expect(() => cents(1.5)).to.throw(RangeError);
      expect(() => cents(Number.NaN)).to.throw(RangeError);
      expect(() => cents(Number.MAX_SAFE_INTEGER + 1)).to.throw(RangeError);
    });
  });

  describe('parseMoney', () => {
    it('reads decimal strings with exactly two decimals', () => {
      expect(parseMoney('1234.56')).to.equal(123456);
      expect(parseMoney('0.00')).to.equal(0);
      expect(parseMoney('0.01')).to.equal(1);
      expect(parseMoney('0.50')).to.equal(50);
      expect(parseMoney('10.00')).to.equal(1000);
      expect(parseMoney('90071992547409.91')).to.equal(Number.MAX_SAFE_INTEGER);
    });

    for (const text of ['1.5', '1', '1.', '.50', '1.505', '-1.00', '+1.00', '01.00', '00.50', '1e3', '1,234.56', ' 1.00', '1.00 ', '', '$1.00', '１.００', '90071992547409.92']) {
      it(`refuses ${JSON.stringify(text)}`, () => {
        expect(parseMoney(text)).to.equal(null);
      });
    }
  });

  describe('formatMoney', () => {
    it('writes a decimal string with two decimals', () => {
      expect(formatMoney(cents(123456))).to.equal('1234.56');
      expect(formatMoney(cents(0))).to.equal('0.00');
      expect(formatMoney(cents(1))).to.equal('0.01');
      expect(formatMoney(cents(50))).to.equal('0.50');
      expect(formatMoney(cents(100))).to.equal('1.00');
      expect(formatMoney(cents(-250))).to.equal('-2.50');
    });

    it('round-trips with parseMoney', () => {
      for (const text of ['0.00', '0.07', '0.99', '1.00', '450.00', '1234.56', '90071992547409.91']) {
        const parsed = parseMoney(text);
        expect(parsed).to.not.equal(null);
        expect(formatMoney(parsed as NonNullable<typeof parsed>)).to.equal(text);
      }
    });
  });

  describe('applyPayment (CCP 695.221)', () => {
    // $450.00 this month, $1,200.00 past-due principal, $34.56 interest.
    const owed: Balances = { currentMonthDue: cents(45000), arrearsPrincipal: cents(120000), arrearsInterest: cents(3456), credit: cents(0) };
    const all = 45000 + 120000 + 3456;

    const cases: [string, number, [number, number, number, number]][] = [
      ['one cent', 1, [1, 0, 0, 0]],
      ['one cent less than this month', 44999, [44999, 0, 0, 0]],
      ['exactly this month', 45000, [45000, 0, 0, 0]],
      ['this month and one cent', 45001, [45000, 1, 0, 0]],
      ['exactly this month and the principal', 165000, [45000, 120000, 0, 0]],
      ['this month, the principal and one cent', 165001, [45000, 120000, 1, 0]],
      ['exactly everything', all, [45000, 120000, 3456, 0]],
      ['everything and one cent', all + 1, [45000, 120000, 3456, 1]],
      ['much more than everything', all + 50000, [45000, 120000, 3456, 50000]],
    ];
    for (const [name, amount, [month, principal, interest, credit]] of cases) {
      it(`applies ${name}`, () => {
        const applied = applyPayment(owed, cents(amount));
        expect(applied).to.deep.include({ toCurrentMonth: month, toPrincipal: principal, toInterest: interest, toCredit: credit });
        expect(applied.toCurrentMonth + applied.toPrincipal + applied.toInterest + applied.toCredit).to.equal(amount);
        expect(applied.after).to.deep.equal({
          currentMonthDue: 45000 - month,
          arrearsPrincipal: 120000 - principal,
          arrearsInterest: 3456 - interest,
          credit,
        });
      });
    }

    it('skips what is already paid and adds to an existing credit', () => {
      const paidUp: Balances = { currentMonthDue: cents(0), arrearsPrincipal: cents(0), arrearsInterest: cents(100), credit: cents(500) };
      const applied = applyPayment(paidUp, cents(300));
      expect(applied).to.deep.include({ toCurrentMonth: 0, toPrincipal: 0, toInterest: 100, toCredit: 200 });
      expect(applied.after).to.deep.equal({ currentMonthDue: 0, arrearsPrincipal: 0, arrearsInterest: 0, credit: 700 });
    });

    it('does not change the balances it was given', () => {
      const before = { ...owed };
      applyPayment(owed, cents(all + 1));
      expect(owed).to.deep.equal(before);
    });

    it('refuses a payment that is not a positive whole number of cents', () => {
      expect(() => applyPayment(owed, cents(0))).to.throw(RangeError);
      expect(() => applyPayment(owed, cents(-100))).to.throw(RangeError);
      expect(() => applyPayment(owed, 1.5 as never)).to.throw(RangeError);
    });
  });

  describe('balanceTotal', () => {
    it('adds this month, principal and interest, and leaves a credit out', () => {
      expect(balanceTotal({ currentMonthDue: cents(45000), arrearsPrincipal: cents(120000), arrearsInterest: cents(3456) })).to.equal(168456);
      const inCredit: Balances = { currentMonthDue: cents(0), arrearsPrincipal: cents(0), arrearsInterest: cents(0), credit: cents(9999) };
      expect(balanceTotal(inCredit)).to.equal(0);
    });
  });

  describe('crediting in Pacific time', () => {
    // Each instant is written in UTC too, so the server's own zone cannot help the answer along.
    const cases: [string, string, string, { year: number; month: number }][] = [
      ['11:59 PM on the last day of October (PDT)', '2026-11-01T06:59:00Z', '2026-10-31', { year: 2026, month: 10 }],
      ['12:00 AM on the first of November (PDT)', '2026-11-01T07:00:00Z', '2026-11-01', { year: 2026, month: 11 }],
      ['1:30 AM before the fall-back on Nov 1 (PDT)', '2026-11-01T08:30:00Z', '2026-11-01', { year: 2026, month: 11 }],
      ['1:30 AM after the fall-back on Nov 1 (PST)', '2026-11-01T09:30:00Z', '2026-11-01', { year: 2026, month: 11 }],
      ['11:59 PM on Nov 30 (PST)', '2026-12-01T07:59:00Z', '2026-11-30', { year: 2026, month: 11 }],
      ['12:00 AM on Dec 1 (PST)', '2026-12-01T08:00:00Z', '2026-12-01', { year: 2026, month: 12 }],
      ['11:59 PM on Dec 31 (PST), the year turning', '2027-01-01T07:59:00Z', '2026-12-31', { year: 2026, month: 12 }],
      ['1:59 AM before the spring-forward on Mar 8 (PST)', '2026-03-08T09:59:00Z', '2026-03-08', { year: 2026, month: 3 }],
      ['3:00 AM after the spring-forward on Mar 8 (PDT)', '2026-03-08T10:00:00Z', '2026-03-08', { year: 2026, month: 3 }],
      ['11:59 PM on Feb 28 (PST)', '2026-03-01T07:59:00Z', '2026-02-28', { year: 2026, month: 2 }],
      ['11:59 PM on Mar 31 (PDT)', '2026-04-01T06:59:00Z', '2026-03-31', { year: 2026, month: 3 }],
    ];
    for (const [name, utc, date, month] of cases) {
      it(`credits ${name} to ${date}`, () => {
        expect(creditedDate(new Date(utc))).to.equal(date);
        expect(creditedMonth(new Date(utc))).to.deep.equal(month);
      });
    }

    it('reads the Pacific offset from the instant, not from how it was written', () => {
      expect(creditedMonth(new Date('2026-10-31T23:59:00-07:00'))).to.deep.equal({ year: 2026, month: 10 });
      expect(creditedMonth(new Date('2026-11-01T00:00:00-07:00'))).to.deep.equal({ year: 2026, month: 11 });
      // Midnight in New York is still 9 PM the day before in California.
      expect(creditedDate(new Date('2026-11-01T00:30:00-04:00'))).to.equal('2026-10-31');
    });

    it('does not depend on the process time zone', () => {
      const zone = process.env.TZ;
      try {
        for (const tz of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Pacific/Kiritimati']) {
          process.env.TZ = tz;
          expect(creditedDate(new Date('2026-11-01T06:59:00Z')), tz).to.equal('2026-10-31');
          expect(creditedMonth(new Date('2026-11-01T07:00:00Z')), tz).to.deep.equal({ year: 2026, month: 11 });
        }
      } finally {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
      }
    });

    it('refuses an invalid date rather than guessing', () => {
      expect(() => creditedDate(new Date('not a date'))).to.throw(RangeError);
    });
  });
});
