// The parameters Twilio sends with every voice webhook of a call
// (twilio.com/docs/voice/twiml#request-parameters), for the simulated phone, the bench and tests.
import { randomBytes } from 'node:crypto';

/** The number callers dial. */
export const CUSTOMER_CONNECT_NUMBER = '+18669013212';
/** A caller in Sacramento, unless told otherwise. */
export const DEFAULT_FROM = '+19165550143';
const API_VERSION = '2010-04-01';

/** Who calls whom, as Twilio names a call in each of its webhooks. */
export type CallIdentity = {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  callerName: string;
  applicationSid: string | null;
};

type Place = { city: string; state: string; zip: string; country: string };
const AREA_CODES: Readonly<Record<string, Place>> = {
  '916': { city: 'SACRAMENTO', state: 'CA', zip: '95814', country: 'US' },
  '213': { city: 'LOS ANGELES', state: 'CA', zip: '90012', country: 'US' },
  '415': { city: 'SAN FRANCISCO', state: 'CA', zip: '94103', country: 'US' },
  '559': { city: 'FRESNO', state: 'CA', zip: '93721', country: 'US' },
  '619': { city: 'SAN DIEGO', state: 'CA', zip: '92101', country: 'US' },
};

function placeOf(number: string): Place {
  const known = /^\+1(\d{3})/.exec(number);
  const place = known ? AREA_CODES[known[1] ?? ''] : undefined;
  return place ?? { city: '', state: '', zip: '', country: number.startsWith('+1') ? 'US' : '' };
}

/** A Twilio SID: two letters and 32 hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

export function newCallSid(): string {
  return newSid('CA');
}

/** Twilio's standard parameters for one webhook of `call`, in the order Twilio lists them. */
export function requestParams(call: CallIdentity, callStatus: string): Record<string, string> {
  const from = placeOf(call.from);
  const to = placeOf(call.to);
  const params: Record<string, string> = {
    CallSid: call.callSid,
    AccountSid: call.accountSid,
    From: call.from,
    To: call.to,
    Caller: call.from,
    Called: call.to,
    CallStatus: callStatus,
    ApiVersion: API_VERSION,
    Direction: 'inbound',
    CallerName: call.callerName,
    FromCity: from.city, FromState: from.state, FromZip: from.zip, FromCountry: from.country,
    CallerCity: from.city, CallerState: from.state, CallerZip: from.zip, CallerCountry: from.country,
    ToCity: to.city, ToState: to.state, ToZip: to.zip, ToCountry: to.country,
    CalledCity: to.city, CalledState: to.state, CalledZip: to.zip, CalledCountry: to.country,
  };
  if (call.applicationSid) params.ApplicationSid = call.applicationSid;
  return params;
}

/** The caller tests and the bench post as: a Sacramento number calling the line through one app. */
const STANDARD_CALL: Omit<CallIdentity, 'callSid'> = {
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  applicationSid: 'AP0123456789abcdef0123456789abcdef',
  from: DEFAULT_FROM,
  to: CUSTOMER_CONNECT_NUMBER,
  callerName: '',
};

/** Twilio's parameters for a webhook of call `callSid` in progress, plus `extra`. */
export function callParams(callSid: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...requestParams({ ...STANDARD_CALL, callSid }, 'in-progress'), ...extra };
}
