// The menu map as one self-contained SVG (no fonts, scripts or links to fetch): a column per
// step from the greeting, a box per state with its titles in English and Spanish, arrows for the
// ways forward labelled with the key or entry, and the ways back written inside the box.
// Deterministic: the same map draws the same bytes.
import { everywhereText, takesOf, type MapEdge, type MapNode, type MapNodeKind, type MenuMap } from './menu-map.ts';

const MARGIN = 24;
const BOX_WIDTH = 270;
const GAP = 220;
const PAD = 8;
const PORT = 34;
const BOX_GAP = 22;
const TITLE_CHARS = 40;
const SMALL_CHARS = 46;
const LABEL_CHARS = 36;
const LINE = { id: 13, en: 15, es: 15, keys: 14, way: 13 } as const;

const FILL: Record<MapNodeKind, string> = {
  menu: '#e8f0fe', entry: '#fff4d6', transfer: '#e3f5e6', pay: '#f1e6fb', end: '#eeeeee', stuck: '#ffd9d9',
};
const KIND_NAME: Record<MapNodeKind, string> = {
  menu: 'menu (one key)', entry: 'digit entry (ends with #)', transfer: 'transfer to a representative', pay: 'card details in Twilio <Pay>',
  end: 'the call ends', stuck: 'neither waits nor ends (a defect)',
};

type Line = { text: string; kind: keyof typeof LINE };
/** Forward edges between the same two states on the same trigger, drawn as one arrow. */
type Arrow = { from: string; to: string; on: string; when: string };
type Box = { node: MapNode; column: number; lines: Line[]; height: number; x: number; y: number; out: Arrow[]; in: Arrow[] };

