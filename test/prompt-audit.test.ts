// How much a caller must listen to (scripts/prompt-audit.ts): the budgets, held on a real
// call to an in-process line, and the audit's own arithmetic.
import { expect } from 'chai';
import { catalog } from '../prompts/catalog.ts';
import {
  BUDGETS, LANGUAGES, WORDS_PER_MINUTE, auditPrompts, missingPlaceholders, mp3Seconds, overBudget, promptFigures, secondsFor, wordsIn,
  type Audit, type PathName,
} from '../scripts/prompt-audit.ts';
import type { Language } from '../prompts/speak.ts';

describe('prompt audit', () => {
  let audit: Audit;
  before(async function () {
    this.timeout(60_000);
    audit = await auditPrompts();
  });

  const path = (name: PathName, language: Language) => {
    const found = audit.paths.find((p) => p.name === name && p.language === language);
    if (!found) throw new Error(`no ${language} ${name} path`);
    return found;
  };
  const menu = (name: string, language: Language) => {
    const found = audit.menus.find((m) => m.name === name && m.language === language);
    if (!found) throw new Error(`no ${language} ${name} menu`);
    return found;
  };

  it('every path and every menu is within its budget', () => {
    expect(overBudget(audit)).to.deep.equal([]);
  });

  it("holds the issue's figures: the balance in 115 English and 135 Spanish words, <Pay> in 180 from the main menu, each menu in 45", () => {
    expect(path('balance', 'en').words).to.be.at.most(115);
    expect(path('balance', 'es').words).to.be.at.most(135);
    expect(path('pay', 'en').words, 'English, from the greeting').to.be.at.most(180);
    for (const language of LANGUAGES) {
      const fromMenu = path('pay', language).fromMainMenu;
      expect(fromMenu?.words, language).to.be.at.most(180);
      // From the main menu's title: the greeting, the language choice and the privacy notice are left out.
      const heard = path('pay', language).heard;
      expect(fromMenu?.words, language).to.equal(heard.slice(heard.findIndex((line) => line.id === 'main.title')).reduce((sum, line) => sum + line.words, 0));
    }
    expect(menu('main', 'en').words).to.be.at.most(45);
    expect(menu('account', 'en').words).to.be.at.most(45);
  });

  it('answers first: after the PIN the caller hears the figure, before any account menu', () => {
    for (const language of LANGUAGES) {
      const ids = path('balance', language).heard.map((line) => line.id);
      expect(ids.at(-2), language).to.equal('login.enterPin');
      expect(ids.at(-1), language).to.match(/^summary\./);
      expect(ids, language).not.to.include('account.title');
    }
    expect(path('balance', 'en').heard.at(-1)?.text).to.equal('You owe $1,684.56');
    expect(path('balance', 'es').heard.at(-1)?.text).to.equal('Usted debe 3012 dólares con 25 centavos');
  });

  it('walks each path to its end: <Pay>, the transfer, the hours', () => {
    for (const language of LANGUAGES) {
      expect(path('pay', language).heard.at(-1)?.id).to.equal('pay.cardNext');
      expect(path('representative', language).heard.at(-1)?.id).to.equal('agent.connecting');
      expect(path('hours', language).heard.at(-1)?.id).to.equal('hours.representatives');
      // The privacy notice is said once, after the language is chosen.
      for (const name of Object.keys(BUDGETS.paths) as PathName[]) {
        expect(path(name, language).heard.filter((line) => line.id === 'confidentiality'), `${language} ${name}`).to.have.length(1);
      }
    }
  });

  it('counts a path as the sum of what was said, at the documented rate', () => {
    for (const p of audit.paths) {
      expect(p.words).to.equal(p.heard.reduce((sum, line) => sum + line.words, 0));
      expect(p.seconds).to.equal(secondsFor(p.words, p.language));
    }
  });

  it('a path or a menu over its budget is reported', () => {
    const over = { ...path('balance', 'en'), words: BUDGETS.paths.balance.en + 1 };
    const long = { ...menu('main', 'es'), words: BUDGETS.menus.main.es + 3 };
    expect(overBudget({ paths: [over], menus: [long] })).to.deep.equal([
      `en path to the first figure of the balance: ${BUDGETS.paths.balance.en + 1} words, over its budget of ${BUDGETS.paths.balance.en}`,
      `es main menu: ${BUDGETS.menus.main.es + 3} words, over its budget of ${BUDGETS.menus.main.es}`,
    ]);
  });

  it('every prompt has its words and seconds in both languages', () => {
    for (const language of LANGUAGES) {
      const figures = promptFigures(language);
      expect(figures.map((f) => f.id)).to.deep.equal(Object.keys(catalog));
      for (const f of figures) {
        expect(f.words, `${language} ${f.id}`).to.be.greaterThan(0);
        expect(f.text, `${language} ${f.id}`).not.to.match(/\{\w+\}/);
      }
    }
  });

  it('no Spanish prompt lacks a placeholder its English twin has', () => {
    expect(missingPlaceholders(catalog)).to.deep.equal([]);
  });

  it('a Spanish prompt missing a placeholder is named', () => {
    const prompts = { 'pay.due': { en: 'On the case ending in {last4}, {amount} is due this month.', es: 'Vence este mes: {amount}.' } };
    expect(missingPlaceholders(prompts)).to.deep.equal(['pay.due: the Spanish prompt lacks {last4}']);
  });

  it('counts words as runs with a letter or a digit, and seconds at the rate', () => {
    expect(wordsIn('You owe $1,684.56 in all.')).to.equal(5);
    expect(wordsIn('  case ending in 3 4 5 6 — ok ')).to.equal(8);
    expect(wordsIn('')).to.equal(0);
    expect(secondsFor(WORDS_PER_MINUTE.en, 'en')).to.equal(60);
    expect(secondsFor(35, 'en')).to.equal(12);
  });

  it('times an MP3 from its frame headers, past an ID3 tag (for calibrating the rate)', () => {
    // 50 MPEG-2 Layer III frames at 24 kHz and 48 kbit/s: 576 samples, 144 bytes each.
    const frame = new Uint8Array(144);
    frame.set([0xff, 0xf3, 0x64, 0xc4]);
    const id3 = new Uint8Array(10 + 20);
    id3.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 20]);
    const mp3 = new Uint8Array(id3.length + 50 * frame.length);
    mp3.set(id3);
    for (let i = 0; i < 50; i++) mp3.set(frame, id3.length + i * frame.length);
    expect(mp3Seconds(mp3)).to.be.closeTo((50 * 576) / 24000, 1e-9);
    expect(mp3Seconds(new Uint8Array(100))).to.equal(0);
  });
});
