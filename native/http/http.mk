# The HTTP/1.1 request parser (native/http/): a static library the engine links in, built with
# the rest by `make -C native`. Its tests and fuzzers are built by the tests (test/http-parser*),
# not at install.
HTTP_OBJ := $(BUILD)/http/parse.o $(BUILD)/http/chunked.o
HTTP_TEST_SRC := http/test/test_http.c
HTTP_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: http
http: $(BUILD)/libtresty_http.a

$(BUILD)/http/%.o: http/%.c http/parse.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $(TMP) $< && mv -f $(TMP) $@

$(BUILD)/libtresty_http.a: $(HTTP_OBJ)
	ar rcs $(TMP) $^ && mv -f $(TMP) $@

# Unit tests: once optimised as shipped, once under AddressSanitizer + UBSan.
http-test: $(BUILD)/http/test_http $(BUILD)/http/test_http_asan
$(BUILD)/http/test_http: $(HTTP_TEST_SRC) http/test/cases.h $(BUILD)/libtresty_http.a
	$(CC) $(CFLAGS) -Ihttp -Wno-missing-field-initializers -o $(TMP) $< $(BUILD)/libtresty_http.a && mv -f $(TMP) $@
$(BUILD)/http/test_http_asan: $(HTTP_TEST_SRC) http/test/cases.h http/parse.c http/chunked.c http/parse.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 -g $(HTTP_SAN) -Ihttp -Wno-missing-field-initializers -o $(TMP) $< http/parse.c http/chunked.c && mv -f $(TMP) $@

.PHONY: http http-test
