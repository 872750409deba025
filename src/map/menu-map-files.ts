// What `npm run map` writes, by path from the repository root: one list for the script and the
// test that fails when the committed files fall behind the machine.
import { menuMapMermaid } from './menu-map-mermaid.ts';
import { menuMapSvg } from './menu-map-svg.ts';
import { menuMap } from './menu-map.ts';

export function menuMapFiles(): { path: string; text: string }[] {
  const map = menuMap();
  return [
    { path: 'docs/menus.svg', text: menuMapSvg(map) },
    { path: 'docs/menus.mmd', text: menuMapMermaid(map) },
  ];
}
