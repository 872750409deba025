// When representatives answer (spec section 8): Monday to Friday, 7:00 AM to 8:00 PM Pacific,
// except California state holidays. Every instant here is given in UTC and worked out by hand.
import { expect } from 'chai';
import { holidayOn, observedHolidays, pacificTime, representativesAvailable } from '../src/domain/hours.ts';

const open = (iso: string) => representativesAvailable(new Date(iso));

describe('state holidays', () => {
  it('2026, by hand', () => {
    expect(observedHolidays(2026)).to.deep.equal([
      { date: '2026-01-01', name: "New Year's Day" }, // Thursday
      { date: '2026-01-19', name: 'Martin Luther King Jr. Day' }, // 3rd Monday
      { date: '2026-02-16', name: "Presidents' Day" }, // 3rd Monday (Feb 1 is a Sunday)
      { date: '2026-03-31', name: 'Cesar Chavez Day' }, // Tuesday
      { date: '2026-05-25', name: 'Memorial Day' }, // last Monday (May 31 is a Sunday)
      { date: '2026-07-04', name: 'Independence Day' }, // a Saturday: not moved
      { date: '2026-09-07', name: 'Labor Day' }, // 1st Monday
      { date: '2026-11-11', name: 'Veterans Day' }, // Wednesday
      { date: '2026-11-26', name: 'Thanksgiving Day' }, // 4th Thursday
      { date: '2026-11-27', name: 'Day after Thanksgiving' },
      { date: '2026-12-25', name: 'Christmas Day' }, // Friday
    ]);
  });

  it('2027, by hand', () => {
    expect(observedHolidays(2027).map((holiday) => holiday.date)).to.deep.equal([
      '2027-01-01', // Friday
      '2027-01-18',
      '2027-02-15', // Feb 1 is a Monday: 1, 8, 15
      '2027-03-31',
      '2027-05-31', // May 31 is itself the last Monday
      '2027-07-05', // July 4 is a Sunday: observed Monday
      '2027-09-06',
      '2027-11-11',
      '2027-11-25',
      '2027-11-26',
      '2027-12-25', // a Saturday: not moved
    ]);
  });

  it('a holiday on a Sunday is observed the Monday after', () => {
    expect(observedHolidays(2022).find((h) => h.name === 'Christmas Day')?.date).to.equal('2022-12-26');
    expect(observedHolidays(2023).find((h) => h.name === "New Year's Day")?.date).to.equal('2023-01-02');
    expect(observedHolidays(2021).find((h) => h.name === 'Independence Day')?.date).to.equal('2021-07-05');
    // Across the end of a month: March 31, 2024 was a Sunday.
    expect(observedHolidays(2024).find((h) => h.name === 'Cesar Chavez Day')?.date).to.equal('2024-04-01');
  });

  it('Veterans Day on a Saturday is observed the Friday before; other Saturday holidays are not moved', () => {
    expect(observedHolidays(2023).find((h) => h.name === 'Veterans Day')?.date).to.equal('2023-11-10');
    expect(observedHolidays(2028).find((h) => h.name === 'Veterans Day')?.date).to.equal('2028-11-10');
    expect(observedHolidays(2022).find((h) => h.name === "New Year's Day")?.date).to.equal('2022-01-01');
    expect(observedHolidays(2020).find((h) => h.name === 'Independence Day')?.date).to.equal('2020-07-04');
  });

  it('holidayOn judges the Pacific calendar day, not the UTC one', () => {
    expect(holidayOn(new Date('2026-11-26T18:00:00Z'))).to.equal('Thanksgiving Day');
    // 7:30 PM on Christmas Eve in California is already Christmas in UTC.
    expect(holidayOn(new Date('2026-12-25T03:30:00Z'))).to.equal(null);
    // 11:00 PM on Christmas Day in California is already December 26 in UTC.
    expect(holidayOn(new Date('2026-12-26T07:00:00Z'))).to.equal('Christmas Day');
    expect(holidayOn(new Date('2023-11-10T18:00:00Z'))).to.equal('Veterans Day');
    expect(holidayOn(new Date('2023-11-11T18:00:00Z'))).to.equal(null);
  });
});

