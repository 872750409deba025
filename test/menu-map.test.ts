// The menu map (src/map/, `npm run map`): drawn from the machine's definition, it names every
// state that waits for the caller, with titles in both languages, and the committed drawings are
// what the machine draws now.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { getStateNodes } from 'xstate/graph';
import { lineMachine } from '../flows/line.ts';
import { menuMapFiles } from '../src/map/menu-map-files.ts';
import { MENU_TITLES, menuMap, nodeId, titleText, waitOf, type MapEdge } from '../src/map/menu-map.ts';
import { parseXml, type XmlElement } from '../src/simulator/twiml-reader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATES = getStateNodes(lineMachine.root);
const WAITING = STATES.filter((node) => waitOf(node) !== null).map(nodeId);
const ENDS = STATES.filter((node) => node.type === 'final').map(nodeId);

describe('the menu map', () => {
  const map = menuMap();
  const from = (state: string) => map.edges.filter((edge) => edge.from === state);
  const ways = (edges: MapEdge[]) => edges.map((edge) => `${edge.on} → ${edge.to}${edge.when.length ? ` (${edge.when.join(', ')})` : ''}`);

  it('the committed docs/menus.svg and docs/menus.mmd are what `npm run map` draws from the machine now', async () => {
    for (const { path, text } of menuMapFiles()) {
      const committed = await readFile(`${ROOT}/${path}`, 'utf8').catch(() => '(missing)');
      // Compared as a boolean: a diff of two drawings says nothing a reader can use.
      expect(committed === text, `${path} differs from the machine: run \`npm run map\` and commit it`).to.equal(true);
    }
  });

  it('has a node for every state that waits for the caller and every end, and nothing else', () => {
    expect(WAITING.length).to.be.greaterThan(25);
    expect(map.nodes.map((node) => node.id).sort()).to.deep.equal([...WAITING, ...ENDS].sort());
    expect(map.nodes.filter((node) => node.kind === 'stuck')).to.deep.equal([]);
    expect(map.start).to.equal('language');
  });

  it('MENU_TITLES, the one table of titles, names exactly the states that wait or end', () => {
    expect(Object.keys(MENU_TITLES).sort()).to.deep.equal([...WAITING, ...ENDS].sort());
    for (const state of WAITING) expect(MENU_TITLES[state], state).to.be.an('array').that.is.not.empty;
  });

  it('every waiting state has a title in English and in Spanish, read from the catalog', () => {
    for (const node of map.nodes.filter((n) => WAITING.includes(n.id))) {
      expect(node.title, node.id).not.to.equal(null);
      expect(node.title?.en, node.id).to.match(/\w/);
      expect(node.title?.es, node.id).to.match(/\w/);
    }
    expect(map.nodes.find((node) => node.id === 'mainMenu')?.title).to.deep.equal({ en: 'Main menu.', es: 'Menú principal.' });
    // A menu's option, one sentence of the prompt that offers it.
    expect(titleText([{ id: 'account.options', sentence: 0 }], 'es')).to.equal('Para el detalle del saldo, oprima 1.');
    expect(() => titleText([{ id: 'main.title', sentence: 1 }], 'en')).to.throw('no sentence 1');
  });

  it('a title taken from a sentence of a menu\'s options names, in both languages, the key that leads there', () => {
    const fromOptions = Object.entries(MENU_TITLES).filter(([, sources]) => sources?.some((source) => typeof source !== 'string'));
    expect(fromOptions.length).to.be.greaterThan(5);
    for (const [state, sources] of fromOptions) {
      const en = titleText(sources ?? [], 'en').match(/\bpress (\d)\b/)?.[1];
      const es = titleText(sources ?? [], 'es').match(/\boprima (\d)\b/)?.[1];
      const keys = map.edges.filter((edge) => edge.to === state && edge.from !== state).map((edge) => edge.key);
      expect(en, state).to.equal(es);
      expect(keys, `${state}: its title says "press ${en}"`).to.include(en);
    }
  });

  it('the main menu: 1 to 5 and 0, read from its guards, lead where spec section 2 says', () => {
    const main = from('mainMenu');
    expect(main.filter((edge) => edge.key !== null).map((edge) => edge.key)).to.include.members(['1', '2', '3', '4', '5', '0', '9', '*']);
    expect(ways(main)).to.include.members([
      '1 → login.enterId (not logged in)',
      '1 → account.menu (logged in)',
      '2 → payment.enterId (not logged in)',
      '3 → pinHelp.menu',
      '4 → paymentInfo.menu',
      '5 → hours',
      '0 → transfer (office open)',
      '0 → mainMenu (office closed)',
      '* → mainMenu',
    ]);
  });

  it('follows hops and answers through to where the caller waits next: the PIN entry leads to the account menu or back', () => {
    expect(ways(from('login.enterPin'))).to.include.members([
      'digits # → account.menu',
      'digits # → changePin.enterNew (changing the PIN)',
      'digits # → login.retry',
      'digits # → mainMenu (last of 3 PIN tries)',
      '* → mainMenu',
      '* → pinHelp.menu (changing the PIN)',
    ]);
    expect(ways(from('payment.paying'))).to.include.members(['success → payment.receipt', 'caller-hung-up → ended', 'other results → payment.failed']);
    expect(ways(from('transfer'))).to.deep.equal(['completed, answered → ended', 'busy, no-answer, failed, canceled → mainMenu']);
  });

  it('the ways out every menu has (0, three failures) are marked, so a drawing can say them once', () => {
    const everywhere = ways(map.edges.filter((edge) => edge.everywhere && edge.from === 'account.menu'));
    expect(everywhere).to.include.members([
      '0 → transfer (office open)',
      'anything else → transfer (last of 3 tries, office open)',
      'silence → closed (last of 3 tries, office closed)',
    ]);
    expect(map.edges.filter((edge) => edge.everywhere && edge.key !== null && !['0', '9'].includes(edge.key))).to.deep.equal([]);
  });

  it('the SVG is one self-contained, well-formed document: a box per state, no script, nothing to fetch', () => {
    const svg = menuMapFiles().find((file) => file.path.endsWith('.svg'))?.text ?? '';
    const root = parseXml(svg);
    expect(root.name).to.equal('svg');
    const all = (element: XmlElement): XmlElement[] => [element, ...element.children.flatMap((child) => (child.type === 'element' ? all(child) : []))];
    const elements = all(root);
    expect(elements.map((element) => element.name)).not.to.include.members(['script', 'image', 'foreignObject', 'a']);
    expect(svg).not.to.match(/@import|@font-face|href=|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
    const boxes = elements.filter((element) => element.attributes.id?.startsWith('state-')).map((element) => element.attributes.id);
    expect(boxes.sort()).to.deep.equal(map.nodes.map((node) => `state-${node.id}`).sort());
  });

  it('`npm run map -- --check` passes on the committed files', async function () {
    this.timeout(30_000);
    const code = await new Promise<number>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'scripts/map.ts', '--check'], { cwd: ROOT, timeout: 30_000 }, (error) =>
        resolve(error ? (typeof error.code === 'number' ? error.code : -1) : 0));
    });
    expect(code).to.equal(0);
  });
});
