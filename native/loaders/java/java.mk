# The Java loader (included by native/loaders/Makefile): libffi_java.so, its helper jar, and the
# example classes. The JDK: $JAVA_HOME, else /usr/lib/jvm/default-java (Debian's
# default-jdk-headless), else the one whose javac is on PATH. jnr-ffi, which plugin classes use to
# reach the host (as lua-resty-ffi's do), comes from $JNR_DIR (Debian's libjnr-ffi-java).
JAVA_HOME ?= $(or $(wildcard /usr/lib/jvm/default-java),$(patsubst %/bin/javac,%,$(realpath $(shell command -v javac 2>/dev/null))))
JNR_DIR   ?= /usr/share/java
JNR_JARS  := $(wildcard $(addprefix $(JNR_DIR)/,jnr-ffi.jar jffi.jar jnr-x86asm.jar asm.jar asm-commons.jar asm-analysis.jar asm-tree.jar asm-util.jar))
JNR_CP    := $(subst $(eval) ,:,$(strip $(JNR_JARS)))
JAVAC      = $(JAVA_HOME)/bin/javac
JAR        = $(JAVA_HOME)/bin/jar
JAVA_OUT   = $(BUILD)/java
LOADER_SRC = $(wildcard java/src/tresty/loader/*.java)
EXAMPLE_SRC = $(wildcard examples/java/tresty/examples/*.java)
JAVA_HINT  = (Debian: apt-get install default-jdk-headless; or set JAVA_HOME)

ifeq ($(wildcard $(JAVA_HOME)/include/jni.h),)
java:
	@$(call drop_broken,$(BUILD)/libffi_java.so,$(addprefix $(JAVA_OUT)/,tresty-loader.jar tresty-examples.jar build-info.json toolchain))
	@echo "no JDK found$(if $(JAVA_HOME), in $(JAVA_HOME)): skipping the Java loader $(JAVA_HINT)"
else ifeq ($(wildcard $(JAVA_HOME)/lib/server/libjvm.so),)
java:
	@$(call drop_broken,$(BUILD)/libffi_java.so,$(addprefix $(JAVA_OUT)/,tresty-loader.jar tresty-examples.jar build-info.json toolchain))
	@echo "$(JAVA_HOME) has no lib/server/libjvm.so: skipping the Java loader $(JAVA_HINT)"
else ifeq ($(wildcard $(JAVAC)),)
java:
	@$(call drop_broken,$(BUILD)/libffi_java.so,$(addprefix $(JAVA_OUT)/,tresty-loader.jar tresty-examples.jar build-info.json toolchain))
	@echo "$(JAVA_HOME) has no javac: skipping the Java loader $(JAVA_HINT)"
# The classes are compiled with --release 11: an older JDK is skipped with a line, not a failed build.
else ifneq ($(shell [ "$$($(JAVAC) -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')" -ge 11 ] 2>/dev/null && echo ok),ok)
java:
	@$(call drop_broken,$(BUILD)/libffi_java.so,$(addprefix $(JAVA_OUT)/,tresty-loader.jar tresty-examples.jar build-info.json toolchain))
	@echo "$(JAVA_HOME) is not a JDK 11 or later ($(shell $(JAVAC) -version 2>&1 | head -1)): skipping the Java loader $(JAVA_HINT)"
else
java: $(BUILD)/libffi_java.so $(JAVA_OUT)/tresty-loader.jar $(JAVA_OUT)/build-info.json java-examples

# The JDK and jnr-ffi's classpath are baked into what this builds, and installed jars keep their
# package dates: installing jnr-ffi (or another JDK) after a build changes no prerequisite's time.
# So both live in a stamp rewritten only when they change, and everything here depends on it.
JAVA_STAMP := $(JAVA_OUT)/toolchain
JAVA_SEEN  := $(JAVA_HOME) $(JNR_CP)
$(shell mkdir -p $(JAVA_OUT) && { [ -f $(JAVA_STAMP) ] && [ "$$(cat $(JAVA_STAMP))" = '$(JAVA_SEEN)' ] || printf '%s' '$(JAVA_SEEN)' > $(JAVA_STAMP); })

# What the build used, for tests and for compiling your own classes the same way.
$(JAVA_OUT)/build-info.json: java/java.mk $(JAVA_STAMP)
	@mkdir -p $(@D)
	printf '{ "javaHome": "%s", "jnrClassPath": "%s" }\n' '$(JAVA_HOME)' '$(JNR_CP)' > $(TMP) && mv -f $(TMP) $@

$(BUILD)/libffi_java.so: java/loader.c $(COMMON) $(JAVA_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SOFLAGS) -I$(JAVA_HOME)/include -I$(JAVA_HOME)/include/linux \
	  -DTRESTY_JNR_CLASSPATH='"$(JNR_CP)"' -o $(TMP) java/loader.c common/loader.c \
	  -L$(JAVA_HOME)/lib/server -ljvm -Wl,-rpath,$(JAVA_HOME)/lib/server -ldl && mv -f $(TMP) $@

# javac writes many files: compile into a private directory, then jar it and rename the jar.
$(JAVA_OUT)/tresty-loader.jar: $(LOADER_SRC) $(JAVA_STAMP)
	@mkdir -p $(@D)
	rm -rf $(TMP).d && $(JAVAC) -nowarn --release 11 -d $(TMP).d $(LOADER_SRC) && $(JAR) cf $(TMP) -C $(TMP).d . \
	  && mv -f $(TMP) $@; rc=$$?; rm -rf $(TMP).d; exit $$rc

ifeq ($(filter %/jnr-ffi.jar,$(JNR_JARS)),)
java-examples:
	@rm -f $(JAVA_OUT)/tresty-examples.jar
	@echo "jnr-ffi not found in $(JNR_DIR): skipping the Java examples (Debian: apt-get install libjnr-ffi-java; or set JNR_DIR)"
else
java-examples: $(JAVA_OUT)/tresty-examples.jar
$(JAVA_OUT)/tresty-examples.jar: $(EXAMPLE_SRC) $(JAVA_STAMP)
	@mkdir -p $(@D)
	rm -rf $(TMP).d && $(JAVAC) -nowarn --release 11 -cp $(JNR_CP) -d $(TMP).d $(EXAMPLE_SRC) && $(JAR) cf $(TMP) -C $(TMP).d . \
	  && mv -f $(TMP) $@; rc=$$?; rm -rf $(TMP).d; exit $$rc
endif
endif
.PHONY: java-examples
