# The native HTTP engine (native/engine/): a Node addon, build/tresty_engine.node, compiled with
# plain cc against Node's headers (NODE_INC, found by scripts/build.mjs), linked with the request
# parser (native/http/). Without Node's headers it is not built and tresty runs on node:http.
# (NODE_INC is found in ../Makefile, which js_shared_dict's addon shares.)
ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_HDR := $(wildcard engine/*.h) http/parse.h
# TLS (engine/tls.c): OpenSSL 3's headers (libssl-dev's, else the copy Node ships next to its own);
# no libssl is linked, the SSL_* symbols resolve to the node binary's OpenSSL at load. Without
# headers the engine has no TLS and tresty keeps TLS listens on node:tls.
TLS_INC := $(firstword $(wildcard /usr/include/openssl/ssl.h $(NODE_INC)/openssl/ssl.h))
ENGINE_TLS := $(if $(TLS_INC),$(if $(filter /usr/include/%,$(TLS_INC)),,-I$(patsubst %/openssl/ssl.h,%,$(TLS_INC))) -DOPENSSL_API_COMPAT=30000,-DTE_NO_TLS)

ifneq ($(NODE_INC),)
# Whether the engine has TLS is baked in, and libssl-dev installed after a first build (npm install
# before apt-get) changes no prerequisite's time: the flags live in a stamp rewritten only when they
# change, and the addons depend on it.
ENGINE_STAMP := $(BUILD)/engine-tls
$(shell mkdir -p $(BUILD) && { [ -f $(ENGINE_STAMP) ] && [ "$$(cat $(ENGINE_STAMP))" = '$(ENGINE_TLS)' ] || \
  { printf '%s' '$(ENGINE_TLS)' > $(ENGINE_STAMP).$$$$ && mv -f $(ENGINE_STAMP).$$$$ $(ENGINE_STAMP); }; })
all: engine
engine: $(BUILD)/tresty_engine.node
ifeq ($(TLS_INC),)
	@echo "tresty build: OpenSSL 3's headers not found: the native HTTP engine is built without TLS (TLS listens run on node:tls); Debian: apt-get install libssl-dev, then \"npm run build\""
endif
$(BUILD)/tresty_engine.node: $(ENGINE_SRC) $(ENGINE_HDR) $(BUILD)/libtresty_http.a $(ENGINE_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -D_GNU_SOURCE -fvisibility=hidden -Ihttp $(ENGINE_TLS) -I$(NODE_INC) -shared -o $(TMP) $(ENGINE_SRC) $(BUILD)/libtresty_http.a && mv -f $(TMP) $@
else
engine:
	@echo "tresty build: Node's headers (node_api.h) not found: the native HTTP engine and js_shared_dict are not built, tresty serves HTTP on node:http (they come with Node.js tarballs and NodeSource's nodejs; Debian's nodejs: apt-get install libnode-dev; or set NODE_INC), then \"npm run build\""
endif
# The same under AddressSanitizer + UBSan, for test/engine-fuzz.test.ts (not built at install).
ENGINE_SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
engine-asan: $(BUILD)/asan/tresty_engine.node
$(BUILD)/asan/tresty_engine.node: $(ENGINE_SRC) $(ENGINE_HDR) $(HTTP_SRC) $(ENGINE_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -fPIC $(ENGINE_SAN) -D_GNU_SOURCE -fvisibility=hidden -Ihttp -Iinclude $(ENGINE_TLS) -I$(NODE_INC) -shared -o $(TMP) $(ENGINE_SRC) $(HTTP_SRC) && mv -f $(TMP) $@
.PHONY: engine engine-asan
