// Light threads (ngx.thread.*) and timers (ngx.timer.*) with OpenResty's semantics, and the
// timer caps js_max_pending_timers / js_max_running_timers. Each case runs twice on tresty, and
// its Lua form on real nginx + lua-nginx-module with the same expectations.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'the request waits for its light threads before it finalizes',
    conf: `location = /th-waits { content_by_js_block {
      ngx.thread.spawn(async () => { await ngx.sleep(0.05); ngx.say("thread done") });
      ngx.say("entry done");
    } }`,
    lua: `location = /th-waits { content_by_lua_block {
      ngx.thread.spawn(function() ngx.sleep(0.05) ngx.say("thread done") end)
      ngx.say("entry done")
    } }`,
    requests: [{ path: '/th-waits', status: 200, resBody: 'entry done\nthread done\n' }],
  },
  {
    name: 'an error in a thread is logged as a user thread error and does not fail its parent',
    conf: `location = /th-err { content_by_js_block {
      const t = ngx.thread.spawn(() => { throw new Error("thr boom") });
      ngx.say("parent ok ", t.status);
      const [ok, err] = await ngx.thread.wait(t);
      ngx.say("wait: ", ok, " ", String(err).includes("thr boom"));
    } }`,
    lua: `location = /th-err { content_by_lua_block {
      local t = ngx.thread.spawn(function() error("thr boom") end)
      ngx.say("parent ok ", coroutine.status(t))
      local ok, err = ngx.thread.wait(t)
      ngx.say("wait: ", ok, " ", string.find(err, "thr boom", 1, true) ~= nil)
    } }`,
    requests: [{ path: '/th-err', status: 200, resBody: 'parent ok zombie\nwait: false true\n' }],
    errorLog: [/\[error\] .*\*\d+ (js|lua) user thread aborted: runtime error: .*thr boom/],
  },
  {
    name: 'ngx.thread.wait returns the first thread to end; a thread is waited or killed once',
    conf: `location = /th-wait { content_by_js_block {
      const a = ngx.thread.spawn(async (x) => { await ngx.sleep(0.2); return x }, "A");
      const b = ngx.thread.spawn(async (x) => { await ngx.sleep(0.01); return x }, "B");
      const [ok, v] = await ngx.thread.wait(a, b);
      ngx.say(ok, " ", v);
      const [ok2, e2] = await ngx.thread.wait(b);
      ngx.say("again: ", ok2, " ", e2);
      ngx.say("kill: ", ngx.thread.kill(a)[0]);
      const [ok4, e4] = ngx.thread.kill(a);
      ngx.say("kill2: ", ok4, " ", e4);
    } }`,
    lua: `location = /th-wait { content_by_lua_block {
      local a = ngx.thread.spawn(function(x) ngx.sleep(0.2) return x end, "A")
      local b = ngx.thread.spawn(function(x) ngx.sleep(0.01) return x end, "B")
      local ok, v = ngx.thread.wait(a, b)
      ngx.say(ok, " ", v)
      local ok2, e2 = ngx.thread.wait(b)
      ngx.say("again: ", ok2, " ", e2)
      ngx.say("kill: ", ngx.thread.kill(a) and "true" or "false")
      local ok4, e4 = ngx.thread.kill(a)
      ngx.say("kill2: ", ok4, " ", e4)
    } }`,
    requests: [{ path: '/th-wait', status: 200, resBody: 'true B\nagain: nil already waited or killed\nkill: true\nkill2: nil already waited or killed\n' }],
  },
  {
    name: 'ngx.exit in the handler ends the request without waiting for its threads',
    conf: `location = /th-exit { content_by_js_block {
      ngx.thread.spawn(async () => { await ngx.sleep(0.05); ngx.log(ngx.ERR, "TH-EXIT THREAD RAN ON") });
      ngx.say("before exit");
      ngx.exit(200);
    } }`,
    lua: `location = /th-exit { content_by_lua_block {
      ngx.thread.spawn(function() ngx.sleep(0.05) ngx.log(ngx.ERR, "TH-EXIT THREAD RAN ON") end)
      ngx.say("before exit")
      ngx.exit(200)
    } }`,
    requests: [{ path: '/th-exit', status: 200, resBody: 'before exit\n' }],
    noErrorLog: ['TH-EXIT THREAD RAN ON'],
  },
  {
    name: 'ngx.exit in a thread ends the whole handler',
    conf: `location = /th-exit-thread { content_by_js_block {
      ngx.thread.spawn(async () => { await ngx.sleep(0.01); ngx.say("thread exits"); ngx.exit(200) });
      await ngx.sleep(0.1);
      ngx.say("entry after sleep");
    } }`,
    lua: `location = /th-exit-thread { content_by_lua_block {
      ngx.thread.spawn(function() ngx.sleep(0.01) ngx.say("thread exits") ngx.exit(200) end)
      ngx.sleep(0.1)
      ngx.say("entry after sleep")
    } }`,
    requests: [{ path: '/th-exit-thread', status: 200, resBody: 'thread exits\n' }],
  },
  {
    name: 'ngx.timer.at and ngx.timer.every return [ok, err]; their arguments are checked',
    conf: `location = /timer-ret { content_by_js_block {
      const [ok, err] = ngx.timer.at(0, () => {});
      ngx.say(ok, " ", err);
      for (const f of [() => ngx.timer.at("a", () => {}), () => ngx.timer.at(1, "x"), () => ngx.timer.every(0, () => {})]) {
        try { f(); ngx.say("no error") } catch (e) { ngx.say(e.message) }
      }
    } }`,
    requests: [{
      path: '/timer-ret',
      resBody: "true nil\nbad argument #1 to 'at' (number expected, got string)\nbad argument #2 to 'at' (function expected)\ndelay cannot be zero\n",
    }],
  },
  {
    name: 'in a timer, request-free APIs work through the request\'s ngx; request-bound ones are disabled',
    conf: `location = /timer-req { content_by_js_block {
      ngx.timer.at(0, async () => {
        const out = [];
        for (const [k, f] of [["var", () => ngx.var.uri], ["say", () => ngx.say("x")], ["headers", () => ngx.req.get_headers()], ["capture", () => ngx.location.capture("/x")]]) {
          try { f(); out.push(k + ":ok") } catch (e) { out.push(k + ":" + e.message) }
        }
        ngx.log(ngx.ERR, "TIMER-SYNC ", out.join("; "));
        await ngx.sleep(0.01);
        let v;
        try { v = ngx.var.uri } catch (e) { v = e.message }
        ngx.log(ngx.ERR, "TIMER-AFTER-AWAIT var: ", v, " now: ", typeof ngx.now(), " pending: ", typeof ngx.timer.pending_count());
      });
      ngx.say("ok");
    } }`,
    requests: [{ path: '/timer-req', resBody: 'ok\n' }],
    errorLog: [
      'TIMER-SYNC var:API disabled in the context of ngx.timer; say:API disabled in the context of ngx.timer; headers:API disabled in the context of ngx.timer; capture:API disabled in the context of ngx.timer',
      'TIMER-AFTER-AWAIT var: API disabled in the context of ngx.timer now: number pending: number',
    ],
  },
  {
    name: 'in a timer callback, this is the timer\'s ngx and ngx.exit ends the callback',
    conf: `location = /timer-exit { content_by_js_block {
      ngx.timer.at(0, function () { this.log(ngx.ERR, "TIMER-EXIT before"); this.exit(200); this.log(ngx.ERR, "TIMER-EXIT after") });
      ngx.say("ok");
    } }`,
    lua: `location = /timer-exit { content_by_lua_block {
      ngx.timer.at(0, function() ngx.log(ngx.ERR, "TIMER-EXIT before") ngx.exit(200) ngx.log(ngx.ERR, "TIMER-EXIT after") end)
      ngx.say("ok")
    } }`,
    requests: [{ path: '/timer-exit', resBody: 'ok\n' }],
    errorLog: ['TIMER-EXIT before'],
    noErrorLog: ['TIMER-EXIT after'],
  },
];