describe('representatives available', () => {
  // Tuesday 2026-01-13, Pacific standard time (UTC-8).
  it('opens at 7:00 AM and closes at 8:00 PM Pacific', () => {
    expect(open('2026-01-13T14:59:00Z'), '6:59 AM').to.equal(false);
    expect(open('2026-01-13T15:00:00Z'), '7:00 AM').to.equal(true);
    expect(open('2026-01-13T20:00:00Z'), 'noon').to.equal(true);
    expect(open('2026-01-14T03:59:00Z'), '7:59 PM').to.equal(true);
    expect(open('2026-01-14T03:59:59Z'), '7:59:59 PM').to.equal(true);
    expect(open('2026-01-14T04:00:00Z'), '8:00 PM').to.equal(false);
  });

  // Wednesday 2026-07-15, Pacific daylight time (UTC-7).
  it('keeps the same Pacific hours in summer', () => {
    expect(open('2026-07-15T13:59:00Z'), '6:59 AM').to.equal(false);
    expect(open('2026-07-15T14:00:00Z'), '7:00 AM').to.equal(true);
    expect(open('2026-07-16T02:59:00Z'), '7:59 PM').to.equal(true);
    expect(open('2026-07-16T03:00:00Z'), '8:00 PM').to.equal(false);
  });

  it('not on weekends, whatever the hour', () => {
    expect(open('2026-01-17T18:00:00Z'), 'Saturday 10:00 AM').to.equal(false);
    expect(open('2026-01-18T18:00:00Z'), 'Sunday 10:00 AM').to.equal(false);
    // Friday 7:30 PM Pacific is Saturday in UTC: still Friday in California.
    expect(open('2026-01-17T03:30:00Z'), 'Friday 7:30 PM').to.equal(true);
    // Sunday 11:00 PM Pacific is Monday in UTC.
    expect(open('2026-01-19T07:00:00Z'), 'Sunday 11:00 PM').to.equal(false);
  });

  it('not on state holidays, including observed ones', () => {
    expect(open('2026-11-25T18:00:00Z'), 'the Wednesday before Thanksgiving').to.equal(true);
    expect(open('2026-11-26T18:00:00Z'), 'Thanksgiving').to.equal(false);
    expect(open('2026-11-27T18:00:00Z'), 'the day after Thanksgiving').to.equal(false);
    expect(open('2026-01-19T18:00:00Z'), 'Martin Luther King Jr. Day').to.equal(false);
    expect(open('2026-03-31T17:00:00Z'), 'Cesar Chavez Day').to.equal(false);
    expect(open('2027-07-05T17:00:00Z'), 'Independence Day observed on Monday').to.equal(false);
    expect(open('2023-11-10T18:00:00Z'), 'Veterans Day observed on Friday').to.equal(false);
    expect(open('2022-12-26T18:00:00Z'), 'Christmas observed on Monday').to.equal(false);
    expect(open('2022-12-27T18:00:00Z'), 'the Tuesday after').to.equal(true);
  });

  it('judges a holiday by the Pacific day at the edges of the day', () => {
    // Christmas Eve 2026 (Thursday) at 7:30 PM Pacific: already Christmas in UTC, still open.
    expect(open('2026-12-25T03:30:00Z')).to.equal(true);
    // Monday 2026-12-28 at 7:00 AM Pacific, the first morning after Christmas.
    expect(open('2026-12-28T15:00:00Z')).to.equal(true);
  });

  it('follows the spring-forward change (Sunday 2026-03-08)', () => {
    // Friday before, still PST (UTC-8).
    expect(open('2026-03-06T14:59:00Z'), 'Friday 6:59 AM PST').to.equal(false);
    expect(open('2026-03-06T15:00:00Z'), 'Friday 7:00 AM PST').to.equal(true);
    // Monday after, PDT (UTC-7).
    expect(open('2026-03-09T13:59:00Z'), 'Monday 6:59 AM PDT').to.equal(false);
    expect(open('2026-03-09T14:00:00Z'), 'Monday 7:00 AM PDT').to.equal(true);
    expect(open('2026-03-10T02:59:00Z'), 'Monday 7:59 PM PDT').to.equal(true);
    expect(open('2026-03-10T03:00:00Z'), 'Monday 8:00 PM PDT').to.equal(false);
  });

  it('follows the fall-back change (Sunday 2026-11-01)', () => {
    // Friday before, still PDT (UTC-7).
    expect(open('2026-10-30T14:00:00Z'), 'Friday 7:00 AM PDT').to.equal(true);
    expect(open('2026-10-31T02:59:00Z'), 'Friday 7:59 PM PDT').to.equal(true);
    expect(open('2026-10-31T03:00:00Z'), 'Friday 8:00 PM PDT').to.equal(false);
    // Monday after, PST (UTC-8): 14:00Z is only 6:00 AM.
    expect(open('2026-11-02T14:00:00Z'), 'Monday 6:00 AM PST').to.equal(false);
    expect(open('2026-11-02T14:59:00Z'), 'Monday 6:59 AM PST').to.equal(false);
    expect(open('2026-11-02T15:00:00Z'), 'Monday 7:00 AM PST').to.equal(true);
    expect(open('2026-11-03T03:59:00Z'), 'Monday 7:59 PM PST').to.equal(true);
    expect(open('2026-11-03T04:00:00Z'), 'Monday 8:00 PM PST').to.equal(false);
  });

  it('pacificTime reads the wall clock in California', () => {
    expect(pacificTime(new Date('2026-11-26T03:59:00Z'))).to.deep.equal({ year: 2026, month: 11, day: 25, weekday: 3, minutes: 19 * 60 + 59 });
    expect(pacificTime(new Date('2026-03-09T14:00:00Z'))).to.deep.equal({ year: 2026, month: 3, day: 9, weekday: 1, minutes: 7 * 60 });
    expect(pacificTime(new Date('2027-01-01T08:00:00Z'))).to.deep.equal({ year: 2027, month: 1, day: 1, weekday: 5, minutes: 0 });
  });

  describe('whatever time zone the server runs in', () => {
    const saved = process.env.TZ;
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    for (const zone of ['UTC', 'Pacific/Kiritimati', 'America/New_York', 'Asia/Kolkata']) {
      it(`gives the same answers with TZ=${zone}`, () => {
        process.env.TZ = zone;
        // The zone really changed for this process (so this test could catch a getHours()).
        const offset = new Date('2026-01-13T15:00:00Z').getTimezoneOffset();
        expect(offset).to.equal({ UTC: 0, 'Pacific/Kiritimati': -840, 'America/New_York': 300, 'Asia/Kolkata': -330 }[zone]);
        expect(open('2026-01-13T14:59:00Z')).to.equal(false);
        expect(open('2026-01-13T15:00:00Z')).to.equal(true);
        expect(open('2026-01-14T03:59:00Z')).to.equal(true);
        expect(open('2026-01-14T04:00:00Z')).to.equal(false);
        expect(open('2026-01-17T03:30:00Z')).to.equal(true);
        expect(open('2026-11-26T03:59:00Z')).to.equal(true);
        expect(open('2026-11-26T18:00:00Z')).to.equal(false);
        expect(holidayOn(new Date('2026-12-26T07:00:00Z'))).to.equal('Christmas Day');
        expect(observedHolidays(2026)[0]).to.deep.equal({ date: '2026-01-01', name: "New Year's Day" });
      });
    }
  });
});
