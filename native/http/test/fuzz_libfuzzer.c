/* fuzz_libfuzzer.c: the libFuzzer entry (clang -fsanitize=fuzzer,address,undefined). */
#include "fuzz_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(data, size);
    return 0;
}
