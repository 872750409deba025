// A queued letter as the print-and-mail job prints it: plain text in the participant's language,
// from the agency's return address to the name and address on file, dated in Pacific time. A
// PIN letter's PIN is decrypted here and nowhere else, and only ever ends up on the page.
import type { MailedForm, QueuedLetter } from './outbox.ts';
import type { Language, MailingAddress } from './caseload.ts';
import { pacificTime } from './hours.ts';
import { decryptForLetter } from './pin.ts';

export const RETURN_ADDRESS = [
  'California Department of Child Support Services',
  'P.O. Box 419064',
  'Rancho Cordova, CA 95741-9064',
] as const;

export const CUSTOMER_CONNECT_NUMBER = '1-866-901-3212';
const PAYMENTS_ADDRESS = ['California State Disbursement Unit', 'P.O. Box 989067', 'West Sacramento, CA 95798'];

const WIDTH = 72;

/** A paragraph is wrapped to the page; a list of lines is an indented block, kept as it is (an address, the PIN). */
type Paragraph = string | readonly string[];

type LetterText = {
  date(year: number, month: number, day: number): string;
  participant(lastDigits: string): string;
  subject(subject: string): string;
  greeting(name: string): string;
  pin: { subject: string; intro: string; howTo: readonly Paragraph[]; securityHeading: string; security: readonly Paragraph[] };
  forms: Record<MailedForm, { enclosed: string; body: readonly Paragraph[] }>;
  enclosure: string;
  closing: string;
  signature: string;
};

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ES_MONTHS = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'];

const TEXT: Record<Language, LetterText> = {
  en: {
    date: (year, month, day) => `${EN_MONTHS[month - 1]} ${day}, ${year}`,
    participant: (lastDigits) => `Participant ID: ending in ${lastDigits}`,
    subject: (subject) => `Re: ${subject}`,
    greeting: (name) => `Dear ${name}:`,
    pin: {
      subject: 'Your new Customer Connect PIN',
      intro: 'You asked for a new PIN (personal identification number) for Customer Connect, the California child support phone line. Your new PIN is:',
      howTo: [
        `To use it, call Customer Connect at ${CUSTOMER_CONNECT_NUMBER}, press 1 for English, then 1 for account information. Enter your participant ID or Social Security number and press pound~(#), then enter this PIN and press pound~(#).`,
        'Your old PIN no longer works. To choose a PIN of your own, call Customer Connect and press 3 for PIN help, then 2 to change your PIN.',
      ],
      securityHeading: 'Keep your PIN safe',
      security: [
        'Do not share your PIN with anyone. Customer Connect never says your PIN aloud, and our staff will never ask you for it.',
        'Once you have memorized your PIN, shred this letter.',
        `If you did not ask for a new PIN, call Customer Connect at ${CUSTOMER_CONNECT_NUMBER} and press 0 to speak with a representative, Monday through Friday, 7:00 AM to 8:00 PM Pacific time.`,
      ],
    },
    forms: {
      'change-of-address': {
        enclosed: 'Change of Address form',
        body: [
          'Enclosed is the Change of Address form you asked for on Customer Connect. We cannot take an address change by phone.',
          'Fill out the form, sign it, and mail it to us at the return address at the top of this letter. Until we receive it, we will keep mailing letters to the address this letter was sent to.',
        ],
      },
      'recurring-payment-registration': {
        enclosed: 'Recurring payment registration information',
        body: [
          'Enclosed is the information on registering for recurring payments that you asked for on Customer Connect.',
          'You can have your child support payments taken automatically each month from your bank account or card. Register online at childsup.ca.gov. Registration is free, and once you are registered, a PIN is mailed to you.',
        ],
      },
      'payment-coupons': {
        enclosed: 'Payment coupons',
        body: [
          'Enclosed are the payment coupons you asked for on Customer Connect. Send one coupon with each check or money order to:',
          PAYMENTS_ADDRESS,
          'That address is for payments only. Write your participant ID and case number on each check or money order.',
        ],
      },
    },
    enclosure: 'Enclosure',
    closing: 'Sincerely,',
    signature: 'California Department of Child Support Services',
  },
  es: {
    date: (year, month, day) => `${day} de ${ES_MONTHS[month - 1]} de ${year}`,
    participant: (lastDigits) => `Número de participante: termina en ${lastDigits}`,
    subject: (subject) => `Asunto: ${subject}`,
    greeting: (name) => `Estimado(a) ${name}:`,
    pin: {
      subject: 'Su nuevo PIN de Customer Connect',
      intro: 'Usted pidió un nuevo PIN (número de identificación personal) para Customer Connect, la línea telefónica de manutención de menores de California. Su nuevo PIN es:',
      howTo: [
        `Para usarlo, llame a Customer Connect al ${CUSTOMER_CONNECT_NUMBER}, oprima 2 para español y luego 1 para la información de su cuenta. Marque su número de participante o su número de Seguro Social y oprima la tecla de número~(#); después marque este PIN y oprima la tecla de número~(#).`,
        'Su PIN anterior ya no funciona. Para elegir su propio PIN, llame a Customer Connect y oprima 3 para ayuda con su PIN, y luego 2 para cambiar su PIN.',
      ],
      securityHeading: 'Proteja su PIN',
      security: [
        'No comparta su PIN con nadie. Customer Connect nunca dice su PIN en voz alta, y nuestro personal nunca se lo pedirá.',
        'Cuando haya memorizado su PIN, destruya esta carta.',
        `Si usted no pidió un nuevo PIN, llame a Customer Connect al ${CUSTOMER_CONNECT_NUMBER} y oprima 0 para hablar con un representante, de lunes a viernes, de 7:00 a. m. a 8:00 p. m., hora del Pacífico.`,
      ],
    },
    forms: {
      'change-of-address': {
        enclosed: 'Formulario de cambio de dirección',
        body: [
          'Adjunto encontrará el formulario de cambio de dirección que pidió en Customer Connect. No podemos hacer cambios de dirección por teléfono.',
          'Llene el formulario, fírmelo y envíenoslo por correo a la dirección del remitente que aparece al principio de esta carta. Hasta que lo recibamos, le seguiremos enviando las cartas a la dirección a la que le enviamos esta.',
        ],
      },
      'recurring-payment-registration': {
        enclosed: 'Información de inscripción para pagos automáticos',
        body: [
          'Adjunto encontrará la información que pidió en Customer Connect sobre cómo inscribirse para pagos automáticos.',
          'Puede hacer que sus pagos de manutención se retiren automáticamente cada mes de su cuenta bancaria o de su tarjeta. Inscríbase en línea en childsup.ca.gov. La inscripción es gratuita, y una vez inscrito, le enviaremos un PIN por correo.',
        ],
      },
      'payment-coupons': {
        enclosed: 'Cupones de pago',
        body: [
          'Adjunto encontrará los cupones de pago que pidió en Customer Connect. Envíe un cupón con cada cheque o giro postal a:',
          PAYMENTS_ADDRESS,
          'Esa dirección es solo para pagos. Escriba su número de participante y su número de caso en cada cheque o giro postal.',
        ],
      },
    },
    enclosure: 'Anexo',
    closing: 'Atentamente,',
    signature: 'Departamento de Servicios de Manutención de Menores de California',
  },
};

