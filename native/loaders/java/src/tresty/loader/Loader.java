package tresty.loader;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java half of libffi_java.so: finds a plugin's class and calls its
 * {@code static int method(String rest, long tq)}. Called by the loader's own thread, one load at
 * a time, so its maps need no locks.
 */
public final class Loader {
    /** By class_path ("" = the JVM's class path): the loader that finds classes there. */
    private static final Map<String, ClassLoader> BASES = new HashMap<>();
    /** By class_path and class name: the version loaded last, reused by a load without "?". */
    private static final Map<String, Class<?>> CURRENT = new HashMap<>();

    private Loader() {}

    /**
     * Loads {@code name} (afresh when {@code fresh}) and calls its method. Returns the method's
     * int; on any failure err[0] says what happened, with the Java stack trace.
     */
    public static int load(String name, boolean fresh, String classPath, String method, String rest, long tq, String[] err) {
        String key = classPath + "\0" + name;
        Class<?> cls = fresh ? null : CURRENT.get(key);
        try {
            if (cls == null) {
                ClassLoader base = base(classPath);
                ClassLoader cl = fresh ? new FreshLoader(urls(classPath + File.pathSeparator + env("CLASSPATH")), name, base) : base;
                cls = Class.forName(name, true, cl);
                CURRENT.put(key, cls);
            }
        } catch (ClassNotFoundException e) {
            err[0] = "class " + name + " not found (class_path: " + show(classPath) + "; CLASSPATH: " + show(env("CLASSPATH")) + ")\n" + describe(e);
            return 1;
        } catch (Throwable t) {
            err[0] = "class " + name + " failed to load\n" + describe(t);
            return 1;
        }
        Method m;
        try {
            m = cls.getDeclaredMethod(method, String.class, long.class);
        } catch (NoSuchMethodException e) {
            err[0] = "class " + name + " has no method static int " + method + "(String rest, long tq)\n" + describe(e);
            return 1;
        }
        if (!Modifier.isStatic(m.getModifiers()) || m.getReturnType() != int.class) {
            err[0] = name + "." + method + " must be declared static int " + method + "(String rest, long tq)";
            return 1;
        }
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        // Threads the method starts inherit the context loader: resources resolve as for the class.
        self.setContextClassLoader(cls.getClassLoader());
        try {
            m.setAccessible(true);
            int rc = (Integer) m.invoke(null, rest, tq);
            if (rc != 0) err[0] = name + "." + method + " returned " + rc + ", not 0";
            return rc;
        } catch (InvocationTargetException e) {
            err[0] = name + "." + method + " threw an exception\n" + describe(e.getCause());
            return 1;
        } catch (Throwable t) {
            err[0] = name + "." + method + " could not be called\n" + describe(t);
            return 1;
        } finally {
            self.setContextClassLoader(before);
        }
    }

    /** A Throwable with its stack trace (and causes), as printStackTrace writes it. */
    public static String describe(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString().trim();
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "" : v;
    }

    private static String show(String path) {
        return path.isEmpty() ? "(none)" : path;
    }

    private static ClassLoader base(String classPath) throws MalformedURLException {
        ClassLoader cl = BASES.get(classPath);
        if (cl == null) {
            ClassLoader system = ClassLoader.getSystemClassLoader();
            cl = classPath.isEmpty() ? system : new URLClassLoader(urls(classPath), system);
            BASES.put(classPath, cl);
        }
        return cl;
    }

    private static URL[] urls(String path) throws MalformedURLException {
        List<URL> out = new ArrayList<>();
        for (String p : path.split(File.pathSeparator)) {
            if (!p.isEmpty()) out.add(new File(p).toURI().toURL());
        }
        return out.toArray(new URL[0]);
    }

    /**
     * Child-first for the classes of the plugin's package (and its subpackages), parent-first for
     * the rest: the plugin's classes are read again from disk, while jnr-ffi and the JDK stay
     * shared (jffi's native library can be loaded by one class loader only).
     */
    static final class FreshLoader extends URLClassLoader {
        private final String prefix;

        FreshLoader(URL[] urls, String name, ClassLoader parent) {
            super(urls, parent);
            int dot = name.lastIndexOf('.');
            prefix = dot < 0 ? null : name.substring(0, dot + 1);
        }

        private boolean mine(String name) {
            return prefix == null ? name.indexOf('.') < 0 : name.startsWith(prefix);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null && mine(name)) {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException e) {
                        c = null; // not in our URLs: the parent may have it
                    }
                }
                if (c == null) return super.loadClass(name, resolve);
                if (resolve) resolveClass(c);
                return c;
            }
        }
    }
}
