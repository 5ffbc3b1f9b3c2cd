#include "echo_logic.h"

#include <string.h>

size_t tr_echo_size(size_t req_len) { return req_len; }

void tr_echo_into(const char *req, size_t len, char *out)
{
    if (len) memcpy(out, req, len);
}
