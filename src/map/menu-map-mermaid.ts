// The menu map as a Mermaid flowchart (docs/menus.mmd): the same nodes and ways as the SVG, laid
// out by whatever renders it (GitHub, mermaid.live). The ways out every menu has are one note.
import { everywhereText, takesOf, type MapNodeKind, type MenuMap } from './menu-map.ts';

const STYLE: Record<MapNodeKind, string> = {
  menu: 'fill:#e8f0fe,stroke:#8a94a6', entry: 'fill:#fff4d6,stroke:#8a94a6', transfer: 'fill:#e3f5e6,stroke:#8a94a6',
  pay: 'fill:#f1e6fb,stroke:#8a94a6', end: 'fill:#eeeeee,stroke:#8a94a6', stuck: 'fill:#ffd9d9,stroke:#c00',
};

export function menuMapMermaid(map: MenuMap): string {
  const id = (state: string) => {
    const name = state.replace(/\W/g, '_');
    return RESERVED.has(name.toLowerCase()) ? `state_${name}` : name;
  };
  const lines = [
    '%% Customer Connect: the phone menus, drawn from the machine (flows/line.ts) by `npm run map`. Do not edit by hand.',
    'flowchart LR',
    `  everywhere["${text(`From most states: ${everywhereText(map)}`)}"]`,
  ];
  for (const node of map.nodes) {
    const takes = takesOf(map, node.id);
    const label = [
      text(node.id),
      ...(node.title ? [`<b>${text(node.title.en)}</b>`, `<i>${text(node.title.es)}</i>`] : []),
      ...(takes.length ? [`takes: ${text(takes.join(' · '))}`] : []),
    ].join('<br/>');
    lines.push(`  ${id(node.id)}["${label}"]`);
  }
  const drawn = new Map<string, { from: string; to: string; on: string; whens: string[] }>();
  for (const edge of map.edges.filter((e) => !e.everywhere && e.from !== e.to)) {
    const key = `${edge.from}|${edge.to}|${edge.on}`;
    const way = drawn.get(key) ?? { from: edge.from, to: edge.to, on: edge.on, whens: [] };
    way.whens.push(edge.when.join(', '));
    drawn.set(key, way);
  }
  for (const way of drawn.values()) {
    const when = way.whens.includes('') ? '' : ` (${[...new Set(way.whens)].join(' / ')})`;
    lines.push(`  ${id(way.from)} -->|"${text(`${way.on}${when}`)}"| ${id(way.to)}`);
  }
  for (const kind of Object.keys(STYLE) as MapNodeKind[]) {
    const members = map.nodes.filter((node) => node.kind === kind).map((node) => id(node.id));
    if (!members.length) continue;
    lines.push(`  classDef ${kind}State ${STYLE[kind]}`);
    lines.push(`  class ${members.join(',')} ${kind}State`);
  }
  lines.push('  style everywhere fill:#ffffff,stroke:#999,stroke-dasharray:4 3');
  return `${lines.join('\n')}\n`;
}

/** Words Mermaid reads as its own, which a node cannot be called. */
const RESERVED = new Set(['end', 'graph', 'flowchart', 'subgraph', 'style', 'class', 'classdef', 'click', 'direction', 'default', 'linkstyle', 'everywhere']);

/**
 * Mermaid label text. A `#` that starts no entity code stays as it is ("9 digits #"); quotes and
 * angle brackets, which would end a label or open a tag, become their typographic look-alikes
 * rather than entity codes, which not every renderer decodes.
 */
function text(value: string): string {
  return value.replace(/#(?=\w+;)/g, '＃').replace(/"/g, '”').replace(/</g, '‹').replace(/>/g, '›');
}
