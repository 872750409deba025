// Participants and their cases, as the line knows them. An SSN or PIN is never part of a
// Participant: the store keeps those only as hashes, beside it.
import { pacificTime } from './hours.ts';
import { creditedDate, type Cents } from './money.ts';
import type { Language } from './language.ts';

export { LANGUAGES, type Language } from './language.ts';

export type ParticipantId = string & { readonly __brand: 'ParticipantId' };
export type CaseNumber = string & { readonly __brand: 'CaseNumber' };

export function parseParticipantId(text: string): ParticipantId | null {
  return /^\d{10}$/.test(text) ? (text as ParticipantId) : null;
}

export function parseCaseNumber(text: string): CaseNumber | null {
  return /^\d{6,15}$/.test(text) ? (text as CaseNumber) : null;
}


export type MailingAddress = {
  line1: string;
  line2: string | null;
  city: string;
  state: string;
  zip: string;
};

export type Participant = {
  participantId: ParticipantId;
  firstName: string;
  lastName: string;
  /** The language of mailed letters; a caller picks the language of a call. */
  language: Language;
  /** E.164. */
  phone: string | null;
  mailingAddress: MailingAddress;
};

export type CaseStatus = 'open' | 'closed';
export const CASE_STATUSES: readonly CaseStatus[] = ['open', 'closed'];

export type Case = {
  caseNumber: CaseNumber;
  county: string;
  status: CaseStatus;
  payingParticipantId: ParticipantId;
  receivingParticipantId: ParticipantId;
  monthlyObligation: Cents;
  currentMonthDue: Cents;
  arrearsPrincipal: Cents;
  arrearsInterest: Cents;
  credit: Cents;
};

export type PaymentMethod = 'wage-withholding' | 'check' | 'money-order' | 'card' | 'eft' | 'cash' | 'tax-intercept';
export const PAYMENT_METHODS: readonly PaymentMethod[] = ['wage-withholding', 'check', 'money-order', 'card', 'eft', 'cash', 'tax-intercept'];

export type Payment = {
  /** ISO 8601 instant. */
  receivedAt: string;
  amount: Cents;
  method: PaymentMethod;
  /** A card payment's processor code (Twilio's PaymentConfirmationCode): taken by the line, or in the agency's file. */
  confirmationCode?: string;
};

export type AppointmentKind = 'court-hearing' | 'appointment';
export const APPOINTMENT_KINDS: readonly AppointmentKind[] = ['court-hearing', 'appointment'];

/** Which parent an appointment is for: only that parent hears it. */
export type Attendee = 'paying' | 'receiving' | 'both';
export const ATTENDEES: readonly Attendee[] = ['paying', 'receiving', 'both'];

export type Appointment = {
  /** ISO 8601 instant. */
  at: string;
  kind: AppointmentKind;
  location: string;
  description: string;
  /** Absent means both: appointments loaded before caseload files said whom they were for. */
  attendee?: Attendee;
};

export type Role = 'paying' | 'receiving';

export function roleIn(c: Pick<Case, 'payingParticipantId' | 'receivingParticipantId'>, participantId: ParticipantId): Role | null {
  if (c.payingParticipantId === participantId) return 'paying';
  if (c.receivingParticipantId === participantId) return 'receiving';
  return null;
}

function pacificDateMonthsBefore(now: Date, months: number): string {
  const { year, month, day } = pacificTime(now);
  const target = new Date(Date.UTC(year, month - 1 - months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay)); // 12 months before Feb 29 is Feb 28
  return target.toISOString().slice(0, 10);
}

// "The last 12 months" runs from the same Pacific calendar day 12 months ago (inclusive) to now;
// a payment with a future date has not been received yet.
export function paymentHistory<P extends Pick<Payment, 'receivedAt'>>(payments: readonly P[], now: Date, monthsBack = 12): P[] {
  const since = pacificDateMonthsBefore(now, monthsBack);
  return payments
    .map((payment) => ({ payment, at: new Date(payment.receivedAt) }))
    .filter(({ at }) => at.getTime() <= now.getTime() && creditedDate(at) >= since)
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .map(({ payment }) => payment);
}

/** Court dates and appointments from now on, soonest first. */
export function upcoming<A extends Pick<Appointment, 'at'>>(appointments: readonly A[], now: Date): A[] {
  return appointments
    .map((appointment) => ({ appointment, at: Date.parse(appointment.at) }))
    .filter(({ at }) => at >= now.getTime())
    .sort((a, b) => a.at - b.at)
    .map(({ appointment }) => appointment);
}
