// What a caller may say instead of pressing a key, per menu and language (spec section 2: speech
// is accepted in menus, never instead of keys, and never for IDs, SSNs, PINs or amounts).
import type { Language } from './speak.ts';

type Words = Readonly<Record<Language, readonly string[]>>;
export type Vocabulary = Readonly<Record<string, Words>>;

const AGENT: Words = {
  en: ['representative', 'agent', 'operator', 'a person', 'customer service', 'speak to someone', 'talk to someone'],
  es: ['representante', 'agente', 'operador', 'operadora', 'una persona', 'hablar con alguien'],
};
const REPEAT: Words = { en: ['repeat', 'say that again', 'again'], es: ['repetir', 'repita', 'otra vez', 'de nuevo'] };
const BACK: Words = { en: ['go back', 'back', 'previous menu'], es: ['regresar', 'volver', 'atrás', 'menú anterior'] };

const GLOBAL: Vocabulary = { '0': AGENT, '9': REPEAT, '*': BACK };

export const VOCABULARIES = {
  language: {
    '1': { en: ['english', 'inglés', 'ingles'], es: ['english', 'inglés', 'ingles'] },
    '2': { en: ['spanish', 'español', 'espanol'], es: ['spanish', 'español', 'espanol'] },
  },
  main: {
    ...GLOBAL,
    '1': { en: ['account', 'balance', 'my balance', 'payment history', 'court date', 'case information'], es: ['cuenta', 'saldo', 'mi saldo', 'historial', 'fecha de corte', 'información del caso'] },
    '2': { en: ['pay', 'payment', 'make a payment', 'card payment', 'pay by card'], es: ['pagar', 'pago', 'hacer un pago', 'pago con tarjeta'] },
    '3': { en: ['pin', 'forgot my pin', 'change my pin', 'pin help', 'password'], es: ['pin', 'olvidé mi pin', 'cambiar mi pin', 'ayuda con el pin', 'contraseña'] },
    '4': { en: ['payment options', 'mailing address', 'address', 'check', 'money order'], es: ['opciones de pago', 'dirección', 'dirección postal', 'cheque', 'giro postal'] },
    '5': { en: ['hours', 'office hours', 'open', 'when are you open'], es: ['horario', 'horas', 'horario de oficina'] },
  },
  account: {
    ...GLOBAL,
    '1': { en: ['balance', 'my balance', 'how much do i owe', 'amount due'], es: ['saldo', 'mi saldo', 'cuánto debo', 'cuanto debo'] },
    '2': { en: ['payment history', 'payments', 'history', 'my payments'], es: ['historial', 'pagos', 'mis pagos', 'historial de pagos'] },
    '3': { en: ['case information', 'court date', 'court', 'appointment', 'appointments', 'case'], es: ['información del caso', 'corte', 'fecha de corte', 'cita', 'citas', 'caso'] },
    '4': { en: ['pay', 'payment', 'make a payment'], es: ['pagar', 'pago', 'hacer un pago'] },
    '5': { en: ['phone number', 'update my phone', 'forms', 'form', 'mail me a form'], es: ['teléfono', 'número de teléfono', 'formulario', 'formularios'] },
  },
  pin: {
    ...GLOBAL,
    '1': { en: ['forgot my pin', 'forgot', 'new pin', 'lost my pin', 'reset'], es: ['olvidé mi pin', 'olvidé', 'pin nuevo', 'perdí mi pin'] },
    '2': { en: ['change my pin', 'change', 'change pin'], es: ['cambiar mi pin', 'cambiar', 'cambiar el pin'] },
  },
  paymentInfo: {
    ...GLOBAL,
    '1': { en: ['check', 'money order', 'mailing address', 'address'], es: ['cheque', 'giro postal', 'dirección', 'dirección postal'] },
    '2': { en: ['card', 'credit card', 'debit card', 'automatic', 'automatic withdrawal'], es: ['tarjeta', 'tarjeta de crédito', 'tarjeta de débito', 'retiro automático', 'automático'] },
    '3': { en: ['credited', 'when are payments credited', 'crediting'], es: ['acreditan', 'cuándo se acreditan', 'acreditado'] },
    '4': { en: ['compromise', 'compromise of arrears', 'coap'], es: ['compromiso', 'compromiso de atrasos'] },
  },
  services: {
    ...GLOBAL,
    '1': { en: ['phone number', 'update my phone', 'phone', 'new number'], es: ['teléfono', 'número de teléfono', 'actualizar mi teléfono'] },
    '2': { en: ['form', 'forms', 'mail me a form'], es: ['formulario', 'formularios'] },
    '3': { en: ['recurring payments', 'automatic payments', 'register'], es: ['pagos automáticos', 'pagos recurrentes', 'inscribirme'] },
  },
  forms: {
    ...GLOBAL,
    '1': { en: ['change of address', 'address'], es: ['cambio de dirección', 'dirección'] },
    '2': { en: ['recurring payments', 'registration', 'automatic payments'], es: ['pagos automáticos', 'inscripción', 'pagos recurrentes'] },
    '3': { en: ['coupons', 'payment coupons'], es: ['cupones', 'cupones de pago'] },
  },
  history: {
    ...GLOBAL,
    '1': { en: ['more', 'more payments', 'next', 'continue'], es: ['más', 'mas', 'más pagos', 'siguiente', 'continuar'] },
  },
  recurring: {
    ...GLOBAL,
    '1': { en: ['mail it', 'send it', 'yes', 'mail me the information', 'registration information'], es: ['envíela', 'enviar', 'sí', 'si', 'mándela', 'información de inscripción'] },
  },
  navigation: GLOBAL,
} as const satisfies Record<string, Vocabulary>;

export type VocabularyId = keyof typeof VOCABULARIES;

/** Below this Twilio Confidence, speech is treated like a wrong key (asked again). */
export const MIN_CONFIDENCE = 0.5;

function normalise(text: string): string {
  return ` ${text.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9 ]+/g, ' ').replace(/\s+/g, ' ').trim()} `;
}

/**
 * The menu key a caller's words choose, or null: the longest phrase of the menu's vocabulary
 * found in what Twilio heard wins, so "my balance please" is 1 and "make a payment" is 2.
 */
export function keyForSpeech(vocabulary: VocabularyId, speech: string, confidence: number, language: Language): string | null {
  if (!Number.isFinite(confidence) || confidence < MIN_CONFIDENCE) return null;
  const heard = normalise(speech);
  let best: { key: string; length: number } | null = null;
  for (const [key, words] of Object.entries(VOCABULARIES[vocabulary] as Vocabulary)) {
    for (const phrase of words[language]) {
      const wanted = normalise(phrase);
      if (heard.includes(wanted) && (!best || wanted.length > best.length)) best = { key, length: wanted.length };
    }
  }
  return best?.key ?? null;
}

/** `<Gather hints>`: the menu's phrases in the caller's language. */
const hints = new Map<string, string>();

/** The phrases a menu listens for, as Twilio's `hints` attribute (computed once per menu and language). */
export function hintsFor(vocabulary: VocabularyId, language: Language): string {
  const key = `${vocabulary}:${language}`;
  let joined = hints.get(key);
  if (joined === undefined) {
    joined = Object.values(VOCABULARIES[vocabulary] as Vocabulary).flatMap((words) => words[language]).join(', ');
    hints.set(key, joined);
  }
  return joined;
}
