// nginx's browser module: modern_browser / ancient_browser (and their _value), $modern_browser,
// $ancient_browser and $msie, for 20 User-Agents x 4 locations. The expectations are what nginx
// 1.22 answered (observed, written here); the same requests run on both engines and on nginx.
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';

const OBSERVED: Array<[string, string | null, string]> = [
  ["a", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "m=[1] a=[] msie=[1]"],
  ["a", "Mozilla/4.0 (compatible; MSIE 5.0; Windows NT 5.1)", "m=[] a=[1] msie=[1]"],
  ["a", "Mozilla/4.0 (compatible; MSIE 5.5; Windows)", "m=[1] a=[] msie=[1]"],
  ["a", "Mozilla/4.0 (compatible; MSIE 5.51; Windows)", "m=[1] a=[] msie=[1]"],
  ["a", "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.0) Gecko/20020610", "m=[1] a=[] msie=[]"],
  ["a", "Mozilla/5.0 (X11; rv:0.9.4) Gecko/2001", "m=[] a=[1] msie=[]"],
  ["a", "Opera/9.01 (X11; FreeBSD 6 i386; U; en)", "m=[] a=[1] msie=[]"],
  ["a", "Mozilla/4.0 (compatible; MSIE 6.0; X11) Opera 7.50  [en]", "m=[] a=[1] msie=[]"],
  ["a", "Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/418 (KHTML, like Gecko) Safari/417.9.3", "m=[1] a=[] msie=[]"],
  ["a", "Mozilla/5.0 (compatible; Konqueror/3.4; Linux) KHTML/3.4.2 (like Gecko)", "m=[] a=[1] msie=[]"],
  ["a", "Mozilla/5.0 (compatible; Konqueror/3.4.2; Linux)", "m=[] a=[1] msie=[]"],
  ["a", "Mozilla/4.72 [en] (X11)", "m=[] a=[1] msie=[]"],
  ["a", "Mozilla/3.0", "m=[] a=[1] msie=[]"],
  ["a", "Lynx/2.8", "m=[] a=[1] msie=[]"],
  ["a", "Wget/1.2", "m=[] a=[1] msie=[]"],
  ["a", "curl/8", "m=[] a=[1] msie=[]"],
  ["a", "MSIE 6.", "m=[] a=[1] msie=[]"],
  ["a", "xMSIE 7.0 abc", "m=[] a=[1] msie=[1]"],
  ["a", "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "m=[1] a=[] msie=[]"],
  ["a", null, "m=[] a=[1] msie=[]"],
  ["b", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "m=[mod] a=[] msie=[1]"],
  ["b", "Mozilla/4.0 (compatible; MSIE 5.0; Windows NT 5.1)", "m=[mod] a=[] msie=[1]"],
  ["b", "Mozilla/4.0 (compatible; MSIE 5.5; Windows)", "m=[mod] a=[] msie=[1]"],
  ["b", "Mozilla/4.0 (compatible; MSIE 5.51; Windows)", "m=[mod] a=[] msie=[1]"],
  ["b", "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.0) Gecko/20020610", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/5.0 (X11; rv:0.9.4) Gecko/2001", "m=[mod] a=[] msie=[]"],
  ["b", "Opera/9.01 (X11; FreeBSD 6 i386; U; en)", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/4.0 (compatible; MSIE 6.0; X11) Opera 7.50  [en]", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/418 (KHTML, like Gecko) Safari/417.9.3", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/5.0 (compatible; Konqueror/3.4; Linux) KHTML/3.4.2 (like Gecko)", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/5.0 (compatible; Konqueror/3.4.2; Linux)", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/4.72 [en] (X11)", "m=[mod] a=[] msie=[]"],
  ["b", "Mozilla/3.0", "m=[mod] a=[] msie=[]"],
  ["b", "Lynx/2.8", "m=[mod] a=[] msie=[]"],
  ["b", "Wget/1.2", "m=[] a=[anc] msie=[]"],
  ["b", "curl/8", "m=[mod] a=[] msie=[]"],
  ["b", "MSIE 6.", "m=[mod] a=[] msie=[]"],
  ["b", "xMSIE 7.0 abc", "m=[mod] a=[] msie=[1]"],
  ["b", "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "m=[mod] a=[] msie=[]"],
  ["b", null, "m=[mod] a=[] msie=[]"],
  ["c", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "m=[] a=[1] msie=[1]"],
  ["c", "Mozilla/4.0 (compatible; MSIE 5.0; Windows NT 5.1)", "m=[] a=[1] msie=[1]"],
  ["c", "Mozilla/4.0 (compatible; MSIE 5.5; Windows)", "m=[] a=[1] msie=[1]"],
  ["c", "Mozilla/4.0 (compatible; MSIE 5.51; Windows)", "m=[] a=[1] msie=[1]"],
  ["c", "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.0) Gecko/20020610", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/5.0 (X11; rv:0.9.4) Gecko/2001", "m=[] a=[1] msie=[]"],
  ["c", "Opera/9.01 (X11; FreeBSD 6 i386; U; en)", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/4.0 (compatible; MSIE 6.0; X11) Opera 7.50  [en]", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/418 (KHTML, like Gecko) Safari/417.9.3", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/5.0 (compatible; Konqueror/3.4; Linux) KHTML/3.4.2 (like Gecko)", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/5.0 (compatible; Konqueror/3.4.2; Linux)", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/4.72 [en] (X11)", "m=[] a=[1] msie=[]"],
  ["c", "Mozilla/3.0", "m=[] a=[1] msie=[]"],
  ["c", "Lynx/2.8", "m=[] a=[1] msie=[]"],
  ["c", "Wget/1.2", "m=[] a=[1] msie=[]"],
  ["c", "curl/8", "m=[] a=[1] msie=[]"],
  ["c", "MSIE 6.", "m=[] a=[1] msie=[]"],
  ["c", "xMSIE 7.0 abc", "m=[] a=[1] msie=[1]"],
  ["c", "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "m=[] a=[1] msie=[]"],
  ["c", null, "m=[] a=[1] msie=[]"],
  ["d", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "m=[] a=[1]"],
  ["d", "Mozilla/4.0 (compatible; MSIE 5.0; Windows NT 5.1)", "m=[] a=[1]"],
  ["d", "Mozilla/4.0 (compatible; MSIE 5.5; Windows)", "m=[] a=[1]"],
  ["d", "Mozilla/4.0 (compatible; MSIE 5.51; Windows)", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.0) Gecko/20020610", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (X11; rv:0.9.4) Gecko/2001", "m=[] a=[1]"],
  ["d", "Opera/9.01 (X11; FreeBSD 6 i386; U; en)", "m=[1] a=[]"],
  ["d", "Mozilla/4.0 (compatible; MSIE 6.0; X11) Opera 7.50  [en]", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/418 (KHTML, like Gecko) Safari/417.9.3", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (compatible; Konqueror/3.4; Linux) KHTML/3.4.2 (like Gecko)", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (compatible; Konqueror/3.4.2; Linux)", "m=[1] a=[]"],
  ["d", "Mozilla/4.72 [en] (X11)", "m=[] a=[1]"],
  ["d", "Mozilla/3.0", "m=[] a=[1]"],
  ["d", "Lynx/2.8", "m=[] a=[1]"],
  ["d", "Wget/1.2", "m=[] a=[1]"],
  ["d", "curl/8", "m=[] a=[1]"],
  ["d", "MSIE 6.", "m=[] a=[1]"],
  ["d", "xMSIE 7.0 abc", "m=[] a=[1]"],
  ["d", "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "m=[] a=[1]"],
  ["d", null, "m=[] a=[1]"],
];

const conf = `location /a { modern_browser gecko 1.0; modern_browser msie 5.5; modern_browser safari 125; ancient_browser Links Lynx netscape4;
      return 200 "m=[$modern_browser] a=[$ancient_browser] msie=[$msie]\\n"; }
    location /b { modern_browser unlisted; ancient_browser Wget; modern_browser_value mod; ancient_browser_value anc;
      return 200 "m=[$modern_browser] a=[$ancient_browser] msie=[$msie]\\n"; }
    location /c { return 200 "m=[$modern_browser] a=[$ancient_browser] msie=[$msie]\\n"; }
    location /d { modern_browser opera 9.0; modern_browser konqueror 3.4.1; return 200 "m=[$modern_browser] a=[$ancient_browser]\\n"; }`;

const cases: Case[] = [{
  name: 'modern, ancient and MSIE by User-Agent',
  conf, lua: conf,
  requests: OBSERVED.map(([loc, ua, body]) => ({ path: `/${loc}`, headers: ua === null ? {} : { 'user-agent': ua }, status: 200, resBody: `${body}\n` })),
}];

compatSuite('browser', {}, cases);
phaseSuite('browser on node:http', { http: 'http_engine node;' }, cases);

describe('browser conf errors, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['modern_browser foo 1;', /^unknown browser name "foo" in \S+:3$/],
    ['modern_browser gecko 1.x;', /^invalid browser version "1.x" in \S+:3$/],
    ['modern_browser;', /^invalid number of arguments in "modern_browser" directive in \S+:3$/],
    ['ancient_browser;', /^invalid number of arguments in "ancient_browser" directive in \S+:3$/],
    ['modern_browser_value a b;', /^invalid number of arguments in "modern_browser_value" directive in \S+:3$/],
  ];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    // nginx fails without a message for this one; tresty says why
    expect(confErrorOf(serverConf('modern_browser gecko;')).message).toMatch(/^"modern_browser" takes "unlisted" or a browser and its version/);
    expect(() => confErrorOf(serverConf('modern_browser GECKO 1.0; modern_browser_value a; modern_browser_value b;'))).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(new RegExp(re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '')));
    expect(nginxConfError('modern_browser gecko;')).not.toBeNull();
    expect(nginxConfError('modern_browser GECKO 1.0; modern_browser_value a; modern_browser_value b;')).toBeNull();
  });
});
