// What the line says, keyed by id, both languages side by side. `{name}` is filled from the
// utterance's values (money, dates and digits are spelled out per language by prompts/speak.ts).
// test/prompts.test.ts fails if any id lacks a language or a placeholder differs between them.

export const catalog = {
  greeting: {
    en: 'Thank you for calling California Child Support Customer Connect.',
    es: 'Gracias por llamar a Customer Connect, la línea de Servicios de Manutención de Menores de California.',
  },
  confidentiality: {
    en: 'To protect your privacy, we give information only about your own case.',
    es: 'Para proteger su privacidad, solo damos información sobre su propio caso.',
  },
  'language.english': { en: 'For English, press 1.', es: 'For English, press 1.' },
  'language.spanish': { en: 'Para español, oprima 2.', es: 'Para español, oprima 2.' },

  'main.title': { en: 'Main menu.', es: 'Menú principal.' },
  'main.options': {
    en: 'For payment options and our mailing address, press 4. For office hours and other ways to reach us, press 5. To speak with a representative, press 0.',
    es: 'Para opciones de pago y nuestra dirección postal, oprima 4. Para el horario de oficina y otras formas de comunicarse con nosotros, oprima 5. Para hablar con un representante, oprima 0.',
  },
  'menu.navigation': {
    en: 'To hear this again, press 9. To go back, press star. To speak with a representative, press 0.',
    es: 'Para escuchar esto otra vez, oprima 9. Para regresar, oprima asterisco. Para hablar con un representante, oprima 0.',
  },
  'menu.repeatHint': { en: 'To hear these choices again, press 9.', es: 'Para escuchar estas opciones otra vez, oprima 9.' },

  'retry.noInput': { en: "Sorry, I didn't hear a choice.", es: 'Perdón, no escuché ninguna opción.' },
  'retry.noInputAgain': {
    en: "I still didn't hear anything. Please use the keypad on your phone. If you need help, press 0 for a representative.",
    es: 'Todavía no escuché nada. Por favor use el teclado de su teléfono. Si necesita ayuda, oprima 0 para hablar con un representante.',
  },
  'retry.invalid': { en: "Sorry, that key isn't one of the choices.", es: 'Perdón, esa tecla no es una de las opciones.' },
  'retry.invalidAgain': {
    en: "That key still isn't one of the choices. Please listen to the whole list, then press the key for your choice. If you need help, press 0 for a representative.",
    es: 'Esa tecla todavía no es una de las opciones. Por favor escuche la lista completa y luego oprima la tecla de su opción. Si necesita ayuda, oprima 0 para hablar con un representante.',
  },
  'retry.giveUpTransfer': {
    en: "We're having trouble understanding your choice.",
    es: 'Tenemos dificultad para entender su opción.',
  },
  'retry.giveUpClosed': {
    en: "We're having trouble understanding your choice, and representatives are not available right now.",
    es: 'Tenemos dificultad para entender su opción, y en este momento no hay representantes disponibles.',
  },

  'hours.representatives': {
    en: 'Representatives are available Monday through Friday, from 7:00 AM to 8:00 PM Pacific time, except California state holidays.',
    es: 'Los representantes atienden de lunes a viernes, de 7 de la mañana a 8 de la noche, hora del Pacífico, excepto los días festivos del estado de California.',
  },
  'hours.selfService': {
    en: 'This automated line is open 24 hours a day, 7 days a week.',
    es: 'Esta línea automatizada está disponible las 24 horas del día, los 7 días de la semana.',
  },
  'hours.otherWays': {
    en: 'You can also see your case and make payments online at any time at childsup.ca.gov. If you are deaf or hard of hearing, dial 7 1 1 for the California Relay Service and ask for 1 8 6 6, 9 0 1, 3 2 1 2.',
    es: 'También puede ver su caso y hacer pagos en línea en cualquier momento en childsup.ca.gov. Si es una persona sorda o con problemas de audición, marque 7 1 1 para el Servicio de Retransmisión de California y pida el número 1 8 6 6, 9 0 1, 3 2 1 2.',
  },

  'agent.connecting': {
    en: 'Please stay on the line while we connect you with a representative.',
    es: 'Por favor permanezca en la línea mientras lo comunicamos con un representante.',
  },
  'agent.closed': {
    en: 'Representatives are not available right now.',
    es: 'En este momento no hay representantes disponibles.',
  },
  'agent.unreached': {
    en: 'We could not reach a representative just now. Please try again in a few minutes.',
    es: 'No pudimos comunicarlo con un representante en este momento. Por favor intente de nuevo en unos minutos.',
  },
  'agent.returning': { en: 'Returning to the main menu.', es: 'Regresando al menú principal.' },

  'payInfo.title': { en: 'Payment options and mailing address.', es: 'Opciones de pago y dirección postal.' },
  'payInfo.options': {
    en: 'To pay by check or money order, and for our mailing address, press 1. To pay by card or automatic withdrawal, press 2. To learn when payments are credited, press 3. To learn about the compromise of arrears program, press 4.',
    es: 'Para pagar con cheque o giro postal, y para nuestra dirección postal, oprima 1. Para pagar con tarjeta o con retiro automático, oprima 2. Para saber cuándo se acreditan los pagos, oprima 3. Para información sobre el programa de compromiso de atrasos, oprima 4.',
  },
  'payInfo.check': {
    en: 'Mail checks and money orders, for payments only, to: California State Disbursement Unit, P.O. Box 9 8 9 0 6 7, West Sacramento, California, 9 5 7 9 8. Again: P.O. Box 9 8 9 0 6 7, West Sacramento, California, 9 5 7 9 8. Write your participant ID and your case number on every check or money order. Please do not mail cash.',
    es: 'Envíe cheques y giros postales, solo para pagos, a: California State Disbursement Unit, P.O. Box 9 8 9 0 6 7, West Sacramento, California, 9 5 7 9 8. Otra vez: P.O. Box 9 8 9 0 6 7, West Sacramento, California, 9 5 7 9 8. Escriba su número de participante y su número de caso en cada cheque o giro postal. Por favor no envíe dinero en efectivo.',
  },
  'payInfo.card': {
    en: 'You can pay by debit or credit card online at childsup.ca.gov. Card payments are free, need no registration, and can be made as many times as you like. To have payments taken automatically from your bank account or card, register online at childsup.ca.gov. Registration is free, and a PIN is mailed to you once you are registered.',
    es: 'Puede pagar con tarjeta de débito o de crédito en línea en childsup.ca.gov. Los pagos con tarjeta son gratuitos, no requieren inscripción y puede hacerlos las veces que quiera. Para que sus pagos se retiren automáticamente de su cuenta bancaria o tarjeta, inscríbase en línea en childsup.ca.gov. La inscripción es gratuita, y le enviaremos un PIN por correo una vez inscrito.',
  },
  'payInfo.crediting': {
    en: 'A payment is credited on the date the State Disbursement Unit receives it, in Pacific time. A card payment is received the moment it is approved. A payment for this month that arrives after the last day of the month is credited to the next month, and interest may be charged on the unpaid amount. If you pay by mail, send your payment several days early.',
    es: 'Un pago se acredita en la fecha en que lo recibe la Unidad Estatal de Desembolsos, en hora del Pacífico. Un pago con tarjeta se recibe en el momento en que se aprueba. Un pago de este mes que llega después del último día del mes se acredita al mes siguiente, y se pueden cobrar intereses sobre la cantidad no pagada. Si paga por correo, envíe su pago con varios días de anticipación.',
  },
  'payInfo.coap': {
    en: 'In some cases where the child received public assistance, the law allows a parent to pay less than the total amount owed to the government. This is called a compromise of arrears. To find out whether you may qualify, visit childsup.ca.gov or speak with a representative.',
    es: 'En algunos casos en que el menor recibió asistencia pública, la ley permite que un padre o madre pague menos del total que le debe al gobierno. Esto se llama compromiso de atrasos. Para saber si usted podría calificar, visite childsup.ca.gov o hable con un representante.',
  },

  goodbye: { en: 'Thank you for calling. Goodbye.', es: 'Gracias por llamar. Adiós.' },
  'error.transfer': {
    en: "We're sorry, something went wrong on our side. Please stay on the line while we connect you with a representative.",
    es: 'Lo sentimos, tuvimos un problema de nuestro lado. Por favor permanezca en la línea mientras lo comunicamos con un representante.',
  },
  'error.closed': {
    en: "We're sorry, something went wrong on our side, and we cannot help you on this line right now. Please call again later.",
    es: 'Lo sentimos, tuvimos un problema de nuestro lado y no podemos atenderle en esta línea en este momento. Por favor llame más tarde.',
  },
} as const satisfies Record<string, { en: string; es: string }>;

export type PromptId = keyof typeof catalog;