compatSuite('light threads and timers', {}, cases);

compatSuite('js_max_pending_timers', {
  http: 'js_max_pending_timers 5;',
  luaHttp: 'lua_max_pending_timers 5;',
}, [
  {
    name: 'js_max_pending_timers: past the cap, ngx.timer.at gives [null, "too many pending timers"]',
    conf: `location = /timer-cap { content_by_js_block {
      let n = 0, last = "";
      for (let i = 1; i <= 20; i++) {
        const [ok, err] = ngx.timer.at(100, () => {});
        if (ok) n++; else { last = err; break }
      }
      ngx.say(n, " ", last, " ", ngx.timer.pending_count());
    } }`,
    lua: `location = /timer-cap { content_by_lua_block {
      local n, last = 0, ""
      for i = 1, 20 do
        local ok, err = ngx.timer.at(100, function() end)
        if ok then n = n + 1 else last = err break end
      end
      ngx.say(n, " ", last, " ", ngx.timer.pending_count())
    } }`,
    requests: [{ path: '/timer-cap', resBody: '5 too many pending timers 5\n' }],
    once: true,
  },
]);

compatSuite('js_max_running_timers', {
  http: 'js_max_running_timers 2;',
  luaHttp: 'lua_max_running_timers 2;',
}, [
  {
    name: 'js_max_running_timers: a timer past the cap is not run, with an alert',
    conf: `location = /timer-running { content_by_js_block {
      for (let i = 0; i < 3; i++) ngx.timer.at(0, async function (p, i) { this.log(ngx.ERR, "RUNNING-TIMER ", i); await this.sleep(0.2) }, i);
      ngx.say("ok");
    } }`,
    lua: `location = /timer-running { content_by_lua_block {
      for i = 0, 2 do ngx.timer.at(0, function(p, i) ngx.log(ngx.ERR, "RUNNING-TIMER ", i) ngx.sleep(0.2) end, i) end
      ngx.say("ok")
    } }`,
    requests: [{ path: '/timer-running', resBody: 'ok\n' }],
    errorLog: ['RUNNING-TIMER 0', 'RUNNING-TIMER 1', '2 js_max_running_timers are not enough'],
    luaErrorLog: ['RUNNING-TIMER 0', 'RUNNING-TIMER 1', '2 lua_max_running_timers are not enough'],
    noErrorLog: ['RUNNING-TIMER 2'],
    once: true,
  },
]);
