/* The check every answer passes before JS sees it, from a runtime thread (ngx_http_lua_ffi_respond)
   or from a zero-hop call (host_fn.c). */
#ifndef TRESTY_HOST_ANSWER_H
#define TRESTY_HOST_ANSWER_H

#include <stdint.h>

/* The answer's real length, or a reason to refuse it: *flag (TR_FLAG_*) with a message put in
   *rsp in place of the answer. max_rsp 0: no limit. */
uint32_t check_answer(uint32_t max_rsp, char **rsp, int rsp_len, uint32_t *flag);

#endif
