/*
 * libffi_python3.so: CPython embedded as a lua-resty-ffi runtime.
 *
 *   libffi_init("MODULE[?],FUNC[,REST]", tq)
 *
 * imports MODULE (PYTHONPATH, the plugin's python_path, or a "dir/module" prefix as
 * lua-resty-ffi allows) and calls FUNC(cfg, tq) with two ints: the address of REST (a C string,
 * 0 when absent, valid during the call) and the tq. The module polls on its own threads
 * through cffi, as modules written for lua-resty-ffi's Python loader do. "?" reloads a module
 * that was imported before instead of reusing it.
 *
 * One interpreter per process. It lives on the "tresty-python" thread, which runs every load;
 * the caller of libffi_init (tresty's event loop) waits for the load but never holds the GIL.
 * A failure returns non-zero, and tresty_loader_error() gives what happened with the traceback.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/loader.h"

#ifndef TRESTY_PYTHON_EXE
#define TRESTY_PYTHON_EXE "python3"
#endif

#define CFG_SHAPE "MODULE[?],FUNC[,REST]"

static PyThreadState *main_ts; /* the tresty-python thread's own state, saved while it waits */

/* Extension modules (zlib, _hashlib, cffi's backend) are built without -lpython: they expect
   Python's symbols in the global scope, but tresty loads this library RTLD_LOCAL. */
static void make_libpython_global(void) {
  Dl_info info;
  if (dladdr((void *)Py_InitializeFromConfig, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

static int start(void) {
  make_libpython_global();
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0; /* signals belong to Node */
  config.parse_argv = 0;
  /* sys.prefix comes from the interpreter the loader was built for, not whichever python3
     comes first on PATH. */
  PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, TRESTY_PYTHON_EXE);
  char *argv[] = {"tresty", NULL};
  if (!PyStatus_Exception(st)) st = PyConfig_SetBytesArgv(&config, 1, argv);
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st)) {
    tl_errorf("cannot start Python (%s): %s", TRESTY_PYTHON_EXE, st.err_msg ? st.err_msg : "unknown error");
    return -1;
  }
  main_ts = PyEval_SaveThread();
  return 0;
}

static tl_thread python_thread = TL_THREAD("tresty-python", 0, start);

/* The pending Python exception as text, appended to the error (the GIL is held). */
static void append_traceback(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return;
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject *text = NULL;
  PyObject *mod = PyImport_ImportModule("traceback");
  if (mod) {
    PyObject *lines = PyObject_CallMethod(mod, "format_exception", "OOO", type, value ? value : Py_None, tb ? tb : Py_None);
    if (lines) {
      PyObject *empty = PyUnicode_FromString("");
      if (empty) text = PyUnicode_Join(empty, lines);
      Py_XDECREF(empty);
      Py_DECREF(lines);
    }
    Py_DECREF(mod);
  }
  if (!text && value) text = PyObject_Str(value);
  const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
  tl_error_append(s ? s : "(the Python exception could not be formatted)");
  PyErr_Clear();
  Py_XDECREF(text);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

/* sys.path gets each directory (front, in order) that it does not have yet. */
static int add_paths(char *paths) {
  PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
  if (!sys_path || !PyList_Check(sys_path)) {
    tl_errorf("python: sys.path is not a list");
    return -1;
  }
  Py_ssize_t at = 0;
  for (char *save = NULL, *dir = strtok_r(paths, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    PyObject *d = PyUnicode_DecodeFSDefault(dir);
    if (!d) return -1;
    int has = PySequence_Contains(sys_path, d);
    if (has == 0) has = PyList_Insert(sys_path, at++, d) == 0 ? 1 : -1;
    Py_DECREF(d);
    if (has < 0) return -1;
  }
  return 0;
}

static PyObject *import(const char *name, int fresh) {
  PyObject *pname = PyUnicode_DecodeFSDefault(name);
  if (!pname) return NULL;
  PyObject *mod = PyImport_GetModule(pname); /* a new reference, or NULL when not imported yet */
  if (!mod && !PyErr_Occurred()) {
    mod = PyImport_Import(pname);
  } else if (mod && fresh) {
    PyObject *again = PyImport_ReloadModule(mod);
    Py_DECREF(mod);
    mod = again;
  }
  Py_DECREF(pname);
  return mod;
}

static void load(tl_load *j) {
  j->rc = 1;
  PyEval_RestoreThread(main_ts);
  PyObject *mod = NULL, *fn = NULL, *res = NULL;
  const char *name = j->cfg.target;
  char *slash = strrchr(j->cfg.target, '/');
  if (slash) { /* lua-resty-ffi's "dir/module": the directory goes on sys.path */
    *slash = 0;
    name = slash + 1;
    if (add_paths(j->cfg.target) < 0) goto py_error;
  }
  if (j->paths && add_paths(j->paths) < 0) goto py_error;
  if (!(mod = import(name, j->cfg.fresh))) {
    tl_errorf("python: cannot import module %s", name);
    goto traceback;
  }
  if (!(fn = PyObject_GetAttrString(mod, j->cfg.func))) {
    tl_errorf("python: module %s has no function %s (expected def %s(cfg, tq) returning 0)", name, j->cfg.func, j->cfg.func);
    goto traceback;
  }
  if (!PyCallable_Check(fn)) {
    tl_errorf("python: %s.%s is not a function", name, j->cfg.func);
    goto done;
  }
  /* Threads FUNC starts inherit this thread's name: "py-MODULE" tells them apart in top -H. */
  char tname[16];
  const char *last = strrchr(name, '.');
  snprintf(tname, sizeof tname, "py-%s", last ? last + 1 : name);
  pthread_setname_np(pthread_self(), tname);
  res = PyObject_CallFunction(fn, "NN", PyLong_FromVoidPtr(j->cfg.rest), PyLong_FromVoidPtr(j->tq));
  pthread_setname_np(pthread_self(), python_thread.name);
  if (!res) {
    tl_errorf("python: %s.%s raised an exception", name, j->cfg.func);
    goto traceback;
  }
  long rc = PyLong_Check(res) ? PyLong_AsLong(res) : -1;
  if (rc == -1 && PyErr_Occurred()) PyErr_Clear();
  if (rc != 0) {
    PyObject *repr = PyObject_Repr(res);
    const char *r = repr ? PyUnicode_AsUTF8(repr) : NULL;
    tl_errorf("python: %s.%s returned %s, not 0", name, j->cfg.func, r ? r : "?");
    Py_XDECREF(repr);
    PyErr_Clear();
    j->rc = rc == 0 ? 1 : (int)rc;
    goto done;
  }
  j->rc = 0;
  goto done;
py_error:
  tl_errorf("python: cannot set sys.path");
traceback:
  append_traceback();
done:
  Py_XDECREF(res);
  Py_XDECREF(fn);
  Py_XDECREF(mod);
  main_ts = PyEval_SaveThread();
}

/* The plugin's python_path for the next libffi_init (tresty calls it just before). */
TL_EXPORT int tresty_python_path(const char *paths) {
  tl_path_set(paths);
  return 0;
}

TL_EXPORT int libffi_init(char *cfg, void *tq) { return tl_libffi_init(cfg, tq, CFG_SHAPE, &python_thread, load); }
