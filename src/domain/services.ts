// Caller services (spec section 8): a new phone number (audited), forms by mail.
import type { CaseloadStore } from './caseload-store.ts';
import { ignoreSecurityEvents, type SecurityEvents } from './identification.ts';
import type { MailedForm } from './outbox.ts';
import { pacificTime } from './hours.ts';
import type { ParticipantId } from './caseload.ts';

export type FormQueued = { city: string; zip: string };

/** A phone number update: saved, or refused (not a usable number; this participant's updates for today used up). */
export type PhoneUpdated = { ok: true } | { ok: false; reason: 'invalid' | 'daily-limit' };

/** Phone updates a participant may make in a Pacific day (the per-call limit is the menus'). */
export const PHONE_UPDATES_PER_DAY = 3;

/** "+19165550143" → "***-***-0143": the audit trail keeps only the last four digits. */
export function maskPhone(phone: string | null): string | null {
  return phone === null ? null : `***-***-${phone.slice(-4)}`;
}

export class Services {
  constructor(
    private readonly store: CaseloadStore,
    private readonly clock: () => Date = () => new Date(),
    private readonly phoneUpdatesPerDay = PHONE_UPDATES_PER_DAY,
    private readonly securityEvent: SecurityEvents = ignoreSecurityEvents,
  ) {}

  /** A 10-digit US number from the keypad, saved as E.164 with an audit entry; a few a day at most. */
  async updatePhone(participantId: ParticipantId, tenDigits: string, callSid?: string): Promise<PhoneUpdated> {
    if (!/^[2-9]\d{2}[2-9]\d{6}$/.test(tenDigits)) return { ok: false, reason: 'invalid' };
    const phone = `+1${tenDigits}`;
    const participant = await this.store.participant(participantId);
    if (!participant) return { ok: false, reason: 'invalid' };
    const now = this.clock();
    const { year, month, day } = pacificTime(now);
    const result = await this.store.updatePhone(participantId, phone, {
      at: now.toISOString(),
      participantId,
      action: 'phone-update',
      oldPhone: maskPhone(participant.phone),
      newPhone: maskPhone(phone) ?? '',
      via: 'phone-line',
      ...(callSid ? { callSid } : {}),
    }, { perDay: this.phoneUpdatesPerDay, day: `${year}-${month}-${day}` });
    if (result.ok) return { ok: true };
    if (result.reason !== 'daily-limit') return { ok: false, reason: 'invalid' };
    // A number changed again and again would redirect the agency's calls to the parent: worth an operator's look.
    this.securityEvent({ kind: 'phone-update-limited', scope: 'day' });
    return { ok: false, reason: 'daily-limit' };
  }

  /** The last four digits of the number on file, said before a caller gives a new one (or null: none on file). */
  async phoneEnding(participantId: ParticipantId): Promise<string | null> {
    const phone = (await this.store.participant(participantId))?.phone ?? null;
    return phone ? phone.slice(-4) : null;
  }

  /**
   * Queues a form to the address on file. One letter per participant, form and Pacific day: a
   * retried webhook, or the same request twice in a call, queues one letter.
   */
  async requestForm(participantId: ParticipantId, form: MailedForm): Promise<FormQueued> {
    const participant = await this.store.participant(participantId);
    if (!participant) throw new Error('a form was requested for a participant the caseload does not have');
    const now = this.clock();
    const { year, month, day } = pacificTime(now);
    await this.store.queueLetter(
      {
        kind: 'form',
        form,
        participantId,
        language: participant.language,
        name: `${participant.firstName} ${participant.lastName}`,
        address: participant.mailingAddress,
        createdAt: now.toISOString(),
      },
      `form:${participantId}:${form}:${year}-${month}-${day}`,
    );
    return { city: participant.mailingAddress.city, zip: participant.mailingAddress.zip };
  }
}
