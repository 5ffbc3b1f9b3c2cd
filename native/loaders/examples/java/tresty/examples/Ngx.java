package tresty.examples;

import java.util.HashMap;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * The lua-resty-ffi ABI through jnr-ffi, as classes written for lua-resty-ffi's Java loader reach
 * it: LibraryLoader.DEFAULT_LIBRARY finds the three functions in the process (tresty's host).
 */
public final class Ngx {
    public interface Abi {
        Pointer ngx_http_lua_ffi_task_poll(@In Pointer tq);
        Pointer ngx_http_lua_ffi_get_req(@In Pointer task, @Out IntByReference len);
        void ngx_http_lua_ffi_respond(@In Pointer task, @In int rc, @In Pointer rsp, @In int rspLen);
    }

    public interface Libc {
        Pointer malloc(long size);
        Pointer memcpy(Pointer dest, Pointer src, long n);
    }

    public static final Abi ABI = LibraryLoader.create(Abi.class).load(LibraryLoader.DEFAULT_LIBRARY);
    public static final Libc LIBC = LibraryLoader.create(Libc.class).load("c");

    private Ngx() {}

    public static Pointer tq(long address) {
        return Pointer.wrap(jnr.ffi.Runtime.getSystemRuntime(), address);
    }

    /** Answers with bytes copied into malloc'd memory (the host frees it), NUL-terminated. */
    public static void respond(Pointer task, int rc, byte[] data) {
        Pointer rsp = LIBC.malloc(data.length + 1);
        rsp.put(0, data, 0, data.length);
        rsp.putByte(data.length, (byte) 0); // an empty answer is "" with length 0
        ABI.ngx_http_lua_ffi_respond(task, rc, rsp, data.length);
    }

    /** The REST of the loader's config ("threads=2,algo=SHA-256") as a map. */
    public static Map<String, String> options(String rest) {
        Map<String, String> out = new HashMap<>();
        if (rest == null) return out;
        for (String item : rest.split(",")) {
            int eq = item.indexOf('=');
            if (eq > 0) out.put(item.substring(0, eq), item.substring(eq + 1));
        }
        return out;
    }
}
