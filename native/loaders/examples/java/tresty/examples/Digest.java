package tresty.examples;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;

/**
 * Digest: the hex digest of each request with java.security.MessageDigest (SHA-256 by default).
 *
 *   ffi_plugin digest_java { library ffi_java; config "tresty.examples.Digest,init,algo=SHA-256,threads=2"; }
 *
 * algo is any MessageDigest name (SHA-256, SHA-512, SHA3-256, MD5 ...); an unknown one fails the
 * load with the exception in the error log. Each of the threads polls and hashes on its own
 * (Java threads run in parallel: there is no global lock as in Python).
 */
public final class Digest {
    private Digest() {}

    static void poll(Pointer tq, String algo) {
        IntByReference len = new IntByReference();
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algo);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // checked in init already
        }
        for (;;) {
            Pointer task = Ngx.ABI.ngx_http_lua_ffi_task_poll(tq);
            if (task == null) return;
            Pointer req = Ngx.ABI.ngx_http_lua_ffi_get_req(task, len);
            byte[] data = new byte[len.intValue()];
            req.get(0, data, 0, data.length);
            try {
                String hex = hex(md.digest(data));
                Ngx.respond(task, 0, hex.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            } catch (RuntimeException e) { // an answer, never a lost task
                md.reset();
                Ngx.respond(task, 1, ("digest failed: " + e).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) sb.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        return sb.toString();
    }

    public static int init(String rest, long tq) throws NoSuchAlgorithmException {
        var opts = Ngx.options(rest);
        String algo = opts.getOrDefault("algo", "SHA-256");
        MessageDigest.getInstance(algo); // throws now for an unknown name
        int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
        Pointer q = Ngx.tq(tq);
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> poll(q, algo), "digest-java");
            t.setDaemon(true);
            t.start();
        }
        return 0;
    }
}
