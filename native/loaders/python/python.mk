# The Python loader (included by native/loaders/Makefile). The interpreter: $TRESTY_PYTHON, else
# Debian's /usr/bin/python3 (whose headers python3-dev installs), else the first python3 on PATH.
# The loader is linked against that interpreter's libpython and starts it with its own prefix.
TRESTY_PYTHON ?= $(or $(wildcard /usr/bin/python3),$(shell command -v python3 2>/dev/null))
PY_PROBE_MK := $(BUILD)/loaders/python-probe.mk
# One run of the interpreter per make: its answers land in a file that changes only when they do
# (so a new interpreter rebuilds the loader, and an unchanged one does not).
ifneq ($(TRESTY_PYTHON),)
$(shell mkdir -p $(BUILD)/loaders && t=$(PY_PROBE_MK).$$$$ && \
  if $(TRESTY_PYTHON) python/probe.py > $$t 2>/dev/null; then cmp -s $$t $(PY_PROBE_MK) && rm -f $$t || mv -f $$t $(PY_PROBE_MK); \
  else rm -f $$t $(PY_PROBE_MK); fi)
-include $(PY_PROBE_MK)
endif

PY_HINT = (Debian: apt-get install python3-dev python3-cffi; or set TRESTY_PYTHON to a python3 with headers and a shared libpython)
ifeq ($(TRESTY_PYTHON),)
python:
	@$(call drop_broken,$(BUILD)/libffi_python3.so)
	@echo "python3 not found: skipping the Python loader $(PY_HINT)"
else ifeq ($(PY_EXE),)
python:
	@$(call drop_broken,$(BUILD)/libffi_python3.so)
	@echo "$(TRESTY_PYTHON) did not run: skipping the Python loader $(PY_HINT)"
else ifneq ($(PY_VERSION_OK),1)
python:
	@$(call drop_broken,$(BUILD)/libffi_python3.so)
	@echo "$(PY_EXE) is Python $(PY_VERSION); the loader needs 3.8 or later: skipping the Python loader"
else ifeq ($(wildcard $(PY_INCLUDE)/Python.h),)
python:
	@$(call drop_broken,$(BUILD)/libffi_python3.so)
	@echo "Python.h not found for $(PY_EXE) (in $(PY_INCLUDE)): skipping the Python loader $(PY_HINT)"
else ifeq ($(wildcard $(PY_LIBDIR)/lib$(PY_LIB).so),)
python:
	@$(call drop_broken,$(BUILD)/libffi_python3.so)
	@echo "$(PY_EXE) has no shared libpython (lib$(PY_LIB).so in $(PY_LIBDIR)): skipping the Python loader $(PY_HINT)"
else
python: $(BUILD)/libffi_python3.so
ifneq ($(PY_CFFI),1)
	@echo "note: cffi is not installed for $(PY_EXE); modules written for lua-resty-ffi need it (Debian: apt-get install python3-cffi)"
endif

$(BUILD)/libffi_python3.so: python/loader.c $(COMMON) $(PY_PROBE_MK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SOFLAGS) -I$(PY_INCLUDE) -DTRESTY_PYTHON_EXE='"$(PY_EXE)"' -o $(TMP) python/loader.c common/loader.c \
	  -L$(PY_LIBDIR) -l$(PY_LIB) -Wl,-rpath,$(PY_LIBDIR) -ldl && mv -f $(TMP) $@
endif
