/*
 * libffi_java.so: a JVM embedded as a lua-resty-ffi runtime.
 *
 *   libffi_init("pkg.Class[?],method[,REST]", tq)
 *
 * calls `public static int method(String rest, long tq)` of pkg.Class, as lua-resty-ffi's Java
 * loader does: the class starts its own thread, which polls through jnr-ffi
 * (LibraryLoader.DEFAULT_LIBRARY finds ngx_http_lua_ffi_* in the process). REST is "" when
 * absent. "?" loads the class through a fresh class loader, so a changed class file is picked up.
 *
 * One JVM per process, created on the first load. Every load runs on the "tresty-java" thread,
 * which is attached to the JVM; the caller of libffi_init (tresty's event loop) never enters
 * the JVM. The JVM gets -Xrs, so it leaves SIGQUIT, SIGTERM, SIGINT and SIGHUP to Node, and
 * -XX:-UsePerfData (no /tmp/hsperfdata file left behind by each worker); then JAVA_OPTS, split on
 * spaces, which may override both. The class path is CLASSPATH, the loader's helper jar
 * (tresty-loader.jar beside this library) and jnr-ffi's jars as found at build time; a plugin's
 * class_path is searched by a class loader of its own (tresty/loader/Loader.java).
 */
#define _GNU_SOURCE
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/loader.h"

#ifndef TRESTY_JNR_CLASSPATH
#define TRESTY_JNR_CLASSPATH ""
#endif
#define CFG_SHAPE "pkg.Class[?],staticMethod[,REST]"
#define MAX_OPTS 64

static JavaVM *vm;
static JNIEnv *env;          /* the tresty-java thread's */
static jclass loader_class;  /* tresty.loader.Loader, a global ref */
static jmethodID loader_load;

static char *class_path(void) {
  char *dir = tl_dir_of((void *)class_path);
  const char *user = getenv("CLASSPATH");
  char *cp = NULL;
  if (asprintf(&cp, "-Djava.class.path=%s%s%s/java/tresty-loader.jar%s%s", user && *user ? user : "",
               user && *user ? ":" : "", dir ? dir : ".", *TRESTY_JNR_CLASSPATH ? ":" : "", TRESTY_JNR_CLASSPATH) < 0)
    cp = NULL;
  free(dir);
  return cp;
}

/* The Java exception pending on this thread, with its stack trace, appended to the error. */
static void append_exception(void) {
  jthrowable ex = (*env)->ExceptionOccurred(env);
  if (!ex) return;
  (*env)->ExceptionClear(env);
  jmethodID describe = (*env)->GetStaticMethodID(env, loader_class, "describe", "(Ljava/lang/Throwable;)Ljava/lang/String;");
  jstring text = describe ? (*env)->CallStaticObjectMethod(env, loader_class, describe, ex) : NULL;
  (*env)->ExceptionClear(env);
  const char *s = text ? (*env)->GetStringUTFChars(env, text, NULL) : NULL;
  tl_error_append(s ? s : "(the Java exception could not be described)");
  if (s) (*env)->ReleaseStringUTFChars(env, text, s);
  if (text) (*env)->DeleteLocalRef(env, text);
  (*env)->DeleteLocalRef(env, ex);
}

static int start(void) {
  JavaVMOption options[MAX_OPTS];
  int n = 0;
  char *cp = class_path();
  if (!cp) {
    tl_errorf("java: out of memory");
    return -1;
  }
  options[n++].optionString = "-Xrs";
  options[n++].optionString = "-XX:-UsePerfData";
  options[n++].optionString = cp;
  char *opts = getenv("JAVA_OPTS") ? strdup(getenv("JAVA_OPTS")) : NULL;
  for (char *save = NULL, *o = opts ? strtok_r(opts, " ", &save) : NULL; o; o = strtok_r(NULL, " ", &save)) {
    if (n == MAX_OPTS) {
      tl_errorf("java: JAVA_OPTS has more than %d options", MAX_OPTS - 3);
      free(opts);
      free(cp);
      return -1;
    }
    options[n++].optionString = o;
  }
  JavaVMInitArgs args = {.version = JNI_VERSION_1_8, .nOptions = n, .options = options, .ignoreUnrecognized = JNI_FALSE};
  jint rc = JNI_CreateJavaVM(&vm, (void **)&env, &args);
  free(opts);
  free(cp);
  if (rc != JNI_OK) {
    tl_errorf("java: cannot create the JVM (JNI error %d); check JAVA_OPTS", (int)rc);
    return -1;
  }
  jclass c = (*env)->FindClass(env, "tresty/loader/Loader");
  if (c) loader_class = (*env)->NewGlobalRef(env, c);
  if (loader_class)
    loader_load = (*env)->GetStaticMethodID(env, loader_class, "load",
                                            "(Ljava/lang/String;ZLjava/lang/String;Ljava/lang/String;Ljava/lang/String;J[Ljava/lang/String;)I");
  if (!loader_load) {
    (*env)->ExceptionClear(env);
    tl_errorf("java: the loader's own classes (tresty-loader.jar beside libffi_java.so) are missing: run \"npm run build\"");
    return -1;
  }
  return 0;
}

static tl_thread java_thread = TL_THREAD("tresty-java", 0, start);

static jstring str(const char *s) { return (*env)->NewStringUTF(env, s ? s : ""); }

static void load(tl_load *j) {
  j->rc = 1;
  (*env)->PushLocalFrame(env, 16);
  jobjectArray out = (*env)->NewObjectArray(env, 1, (*env)->FindClass(env, "java/lang/String"), NULL);
  jstring cls = str(j->cfg.target), cp = str(j->paths), method = str(j->cfg.func), rest = str(j->cfg.rest);
  if (!out || !cls || !cp || !method || !rest) {
    tl_errorf("java: out of memory");
    append_exception();
    goto done;
  }
  jint rc = (*env)->CallStaticIntMethod(env, loader_class, loader_load, cls, (jboolean)j->cfg.fresh, cp, method, rest,
                                        (jlong)(intptr_t)j->tq, out);
  if ((*env)->ExceptionCheck(env)) {
    tl_errorf("java: the loader failed");
    append_exception();
    goto done;
  }
  jstring err = (*env)->GetObjectArrayElement(env, out, 0);
  if (err) {
    const char *s = (*env)->GetStringUTFChars(env, err, NULL);
    tl_errorf("java: %s", s ? s : "load failed");
    if (s) (*env)->ReleaseStringUTFChars(env, err, s);
    j->rc = rc != 0 ? rc : 1;
    goto done;
  }
  j->rc = rc;
done:
  (*env)->PopLocalFrame(env, NULL);
}

/* The plugin's class_path for the next libffi_init (tresty calls it just before). */
TL_EXPORT int tresty_class_path(const char *paths) {
  tl_path_set(paths);
  return 0;
}

TL_EXPORT int libffi_init(char *cfg, void *tq) { return tl_libffi_init(cfg, tq, CFG_SHAPE, &java_thread, load); }
