# Prints what the build needs to embed this interpreter, as make variable assignments
# (run by native/loaders/python/python.mk with the interpreter it picked).
import sys
import sysconfig

v = sysconfig.get_config_var
include = sysconfig.get_paths()["include"]
libdir = v("LIBDIR") or ""
print("PY_VERSION := %d.%d" % sys.version_info[:2])
print("PY_EXE := %s" % sys.executable)
print("PY_INCLUDE := %s" % include)
print("PY_LIBDIR := %s" % libdir)
print("PY_LIB := python%s" % (v("LDVERSION") or v("VERSION")))
print("PY_SHARED := %s" % (1 if v("Py_ENABLE_SHARED") else 0))
print("PY_VERSION_OK := %d" % (sys.version_info >= (3, 8)))
try:
    import cffi  # noqa: F401  modules written for lua-resty-ffi need it
    print("PY_CFFI := 1")
except ImportError:
    print("PY_CFFI := 0")
