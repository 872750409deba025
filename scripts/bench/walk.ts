// The menu walk every simulated call of the comparison makes, and what the line must say at
// each step (the bare app's replies are checked for its marker instead).

export type Step =
  | { kind: 'answer'; expect: string[] }
  /** `pound`: an entry finished with # (Twilio strips it from Digits and says so in FinishedOnKey). */
  | { kind: 'press'; digits: string; pound?: boolean; expect: string[] }
  | { kind: 'silence'; expect: string[] }
  | { kind: 'status'; expect: string[] };

/** English; payment info; check, back, crediting, back; back to the main menu; hours; repeat; silence; hang up. */
export const WALK: readonly Step[] = [
  { kind: 'answer', expect: ['For English, press 1.', 'Para español, oprima 2.'] },
  { kind: 'press', digits: '1', expect: ['information only about your own case', 'Main menu.'] },
  { kind: 'press', digits: '4', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '1', expect: ['California State Disbursement Unit'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '3', expect: ['credited on the date'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '*', expect: ['Main menu.'] },
  { kind: 'press', digits: '5', expect: ['open 24 hours a day'] },
  { kind: 'press', digits: '9', expect: ['open 24 hours a day'] },
  { kind: 'silence', expect: ['hear a choice', 'open 24 hours a day'] },
  { kind: 'status', expect: ['<Response'] },
];
export const WEBHOOKS_PER_CALL = WALK.length;

/** Twilio's parameters of a step beyond the call's standard set. */
export function stepParams(step: Step, status: { callDuration: string; timestamp: string }): Record<string, string> {
  switch (step.kind) {
    case 'answer':
      return { CallStatus: 'ringing' };
    case 'press':
      return { Digits: step.digits, FinishedOnKey: step.pound ? '#' : '', msg: 'Gather End' };
    case 'silence':
      return {};
    case 'status':
      return {
        CallStatus: 'completed',
        CallDuration: status.callDuration,
        Duration: '1',
        Timestamp: status.timestamp,
        CallbackSource: 'call-progress-events',
        SequenceNumber: '0',
      };
  }
}
