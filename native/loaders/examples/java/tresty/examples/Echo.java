package tresty.examples;

import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;

/**
 * Echo: each request answered with its own bytes, copied natively (malloc + memcpy).
 *
 *   ffi_plugin echo_java { library ffi_java; config "tresty.examples.Echo,init,threads=1"; }
 */
public final class Echo {
    private Echo() {}

    static void poll(Pointer tq) {
        IntByReference len = new IntByReference();
        for (;;) {
            Pointer task = Ngx.ABI.ngx_http_lua_ffi_task_poll(tq);
            if (task == null) return; // the plugin was unloaded
            Pointer req = Ngx.ABI.ngx_http_lua_ffi_get_req(task, len);
            int n = len.intValue();
            Pointer rsp = Ngx.LIBC.malloc(n + 1);
            Ngx.LIBC.memcpy(rsp, req, n);
            rsp.putByte(n, (byte) 0);
            Ngx.ABI.ngx_http_lua_ffi_respond(task, 0, rsp, n);
        }
    }

    public static int init(String rest, long tq) {
        int threads = Integer.parseInt(Ngx.options(rest).getOrDefault("threads", "1"));
        Pointer q = Ngx.tq(tq);
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> poll(q), "echo-java");
            t.setDaemon(true);
            t.start();
        }
        return 0;
    }
}
