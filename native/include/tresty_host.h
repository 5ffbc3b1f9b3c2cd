/*
 * tresty_host.h: what libtresty_host.so exports.
 *  - the lua-resty-ffi ABI, which runtimes call (unchanged names and signatures);
 *  - tresty_* helpers, which src/ffi/bindings.ts declares with the same prototypes.
 * tresty_* functions return 0 on success and -1 on failure (message: tresty_last_error()).
 */
#ifndef TRESTY_HOST_H
#define TRESTY_HOST_H

#include <stdint.h>

/* lua-resty-ffi ABI */
void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

/* what a runtime library exports */
typedef int (*tresty_init_fn)(char *cfg, void *tq);
/* what a function library exports (any name, chosen in the conf) */
typedef int (*tresty_call_fn)(const char *req, int len, char **rsp, int *rsp_len);

const char *tresty_last_error(void);
/* Keep a loaded library mapped until the process ends (its threads may outlive JS's handle). */
int tresty_pin_library(const char *path);
/* Attach to JS-initialised ring memory; *out_tq is the runtime's tq, *out_fd the doorbell. */
int tresty_tq_new(uint8_t *mem, uint32_t bytes, void **out_tq, int *out_fd);
/* Call a runtime's libffi_init with a private copy of cfg (NULL allowed), freed afterwards. */
int tresty_runtime_init(void *tq, void *init_fn, const char *cfg, int *out_rc);
/* Wake up to n native pollers sleeping on TR_SUB_FUTEX (n: requests published since the last
   wake, so a burst of one request does not wake every thread). */
int tresty_tq_wake(void *tq, int n);
/* After JS unloaded: stop doorbells, wait for respond() calls in progress, close the pipe.
   Late responses are then freed. The tq itself stays valid (pollers may still call poll). */
int tresty_tq_detach(void *tq);
/* Ordered teardown before the ring memory can go (process exit): pollers return NULL from now
   on without touching the memory; waits up to wait_ms for those inside the host to leave, then
   detaches. *out_left: pollers still inside (0 when the memory may be freed safely). */
int tresty_tq_close(void *tq, int wait_ms, int *out_left);
/* Free the tq; only when no thread can touch it any more (function plugins). */
int tresty_tq_free(void *tq);
/* Requests that do not fit a slot: a heap copy whose ownership passes to the slot. */
int tresty_buf_new(const uint8_t *data, uint32_t len, void **out_buf);
/* Copy a large response out and free it. */
int tresty_buf_take(void *buf, uint8_t *out, uint32_t len);
int tresty_buf_free(void *buf);
/* Function plugins: take one task without blocking and run fn on it. try_poll returns the task
   like ngx_http_lua_ffi_task_poll does (NULL: the ring is empty, not an error). */
void *tresty_task_try_poll(void *tq);
int tresty_fn_run(void *task, void *fn);
/* How long a thread that found tq's ring empty may spin before it sleeps, in ns: 0 unless a core
   is idle (or TRESTY_FFI_SPIN_NS forces a spin). */
uint32_t tresty_spin_budget(void *tq);
/* Zero-hop function plugins: fn bound once to JS's buffers (req of req_cap bytes, out of out_cap,
   meta of 8 int32), then run on the calling thread (the event loop) by tresty_fn_invoke(bound,
   len), which puts the NUL at req[len]. After a call meta[0] = rc, meta[1] = answer length,
   meta[2] = TR_FLAG_*, bytes 16..23 of meta = a pointer: NULL when the answer (up to out_cap) was
   copied to out, else the answer's block (take it with tresty_buf_take). bind: NULL on failure. */
void *tresty_fn_bind(void *fn, uint8_t *req, uint32_t req_cap, uint8_t *out, uint32_t out_cap, uint32_t max_rsp,
                     int32_t *meta);
int tresty_fn_rebind_req(void *bound, uint8_t *req, uint32_t req_cap);
int tresty_fn_invoke(void *bound, uint32_t len);
int tresty_fn_unbind(void *bound);
/* Counters for tests: tasks taken but not answered, responses freed after detach. */
int tresty_tq_stats(void *tq, int64_t *out_live, int64_t *out_dropped);

#endif
