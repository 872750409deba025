// What the caller hears about their own account, built from the domain's answers. Pure.
import type { AccountSummary, BalanceReport, CaseInformation, HistoryItem } from '../src/domain/accounts.ts';
import type { PromptId } from '../prompts/catalog.ts';
import type { Utterance } from '../prompts/speak.ts';
import type { PaymentMethod } from '../src/domain/caseload.ts';

export const HISTORY_PAGE = 3;

const METHOD: Record<PaymentMethod, PromptId> = {
  'wage-withholding': 'method.wage-withholding',
  check: 'method.check',
  'money-order': 'method.money-order',
  card: 'method.card',
  eft: 'method.eft',
  cash: 'method.cash',
  'tax-intercept': 'method.tax-intercept',
};

const last4 = (caseNumber: string) => ({ kind: 'digits' as const, value: caseNumber.slice(-4) });
const money = (cents: number) => ({ kind: 'money' as const, cents });
const count = (value: number) => ({ kind: 'number' as const, value });

/** The answer first (one sentence): what the caller owes, and the last payment they received. */
export function summaryReadout(summary: AccountSummary): Utterance[] {
  const { paying, receiving } = summary;
  const owed = paying ? { total: money(paying.total), due: money(paying.dueThisMonth) } : null;
  const last = receiving?.lastPayment;
  const received = last ? { amount: money(last.amount), date: { kind: 'date' as const, at: last.receivedAt } } : null;
  if (owed && received) return [{ id: 'summary.oweAndReceived', values: { ...owed, ...received } }];
  if (owed && receiving) return [{ id: 'summary.oweAndNoneReceived', values: owed }];
  if (owed) return [{ id: 'summary.owe', values: owed }];
  if (received) return [{ id: 'summary.received', values: received }];
  if (receiving) return [{ id: 'summary.noneReceived' }];
  return [{ id: 'balance.none' }];
}

export function balanceReadout(report: BalanceReport): Utterance[] {
  if (report.openCases === 0) return [{ id: 'balance.none' }];
  const lines: Utterance[] = [];
  for (const total of report.totals) {
    if (total.cases < 2) continue;
    lines.push({ id: total.role === 'paying' ? 'balance.totalPaying' : 'balance.totalReceiving', values: { count: count(total.cases), amount: money(total.total) } });
  }
  for (const c of report.cases) {
    lines.push({
      id: 'balance.case',
      values: {
        last4: last4(c.caseNumber),
        role: { kind: 'prompt', id: c.role === 'paying' ? 'role.paying' : 'role.receiving' },
        monthly: money(c.monthlyObligation),
        due: money(c.currentMonthDue),
        principal: money(c.arrearsPrincipal),
        interest: money(c.arrearsInterest),
        total: money(c.total),
      },
    });
    if (c.credit > 0) lines.push({ id: 'balance.credit', values: { amount: money(c.credit) } });
  }
  if (report.openCases > report.cases.length) lines.push({ id: 'balance.moreCases', values: { count: count(report.openCases - report.cases.length) } });
  return lines;
}

export function historyPage(items: readonly HistoryItem[], page: number): { lines: Utterance[]; hasMore: boolean } {
  if (items.length === 0) return { lines: [{ id: 'history.none' }], hasMore: false };
  const shown = items.slice(page * HISTORY_PAGE, (page + 1) * HISTORY_PAGE);
  const hasMore = items.length > (page + 1) * HISTORY_PAGE;
  const lines: Utterance[] = page === 0 ? [{ id: 'history.intro' }] : [];
  for (const item of shown) {
    lines.push({
      id: 'history.item',
      values: { date: { kind: 'date', at: item.receivedAt }, amount: money(item.amount), method: { kind: 'prompt', id: METHOD[item.method] }, last4: last4(item.caseNumber) },
    });
  }
  if (!hasMore) lines.push({ id: 'history.end' });
  return { lines, hasMore };
}

export function caseInformationReadout(info: CaseInformation): Utterance[] {
  if (info.cases.length === 0) return [{ id: 'caseInfo.none' }];
  const lines: Utterance[] = info.cases.map((c) => ({
    id: 'caseInfo.case',
    values: {
      caseNumber: { kind: 'digits', value: c.caseNumber },
      county: { kind: 'name', value: c.county },
      status: { kind: 'prompt', id: c.status === 'open' ? 'status.open' : 'status.closed' },
      party: { kind: 'prompt', id: c.role === 'paying' ? 'party.paying' : 'party.receiving' },
    },
  }));
  if (info.appointments.length === 0) return [...lines, { id: 'caseInfo.noAppointments' }];
  lines.push({ id: 'caseInfo.appointmentsIntro' });
  for (const a of info.appointments) {
    lines.push({
      id: 'caseInfo.appointment',
      values: {
        kind: { kind: 'prompt', id: a.kind === 'court-hearing' ? 'kind.court-hearing' : 'kind.appointment' },
        date: { kind: 'date', at: a.at },
        time: { kind: 'time', at: a.at },
        location: { kind: 'name', value: a.location },
        description: { kind: 'name', value: a.description.replace(/[.\s]+$/, '') },
        last4: last4(a.caseNumber),
      },
    });
  }
  return lines;
}
