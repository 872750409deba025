// The simulated Twilio's TwiML reader: the part of XML that TwiML uses, read strictly, so a reply
// Twilio would reject fails here too.

export type XmlElement = { type: 'element'; name: string; attributes: Record<string, string>; children: XmlNode[] };
export type XmlText = { type: 'text'; text: string };
export type XmlNode = XmlElement | XmlText;

export class XmlSyntaxError extends Error {}

const NAME = /[A-Za-z_:][A-Za-z0-9_:.\-]*/y;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

class XmlReader {
  private pos = 0;
  constructor(private readonly src: string) {}

  document(): XmlElement {
    if (this.src.startsWith('<?xml') && /\s/.test(this.src.charAt(5))) this.skipUntil('?>', 'XML declaration');
    this.misc();
    if (this.pos >= this.src.length) this.fail('the document is empty');
    if (this.src.startsWith('<!DOCTYPE', this.pos)) this.fail('a DOCTYPE is not allowed in TwiML');
    if (this.src.charAt(this.pos) !== '<') this.fail('text before the root element');
    const root = this.element();
    this.misc();
    if (this.pos < this.src.length) this.fail('content after the root element');
    return root;
  }

  private fail(message: string): never {
    const line = this.src.slice(0, this.pos).split('\n').length;
    throw new XmlSyntaxError(`${message} (line ${line})`);
  }

  private skipUntil(terminator: string, what: string): void {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) this.fail(`unterminated ${what}`);
    this.pos = end + terminator.length;
  }

  private whitespace(): boolean {
    const start = this.pos;
    while (/[ \t\r\n]/.test(this.src.charAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private misc(): void {
    for (;;) {
      this.whitespace();
      if (this.src.startsWith('<!--', this.pos)) this.comment();
      else if (this.src.startsWith('<?xml', this.pos) && /[\s?]/.test(this.src.charAt(this.pos + 5))) this.fail('the XML declaration must come first');
      else if (this.src.startsWith('<?', this.pos)) this.skipUntil('?>', 'processing instruction');
      else return;
    }
  }

  private comment(): void {
    this.pos += 4;
    const end = this.src.indexOf('-->', this.pos);
    if (end < 0) this.fail('unterminated comment');
    if (this.src.slice(this.pos, end).includes('--')) this.fail('"--" inside a comment');
    this.pos = end + 3;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) this.fail(`expected a name at "${this.src.slice(this.pos, this.pos + 10)}"`);
    this.pos += match[0].length;
    return match[0];
  }

  private element(): XmlElement {
    this.pos++; // '<'
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const spaced = this.whitespace();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { type: 'element', name, attributes, children: [] };
      }
      if (this.src.charAt(this.pos) === '>') {
        this.pos++;
        break;
      }
      if (this.pos >= this.src.length) this.fail(`unterminated <${name}> tag`);
      if (!spaced) this.fail(`expected a space before an attribute in <${name}>`);
      const attribute = this.name();
      this.whitespace();
      if (this.src.charAt(this.pos) !== '=') this.fail(`attribute ${attribute} of <${name}> has no value`);
      this.pos++;
      this.whitespace();
      const quote = this.src.charAt(this.pos);
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attribute} of <${name}> is not quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value of attribute ${attribute}`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail(`"<" in the value of attribute ${attribute}`);
      if (Object.hasOwn(attributes, attribute)) this.fail(`attribute ${attribute} appears twice in <${name}>`);
      attributes[attribute] = this.decode(raw);
      this.pos = end + 1;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`<${name}> is never closed`);
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail(`</${closing}> closes <${name}>`);
        this.whitespace();
        if (this.src.charAt(this.pos) !== '>') this.fail(`malformed </${closing}>`);
        this.pos++;
        return { type: 'element', name, attributes, children };
      }
      if (this.src.startsWith('<!--', this.pos)) this.comment();
      else if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos);
        if (end < 0) this.fail('unterminated CDATA section');
        children.push({ type: 'text', text: this.src.slice(this.pos + 9, end) });
        this.pos = end + 3;
      } else if (this.src.startsWith('<?', this.pos)) this.skipUntil('?>', 'processing instruction');
      else if (this.src.charAt(this.pos) === '<') children.push(this.element());
      else {
        const end = this.src.indexOf('<', this.pos);
        const raw = this.src.slice(this.pos, end < 0 ? this.src.length : end);
        if (raw.includes(']]>')) this.fail('"]]>" in text');
        children.push({ type: 'text', text: this.decode(raw) });
        this.pos += raw.length;
      }
    }
  }

  private decode(raw: string): string {
    return raw.replace(/&([^;&\s<]*);?/g, (whole, entity: string) => {
      if (!whole.endsWith(';')) this.fail(`"&" must start an entity such as &amp; (found "${whole}")`);
      const named = NAMED_ENTITIES[entity];
      if (named !== undefined) return named;
      const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(entity);
      if (!numeric) this.fail(`unknown entity &${entity};`);
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2] ?? '', 10);
      if (!isXmlChar(code)) this.fail(`&${entity}; is not a character XML allows`);
      return String.fromCodePoint(code);
    });
  }
}

export function parseXml(source: string): XmlElement {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  return new XmlReader(text).document();
}

export function parseTwiml(source: string): XmlElement {
  const root = parseXml(source);
  if (root.name !== 'Response') throw new XmlSyntaxError(`the root element is <${root.name}>, TwiML needs <Response>`);
  for (const child of root.children) {
    if (child.type === 'text' && child.text.trim() !== '') throw new XmlSyntaxError(`text "${child.text.trim().slice(0, 40)}" directly inside <Response>`);
  }
  return root;
}

export function elementsOf(element: XmlElement): XmlElement[] {
  return element.children.filter((child): child is XmlElement => child.type === 'element');
}

// What a <Say> speaks: its text, with SSML <sub alias> read as the alias and <break> as a pause.
export function spokenText(node: XmlNode): string {
  if (node.type === 'text') return node.text;
  if (node.name === 'sub' && node.attributes.alias !== undefined) return node.attributes.alias;
  // <say-as> digits and telephone numbers are said one digit at a time, as the voice says them.
  const interpretAs = node.name === 'say-as' ? node.attributes['interpret-as'] : undefined;
  if (interpretAs === 'digits' || interpretAs === 'telephone') return node.children.map(spokenText).join('').replace(/\s+/g, '').split('').join(' ');
  if (node.name === 'break') return ' ';
  return node.children.map(spokenText).join('');
}
