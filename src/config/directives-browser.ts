// nginx's browser module: modern_browser / ancient_browser and their _value directives, for the
// $modern_browser and $ancient_browser variables (api/browser.ts). A block with its own modern
// list (or `unlisted`) replaces its parent's; the same for the ancient list with netscape4.

import type { Directive } from './ast.js';
import type { BlockState } from './builders.js';
import { confError, type DirectiveRow } from './table.js';

/** The browsers nginx knows, in the order it tries them (Opera first: its UA may say MSIE). */
export const BROWSER_MASKS = [
  { browser: 'opera', skip: 0, name: 'Opera', add: 6 },
  { browser: 'msie', skip: 25, name: 'MSIE ', add: 5 },
  { browser: 'gecko', skip: 13, name: 'rv:', add: 3 },
  { browser: 'safari', skip: 13, name: 'Safari/', add: 7 },
  { browser: 'konqueror', skip: 25, name: 'Konqueror/', add: 10 },
] as const;

export interface ModernBrowser {
  /** Index in BROWSER_MASKS. */
  readonly mask: number;
  /** nginx's number: X.Y.Z.W as X*1e6 + Y*1e4 + Z*1e2 + W. */
  readonly version: number;
}

/** What a block writes. */
export interface BrowserSettings {
  modern?: ModernBrowser[];
  unlisted?: boolean;
  ancient?: string[];
  netscape4?: boolean;
  modernValue?: string;
  ancientValue?: string;
}

export interface BrowserConf {
  readonly modern: readonly ModernBrowser[] | null;
  readonly unlisted: boolean;
  readonly ancient: readonly string[] | null;
  readonly netscape4: boolean;
  readonly modernValue: string;
  readonly ancientValue: string;
}

export const BROWSER_DEFAULTS: BrowserConf = { modern: null, unlisted: false, ancient: null, netscape4: false, modernValue: '1', ancientValue: '1' };

/** An unreachable Opera version, added when the list has no Opera (nginx's 4001000000). */
const OPERA_NEVER: ModernBrowser = { mask: 0, version: 4001000000 };

export function mergeBrowser(parent: BrowserConf, own: BrowserSettings | undefined): BrowserConf {
  if (own === undefined) return parent;
  let { modern, unlisted, ancient, netscape4 } = parent;
  if (own.modern !== undefined || own.unlisted) {
    const list = own.modern === undefined ? null : [...own.modern];
    if (list !== null && !list.some((b) => b.mask === 0)) list.push(OPERA_NEVER);
    modern = list === null ? null : list.sort((a, b) => a.mask - b.mask);
    unlisted = own.unlisted === true;
  }
  if (own.ancient !== undefined || own.netscape4) {
    ancient = own.ancient ?? null;
    netscape4 = own.netscape4 === true;
  }
  return {
    modern, unlisted, ancient, netscape4,
    modernValue: own.modernValue ?? parent.modernValue, ancientValue: own.ancientValue ?? parent.ancientValue,
  };
}

function own(s: BlockState): BrowserSettings {
  return (s.settings!.browser ??= {});
}

/** nginx's version text: digits and dots only. */
function version(d: Directive, text: string): number {
  let v = 0;
  let part = 0;
  let scale = 1000000;
  for (const c of text) {
    if (c >= '0' && c <= '9') { part = part * 10 + Number(c); continue; }
    if (c === '.') { v += part * scale; part = 0; scale = Math.floor(scale / 100); continue; }
    throw confError('TRESTY_ERR_CONF_VALUE', `invalid browser version "${text}"`, d);
  }
  return v + part * scale;
}

const HSL = ['http', 'server', 'location'] as const;

export const browserDirectives: readonly DirectiveRow[] = [
  {
    name: 'modern_browser', contexts: HSL, args: [1, 2], multiple: true,
    apply(d, s) {
      const [name, ver] = d.args;
      if (ver === undefined) {
        // nginx fails here without a message of its own
        if (name !== 'unlisted') throw confError('TRESTY_ERR_CONF_VALUE', `"modern_browser" takes "unlisted" or a browser and its version, not "${name}" alone`, d);
        own(s).unlisted = true;
        return;
      }
      const mask = BROWSER_MASKS.findIndex((m) => m.browser === name.toLowerCase());
      if (mask < 0) throw confError('TRESTY_ERR_CONF_VALUE', `unknown browser name "${name}"`, d);
      (own(s).modern ??= []).push({ mask, version: version(d, ver) });
    },
  },
  {
    name: 'ancient_browser', contexts: HSL, args: [1, 64], multiple: true,
    apply(d, s) {
      for (const a of d.args) {
        if (a === 'netscape4') own(s).netscape4 = true;
        else (own(s).ancient ??= []).push(a);
      }
    },
  },
  { name: 'modern_browser_value', contexts: HSL, args: [1, 1], multiple: true, apply(d, s) { own(s).modernValue = d.args[0]; } },
  { name: 'ancient_browser_value', contexts: HSL, args: [1, 1], multiple: true, apply(d, s) { own(s).ancientValue = d.args[0]; } },
];