// In the texts above, `~` is a space the page must not break at.
function wrap(paragraph: string, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(' ').filter(Boolean).map((w) => w.replaceAll('~', ' '))) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function paragraphs(items: readonly Paragraph[]): string[] {
  return items.flatMap((item, i) => [...(i > 0 ? [''] : []), ...(typeof item === 'string' ? wrap(item) : item.map((l) => `    ${l}`))]);
}

function addressLines(address: MailingAddress): string[] {
  return [address.line1, ...(address.line2 ? [address.line2] : []), `${address.city}, ${address.state} ${address.zip}`];
}

export type RenderOptions = {
  /** PIN_LETTER_KEY: opens a PIN letter's sealed PIN. */
  pinLetterKey: string;
  /** The day the letter is printed; written as the Pacific calendar date. */
  date: Date;
};

/** The letter as text, ready to print; throws for a PIN letter whose PIN is gone (it was sent already). */
export function renderLetter(letter: QueuedLetter, { pinLetterKey, date }: RenderOptions): string {
  const text = TEXT[letter.language];
  const { year, month, day } = pacificTime(date);
  let subject: string;
  let body: string[];
  let enclosed: string | null = null;
  if (letter.kind === 'pin-reset') {
    if (letter.encryptedPin === null) throw new Error(`letter ${letter.letterId} has no PIN left to print: it was sent already`);
    const pin = decryptForLetter(letter.encryptedPin, pinLetterKey);
    subject = text.pin.subject;
    body = [
      ...paragraphs([text.pin.intro, [pin], ...text.pin.howTo]),
      '',
      text.pin.securityHeading,
      ...paragraphs(text.pin.security),
    ];
  } else {
    const form = text.forms[letter.form];
    subject = form.enclosed;
    body = paragraphs(form.body);
    enclosed = form.enclosed;
  }
  return [
    ...RETURN_ADDRESS,
    '',
    text.date(year, month, day),
    '',
    letter.name,
    ...addressLines(letter.address),
    '',
    text.participant(letter.participantId.slice(-4)),
    text.subject(subject),
    '',
    text.greeting(letter.name),
    '',
    ...body,
    '',
    text.closing,
    text.signature,
    ...(enclosed ? ['', `${text.enclosure}: ${enclosed}`] : []),
    '',
    `Ref. ${letter.letterId}`,
    '',
  ].join('\n');
}
