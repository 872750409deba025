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
    en: 'For your balance and account, press 1. To pay by card, press 2. For PIN help, press 3. For our mailing address and payment options, press 4. For office hours, press 5.',
    es: 'Para su saldo y su cuenta, oprima 1. Para pagar con tarjeta, oprima 2. Para ayuda con su PIN, oprima 3. Para nuestra dirección postal y opciones de pago, oprima 4. Para el horario, oprima 5.',
  },
  'main.agentHint': { en: 'For a representative, press 0.', es: 'Para un representante, oprima 0.' },
  'menu.navigation': {
    en: 'To repeat, press 9. To go back, press star. For a representative, press 0.',
    es: 'Para repetir, oprima 9. Para regresar, oprima asterisco. Para un representante, oprima 0.',
  },
  'menu.repeatHint': { en: 'To repeat, press 9.', es: 'Para repetir, oprima 9.' },

  'retry.noInput': { en: "Sorry, I didn't hear a choice.", es: 'Perdón, no escuché ninguna opción.' },
  'retry.noInputAgain': {
    en: "I still didn't hear anything. Please use the keypad on your phone. If you need help, press 0 for a representative.",
    es: 'Todavía no escuché nada. Por favor use el teclado de su teléfono. Si necesita ayuda, oprima 0 para hablar con un representante.',
  },
  'retry.notUnderstood': { en: "Sorry, I didn't understand that.", es: 'Perdón, no entendí.' },
  'retry.notUnderstoodAgain': {
    en: "Sorry, I still didn't understand. You can also press the key for your choice. If you need help, press 0 for a representative.",
    es: 'Perdón, todavía no entendí. También puede oprimir la tecla de su opción. Si necesita ayuda, oprima 0 para hablar con un representante.',
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
    en: 'You can pay by debit or credit card on this line at any time: press 2 at the main menu. Card payments are free, need no registration, and can be made as many times as you like. You can also pay online at childsup.ca.gov. To have payments taken automatically from your bank account or card, register online at childsup.ca.gov. Registration is free, and a PIN is mailed to you once you are registered.',
    es: 'Puede pagar con tarjeta de débito o de crédito en esta línea en cualquier momento: oprima 2 en el menú principal. Los pagos con tarjeta son gratuitos, no requieren inscripción y puede hacerlos las veces que quiera. También puede pagar en línea en childsup.ca.gov. Para que sus pagos se retiren automáticamente de su cuenta bancaria o tarjeta, inscríbase en línea en childsup.ca.gov. La inscripción es gratuita, y le enviaremos un PIN por correo una vez inscrito.',
  },
  'payInfo.crediting': {
    en: 'A payment is credited on the date the State Disbursement Unit receives it, in Pacific time. A card payment is received the moment it is approved. A payment for this month that arrives after the last day of the month is credited to the next month, and interest may be charged on the unpaid amount. If you pay by mail, send your payment several days early.',
    es: 'Un pago se acredita en la fecha en que lo recibe la Unidad Estatal de Desembolsos, en hora del Pacífico. Un pago con tarjeta se recibe en el momento en que se aprueba. Un pago de este mes que llega después del último día del mes se acredita al mes siguiente, y se pueden cobrar intereses sobre la cantidad no pagada. Si paga por correo, envíe su pago con varios días de anticipación.',
  },
  'payInfo.coap': {
    en: 'In some cases where the child received public assistance, the law allows a parent to pay less than the total amount owed to the government. This is called a compromise of arrears. To find out whether you may qualify, visit childsup.ca.gov or speak with a representative.',
    es: 'En algunos casos en que el menor recibió asistencia pública, la ley permite que un padre o madre pague menos del total que le debe al gobierno. Esto se llama compromiso de atrasos. Para saber si usted podría calificar, visite childsup.ca.gov o hable con un representante.',
  },

  'entry.noInput': { en: "Sorry, I didn't hear any numbers.", es: 'Perdón, no escuché ningún número.' },
  'entry.noInputAgain': {
    en: "I still didn't hear anything. Enter the numbers on your phone's keypad, then press pound. To go back, press star.",
    es: 'Todavía no escuché nada. Marque los números en el teclado de su teléfono y luego oprima la tecla de número. Para regresar, oprima asterisco.',
  },

  'login.enterId': {
    en: 'Please enter your 10-digit participant ID or your 9-digit Social Security number, then press pound.',
    es: 'Por favor marque su número de participante de 10 dígitos o su número de Seguro Social de 9 dígitos, y luego oprima la tecla de número.',
  },
  'login.badLength': {
    en: 'That number does not have the right number of digits. A participant ID has 10 digits, and a Social Security number has 9.',
    es: 'Ese número no tiene la cantidad correcta de dígitos. El número de participante tiene 10 dígitos, y el número de Seguro Social tiene 9.',
  },
  'login.enterPin': { en: 'Now enter your PIN, then press pound.', es: 'Ahora marque su PIN y luego oprima la tecla de número.' },
  // One message for every failure: a wrong PIN, an unknown ID and a locked participant sound the same (spec section 4).
  'login.mismatch': {
    en: 'We could not verify that participant ID and PIN.',
    es: 'No pudimos verificar ese número de participante y ese PIN.',
  },
  'login.tooMany': {
    en: 'We could not verify your identity on this call. For help with your PIN, press 3. To speak with a representative, press 0.',
    es: 'No pudimos verificar su identidad en esta llamada. Para ayuda con su PIN, oprima 3. Para hablar con un representante, oprima 0.',
  },
  'identity.retryKeys': {
    en: 'To try again, press 1. For help with your PIN, press 3. To speak with a representative, press 0.',
    es: 'Para intentarlo otra vez, oprima 1. Para ayuda con su PIN, oprima 3. Para hablar con un representante, oprima 0.',
  },
  'identity.unavailable': {
    en: 'Account services by phone are not available right now. You can still hear payment options, our mailing address and office hours from the main menu.',
    es: 'Los servicios de cuenta por teléfono no están disponibles en este momento. Todavía puede escuchar las opciones de pago, nuestra dirección postal y el horario de oficina en el menú principal.',
  },
  'identity.unavailableAgent': {
    en: 'A representative can help you: press 0.',
    es: 'Un representante le puede ayudar: oprima 0.',
  },
  'login.limitThisCall': {
    en: 'You have reached the limit of PIN tries for this call. If you forgot your PIN, press 3 for PIN help.',
    es: 'Llegó al límite de intentos de PIN en esta llamada. Si olvidó su PIN, oprima 3 para ayuda con su PIN.',
  },
  // Said at once when a caller reaches their account, before the account menu: one sentence.
  'summary.owe': {
    en: 'You owe {total} in all, and {due} is due this month.',
    es: 'Usted debe {total} en total, y lo que vence este mes es {due}.',
  },
  'summary.received': {
    en: 'The last payment you received was {amount}, on {date}.',
    es: 'El último pago que usted recibió fue de {amount}, el {date}.',
  },
  'summary.noneReceived': {
    en: 'You have received no payments in the last 12 months.',
    es: 'Usted no ha recibido pagos en los últimos 12 meses.',
  },
  'summary.oweAndReceived': {
    en: 'You owe {total} in all, and {due} is due this month; the last payment you received was {amount}, on {date}.',
    es: 'Usted debe {total} en total, y lo que vence este mes es {due}; el último pago que usted recibió fue de {amount}, el {date}.',
  },
  'summary.oweAndNoneReceived': {
    en: 'You owe {total} in all, and {due} is due this month; you have received no payments in the last 12 months.',
    es: 'Usted debe {total} en total, y lo que vence este mes es {due}; usted no ha recibido pagos en los últimos 12 meses.',
  },

  'account.title': { en: 'Account menu.', es: 'Menú de su cuenta.' },
  'account.options': {
    en: 'For balance details, press 1. For payments, press 2. For case information and court dates, press 3. To pay, press 4. For your phone or forms, press 5.',
    es: 'Para el detalle del saldo, oprima 1. Para sus pagos, oprima 2. Para su caso y fechas de corte, oprima 3. Para pagar, oprima 4. Para su teléfono o formularios, oprima 5.',
  },

  'balance.none': { en: 'You have no open cases.', es: 'Usted no tiene casos abiertos.' },
  'balance.totalPaying': {
    en: 'On your {count} open cases where you pay support, the total balance is {amount}.',
    es: 'En sus {count} casos abiertos en los que usted paga manutención, el saldo total es de {amount}.',
  },
  'balance.totalReceiving': {
    en: 'On your {count} open cases where you receive support, the total balance owed is {amount}.',
    es: 'En sus {count} casos abiertos en los que usted recibe manutención, el saldo total que se debe es de {amount}.',
  },
  'balance.case': {
    en: 'For the case ending in {last4}, where you {role}: monthly support, {monthly}. Due this month, {due}. Past-due support, {principal}. Interest, {interest}. Total balance, {total}.',
    es: 'Para el caso que termina en {last4}, en el que usted {role}: manutención mensual, {monthly}. Vence este mes, {due}. Manutención atrasada, {principal}. Intereses, {interest}. Saldo total, {total}.',
  },
  'balance.credit': { en: 'This case also has a credit of {amount}.', es: 'Este caso también tiene un crédito de {amount}.' },
  'balance.moreCases': {
    en: 'You have {count} more open cases. A representative can tell you about them.',
    es: 'Usted tiene {count} casos abiertos más. Un representante le puede dar información sobre ellos.',
  },
  'role.paying': { en: 'pay support', es: 'paga manutención' },
  'role.receiving': { en: 'receive support', es: 'recibe manutención' },

  'history.intro': {
    en: 'Here are your payments from the last 12 months, newest first.',
    es: 'Estos son sus pagos de los últimos 12 meses, empezando por el más reciente.',
  },
  'history.none': { en: 'There are no payments in the last 12 months.', es: 'No hay pagos en los últimos 12 meses.' },
  'history.item': {
    en: 'On {date}, {amount} from {method}, case ending in {last4}.',
    es: 'El {date}, {amount} por {method}, caso que termina en {last4}.',
  },
  'history.more': { en: 'For more payments, press 1.', es: 'Para escuchar más pagos, oprima 1.' },
  'history.end': { en: 'That is all the payments in the last 12 months.', es: 'No hay más pagos en los últimos 12 meses.' },
  'method.wage-withholding': { en: 'wage withholding', es: 'retención de salario' },
  'method.check': { en: 'a check', es: 'cheque' },
  'method.money-order': { en: 'a money order', es: 'giro postal' },
  'method.card': { en: 'a card payment', es: 'pago con tarjeta' },
  'method.eft': { en: 'an electronic funds transfer', es: 'transferencia electrónica' },
  'method.cash': { en: 'a cash payment', es: 'pago en efectivo' },
  'method.tax-intercept': { en: 'a tax refund intercept', es: 'intercepción de reembolso de impuestos' },

  'caseInfo.none': { en: 'We have no cases on file for you.', es: 'No tenemos casos registrados a su nombre.' },
  'caseInfo.case': {
    en: 'Case number {caseNumber}, {county} County, {status}. You are the {party} on this case.',
    es: 'Caso número {caseNumber}, condado de {county}, {status}. En este caso, usted es {party}.',
  },
  'status.open': { en: 'open', es: 'abierto' },
  'status.closed': { en: 'closed', es: 'cerrado' },
  'party.paying': { en: 'paying parent', es: 'quien paga la manutención' },
  'party.receiving': { en: 'receiving parent', es: 'quien recibe la manutención' },
  'caseInfo.noAppointments': {
    en: 'You have no upcoming court dates or appointments.',
    es: 'Usted no tiene fechas de corte ni citas próximas.',
  },
  'caseInfo.appointmentsIntro': {
    en: 'Your upcoming court dates and appointments, soonest first:',
    es: 'Sus próximas fechas de corte y citas, empezando por la más cercana:',
  },
  'caseInfo.appointment': {
    en: '{kind} on {date}, at {time}, at {location}. {description}. Case ending in {last4}.',
    es: '{kind} el {date}, a {time}, en {location}. {description}. Caso que termina en {last4}.',
  },
  'kind.court-hearing': { en: 'A court hearing', es: 'Una audiencia en la corte' },
  'kind.appointment': { en: 'An appointment', es: 'Una cita' },

  'pin.title': { en: 'PIN help.', es: 'Ayuda con su PIN.' },
  'pin.options': {
    en: 'If you forgot your PIN, press 1, and a new PIN will be mailed to you. To change your PIN, press 2.',
    es: 'Si olvidó su PIN, oprima 1, y le enviaremos un PIN nuevo por correo. Para cambiar su PIN, oprima 2.',
  },
  'forgot.enterId': {
    en: 'Please enter your 10-digit participant ID, then press pound. You can find it on letters from us.',
    es: 'Por favor marque su número de participante de 10 dígitos y luego oprima la tecla de número. Lo encuentra en las cartas que le enviamos.',
  },
  'forgot.idLength': { en: 'A participant ID has 10 digits.', es: 'El número de participante tiene 10 dígitos.' },
  'forgot.enterSsn': {
    en: 'Now enter your 9-digit Social Security number, then press pound.',
    es: 'Ahora marque su número de Seguro Social de 9 dígitos y luego oprima la tecla de número.',
  },
  'forgot.ssnLength': { en: 'A Social Security number has 9 digits.', es: 'El número de Seguro Social tiene 9 dígitos.' },
  'forgot.mismatch': {
    en: 'We could not verify that participant ID and Social Security number.',
    es: 'No pudimos verificar ese número de participante y ese número de Seguro Social.',
  },
  'forgot.tooMany': {
    en: 'We could not verify your identity on this call. For help with your PIN, press 3. To speak with a representative, press 0.',
    es: 'No pudimos verificar su identidad en esta llamada. Para ayuda con su PIN, oprima 3. Para hablar con un representante, oprima 0.',
  },
  'forgot.limitThisCall': {
    en: 'You have reached the limit of tries for this call. A representative can help you.',
    es: 'Llegó al límite de intentos en esta llamada. Un representante le puede ayudar.',
  },
  'forgot.done': {
    en: 'Thank you. A new PIN will be mailed to the address we have on file. It should arrive within 7 to 10 days. Until you first use the new PIN, your current PIN keeps working. For your security, we never say a PIN on the phone.',
    es: 'Gracias. Le enviaremos un PIN nuevo por correo a la dirección que tenemos registrada. Debe llegar en un plazo de 7 a 10 días. Hasta que use el PIN nuevo por primera vez, su PIN actual sigue funcionando. Por su seguridad, nunca decimos un PIN por teléfono.',
  },
  'forgot.recent': {
    en: 'A new PIN was already mailed on {date}. It should arrive within 7 to 10 days of that date. You can ask for another new PIN 24 hours after the last one.',
    es: 'Ya le enviamos un PIN nuevo por correo el {date}. Debe llegar en un plazo de 7 a 10 días a partir de esa fecha. Puede pedir otro PIN nuevo 24 horas después del último.',
  },
  'change.intro': {
    en: 'To change your PIN, first we need to verify your identity with your current PIN.',
    es: 'Para cambiar su PIN, primero necesitamos verificar su identidad con su PIN actual.',
  },
  'change.enterNew': {
    en: 'Enter your new PIN, 4 to 8 digits, then press pound.',
    es: 'Marque su PIN nuevo, de 4 a 8 dígitos, y luego oprima la tecla de número.',
  },
  'change.reenter': { en: 'Enter your new PIN again, then press pound.', es: 'Marque su PIN nuevo otra vez y luego oprima la tecla de número.' },
  'change.length': { en: 'Your PIN must have 4 to 8 digits.', es: 'Su PIN debe tener de 4 a 8 dígitos.' },
  'change.same': { en: 'Your new PIN must be different from your current PIN.', es: 'Su PIN nuevo debe ser diferente de su PIN actual.' },
  'change.repeated': {
    en: 'Your PIN cannot be one digit repeated, like 1 1 1 1.',
    es: 'Su PIN no puede ser un solo dígito repetido, como 1 1 1 1.',
  },
  'change.run': {
    en: 'Your PIN cannot be digits in a row, like 1 2 3 4 or 9 8 7 6.',
    es: 'Su PIN no puede ser una serie de dígitos seguidos, como 1 2 3 4 o 9 8 7 6.',
  },
  'change.mismatch': {
    en: 'The two PINs you entered do not match. Let us start again.',
    es: 'Los dos PIN que marcó no coinciden. Empecemos de nuevo.',
  },
  'change.tooMany': {
    en: 'Your PIN was not changed. You can try again later, or speak with a representative.',
    es: 'Su PIN no se cambió. Puede intentarlo más tarde o hablar con un representante.',
  },
  'change.done': {
    en: 'Your PIN has been changed. Use your new PIN the next time you call.',
    es: 'Su PIN fue cambiado. Use su PIN nuevo la próxima vez que llame.',
  },

  'pay.intro': {
    en: 'Card payments are free, with no registration.',
    es: 'Pagar con tarjeta es gratis y sin inscripción.',
  },
  'pay.receivingOnly': {
    en: 'Our records show that you receive support on your open cases, so there is no payment for you to make on this line. Your balance and your payments are in the account information menu.',
    es: 'Nuestros registros indican que usted recibe manutención en sus casos abiertos, así que no tiene un pago que hacer en esta línea. Su saldo y sus pagos están en el menú de información de su cuenta.',
  },
  'pay.noOpenCase': {
    en: 'We did not find an open case on which you pay support, so we cannot take a payment on this line. A representative can help you.',
    es: 'No encontramos un caso abierto en el que usted pague manutención, así que no podemos recibir un pago en esta línea. Un representante le puede ayudar.',
  },
  'pay.chooseIntro': { en: 'You pay support on more than one case.', es: 'Usted paga manutención en más de un caso.' },
  'pay.chooseCase': { en: 'For the case ending in {last4}, press {key}.', es: 'Para el caso que termina en {last4}, oprima {key}.' },
  'pay.due': {
    en: 'On the case ending in {last4}, {amount} is due this month.',
    es: 'En el caso que termina en {last4}, lo que vence este mes es {amount}.',
  },
  'pay.enterAmount': {
    en: 'Enter the amount in dollars and cents, with no decimal point, then press pound. For $150.00, enter 1 5 0 0 0, then pound.',
    es: 'Marque la cantidad en dólares y centavos, sin punto decimal, y luego la tecla de número. Para 150 dólares, marque 1 5 0 0 0 y la tecla de número.',
  },
  'pay.belowMinimum': { en: 'The smallest payment we can take is {amount}.', es: 'El pago más pequeño que podemos recibir es de {amount}.' },
  'pay.aboveMaximum': {
    en: 'The largest payment we can take on this line is {amount}.',
    es: 'El pago más grande que podemos recibir en esta línea es de {amount}.',
  },
  'pay.amountTooMany': {
    en: 'We could not take that amount. A representative can help you.',
    es: 'No pudimos aceptar esa cantidad. Un representante le puede ayudar.',
  },
  'pay.confirm': { en: 'You entered {amount} for the case ending in {last4}.', es: 'Usted marcó {amount} para el caso que termina en {last4}.' },
  'pay.fee': {
    en: 'A fee of {fee} will be added, for a total charge of {charge}.',
    es: 'Se agregará un cargo de {fee}, para un total de {charge}.',
  },
  'pay.confirmKeys': { en: 'To confirm, press 1. To re-enter, press 2.', es: 'Para confirmar, oprima 1. Para volver a marcarla, oprima 2.' },
  'pay.cardNext': {
    en: 'Have your card ready. To stop at any time, press star.',
    es: 'Tenga su tarjeta a la mano. Para detenerse, oprima asterisco.',
  },
  'pay.prompt.cardNumber': { en: 'Please enter your card number, then press pound.', es: 'Por favor marque el número de su tarjeta y luego oprima la tecla de número.' },
  'pay.prompt.cardNumberInvalid': {
    en: 'That card number is not valid. Please enter it again, then press pound.',
    es: 'Ese número de tarjeta no es válido. Por favor márquelo otra vez y luego oprima la tecla de número.',
  },
  'pay.prompt.cardType': {
    en: 'We accept Visa, Mastercard, American Express and Discover. Please enter the number of one of those cards, then press pound.',
    es: 'Aceptamos Visa, Mastercard, American Express y Discover. Por favor marque el número de una de esas tarjetas y luego oprima la tecla de número.',
  },
  'pay.prompt.expiry': {
    en: 'Please enter the expiration date: 2 digits for the month, then 2 digits for the year, then press pound.',
    es: 'Por favor marque la fecha de vencimiento: 2 dígitos para el mes, luego 2 dígitos para el año, y luego oprima la tecla de número.',
  },
  'pay.prompt.expiryInvalid': {
    en: 'That expiration date is not valid. Please enter it again, then press pound.',
    es: 'Esa fecha de vencimiento no es válida. Por favor márquela otra vez y luego oprima la tecla de número.',
  },
  'pay.prompt.securityCode': {
    en: 'Please enter the security code from your card, then press pound.',
    es: 'Por favor marque el código de seguridad de su tarjeta y luego oprima la tecla de número.',
  },
  'pay.prompt.securityCodeInvalid': {
    en: 'That security code is not valid. Please enter it again, then press pound.',
    es: 'Ese código de seguridad no es válido. Por favor márquelo otra vez y luego oprima la tecla de número.',
  },
  'pay.prompt.postalCode': {
    en: 'Please enter the ZIP code of your billing address, then press pound.',
    es: 'Por favor marque el código postal de su dirección de facturación y luego oprima la tecla de número.',
  },
  'pay.prompt.timeout': { en: "Sorry, I didn't hear anything.", es: 'Perdón, no escuché nada.' },
  'pay.prompt.processing': { en: 'Please wait while we process your payment.', es: 'Por favor espere mientras procesamos su pago.' },
  'pay.approved': {
    en: 'Thank you. Your payment of {amount} with the card ending in {last4} was approved.',
    es: 'Gracias. Su pago de {amount} con la tarjeta que termina en {last4} fue aprobado.',
  },
  'pay.confirmation': { en: 'Your confirmation number is {code}.', es: 'Su número de confirmación es {code}.' },
  'pay.credited': { en: 'The payment is credited to your case on {date}.', es: 'El pago se acredita a su caso el {date}.' },
  'pay.receiptKeys': {
    en: 'To hear the confirmation number again, press 1. To go back, press star.',
    es: 'Para escuchar el número de confirmación otra vez, oprima 1. Para regresar, oprima asterisco.',
  },
  'pay.failed': {
    en: 'The payment did not go through, and nothing was charged to your card.',
    es: 'El pago no se realizó, y no se hizo ningún cargo a su tarjeta.',
  },
  'pay.retryKeys': {
    en: 'To try again, press 1. To speak with a representative, press 0. To go back, press star.',
    es: 'Para intentarlo otra vez, oprima 1. Para hablar con un representante, oprima 0. Para regresar, oprima asterisco.',
  },
  'pay.tooMany': {
    en: 'We could not take a card payment on this call. A representative can help you, or you can pay online at childsup.ca.gov.',
    es: 'No pudimos recibir un pago con tarjeta en esta llamada. Un representante le puede ayudar, o puede pagar en línea en childsup.ca.gov.',
  },
  'pay.unconfirmed': {
    en: 'Your payment of {amount} went through at our card processor, but we could not confirm it in our records yet. It will be recorded shortly, and you do not need to pay again. Please write down your confirmation number: {code}. Again, your confirmation number is {code}.',
    es: 'Su pago de {amount} se realizó con nuestro procesador de tarjetas, pero todavía no pudimos confirmarlo en nuestros registros. Se registrará en breve, y no necesita pagar otra vez. Por favor anote su número de confirmación: {code}. Otra vez, su número de confirmación es {code}.',
  },

  'services.title': { en: 'Services.', es: 'Servicios.' },
  'services.options': {
    en: 'To update your phone number, press 1. To get a form by mail, press 2. To learn how to register for recurring payments, press 3.',
    es: 'Para actualizar su número de teléfono, oprima 1. Para recibir un formulario por correo, oprima 2. Para saber cómo inscribirse para pagos automáticos, oprima 3.',
  },
  'phone.enter': {
    en: 'Enter your new 10-digit phone number, starting with the area code, then press pound.',
    es: 'Marque su nuevo número de teléfono de 10 dígitos, empezando con el código de área, y luego oprima la tecla de número.',
  },
  'phone.length': {
    en: 'That is not a phone number we can use. A phone number has 10 digits, starting with the area code.',
    es: 'Ese no es un número de teléfono que podamos usar. El número de teléfono tiene 10 dígitos, empezando con el código de área.',
  },
  'phone.readBack': { en: 'You entered {number}.', es: 'Usted marcó {number}.' },
  'phone.confirmKeys': {
    en: 'If that is right, press 1. To enter it again, press 2.',
    es: 'Si es correcto, oprima 1. Para marcarlo otra vez, oprima 2.',
  },
  'phone.saved': { en: 'Thank you. Your phone number has been updated.', es: 'Gracias. Su número de teléfono fue actualizado.' },
  'phone.onFile': {
    en: 'The phone number we have for you ends in {last4}.',
    es: 'El número de teléfono que tenemos registrado termina en {last4}.',
  },
  'phone.noneOnFile': { en: 'We do not have a phone number on file for you.', es: 'No tenemos un número de teléfono registrado para usted.' },
  'phone.limitCall': {
    en: 'You have already updated your phone number on this call.',
    es: 'Ya actualizó su número de teléfono en esta llamada.',
  },
  'phone.limitToday': {
    en: 'Your phone number has been updated several times today, so we cannot change it again by phone until tomorrow. A representative can help you.',
    es: 'Su número de teléfono se actualizó varias veces hoy, así que no podemos cambiarlo otra vez por teléfono hasta mañana. Un representante le puede ayudar.',
  },
  'forms.options': {
    en: 'For a change of address form, press 1. For information on registering for recurring payments, press 2. For payment coupons, press 3. Address changes cannot be taken by phone: mail us the change of address form.',
    es: 'Para el formulario de cambio de dirección, oprima 1. Para información sobre cómo inscribirse para pagos automáticos, oprima 2. Para cupones de pago, oprima 3. Los cambios de dirección no se pueden hacer por teléfono: envíenos por correo el formulario de cambio de dirección.',
  },
  'forms.queued': {
    en: 'Thank you. We will mail it to the address we have on file, in {city}, ZIP code {zip}. It should arrive within 7 to 10 days.',
    es: 'Gracias. Se lo enviaremos por correo a la dirección que tenemos registrada, en {city}, código postal {zip}. Debe llegar en un plazo de 7 a 10 días.',
  },
  'recurring.info': {
    en: 'You can have your child support payments taken automatically each month from your bank account or card. Register online at childsup.ca.gov. Registration is free, and once you are registered, a PIN is mailed to you.',
    es: 'Puede hacer que sus pagos de manutención se retiren automáticamente cada mes de su cuenta bancaria o de su tarjeta. Inscríbase en línea en childsup.ca.gov. La inscripción es gratuita, y una vez inscrito, le enviaremos un PIN por correo.',
  },
  'recurring.offer': {
    en: 'To have the registration information mailed to you, press 1.',
    es: 'Para que le enviemos por correo la información de inscripción, oprima 1.',
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
