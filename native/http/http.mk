# The HTTP/1.1 request parser (native/http/): a static library the engine links in, built with
# the rest by `make -C native`. Its tests and fuzzers are built by the tests (test/http-parser*),
# not at install.
HTTP_SRC := $(addprefix http/,parse.c parse_line.c parse_fields.c parse_buffers.c parse_tables.c \
	chunked.c normalize.c)
HTTP_OBJ := $(HTTP_SRC:http/%.c=$(BUILD)/http/%.o)
# parse.h is the API; parse_int.h is what the parser's own files share.
HTTP_HDR := http/parse.h http/parse_int.h
HTTP_TEST_SRC := http/test/test_http.c
HTTP_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: http
http: $(BUILD)/libtresty_http.a

$(BUILD)/http/%.o: http/%.c $(HTTP_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $(TMP) $< && mv -f $(TMP) $@

$(BUILD)/libtresty_http.a: $(HTTP_OBJ)
	ar rcs $(TMP) $^ && mv -f $(TMP) $@

# Unit tests: once optimised as shipped, once under AddressSanitizer + UBSan.
http-test: $(BUILD)/http/test_http $(BUILD)/http/test_http_asan
HTTP_TEST_H := http/test/cases.h http/test/harness.h
$(BUILD)/http/test_http: $(HTTP_TEST_SRC) $(HTTP_TEST_H) $(BUILD)/libtresty_http.a
	$(CC) $(CFLAGS) -Ihttp -Wno-missing-field-initializers -o $(TMP) $< $(BUILD)/libtresty_http.a && mv -f $(TMP) $@
$(BUILD)/http/test_http_asan: $(HTTP_TEST_SRC) $(HTTP_TEST_H) $(HTTP_SRC) $(HTTP_HDR)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 -g $(HTTP_SAN) -Ihttp -Wno-missing-field-initializers -o $(TMP) $< $(HTTP_SRC) && mv -f $(TMP) $@

.PHONY: http http-test

# Answers the shapes of test/fixtures/http-refusals.ts as a server on the parser would.
http-test: $(BUILD)/http/check_shapes
$(BUILD)/http/check_shapes: http/test/check_shapes.c $(HTTP_SRC) $(HTTP_HDR)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 -g $(HTTP_SAN) -Ihttp -o $(TMP) $< $(HTTP_SRC) && mv -f $(TMP) $@

# Fuzzers, under AddressSanitizer + UBSan: a plain C random + mutation driver (any compiler),
# and a libFuzzer harness (clang with libclang-rt).
HTTP_FUZZ_H := http/test/fuzz_core.h http/test/harness.h $(HTTP_HDR)
http-fuzz: $(BUILD)/http/fuzz_driver
$(BUILD)/http/fuzz_driver: http/test/fuzz_driver.c $(HTTP_FUZZ_H) $(HTTP_SRC)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 -g $(HTTP_SAN) -Ihttp -o $(TMP) $< $(HTTP_SRC) && mv -f $(TMP) $@
CLANG ?= clang
http-libfuzzer: $(BUILD)/http/fuzz_libfuzzer
$(BUILD)/http/fuzz_libfuzzer: http/test/fuzz_libfuzzer.c $(HTTP_FUZZ_H) $(HTTP_SRC)
	@mkdir -p $(@D)
	$(CLANG) -std=c11 -Wall -Wextra -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ihttp -o $(TMP) $< $(HTTP_SRC) && mv -f $(TMP) $@

.PHONY: http-fuzz http-libfuzzer
