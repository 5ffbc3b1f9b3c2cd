/*
 * The lua-resty-ffi ABI as seen from a runtime. The three ngx_http_lua_ffi_*
 * functions are provided by the host library, which is loaded RTLD_GLOBAL
 * before the runtime, so a runtime leaves them undefined at link time.
 *
 * Ownership: the request bytes belong to the host and stay valid until the
 * task is answered; the response passed to respond() must come from malloc()
 * and becomes the host's (it frees it). rsp_len == 0 means rsp is a
 * NUL-terminated string. rc != 0 means failure, rsp is then the message.
 */
#ifndef TRESTY_FFI_ABI_H
#define TRESTY_FFI_ABI_H

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks until a task is queued; returns NULL once the plugin is unloaded. */
void *ngx_http_lua_ffi_task_poll(void *tq);
/* The request payload of a task; *len receives its size in bytes. */
char *ngx_http_lua_ffi_get_req(void *task, int *len);
/* Completes a task, from any thread; takes ownership of rsp. */
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

/* Exported by every runtime: start the poller thread(s), return 0 on success.
 * cfg may be NULL and is only valid during the call. */
int libffi_init(char *cfg, void *tq);

#ifdef __cplusplus
}
#endif

#endif