export function menuMapSvg(map: MenuMap): string {
  const particular = map.edges.filter((edge) => !edge.everywhere);
  const lastColumn = Math.max(0, ...map.nodes.filter(inColumns).map((node) => node.depth ?? 0)) + 1;
  const columnOf = (node: MapNode) => (inColumns(node) ? (node.depth ?? 0) : lastColumn);
  const nodes = new Map(map.nodes.map((node) => [node.id, node]));
  const column = (id: string) => columnOf(nodes.get(id) as MapNode);

  const arrows = merged(particular.filter((edge) => edge.to !== edge.from && column(edge.to) > column(edge.from)));
  const boxes = new Map<string, Box>();
  for (const node of map.nodes) {
    const mine = particular.filter((edge) => edge.from === node.id);
    const back = merged(mine.filter((edge) => edge.to !== node.id && column(edge.to) < column(node.id)));
    const across = merged(mine.filter((edge) => edge.to !== node.id && column(edge.to) === column(node.id)));
    const stays = merged(mine.filter((edge) => edge.to === node.id));
    const lines: Line[] = [
      { text: node.id, kind: 'id' },
      ...(node.title ? [...wrap(node.title.en, TITLE_CHARS).map((text) => ({ text, kind: 'en' as const })), ...wrap(node.title.es, TITLE_CHARS).map((text) => ({ text, kind: 'es' as const }))] : []),
      ...takesLines(map, node).map((text) => ({ text, kind: 'keys' as const })),
      ...back.flatMap((a) => wrap(`↩ ${a.on} → ${a.to}${a.when ? ` (${a.when})` : ''}`, SMALL_CHARS).map((text) => ({ text, kind: 'way' as const }))),
      ...across.flatMap((a) => wrap(`→ ${a.on} → ${a.to}${a.when ? ` (${a.when})` : ''}`, SMALL_CHARS).map((text) => ({ text, kind: 'way' as const }))),
      ...stays.flatMap((a) => wrap(`↻ ${a.on}${a.when ? ` (${a.when})` : ''}`, SMALL_CHARS).map((text) => ({ text, kind: 'way' as const }))),
    ];
    const out = arrows.filter((a) => a.from === node.id);
    const content = PAD * 2 + lines.reduce((sum, line) => sum + LINE[line.kind], 0);
    boxes.set(node.id, { node, column: columnOf(node), lines, height: Math.max(content, out.length * PORT + PAD), x: 0, y: 0, out, in: arrows.filter((a) => a.to === node.id) });
  }

  const legend = legendLines(map);
  const top = MARGIN + legend.length * 16 + 20;
  let height = top;
  for (let c = 0; c <= lastColumn; c++) {
    // Each box sits near the boxes that lead to it, so arrows cross less.
    const placed = (id: string) => { const box = boxes.get(id); return box && box.column < c ? box.y + box.height / 2 : null; };
    const centre = (box: Box) => {
      const ys = box.in.map((a) => placed(a.from)).filter((y): y is number => y !== null);
      return ys.length ? ys.reduce((sum, y) => sum + y, 0) / ys.length : Number.POSITIVE_INFINITY;
    };
    const order = map.nodes.map((node) => node.id);
    const inColumn = [...boxes.values()].filter((box) => box.column === c)
      .map((box) => ({ box, centre: centre(box) }))
      .sort((a, b) => a.centre - b.centre || order.indexOf(a.box.node.id) - order.indexOf(b.box.node.id));
    let y = top;
    for (const { box } of inColumn) {
      box.x = MARGIN + c * (BOX_WIDTH + GAP);
      box.y = y;
      y += box.height + BOX_GAP;
    }
    height = Math.max(height, y);
  }
  const width = MARGIN * 2 + (lastColumn + 1) * BOX_WIDTH + lastColumn * GAP;

  const parts: string[] = [];
  for (const box of boxes.values()) {
    const outs = [...box.out].sort((a, b) => yOf(boxes, a.to) - yOf(boxes, b.to) || a.on.localeCompare(b.on));
    outs.forEach((arrow, index) => {
      const target = boxes.get(arrow.to) as Box;
      const incoming = [...target.in].sort((a, b) => yOf(boxes, a.from) - yOf(boxes, b.from) || a.on.localeCompare(b.on));
      const x1 = box.x + BOX_WIDTH;
      const y1 = box.y + (box.height - outs.length * PORT) / 2 + PORT * (index + 0.5);
      const x2 = target.x;
      const y2 = target.y + (target.height * (incoming.indexOf(arrow) + 1)) / (incoming.length + 1);
      const bend = Math.min(GAP * 0.8, (x2 - x1) / 2);
      parts.push(`<path class="edge" d="M${n(x1)} ${n(y1)} C${n(x1 + bend)} ${n(y1)} ${n(x2 - bend)} ${n(y2)} ${n(x2 - 2)} ${n(y2)}"/>`);
      parts.push(`<text class="on" x="${n(x1 + 6)}" y="${n(y1 - 4)}">${escape(clip(arrow.on, LABEL_CHARS))}</text>`);
      if (arrow.when) parts.push(`<text class="when" x="${n(x1 + 6)}" y="${n(y1 + 11)}">${escape(clip(arrow.when, LABEL_CHARS + 6))}</text>`);
    });
  }
  const labels = parts.splice(0).reduce<{ edges: string[]; texts: string[] }>((acc, part) => {
    (part.startsWith('<path') ? acc.edges : acc.texts).push(part);
    return acc;
  }, { edges: [], texts: [] });

  const drawn: string[] = [];
  for (const box of boxes.values()) {
    drawn.push(`<g id="${escape(`state-${box.node.id}`)}" class="state ${box.node.kind}">`);
    drawn.push(`<rect x="${n(box.x)}" y="${n(box.y)}" width="${BOX_WIDTH}" height="${n(box.height)}" rx="6" fill="${FILL[box.node.kind]}"/>`);
    let y = box.y + PAD;
    for (const line of box.lines) {
      y += LINE[line.kind];
      drawn.push(`<text class="${line.kind}" x="${n(box.x + PAD)}" y="${n(y - 3)}">${escape(line.text)}</text>`);
    }
    drawn.push('</g>');
  }

  const legendSvg = legend.map((text, index) => `<text class="${index === 0 ? 'heading' : 'legend'}" x="${MARGIN}" y="${MARGIN + 14 + index * 16}">${escape(text)}</text>`);
  const swatches = (Object.keys(FILL) as MapNodeKind[]).filter((kind) => kind !== 'stuck' || map.nodes.some((node) => node.kind === 'stuck'));
  const key = swatches.map((kind, index) => {
    const x = width - MARGIN - 230;
    const y = MARGIN + index * 18;
    return `<rect x="${x}" y="${y}" width="14" height="12" rx="2" fill="${FILL[kind]}" stroke="#888"/><text class="legend" x="${x + 20}" y="${y + 10}">${escape(KIND_NAME[kind])}</text>`;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${n(height + MARGIN)}" viewBox="0 0 ${width} ${n(height + MARGIN)}" font-family="sans-serif">`,
    '<title>Customer Connect: the phone menus, drawn from flows/line.ts</title>',
    '<style>',
    '.edge{fill:none;stroke:#4a6fa5;stroke-width:1.2;marker-end:url(#arrow)}',
    'rect{stroke:#8a94a6;stroke-width:1}',
    'text{font-size:10.5px;fill:#222}',
    '.heading{font-size:15px;font-weight:bold}',
    '.legend{font-size:11.5px;fill:#333}',
    '.id{font-family:monospace;fill:#555}',
    '.en{font-size:12px;font-weight:bold}',
    '.es{font-size:12px;font-style:italic}',
    '.keys{fill:#1f3d7a}',
    '.way{fill:#444}',
    '.on,.when{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}',
    '.on{font-size:11px;font-weight:bold;fill:#1f3d7a}',
    '.when{font-size:10px;fill:#555}',
    '</style>',
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0 0 L8 4 L0 8 z" fill="#4a6fa5"/></marker></defs>',
    `<rect x="0" y="0" width="${width}" height="${n(height + MARGIN)}" fill="#fff" stroke="none"/>`,
    ...legendSvg,
    ...key,
    ...labels.edges,
    ...drawn,
    ...labels.texts,
    '</svg>',
    '',
  ].join('\n');
}

/** The ends (transfer, goodbye, hang-up) go in the last column, whatever leads to them. */
function inColumns(node: MapNode): boolean {
  return node.depth !== null && node.kind !== 'end' && node.kind !== 'transfer' && node.kind !== 'stuck';
}

function yOf(boxes: Map<string, Box>, id: string): number {
  return boxes.get(id)?.y ?? 0;
}

/** One arrow per (from, to, on); its conditions are the alternatives, unless one way has none. */
function merged(edges: readonly MapEdge[]): Arrow[] {
  const arrows = new Map<string, { from: string; to: string; on: string; whens: string[] }>();
  for (const edge of edges) {
    const key = `${edge.from}|${edge.to}|${edge.on}`;
    const arrow = arrows.get(key) ?? { from: edge.from, to: edge.to, on: edge.on, whens: [] };
    arrow.whens.push(edge.when.join(', '));
    arrows.set(key, arrow);
  }
  return [...arrows.values()].map(({ whens, ...arrow }) => ({ ...arrow, when: whens.includes('') ? '' : [...new Set(whens)].join(' / ') }));
}

function takesLines(map: MenuMap, node: MapNode): string[] {
  return node.kind === 'end' ? ['the call ends'] : wrap(`takes: ${takesOf(map, node.id).join(' · ')}`, SMALL_CHARS);
}

function legendLines(map: MenuMap): string[] {
  return [
    'Customer Connect: the phone menus, drawn from the machine (flows/line.ts) by `npm run map`. Do not edit by hand.',
    ...[
      'Columns: steps from the greeting. Each box: the state name the logs use, its title in English (bold) and Spanish (italic), and what it takes.',
      'Arrows: a key, an entry or an outcome, and where the caller waits next (through any steps that do not wait), with the conditions under it.',
      'In a box, ↩ a way back to an earlier column, → a way to a state in the same column, ↻ what keeps the caller where they are (a repeat, a notice).',
      `From most states, not drawn: ${everywhereText(map)}.`,
    ].flatMap((line) => wrap(line, 150)),
  ];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

const n = (value: number): string => String(Math.round(value * 10) / 10);

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
